#!/bin/bash
# check.sh: what `make buildroot-check` verifies of the root filesystem
# overlay and the Buildroot external tree on a machine without Buildroot.
#
#   BIN_DIR    the workspace's built binaries (default: target/debug)
#   DOCS_DIR   where the generated man pages and completions go
#              (default: target/telbox-docs)
#   BUILDROOT  a Buildroot checkout; when set, the tree is also loaded by
#              that Buildroot (defconfig, check-package, printvars)
#
# Each check prints one line; the script exits non-zero if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$repo/target}
bin_dir=${BIN_DIR:-$target/debug}
docs_dir=${DOCS_DIR:-$target/telbox-docs}
overlay=$here/rootfs
units=$overlay/usr/lib/systemd/system

passed=0
failed=0
pids=()
work=$(mktemp -d /tmp/telbox-check.XXXXXX)
chmod 0755 "$work"
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

section() { printf '\n== %s\n' "$*"; }
pass() {
	passed=$((passed + 1))
	printf '  ok    %s\n' "$*"
}
fail() {
	failed=$((failed + 1))
	printf '  FAIL  %s\n' "$*"
}
# Prints a command's output indented, for a failure's reason.
indent() { sed 's/^/          /'; }

# --- the units -------------------------------------------------------------

overlay_units() {
	find "$units" -maxdepth 1 \( -name '*.service' -o -name '*.mount' -o -name '*.socket' -o -name '*.timer' \) \
		-type f -printf '%f\n' | sort
}

# A root tree as the image would have it: the host's systemd units (standing
# in for Buildroot's systemd, dbus and udev), the overlay, the workspace's
# binaries where telbox.mk installs them, and the generated documentation.
stage_root() {
	stage=$work/root
	mkdir -p "$stage/usr/lib/systemd" "$stage/usr/bin" "$stage/usr/sbin" "$stage/usr/share"
	# Merged /usr, as BR2_ROOTFS_MERGED_USR lays it out.
	ln -s usr/bin "$stage/bin"
	ln -s usr/sbin "$stage/sbin"
	ln -s usr/lib "$stage/lib"
	cp -a /usr/lib/systemd/system "$stage/usr/lib/systemd/"
	cp -a /usr/lib/sysusers.d "$stage/usr/lib/"
	cp -a "$overlay/." "$stage/"
	local b
	for b in $(mk_var TELBOX_BINARIES_BIN); do
		install -m 0755 "$bin_dir/$b" "$stage/usr/bin/$b"
	done
	for b in $(mk_var TELBOX_BINARIES_SBIN); do
		install -m 0755 "$bin_dir/$b" "$stage/usr/sbin/$b"
	done
	cp -a "$docs_dir/." "$stage/usr/share/"
	mkdir -p "$stage/usr/share/doc/telbox"
	for b in $(mk_var TELBOX_DOCS); do
		install -m 0644 "$repo/$b" "$stage/usr/share/doc/telbox/"
	done
	# Programs the units run that other Buildroot packages install.
	install -m 0755 "$(command -v systemd-tmpfiles)" "$stage/usr/bin/systemd-tmpfiles"
	install -m 0755 /usr/bin/kill "$stage/usr/bin/kill"
	install -m 0755 "$(command -v kea-dhcp4)" "$stage/usr/sbin/kea-dhcp4"
	install -m 0755 "$(command -v keepalived)" "$stage/usr/sbin/keepalived"
}

# The value of a variable in package/telbox/telbox.mk (a plain `NAME = words`).
mk_var() {
	sed -n "s/^$1 *= *//p" "$here/package/telbox/telbox.mk"
}

check_docs() {
	section "man pages and completions, generated from the clap definitions"
	if ! out=$("$here/gen-docs.sh" "$bin_dir" "$docs_dir" 2>&1); then
		fail "gen-docs.sh $bin_dir $docs_dir"
		indent <<<"$out"
		return
	fi
	local pages
	pages=$(find "$docs_dir/man" -name '*.[18]' | wc -l)
	pass "$pages man pages and $(find "$docs_dir/bash-completion" "$docs_dir/zsh" -type f | wc -l) completions in $docs_dir"
	local page
	for page in man1/appliance.1 man1/hwmgr.1 man8/sysconfd.8 man8/telbox-wizard.8; do
		local text
		if text=$(MANWIDTH=80 man -l "$docs_dir/man/$page" 2>&1) && grep -q '^NAME' <<<"$text"; then
			pass "man -l $page renders: $(sed -n '/^NAME/{n;p;q}' <<<"$text" | sed 's/^ *//' | cut -c1-60)…"
		else
			fail "man -l $page"
			indent <<<"$text"
		fi
	done
	local b
	for b in appliance hwmgr sysconfd telbox-wizard; do
		local reg
		reg=$(bash -c "source '$docs_dir/bash-completion/completions/$b'; complete -p $b" 2>&1)
		if grep -q -- "-F _${b//-/__} $b\$" <<<"$reg"; then
			pass "bash: $reg"
		else
			fail "bash completion of $b is not registered"
			indent <<<"$reg"
		fi
		if head -n1 "$docs_dir/zsh/site-functions/_$b" | grep -qx "#compdef $b"; then
			pass "zsh: _$b starts with #compdef $b"
		else
			fail "zsh completion _$b has no #compdef line"
		fi
	done
}

