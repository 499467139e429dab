#!/bin/bash
# mkinitrd.sh ROOT KVER OUT: telbox's initrd (busybox, initrd/init, and the
# few modules that reach a virtio, SATA or NVMe disk, a CD and a virtio NIC)
# from the kernel modules in the image's ROOT.
set -euo pipefail
root=$1 kver=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
modules=(virtio_pci virtio_blk virtio_scsi virtio_net ahci ata_piix sd_mod sr_mod nvme
	ext4 isofs crc32c_generic)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,etc,proc,sys,dev,tmp,newroot,media,data}
cp /bin/busybox "$work/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$work/bin/$a" ] || ln -s busybox "$work/bin/$a"
done
install -m 0755 "$here/initrd/init" "$work/init"
install -m 0755 "$here/initrd/udhcpc.script" "$work/etc/udhcpc.script"

: >"$work/etc/initrd-modules"
for m in "${modules[@]}"; do
	chroot "$root" modprobe -S "$kver" --show-depends "$m" 2>/dev/null |
		awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
	rel=$path
	path=$root$rel
	mkdir -p "$work$(dirname "$rel")"
	case $rel in
	*.xz) xz -dc "$path" >"$work${rel%.xz}"; rel=${rel%.xz} ;;
	*.zst) zstd -qdc "$path" >"$work${rel%.zst}"; rel=${rel%.zst} ;;
	*) cp "$path" "$work$rel" ;;
	esac
	echo "$rel" >>"$work/etc/initrd-modules"
done
(cd "$work" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) >"$out"
