#!/usr/bin/env python3
"""make image-test: boots the telbox image in QEMU (TCG) and checks, from
inside the guest, what the build machine's kernel cannot show.

  image/boot-test.py OUT [--release-image IMG] [--only PART,...]

OUT is the test image's directory (image/test-image.sh: telbox.img with the
command channel, boot/, pxe/, the ISOs); IMG the image a user gets, checked
for what must not be in it. Prints PASS/FAIL per check and the
boot-to-sysconfd-ready times; exits 1 if any check failed."""

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_vm import Vm, VmError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(HERE, "test", "seed.toml")
SEED_SERVICES = os.path.join(HERE, "test", "seed-services.toml")
SEED_REFUSED = os.path.join(HERE, "test", "seed-refused.toml")
WIZARD_DRIVER = os.environ.get("WIZARD_DRIVER", "")
NETDIFF_COUNT = int(os.environ.get("NETDIFF_COUNT", "200"))
NETDIFF_SEED = int(os.environ.get("NETDIFF_SEED", str(random.SystemRandom().randrange(1, 2**31))))
VLAN_CHANGE = os.path.join(HERE, "test", "vlan-change.toml")
BOOT_TIMEOUT = int(os.environ.get("BOOT_TIMEOUT", "240"))

failures = []
passes = []
times = {}


def check(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail and not ok else ""))
    if detail and ok and os.environ.get("VERBOSE"):
        print("      " + detail.replace("\n", "\n      "))
    (passes if ok else failures).append(name)
    sys.stdout.flush()
    return ok


def sh(vm, script, timeout=60):
    rc, out = vm.run(script, timeout)
    return rc, out.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nics(n, forward=None):
    """n virtio NICs on user networking; `forward` maps guest ADDR:PORT
    strings to host ports on the first one (hostfwd)."""
    args = []
    for i in range(n):
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{port}-{guest}"
                      for guest, port in (forward or {}).items()) if i == 0 else ""
        args += ["-netdev", f"user,id=n{i}{fwd}", "-device",
                 f"virtio-net-pci,netdev=n{i},mac=52:54:00:12:34:{0x56 + i:02x}"]
    return args


# The wizard as a LAN client reaches it: at the address QEMU's DHCP server
# gives the guest, then at the static address the form sets.
WIZARD_FROM = "10.0.2.15"
WIZARD_TO = "10.0.2.16"


def wizard_forward():
    return {f"{WIZARD_FROM}:443": free_port(), f"{WIZARD_TO}:443": free_port()}


def wait_ready(vm, label):
    """Boot-to-sysconfd-ready: until sysconfd.service is active."""
    vm.wait_shell(BOOT_TIMEOUT)
    rc, out = sh(vm, "for i in $(seq 1200); do systemctl is-active -q sysconfd && exit 0;"
                     " systemctl is-failed -q sysconfd && exit 1; sleep 0.2; done; exit 1",
                 timeout=BOOT_TIMEOUT)
    wall = vm.elapsed()
    _, mono = sh(vm, "systemctl show -P ActiveEnterTimestampMonotonic sysconfd")
    kernel = int(mono) / 1e6 if mono.isdigit() else float("nan")
    ok = check(f"{label}: sysconfd active", rc == 0,
               sh(vm, "systemctl status --no-pager sysconfd; journalctl -b --no-pager"
                      " -u sysconfd -u telbox-firstboot | tail -40")[1] if rc else "")
    times[label] = (wall, kernel)
    print(f"      boot-to-sysconfd-ready ({label}): {wall:.1f} s from QEMU start,"
          f" {kernel:.1f} s from kernel start")
    return ok


def seed_checks(vm, label):
    rc, out = sh(vm, "cat /var/lib/telbox/firstboot-seed.result")
    check(f"{label}: seed applied at first boot", rc == 0 and "outcome: applied" in out, out)
    rc, out = sh(vm, "hostname")
    check(f"{label}: hostname from the seed", out == "telbox-qemu", out)