check_units() {
	section "systemd units (systemd-analyze $(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), --root of a staged tree)"
	stage_root
	local u out
	for u in $(overlay_units); do
		# Any output at all (unknown keys, missing programs or man pages,
		# dependencies not found) counts as a failure.
		if out=$(cd "$stage" && MANPATH=$stage/usr/share/man:/usr/share/man systemd-analyze verify \
			--root="$stage" "usr/lib/systemd/system/$u" 2>&1) && [ -z "$out" ]; then
			pass "systemd-analyze verify $u"
		else
			fail "systemd-analyze verify $u"
			indent <<<"$out"
		fi
	done

	# Files the units and the bus activation file name.
	local ref refs=() absent=()
	mapfile -t refs < <(find "$units" -maxdepth 1 -type f \( -name '*.service' -o -name '*.mount' \) -exec cat {} + |
		sed -n 's/^Documentation=.*file:\([^ ]*\).*/\1/p' | sort -u)
	refs+=("$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$overlay"/usr/share/dbus-1/system-services/*.service)")
	for ref in "${refs[@]}"; do
		[ -e "$stage$ref" ] || absent+=("$ref")
	done
	if [ ${#absent[@]} -eq 0 ]; then
		pass "the files the units' Documentation= and the bus activation's Exec= name are installed: ${refs[*]}"
	else
		fail "named but not installed: ${absent[*]}"
	fi

	local link dangling=()
	while IFS= read -r link; do
		[ -e "$stage/${link#"$overlay"/}" ] || dangling+=("${link#"$overlay"/} -> $(readlink "$link")")
	done < <(find "$overlay" -type l)
	if [ ${#dangling[@]} -eq 0 ]; then
		pass "every symbolic link of the overlay resolves in the staged tree ($(find "$overlay" -type l -printf '%f -> %l ' ))"
	else
		fail "dangling links: ${dangling[*]}"
	fi

	local block_a block_b
	block_a=$(sandbox_block "$units/sysconfd.service")
	block_b=$(sandbox_block "$units/telbox-firstboot.service")
	if [ -n "$block_a" ] && [ "$block_a" = "$block_b" ]; then
		pass "telbox-firstboot.service runs sysconfd in the same sandbox as sysconfd.service ($(grep -c '^[A-Z]' <<<"$block_a") settings)"
	else
		fail "the sandbox blocks of sysconfd.service and telbox-firstboot.service differ"
		diff <(echo "$block_a") <(echo "$block_b") | indent
	fi

	for u in sysconfd.service telbox-firstboot.service telbox-wizard.service; do
		out=$(systemd-analyze security --offline=yes --root="$stage" "$u" 2>&1)
		local score
		score=$(sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' <<<"$out")
		if [ -n "$score" ] && awk -v s="${score%% *}" 'BEGIN { exit !(s <= 4.5) }'; then
			pass "systemd-analyze security $u: exposure $score (at most 4.5 allowed)"
		else
			fail "systemd-analyze security $u: exposure ${score:-unknown} (at most 4.5 allowed)"
			grep '✗' <<<"$out" | indent
		fi
	done

	out=$(systemctl --root="$stage" preset-all 2>&1)
	local missing=()
	for u in data.mount var-lib-telbox.mount var-log-journal.mount telbox-firstboot.service sysconfd.service telbox-wizard.service; do
		systemctl --root="$stage" is-enabled --quiet "$u" 2>/dev/null || missing+=("$u")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		pass "systemctl preset-all enables the mounts, telbox-firstboot, sysconfd and telbox-wizard"
	else
		fail "systemctl preset-all left disabled: ${missing[*]}"
		indent <<<"$out"
	fi
}

# The lines between the sandbox markers of a unit.
sandbox_block() {
	sed -n '/^# --- sandbox/,/^# --- end of sandbox/p' "$1"
}

check_files() {
	section "tmpfiles.d, sysusers.d, udev rules, journald"
	local out
	out=$(systemd-sysusers --root="$stage" 2>&1)
	if grep -q '^telbox-admin:x:[0-9]*:' "$stage/etc/group" 2>/dev/null; then
		pass "systemd-sysusers creates the telbox-admin group"
	else
		fail "systemd-sysusers did not create telbox-admin"
		indent <<<"$out"
	fi
	if grep -q '^telbox-wizard:x:[0-9]*:[0-9]*:[^:]*:/var/lib/telbox-wizard:/usr/sbin/nologin$' "$stage/etc/passwd" 2>/dev/null; then
		pass "systemd-sysusers creates the telbox-wizard user (no login shell)"
	else
		fail "systemd-sysusers did not create telbox-wizard"
		indent <<<"$out"
	fi
	local status=0
	out=$(systemd-tmpfiles --root="$stage" --create "$stage/usr/lib/tmpfiles.d/telbox.conf" 2>&1) || status=$?
	local path want got bad=()
	for path in /var/lib/telbox:700 /etc/telbox/secrets:700 /data/telbox:700 /data/journal:2755; do
		want=${path#*:}
		got=$(stat -c %a "$stage${path%%:*}" 2>/dev/null)
		[ "$got" = "$want" ] || bad+=("${path%%:*} is ${got:-missing}, not $want")
	done
	if [ "$status" -eq 0 ] && [ ${#bad[@]} -eq 0 ] && [ -z "$out" ]; then
		pass "systemd-tmpfiles --create: /var/lib/telbox and /etc/telbox/secrets 0700, the data partition's directories"
	else
		fail "systemd-tmpfiles: ${bad[*]}"
		indent <<<"$out"
	fi

	local rules=$overlay/usr/lib/udev/rules.d/70-telbox-dahdi.rules sub missing=()
	for sub in dahdi dahdi_devices dahdi_spans; do
		grep -q "^SUBSYSTEM==\"$sub\", TAG+=\"systemd\", TAG+=\"telbox-dahdi\"\$" "$rules" || missing+=("$sub")
	done
	# Every rule line is comma-separated KEY op "value" pairs.
	local malformed
	malformed=$(grep -vE '^(#.*|)$' "$rules" |
		grep -vE '^[A-Z_]+(\{[^}]*\})?(==|!=|\+=|-=|:=|=)"[^"]*"(, *[A-Z_]+(\{[^}]*\})?(==|!=|\+=|-=|:=|=)"[^"]*")*$')
	if [ ${#missing[@]} -eq 0 ] && [ -z "$malformed" ]; then
		pass "udev rules tag dahdi, dahdi_devices and dahdi_spans devices with systemd and telbox-dahdi"
	else
		fail "udev rules: untagged ${missing[*]:-none}"
		indent <<<"$malformed"
	fi

	out=$(systemd-analyze cat-config --root="$stage" systemd/journald.conf 2>&1)
	if grep -q '^Storage=persistent' <<<"$out" && grep -q '^SystemMaxUse=' <<<"$out"; then
		pass "journald: $(grep -E '^(Storage|SystemMaxUse|SystemKeepFree|RuntimeMaxUse)=' <<<"$out" | tr '\n' ' ')"
	else
		fail "journald drop-in not seen by systemd-analyze cat-config"
		indent <<<"$out"
	fi
}

check_config() {
	section "the default configuration and the first-boot seed"
	local out
	if out=$("$bin_dir/appliance" config validate "$overlay/etc/telbox/appliance.toml" 2>&1); then
		pass "appliance config validate rootfs/etc/telbox/appliance.toml: ${out##* }"
	else
		fail "appliance config validate rootfs/etc/telbox/appliance.toml"
		indent <<<"$out"
	fi

	# The first-boot script against a scratch tree: the seed is applied once,
	# the outcome recorded, and a second boot leaves it alone.
	local box=$work/firstboot seed=$work/seed.toml
	mkdir -p "$box"
	cp "$repo/examples/minimal.toml" "$seed"
	local result=$box/var/lib/telbox/firstboot-seed.result
	local script=$overlay/usr/libexec/telbox/firstboot-seed
	if out=$(PATH=$bin_dir:$PATH "$script" "$seed" "$result" --root "$box" --no-network 2>&1) &&
		grep -qx 'outcome: applied' "$result" 2>/dev/null && [ -s "$box/etc/hostname" ]; then
		pass "firstboot-seed applies the seed once and records: $(grep '^generation' "$result")"
	else
		fail "firstboot-seed on a scratch tree"
		indent <<<"$out"
	fi
	out=$(PATH=$bin_dir:$PATH "$script" "$seed" "$result" --root "$box" --no-network 2>&1)
	if grep -q 'handled on an earlier boot' <<<"$out"; then
		pass "firstboot-seed a second time leaves the seed alone ($(head -n1 <<<"$out" | sed 's/:$//'))"
	else
		fail "firstboot-seed ran the seed a second time"
		indent <<<"$out"
	fi
}

# sysconfd under the unit's capability bounding set, in a network and UTS
# namespace of its own: a network apply with the host name set must work,
# and the same without CAP_NET_ADMIN must not (so the set is what matters).
check_caps() {
	section "sysconfd within the unit's CapabilityBoundingSet"
	local caps keep
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$units/sysconfd.service")
	keep=$(tr '[:upper:]' '[:lower:]' <<<"$caps" | sed 's/cap_/+/g; s/ /,/g')
	local seed=$work/caps.toml
	cat >"$seed" <<-'EOF'
		[system]
		hostname = "capsbox"
		domain = "example.com"

		[[network.interface]]
		name = "eth0"
		role = "voip"
		address = "10.250.0.2/24"
		gateway = "10.250.0.1"
	EOF
	local out
	# shellcheck disable=SC2016 # expanded by the inner shell
	local inner='ip link add eth0 type veth peer name eth1 && ip link set eth1 up &&
		setpriv --inh-caps=-all --bounding-set="-all,$1" -- \
			"$2" --root "$3" --set-hostname true apply --once --config "$4" &&
		ip -4 -o addr show dev eth0 && ip -4 route show default && cat /proc/sys/kernel/hostname'
	if out=$(unshare --net --uts -- bash -c "$inner" caps "$keep" "$bin_dir/sysconfd" "$work/caps-a" "$seed" 2>&1) &&
		grep -q 'inet 10.250.0.2/24' <<<"$out" && grep -q 'default via 10.250.0.1' <<<"$out" &&
		[ "$(tail -n1 <<<"$out")" = capsbox ]; then
		pass "with ${caps// /, } only: address, default route and host name applied"
	else
		fail "sysconfd could not apply within $caps"
		indent <<<"$out"
	fi
	local fewer=${keep/+net_admin,/}
	if out=$(unshare --net --uts -- bash -c "$inner" caps "$fewer" "$bin_dir/sysconfd" "$work/caps-b" "$seed" 2>&1); then
		fail "sysconfd applied the network without CAP_NET_ADMIN: the bounding set is not what limits it"
		indent <<<"$out"
	else
		pass "without CAP_NET_ADMIN the same apply fails: $(grep -m1 -o 'sysconfd: .*' <<<"$out" | cut -c1-90)"
	fi
	fewer=${keep/+sys_admin,/}
	if out=$(unshare --net --uts -- bash -c "$inner" caps "$fewer" "$bin_dir/sysconfd" "$work/caps-c" "$seed" 2>&1); then
		fail "sysconfd set the host name without CAP_SYS_ADMIN"
		indent <<<"$out"
	else
		pass "without CAP_SYS_ADMIN it fails at the host name: $(grep -m1 -o 'sysconfd: .*' <<<"$out" | cut -c1-90)"
	fi
}

# --- the D-Bus policy ------------------------------------------------------

# Debian's own system.conf, listening in a scratch directory, with no
# activation and no policy of the host: its relative <includedir>system.d
# then holds only the overlay's policy file.
bus_config() {
	sed -e "s|<listen>[^<]*</listen>|<listen>unix:path=$1</listen>|" \
		-e '/<fork\/>/d' -e '/<pidfile>/d' \
		-e '/<standard_system_servicedirs\/>/d' -e '/<servicehelper>/d' \
		-e '/<include.*>\/etc\/dbus-1\//d' \
		/usr/share/dbus-1/system.conf
}

# bus_call USER-SPEC... -- DBUS-SEND-ARGS...: dbus-send on the private bus as
# another user (setpriv options before --).
bus_call() {
	local who=()
	while [ "$1" != "--" ]; do
		who+=("$1")
		shift
	done
	shift
	setpriv "${who[@]}" env DBUS_SYSTEM_BUS_ADDRESS="$address" \
		dbus-send --system --print-reply --reply-timeout=20000 "$@" 2>&1
}

check_bus() {
	section "D-Bus policy on a private dbus-daemon ($(dbus-daemon --version | head -n1))"
	local dir=$work/bus policy=$overlay/usr/share/dbus-1/system.d/org.telbox.Sysconfd1.conf
	mkdir -p "$dir/system.d"
	chmod 0755 "$dir"
	cp "$policy" "$dir/system.d/"
	bus_config "$dir/system_bus_socket" >"$dir/system.conf"
	dbus-daemon --config-file="$dir/system.conf" --nofork --nopidfile >"$dir/log" 2>&1 &
	pids+=($!)

	for _ in $(seq 100); do
		[ -S "$dir/system_bus_socket" ] && break
		sleep 0.05
	done
	address=unix:path=$dir/system_bus_socket
	if [ -S "$dir/system_bus_socket" ]; then
		pass "dbus-daemon accepts /usr/share/dbus-1/system.conf with only org.telbox.Sysconfd1.conf added"
	else
		fail "dbus-daemon did not start"
		indent <"$dir/log"
		return
	fi

	# The real sysconfd, as root, on a scratch tree.
	local box=$work/busbox
	mkdir -p "$box"
	DBUS_SYSTEM_BUS_ADDRESS=$address NO_COLOR=1 "$bin_dir/sysconfd" --root "$box" --no-network --services none \
		>"$dir/sysconfd.log" 2>&1 &
	pids+=($!)
	local owner=""
	for _ in $(seq 200); do
		owner=$(bus_call --reuid=0 -- --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.telbox.Sysconfd1 | sed -n 's/^ *boolean //p')
		[ "$owner" = true ] && break
		sleep 0.05
	done
	if [ "$owner" = true ]; then
		pass "root owns org.telbox.Sysconfd1 (sysconfd took it)"
	else
		fail "sysconfd did not take org.telbox.Sysconfd1"
		indent <"$dir/sysconfd.log"
		return
	fi

	local nobody=(--reuid=nobody --regid=nogroup --clear-groups)
	local admin=(--reuid=nobody --regid=nogroup --groups="$(getent group telbox-admin | cut -d: -f3)")
	local dest=(--dest=org.telbox.Sysconfd1 /org/telbox/Sysconfd1)
	local config
	config=$(cat "$repo/examples/minimal.toml")
	local out
	out=$(bus_call "${nobody[@]}" -- --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.RequestName string:org.telbox.Sysconfd1 uint32:0)
	expect_denied "nobody may not own org.telbox.Sysconfd1" "$out"
	out=$(bus_call "${nobody[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Status.Status)
	if grep -q '"version"' <<<"$out"; then
		pass "nobody may call Status.Status"
	else
		fail "nobody may call Status.Status"
		indent <<<"$out"
	fi
	out=$(bus_call "${nobody[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Ha.Status)
	if grep -q '"state"' <<<"$out"; then
		pass "nobody may call Ha.Status"
	else
		fail "nobody may call Ha.Status"
		indent <<<"$out"
	fi
	local member
	for member in Promote Demote; do
		out=$(bus_call "${nobody[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Ha.$member)
		expect_denied "nobody may not call Ha.$member" "$out"
	done
	out=$(bus_call "${nobody[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Config.Apply \
		string:"$config" uint64:0 uint32:0)
	expect_denied "nobody may not call Config.Apply" "$out"
	out=$(bus_call "${nobody[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Config.Rollback uint64:1)
	expect_denied "nobody may not call Config.Rollback" "$out"
	out=$(bus_call --reuid=0 -- "${dest[@]}" org.telbox.Sysconfd1.Config.Apply \
		string:"$config" uint64:0 uint32:0)
	if grep -q 'uint64 1' <<<"$out"; then
		pass "root may call Config.Apply (generation 1 applied on the scratch tree)"
	else
		fail "root may call Config.Apply"
		indent <<<"$out"
	fi
	out=$(bus_call "${admin[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Config.Apply \
		string:"$config" uint64:1 uint32:0)
	if grep -q 'uint64 1' <<<"$out"; then
		pass "a telbox-admin member may call Config.Apply (nothing to do: generation 1 in force)"
	else
		fail "a telbox-admin member may call Config.Apply"
		indent <<<"$out"
	fi

	# The wizard's user: the Wizard methods and Validate, nothing else.
	if getent passwd telbox-wizard >/dev/null; then
		local wizard=(--reuid=telbox-wizard --regid="$(id -g telbox-wizard)" --clear-groups)
		out=$(bus_call "${wizard[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Wizard.Discover)
		if grep -q '"interfaces"' <<<"$out"; then
			pass "telbox-wizard may call Wizard.Discover"
		else
			fail "telbox-wizard may call Wizard.Discover"
			indent <<<"$out"
		fi
		out=$(bus_call "${wizard[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Config.Validate string:"$config")
		if grep -q 'boolean true' <<<"$out"; then
			pass "telbox-wizard may call Config.Validate"
		else
			fail "telbox-wizard may call Config.Validate"
			indent <<<"$out"
		fi
		out=$(bus_call "${wizard[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Config.Apply \
			string:"$config" uint64:1 uint32:0)
		expect_denied "telbox-wizard may not call Config.Apply" "$out"
		out=$(bus_call "${wizard[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Config.Confirm uint64:1)
		expect_denied "telbox-wizard may not call Config.Confirm" "$out"
		out=$(bus_call "${wizard[@]}" -- "${dest[@]}" org.telbox.Sysconfd1.Status.Status)
		expect_denied "telbox-wizard may not call Status.Status (only what the wizard needs)" "$out"
	else
		fail "no telbox-wizard user on this machine to check its policy with (make deps creates it)"
	fi
}

expect_denied() {
	if grep -q 'org.freedesktop.DBus.Error.AccessDenied' <<<"$2" && grep -q 'Rejected send message' <<<"$2"; then
		pass "$1 (the bus refuses it)"
	elif grep -q 'org.freedesktop.DBus.Error.AccessDenied' <<<"$2" && grep -q 'not allowed to own' <<<"$2"; then
		pass "$1 (the bus refuses it)"
	else
		fail "$1"
		indent <<<"$2"
	fi
}

# --- the external tree -----------------------------------------------------

check_tree() {
	section "BR2_EXTERNAL tree (external.desc, Config.in, external.mk, package/*)"
	local name
	name=$(sed -n 's/^name: *//p' "$here/external.desc")
	if [[ $name =~ ^[A-Za-z0-9_]+$ ]] && grep -q '^desc: .' "$here/external.desc"; then
		pass "external.desc: name $name, with a desc"
	else
		fail "external.desc needs 'name: [A-Za-z0-9_]+' and 'desc: ...'"
		return
	fi
	local var="BR2_EXTERNAL_${name}_PATH"
	if grep -qxF "include \$(sort \$(wildcard \$($var)/package/*/*.mk))" "$here/external.mk"; then
		pass "external.mk includes package/*/*.mk through \$($var)"
	else
		fail "external.mk does not include \$($var)/package/*/*.mk"
	fi

	local dir pkg upper sourced
	sourced=$(sed -n "s|^source \"\\\$$var/\\(.*\\)\"\$|\\1|p" "$here/Config.in")
	local f
	for f in $sourced; do
		[ -f "$here/$f" ] || fail "Config.in sources $f, which does not exist"
	done
	for dir in "$here"/package/*/; do
		pkg=$(basename "$dir")
		upper=$(tr 'a-z-' 'A-Z_' <<<"$pkg")
		local problems=()
		grep -qx "package/$pkg/Config.in" <<<"$sourced" || problems+=("not sourced by Config.in")
		grep -qx "config BR2_PACKAGE_$upper" "$dir/Config.in" 2>/dev/null ||
			problems+=("Config.in does not define BR2_PACKAGE_$upper")
		local mk=$dir/$pkg.mk
		if [ -f "$mk" ]; then
			local stray
			stray=$(grep -oE '^[A-Za-z0-9_]+ *(\+|\?|:)?=' "$mk" | sed 's/ *[+?:]*=$//' | grep -v "^${upper}_" | sort -u | tr '\n' ' ')
			[ -z "$stray" ] || problems+=("$pkg.mk sets variables without the ${upper}_ prefix: $stray")
			grep -qE "^define ${upper}_[A-Z0-9_]+\$" "$mk" || grep -qE "^${upper}_" "$mk" || problems+=("$pkg.mk defines nothing")
			tail -n1 "$mk" | grep -qE '^\$\(eval \$\((generic|autotools|cmake|meson|cargo|python|golang|kconfig)-package\)\)$' ||
				problems+=("$pkg.mk does not end with \$(eval \$(...-package))")
			grep -qx "# $pkg" "$mk" || problems+=("$pkg.mk lacks the '# $pkg' header")
			local ref
			while IFS= read -r ref; do
				[ -f "$dir/$ref" ] || problems+=("$pkg.mk refers to $ref, which does not exist")
			done < <(grep -oE "\\\$\\(${upper}_PKGDIR\\)/[A-Za-z0-9._-]+" "$mk" | sed "s|.*)/||")
		else
			problems+=("no $pkg.mk")
		fi
		if [ ${#problems[@]} -eq 0 ]; then
			pass "package/$pkg: BR2_PACKAGE_$upper, $pkg.mk ($(tail -n1 "$mk" | sed 's/.*(\([a-z]*-package\)).*/\1/'))"
		else
			fail "package/$pkg: ${problems[*]}"
		fi
	done

	# telbox.mk: local site, the workspace's binaries and documents.
	local mk=$here/package/telbox/telbox.mk problems=()
	grep -qx 'TELBOX_SITE_METHOD = local' "$mk" || problems+=("SITE_METHOD is not local")
	grep -qxF "TELBOX_SITE = \$(BR2_EXTERNAL_TELBOX_PATH)/.." "$mk" || problems+=("SITE is not the workspace")
	grep -q 'TELBOX_PRE_BUILD_HOOKS += TELBOX_VENDOR_CRATES' "$mk" || problems+=("crates are not vendored")
	for f in $(mk_var TELBOX_DOCS); do
		[ -f "$repo/$f" ] || problems+=("TELBOX_DOCS: no $f")
	done
	for f in $(mk_var TELBOX_BINARIES_BIN) $(mk_var TELBOX_BINARIES_SBIN); do
		[ -x "$bin_dir/$f" ] || problems+=("no binary $f in $bin_dir")
	done
	if [ ${#problems[@]} -eq 0 ]; then
		pass "telbox.mk: SITE_METHOD = local on the workspace, crates vendored before the offline build, bin: $(mk_var TELBOX_BINARIES_BIN), sbin: $(mk_var TELBOX_BINARIES_SBIN)"
	else
		fail "telbox.mk: ${problems[*]}"
	fi
}

check_defconfig() {
	section "configs/telbox_x86_64_defconfig"
	local defconfig=$here/configs/telbox_x86_64_defconfig
	local known ours bad=() unknown=() line sym
	known=$(grep -v '^#' "$here/buildroot-symbols.txt")
	ours=$(sed -n 's/^config \(BR2_[A-Z0-9_]*\)$/\1/p' "$here"/package/*/Config.in)
	while IFS= read -r line; do
		case $line in
		'' | '# '*' is not set') ;;
		'#'*) continue ;;
		BR2_*=*) ;;
		*)
			bad+=("$line")
			continue
			;;
		esac
		sym=$(grep -oE 'BR2_[A-Z0-9_]+' <<<"$line" | head -n1)
		[ -z "$sym" ] && continue
		grep -qx "$sym" <<<"$known"$'\n'"$ours" || unknown+=("$sym")
		[[ $line =~ ^BR2_[A-Z0-9_]+=(y|\"[^\"]*\"|[0-9]+)$ || $line =~ ^#\ BR2_[A-Z0-9_]+\ is\ not\ set$ ]] || bad+=("$line")
	done <"$defconfig"
	while IFS= read -r sym; do
		grep -qx "$sym" <<<"$known"$'\n'"$ours" || unknown+=("$sym (package Config.in)")
	done < <(grep -ohE 'BR2_[A-Z0-9_]+' "$here"/package/*/Config.in | sort -u)
	if [ ${#bad[@]} -eq 0 ] && [ ${#unknown[@]} -eq 0 ]; then
		pass "$(grep -c '^BR2_' "$defconfig") settings, each a Buildroot 2026.05.1 symbol (buildroot-symbols.txt) or one of this tree"
	else
		fail "defconfig: malformed: ${bad[*]:-none}; unknown symbols: ${unknown[*]:-none}"
	fi

	local path missing=() named=()
	mapfile -t named < <(grep -oE "\\\$\\(BR2_EXTERNAL_TELBOX_PATH\\)/[^\" ]+" "$defconfig" | cut -d/ -f2-)
	for path in "${named[@]}"; do
		if [ -e "$here/$path" ]; then
			case $path in *.sh) [ -x "$here/$path" ] || missing+=("$path (not executable)") ;; esac
		else
			missing+=("$path")
		fi
	done
	if [ ${#missing[@]} -eq 0 ] && [ ${#named[@]} -gt 0 ]; then
		pass "the ${#named[@]} files and directories it names exist: ${named[*]}"
	else
		fail "defconfig names missing files: ${missing[*]}"
	fi

	local frag=$here/board/telbox/linux.fragment odd dup
	odd=$(grep -vE '^(#.*|)$' "$frag" | grep -vE '^CONFIG_[A-Z0-9_]+=(y|m|n|"[^"]*"|[0-9]+)$')
	dup=$(grep -oE '^CONFIG_[A-Z0-9_]+' "$frag" | sort | uniq -d)
	if [ -z "$odd$dup" ] && grep -qx 'CONFIG_VLAN_8021Q=m' "$frag" && grep -qx 'CONFIG_BONDING=m' "$frag"; then
		pass "linux.fragment: $(grep -c '^CONFIG_' "$frag") options, 802.1Q and bonding among them"
	else
		fail "linux.fragment: malformed ${odd:-none}, repeated ${dup:-none}"
	fi
}

# post-build.sh and post-image.sh on stand-ins for Buildroot's outputs: a
# tiny ext4 root with a kernel file, GRUB's EFI tree; genimage lays out the
# disk and the partition table is read back.
check_image() {
	section "board/telbox: post-build.sh, post-image.sh, genimage.cfg ($(genimage --version 2>&1 | head -n1))"
	local img=$work/image
	local target=$img/target binaries=$img/images host=$img/host build=$img/build
	mkdir -p "$target" "$binaries/efi-part/EFI/BOOT" "$host/bin" "$host/sbin" "$build" "$img/rootfs/boot"
	printf 'stand-in for BOOTX64.EFI\n' >"$binaries/efi-part/EFI/BOOT/bootx64.efi"
	printf 'stand-in for bzImage\n' >"$img/rootfs/boot/bzImage"
	mkdir -p "$target/usr/lib/telbox/share/man/man8"
	printf '.TH stand-in 8\n' >"$target/usr/lib/telbox/share/man/man8/sysconfd.8"
	local t
	for t in genimage mkdosfs mcopy mmd mke2fs e2fsck tune2fs; do
		ln -s "$(command -v "$t")" "$host/$( [ "$t" = genimage ] || [ "$t" = mcopy ] || [ "$t" = mmd ] && echo bin || echo sbin)/$t"
	done
	mke2fs -q -t ext4 -L rootfs -d "$img/rootfs" "$binaries/rootfs.ext4" 16M >/dev/null 2>&1

	local out
	if ! out=$(BINARIES_DIR=$binaries TARGET_DIR=$target "$here/board/telbox/post-build.sh" "$target" 2>&1); then
		fail "post-build.sh"
		indent <<<"$out"
		return
	fi
	if [ -f "$binaries/efi-part/EFI/BOOT/grub.cfg" ] && [ "$(wc -c <"$binaries/efi-part/EFI/BOOT/grubenv")" -eq 1024 ] &&
		[ -f "$target/usr/share/man/man8/sysconfd.8" ] && [ -d "$target/data" ]; then
		pass "post-build.sh: grub.cfg and a 1024-byte grubenv on the ESP tree, documentation back in /usr/share, /data"
	else
		fail "post-build.sh did not leave grub.cfg, grubenv, /usr/share/man and /data"
	fi

	if ! out=$(cd "$img" && BINARIES_DIR=$binaries HOST_DIR=$host BUILD_DIR=$build "$here/board/telbox/post-image.sh" 2>&1); then
		fail "post-image.sh (genimage)"
		indent <<<"$out"
		return
	fi
	pass "post-image.sh: $(tail -n1 <<<"$out")"

	local table parts
	table=$(sfdisk --json "$binaries/telbox.img" 2>&1)
	parts=$(grep -oE '"name":"[^"]*"' <<<"${table//\": \"/\":\"}" | cut -d'"' -f4 | tr '\n' ' ')
	if [ "$parts" = "boot root-a root-b data " ] &&
		[ "$(grep -ic 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B' <<<"$table")" -eq 1 ] &&
		[ "$(grep -ic '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709' <<<"$table")" -eq 2 ]; then
		pass "GPT of telbox.img: $parts(an EFI system partition, two x86-64 root slots, data)"
	else
		fail "GPT of telbox.img: partitions '$parts'"
		indent <<<"$table"
	fi
	local label_a label_b uuid_a uuid_b
	label_a=$(dumpe2fs -h "$binaries/rootfs.ext4" 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')
	label_b=$(dumpe2fs -h "$binaries/rootfs-b.ext4" 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')
	uuid_a=$(dumpe2fs -h "$binaries/rootfs.ext4" 2>/dev/null | sed -n 's/^Filesystem UUID: *//p')
	uuid_b=$(dumpe2fs -h "$binaries/rootfs-b.ext4" 2>/dev/null | sed -n 's/^Filesystem UUID: *//p')
	local features_a features_b
	features_a=$(dumpe2fs -h "$binaries/rootfs.ext4" 2>/dev/null | grep '^Filesystem features:')
	features_b=$(dumpe2fs -h "$binaries/rootfs-b.ext4" 2>/dev/null | grep '^Filesystem features:')
	if [ "$label_a" = root-a ] && [ "$label_b" = root-b ] && [ -n "$uuid_a" ] && [ "$uuid_a" != "$uuid_b" ] &&
		[ "$features_a" = "$features_b" ]; then
		pass "slot file systems: labels root-a and root-b, distinct UUIDs, the same features (nothing new for GRUB to read)"
	else
		fail "slot file systems: labels '$label_a' '$label_b', UUIDs '$uuid_a' '$uuid_b'"
	fi
	if out=$(mdir -b -i "$binaries/boot.vfat" ::/EFI/BOOT 2>&1) && grep -q grubenv <<<"$out" && grep -q grub.cfg <<<"$out"; then
		pass "boot.vfat holds $(xargs -n1 basename <<<"$out" | tr '\n' ' ')"
	else
		fail "boot.vfat lacks EFI/BOOT/grub.cfg or grubenv"
		indent <<<"$out"
	fi
}

# With a Buildroot checkout: the tree as that Buildroot reads it.
check_buildroot() {
	if [ -z "${BUILDROOT:-}" ]; then
		section "a Buildroot checkout (BUILDROOT=DIR): not given, skipped"
		return
	fi
	section "Buildroot $(sed -n 's/^export BR2_VERSION := //p' "$BUILDROOT/Makefile") at $BUILDROOT"
	local out=$work/br-out log
	if ! log=$(make -C "$BUILDROOT" O="$out" BR2_EXTERNAL="$here" telbox_x86_64_defconfig 2>&1); then
		fail "make telbox_x86_64_defconfig"
		indent <<<"$log"
		return
	fi
	local line dropped=()
	while IFS= read -r line; do
		case $line in '' | '# '*' is not set') ;; '#'*) continue ;; esac
		[ -z "$line" ] || grep -qxF "$line" "$out/.config" || dropped+=("$line")
	done <"$here/configs/telbox_x86_64_defconfig"
	if [ ${#dropped[@]} -eq 0 ]; then
		pass "make telbox_x86_64_defconfig keeps every setting (none dropped for an unmet dependency)"
	else
		fail "kconfig dropped: ${dropped[*]}"
	fi
	local sym missing=()
	while IFS= read -r sym; do
		grep -rqE "^\s*(menu)?config $sym\b" "$BUILDROOT" --include='Config.in*' || missing+=("$sym")
	done < <(grep -v '^#' "$here/buildroot-symbols.txt")
	if [ ${#missing[@]} -eq 0 ]; then
		pass "every symbol of buildroot-symbols.txt is defined by this Buildroot"
	else
		fail "not defined by this Buildroot: ${missing[*]}"
	fi
	if /usr/bin/python3 -c 'import magic, flake8' 2>/dev/null; then
		log=$(cd "$BUILDROOT" && /usr/bin/python3 utils/check-package --br2-external -b \
			"$here"/package/*/* "$here/external.mk" "$here/Config.in" "$here"/configs/* "$here"/board/telbox/* 2>&1)
		if grep -q '^0 warnings generated' <<<"$log"; then
			pass "utils/check-package: $(tr '\n' ' ' <<<"$log")"
		else
			fail "utils/check-package"
			indent <<<"$log"
		fi
	else
		fail "utils/check-package needs Debian's python3-magic and python3-flake8 (make deps)"
	fi
	log=$(make -s -C "$BUILDROOT" O="$out" printvars VARS='TELBOX_SITE_METHOD TELBOX_FINAL_DEPENDENCIES' 2>&1)
	if grep -qx 'TELBOX_SITE_METHOD=local' <<<"$log" && grep -q '^TELBOX_FINAL_DEPENDENCIES=.*host-rustc' <<<"$log"; then
		pass "printvars: $(tr '\n' ' ' <<<"$log")"
	else
		fail "printvars TELBOX_*"
		indent <<<"$log"
	fi
}

# --- shell scripts ---------------------------------------------------------

check_shell() {
	section "shell scripts ($(shellcheck --version | sed -n 's/^version: /shellcheck /p'))"
	local f scripts=()
	while IFS= read -r f; do
		head -n1 "$f" | grep -qE '^#!(/usr)?/bin/(env )?(ba|da)?sh' && scripts+=("$f")
	done < <(find "$here" -type f ! -name '*.md' | sort)
	local out
	for f in "${scripts[@]}"; do
		if out=$(shellcheck -x "$f" 2>&1); then
			pass "shellcheck ${f#"$here"/}"
		else
			fail "shellcheck ${f#"$here"/}"
			indent <<<"$out"
		fi
		[ -x "$f" ] || fail "${f#"$here"/} is not executable"
	done
}

start=$(date +%s.%N)
check_docs
check_units
check_files
check_config
check_caps
check_bus
check_tree
check_defconfig
check_image
check_shell
check_buildroot
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

printf '\nbuildroot-check: %d checks passed, %d failed, in %s s\n' "$passed" "$failed" "$elapsed"
[ "$failed" -eq 0 ]
