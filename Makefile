# telbox — build, test and demo entry points. Run as root on Debian.
#
#   make demo    run a simulated telbox and show it
#   make test    run every test (unit, integration against real daemons)
#   make bench   benchmarks side by side with the tools a user would pick instead
#   make         release binaries (sizes printed), man pages and completions
#   make buildroot-check   the rootfs overlay and the Buildroot external tree (in `test`)
#   make image   the bootable disk image (Debian packages + overlay + binaries)
#   make iso / make pxe    the unattended installers (hybrid ISO, TFTP tree)
#   make image-test        boots all three in QEMU and checks them from inside

SHELL := /bin/bash
CARGO ?= cargo
DEB_PACKAGES := dbus systemd libudev-dev pkg-config kea-dhcp4-server chrony dahdi-source dahdi iproute2 \
	nftables isc-dhcp-client ifupdown keepalived util-linux procps \
	iputils-ping iputils-arping hyperfine shellcheck genimage dosfstools mtools fdisk e2fsprogs man-db \
	python3-magic python3-flake8 chromium chromium-driver
BINARIES := appliance sysconfd hwmgr telbox-wizard
CARGO_TARGET := $(or $(CARGO_TARGET_DIR),target)
DOCS_DIR := $(CARGO_TARGET)/telbox-docs
FUZZ_SECONDS ?= 60

.PHONY: all deps build test demo bench docs fmt lint clean
.PHONY: fuzz docs-gen buildroot-check image-deps image iso pxe image-test

all: build
	@./buildroot-overlay/gen-docs.sh $(CARGO_TARGET)/release $(DOCS_DIR)
	@echo "man pages and completions in $(DOCS_DIR)"
	@echo "release binaries:"
	@for b in $(BINARIES); do f=target/release/$$b; [ -f $$f ] && printf '  %-10s %8d bytes\n' $$b $$(stat -c %s $$f); done; true

IMAGE_DIR := $(CARGO_TARGET)/image
SEED ?=

# Installs what is missing, nothing else; apt lists are refreshed first.
deps: image-deps
	@command -v $(CARGO) >/dev/null || { echo "cargo (Rust toolchain) is required"; exit 1; }
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@getent group telbox-admin >/dev/null || groupadd --system telbox-admin
	@getent passwd telbox-wizard >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin telbox-wizard
	@getent passwd keepalived_script >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin keepalived_script

# What make image, iso, pxe and image-test need (QEMU from bookworm-backports).
image-deps:
	@./image/deps.sh

build: deps
	$(CARGO) build --release --workspace

# Binaries first: integration tests run them as a user would.
test: deps
	$(CARGO) build --workspace --bins
	BIN_DIR=$(CARGO_TARGET)/debug DOCS_DIR=$(DOCS_DIR) ./buildroot-overlay/check.sh
	$(CARGO) test --workspace --no-fail-fast

# Man pages and bash/zsh completions from the binaries' clap definitions.
docs-gen:
	$(CARGO) build --workspace --bins
	./buildroot-overlay/gen-docs.sh $(CARGO_TARGET)/debug $(DOCS_DIR)
	@echo "man pages and completions in $(DOCS_DIR)"

# The overlay and the Buildroot external tree, checked without Buildroot
# (BUILDROOT=DIR adds the checks a Buildroot checkout can make).
buildroot-check: deps
	$(CARGO) build --workspace --bins
	BIN_DIR=$(CARGO_TARGET)/debug DOCS_DIR=$(DOCS_DIR) BUILDROOT=$(BUILDROOT) ./buildroot-overlay/check.sh

# The disk image: boot, root A, root B, data (image/README.md). SEED=FILE
# puts an installer's seed on the data partition.
image: deps
	$(CARGO) build --release --workspace --bins
	SEED=$(SEED) ./image/build.sh $(IMAGE_DIR) $(CARGO_TARGET)/release

iso: image
	./image/iso.sh $(IMAGE_DIR) $(IMAGE_DIR)/telbox.iso $(SEED)

pxe: image
	./image/pxe.sh $(IMAGE_DIR)

# Boots the disk image (unseeded, with good seeds, with a refused one), ISO
# installs (seeded and not) and a PXE install in QEMU (TCG) and checks them
# from inside. They boot make image's disk with the test's command channel
# and tools added (image/test-image.sh); the image a user gets has neither.
TEST_IMAGE_DIR := $(IMAGE_DIR)/test
# Tools that run in the guest, and the host's browser driver.
GUEST_TOOLS := netdiff
image-test: image
	$(CARGO) build --release -p telbox-tests --bin image-wizard $(addprefix --bin ,$(GUEST_TOOLS))
	./image/test-image.sh $(IMAGE_DIR) $(TEST_IMAGE_DIR) $(addprefix $(CARGO_TARGET)/release/,$(GUEST_TOOLS))
	./image/pxe.sh $(TEST_IMAGE_DIR)
	./image/iso.sh $(TEST_IMAGE_DIR) $(TEST_IMAGE_DIR)/telbox-test.iso image/test/seed.toml
	./image/iso.sh $(TEST_IMAGE_DIR) $(TEST_IMAGE_DIR)/telbox-unseeded.iso
	WIZARD_DRIVER=$(CARGO_TARGET)/release/image-wizard ./image/boot-test.py $(TEST_IMAGE_DIR) --release-image $(IMAGE_DIR)/telbox.img

demo: deps
	$(CARGO) build --release --workspace
	./tests/demo/demo.sh

bench: deps
	$(CARGO) build --release --workspace
	./tests/bench/bench.sh

# Every parser of outside bytes under cargo-fuzz (fuzz/; nightly features
# through RUSTC_BOOTSTRAP), FUZZ_SECONDS each; fails on a crash. Not in `test`.
fuzz:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build --fuzz-dir fuzz --target-dir target/fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) CARGO=$(CARGO) ./fuzz/run.sh

docs:
	$(CARGO) run -q -p appliance-cli -- config reference > docs/config.md

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
