#!/usr/bin/env bash
# make demo: a simulated telbox on this machine.
#
# The box runs in its own network namespace (its eth0 is one end of a veth
# pair whose other end sits in a "LAN" namespace), sysconfd answers on a
# private D-Bus with the project's policy file, and every file it writes
# lands under a scratch root. Nothing on the host is touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release
work=$(mktemp -d /tmp/telbox-demo.XXXXXX)
chmod 755 "$work"
ns=telbox-demo-$$
lan=telbox-lan-$$
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$lan" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "validating the example configurations"
"$bin/appliance" config validate examples/*.toml

step "what an invalid file looks like"
sed -e 's/^timezone = /timezon = /' -e 's/^gateway = .*/gateway = "192.168.77.1"/' \
    -e 's/^pool_end = .*/pool_end = "192.168.1.50"/' examples/minimal.toml > "$work/bad.toml"
"$bin/appliance" config validate "$work/bad.toml" || echo "(exit status $?: invalid, nothing applied)"

step "the box: network namespace $ns, eth0 wired to a LAN namespace"
ip netns add "$ns"
ip netns add "$lan"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name lan0 netns "$lan"
ip -n "$lan" link set lan0 up
ip -n "$lan" link set lo up

step "private system bus with the telbox policy"
mkdir -p "$work/bus/system.d"
cp buildroot-overlay/rootfs/usr/share/dbus-1/system.d/org.telbox.Sysconfd1.conf "$work/bus/system.d/"
sed -e "s#@SOCKET@#$work/bus/socket#" -e "s#@POLICY@#$work/bus/system.d#" tests/demo/bus.conf.in > "$work/bus/bus.conf"
dbus-daemon --config-file="$work/bus/bus.conf" --nofork --nopidfile 2>"$work/bus/log" &
pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus/socket"
for _ in $(seq 100); do [ -S "$work/bus/socket" ] && break; sleep 0.05; done

step "simulated telephony cards under the scratch root (sysfs and /proc as the DAHDI drivers lay them out)"
mkdir -p "$work/root"
"$bin/dahdi-fixture" --root "$work/root" mixed
"$bin/hwmgr" --root "$work/root" scan

step "sysconfd over the scratch root $work/root"
ip netns exec "$ns" "$bin/sysconfd" --root "$work/root" > "$work/sysconfd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do "$bin/appliance" status >/dev/null 2>&1 && break; sleep 0.05; done
"$bin/appliance" wizard discover

step "the cards sysconfd sees, and the [telephony] section it proposes for them"
"$bin/appliance" telephony hardware
"$bin/appliance" telephony propose > "$work/telephony.toml"
cat "$work/telephony.toml"

step "the box: examples/minimal.toml plus that telephony section; its plan is refused while the TC400 lacks its firmware"
cat examples/minimal.toml "$work/telephony.toml" > "$work/box.toml"
"$bin/appliance" config plan "$work/box.toml" || echo "(exit status $?: nothing applied)"

step "the firmware those cards need; stand-in archives on a \"USB key\" (the vendor's cannot be fetched here)"
"$bin/appliance" firmware needed
"$bin/firmware-bundle" --out "$work/usb" --root "$work/root" digium-tc400m digium-oct6114-128 digium-vpmoct032
"$bin/appliance" firmware install "$work/usb"
"$bin/appliance" firmware list

step "the same box planned again, then applied"
"$bin/appliance" config plan "$work/box.toml"
"$bin/appliance" config apply "$work/box.toml"

step "a second apply of the same file changes nothing"
"$bin/appliance" config apply "$work/box.toml"

step "the network, and the DAHDI commands sysconfd ran (recorded under the scratch root)"
"$bin/appliance" network show
cat "$work/root/var/log/telbox/commands.log"
"$bin/appliance" telephony spans

step "an Aastra phone (MAC 00:08:5d:...) on the LAN asks for an address"
ip -n "$lan" link set lan0 address 00:08:5d:12:34:56
mkdir -p "$work/phone"
timeout 20 ip netns exec "$lan" dhclient -1 -4 -sf /bin/true -lf "$work/phone/leases" -pf "$work/phone/pid" lan0 \
    && grep -E "fixed-address|option (routers|domain-name-servers|ntp-servers)" "$work/phone/leases" | sort -u \
    || echo "(no lease within 20 s)"
[ -f "$work/phone/pid" ] && kill "$(cat "$work/phone/pid")" 2>/dev/null || true
"$bin/appliance" dhcp leases

step "the box's NTP server"
"$bin/appliance" ntp status || true

step "a change applied with a 3 s confirm timeout, left unconfirmed"
sed 's/^hostname = .*/hostname = "trial"/' "$work/box.toml" > "$work/trial.toml"
"$bin/appliance" config apply --confirm-timeout 3 "$work/trial.toml"
"$bin/appliance" status
sleep 4

step "status and history"
"$bin/appliance" status
"$bin/appliance" config history

step "files sysconfd wrote under the scratch root"
(cd "$work/root" && find etc -type f | sort)

step "a simulated Berofos failover switch, driven by appliance berofos"
BIN=$bin ./tests/demo/berofos.sh

step "done"
