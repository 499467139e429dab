#!/usr/bin/env bash
# make bench: telbox side by side with the tools a user would pick instead,
# reported as ratios. Each part prints its own table.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { apt-get install -y -q hyperfine >/dev/null 2>&1 || true; }
echo "== network: 50 links (address, MTU, route) and a no-op re-apply"
./tests/bench/network.sh
echo
echo "== DAHDI: scan + config generation on the mixed fixture"
./tests/bench/dahdi.sh
echo
echo "== HA: a dead master, the slave active with its services and the Berofos at A–D"
./tests/bench/ha.sh
