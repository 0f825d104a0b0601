#!/usr/bin/env python3
"""Interop checks between `wsc` and the Python `websockets` library (a real peer).

  client-vs-server --wsc PATH   websockets' client against `wsc serve`
  server-vs-client --wsc PATH   `wsc connect` against a websockets echo server

Each mode runs twice: without compression, and with permessage-deflate as websockets
offers and answers it by default. With it, every check also asserts the negotiated
parameters and that the frames really went compressed (RSV1) in both directions: the
PerMessageDeflate extension object of the websockets side is wrapped to record the RSV1
bit of every data frame it decodes and encodes.

Every check is printed; the first failure ends the run (exit 1) with a precise
message. Needs websockets >= 13 (uses websockets.sync.client and
websockets.asyncio.server); run it with the repo's .venv/bin/python.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Child, PeerFailure, check_executable, free_port, log, run_main, start_wsc_serve  # noqa: E402

try:
    import websockets
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
except ImportError as e:  # pragma: no cover
    print(f"FAIL: Python websockets >= 13 is required ({e}); use .venv/bin/python", file=sys.stderr)
    sys.exit(1)

TIMEOUT = 10.0  # per network operation


class Checks:
    def __init__(self) -> None:
        self.n = 0

    def ok(self, what: str) -> None:
        self.n += 1
        log(f"  ok {self.n}: {what}")


def fail(what: str, detail: str) -> PeerFailure:
    return PeerFailure(f"{what}: {detail}")


def client_conn(url: str, compression: str | None):
    return connect(
        url,
        compression=compression,
        max_size=None,
        ping_interval=None,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


class Rsv1:
    """Records the RSV1 bit of the data frames a websockets connection decodes (received)
    and encodes (sent), by wrapping its permessage-deflate extension: one entry per message
    (its first frame's RSV1), and whether any continuation frame had RSV1 (never allowed)."""

    def __init__(self, protocol) -> None:
        self.received: list[bool] = []
        self.sent: list[bool] = []
        self.bad_continuation = False
        exts = [e for e in protocol.extensions if e.name == "permessage-deflate"]
        if not exts:
            raise PeerFailure(f"permessage-deflate is not active (extensions: {protocol.extensions!r})")
        ext = exts[0]
        decode, encode = ext.decode, ext.encode

        def record(into: list[bool], frame) -> None:
            if frame.opcode.value in (1, 2):
                into.append(frame.rsv1)
            elif frame.opcode.value == 0 and frame.rsv1:
                self.bad_continuation = True

        def wrapped_decode(frame, *, max_size=None):
            record(self.received, frame)
            return decode(frame, max_size=max_size)

        def wrapped_encode(frame):
            out = encode(frame)
            record(self.sent, out)
            return out

        ext.decode, ext.encode = wrapped_decode, wrapped_encode
        self.ext = ext

    def take(self) -> tuple[list[bool], list[bool]]:
        if self.bad_continuation:
            raise PeerFailure("a continuation frame had RSV1 set")
        out = (self.received, self.sent)
        self.received, self.sent = [], []
        return out


def expect_echo(ws, payload, what: str, checks: Checks) -> None:
    try:
        ws.send(payload)
        got = ws.recv(timeout=TIMEOUT)
    except TimeoutError:
        raise fail(what, f"no echo within {TIMEOUT:.0f}s") from None
    except ConnectionClosed as e:
        raise fail(what, f"connection closed instead of echoing: {e}") from None
    if type(got) is not type(payload):
        raise fail(
            what,
            f"echo has the wrong type: sent {'text' if isinstance(payload, str) else 'binary'}, "
            f"got {'text' if isinstance(got, str) else 'binary'}",
        )
    if got != payload:
        n = min(len(got), len(payload))
        first = next((i for i in range(n) if got[i] != payload[i]), n)
        raise fail(what, f"echo differs: sent {len(payload)} units, got {len(got)}, first difference at index {first}")
    checks.ok(what)


def expect_close(ws, code: int, reason: str, what: str, checks: Checks) -> None:
    try:
        ws.close(code, reason)
    except Exception as e:  # noqa: BLE001
        raise fail(what, f"close() raised {e!r}") from None
    rcvd = ws.protocol.close_rcvd
    if rcvd is None:
        raise fail(what, f"the server sent no close frame (connection state {ws.protocol.state.name})")
    if rcvd.code != code or rcvd.reason != reason:
        raise fail(
            what,
            f"server must echo the close code and reason: sent {code} {reason!r}, "
            f"received {rcvd.code} {rcvd.reason!r}",
        )
    checks.ok(what)


# What wsc serve answers websockets' default offer ("permessage-deflate;
# client_max_window_bits"): its 32 KiB window keeps the client's context; it compresses
# each reply on its own, and says so.
SERVE_ANSWER = "permessage-deflate; server_no_context_takeover"


def client_vs_server(wsc: str) -> int:
    for compression in (None, "deflate"):
        client_vs_server_with(wsc, compression)
    return 0


def client_vs_server_with(wsc: str, compression: str | None) -> None:
    label = compression or "no compression"
    log(f"== websockets {websockets.version.version} client ({label}) -> wsc serve")
    checks = Checks()
    server, addr = start_wsc_serve(wsc)
    with server:
        url = f"ws://{addr}/"
        checks.ok(f"wsc serve is listening on {url}")
        try:
            ws = client_conn(url, compression)
        except Exception as e:  # noqa: BLE001
            raise fail("opening handshake", f"{e!r}") from None
        with ws:
            ext = ws.response.headers.get("Sec-WebSocket-Extensions")
            rsv1 = None
            if compression is None:
                if ext:
                    raise fail("opening handshake", f"no extension was offered but the server answered Sec-WebSocket-Extensions: {ext}")
                checks.ok(f"opening handshake (HTTP {ws.response.status_code}, no extension)")
            else:
                offer = ws.request.headers.get("Sec-WebSocket-Extensions")
                if ext != SERVE_ANSWER:
                    raise fail("opening handshake", f"offered {offer!r}: expected the answer {SERVE_ANSWER!r}, got {ext!r}")
                rsv1 = Rsv1(ws.protocol)
                checks.ok(f"opening handshake: offered {offer!r}, wsc serve answered {ext!r}")
            big_text = ("{\"id\": %d, \"ok\": true}, " * 40000) % tuple(range(40000))
            expect_echo(ws, big_text, "1 MiB of JSON-like text echo", checks)
            if rsv1 is not None:
                received, sent = rsv1.take()
                if sent != [True] or received != [True]:
                    raise fail("compressed text", f"the JSON must go compressed both ways: RSV1 sent {sent}, received {received}")
                checks.ok("the JSON went compressed both ways (RSV1 on the first frame only)")
            expect_echo(ws, "hello from websockets \u2713 \U0001f600", "text echo", checks)
            expect_echo(ws, bytes(range(256)) * 4, "binary echo (1 KiB, all byte values)", checks)
            expect_echo(ws, "", "empty text echo", checks)
            big = os.urandom(1 << 20)
            expect_echo(ws, big, "1 MiB binary message echo", checks)
            expect_echo(ws, "x" * (1 << 20), "1 MiB text message echo", checks)
            try:
                pong = ws.ping(b"are you there")
            except ConnectionClosed as e:
                raise fail("ping -> pong", f"connection closed: {e}") from None
            if not pong.wait(TIMEOUT):
                raise fail("ping -> pong", f"no pong with the ping's payload within {TIMEOUT:.0f}s")
            checks.ok("ping -> pong (payload matched)")
            expect_echo(ws, "after ping", "text echo after ping", checks)
            if rsv1 is not None:
                received, sent = rsv1.take()
                if not sent or not all(sent) or received != sent:
                    raise fail("compressed messages", f"every message must have gone compressed both ways: RSV1 sent {sent}, received {received}")
                checks.ok(f"the {len(sent)} messages after went compressed both ways")
            expect_close(ws, 1000, "", "close 1000 (server echoes 1000)", checks)
        with client_conn(url, compression) as ws:
            expect_echo(ws, b"\x00second connection", "second connection: binary echo", checks)
            expect_close(ws, 4000, "custom reason \u00e9", "close 4000 with a reason (server echoes code and reason)", checks)
        if not server.alive():
            raise fail("wsc serve", f"exited during the checks (code {server.proc.returncode}); stderr:\n    {server.stderr_tail()}")
        checks.ok("wsc serve still running after both connections")
    log(f"client-vs-server ({label}): {checks.n} checks passed")


class EchoServer:
    """websockets asyncio echo server on a background thread."""

    def __init__(self, compression: str | None) -> None:
        self.compression = compression
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.received: list[object] = []
        self.close_codes: list[tuple[int | None, str | None]] = []
        self.answers: list[str | None] = []
        self.rsv1: list[Rsv1] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Future | None = None

    async def _handler(self, ws) -> None:
        self.answers.append(ws.response.headers.get("Sec-WebSocket-Extensions"))
        if self.compression:
            self.rsv1.append(Rsv1(ws.protocol))
        try:
            async for msg in ws:
                self.received.append(msg)
                await ws.send(msg)
        except ConnectionClosed:
            pass
        finally:
            rcvd = ws.protocol.close_rcvd
            self.close_codes.append((rcvd.code, rcvd.reason) if rcvd else (None, None))

    async def _main(self) -> None:
        self._stop = self.loop.create_future()
        async with serve(
            self._handler, "127.0.0.1", self.port, compression=self.compression, max_size=None, ping_interval=None
        ):
            self.ready.set()
            await self._stop

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as e:  # noqa: BLE001
            self.error = e
            self.ready.set()

    def __enter__(self) -> "EchoServer":
        self.thread.start()
        if not self.ready.wait(TIMEOUT) or self.error:
            raise PeerFailure(f"could not start the websockets echo server on 127.0.0.1:{self.port}: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
        self.thread.join(TIMEOUT)


# websockets' default answer (server_max_window_bits=12, client_max_window_bits=12) to
# wsc's offer ("permessage-deflate; client_no_context_takeover; client_max_window_bits"),
# as wsc connect reports it: wsc keeps the server's context in its 32 KiB window.
CONNECT_AGREED = (
    "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; "
    "client_max_window_bits=12 "
    "(sent: 12-bit window, each message on its own; received: 12-bit window, context kept)"
)


def server_vs_client(wsc: str) -> int:
    for compression in (None, "deflate"):
        server_vs_client_with(wsc, compression)
    return 0


def server_vs_client_with(wsc: str, compression: str | None) -> None:
    label = compression or "no compression"
    log(f"== wsc connect -> websockets {websockets.version.version} echo server ({label})")
    wsc = check_executable(wsc, "wsc binary")
    checks = Checks()
    # A line that compresses well and fits a 4 KiB window (client_max_window_bits=12).
    json_line = ("{\"sensor\": %d, \"value\": 21.5}, " * 30) % tuple(range(30))
    with EchoServer(compression) as srv:
        url = f"ws://127.0.0.1:{srv.port}/"
        checks.ok(f"websockets echo server listening on {url}")
        argv = [wsc, "connect", url]
        log("$ " + " ".join(argv) + "   (stdin: hello, world, a JSON line, then EOF once the echoes are printed)")
        t0 = time.monotonic()
        with Child(argv, name="wsc connect", stdin=subprocess.PIPE, echo_stdout=True, echo_stderr=True) as proc:
            try:
                proc.proc.stdin.write(b"hello\nworld\n" + json_line.encode() + b"\n")
                proc.proc.stdin.flush()
            except OSError as e:
                raise fail("wsc connect", f"could not write to its stdin: {e} (exit code {proc.proc.poll()})") from None
            # Hold stdin open until both echoes are printed: closing it at once
            # would race the close handshake against the server's echoes (an
            # endpoint may not send data after it received a close frame).
            try:
                proc.wait_line(r"^\s*hello\s*$", TIMEOUT)
                proc.wait_line(r"^\s*world\s*$", TIMEOUT)
                proc.wait_line(r"^\{.*\}, $", TIMEOUT)
                checks.ok("the echoes 'hello', 'world' and the JSON line were printed while stdin was open")
            except PeerFailure as e:
                if not proc.alive():
                    raise fail("wsc connect", str(e)) from None
                log(f"  note: echoes not seen before EOF ({e}); sending EOF anyway")
            proc.proc.stdin.close()
            rc = proc.wait(30)
            if rc is None:
                raise fail("wsc connect", "did not exit within 30s after stdin EOF (close 1000 handshake not finished?)")
            proc.join_output()
            out = "\n".join(proc.stdout_lines)
        log(f"  wsc connect exited with code {rc} after {time.monotonic() - t0:.1f}s")
        if rc != 0:
            raise fail("wsc connect", f"exited with code {rc}")
        checks.ok("wsc connect exited with code 0")
        if srv.received != ["hello", "world", json_line]:
            raise fail("server side", f"expected text messages ['hello', 'world', <json>], the server received {srv.received!r}"[:400])
        checks.ok("server received text messages 'hello', 'world' and the JSON line in order")
        stderr = "\n".join(proc.stderr_lines)
        if compression is None:
            if srv.answers != [None] or "permessage-deflate" in stderr:
                raise fail("negotiation", f"nothing must be agreed without compression: answered {srv.answers}, wsc said {stderr!r}")
            checks.ok("no extension agreed")
        else:
            if CONNECT_AGREED not in stderr:
                raise fail("negotiation", f"wsc connect must report {CONNECT_AGREED!r}; its stderr: {stderr!r}")
            checks.ok(f"wsc connect reports what was agreed: {srv.answers[0]}")
            received, sent = srv.rsv1[0].take()
            if received != [True, True, True]:
                raise fail("compressed messages", f"wsc must send every message compressed: RSV1 of its frames {received}")
            if sent != [True, True, True]:
                raise fail("compressed messages", f"websockets must answer compressed: RSV1 of its frames {sent}")
            checks.ok("all three messages went compressed both ways (RSV1)")
        lines = [line.strip() for line in out.splitlines()]
        try:
            i = lines.index("hello")
            j = lines.index("world", i + 1)
        except ValueError:
            raise fail("echo output", f"stdout must contain the lines 'hello' then 'world' (one message per line); got {lines!r}") from None
        checks.ok("stdout has the echoes 'hello' and 'world', one per line, in order")
        if not any(re.search(r"\b1000\b", line) for line in lines[j + 1 :]):
            raise fail("close code output", f"stdout must print close code 1000 after the echoes; got {lines!r}")
        checks.ok("stdout shows close code 1000")
        deadline = time.monotonic() + TIMEOUT
        while not srv.close_codes and time.monotonic() < deadline:
            time.sleep(0.05)
        if srv.close_codes != [(1000, "")]:
            raise fail("close handshake", f"the server expected one close frame with code 1000; it saw {srv.close_codes!r}")
        checks.ok("server received close code 1000 from wsc")
    log(f"server-vs-client ({label}): {checks.n} checks passed")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["client-vs-server", "server-vs-client", "all"])
    ap.add_argument("--wsc", required=True, help="path to the wsc binary")
    args = ap.parse_args()
    if args.mode in ("client-vs-server", "all"):
        client_vs_server(args.wsc)
    if args.mode in ("server-vs-client", "all"):
        server_vs_client(args.wsc)
    return 0


if __name__ == "__main__":
    run_main(main)