def network_checks(vm):
    rc, out = sh(vm, "ip -j -d link show eth1.30")
    try:
        link = json.loads(out)[0]
        info = link["linkinfo"]
        ok = (info["info_kind"] == "vlan" and info["info_data"]["id"] == 30
              and info["info_data"]["protocol"] == "802.1Q" and link["link"] == "eth1"
              and link["mtu"] == 1400)
    except (ValueError, KeyError, IndexError):
        ok = False
    check("disk: VLAN eth1.30 on eth1, 802.1Q id 30, MTU 1400, in the guest kernel", ok, out)
    rc, out = sh(vm, "lsmod | grep -w 8021q")
    check("disk: the 8021q module is loaded", rc == 0, out)
    rc, out = sh(vm, "ip -j link show eth1")
    check("disk: eth1 MTU 1496", rc == 0 and json.loads(out)[0]["mtu"] == 1496, out)
    rc, out = sh(vm, "ip -4 -o addr show; ip route")
    check("disk: addresses from the seed",
          all(a in out for a in ("10.0.2.15/24", "192.168.77.2/24", "172.16.30.2/24")), out)
    check("disk: static route 10.20.0.0/16 via 10.0.2.254",
          "10.20.0.0/16 via 10.0.2.254 dev eth0" in out, out)
    check("disk: default route via 10.0.2.2", "default via 10.0.2.2 dev eth0" in out, out)


def reapply_checks(vm):
    rc, out = sh(vm, "appliance config plan --json /etc/telbox/appliance.toml")
    try:
        empty = json.loads(out)["actions"] == []
    except (ValueError, KeyError):
        empty = False
    check("disk: plan of the applied config is empty", rc == 0 and empty, out)
    rc, out = sh(vm, "before=$(stat -c %Y /etc/hostname /etc/resolv.conf | md5sum);"
                     " appliance config apply /etc/telbox/appliance.toml; rc=$?;"
                     " after=$(stat -c %Y /etc/hostname /etc/resolv.conf | md5sum);"
                     " [ \"$before\" = \"$after\" ] || echo 'files rewritten'; exit $rc")
    check("disk: a second apply changes nothing", rc == 0 and "rewritten" not in out, out)


def rollback_checks(vm):
    with open(VLAN_CHANGE) as f:
        text = f.read()
    rc, out = sh(vm, f"cat >/run/vlan-change.toml <<'TOML'\n{text}TOML\n"
                     "appliance config apply --confirm-timeout 15 /run/vlan-change.toml")
    check("disk: VLAN change applied with a 15 s confirm timeout", rc == 0, out)
    rc, out = sh(vm, "ip -d link show eth1.31 && ! ip link show eth1.30 2>/dev/null")
    check("disk: eth1.31 in place of eth1.30 while unconfirmed", rc == 0, out)
    rc, out = sh(vm, "appliance status")
    check("disk: appliance status shows the pending confirm", rc == 0 and "confirm" in out.lower(), out)
    rc, out = sh(vm, "for i in $(seq 60); do ip link show eth1.30 >/dev/null 2>&1 &&"
                     " ! ip link show eth1.31 >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1",
                 timeout=90)
    _, links = sh(vm, "ip -br link; appliance status")
    check("disk: unconfirmed VLAN change rolled back (eth1.30 back, eth1.31 gone)", rc == 0, links)
    rc, out = sh(vm, "ip -j -d link show eth1.30")
    try:
        ok = json.loads(out)[0]["linkinfo"]["info_data"]["id"] == 30
    except (ValueError, KeyError, IndexError):
        ok = False
    check("disk: eth1.30 is VLAN id 30 again", ok, out)


def status_checks(vm):
    rc, out = sh(vm, "appliance status")
    check("disk: appliance status answers over D-Bus", rc == 0 and out != "", out)
    print("      " + out.replace("\n", "\n      "))


