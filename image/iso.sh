#!/bin/bash
# make iso: a hybrid ISO (CD or USB stick) whose installer writes telbox.img
# onto the first disk, leaves a seed appliance.toml on its data partition
# and powers off, with no person present.
#
#   image/iso.sh OUT ISO [SEED]
#
# SEED goes onto the ISO as telbox/appliance.toml; without it, the
# installer takes telbox.seed=URL from the kernel command line, if any, and
# the box otherwise starts on its default configuration and the wizard.
set -euo pipefail
out=$(realpath "$1") iso=$(realpath -m "$2") seed=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
start=$SECONDS
step() { printf '[iso %4ds] %s\n' $((SECONDS - start)) "$*"; }

[ -f "$out/telbox.img" ] || { echo "no $out/telbox.img: make image first" >&2; exit 1; }
"$here/compress.sh" "$out"

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{isolinux,boot,telbox}
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree/isolinux/"
cp "$out/boot/vmlinuz" "$out/boot/initrd.img" "$tree/boot/"
ln "$out/telbox.img.gz" "$tree/telbox/telbox.img.gz" 2>/dev/null || cp "$out/telbox.img.gz" "$tree/telbox/"
[ -z "$seed" ] || install -m 0644 "$seed" "$tree/telbox/appliance.toml"
cat >"$tree/isolinux/isolinux.cfg" <<CFG
# telbox installer: writes the first disk unattended after 3 s.
SERIAL 0 115200
PROMPT 0
TIMEOUT 30
DEFAULT install
LABEL install
	KERNEL /boot/vmlinuz
	INITRD /boot/initrd.img
	APPEND telbox.install=cdrom telbox.after=poweroff console=tty1 console=ttyS0,115200 loglevel=4
CFG
step "xorriso: hybrid ISO (isolinux, MBR for USB sticks)${seed:+, seed $seed}"
xorriso -as mkisofs -quiet -o "$iso" -V TELBOX -J -R \
	-isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
	-c isolinux/boot.cat -b isolinux/isolinux.bin \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$tree"
step "$(basename "$iso"): $(du -h "$iso" | cut -f1) in $(dirname "$iso")"
