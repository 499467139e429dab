#!/bin/sh
# grubenv.sh NAME=VALUE...: prints a GRUB environment block holding the
# given variables, as grub-editenv writes it: a header line, one NAME=VALUE
# line each, then `#` up to exactly 1024 bytes.
set -eu

block=$(printf '# GRUB Environment Block\n'; for v in "$@"; do printf '%s\n' "$v"; done)
size=$(printf '%s\n' "$block" | wc -c)
if [ "$size" -gt 1024 ]; then
	echo "grubenv.sh: the variables take $size bytes, more than 1024" >&2
	exit 1
fi
printf '%s\n' "$block"
head -c $((1024 - size)) /dev/zero | tr '\0' '#'
