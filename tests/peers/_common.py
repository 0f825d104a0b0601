"""Shared helpers for the peer/interop test scripts in tests/peers/.

Everything here is about running child processes safely: each child gets its
own session (process group) and is always killed on exit, every wait is
bounded by a timeout, and any problem ends the run with a loud reason
(these scripts never skip).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parents[2]


class PeerFailure(Exception):
    """A check failed or a tool could not run: the run must fail."""


def die(msg: str, code: int = 1) -> NoReturn:
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (small race until it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_executable(path: str, what: str) -> str:
    p = Path(path)
    if not p.exists():
        raise PeerFailure(f"{what} not found at {path!r}")
    if not p.is_file() or not os.access(p, os.X_OK):
        raise PeerFailure(f"{what} at {path!r} is not an executable file")
    return str(p.resolve())


class Child:
    """A child process in its own process group, killed (whole group) on close.

    stdout/stderr are drained by threads so the child can never block on a
    full pipe; lines are kept (bounded) and optionally echoed with a prefix.
    """

    _KEEP = 2000

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        stdin: int | None = subprocess.DEVNULL,
        echo_stdout: bool = False,
        echo_stderr: bool = True,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env=env,
                cwd=cwd,
            )
        except OSError as e:
            raise PeerFailure(f"could not start {name} ({' '.join(self.argv)}): {e}") from e
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self.stdout_queue: queue.Queue[str | None] = queue.Queue()
        self.stderr_queue: queue.Queue[str | None] = queue.Queue()
        self._threads = [
            threading.Thread(
                target=self._pump,
                args=(self.proc.stdout, self.stdout_lines, self.stdout_queue, echo_stdout),
                daemon=True,
            ),
            threading.Thread(
                target=self._pump,
                args=(self.proc.stderr, self.stderr_lines, self.stderr_queue, echo_stderr),
                daemon=True,
            ),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, keep: list[str], q: queue.Queue, echo: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            keep.append(line)
            if len(keep) > self._KEEP:
                del keep[: len(keep) - self._KEEP]
            q.put(line)
            if echo:
                print(f"[{self.name}] {line}", file=sys.stderr, flush=True)
        q.put(None)

    def wait_line(self, pattern: str, timeout: float, stream: str = "stdout") -> re.Match[str]:
        """Wait for the first line on `stream` matching `pattern` (re.search)."""
        q = self.stdout_queue if stream == "stdout" else self.stderr_queue
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        seen: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerFailure(
                    f"{self.name}: no {stream} line matching {pattern!r} within {timeout:.0f}s"
                    f"{self._context(seen)}"
                )
            try:
                line = q.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=5)
                raise PeerFailure(
                    f"{self.name} closed its {stream} (exit code {self.proc.returncode}) "
                    f"before printing a line matching {pattern!r}{self._context(seen)}"
                )
            seen.append(line)
            m = rx.search(line)
            if m:
                return m

    def _context(self, seen: list[str]) -> str:
        parts = []
        if seen:
            parts.append("\n  its output was:\n    " + "\n    ".join(seen[-20:]))
        if self.stderr_lines:
            parts.append("\n  its stderr (tail):\n    " + "\n    ".join(self.stderr_lines[-20:]))
        return "".join(parts)

    def stderr_tail(self, n: int = 20) -> str:
        return "\n    ".join(self.stderr_lines[-n:]) or "(empty)"

    def wait(self, timeout: float) -> int | None:
        """Wait for exit; None on timeout (the child is left running)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def join_output(self, timeout: float = 5) -> None:
        for t in self._threads:
            t.join(timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGTERM the child's process group, then SIGKILL it if needed."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        # The group may outlive its leader (grandchildren): always SIGKILL it.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if s:
                    s.close()
            except OSError:
                pass

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


LISTENING_RX = r"^listening on ws://(?P<addr>[^/\s]+)/$"


def start_wsc_serve(
    wsc: str,
    timeout: float = 20,
    argv_prefix: list[str] | None = None,
    extra: list[str] | None = None,
) -> tuple[Child, str]:
    """Start `wsc serve --listen 127.0.0.1:PORT [EXTRA..]`; return (child, "host:port").

    Waits for the exact `listening on ws://ADDR/` line (the first stdout line).
    `argv_prefix` replaces `[wsc]` (e.g. to run it under another program).
    """
    if argv_prefix is None:
        argv_prefix = [check_executable(wsc, "wsc binary")]
    port = free_port()
    argv = argv_prefix + ["serve", "--listen", f"127.0.0.1:{port}"] + (extra or [])
    child = Child(argv, name="wsc serve")
    try:
        q = child.stdout_queue
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerFailure(
                    f"wsc serve printed no line within {timeout:.0f}s; stderr:\n    {child.stderr_tail()}"
                )
            try:
                line = q.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                child.proc.wait(timeout=5)
                raise PeerFailure(
                    f"wsc serve exited (code {child.proc.returncode}) without printing "
                    f"'listening on ws://ADDR/'; stderr:\n    {child.stderr_tail()}"
                )
            break
        m = re.match(LISTENING_RX, line)
        if not m:
            raise PeerFailure(
                f"wsc serve's first stdout line must be exactly 'listening on ws://ADDR/', got {line!r}"
            )
        addr = m.group("addr")
        if addr != f"127.0.0.1:{port}":
            raise PeerFailure(
                f"wsc serve was asked to listen on 127.0.0.1:{port} but reported {addr!r}"
            )
        # Echo anything else it prints, for the CI log.
        threading.Thread(target=_echo_rest, args=(child,), daemon=True).start()
        return child, addr
    except BaseException:
        child.kill()
        raise


QEMU_FIRMWARE = REPO_ROOT / "scripts" / "qemu-firmware"


def build_device_firmware(timeout: float = 1800) -> None:
    """Builds the Cortex-M board's firmware (scripts/qemu-firmware build)."""
    with Child([str(QEMU_FIRMWARE), "build"], name="qemu-firmware build", echo_stderr=True) as c:
        rc = c.wait(timeout)
        c.join_output()
        if rc != 0:
            raise PeerFailure(f"scripts/qemu-firmware build failed (exit code {rc}); stderr:\n    {c.stderr_tail()}")


def start_device_serve(extra: list[str] | None = None, timeout: float = 90) -> tuple[Child, str]:
    """Boots the Cortex-M board's echo server under QEMU (`scripts/qemu-firmware serve
    PORT`, built before); returns (child, "127.0.0.1:PORT") once the script printed
    `listening on ws://127.0.0.1:PORT/` (the device answered a handshake). The device's
    log lines stay in child.stdout_lines."""
    port = free_port()
    argv = [str(QEMU_FIRMWARE), "--no-build", "serve", str(port)] + (extra or [])
    child = Child(argv, name="qemu-firmware serve")
    try:
        child.wait_line(rf"^listening on ws://127\.0\.0\.1:{port}/$", timeout)
    except BaseException:
        child.kill()
        raise
    return child, f"127.0.0.1:{port}"


def _echo_rest(child: Child) -> None:
    while True:
        line = child.stdout_queue.get()
        if line is None:
            return
        print(f"[{child.name}] {line}", file=sys.stderr, flush=True)


def wait_tcp(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError as e:
            last = e
            time.sleep(0.05)
    raise PeerFailure(f"nothing accepted TCP connections on {host}:{port} within {timeout:.0f}s ({last})")


def run_main(fn) -> None:
    """Run fn() and map PeerFailure / KeyboardInterrupt to a loud exit code 1."""
    try:
        rc = fn()
    except PeerFailure as e:
        die(str(e))
    except KeyboardInterrupt:
        die("interrupted")
    sys.exit(rc or 0)
