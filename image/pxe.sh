#!/bin/bash
# make pxe: a TFTP tree for a network install. iPXE (QEMU's NIC ROM, or
# any iPXE) fetches boot.ipxe, then the kernel and the installer initrd;
# the installer fetches the compressed disk image and the seed over TFTP
# from the same server, writes the first disk and powers off.
#
#   image/pxe.sh OUT
#
# The seed is looked for at tftp://SERVER/appliance.toml unless PXE_SEED
# names another location (tftp:// or http://), as telbox.seed= does on
# the kernel command line; PXE_IMAGE does the same for the image (TFTP
# sends one block per round trip: HTTP is far faster for 300 MB).
set -euo pipefail
out=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
start=$SECONDS
step() { printf '[pxe %4ds] %s\n' $((SECONDS - start)) "$*"; }

[ -f "$out/telbox.img" ] || { echo "no $out/telbox.img: make image first" >&2; exit 1; }
"$here/compress.sh" "$out"
tftp=$out/pxe
rm -rf "$tftp"
mkdir -p "$tftp"
cp "$out/boot/vmlinuz" "$out/boot/initrd.img" "$tftp/"
ln "$out/telbox.img.gz" "$tftp/telbox.img.gz" 2>/dev/null || cp "$out/telbox.img.gz" "$tftp/"
# shellcheck disable=SC2016 # iPXE expands ${next-server}
seed=${PXE_SEED:-'tftp://${next-server}/appliance.toml'}
# shellcheck disable=SC2016
image=${PXE_IMAGE:-'tftp://${next-server}/telbox.img.gz'}
cat >"$tftp/boot.ipxe" <<IPXE
#!ipxe
# telbox network install: the installer takes the image and the seed from
# the server this script came from.
kernel vmlinuz telbox.install=net telbox.image=$image telbox.seed=$seed telbox.after=poweroff console=tty1 console=ttyS0,115200 loglevel=4
initrd initrd.img
boot
IPXE
step "TFTP tree in $tftp: boot.ipxe, vmlinuz, initrd.img, telbox.img.gz ($(du -h "$tftp/telbox.img.gz" | cut -f1)); the image: $image; the seed: $seed"
