#!/usr/bin/env bash
# Network apply benchmark: 50 veth links, each with an address, an MTU and a
# route, applied in a fresh network namespace by
#   (a) `sysconfd apply --once` on a fresh root: validate, plan, journal,
#       netlink, the generated files, verify, record the generation;
#   (b) telbox's netlink engine alone (the net-apply helper: observe, plan,
#       apply, verify);
#   (c) `ip -batch` with the same changes written out by hand;
#   (d) ifupdown's `ifup -a` on the equivalent interfaces file (--no-scripts:
#       no if-up.d hooks, which only makes ifupdown faster);
# plus a no-op re-apply by both telbox commands on a namespace configured a
# second earlier (when IPv6 autoconfiguration on the new links no longer
# holds the kernel's rtnl lock).
# Every command runs under `ip netns exec`, so each pays the same entry cost,
# shown on its own line. hyperfine times each command without a shell
# (-N) and re-creates the namespace before every run (--prepare); the
# methods take turns over several rounds, and the table gives the median of
# the rounds' medians, and ratios. Needs root and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/../.."

LINKS=${LINKS:-50}
RUNS=${RUNS:-15}
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
NET_APPLY=${NET_APPLY:-$TARGET/release/net-apply}
SYSCONFD=${SYSCONFD:-$TARGET/release/sysconfd}