def disk_image(out, work, seed=SEED):
    """A copy of telbox.img whose data partition holds the seed, as an
    installer leaves it (none when seed is None)."""
    disk = os.path.join(work, "disk.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(out, "telbox.img"), disk], check=True)
    data = os.path.join(work, "data.ext4")
    subprocess.run([os.path.join(HERE, "mkdata.sh"), data, "512"] + ([seed] if seed else []),
                   check=True)
    start = int(subprocess.run(
        f"sfdisk -J {disk} | python3 -c \"import json,sys; p=json.load(sys.stdin)['partitiontable']"
        "['partitions']; print([x for x in p if x.get('name')=='data'][0]['start'])\"",
        shell=True, check=True, capture_output=True, text=True).stdout)
    subprocess.run(["dd", f"if={data}", f"of={disk}", "bs=512", f"seek={start}",
                    "conv=notrunc,sparse", "status=none"], check=True)
    os.unlink(data)
    return disk


def test_disk(out, work):
    print("== disk boot (telbox.img with a seed on its data partition, two NICs)")
    disk = disk_image(out, work)
    vm = Vm("disk", work, ["-drive", f"file={disk},if=virtio,format=raw"] + nics(2))
    try:
        vm.start()
        if wait_ready(vm, "disk"):
            seed_checks(vm, "disk")
            network_checks(vm)
            reapply_checks(vm)
            status_checks(vm)
            rollback_checks(vm)
            onbox_checks(vm, "disk")
            banner_shows(vm, "disk", "10.0.2.15")
            for extra in EXTRA_DISK_TESTS:
                extra(vm)
    except VmError as e:
        check("disk: boot test ran to the end", False, str(e))
    finally:
        vm.stop()
        os.unlink(disk)


def boot_installed(disk, work, label, body=None, forward=None):
    vm = Vm(label + "-installed", work,
            ["-drive", f"file={disk},if=virtio,format=qcow2"] + nics(2, forward))
    try:
        vm.start()
        if wait_ready(vm, label):
            (body or (lambda v: seed_checks(v, label)))(vm)
    finally:
        vm.stop()


def blank_disk(work, name):
    disk = os.path.join(work, name)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "3G"], check=True)
    return disk


def test_iso(out, work, label="iso", iso_name="telbox-test.iso", body=None, forward=None):
    print(f"== ISO install ({iso_name}) onto a blank disk, then its first boot")
    iso = os.path.join(out, iso_name)
    if not check(f"{label}: {iso_name} exists (make image-test makes it)", os.path.exists(iso), iso):
        return
    disk = blank_disk(work, f"{label}-disk.qcow2")
    vm = Vm(label, work, ["-drive", f"file={disk},if=virtio,format=qcow2",
                          "-drive", f"file={iso},media=cdrom,readonly=on", "-boot", "d"] + nics(1))
    try:
        vm.start()
        took = vm.wait_exit(600)
        m = vm.wait_console(r"INSTALLED on /dev/\S+ in [\d.]+ s", 1)
        check(f"{label}: unattended install wrote the disk and powered off", True)
        print(f"      {label} install: {took:.1f} s from QEMU start to power-off ({m.group(0)})")
        times[f"{label} install"] = (took, float("nan"))
        boot_installed(disk, work, label, body, forward)
    except VmError as e:
        check(f"{label}: install and first boot", False, str(e))
    finally:
        vm.stop()
        os.unlink(disk)


def test_iso_unseeded(out, work):
    forward = wizard_forward()
    test_iso(out, work, "iso-unseeded", "telbox-unseeded.iso",
             lambda vm: wizard_flow(vm, "iso-unseeded", forward), forward)


