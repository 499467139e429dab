#!/bin/bash
# Buildroot post-image script (BR2_ROOTFS_POST_IMAGE_SCRIPT): lays out the
# A/B disk image telbox.img with genimage (genimage.cfg next to this file).
# Environment: BINARIES_DIR, HOST_DIR, BUILD_DIR, as Buildroot sets them.
#
# Root slot B starts as a copy of slot A with its own file system UUID and
# label, so both slots boot and the two are never confused.
set -euo pipefail

board_dir=$(cd "$(dirname "$0")" && pwd)
host_bin=$HOST_DIR/bin
host_sbin=$HOST_DIR/sbin

cp "$BINARIES_DIR/rootfs.ext4" "$BINARIES_DIR/rootfs-b.ext4"
"$host_sbin/e2fsck" -fy "$BINARIES_DIR/rootfs-b.ext4" >/dev/null || [ $? -le 1 ]
"$host_sbin/tune2fs" -U random -L root-b "$BINARIES_DIR/rootfs-b.ext4" >/dev/null
"$host_sbin/tune2fs" -L root-a "$BINARIES_DIR/rootfs.ext4" >/dev/null

tmp=$BUILD_DIR/genimage.tmp
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
rm -rf "$tmp"
PATH=$host_bin:$host_sbin:$PATH genimage \
	--rootpath "$root" \
	--tmppath "$tmp" \
	--inputpath "$BINARIES_DIR" \
	--outputpath "$BINARIES_DIR" \
	--config "$board_dir/genimage.cfg"

echo "telbox.img: $(du -h --apparent-size "$BINARIES_DIR/telbox.img" | cut -f1)" \
	"(boot, root-a, root-b, data) in $BINARIES_DIR"
