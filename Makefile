# telbox — build, test and demo entry points. Run as root on Debian.
#
#   make demo    run a simulated telbox and show it
#   make test    run every test (unit, integration against real daemons)
#   make bench   benchmarks side by side with the tools a user would pick instead
#   make         release binaries (sizes printed), man pages and completions
#   make buildroot-check   the rootfs overlay and the Buildroot external tree (in `test`)

SHELL := /bin/bash
CARGO ?= cargo
DEB_PACKAGES := dbus systemd libudev-dev pkg-config kea-dhcp4-server chrony dahdi-source dahdi iproute2 \
	nftables isc-dhcp-client ifupdown keepalived util-linux procps \
	iputils-ping hyperfine shellcheck genimage dosfstools mtools fdisk e2fsprogs man-db \
	python3-magic python3-flake8 chromium chromium-driver
BINARIES := appliance sysconfd hwmgr telbox-wizard
CARGO_TARGET := $(or $(CARGO_TARGET_DIR),target)
DOCS_DIR := $(CARGO_TARGET)/telbox-docs
FUZZ_SECONDS ?= 60

.PHONY: all deps build test demo bench docs fmt lint clean
.PHONY: fuzz docs-gen buildroot-check

all: build
	@./buildroot-overlay/gen-docs.sh $(CARGO_TARGET)/release $(DOCS_DIR)
	@echo "man pages and completions in $(DOCS_DIR)"
	@echo "release binaries:"
	@for b in $(BINARIES); do f=target/release/$$b; [ -f $$f ] && printf '  %-10s %8d bytes\n' $$b $$(stat -c %s $$f); done; true

# Installs what is missing, nothing else; apt lists are refreshed first.
deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo (Rust toolchain) is required"; exit 1; }
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@getent group telbox-admin >/dev/null || groupadd --system telbox-admin
	@getent passwd telbox-wizard >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin telbox-wizard

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
