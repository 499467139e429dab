#!/usr/bin/env bash
# HA failover timing: an HA pair in network namespaces (release sysconfd and
# appliance, Debian's keepalived, the Berofos simulator; the harness of
# tests/tests/ha.rs), whose active master is SIGKILLed ROUNDS times. The
# table gives the median, min and max from the kill to the slave's
# keepalived going MASTER, its Asterisk started, the Berofos at A–D and the
# transition recorded done, beside the seed's cron (its documented range).
# The harness itself is a debug build (unwinding panics clean the
# namespaces up); what it times is the release build. Fails with a message
# when a round does not converge or the median takeover is over 1 s.
# Needs root.
#
#   tests/bench/ha.sh [ROUNDS]     (default 12)
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-12}
target=${CARGO_TARGET_DIR:-target}
[ "$(id -u)" = 0 ] || { echo "ha bench: needs root (network namespaces)" >&2; exit 1; }
command -v keepalived >/dev/null || { echo "ha bench: keepalived missing (make deps installs it)" >&2; exit 1; }
cargo build -q --release -p sysconfd --bin sysconfd -p appliance-cli --bin appliance
cargo build -q -p telbox-tests --bin ha-bench
TELBOX_BIN_DIR=$target/release "$target/debug/ha-bench" "$rounds"
