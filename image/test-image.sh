#!/bin/bash
# test-image.sh OUT TEST_OUT [TOOL...]: the image `make image-test` boots.
#
# A copy of OUT/telbox.img (make image's, exactly what a user gets) with the
# boot test's command channel (image/test/files: telbox-test-shell.service,
# enabled, and its script) and the test's tools (TOOL..., into /usr/bin)
# written into both root slots with debugfs: no loop devices, no mounts.
# TEST_OUT is laid out as OUT is (telbox.img, boot/), so iso.sh and pxe.sh
# make the test's installers from it.
set -euo pipefail
out=$(realpath "${1:?usage: test-image.sh OUT TEST_OUT [TOOL...]}")
test_out=$(realpath -m "${2:?usage: test-image.sh OUT TEST_OUT [TOOL...]}")
shift 2
here=$(cd "$(dirname "$0")" && pwd)
files=$here/test/files

[ -f "$out/telbox.img" ] || { echo "no $out/telbox.img: make image first" >&2; exit 1; }
mkdir -p "$test_out/boot"
img=$test_out/telbox.img
cp --sparse=always "$out/telbox.img" "$img.part"
cp "$out/boot/vmlinuz" "$out/boot/initrd.img" "$test_out/boot/"

commands=$(mktemp)
part=$(mktemp)
trap 'rm -f "$commands" "$part"' EXIT
{
	echo "cd /usr/lib/systemd/system"
	echo "write $files/usr/lib/systemd/system/telbox-test-shell.service telbox-test-shell.service"
	echo "cd /usr/libexec/telbox"
	echo "write $files/usr/libexec/telbox/test-shell test-shell"
	echo "cd /etc/systemd/system/multi-user.target.wants"
	echo "symlink telbox-test-shell.service /usr/lib/systemd/system/telbox-test-shell.service"
	echo "cd /usr/bin"
	for tool in "$@"; do
		echo "write $(realpath "$tool") $(basename "$tool")"
	done
} >"$commands"

for slot in root-a root-b; do
	# shellcheck disable=SC2016 # python, not shell
	read -r start size < <(sfdisk -J "$img.part" | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)["partitiontable"]["partitions"] if x.get("name") == sys.argv[1]][0]
print(p["start"], p["size"])' "$slot")
	dd if="$img.part" of="$part" bs=512 skip="$start" count="$size" status=none
	debugfs -w -f "$commands" "$part" >/dev/null 2>"$part.err" || { cat "$part.err" >&2; exit 1; }
	if grep -v '^debugfs' "$part.err" | grep -q .; then
		cat "$part.err" >&2
		exit 1
	fi
	rm -f "$part.err"
	dd if="$part" of="$img.part" bs=512 seek="$start" conv=notrunc,sparse status=none
done
mv "$img.part" "$img"
echo "test image: $img (telbox.img + the boot test's command channel${*:+ + $*})"