def test_pxe(out, work):
    print("== PXE (QEMU user-net TFTP) install onto a blank disk, then its first boot")
    tftp = os.path.join(out, "pxe")
    if not check("pxe: PXE tree exists (make pxe)", os.path.exists(os.path.join(tftp, "boot.ipxe")), tftp):
        return
    shutil.copy(SEED, os.path.join(tftp, "appliance.toml"))
    # The kernel, initrd, seed and script come over TFTP; the 300 MB image
    # over HTTP from the same host (TFTP's one block per round trip under
    # QEMU's user network runs at about 0.35 MB/s here: 15 minutes).
    http = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1",
                             "--directory", tftp, "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = http.stdout.readline()
    port = int(line.split(" port ")[1].split()[0])
    with open(os.path.join(tftp, "boot.ipxe")) as f:
        script = f.read()
    script = script.replace("telbox.image=tftp://${next-server}/telbox.img.gz",
                            f"telbox.image=http://${{next-server}}:{port}/telbox.img.gz")
    with open(os.path.join(tftp, "boot-test.ipxe"), "w") as f:
        f.write(script)
    disk = blank_disk(work, "pxe-disk.qcow2")
    net = ["-netdev", f"user,id=n0,tftp={tftp},bootfile=boot-test.ipxe",
           "-device", "virtio-net-pci,netdev=n0,bootindex=1"]
    vm = Vm("pxe", work, ["-drive", f"file={disk},if=virtio,format=qcow2"] + net)
    try:
        vm.start()
        took = vm.wait_exit(900)
        m = vm.wait_console(r"INSTALLED on /dev/\S+ in [\d.]+ s", 1)
        check("pxe: network install (iPXE and installer over TFTP, image over HTTP) wrote the disk and powered off", True)
        print(f"      pxe install: {took:.1f} s from QEMU start to power-off ({m.group(0)})")
        times["pxe install"] = (took, float("nan"))
        boot_installed(disk, work, "pxe")
    except VmError as e:
        check("pxe: install and first boot", False, str(e))
    finally:
        vm.stop()
        http.kill()
        os.unlink(disk)


# --- what a user meets on the box: docs, users, the wizard's unit ----------

def onbox_checks(vm, label):
    """On-box documentation, users and the wizard's unit."""
    rc, out = sh(vm, "MANPAGER=cat MANWIDTH=80 man appliance 2>&1 | head -n 20")
    check(f"{label}: `man appliance` shows the manual", rc == 0 and "appliance" in out
          and "SYNOPSIS" in out.upper(), out)
    # The loader returns 124 once it has loaded a completion (readline's
    # "try again"), so the steps are not chained with &&.
    rc, out = sh(vm, "source /usr/share/bash-completion/bash_completion; _completion_loader appliance;"
                     " complete -p appliance; COMP_WORDS=(appliance con) COMP_CWORD=1"
                     " COMP_LINE='appliance con' COMP_POINT=13; _appliance appliance con appliance;"
                     " echo \"${COMPREPLY[@]}\"")
    check(f"{label}: bash completes `appliance con` to config",
          "-F _appliance appliance" in out and "config" in (out.splitlines() or [""])[-1].split(), out)
    rc, out = sh(vm, "journalctl -b --no-pager -o cat | grep -i 'unknown user' | head")
    check(f"{label}: no \"Unknown user\" in the boot log", out == "", out)
    rc, out = sh(vm, "for i in $(seq 60); do pgrep -x chronyd >/dev/null && break; sleep 0.5; done;"
                     " ps -o user= -C chronyd | sort -u")
    check(f"{label}: chronyd runs, and not as root", rc == 0 and out != "" and "root" not in out.split(), out)
    rc, out = sh(vm, "for i in $(seq 60); do systemctl is-active -q telbox-wizard && exit 0; sleep 0.5;"
                     " done; systemctl status --no-pager telbox-wizard; exit 1")
    check(f"{label}: telbox-wizard.service runs in its unit", rc == 0, out)
    rc, out = sh(vm, "systemctl --failed --no-legend --plain")
    check(f"{label}: no failed unit", rc == 0 and out == "", out)
    rc, out = sh(vm, "systemctl show -p Description -p After -p Wants keepalived.service kea-dhcp4.service")
    check(f"{label}: keepalived (the overlay's unit) and Kea are not ordered after network-online.target",
          rc == 0 and "network-online" not in out
          and "Description=keepalived, the VRRP failure detector of a telbox HA pair" in out, out)


def banner_shows(vm, label, address):
    """The wizard's banner on the serial console names the box's address."""
    try:
        vm.wait_console(re.escape(f"https://{address}/"), 60)
        ok = True
    except VmError:
        ok = False
    text = vm.console_text()
    check(f"{label}: the console banner shows https://{address}/ and the fingerprint",
          ok and "SHA-256" in text and "<this box" not in text, vm.console_tail(30))


