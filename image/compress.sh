#!/bin/bash
# compress.sh OUT: OUT/telbox.img.gz, what the installers write, made again
# only when telbox.img is newer.
set -euo pipefail
out=$1
if [ ! -f "$out/telbox.img.gz" ] || [ "$out/telbox.img" -nt "$out/telbox.img.gz" ]; then
	echo "compressing telbox.img for the installers"
	gzip -1 -c "$out/telbox.img" >"$out/telbox.img.gz.part"
	mv "$out/telbox.img.gz.part" "$out/telbox.img.gz"
fi
