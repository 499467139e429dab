#!/usr/bin/env bash
# Network apply benchmark: 50 veth links, each with an address, an MTU and a
# route, applied in a fresh network namespace by
#   (a) telbox's planner over netlink (the net-apply helper: observe, plan,
#       apply, verify, as `sysconfd apply --once` does),
#   (b) `ip -batch` with the same changes written out by hand,
#   (c) ifupdown's `ifup -a` on the equivalent interfaces file (--no-scripts:
#       no if-up.d hooks, which only makes ifupdown faster),
# plus a no-op re-apply by telbox on the configured namespace once it has
# settled (a second after the apply, when IPv6 autoconfiguration on the new
# links no longer holds the kernel's rtnl lock).
# Every command runs under `ip netns exec`, so each pays the same entry cost,
# shown on its own line.
# Prints the median of RUNS runs per method and the ratios. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."

LINKS=${LINKS:-50}
RUNS=${RUNS:-5}
TARGET=${CARGO_TARGET_DIR:-target}
NET_APPLY=${NET_APPLY:-$TARGET/release/net-apply}
SYSCONFD=${SYSCONFD:-$TARGET/release/sysconfd}

[ "$(id -u)" = 0 ] || { echo "network.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x "$NET_APPLY" ] || cargo build -q --release -p telbox-tests --bin net-apply
[ -x "$NET_APPLY" ] || { echo "network.sh: $NET_APPLY not built" >&2; exit 1; }

WORK=$(mktemp -d)
NAMESPACES=()
cleanup() {
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Link i: v$i (peer p$i), 10.100.i.2/24 (i < 250), MTU 9000, 10.200.i.0/24 via 10.100.i.1.
write_inputs() {
    local i
    {
        printf '[system]\nhostname = "bench"\ndomain = "example.com"\n'
        for ((i = 0; i < LINKS; i++)); do
            printf '\n[[network.interface]]\nname = "v%d"\naddress = "10.100.%d.2/24"\nmtu = 9000\n' "$i" "$i"
            [ "$i" = 0 ] && printf 'role = "voip"\n'
        done
        for ((i = 0; i < LINKS; i++)); do
            printf '\n[[network.route]]\ndestination = "10.200.%d.0/24"\nvia = "10.100.%d.1"\n' "$i" "$i"
        done
    } >"$WORK/appliance.toml"
    for ((i = 0; i < LINKS; i++)); do
        echo "link set dev v$i mtu 9000 up"
        echo "address add 10.100.$i.2/24 dev v$i"
        echo "route add 10.200.$i.0/24 via 10.100.$i.1 dev v$i proto 207"
    done >"$WORK/ip.batch"
    for ((i = 0; i < LINKS; i++)); do
        printf 'auto v%d\niface v%d inet static\n\taddress 10.100.%d.2/24\n\tmtu 9000\n' "$i" "$i" "$i"
        printf '\tup ip route add 10.200.%d.0/24 via 10.100.%d.1 dev v%d proto 207\n\n' "$i" "$i" "$i"
    done >"$WORK/interfaces"
}

# Sets ns to a new namespace with LINKS veth pairs, peers up.
fresh_namespace() {
    local i
    ns="telbox-bench-$$-$((run++))"
    ip netns add "$ns"
    NAMESPACES+=("$ns")
    for ((i = 0; i < LINKS; i++)); do
        echo "link add v$i type veth peer name p$i"
        echo "link set p$i up"
    done | ip -n "$ns" -batch -
}

# Runs "$@" with stdout to $OUT (default /dev/null) and prints its wall time in microseconds.
time_us() {
    local start end
    start=$(date +%s%N)
    "$@" >"${OUT:-/dev/null}"
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Checks that a namespace ended up configured: every address, MTU and route.
check_applied() {
    local ns=$1 addrs mtus routes
    addrs=$(ip -n "$ns" -4 -o addr show | grep -c ' 10\.100\.' || true)
    mtus=$(ip -n "$ns" -o link show | grep -c ' v[0-9]*@p[0-9]*: .*UP.* mtu 9000 ' || true)
    routes=$(ip -n "$ns" route show proto 207 | grep -c '^10\.200\.' || true)
    if [ "$addrs" != "$LINKS" ] || [ "$mtus" != "$LINKS" ] || [ "$routes" != "$LINKS" ]; then
        echo "network.sh: $2 left $addrs addresses, $mtus up links at MTU 9000, $routes routes; want $LINKS each" >&2
        exit 1
    fi
}

write_inputs
declare -A SAMPLES
run=0
for ((r = 0; r < RUNS; r++)); do
    fresh_namespace
    SAMPLES[telbox]+="$(time_us ip netns exec "$ns" "$NET_APPLY" "$WORK/appliance.toml") "
    check_applied "$ns" telbox
    sleep 1
    SAMPLES[noop]+="$(OUT="$WORK/noop.json" time_us ip netns exec "$ns" "$NET_APPLY" "$WORK/appliance.toml") "
    grep -q '"plan":\[\]' "$WORK/noop.json" || { echo "network.sh: re-apply planned changes" >&2; exit 1; }
    SAMPLES[noop_inside]+="$(sed -n 's/.*"applied_us":\([0-9]*\).*/\1/p' "$WORK/noop.json") "
    SAMPLES[entry]+="$(time_us ip netns exec "$ns" true) "
    ip netns del "$ns"

    fresh_namespace
    SAMPLES[sysconfd]+="$(time_us ip netns exec "$ns" "$SYSCONFD" --root "$WORK/root-$r" --services none apply --once --config "$WORK/appliance.toml") "
    check_applied "$ns" "sysconfd apply --once"
    sleep 1
    SAMPLES[sysconfd_noop]+="$(OUT="$WORK/sysconfd-noop.txt" time_us ip netns exec "$ns" "$SYSCONFD" --root "$WORK/root-$r" --services none apply --once --config "$WORK/appliance.toml") "
    grep -q "nothing to do" "$WORK/sysconfd-noop.txt" || { echo "network.sh: sysconfd re-apply planned changes" >&2; exit 1; }
    ip netns del "$ns"

    fresh_namespace
    SAMPLES[ip]+="$(time_us ip netns exec "$ns" ip -batch "$WORK/ip.batch") "
    check_applied "$ns" "ip -batch"
    ip netns del "$ns"

    fresh_namespace
    mkdir -p "$WORK/ifstate-$r"
    SAMPLES[ifupdown]+="$(time_us ip netns exec "$ns" ifup -a --no-scripts -i "$WORK/interfaces" --state-dir "$WORK/ifstate-$r") "
    check_applied "$ns" ifupdown
    ip netns del "$ns"
done

med() { tr ' ' '\n' <<<"${SAMPLES[$1]}" | grep . | median; }
ours=$(med telbox) ip_us=$(med ip) ifup_us=$(med ifupdown) noop=$(med noop)
whole=$(med sysconfd) whole_noop=$(med sysconfd_noop)
noop_inside=$(med noop_inside) entry=$(med entry)
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

echo "network apply: $LINKS veth links, each address + MTU + route; median of $RUNS runs, fresh namespace each"
printf '  %-34s %10s %14s\n' "method" "time (ms)" "vs ip -batch"
printf '  %-34s %10s %14s\n' "telbox (netlink, plan + verify)" "$(ms "$ours")" "$(ratio "$ours" "$ip_us")"
printf '  %-34s %10s %14s\n' "sysconfd apply --once (all of it)" "$(ms "$whole")" "$(ratio "$whole" "$ip_us")"
printf '  %-34s %10s %14s\n' "ip -batch" "$(ms "$ip_us")" "1.00x"
printf '  %-34s %10s %14s\n' "ifupdown ifup -a --no-scripts" "$(ms "$ifup_us")" "$(ratio "$ifup_us" "$ip_us")"
printf '  %-34s %10s %14s\n' "telbox no-op re-apply" "$(ms "$noop")" "$(ratio "$noop" "$ip_us")"
printf '  %-34s %10s %14s\n' "sysconfd no-op re-apply" "$(ms "$whole_noop")" "$(ratio "$whole_noop" "$ip_us")"
printf '  %-34s %10s\n' "(ip netns exec true: entry cost)" "$(ms "$entry")"
echo "  ifupdown / telbox: $(ratio "$ifup_us" "$ours"); ifupdown / sysconfd: $(ratio "$ifup_us" "$whole")"
echo "  sysconfd apply --once also validates, records the generation (SQLite), journals, writes and fsyncs"
echo "  the config and host files, checks chrony.conf with chronyd -p and verifies by reading the kernel back"
echo "  no-op re-apply inside the process (netlink connect, dumps, plan): $(ms "$noop_inside") ms, empty plan"