def services_checks(vm):
    rc, out = sh(vm, "cat /var/lib/telbox/firstboot-seed.result")
    check("services: the seed with the DHCP server, NTP served and a VLAN MTU applied at first boot",
          rc == 0 and "outcome: applied" in out, out)
    rc, out = sh(vm, "systemctl is-active kea-dhcp4 chronyd")
    check("services: Kea and chronyd active", out.split() == ["active", "active"], out)
    rc, out = sh(vm, "grep -E '^(allow|local)' /etc/chrony/chrony.conf; ps -o user= -C chronyd")
    check("services: chronyd serves 10.0.2.0/24, as _chrony",
          "allow 10.0.2.0/24" in out and "_chrony" in out, out)
    rc, out = sh(vm, "ip -j -d link show eth1.40; ip -j link show eth1")
    try:
        vlan, parent = [json.loads(x)[0] for x in out.splitlines()[:2]]
        ok = (vlan["mtu"] == 1400 and vlan["linkinfo"]["info_data"]["id"] == 40
              and parent["mtu"] == 1500 and "UP" in parent["flags"] and "UP" in vlan["flags"])
    except (ValueError, KeyError, IndexError):
        ok = False
    check("services: VLAN eth1.40 up with MTU 1400 on eth1 (MTU 1500, unchanged)", ok, out)
    rc, out = sh(vm, "appliance ntp status 2>&1 | head -n 5")
    check("services: appliance ntp status answers (chronyc through sysconfd's sandbox)", rc == 0, out)


def refused_checks(vm):
    rc, out = sh(vm, "cat /var/lib/telbox/firstboot-seed.result")
    check("refused: the seed Kea refuses is recorded as failed", "outcome: failed" in out, out)
    rc, out = sh(vm, "for i in $(seq 120); do ip -4 -o addr show dev eth0 | grep -q 10.0.2.15 && exit 0;"
                     " sleep 0.5; done; exit 1; ")
    _, detail = sh(vm, "ip -4 -o addr; pgrep -a dhclient; hostname")
    # The seed sets 10.0.2.15 too: the DHCP client on eth0 and the default
    # host name show the default configuration is the one in force.
    check("refused: eth0 has its address from QEMU's DHCP server (the default configuration)",
          rc == 0 and re.search(r"dhclient .*eth0", detail) is not None
          and detail.splitlines()[-1] == "telbox", detail)
    rc, out = sh(vm, "appliance status")
    check("refused: appliance status says `seed failed:` with the cause",
          rc == 0 and "seed failed: " in out and "eth9" in out, out)
    check("refused: the console says the seed failed",
          "seed failed:" in vm.console_text(), vm.console_tail(30))
    rc, out = sh(vm, "test -f /data/seed/appliance.toml && systemctl is-active telbox-wizard")
    check("refused: the seed is kept for a retry and the wizard is up", rc == 0 and out == "active", out)
    banner_shows(vm, "refused", WIZARD_FROM)
    wizard_gives_up(vm)


def wizard_gives_up(vm):
    """A wizard that cannot start stops restarting and ends `failed`, where
    `systemctl --failed` shows it (its start limit), instead of looping."""
    rc, out = sh(vm, "d=/run/systemd/system/telbox-wizard.service.d; mkdir -p $d;"
                     " printf '[Service]\\nExecStart=\\nExecStart=/bin/false\\n' >$d/broken.conf;"
                     " systemctl daemon-reload; systemctl restart telbox-wizard;"
                     " for i in $(seq 90); do systemctl is-failed -q telbox-wizard && break; sleep 1; done;"
                     " systemctl show -p ActiveState -p NRestarts telbox-wizard;"
                     " systemctl --failed --no-legend --plain", timeout=120)
    restarts = re.search(r"NRestarts=(\d+)", out)
    check("refused: a wizard that cannot start ends failed after its restarts, in systemctl --failed",
          "ActiveState=failed" in out and restarts is not None and int(restarts.group(1)) >= 4
          and re.search(r"^telbox-wizard\.service +loaded failed", out, re.M) is not None, out)


