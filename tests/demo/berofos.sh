#!/usr/bin/env bash
# A simulated Berofos failover switch on loopback, driven by `appliance berofos`:
# status, relays to master (A--B) then slave (A--D), a watchdog kick, status again.
# BIN overrides where the binaries are (default target/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${BIN:-target/release}
tmp=$(mktemp -d)
sim_pid=
cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# What the simulator itself says about its relay and the kicks it received,
# once its state file shows RELAY and KICKS (it is rewritten within 0.1 s).
sim_state() {
	local relay kicks
	for _ in $(seq 20); do
		relay=$(grep -o '"relay": "[^"]*"' "$tmp/state.json" | cut -d'"' -f4 || true)
		kicks=$(grep -o '"kicks": [0-9]*' "$tmp/state.json" | grep -o '[0-9]*$' || true)
		[ "$relay $kicks" = "$1 $2" ] && break
		sleep 0.1
	done
	echo "   (simulator: relay $relay, kicks received $kicks)"
}

echo "== Berofos failover switch (simulated)"
printf 'demo-secret\n' >"$tmp/fos.pw"
chmod 600 "$tmp/fos.pw"
# Port 0: the simulator picks free ports and prints them on its first line.
"$bin/berofos-sim" --bind 127.0.0.1 --udp-port 0 --http-port 0 \
	--login admin:demo-secret --state-file "$tmp/state.json" >"$tmp/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 50); do
	grep -q '^berofos-sim:' "$tmp/sim.out" && break
	kill -0 "$sim_pid" 2>/dev/null || { cat "$tmp/sim.out"; exit 1; }
	sleep 0.1
done
line=$(head -n1 "$tmp/sim.out")
[[ $line =~ UDP\ 127\.0\.0\.1:([0-9]+),\ HTTP\ 127\.0\.0\.1:([0-9]+) ]] || { echo "simulator did not start: $line"; exit 1; }
udp=${BASH_REMATCH[1]} http=${BASH_REMATCH[2]}
echo "$line"
dev=(--host 127.0.0.1 --udp-port "$udp" --http-port "$http" --password-file "$tmp/fos.pw" --timeout 2)

echo
echo "-- appliance berofos scan --host 127.0.0.1"
"$bin/appliance" berofos scan --host 127.0.0.1 --udp-port "$udp" --timeout 2
echo
echo "-- appliance berofos status"
"$bin/appliance" berofos status "${dev[@]}"
echo
echo "-- a wrong password is refused"
printf 'wrong\n' >"$tmp/wrong.pw"
"$bin/appliance" berofos status --host 127.0.0.1 --http-port "$http" --password-file "$tmp/wrong.pw" 2>&1 ||
	echo "(exit $? as expected)"
echo
echo "-- appliance berofos set-mode master"
"$bin/appliance" berofos set-mode master "${dev[@]}"
sim_state A-B 0
echo "-- appliance berofos set-mode slave"
"$bin/appliance" berofos set-mode slave "${dev[@]}"
sim_state A-D 0
echo "-- appliance berofos kick"
"$bin/appliance" berofos kick "${dev[@]}"
sim_state A-D 1
echo
echo "-- appliance berofos status --json (fos1 from a bnfos.conf)"
printf '\n[fos1]\nhost = 127.0.0.1\nlogin = admin:demo-secret\n' >"$tmp/bnfos.conf"
"$bin/appliance" berofos status --json --device fos1 --conf "$tmp/bnfos.conf" \
	--udp-port "$udp" --http-port "$http"
