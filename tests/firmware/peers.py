#!/usr/bin/env python3
"""Drives the firmware's echo endpoint with Python `websockets` and raw sockets.

Run by tests/firmware.rs inside the test's network namespace:

    python peers.py ws://192.168.69.2:8080/

Prints one "ok: ..." line per check, in order; the Rust test matches them against the
firmware's log. Any failure exits with code 1 and the reason on stderr. Every network
operation has a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import sys
import time
import zlib
from urllib.parse import urlsplit

try:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus
except ImportError as e:  # loud, never a skip
    print(f"FAIL: Python websockets is not importable ({e}); install it in the venv", file=sys.stderr)
    sys.exit(1)

TIMEOUT = 30


class Failure(Exception):
    pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Failure(what)


def ok(what: str) -> None:
    print(f"ok: {what}", flush=True)


async def echo_checks(url: str) -> None:
    # max_queue=None: read frames as they arrive; the firmware streams long messages back
    # while it still receives them, so a client must read while it writes.
    async with connect(url, max_size=None, max_queue=None, compression=None,
                       open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        await ws.send("hello from websockets")
        check(await ws.recv() == "hello from websockets", "text echo")
        ok("text echo")

        payload = bytes(range(256)) * 4
        await ws.send(payload)
        check(await ws.recv() == payload, "binary echo")
        ok("binary echo")

        pong = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(pong, TIMEOUT)
        ok(f"ping/pong ({latency * 1000:.1f} ms)")

        # A message the client sends in fragments: the firmware gets pieces, echoes whole.
        await ws.send(["frag", "ment", "ed ", "text ", "ü" * 10])
        check(await ws.recv() == "fragmented text " + "ü" * 10, "fragmented message echo")
        ok("fragmented message (client fragments) echo")

        # Larger than the firmware's 4 KiB receive buffer: it streams the message back in
        # fragments as it arrives (streaming mode), with fixed memory.
        big = os.urandom(200 * 1024)
        await ws.send(big)
        check(await ws.recv() == big, "200 KiB binary echo")
        text = ("0123456789abcdef" * 1024 + "€") * 4
        await ws.send(text)
        check(await ws.recv() == text, "64 KiB text echo")
        ok("large messages (200 KiB binary, 64 KiB text) streamed back in fragments")

        await ws.close(1000, "bye")
        check(ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1000,
              f"close reply 1000 (got {ws.protocol.close_rcvd})")
        ok("clean close 1000")


# What the firmware answers websockets' default offer ("permessage-deflate;
# client_max_window_bits"): the client's window down to its 4 KiB, and no compression of
# its own (it has no compressor).
FIRMWARE_ANSWER = "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"


async def deflate_checks(url: str) -> None:
    async with connect(url, max_size=None, max_queue=None, compression="deflate",
                       open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions")
        check(ext == FIRMWARE_ANSWER, f"permessage-deflate answer {FIRMWARE_ANSWER!r} (got {ext!r})")
        ok(f"permessage-deflate agreed: {ext}")
        deflate = next(e for e in ws.protocol.extensions if e.name == "permessage-deflate")
        sent_rsv1: list[bool] = []
        received_rsv1: list[bool] = []
        encode, decode = deflate.encode, deflate.decode

        def recording_encode(frame):
            out = encode(frame)
            if out.opcode.value in (1, 2):
                sent_rsv1.append(out.rsv1)
            return out

        def recording_decode(frame, *, max_size=None):
            if frame.opcode.value in (1, 2):
                received_rsv1.append(frame.rsv1)
            return decode(frame, max_size=max_size)

        deflate.encode, deflate.decode = recording_encode, recording_decode
        # JSON larger than the firmware's 4 KiB window and receive buffer, then more of it
        # (the client keeps its context: later messages refer back into the window).
        for i in range(3):
            text = "".join(f'{{"sensor": {n}, "reading": {i}.{n % 10}}}, ' for n in range(700))
            await ws.send(text)
            check(await ws.recv() == text, f"compressed JSON echo {i}")
        check(sent_rsv1 == [True] * 3, f"websockets sent the JSON compressed (RSV1: {sent_rsv1})")
        check(received_rsv1 == [False] * 3, f"the firmware echoes uncompressed (RSV1: {received_rsv1})")
        ok("3 compressed JSON messages (over 20 KiB each) inflated by the firmware and echoed")
        await ws.close(1000, "bye")


async def rejected_path(url: str) -> None:
    try:
        async with connect(url.rstrip("/") + "/nope", open_timeout=TIMEOUT):
            raise Failure("upgrade on /nope should be refused")
    except InvalidStatus as e:
        check(e.response.status_code == 404, f"404 for /nope (got {e.response.status_code})")
    ok("unknown path refused with HTTP 404")


def raw_upgrade(host: str, port: int, extra: str = "") -> socket.socket:
    """A raw TCP connection after a completed WebSocket upgrade (`extra`: more header
    lines, each ending with CRLF)."""
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
         f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1024)
        check(bool(chunk), "upgrade response")
        head += chunk
    check(head.startswith(b"HTTP/1.1 101"), f"101 response, got {head[:40]!r}")
    return s


def masked_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_message(s: socket.socket) -> bytes:
    """The payload of the next data message from the firmware (its frames unmasked)."""
    data, message = b"", b""
    while True:
        while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F) + (2 if data[1] & 0x7F == 126 else 0):
            chunk = s.recv(65536)
            check(bool(chunk), "a message before EOF")
            data += chunk
        n, at = data[1] & 0x7F, 2
        check(n != 127, "a frame under 64 KiB")
        if n == 126:
            n, at = struct.unpack("!H", data[2:4])[0], 4
        while len(data) < at + n:
            chunk = s.recv(65536)
            check(bool(chunk), "a whole frame before EOF")
            data += chunk
        message += data[at:at + n]
        fin, data = data[0] & 0x80, data[at + n:]
        if fin:
            return message


def read_close_code(s: socket.socket) -> int:
    data = b""
    while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F):
        chunk = s.recv(1024)
        check(bool(chunk), "a close frame before EOF")
        data += chunk
    check(data[0] == 0x88, f"a close frame, got {data[:8].hex()}")
    return struct.unpack("!H", data[2:4])[0]


def abrupt_disconnects(host: str, port: int) -> None:
    # The host drops the connection in the middle of a message: EOF (FIN), no close frame.
    s = raw_upgrade(host, port)
    s.sendall(masked_frame(0x1, b"half a message that never ends" * 4)[:40])
    s.close()
    ok("abrupt disconnect (FIN mid-frame, no close frame)")

    # The host resets the connection (RST) while the firmware waits for the next frame.
    s = raw_upgrade(host, port)
    s.sendall(masked_frame(0x1, b"echo me"))
    check(s.recv(64) == b"\x81\x07echo me", "echo before the reset")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    ok("abrupt disconnect (RST after an echo)")


def protocol_error(host: str, port: int) -> None:
    # An unmasked frame from a client: the firmware must close with 1002.
    s = raw_upgrade(host, port)
    s.sendall(b"\x81\x02hi")
    code = read_close_code(s)
    check(code == 1002, f"close 1002 for an unmasked frame (got {code})")
    s.close()
    ok("unmasked client frame closed with 1002")


def hostile_deflate(host: str, port: int) -> None:
    # Back-references before the start of the stream (RFC 1951 section 3.2.1 forbids
    # them; zlib says "invalid distance too far back"): a match as the very first symbol,
    # and "a" then a match 2 back, each on a new connection whose window the last one
    # filled (the firmware lends the same window to every connection). Both must fail
    # with 1007, and nothing of the earlier connection may come back.
    offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    text = "the previous connection's plaintext, " * 40
    for name, payload in [("a match as the first symbol", "02020000"),
                          ('"a", then 3 bytes from 2 back', "4a04420000")]:
        s = raw_upgrade(host, port, offer)
        c = zlib.compressobj(6, zlib.DEFLATED, -12)
        s.sendall(masked_frame(0x1, (c.compress(text.encode()) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv1=True))
        check(read_message(s) == text.encode(), "the echo of a compressed message")
        s.close()
        s = raw_upgrade(host, port, offer)
        s.sendall(masked_frame(0x1, bytes.fromhex(payload), rsv1=True))
        code = read_close_code(s)
        check(code == 1007, f"close 1007 for {name} (got {code})")
        s.close()
    ok("back-references before the start of the stream closed with 1007, window reused")


def ping_flood_without_reading(host: str, port: int) -> None:
    # Pings as fast as the firmware takes them, and the pongs are never read: once the
    # buffers between the two fill up, the firmware's pong write stalls. It must give up
    # within its write timeout (the test starts it with 2 s) rather than hold the task.
    s = raw_upgrade(host, port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    burst = masked_frame(0x9, b"p" * 125) * 64
    start = time.monotonic()
    try:
        while time.monotonic() - start < 20:
            s.sendall(burst)
        raise Failure("the firmware was still taking pings after 20 s without a pong read")
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        raise Failure("the firmware stopped reading but never dropped the connection")
    took = time.monotonic() - start
    s.close()
    check(took < 12, f"dropped within the write timeout plus buffering (took {took:.1f} s)")
    ok(f"ping flood without reading the pongs dropped after {took:.1f} s")


async def survives(url: str) -> None:
    async with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        await ws.send("still there?")
        check(await ws.recv() == "still there?", "echo after the disconnects")
    ok("firmware accepts and echoes after the abrupt disconnects")


async def main() -> None:
    url = sys.argv[1]
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    await echo_checks(url)
    await deflate_checks(url)
    await rejected_path(url)
    abrupt_disconnects(host, port)
    protocol_error(host, port)
    hostile_deflate(host, port)
    ping_flood_without_reading(host, port)
    await asyncio.sleep(0.5)
    await survives(url)


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), 300))
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any error fails the run, loudly
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
