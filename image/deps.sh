#!/bin/bash
# The build machine's packages for make image, iso, pxe and image-test
# (Debian bookworm). Installs what is missing, nothing else.
#
# QEMU comes from bookworm-backports: bookworm's qemu-system-x86 7.2 cannot
# sit beside the qemu-utils 10.0 some machines have (apt would remove it),
# and the backport installs cleanly on a fresh bookworm too.
set -euo pipefail
packages=(mmdebstrap xorriso isolinux syslinux syslinux-common syslinux-utils
	busybox-static cpio gzip fdisk dosfstools mtools e2fsprogs kmod python3)
backports=(qemu-system-x86 qemu-utils seabios ipxe-qemu)

missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}
need=$(missing "${packages[@]}")
need_bpo=$(missing "${backports[@]}")
[ -z "$need$need_bpo" ] && exit 0

list=/etc/apt/sources.list.d/bookworm-backports.sources
if [ -n "$need_bpo" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
	cat >"$list" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "installing for the image:" "$need" "$need_bpo"
apt-get update -q
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one word per package
[ -z "$need" ] || apt-get install -y -q --no-install-recommends $need
# shellcheck disable=SC2086
[ -z "$need_bpo" ] || apt-get install -y -q --no-install-recommends -t bookworm-backports $need_bpo
