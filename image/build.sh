#!/bin/bash
# make image: the telbox disk image from Debian bookworm packages, the
# workspace's release binaries and the buildroot-overlay rootfs, laid out as
# board/telbox/genimage.cfg says (boot, root-a, root-b, data). No loop
# devices and no mounts: file systems are made from directories
# (mkfs.ext4 -d, mtools) and placed into the disk file at their offsets.
#
#   image/build.sh OUT BIN_DIR
#
# OUT/cache keeps the Debian root (rebuilt only when the package list or
# the hook changes); OUT/telbox.img is the disk, OUT/boot/ the kernel and
# initrd (for the ISO and PXE artifacts).
set -euo pipefail

out=$(realpath -m "${1:?usage: build.sh OUT BIN_DIR}")
bin_dir=$(realpath "${2:?usage: build.sh OUT BIN_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
overlay=$top/buildroot-overlay/rootfs
suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# What the image runs, and what DKMS needs for the DAHDI modules (removed
# again by rootfs-hook.sh once the modules are built).
packages=(systemd systemd-sysv dbus udev kmod iproute2 procps util-linux
	kea-dhcp4-server chrony keepalived nftables isc-dhcp-client iputils-arping dahdi
	linux-image-amd64 linux-headers-amd64 dahdi-dkms less man-db bash-completion)

# Sizes as in genimage.cfg (MiB).
boot_mib=64 root_mib=768 data_mib=512

start=$SECONDS
step() { printf '[image %4ds] %s\n' $((SECONDS - start)) "$*"; }

mkdir -p "$out/cache" "$out/logs"
for b in sysconfd telbox-wizard appliance hwmgr; do
	[ -x "$bin_dir/$b" ] || { echo "missing $bin_dir/$b (cargo build --release)" >&2; exit 1; }
done

# --- 1. the Debian root, cached -----------------------------------------
key=$(printf '%s\n' "${packages[@]}" "$suite" | cat - "$here/rootfs-hook.sh" | sha256sum | cut -c1-16)
base=$out/cache/rootfs-$key.tar
if [ ! -f "$base" ]; then
	step "debian $suite root with ${#packages[@]} packages (mmdebstrap; a few minutes, cached afterwards)"
	rm -f "$out"/cache/rootfs-*.tar
	tmp=$out/cache/rootfs.tmp
	rm -rf "$tmp"
	mmdebstrap --variant=apt --include="$(IFS=,; echo "${packages[*]}")" \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--customize-hook="'$here/rootfs-hook.sh' \"\$1\" '$out/logs'" \
		"$suite" "$tmp" \
		"deb $mirror $suite main" "deb $mirror $suite-updates main" \
		"deb $security $suite-security main" \
		>"$out/logs/mmdebstrap.log" 2>&1 ||
		{ tail -n 30 "$out/logs/mmdebstrap.log" >&2; exit 1; }
	tar -C "$tmp" --numeric-owner --xattrs -cf "$base.part" .
	mv "$base.part" "$base"
	rm -rf "$tmp"
	step "debian root cached: $base ($(du -h "$base" | cut -f1))"
else
	step "debian root from cache: $base"
fi
kver=$(cat "$out/logs/kernel-version")
case $(cat "$out/logs/dkms-result") in
built) step "DAHDI modules built by DKMS for $kver" ;;
*) step "DAHDI modules: DKMS failed for $kver (see $out/logs/dkms.log):"
	sed -n '1,40p' "$out/logs/dkms.log" "$out/logs/dkms-make.log" 2>/dev/null | grep -iE 'error|fail' | head -n 10 ;;
esac

# --- 2. the telbox root: overlay, binaries, units ------------------------
rootfs=$out/rootfs
step "root file system: Debian root + buildroot-overlay/rootfs + release binaries"
rm -rf "$rootfs"
mkdir -p "$rootfs"
tar -C "$rootfs" --numeric-owner --xattrs -xf "$base"
cp -a --no-preserve=ownership "$overlay/." "$rootfs/"
cp -a --no-preserve=ownership "$here/files/." "$rootfs/"
# Where buildroot-overlay/package/telbox/telbox.mk installs them.
install -m 0755 "$bin_dir/sysconfd" "$bin_dir/telbox-wizard" "$rootfs/usr/sbin/"
install -m 0755 "$bin_dir/appliance" "$bin_dir/hwmgr" "$rootfs/usr/bin/"
mkdir -p "$rootfs/usr/share/doc/telbox" "$rootfs/data"
cp "$top/docs/config.md" "$top/docs/dbus.md" "$top/buildroot-overlay/README.md" "$rootfs/usr/share/doc/telbox/"
if "$top/buildroot-overlay/gen-docs.sh" "$bin_dir" "$out/docs" >/dev/null 2>&1; then
	cp -a "$out/docs/." "$rootfs/usr/share/"
