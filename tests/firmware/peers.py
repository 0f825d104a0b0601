#!/usr/bin/env python3
"""Drives the firmware's echo endpoint with Python `websockets` and raw sockets.

Run by tests/firmware.rs inside the test's network namespace (the Linux board), and by
tests/peers/device.py against the Cortex-M board under QEMU:

    python peers.py ws://192.168.69.2:8080/ [--idle-timeout SECS] [--handshake-timeout SECS]

Prints one "ok: ..." line per check, in order; the callers match them against the
firmware's log. Any failure exits with code 1 and the reason on stderr. Every network
operation has a timeout. The firmware must run with a write timeout of 2 s; with
--idle-timeout and --handshake-timeout, the timeouts it runs with are checked too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import socket
import struct
import sys
import threading
import time
import zlib
from urllib.parse import urlsplit

try:
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import InvalidMessage, InvalidStatus
except ImportError as e:  # loud, never a skip
    print(f"FAIL: Python websockets is not importable ({e}); install it in the venv", file=sys.stderr)
    sys.exit(1)

TIMEOUT = 30
# The firmware serves two connections at once and refuses a third until one of its tasks
# has fully closed its last connection (reset by the firmware, or, under QEMU's user
# networking, accepted and then closed before any answer): checks follow each other
# closely, so a connection that got no answer at all is tried again, for up to this long.
RETRY = 5.0


class Failure(Exception):
    pass


@contextlib.asynccontextmanager
async def connect(url: str, **options):
    """websockets' connect, tried again while the firmware is not accepting (see RETRY)."""
    deadline = time.monotonic() + RETRY
    while True:
        try:
            ws = await ws_connect(url, **options)
            break
        except (ConnectionRefusedError, ConnectionResetError, InvalidMessage, EOFError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
    async with ws:
        yield ws


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
# client_max_window_bits"): the client's window down to its 4 KiB, and no context of its
# own (it has no compressor: it echoes in stored blocks).
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
        check(received_rsv1 == [True] * 3, f"the firmware echoes in stored blocks (RSV1: {received_rsv1})")
        ok("3 compressed JSON messages (over 20 KiB each) inflated by the firmware and echoed")
        await ws.close(1000, "bye")


async def rejected_path(url: str) -> None:
    try:
        async with connect(url.rstrip("/") + "/nope", open_timeout=TIMEOUT):
            raise Failure("upgrade on /nope should be refused")
    except InvalidStatus as e:
        check(e.response.status_code == 404, f"404 for /nope (got {e.response.status_code})")
    ok("unknown path refused with HTTP 404")


def answered(host: str, port: int, request: bytes, enough) -> tuple[socket.socket, bytes]:
    """Sends `request` on a new connection and reads until `enough(answer)` or the
    firmware closes; a connection that got no answer at all is tried again (RETRY)."""
    deadline = time.monotonic() + RETRY
    while True:
        answer = b""
        try:
            s = socket.create_connection((host, port), timeout=TIMEOUT)
        except ConnectionRefusedError:
            s = None
        if s is not None:
            try:
                s.sendall(request)
                while not enough(answer) and (chunk := s.recv(4096)):
                    answer += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass  # after an answer, what counts is that all of it arrived
            if answer:
                return s, answer
            s.close()
        if time.monotonic() > deadline:
            raise Failure(f"no answer to {request[:30]!r} within {RETRY:.0f} s")
        time.sleep(0.05)


def raw_upgrade(host: str, port: int, extra: str = "") -> socket.socket:
    """A raw TCP connection after a completed WebSocket upgrade (`extra`: more header
    lines, each ending with CRLF)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode()
    s, head = answered(host, port, request, lambda answer: b"\r\n\r\n" in answer)
    check(head.startswith(b"HTTP/1.1 101") and head.endswith(b"\r\n\r\n"), f"101 response, got {head[:40]!r}")
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
    """The next data message from the firmware (its frames unmasked), inflated if it came
    compressed (the firmware sends stored blocks on a permessage-deflate connection)."""
    data, message, compressed = b"", b"", None
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
        if compressed is None:
            compressed = bool(data[0] & 0x40)
        fin, data = data[0] & 0x80, data[at + n:]
        if fin:
            return zlib.decompressobj(-15).decompress(message + b"\x00\x00\xff\xff") if compressed else message


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
        check(read_message(s) == text.encode(), "the echo of a compressed message (stored blocks)")
        s.close()
        s = raw_upgrade(host, port, offer)
        s.sendall(masked_frame(0x1, bytes.fromhex(payload), rsv1=True))
        code = read_close_code(s)
        check(code == 1007, f"close 1007 for {name} (got {code})")
        s.close()
    ok("back-references before the start of the stream closed with 1007, window reused")


def raw_exchange(host: str, port: int, request: bytes) -> bytes:
    """Sends `request` whole (the firmware may answer before the end of it), then reads
    the answer until the firmware closes: all of it must arrive."""
    s, answer = answered(host, port, request, lambda _: False)
    s.close()
    return answer


def bad_handshakes(host: str, port: int) -> None:
    start = (f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\n")
    key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    for what, request, status in [
        ("no Sec-WebSocket-Key", start + "Sec-WebSocket-Version: 13\r\n\r\n", b"400"),
        ("version 8", start + key + "Sec-WebSocket-Version: 8\r\n\r\n", b"426"),
        ("not HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"400"),
    ]:
        answer = raw_exchange(host, port, request.encode("latin-1"))
        check(answer.startswith(b"HTTP/1.1 " + status + b" "), f"{what}: HTTP {status.decode()} (got {answer[:40]!r})")
    # A request head of 100 KB, far over the 4 KiB receive buffer: the firmware answers
    # 431 while the client is still sending, and must let it read the whole answer
    # (drain, then close) rather than reset the connection under it.
    huge = (start + key + "Sec-WebSocket-Version: 13\r\nX-Padding: " + "a" * 100_000 + "\r\n\r\n").encode()
    answer = raw_exchange(host, port, huge)
    head, _, body = answer.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 431 "), f"431 for a 100 KB request head (got {answer[:60]!r})")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), -1)
    check(len(body) == length, f"the whole 431 answer arrived ({len(body)} of {length} body bytes)")
    ok("bad handshakes answered: 400 (no key, not HTTP), 426 (version 8), 431 (100 KB head, read whole)")


def bad_frames(host: str, port: int) -> None:
    for what, frame, code in [
        ("reserved opcode 3", masked_frame(0x3, b"x"), 1002),
        ("invalid UTF-8 text", masked_frame(0x1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"), 1007),
        ("ping of 126 bytes", masked_frame(0x9, b"p" * 126), 1002),
        ("fragmented ping", masked_frame(0x9, b"p", fin=False), 1002),
        ("close code 999", masked_frame(0x8, struct.pack("!H", 999)), 1002),
        ("continuation without a start", masked_frame(0x0, b"x"), 1002),
        ("RSV1 without permessage-deflate", bytes([0xC1]) + masked_frame(0x1, b"x")[1:], 1002),
    ]:
        s = raw_upgrade(host, port)
        s.sendall(frame)
        got = read_close_code(s)
        s.close()
        check(got == code, f"{what}: close {code} (got {got})")
    ok("bad frames closed with the right code: 1002 (reserved opcode, long or fragmented ping, "
       "close code 999, stray continuation, RSV1), 1007 (invalid UTF-8)")


def another_client_served(url: str, started: threading.Event, result: list) -> None:
    """While a bad peer holds one of the firmware's connections: a second client must be
    served, with a short echo (run in a thread, with its own event loop)."""
    async def echo() -> None:
        async with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
            await ws.send("served meanwhile")
            check(await ws.recv() == "served meanwhile", "the other client's echo")
    started.wait(TIMEOUT)
    try:
        asyncio.run(asyncio.wait_for(echo(), TIMEOUT))
        result.append(None)
    except Exception as e:  # noqa: BLE001 - reported by the caller
        result.append(e)


def while_another_is_served(url: str, bad_peer) -> float:
    """Runs `bad_peer(started)` (it sets `started` once it holds its connection) while
    another client is served; returns how long the bad peer lasted."""
    started, result = threading.Event(), []
    other = threading.Thread(target=another_client_served, args=(url, started, result))
    other.start()
    took = bad_peer(started)
    other.join(TIMEOUT)
    check(result == [None], f"another client served while a bad peer held a connection ({result})")
    return took


# Set by --relayed: between this script and the firmware sits QEMU's user networking, a
# TCP relay with buffers of its own, which sometimes holds a connection the firmware has
# already dropped (the client's sends just stall). There, a stall counts as the end, and
# the caller checks the firmware's log for the cut.
RELAYED = False


def cut_by_the_write_timeout(s: socket.socket, started: threading.Event, burst: bytes) -> float:
    """Sends `burst` again and again and reads nothing, until the firmware drops the
    connection; returns how long that took."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10 if RELAYED else TIMEOUT)
    start = time.monotonic()
    try:
        while time.monotonic() - start < 30:
            s.sendall(burst)
            started.set()
        raise Failure("the firmware was still taking frames after 30 s without a reply read")
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        if not RELAYED:
            raise Failure("the firmware stopped reading but never dropped the connection")
    finally:
        started.set()
        s.close()
    return time.monotonic() - start


def ping_flood_without_reading(url: str, host: str, port: int) -> None:
    # Pings as fast as the firmware takes them, and the pongs are never read: once the
    # buffers between the two fill up, the firmware's pong write stalls. It must give up
    # within its write timeout (2 s) rather than hold the task, and serve others meanwhile.
    burst = masked_frame(0x9, b"p" * 125) * 64
    took = while_another_is_served(url, lambda started: cut_by_the_write_timeout(raw_upgrade(host, port), started, burst))
    check(took < 25, f"dropped within the write timeout plus buffering (took {took:.1f} s)")
    ok(f"ping flood without reading the pongs dropped after {took:.1f} s, another client served meanwhile")


def echo_never_read(url: str, host: str, port: int) -> None:
    # Data frames faster than they are echoed, and the echoes never read (the client's
    # window stays closed): the firmware's echo write stalls once the buffers between
    # are full, and the write timeout ends it.
    burst = masked_frame(0x2, os.urandom(16 * 1024)) * 4
    took = while_another_is_served(url, lambda started: cut_by_the_write_timeout(raw_upgrade(host, port), started, burst))
    check(took < 30, f"dropped within the write timeout plus buffering (took {took:.1f} s)")
    ok(f"data flood with the echoes never read dropped after {took:.1f} s, another client served meanwhile")


async def two_clients_at_once(url: str) -> None:
    async with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, compression=None) as a, \
            connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, compression=None) as b:
        for i in range(20):
            await a.send(f"a{i}")
            await b.send(f"b{i}" * 100)
            check(await b.recv() == f"b{i}" * 100, "client b's echo")
            check(await a.recv() == f"a{i}", "client a's echo")
    ok("two clients at once, their echoes interleaved")