def wizard_flow(vm, label, forward):
    """An unseeded box: DHCP gives it an address, the banner shows it, and
    Chromium on the host sets the box up through the wizard."""
    rc, out = sh(vm, f"for i in $(seq 240); do ip -4 -o addr show dev eth0 | grep -q {WIZARD_FROM}"
                     " && exit 0; sleep 0.5; done; ip -4 -o addr; exit 1", timeout=150)
    check(f"{label}: eth0 gets {WIZARD_FROM} from QEMU's DHCP server", rc == 0, out)
    rc, out = sh(vm, "for i in $(seq 120); do systemctl is-active -q telbox-wizard && exit 0; sleep 0.5;"
                     " done; systemctl status --no-pager telbox-wizard; exit 1", timeout=90)
    if not check(f"{label}: telbox-wizard.service runs", rc == 0, out):
        return
    banner_shows(vm, label, WIZARD_FROM)
    rc, out = sh(vm, "appliance wizard token")
    token = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                  if line.startswith("setup token:")), "")
    if not check(f"{label}: appliance wizard token shows the token", rc == 0 and token != "", out):
        return
    if not check(f"{label}: the browser driver is built (WIZARD_DRIVER)", os.path.exists(WIZARD_DRIVER),
                 WIZARD_DRIVER):
        return
    cmd = [WIZARD_DRIVER, "--token", token, "--from", WIZARD_FROM, "--address", WIZARD_TO,
           "--gateway", "10.0.2.2", "--shots", f"image-{label}"]
    for guest, port in forward.items():
        cmd += ["--map", f"{guest}=127.0.0.1:{port}"]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        ok, detail = run.returncode == 0, run.stdout + run.stderr
    except subprocess.TimeoutExpired as e:
        ok, detail = False, f"timed out: {e.stdout}{e.stderr}"
    check(f"{label}: headless Chromium claims, completes and confirms the wizard from {WIZARD_TO}",
          ok, detail)
    if ok:
        print("      " + detail.strip().splitlines()[-1])
    rc, out = sh(vm, "appliance status --json")
    try:
        st = json.loads(out)
        ok = st["current_generation"] >= 1 and st["wizard_completed"] and st["pending"] is None
    except (ValueError, KeyError):
        ok = False
    check(f"{label}: appliance status: the wizard's generation, confirmed", ok, out)
    rc, out = sh(vm, "appliance status; ip -4 -o addr show dev eth0")
    check(f"{label}: eth0 at {WIZARD_TO}/24 now", f"{WIZARD_TO}/24" in out, out)
    print("      " + out.replace("\n", "\n      "))


def boot_disk(out, work, label, seed, body, forward=None, nic_count=2):
    print(f"== {label}: telbox.img" + (f" with {os.path.basename(seed)}" if seed else ", no seed"))
    disk = disk_image(out, work, seed)
    vm = Vm(label, work, ["-drive", f"file={disk},if=virtio,format=raw"] + nics(nic_count, forward))
    try:
        vm.start()
        if wait_ready(vm, label):
            body(vm)
    except VmError as e:
        check(f"{label}: boot test ran to the end", False, str(e))
    finally:
        vm.stop()
        os.unlink(disk)


def test_services(out, work):
    boot_disk(out, work, "services", SEED_SERVICES, services_checks)


def test_refused(out, work):
    boot_disk(out, work, "refused", SEED_REFUSED, refused_checks)


def test_unseeded(out, work):
    forward = wizard_forward()
    boot_disk(out, work, "unseeded", None, lambda vm: wizard_flow(vm, "unseeded", forward), forward)


def test_release_image(release):
    """The image a user gets: no test channel in either slot, the helper
    scripts on the root file system."""
    print("== the image make image builds")
    if not check("release: telbox.img exists", os.path.exists(release), release):
        return
    table = json.loads(subprocess.run(["sfdisk", "-J", release], check=True, capture_output=True,
                                      text=True).stdout)["partitiontable"]["partitions"]
    for slot in ("root-a", "root-b"):
        p = [x for x in table if x.get("name") == slot][0]
        part = os.path.join(os.path.dirname(release), f".{slot}.ext4")
        subprocess.run(["dd", f"if={release}", f"of={part}", "bs=512", f"skip={p['start']}",
                        f"count={p['size']}", "status=none"], check=True)
        try:
            def ls(path):
                r = subprocess.run(["debugfs", "-R", f"stat {path}", part], capture_output=True,
                                   text=True)
                return "Inode:" in r.stdout
            present = [f for f in ("/usr/lib/systemd/system/telbox-test-shell.service",
                                   "/usr/libexec/telbox/test-shell",
                                   "/etc/systemd/system/multi-user.target.wants/telbox-test-shell.service")
                       if ls(f)]
            check(f"release: no test shell in {slot}", present == [], " ".join(present))
            needed = [f for f in ("/usr/libexec/telbox/dhclient-script", "/usr/bin/man",
                                  "/usr/share/bash-completion/bash_completion",
                                  "/usr/share/bash-completion/completions/appliance")
                      if not ls(f)]
            check(f"release: {slot} has the DHCP client's script on the root, man-db and"
                  " bash-completion", needed == [], "missing: " + " ".join(needed))
        finally:
            os.unlink(part)


