################################################################################
#
# telbox
#
################################################################################

TELBOX_VERSION = 0.1.0
TELBOX_SITE = $(BR2_EXTERNAL_TELBOX_PATH)/..
TELBOX_SITE_METHOD = local
TELBOX_LICENSE = GPL-3.0-or-later
TELBOX_DEPENDENCIES = host-pkgconf
TELBOX_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /target --exclude '/target-*' --exclude /demo-run \
	--exclude /fuzz/target

# What is installed where; buildroot-overlay/check.sh stages the same paths.
TELBOX_BINARIES_BIN = appliance hwmgr
TELBOX_BINARIES_SBIN = sysconfd telbox-wizard
TELBOX_DOCS = docs/config.md docs/dbus.md buildroot-overlay/README.md

TELBOX_CARGO_BUILD_OPTS = -p appliance-cli -p hwmgr -p sysconfd -p telbox-wizard --bins
TELBOX_PROFILE = $(if $(BR2_ENABLE_DEBUG),debug,release)
TELBOX_BIN_DIR = $(@D)/target/$(RUSTC_TARGET_NAME)/$(TELBOX_PROFILE)

# SITE_METHOD = local skips the download post-process that vendors the
# crates of a cargo package, so the offline build would find none: vendor
# them here once dependencies (host-rustc) are built. A workspace already
# vendored with `cargo vendor --locked VENDOR` is used as it is.
define TELBOX_VENDOR_CRATES
	if [ ! -d $(@D)/VENDOR ]; then \
		cd $(@D) && $(HOST_MAKE_ENV) $(PKG_COMMON_CARGO_ENV) \
			cargo vendor --locked VENDOR >/dev/null; \
	fi
	mkdir -p $(@D)/.cargo
	printf '%s\n' '[source.crates-io]' 'replace-with = "vendored-sources"' '' \
		'[source.vendored-sources]' 'directory = "VENDOR"' \
		> $(@D)/.cargo/config.toml
endef
TELBOX_PRE_BUILD_HOOKS += TELBOX_VENDOR_CRATES

# Man pages and completions come from the binaries' own clap definitions,
# so they are made by a build for the host (the target's binaries may not
# run here) and installed where post-build.sh moves them into /usr/share
# after Buildroot has stripped the documentation of every package.
define TELBOX_GENERATE_DOCS
	cd $(@D) && $(HOST_MAKE_ENV) $(HOST_CONFIGURE_OPTS) $(HOST_PKG_CARGO_ENV) \
		cargo build --offline --locked $(TELBOX_CARGO_BUILD_OPTS) \
			--target-dir $(@D)/target-host
	$(@D)/buildroot-overlay/gen-docs.sh $(@D)/target-host/debug $(@D)/telbox-docs
endef
TELBOX_POST_BUILD_HOOKS += TELBOX_GENERATE_DOCS

define TELBOX_INSTALL_TARGET_CMDS
	$(foreach b,$(TELBOX_BINARIES_BIN),\
		$(INSTALL) -D -m 0755 $(TELBOX_BIN_DIR)/$(b) $(TARGET_DIR)/usr/bin/$(b)$(sep))
	$(foreach b,$(TELBOX_BINARIES_SBIN),\
		$(INSTALL) -D -m 0755 $(TELBOX_BIN_DIR)/$(b) $(TARGET_DIR)/usr/sbin/$(b)$(sep))
	mkdir -p $(TARGET_DIR)/usr/lib/telbox/share/doc/telbox
	cp -a $(@D)/telbox-docs/. $(TARGET_DIR)/usr/lib/telbox/share/
	$(foreach d,$(TELBOX_DOCS),\
		$(INSTALL) -m 0644 $(@D)/$(d) $(TARGET_DIR)/usr/lib/telbox/share/doc/telbox/$(sep))
endef

$(eval $(cargo-package))
