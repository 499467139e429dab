"""A telbox guest under QEMU (TCG) for the boot test: serial console to a
log file, a command channel on the second serial line (test-shell), and
the QEMU monitor on a socket. Every wait has a timeout."""

import base64
import os
import re
import socket
import subprocess
import time

QEMU = os.environ.get("QEMU", "qemu-system-x86_64")


class VmError(Exception):
    pass


class Vm:
    def __init__(self, name, workdir, args, memory=1024):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.console = os.path.join(self.dir, "console.log")
        self.shell_path = os.path.join(self.dir, "shell.sock")
        self.mon_path = os.path.join(self.dir, "monitor.sock")
        for p in (self.shell_path, self.mon_path):
            if os.path.exists(p):
                os.unlink(p)
        self.cmd = [
            QEMU, "-accel", "tcg", "-machine", "pc", "-cpu", "max",
            "-smp", "2", "-m", str(memory),
            "-display", "none", "-no-reboot",
            "-serial", f"file:{self.console}",
            "-chardev", f"socket,id=shell,path={self.shell_path},server=on,wait=off",
            "-device", "isa-serial,chardev=shell",
            "-monitor", f"unix:{self.mon_path},server=on,wait=off",
            "-fw_cfg", "name=opt/org.telbox/test-shell,string=1",
        ] + args
        self.proc = None
        self.sock = None
        self.buf = b""
        self.t0 = None

    def start(self):
        with open(os.path.join(self.dir, "qemu.cmd"), "w") as f:
            f.write(" ".join(self.cmd) + "\n")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "qemu.err"), "w"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise VmError(f"{self.name}: qemu exited: " + self.qemu_err())
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.shell_path)
                self.sock = s
                return
            except OSError:
                time.sleep(0.1)
        raise VmError(f"{self.name}: no shell socket")

    def qemu_err(self):
        with open(os.path.join(self.dir, "qemu.err")) as f:
            return f.read().strip()

    def elapsed(self):
        return time.monotonic() - self.t0

    def _read_until(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.buf)
            if m:
                before = self.buf[: m.start()]
                self.buf = self.buf[m.end():]
                return before, m
            left = deadline - time.monotonic()
            if left <= 0:
                raise VmError(f"{self.name}: timed out after {timeout} s waiting for {pattern!r};"
                              f" console tail:\n{self.console_tail()}")
            if self.proc.poll() is not None:
                raise VmError(f"{self.name}: qemu exited; console tail:\n{self.console_tail()}")
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise VmError(f"{self.name}: shell socket closed")
            self.buf += data

    def wait_shell(self, timeout):
        self._read_until(rb"@@shell-ready@@\r?\n", timeout)
        return self.elapsed()

    def run(self, script, timeout=60):
        """Runs a bash script in the guest; returns (status, output)."""
        self.buf = b""
        self.sock.sendall(base64.b64encode(script.encode()) + b"\n")
        out, m = self._read_until(rb"\n@@rc=(\d+)@@\n", timeout)
        return int(m.group(1)), out.decode(errors="replace")

    def monitor(self, command, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.mon_path)
        data = b""
        try:
            while b"(qemu)" not in data:
                data += s.recv(4096)
            s.sendall(command.encode() + b"\n")
            data = b""
            while data.count(b"(qemu)") < 1:
                data += s.recv(4096)
        finally:
            s.close()
        return data.decode(errors="replace")

    def console_tail(self, lines=25):
        try:
            with open(self.console, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def console_text(self):
        with open(self.console, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise VmError(f"{self.name}: still running after {timeout} s; console tail:\n"
                          + self.console_tail())
        return self.elapsed()

    def wait_console(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            m = rx.search(self.console_text() if os.path.exists(self.console) else "")
            if m:
                return m
            if self.proc.poll() is not None:
                m = rx.search(self.console_text())
                if m:
                    return m
                raise VmError(f"{self.name}: qemu exited before {pattern!r}; console tail:\n"
                              + self.console_tail())
            time.sleep(0.5)
        raise VmError(f"{self.name}: no {pattern!r} in {timeout} s; console tail:\n"
                      + self.console_tail())

    def stop(self):
        if self.sock:
            self.sock.close()
            self.sock = None
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