[ "$(id -u)" = 0 ] || { echo "network.sh: needs root (network namespaces)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "network.sh: needs hyperfine (make deps installs it)" >&2; exit 1; }
[ -x "$NET_APPLY" ] || cargo build -q --release -p telbox-tests --bin net-apply
[ -x "$SYSCONFD" ] || cargo build -q --release -p sysconfd --bin sysconfd

WORK=$(mktemp -d)
NS="telbox-bench-$$"
cleanup() {
    ip netns del "$NS" 2>/dev/null || true
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
    # Run by hyperfine before every timed run: a new namespace with LINKS
    # veth pairs, peers up, and no state left by the previous run.
    {
        echo '#!/bin/sh'
        echo "ip netns del $NS 2>/dev/null"
        echo "rm -rf $WORK/root $WORK/ifstate && mkdir -p $WORK/ifstate"
        echo "ip netns add $NS && ip -n $NS -batch $WORK/links.batch"
    } >"$WORK/fresh.sh"
    chmod +x "$WORK/fresh.sh"
    for ((i = 0; i < LINKS; i++)); do
        echo "link add v$i type veth peer name p$i"
        echo "link set p$i up"
    done >"$WORK/links.batch"
}

# Checks that the namespace ended up configured: every address, MTU and route.
check_applied() {
    local addrs mtus routes
    addrs=$(ip -n "$NS" -4 -o addr show | grep -c ' 10\.100\.' || true)
    mtus=$(ip -n "$NS" -o link show | grep -c ' v[0-9]*@p[0-9]*: .*UP.* mtu 9000 ' || true)
    routes=$(ip -n "$NS" route show proto 207 | grep -c '^10\.200\.' || true)
    if [ "$addrs" != "$LINKS" ] || [ "$mtus" != "$LINKS" ] || [ "$routes" != "$LINKS" ]; then
        echo "network.sh: $1 left $addrs addresses, $mtus up links at MTU 9000, $routes routes; want $LINKS each" >&2
        exit 1
    fi
}

# time_ms NAME PREPARE COMMAND: times RUNS runs and adds their median, in
# ms, to the file NAME.ms (one line per round).
time_ms() {
    local name=$1 prepare=$2 command=$3 prep=()
    [ -n "$prepare" ] && prep=(--prepare "$prepare")
    hyperfine -N --runs "$RUNS" "${prep[@]}" --export-csv "$WORK/$name.csv" "$command" >/dev/null 2>"$WORK/$name.err" ||
        { cat "$WORK/$name.err" >&2; echo "network.sh: $name failed" >&2; exit 1; }
    # CSV: command,mean,stddev,median,user,system,min,max (seconds).
    awk -F, 'NR == 2 { printf "%.2f\n", $4 * 1000 }' "$WORK/$name.csv" >>"$WORK/$name.ms"
}

# MS[NAME]: the median of NAME's round medians.
declare -A MS
settle() {
    local name
    for name in "$@"; do
        MS[$name]=$(sort -n "$WORK/$name.ms" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }')
    done
}

SYSCONFD_APPLY="ip netns exec $NS $SYSCONFD --root $WORK/root --services none apply --once --config $WORK/appliance.toml"
write_inputs

# One round times each method in turn; the table takes the median over
# ROUNDS rounds, so that a slow spell of the machine falls on every method
# alike rather than on whichever ran during it.
round() {
    time_ms sysconfd "$WORK/fresh.sh" "$SYSCONFD_APPLY"
    check_applied "sysconfd apply --once"
    sleep 1
    OUT=$($SYSCONFD_APPLY 2>&1)
    grep -q "nothing to do" <<<"$OUT" || { echo "network.sh: sysconfd re-apply planned changes: $OUT" >&2; exit 1; }
    time_ms sysconfd_noop "" "$SYSCONFD_APPLY"

    time_ms telbox "$WORK/fresh.sh" "ip netns exec $NS $NET_APPLY $WORK/appliance.toml"
    check_applied telbox
    sleep 1
    ip netns exec "$NS" "$NET_APPLY" "$WORK/appliance.toml" >"$WORK/noop.json"
    grep -q '"plan":\[\]' "$WORK/noop.json" || { echo "network.sh: re-apply planned changes" >&2; exit 1; }
    time_ms telbox_noop "" "ip netns exec $NS $NET_APPLY $WORK/appliance.toml"
    time_ms entry "" "ip netns exec $NS true"

    time_ms ip "$WORK/fresh.sh" "ip netns exec $NS ip -batch $WORK/ip.batch"
    check_applied "ip -batch"
}
for ((r = 0; r < ROUNDS; r++)); do round; done
noop_inside=$(sed -n 's/.*"applied_us":\([0-9]*\).*/\1/p' "$WORK/noop.json")

# ifupdown, thirty times slower, is timed in one round of its own.
time_ms ifupdown "$WORK/fresh.sh" "ip netns exec $NS ifup -a --no-scripts -i $WORK/interfaces --state-dir $WORK/ifstate"
check_applied ifupdown
settle sysconfd sysconfd_noop telbox telbox_noop entry ip ifupdown

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { printf '  %-36s %10s %14s\n' "$1" "${MS[$2]}" "$(ratio "${MS[$2]}" "${MS[ip]}")"; }

echo "network apply: $LINKS veth links, each address + MTU + route; median of $ROUNDS rounds of $RUNS runs (hyperfine), fresh namespace each"
printf '  %-36s %10s %14s\n' "method" "time (ms)" "vs ip -batch"
row "sysconfd apply --once (all of it)" sysconfd
row "telbox netlink engine alone" telbox
row "ip -batch" ip
row "ifupdown ifup -a --no-scripts" ifupdown
row "sysconfd no-op re-apply" sysconfd_noop
row "telbox engine no-op re-apply" telbox_noop
printf '  %-36s %10s\n' "(ip netns exec true: entry cost)" "${MS[entry]}"
echo "  ifupdown / sysconfd: $(ratio "${MS[ifupdown]}" "${MS[sysconfd]}"); ifupdown / telbox engine: $(ratio "${MS[ifupdown]}" "${MS[telbox]}") (ifupdown: one round)"
echo "  sysconfd apply --once also validates, records the generation (SQLite), journals, writes the"
echo "  config and host files, checks chrony.conf with chronyd -p and verifies by reading the kernel back"
echo "  engine no-op inside the process (netlink connect, dumps, plan): $(awk -v us="$noop_inside" 'BEGIN { printf "%.1f", us / 1000 }') ms, empty plan"
