#!/usr/bin/env python3
"""Writes the Autobahn seeds of `inflate_differential` (corpus/inflate_differential/
seed-autobahn-*): the compressed messages of the Autobahn TestSuite's sections 12 and 13
(permessage-deflate), as its own case files send them.

Runs kosoku's fuzzingclient (cases 12.* and 13.*) against `wsc serve` through a relay on
loopback that records the first bytes each case's connection sends, and then cuts it (so
the run takes minutes, and kosoku reports the cases as failed: its verdicts are not the
point here). From each case it keeps the first two messages (in order, as long as they
come to 16 KiB of compressed payload) and what was agreed: context takeover or not. The
mode byte alternates the receive mode, role and window over the cases, so that every way
in is seeded.

    .venv/bin/python fuzz/seeds-gen/capture_autobahn.py --wsc target/release/wsc

(kosoku and the venv as scripts/test installs them.)"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "peers"))
from _common import Child, start_wsc_serve  # noqa: E402
from autobahn import find_kosoku  # noqa: E402

OUT = HERE.parent / "corpus" / "inflate_differential"
RECORD = 96 * 1024  # bytes recorded from the start of each connection, which is then cut
MAX_MESSAGES = 2
MAX_TOTAL = 16 * 1024


class Relay:
    """A TCP relay that records, per connection, the first RECORD bytes each way, and
    cuts the connection once the client has sent that much."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[tuple[bytearray, bytearray]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            record = (bytearray(), bytearray())
            self.connections.append(record)
            for src, dst, rec in ((client, server, record[0]), (server, client, record[1])):
                threading.Thread(target=self._pump, args=(src, dst, rec, (client, server)),
                                 daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, record: bytearray, both) -> None:
        try:
            while len(record) < RECORD:
                data = src.recv(65536)
                if not data:
                    break
                record += data[: RECORD - len(record)]
                dst.sendall(data)
        except OSError:
            pass
        for s in both:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def messages(wire: bytes) -> list[tuple[int, bytes]]:
    """The compressed messages (opcode, payload) in a client's frames, until the record
    ends or a frame is cut."""
    out, at, current = [], 0, None
    while at + 2 <= len(wire):
        b0, b1 = wire[at], wire[at + 1]
        n, at = b1 & 0x7F, at + 2
        if n == 126:
            n, at = struct.unpack_from(">H", wire, at)[0], at + 2
        elif n == 127:
            n, at = struct.unpack_from(">Q", wire, at)[0], at + 8
        key = wire[at:at + 4] if b1 & 0x80 else b"\0\0\0\0"
        at += 4 if b1 & 0x80 else 0
        if at + n > len(wire):
            break
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(wire[at:at + n]))
        at += n
        opcode = b0 & 0x0F
        if opcode in (1, 2):
            current = (opcode, b0 & 0x40, bytearray(payload))
        elif opcode == 0 and current is not None:
            current[2].extend(payload)
        else:
            continue
        if b0 & 0x80 and current is not None:
            if current[1]:
                out.append((current[0], bytes(current[2])))
            current = None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wsc", required=True, help="path to the wsc binary")
    ap.add_argument("--kosoku", help="path to the kosoku executable (default: beside this Python)")
    args = ap.parse_args()
    kosoku = find_kosoku(args.kosoku)
    wsc, addr = start_wsc_serve(args.wsc)
    host, port = addr.rsplit(":", 1)
    relay = Relay((host, int(port)))
    outdir = Path(tempfile.mkdtemp(prefix="autobahn-seeds-"))
    try:
        with wsc:
            argv = [kosoku, "-m", "fuzzingclient", f"ws://127.0.0.1:{relay.port}", "-o", str(outdir),
                    "-i", "12.*", "-i", "13.*"]
            with Child(argv, name="kosoku", echo_stdout=False, echo_stderr=False, cwd=str(outdir)) as k:
                if k.wait(3600) is None:
                    k.kill()
                    sys.exit("kosoku did not finish within an hour")
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    cases = [f"12.{a}.{b}" for a in range(1, 6) for b in range(1, 19)]
    cases += [f"13.{a}.{b}" for a in range(1, 8) for b in range(1, 19)]
    if len(relay.connections) != len(cases):
        sys.exit(f"expected {len(cases)} connections (one per case), recorded {len(relay.connections)}")
    for old in OUT.glob("seed-autobahn-*"):
        old.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    written = 0
    for i, (case, (sent, answered)) in enumerate(zip(cases, relay.connections)):
        head = bytes(answered[: answered.find(b"\r\n\r\n")]).decode("latin-1")
        agreed = re.search(r"(?im)^sec-websocket-extensions:\s*(.*)$", head)
        if not agreed:
            sys.exit(f"case {case}: no permessage-deflate agreed: {head!r}")
        keep = "client_no_context_takeover" not in agreed.group(1)
        body = bytes(sent[sent.find(b"\r\n\r\n") + 4:])
        script, total = b"", 0
        for opcode, payload in messages(body)[:MAX_MESSAGES]:
            if len(payload) > 0xFFFF or total + len(payload) > MAX_TOTAL:
                break
            total += len(payload)
            flags = (2 if opcode == 1 else 0) | (1 if i % 3 == 2 else 0)
            script += struct.pack(">HB", len(payload), flags) + payload
        if not script:
            continue
        # Modes by case: streaming or not, the role, a window of 32 KiB, 40,000 B or 64 KiB
        # (none for every fourth case without context), and limits of 256 KiB and 64 KiB.
        mode = (i & 1) | (2 if keep else 0) | ((i >> 1) % 3) << 2 | (0x10 if i % 5 == 4 else 0)
        if not keep and i % 4 == 0:
            mode = (mode & 0x12) | 3 << 2
        limit = 0xFF if i % 2 == 0 else 0x8F  # 256 KiB, 1024-byte reads / 64 KiB, 64-byte reads
        (OUT / f"seed-autobahn-{case}").write_bytes(bytes([mode, limit]) + script)
        written += 1
    print(f"{written} seeds from {len(cases)} cases in {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