fi
echo telbox >"$rootfs/etc/hostname"
printf '%s\n' "# / is the slot the boot loader picked (root=PARTLABEL=...); /data is data.mount." >"$rootfs/etc/fstab"
chroot "$rootfs" systemd-sysusers >/dev/null
# The overlay's presets, unit by unit (preset-all would also apply Debian's).
while read -r verb unit; do
	case $verb in
	enable) chroot "$rootfs" systemctl enable "$unit" >/dev/null 2>&1 || { echo "cannot enable $unit" >&2; exit 1; } ;;
	disable) chroot "$rootfs" systemctl disable "$unit" >/dev/null 2>&1 || true ;;
	esac
done <"$overlay/usr/lib/systemd/system-preset/80-telbox.preset"
# Debian's own Kea unit would race the overlay's kea-dhcp4.service.
chroot "$rootfs" systemctl mask kea-dhcp4-server.service >/dev/null 2>&1
chroot "$rootfs" systemctl set-default multi-user.target >/dev/null 2>&1

# --- 3. kernel and initrd -------------------------------------------------
step "kernel $kver and telbox's initrd"
mkdir -p "$out/boot"
cp "$rootfs/boot/vmlinuz-$kver" "$out/boot/vmlinuz"
"$here/mkinitrd.sh" "$rootfs" "$kver" "$out/boot/initrd.img"
cp "$out/boot/initrd.img" "$rootfs/boot/initrd.img-telbox"

# --- 4. file systems and the disk ------------------------------------------
step "file systems: root-a, root-b (${root_mib} MiB each), data (${data_mib} MiB), boot (${boot_mib} MiB)"
parts=$out/parts
rm -rf "$parts"
mkdir -p "$parts"
mkfs.ext4 -q -F -L root-a -d "$rootfs" "$parts/root-a.ext4" "${root_mib}M"
cp --sparse=always "$parts/root-a.ext4" "$parts/root-b.ext4"
e2fsck -fy "$parts/root-b.ext4" >/dev/null || [ $? -le 1 ]
tune2fs -U random -L root-b "$parts/root-b.ext4" >/dev/null
"$here/mkdata.sh" "$parts/data.ext4" "$data_mib" ${SEED:+"$SEED"}

cmdline="rw net.ifnames=0 console=tty1 console=ttyS0,115200 panic=10 loglevel=4"
cat >"$parts/syslinux.cfg" <<CFG
# telbox: slot A unless someone picks B at the prompt (the A/B logic of
# board/telbox/grub.cfg belongs to the update mechanism).
SERIAL 0 115200
PROMPT 0
TIMEOUT 10
DEFAULT A
LABEL A
	KERNEL /A/vmlinuz
	INITRD /A/initrd.img
	APPEND root=PARTLABEL=root-a telbox.slot=A $cmdline
LABEL B
	KERNEL /B/vmlinuz
	INITRD /B/initrd.img
	APPEND root=PARTLABEL=root-b telbox.slot=B $cmdline
CFG
rm -f "$parts/boot.vfat"
mkfs.vfat -n TELBOX-ESP -C "$parts/boot.vfat" $((boot_mib * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$parts/boot.vfat" ::/A ::/B ::/syslinux
for s in A B; do
	mcopy -i "$parts/boot.vfat" "$out/boot/vmlinuz" "$out/boot/initrd.img" "::/$s/"
done
mcopy -i "$parts/boot.vfat" "$parts/syslinux.cfg" ::/syslinux/syslinux.cfg
syslinux --directory /syslinux --install "$parts/boot.vfat"

img=$out/telbox.img
rm -f "$img"
total_mib=$((1 + boot_mib + 2 * root_mib + data_mib + 1))
truncate -s "${total_mib}M" "$img"
sfdisk -q "$img" <<PT
label: gpt
first-lba: 2048
name=boot, start=1MiB, size=${boot_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, attrs="LegacyBIOSBootable"
name=root-a, size=${root_mib}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
name=root-b, size=${root_mib}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
name=data, size=${data_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
PT
off=1
for p in boot.vfat:$boot_mib root-a.ext4:$root_mib root-b.ext4:$root_mib data.ext4:$data_mib; do
	dd if="$parts/${p%%:*}" of="$img" bs=1M seek=$off conv=notrunc,sparse status=none
	off=$((off + ${p##*:}))
done
dd if=/usr/lib/syslinux/mbr/gptmbr.bin of="$img" bs=440 count=1 conv=notrunc status=none
rm -rf "$parts"

step "telbox.img: $(du -h --apparent-size "$img" | cut -f1) (boot, root-a, root-b, data; $(du -h "$img" | cut -f1) on disk) in $out"
echo "root file system: $(du -sh --apparent-size "$rootfs" | cut -f1) used of ${root_mib} MiB per slot"
