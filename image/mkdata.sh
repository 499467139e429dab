#!/bin/bash
# mkdata.sh FILE MIB [SEED]: an empty data partition (ext4, label data),
# holding SEED as seed/appliance.toml when given (as an installer leaves it).
set -euo pipefail
file=$1 mib=$2 seed=${3:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if [ -n "$seed" ]; then
	install -d -m 0700 "$dir/seed"
	install -m 0600 "$seed" "$dir/seed/appliance.toml"
fi
rm -f "$file"
mkfs.ext4 -q -F -L data -d "$dir" "$file" "${mib}M"
