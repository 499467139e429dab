#!/usr/bin/env bash
# A simulated telbox: checks the example configs and summarises what each box is.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release
echo "== telbox demo"
echo
echo "-- validating the example configurations"
"$bin/appliance" config validate examples/*.toml
echo
echo "-- what an invalid file looks like"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed -e 's/^hostname = .*/hostname = "tel;box"/' -e 's/^gateway = .*/gateway = "192.168.77.1"/' examples/minimal.toml > "$tmp"
"$bin/appliance" config validate "$tmp" || echo "(exit $? as expected)"
