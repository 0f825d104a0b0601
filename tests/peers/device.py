#!/usr/bin/env python3
"""The firmware on the Cortex-M board (QEMU mps2-an386, scripts/qemu-firmware), checked
by real peers over QEMU's user networking:

  1. echo server: tests/firmware/peers.py (Python websockets and raw sockets: text,
     binary, fragments, ping, close, a compressed echo, two clients at once, bad
     handshakes and frames with their HTTP status or close code, a 100 KB request head
     answered 431 and read whole, floods and a client that never reads cut by the write
     timeout while another client is served, a silent connection cut by the idle
     timeout), then the device's own log of those connections;
  2. the Ethernet driver: frames longer than the MTU, injected on the wire, are dropped,
     counted and logged, and the device still serves;
  3. the client exchange against `wsc serve`;
  4. the wss:// client against `wsc serve --tls-cert` (certificates made here with
     openssl): the right certificate passes; one for another name and one from another
     CA fail at the TLS handshake, with the device's error in its log;
  5. an Autobahn subset in both roles (tests/peers/autobahn.py --device); the full run
     is `tests/peers/autobahn.py --device --role both`.

Every QEMU started is stopped at the end (and checked to be gone). Needs qemu-system-arm,
defmt-print, openssl, the venv's websockets and kosoku, and a built wsc (--wsc).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    QEMU_FIRMWARE,
    REPO_ROOT,
    Child,
    PeerFailure,
    build_device_firmware,
    check_executable,
    free_port,
    log,
    run_main,
    start_device_serve,
    start_wsc_serve,
)

# The Autobahn cases the suite runs on the device, in both roles: a few of each section,
# the large and fragmented messages of 9 included, and compression (12, 13).
AUTOBAHN_SUBSET = [
    "1.1.1", "1.1.6", "1.2.8", "2.*", "3.*", "4.1.*", "4.2.1", "5.1", "5.6", "5.15", "5.19",
    "6.1.*", "6.3.*", "6.4.1", "6.21.*", "7.1.*", "7.5.1", "7.7.1", "7.9.1", "9.1.2", "9.2.2",
    "9.4.3", "9.7.1", "9.8.1", "10.1.1", "12.1.3", "12.2.5", "12.4.11", "13.1.1", "13.3.2",
    "13.5.4", "13.7.5",
]
WSS_NAME = "wsc.test"
WRITE_TIMEOUT = 2
IDLE_TIMEOUT = 5
HANDSHAKE_TIMEOUT = 3


def expect_log(lines: list[str], needle: str, count: int = 1) -> None:
    got = sum(needle in line for line in lines)
    if got < count:
        raise PeerFailure(f"the device logged {got} line(s) with {needle!r}, expected {count}; log tail:\n    "
                          + "\n    ".join(lines[-30:]))


def stop_and_check_gone(child: Child) -> None:
    """Stops a scripts/qemu-firmware as a user would (SIGTERM to it alone) and checks
    that nothing it started is left running (QEMU, defmt-print)."""
    os.kill(child.proc.pid, signal.SIGTERM)
    child.wait(10)
    deadline = time.monotonic() + 10
    left = ""
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-a", "-s", str(child.proc.pid)], capture_output=True, text=True)
        left = found.stdout.strip()
        if not left:
            child.kill()
            return
        time.sleep(0.2)
    child.kill()
    raise PeerFailure(f"still running 10 s after scripts/qemu-firmware was stopped:\n    {left}")


def echo_server(python: str) -> None:
    log("== device echo server: tests/firmware/peers.py")
    timeouts = {"--write-timeout": WRITE_TIMEOUT, "--idle-timeout": IDLE_TIMEOUT, "--handshake-timeout": HANDSHAKE_TIMEOUT}
    device, addr = start_device_serve([str(x) for item in timeouts.items() for x in item])
    with device:
        url = f"ws://{addr}/"
        peers = [python, str(REPO_ROOT / "tests" / "firmware" / "peers.py"), url, "--relayed",
                 "--idle-timeout", str(IDLE_TIMEOUT), "--handshake-timeout", str(HANDSHAKE_TIMEOUT)]
        result = subprocess.run(peers, capture_output=True, text=True, timeout=300)
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            raise PeerFailure(f"peers.py against the device failed:\n{result.stdout}{result.stderr}\n"
                              "device log tail:\n    " + "\n    ".join(device.stdout_lines[-30:]))
        oks = [line for line in result.stdout.splitlines() if line.startswith("ok: ")]
        if len(oks) != 21:
            raise PeerFailure(f"peers.py printed {len(oks)} ok lines, expected 21:\n{result.stdout}")
        # The device's log reaches us through semihosting and defmt-print, behind what the
        # peers saw: wait (bounded) for the last cut to be logged before counting.
        deadline = time.monotonic() + 20
        while True:
            time.sleep(1)
            lines = device.stdout_lines
            cuts = sum("closed 1006 (Write(Stalled))" in line or "closed 1006 (Read(Idle))" in line for line in lines)
            if cuts >= 3 or time.monotonic() > deadline:
                break
        expect_log(lines, "permessage-deflate: permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
        expect_log(lines, "answered HTTP 404, not upgraded")
        expect_log(lines, "bad upgrade request: HeadersTooLarge")
        expect_log(lines, "closed 1002 (Protocol(", 7)
        expect_log(lines, "closed 1007 (Protocol(InvalidUtf8))")
        expect_log(lines, "closed 1007 (Protocol(Inflate(", 2)
        # The two floods cut (by the write timeout, or, when QEMU's user networking held the
        # flood back, by the idle timeout), and the silent connection.
        if cuts < 3:
            closed = "\n    ".join(line for line in lines if "closed 1006" in line)
            raise PeerFailure(f"the device logged {cuts} cut connections, expected 3 (two floods, one silent):\n    {closed}")
        expect_log(lines, "closed 1006 (Read(Late))")
        expect_log(lines, "closed 1000 (normal closure)", 6)
        stop_and_check_gone(device)
    log("device echo server: ok")


def oversize_frames() -> None:
    log("== device Ethernet driver: frames longer than the MTU")
    inject = free_port()
    device, addr = start_device_serve(["--inject-udp", str(inject)])
    with device:
        host, port = addr.split(":")
        to_device = bytes.fromhex("525400123456")  # QEMU's default MAC, the device's
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for size in (1515 + 4, 1600, 2000, 1800):
                frame = to_device + bytes.fromhex("020000000001") + b"\x08\x00" + os.urandom(size - 14)
                s.sendto(frame, ("127.0.0.1", inject))
                time.sleep(0.05)
        with socket.create_connection((host, int(port)), timeout=10) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            answer = c.recv(200)
        if not answer.startswith(b"HTTP/1.1 101 "):
            raise PeerFailure(f"the device did not serve after the oversize frames: {answer!r}")
        time.sleep(0.5)
        expect_log(device.stdout_lines, "ethernet: frame longer than the MTU dropped (x4); Counters {")
        line = next(line for line in device.stdout_lines if "dropped (x4)" in line)
        if "rx_oversize: 4" not in line:
            raise PeerFailure(f"the driver's count of oversize frames is not 4: {line}")
        stop_and_check_gone(device)
    log("device Ethernet driver: ok (4 oversize frames dropped, counted and logged; still serving)")


def client_exchange(wsc: str) -> None:
    log("== device client exchange -> wsc serve")
    server, addr = start_wsc_serve(wsc)
    with server:
        port = addr.split(":")[1]
        with Child([str(QEMU_FIRMWARE), "--no-build", "client", port], name="qemu-firmware client") as device:
            rc = device.wait(120)
            device.join_output()
            if rc != 0 or not any("client: PASS" in line for line in device.stdout_lines):
                raise PeerFailure(f"the device's client exchange failed (exit {rc}):\n    " + "\n    ".join(device.stdout_lines[-20:]))
    log("device client exchange: ok")


def openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PeerFailure(f"openssl {' '.join(args)} failed: {result.stderr}")


def make_pki(dir: Path) -> None:
    """ca.pem; good.pem for WSS_NAME, wrong-name.pem for another name, both from ca;
    other-ca.pem for WSS_NAME from another CA. ECDSA P-256 throughout."""
    for ca, name in (("ca", "wscodec device test CA"), ("other", "some other CA")):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE", cwd=dir)
    for tag, name, ca in (("good", WSS_NAME, "ca"), ("wrong-name", "other.test", "ca"), ("other-ca", WSS_NAME, "other")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{tag}.key", "-out", f"{tag}.csr", "-subj", f"/CN={name}", cwd=dir)
        (dir / f"{tag}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        openssl("x509", "-req", "-in", f"{tag}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{tag}.pem", "-days", "1", "-extfile", f"{tag}.ext", cwd=dir)


def wss_client(wsc: str) -> None:
    log("== device wss:// client -> wsc serve --tls-cert")
    with tempfile.TemporaryDirectory(prefix="wscodec-device-pki-") as tmp:
        pki = Path(tmp)
        make_pki(pki)
        for tag, passes in (("good", True), ("wrong-name", False), ("other-ca", False)):
            port = free_port()
            tls = ["--tls-cert", str(pki / f"{tag}.pem"), "--tls-key", str(pki / f"{tag}.key")]
            server = Child([wsc, "serve", "--listen", f"127.0.0.1:{port}", *tls], name="wsc serve --tls-cert")
            with server:
                server.wait_line(rf"^listening on wss://127\.0\.0\.1:{port}/$", 20)
                argv = [str(QEMU_FIRMWARE), "--no-build", "wss-client", str(port), "--ca", str(pki / "ca.pem"), "--name", WSS_NAME]
                with Child(argv, name="qemu-firmware wss-client") as device:
                    rc = device.wait(180)
                    device.join_output()
                    lines = device.stdout_lines
                    shown = "\n    ".join(lines[-20:])
                    if passes:
                        if rc != 0:
                            raise PeerFailure(f"wss:// with the right certificate failed (exit {rc}):\n    {shown}")
                        expect_log(lines, f"wss client: TLS 1.3 up with {WSS_NAME}, certificate verified against the CA")
                        expect_log(lines, f"wss client: PASS: text, binary, ping/pong, fragmented echo, close 1000 over TLS 1.3 with {WSS_NAME} at 10.0.2.2:{port}")
                        continue
                    if rc != 1:
                        raise PeerFailure(f"wss:// with {tag}.pem: expected exit status 1, got {rc}:\n    {shown}")
                    fail = next((line for line in lines if "wss client: FAIL" in line), "")
                    want = ("FAIL: TLS handshake failed: InvalidCertificate (the server's certificate is not "
                            "for this name, not signed by the CA, or out of date)")
                    if want not in fail or "WebSocket" in fail or any("TLS 1.3 up" in line for line in lines):
                        raise PeerFailure(f"wss:// with {tag}.pem: not a TLS certificate failure:\n    {shown}")
                    if tag == "wrong-name":
                        expect_log(lines, "does not match certificate names")
    log("device wss:// client: ok (right certificate passes; wrong name and other CA refused at TLS)")


def autobahn_subset(python: str, outdir: Path, timeout: float) -> None:
    log("== device Autobahn subset, both roles")
    argv = [python, str(REPO_ROOT / "tests" / "peers" / "autobahn.py"), "--device", "--role", "both",
            "--cases", ",".join(AUTOBAHN_SUBSET), "--outdir", str(outdir), "--timeout", str(timeout)]
    result = subprocess.run(argv, timeout=2 * timeout + 120)
    if result.returncode != 0:
        raise PeerFailure("the Autobahn subset on the device failed (see above)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wsc", required=True, help="path to the wsc binary (the device's peers)")
    ap.add_argument("--outdir", default=str(REPO_ROOT / "target" / "device-autobahn"), help="Autobahn reports")
    ap.add_argument("--autobahn-timeout", type=float, default=300, help="seconds per Autobahn role")
    ap.add_argument("--skip-autobahn", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    wsc = check_executable(args.wsc, "wsc binary")
    python = sys.executable
    started = time.monotonic()
    build_device_firmware()
    log(f"firmware built ({time.monotonic() - started:.0f} s)")
    steps = [
        ("echo server", lambda: echo_server(python)),
        ("Ethernet driver", oversize_frames),
        ("client exchange", lambda: client_exchange(wsc)),
        ("wss:// client", lambda: wss_client(wsc)),
        ("Autobahn subset", lambda: autobahn_subset(python, Path(args.outdir), args.autobahn_timeout)),
    ]
    if args.skip_autobahn:
        steps.pop()
    failed = []
    for name, step in steps:
        t = time.monotonic()
        try:
            step()
        except (PeerFailure, subprocess.TimeoutExpired) as e:
            print(f"FAIL: device {name}: {e}", file=sys.stderr, flush=True)
            failed.append(name)
        log(f"-- device {name}: {time.monotonic() - t:.1f} s")
    log(f"device checks: {len(steps) - len(failed)} of {len(steps)} passed in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    run_main(main)