def netdiff_checks(vm):
    """Kernel against simulation: one long sequence of generated network
    configs, applied for real through sysconfd and to the simulated machine."""
    rc, _ = sh(vm, "command -v netdiff")
    if not check("netdiff: the differential runner is in the test image", rc == 0):
        return
    print(f"      netdiff seed {NETDIFF_SEED} (replay: NETDIFF_SEED={NETDIFF_SEED} make image-test)")
    rc, out = sh(vm, f"set -o pipefail; netdiff --seed {NETDIFF_SEED} --count {NETDIFF_COUNT}"
                     " --links eth0,eth1 2>&1 | tail -n 60", timeout=1500)
    m = re.search(r"netdiff: seed (\d+), (\d+) configs, (\d+) divergences, (\d+) real failures", out)
    ok = (rc == 0 and m is not None and int(m.group(2)) >= NETDIFF_COUNT and int(m.group(3)) == 0)
    check(f"netdiff: {NETDIFF_COUNT} generated configs on the guest kernel and the simulation,"
          " 0 divergences", ok, out)
    if m:
        print(f"      {m.group(0)}")
    # The last progress line (with the time taken) and what the sequence covered.
    steps = [line for line in out.splitlines() if re.match(r"netdiff: \d+ steps", line)]
    covered = [line for line in out.splitlines() if line.startswith("netdiff: covered")]
    for line in steps[-1:] + covered:
        print(f"      {line}")


STATUS_IFACE = "org.telbox.Sysconfd1.Status"


def signal_monitor(vm, member, log):
    """dbus-monitor for one of sysconfd's signals, in the background."""
    sh(vm, f"nohup dbus-monitor --system \"type='signal',interface='{STATUS_IFACE}',"
           f"member='{member}'\" >{log} 2>&1 </dev/null & sleep 1")


def hotplug_checks(vm):
    """A NIC hot-added through the QEMU monitor: udev tells sysconfd, which
    signals it; Discover and `appliance network show` list it."""
    signal_monitor(vm, "InterfacesChanged", "/run/ifaces.signals")
    vm.monitor("netdev_add user,id=hot0")
    vm.monitor("device_add virtio-net-pci,netdev=hot0,id=hotnic,mac=52:54:00:12:34:99")
    rc, out = sh(vm, "for i in $(seq 100); do ip link show eth2 >/dev/null 2>&1 && exit 0;"
                     " sleep 0.3; done; exit 1")
    check("udev: hot-added virtio NIC appears as eth2 in the guest", rc == 0, out)
    rc, out = sh(vm, "for i in $(seq 50); do grep -q eth2 /run/ifaces.signals && exit 0; sleep 0.2;"
                     " done; cat /run/ifaces.signals; exit 1")
    check("udev: InterfacesChanged signal lists eth2", rc == 0, out)
    rc, out = sh(vm, "journalctl -b -u sysconfd --no-pager -o cat | grep -E 'udev: add net/eth2|"
                     "network interfaces changed \\(from a udev event\\)'")
    check("udev: sysconfd saw it from a udev event, not the poll",
          "udev: add net/eth2" in out and "from a udev event" in out, out)
    rc, out = sh(vm, "busctl call org.telbox.Sysconfd1 /org/telbox/Sysconfd1"
                     " org.telbox.Sysconfd1.Wizard Discover")
    check("udev: Wizard.Discover lists eth2 without a restart", rc == 0 and "eth2" in out, out)
    rc, out = sh(vm, "appliance network show")
    check("udev: appliance network show lists eth2", rc == 0 and "eth2" in out, out)