def trickled_request_dropped(host: str, port: int, deadline: float) -> None:
    # A request head sent a byte at a time, each read well within the idle timeout: the
    # firmware drops it at its request deadline, without an answer.
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    head = f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n" + "X-Slow: " + "a" * 200
    start = time.monotonic()
    answer = b""
    try:
        for byte in head.encode():
            s.sendall(bytes([byte]))
            time.sleep(0.25)
            if time.monotonic() - start > deadline + 10:
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    s.settimeout(5)
    try:
        answer = s.recv(1024)
    except (ConnectionResetError, socket.timeout):
        pass
    took = time.monotonic() - start
    s.close()
    check(answer == b"", f"no answer to a trickled request (got {answer[:40]!r})")
    check(deadline - 1 <= took <= deadline + 6, f"a trickled request dropped after {deadline:.0f} s (took {took:.1f} s)")
    ok(f"request head trickled a byte at a time dropped after {took:.1f} s (request deadline {deadline:.0f} s)")


def idle_connection_dropped(host: str, port: int, idle: float) -> None:
    # Upgraded, then silent: the firmware drops it after its idle timeout.
    s = raw_upgrade(host, port)
    start = time.monotonic()
    try:
        while s.recv(1024):
            pass
    except ConnectionResetError:
        pass
    took = time.monotonic() - start
    s.close()
    check(idle - 1 <= took <= idle + 5, f"a silent connection dropped after {idle:.0f} s (took {took:.1f} s)")
    ok(f"silent connection dropped after {took:.1f} s (idle timeout {idle:.0f} s)")


