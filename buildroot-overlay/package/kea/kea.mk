################################################################################
#
# kea
#
################################################################################

# Buildroot has no Kea package. 2.6 is the last series built with autotools
# (3.0 moved to meson).
KEA_VERSION = 2.6.3
KEA_SITE = https://ftp.isc.org/isc/kea/$(KEA_VERSION)
KEA_LICENSE = MPL-2.0
KEA_LICENSE_FILES = COPYING
KEA_INSTALL_STAGING = YES
KEA_DEPENDENCIES = boost log4cplus openssl
KEA_CONF_OPTS = \
	--with-boost-include=$(STAGING_DIR)/usr/include \
	--with-boost-lib-dir=$(STAGING_DIR)/usr/lib \
	--with-log4cplus=$(STAGING_DIR)/usr \
	--with-openssl=$(STAGING_DIR)/usr \
	--without-mysql \
	--without-pgsql \
	--disable-rpath

# Only the DHCPv4 server: sysconfd generates its configuration.
define KEA_REMOVE_UNUSED
	rm -f $(TARGET_DIR)/usr/sbin/kea-dhcp6 $(TARGET_DIR)/usr/sbin/kea-dhcp-ddns \
		$(TARGET_DIR)/usr/sbin/kea-ctrl-agent $(TARGET_DIR)/usr/sbin/kea-admin \
		$(TARGET_DIR)/usr/sbin/kea-lfc $(TARGET_DIR)/usr/sbin/perfdhcp
	rm -rf $(TARGET_DIR)/usr/share/kea
endef
KEA_POST_INSTALL_TARGET_HOOKS += KEA_REMOVE_UNUSED

# Its systemd unit, kea-dhcp4.service, is in the overlay: the Debian-based
# image runs the same one.

$(eval $(autotools-package))
