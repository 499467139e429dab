#!/usr/bin/env bash
# DAHDI scan + config generation: `hwmgr scan` + `hwmgr render` against
# `dahdi_hardware` + `dahdi_genconf system chandahdi`, on the same fixture
# tree (the mixed box: TE420, B410P, TDM2400, TC400).
#
# dahdi-tools read the tree through DAHDI_VIRT_TOP; dahdi_genconf also
# needs the fixture's stand-ins for dahdi_scan and dahdi_cfg (PATH first,
# DAHDI_CFG). Uses hyperfine when installed, else a bash loop.
#
#   tests/bench/dahdi.sh [RUNS]     (default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=${1:-20}
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p hwmgr --bin hwmgr
cargo build -q -p telbox-tests --bin dahdi-fixture
hwmgr=$target/release/hwmgr
fixture=$target/debug/dahdi-fixture

for tool in dahdi_hardware dahdi_genconf; do
    command -v "$tool" >/dev/null || { echo "dahdi bench: $tool missing (make deps installs dahdi)"; exit 0; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
"$fixture" --root "$root" mixed >/dev/null
# The TC400 is refused without its firmware: a stand-in file in its place.
mkdir -p "$root/lib/firmware"
echo "stand-in" > "$root/lib/firmware/dahdi-fw-tc400m.bin"

# The config hwmgr renders: a box header plus the proposal for this tree.
cat > "$work/appliance.toml" <<'TOML'
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "10.0.0.2/24"
gateway = "10.0.0.1"
TOML
"$hwmgr" --root "$root" propose >> "$work/appliance.toml"

cat > "$work/ours.sh" <<SH
"$hwmgr" --root "$root" scan >/dev/null
"$hwmgr" --root "$root" render --config "$work/appliance.toml" --out "$work/ours" >/dev/null
SH
cat > "$work/theirs.sh" <<SH
export DAHDI_VIRT_TOP="$root" PATH="$root/fixture-bin:\$PATH" DAHDI_CFG="$root/fixture-bin/dahdi_cfg"
export GENCONF_PARAMETERS="$work/none" DAHDI_CONF_FILE="$work/system.conf"
export CHAN_DAHDI_CHANNELS_FILE="$work/dahdi-channels.conf"
dahdi_hardware >/dev/null
dahdi_genconf system chandahdi >/dev/null
SH

# Both must work before they are timed.
sh -e "$work/ours.sh"
sh -e "$work/theirs.sh"
test -s "$work/ours/etc/dahdi/system.conf"
test -s "$work/system.conf"

mean_ms() { # script -> mean wall time in ms over $runs runs
    if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" "sh -e $1" >/dev/null
        python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$work/h.json"
    else
        local start end
        start=$(date +%s%N)
        for _ in $(seq "$runs"); do sh -e "$1"; done
        end=$(date +%s%N)
        echo "scale=2; ($end - $start) / $runs / 1000000" | bc
    fi
}

t_ours=$(mean_ms "$work/ours.sh")
t_theirs=$(mean_ms "$work/theirs.sh")
ratio=$(echo "scale=1; $t_theirs / $t_ours" | bc)
how=$(command -v hyperfine >/dev/null && echo hyperfine || echo "bash loop")

echo
echo "DAHDI scan + config generation, mixed box (4 cards, 9 spans), $runs runs each ($how)"
printf '%-52s %10s\n' "command" "mean (ms)"
printf '%-52s %10s\n' "hwmgr scan + hwmgr render" "$t_ours"
printf '%-52s %10s\n' "dahdi_hardware + dahdi_genconf system chandahdi" "$t_theirs"
printf '%-52s %10s\n' "ratio (dahdi-tools / hwmgr)" "${ratio}x"
