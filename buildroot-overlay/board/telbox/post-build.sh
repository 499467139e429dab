#!/bin/sh
# Buildroot post-build script (BR2_ROOTFS_POST_BUILD_SCRIPT): runs with the
# target tree as $1 (TARGET_DIR) and BINARIES_DIR in the environment.
#
# * puts back the telbox documentation Buildroot strips from the target
#   (man pages, completions, /usr/share/doc/telbox): the telbox package
#   leaves them under /usr/lib/telbox/share;
# * makes the mount point of the data partition;
# * installs GRUB's configuration and an initial grubenv on the ESP tree.
set -eu

target_dir=${1:-$TARGET_DIR}
board_dir=$(dirname "$0")

if [ -d "$target_dir/usr/lib/telbox/share" ]; then
	mkdir -p "$target_dir/usr/share"
	cp -a "$target_dir/usr/lib/telbox/share/." "$target_dir/usr/share/"
	rm -rf "$target_dir/usr/lib/telbox/share"
fi

mkdir -p "$target_dir/data"

esp=$BINARIES_DIR/efi-part/EFI/BOOT
mkdir -p "$esp"
cp "$board_dir/grub.cfg" "$esp/grub.cfg"
"$board_dir/grubenv.sh" ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0 >"$esp/grubenv"
