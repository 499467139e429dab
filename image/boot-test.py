#!/usr/bin/env python3
"""make image-test: boots the telbox image in QEMU (TCG) and checks, from
inside the guest, what the build machine's kernel cannot show.

  image/boot-test.py OUT [--only disk,iso,pxe]

OUT is make image's output directory (telbox.img, boot/, iso/, pxe/).
Prints PASS/FAIL per check and the boot-to-sysconfd-ready times; exits 1
if any check failed."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_vm import Vm, VmError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(HERE, "test", "seed.toml")
VLAN_CHANGE = os.path.join(HERE, "test", "vlan-change.toml")
BOOT_TIMEOUT = int(os.environ.get("BOOT_TIMEOUT", "240"))

failures = []
times = {}


def check(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail and not ok else ""))
    if detail and ok and os.environ.get("VERBOSE"):
        print("      " + detail.replace("\n", "\n      "))
    if not ok:
        failures.append(name)
    sys.stdout.flush()
    return ok


def sh(vm, script, timeout=60):
    rc, out = vm.run(script, timeout)
    return rc, out.strip()


def nics(n):
    args = []
    for i in range(n):
        args += ["-netdev", f"user,id=n{i}", "-device",
                 f"virtio-net-pci,netdev=n{i},mac=52:54:00:12:34:{0x56 + i:02x}"]
    return args


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
    installer leaves it."""
    disk = os.path.join(work, "disk.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(out, "telbox.img"), disk], check=True)
    data = os.path.join(work, "data.ext4")
    subprocess.run([os.path.join(HERE, "mkdata.sh"), data, "512", seed], check=True)
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
            for extra in EXTRA_DISK_TESTS:
                extra(vm)
    except VmError as e:
        check("disk: boot test ran to the end", False, str(e))
    finally:
        vm.stop()
        os.unlink(disk)


def boot_installed(disk, work, label):
    vm = Vm(label + "-installed", work, ["-drive", f"file={disk},if=virtio,format=qcow2"] + nics(2))
    try:
        vm.start()
        if wait_ready(vm, label):
            seed_checks(vm, label)
    finally:
        vm.stop()


def blank_disk(work, name):
    disk = os.path.join(work, name)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "3G"], check=True)
    return disk


def test_iso(out, work):
    print("== ISO install onto a blank disk, then its first boot")
    iso = os.path.join(out, "telbox-test.iso")
    if not check("iso: telbox-test.iso exists (make image-test makes it)", os.path.exists(iso), iso):
        return
    disk = blank_disk(work, "iso-disk.qcow2")
    vm = Vm("iso", work, ["-drive", f"file={disk},if=virtio,format=qcow2",
                          "-drive", f"file={iso},media=cdrom,readonly=on", "-boot", "d"] + nics(1))
    try:
        vm.start()
        took = vm.wait_exit(600)
        m = vm.wait_console(r"INSTALLED on /dev/\S+ in [\d.]+ s", 1)
        check("iso: unattended install wrote the disk and powered off", True)
        print(f"      iso install: {took:.1f} s from QEMU start to power-off ({m.group(0)})")
        times["iso install"] = (took, float("nan"))
        boot_installed(disk, work, "iso")
    except VmError as e:
        check("iso: install and first boot", False, str(e))
    finally:
        vm.stop()
        os.unlink(disk)


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


EXTRA_DISK_TESTS = [hotplug_checks, dahdi_checks]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--only", default="disk,iso,pxe")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    work = os.path.join(out, "test-run")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    start = time.monotonic()
    parts = a.only.split(",")
    if "disk" in parts:
        test_disk(out, work)
    if "iso" in parts:
        test_iso(out, work)
    if "pxe" in parts:
        test_pxe(out, work)
    print("== boot-to-sysconfd-ready")
    for label, (wall, kernel) in times.items():
        print(f"  {label:12s} {wall:6.1f} s from QEMU start" +
              ("" if kernel != kernel else f", {kernel:5.1f} s from kernel start"))
    print(f"== image-test: {len(failures)} failed, {time.monotonic() - start:.0f} s"
          f" (logs in {work})")
    for f in failures:
        print("  FAILED: " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
