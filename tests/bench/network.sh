#!/usr/bin/env bash
# Network apply benchmark: 50 veth links, each with an address, an MTU and a
# route, applied in a fresh network namespace by
#   (a) `sysconfd apply --once` on a fresh root: validate, plan, journal,
#       netlink, the generated files, verify, record the generation;
#   (b) `appliance config apply` over D-Bus to a sysconfd already running in
#       the namespace (on a private bus with the telbox policy): the path
#       admins and the wizard use;
#   (c) `ip -batch` with the same changes written out by hand;
#   (d) ifupdown's `ifup -a` on the equivalent interfaces file (--no-scripts:
#       no if-up.d hooks, which only makes ifupdown faster);
# plus a no-op re-apply by both telbox paths on a namespace configured a
# second earlier (when IPv6 autoconfiguration on the new links no longer
# holds the kernel's rtnl lock), and where the time of (a) goes, from the
# engine's own phase clock (SYSCONFD_LOG=debug).
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
SYSCONFD=${SYSCONFD:-$TARGET/release/sysconfd}
APPLIANCE=${APPLIANCE:-$TARGET/release/appliance}

[ "$(id -u)" = 0 ] || { echo "network.sh: needs root (network namespaces)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "network.sh: needs hyperfine (make deps installs it)" >&2; exit 1; }
[ -x "$SYSCONFD" ] || cargo build -q --release -p sysconfd --bin sysconfd
[ -x "$APPLIANCE" ] || cargo build -q --release -p appliance-cli --bin appliance

WORK=$(mktemp -d)
NS="telbox-bench-$$"
BUS_PID=
cleanup() {
    stop_daemon
    [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
# Stops the sysconfd daemon a --prepare started, and waits until it is gone.
stop_daemon() {
    local pid
    pid=$(cat "$WORK/sysconfd.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
    rm -f "$WORK/sysconfd.pid"
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
    # The same, then sysconfd started as the daemon in the new namespace over
    # a new root, ready when it answers on the bus.
    {
        echo '#!/bin/bash'
        declare -f stop_daemon
        echo "WORK=$WORK"
        echo 'stop_daemon'
        echo "$WORK/fresh.sh || exit 1"
        echo "setsid ip netns exec $NS $SYSCONFD --root $WORK/root --services none >$WORK/sysconfd.log 2>&1 </dev/null & echo \$! >$WORK/sysconfd.pid"
        echo "for _ in \$(seq 500); do $APPLIANCE status >/dev/null 2>&1 && exit 0; sleep 0.01; done"
        echo "echo 'sysconfd did not answer on the bus' >&2; cat $WORK/sysconfd.log >&2; exit 1"
    } >"$WORK/daemon.sh"
    chmod +x "$WORK/daemon.sh"
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
DBUS_APPLY="ip netns exec $NS $APPLIANCE config apply $WORK/appliance.toml"
write_inputs

# A private system bus with the telbox policy, for the D-Bus path.
mkdir -p "$WORK/bus/system.d"
cp buildroot-overlay/rootfs/usr/share/dbus-1/system.d/org.telbox.Sysconfd1.conf "$WORK/bus/system.d/"
sed -e "s#@SOCKET@#$WORK/bus/socket#" -e "s#@POLICY@#$WORK/bus/system.d#" tests/demo/bus.conf.in >"$WORK/bus/bus.conf"
dbus-daemon --config-file="$WORK/bus/bus.conf" --nofork --nopidfile 2>"$WORK/bus/log" &
BUS_PID=$!
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$WORK/bus/socket"
for _ in $(seq 100); do [ -S "$WORK/bus/socket" ] && break; sleep 0.05; done

# phases: one `sysconfd apply --once` on a fresh namespace with the engine's
# phase clock on; each phase's microseconds go to phase-NAME.us.
PHASES=(validate "observe and render" plan journal run verify commit)
phases() {
    "$WORK/fresh.sh"
    SYSCONFD_LOG=debug $SYSCONFD_APPLY 2>&1 | sed 's/\x1b\[[0-9;]*m//g' |
        sed -n 's/.*apply phase done phase="\([^"]*\)" us=\([0-9]*\).*/\1\t\2/p' >"$WORK/phases.tsv"
    local p
    for p in "${PHASES[@]}"; do
        awk -F'\t' -v p="$p" '$1 == p { print $2 }' "$WORK/phases.tsv" >>"$WORK/phase-${p// /_}.us"
    done
}

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

    for ((p = 0; p < RUNS; p++)); do phases; done
    check_applied "sysconfd apply --once (phases)"

    time_ms dbus "$WORK/daemon.sh" "$DBUS_APPLY"
    check_applied "appliance config apply"
    sleep 1
    OUT=$($DBUS_APPLY 2>&1)
    grep -q "nothing to do" <<<"$OUT" || { echo "network.sh: appliance config re-apply planned changes: $OUT" >&2; exit 1; }
    time_ms dbus_noop "" "$DBUS_APPLY"
    stop_daemon
    time_ms entry "" "ip netns exec $NS true"

    time_ms ip "$WORK/fresh.sh" "ip netns exec $NS ip -batch $WORK/ip.batch"
    check_applied "ip -batch"
}
for ((r = 0; r < ROUNDS; r++)); do round; done

# ifupdown, thirty times slower, is timed in one round of its own.
time_ms ifupdown "$WORK/fresh.sh" "ip netns exec $NS ifup -a --no-scripts -i $WORK/interfaces --state-dir $WORK/ifstate"
check_applied ifupdown
settle sysconfd sysconfd_noop dbus dbus_noop entry ip ifupdown

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { printf '  %-36s %10s %14s\n' "$1" "${MS[$2]}" "$(ratio "${MS[$2]}" "${MS[ip]}")"; }

echo "network apply: $LINKS veth links, each address + MTU + route; median of $ROUNDS rounds of $RUNS runs (hyperfine), fresh namespace each"
printf '  %-36s %10s %14s\n' "method" "time (ms)" "vs ip -batch"
row "sysconfd apply --once (all of it)" sysconfd
row "appliance config apply (D-Bus)" dbus
row "ip -batch" ip
row "ifupdown ifup -a --no-scripts" ifupdown
row "sysconfd apply --once no-op" sysconfd_noop
row "appliance config apply no-op" dbus_noop
printf '  %-36s %10s\n' "(ip netns exec true: entry cost)" "${MS[entry]}"
echo "  ifupdown / sysconfd: $(ratio "${MS[ifupdown]}" "${MS[sysconfd]}"); ifupdown / appliance config apply: $(ratio "${MS[ifupdown]}" "${MS[dbus]}") (ifupdown: one round)"
echo "  inside sysconfd apply --once, by the engine's phase clock (median of $((ROUNDS * RUNS)) runs, ms):"
line="   "
for p in "${PHASES[@]}"; do
    line+=" $p $(sort -n "$WORK/phase-${p// /_}.us" | awk '{ v[NR] = $1 } END { printf "%.2f", (NR ? v[int((NR + 1) / 2)] : 0) / 1000 }');"
done
echo "${line%;}"
echo "  (observe = links, files, daemons read through the OS seam; run = the netlink changes, the files and chronyd -p; verify = the machine read back; commit = the generation recorded)"