DAHDI_DYNAMIC = """# Two local dynamic spans paired with each other (dahdi_dynamic_loc):
# T1 framing, 24 channels each, no hardware.
dynamic=loc,1:0,24,0
dynamic=loc,1:1,24,0
"""


DAHDI_CHANNELS = """span=1,1,0,esf,b8zs
span=2,0,0,esf,b8zs
bchan=1-23
dchan=24
bchan=25-47
dchan=48
loadzone=us
defaultzone=us
"""


def dahdi_checks(vm):
    """The DAHDI modules DKMS built, with two dahdi_dynamic_loc spans."""
    rc, out = sh(vm, "modinfo -F filename dahdi dahdi_dynamic_loc; modprobe dahdi_dynamic_loc"
                     " && lsmod | grep -E '^dahdi'")
    if not check("dahdi: DKMS-built modules load (dahdi, dahdi_dynamic, dahdi_dynamic_loc)",
                 rc == 0, out):
        return
    signal_monitor(vm, "CardsChanged", "/run/cards.signals")
    rc, out = sh(vm, f"cat >/run/dynamic.conf <<'EOF'\n{DAHDI_DYNAMIC}EOF\n"
                     "dahdi_cfg -c /run/dynamic.conf; ls /sys/bus/dahdi_devices/devices", timeout=90)
    check("dahdi: dahdi_cfg registers the dynamic spans' devices",
          "dynamic:loc:0" in out and "dynamic:loc:1" in out, out)
    rc, out = sh(vm, "for i in $(seq 50); do grep -q dynamic:loc:1 /run/cards.signals && exit 0;"
                     " sleep 0.2; done; cat /run/cards.signals; exit 1")
    check("udev: CardsChanged lists dahdi:dynamic:loc:0 and :1", rc == 0, out)
    rc, out = sh(vm, "journalctl -b -u sysconfd --no-pager -o cat | grep -E 'udev: add dahdi|"
                     "telephony cards changed'")
    check("udev: CardsChanged came from a udev event, not the poll",
          "telephony cards changed (from a udev event)" in out, out)
    # sysconfd's model has no dynamic spans: the assignment and the channels
    # are made here with the same tools its DAHDI sequence runs.
    rc, out = sh(vm, "dahdi_span_assignments auto && dahdi_span_assignments list &&"
                     f" cat >/run/channels.conf <<'EOF'\n{DAHDI_CHANNELS}EOF\n"
                     " dahdi_cfg -c /run/channels.conf && cat /proc/dahdi/1 /proc/dahdi/2", timeout=90)
    check("dahdi: spans assigned (dahdi_span_assignments), channels configured (dahdi_cfg),"
          " both in /proc/dahdi",
          rc == 0 and "DYN/loc/1:0" in out and "DYN/loc/1:1" in out and "HDLCFCS" in out, out)
    print("      " + out.replace("\n", "\n      "))


EXTRA_DISK_TESTS = [hotplug_checks, dahdi_checks, netdiff_checks]


PARTS = {
    "release": None,
    "disk": test_disk,
    "services": test_services,
    "refused": test_refused,
    "unseeded": test_unseeded,
    "iso": test_iso,
    "iso-unseeded": test_iso_unseeded,
    "pxe": test_pxe,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--release-image", default="")
    ap.add_argument("--only", default=",".join(PARTS))
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    work = os.path.join(out, "test-run")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    start = time.monotonic()
    for part in a.only.split(","):
        if part == "release":
            test_release_image(os.path.abspath(a.release_image or
                                               os.path.join(out, "..", "telbox.img")))
        else:
            PARTS[part](out, work)
    print("== boot-to-sysconfd-ready")
    for label, (wall, kernel) in times.items():
        print(f"  {label:12s} {wall:6.1f} s from QEMU start" +
              ("" if kernel != kernel else f", {kernel:5.1f} s from kernel start"))
    print(f"== image-test: {len(failures)} failed, {time.monotonic() - start:.0f} s"
          f" (logs in {work})")
    for f in failures:
        print("  FAILED: " + f)
    print(f"image-test: {len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