async def survives(url: str) -> None:
    async with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        await ws.send("still there?")
        check(await ws.recv() == "still there?", "echo after the disconnects")
    ok("firmware accepts and echoes after the abrupt disconnects")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--idle-timeout", type=float, help="the firmware's idle timeout, to check it")
    parser.add_argument("--handshake-timeout", type=float, help="the firmware's request deadline, to check it")
    parser.add_argument("--relayed", action="store_true",
                        help="QEMU's user networking is in between: a flood's cut is confirmed in the firmware's log")
    args = parser.parse_args()
    global RELAYED
    RELAYED = args.relayed
    url = args.url
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    await echo_checks(url)
    await deflate_checks(url)
    await rejected_path(url)
    await two_clients_at_once(url)
    abrupt_disconnects(host, port)
    protocol_error(host, port)
    bad_handshakes(host, port)
    bad_frames(host, port)
    hostile_deflate(host, port)
    # The bad peers run in threads of their own; the other client's event loop too.
    await asyncio.to_thread(ping_flood_without_reading, url, host, port)
    await asyncio.to_thread(echo_never_read, url, host, port)
    if args.idle_timeout is not None:
        await asyncio.to_thread(idle_connection_dropped, host, port, args.idle_timeout)
    if args.handshake_timeout is not None:
        await asyncio.to_thread(trickled_request_dropped, host, port, args.handshake_timeout)
    await asyncio.sleep(0.5)
    await survives(url)


def run(checks) -> None:
    """Runs the coroutine `checks`; any failure exits with code 1 and the reason on stderr."""
    try:
        asyncio.run(checks)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any error fails the run, loudly
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run(asyncio.wait_for(main(), 300))
