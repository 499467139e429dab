#!/bin/bash
# mmdebstrap customize hook: runs on the build host with the new root as $1
# and the log directory as $2. Builds the DAHDI modules with DKMS for the
# image's kernel, keeps only the built modules (not the compiler, headers or
# DKMS), and trims what a telbox never needs from the root.
set -euo pipefail
root=$1
logdir=$2
in_root() { chroot "$root" "$@"; }

kver=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -V | tail -n1)
echo "kernel: $kver" >&2
echo "$kver" >"$logdir/kernel-version"

# dahdi-dkms' postinst builds for the kernels it finds; make sure it did
# for this one, and keep DKMS' own words if it could not.
# shellcheck disable=SC2016 # dpkg-query's format
dahdi_ver=$(in_root dpkg-query -W -f='${Version}' dahdi-dkms | sed 's/^[0-9]*://; s/-[^-]*$//')
if ! ls "$root/lib/modules/$kver/updates/dkms/"dahdi.ko* >/dev/null 2>&1; then
	echo "DAHDI modules not built yet: dkms install dahdi/$dahdi_ver -k $kver" >&2
	in_root dkms install "dahdi/$dahdi_ver" -k "$kver" >"$logdir/dkms.log" 2>&1 || true
fi
rm -f "$logdir/dkms-make.log"
for f in "$root"/var/lib/dkms/dahdi/*/build/make.log; do
	[ -f "$f" ] && cp "$f" "$logdir/dkms-make.log"
done
keep=$(mktemp -d)
if ls "$root/lib/modules/$kver/updates/dkms/"dahdi.ko* >/dev/null 2>&1; then
	cp -a "$root/lib/modules/$kver/updates" "$keep/"
	echo "built" >"$logdir/dkms-result"
	# The built modules as a package of their own that provides
	# dahdi-dkms, so dahdi-linux and dahdi-tools stay installed once DKMS
	# and the compiler are gone.
	pkg=$(mktemp -d)
	mkdir -p "$pkg/DEBIAN" "$pkg/lib/modules/$kver"
	cp -a "$keep/updates" "$pkg/lib/modules/$kver/"
	cat >"$pkg/DEBIAN/control" <<CONTROL
Package: telbox-dahdi-modules
Version: $dahdi_ver+$kver
Architecture: amd64
Maintainer: telbox <telbox@localhost>
Provides: dahdi-dkms
Description: DAHDI kernel modules built by DKMS for $kver
 Made while the telbox image was built; DKMS is not in the image.
CONTROL
	dpkg-deb --root-owner-group -b "$pkg" "$root/tmp/telbox-dahdi-modules.deb" >/dev/null
	in_root dpkg -i /tmp/telbox-dahdi-modules.deb >"$logdir/dahdi-modules-deb.log" 2>&1
	rm -rf "$pkg" "$root/tmp/telbox-dahdi-modules.deb"
else
	echo "failed" >"$logdir/dkms-result"
fi

# The toolchain and headers were only for DKMS.
DEBIAN_FRONTEND=noninteractive in_root apt-get purge -y -q --autoremove \
	dahdi-dkms dkms 'linux-headers-*' 'linux-kbuild-*' gcc-12 cpp-12 make binutils \
	>"$logdir/purge.log" 2>&1
if [ -d "$keep/updates" ]; then
	mkdir -p "$root/lib/modules/$kver"
	cp -a "$keep/updates" "$root/lib/modules/$kver/"
fi
rm -rf "$keep"

# Drivers a telephony box (or the VM that tests it) has no use for.
mods=$root/lib/modules/$kver/kernel
rm -rf "$mods"/arch/x86/kvm "$mods"/drivers/{gpu,media,infiniband,staging,iio,bluetooth,isdn,input/joystick,input/touchscreen} \
	"$mods"/drivers/net/{wireless,wwan,can,ethernet/mellanox,ethernet/qlogic,ethernet/chelsio,ethernet/sfc} \
	"$mods"/drivers/{scsi/lpfc,scsi/qla2xxx,scsi/mpt3sas,scsi/bfa,scsi/be2iscsi,hwmon,mtd,usb/gadget} \
	"$mods"/sound "$mods"/net/{wireless,mac80211,bluetooth} "$mods"/fs/{btrfs,xfs,ocfs2,gfs2,nfs,nfsd,ceph,smb,cifs,f2fs}
in_root depmod -a "$kver"
for p in dahdi dahdi-linux kea-dhcp4-server chrony keepalived; do
	# shellcheck disable=SC2016
	in_root dpkg-query -W -f='${Status}\n' "$p" | grep -q "install ok installed" ||
		{ echo "$p was removed with the build tools" >&2; exit 1; }
done

# The initrd is telbox's own (image/initrd); Debian's is not used.
rm -f "$root"/boot/initrd.img-*
# No prompts on the first boot, no package lists in the image.
ln -sf /dev/null "$root/etc/systemd/system/systemd-firstboot.service"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
: >"$root/etc/machine-id"
