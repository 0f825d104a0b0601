#!/usr/bin/env python3
"""`wsc connect` as an everyday client, against Python `websockets` servers (real peers).

  --wsc PATH   the wsc binary

Each scenario starts a websockets server that behaves one way (echoes late, stops
answering pings, closes with a code and a reason, breaks the protocol, refuses the
upgrade, requires a client certificate), runs `wsc connect` against it, and checks the
exit status, stdout line by line (the human format and the --jsonl transcript), and what
the server received. Certificates are made with the openssl command.

Every check is printed; the first failure ends the run (exit 1) with a precise message.
Run it with the repo's .venv/bin/python (websockets >= 13).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http import HTTPStatus
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Child, PeerFailure, check_executable, free_port, log, run_main  # noqa: E402

try:
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.server import serve as sync_serve
except ImportError as e:  # pragma: no cover
    print(f"FAIL: Python websockets >= 13 is required ({e}); use .venv/bin/python", file=sys.stderr)
    sys.exit(1)

TIMEOUT = 15.0  # per wsc run
CLOSED = 'closed: 1000 (normal closure) reason=""'

# The exit statuses of `wsc connect` (its --help and docs/wsc.md list them).
NORMAL, USAGE, TLS, UPGRADE, PROTOCOL, DEAD_PEER, ABNORMAL = 0, 2, 5, 7, 8, 9, 10

N = 0


def ok(what: str) -> None:
    global N
    N += 1
    log(f"  ok {N}: {what}")


def expect(cond: bool, what: str, detail: str) -> None:
    if not cond:
        raise PeerFailure(f"{what}: {detail}")


class Conn:
    """What one connection to a Peer received."""

    def __init__(self) -> None:
        self.received: list[object] = []
        self.close: tuple[int, str] | None = None


class Peer:
    """A websockets asyncio server on a background thread; `handler(ws, conn)` decides how
    it behaves. Each connection's messages and close frame are recorded."""

    def __init__(self, handler, *, ssl_context=None, process_request=None) -> None:
        self.handler = handler
        self.port = free_port()
        self.conns: list[Conn] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.ssl = ssl_context
        self.process_request = process_request
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Future | None = None

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl else 'ws'}://127.0.0.1:{self.port}/"

    async def _handle(self, ws) -> None:
        conn = Conn()
        self.conns.append(conn)
        try:
            await self.handler(ws, conn)
        except ConnectionClosed:
            pass
        finally:
            rcvd = ws.protocol.close_rcvd
            conn.close = (rcvd.code, rcvd.reason) if rcvd else None

    async def _main(self) -> None:
        self._stop = self.loop.create_future()
        async with serve(
            self._handle,
            "127.0.0.1",
            self.port,
            ssl=self.ssl,
            process_request=self.process_request,
            ping_interval=None,
            close_timeout=1,
        ):
            self.ready.set()
            await self._stop

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as e:  # noqa: BLE001
            self.error = e
            self.ready.set()

    def __enter__(self) -> "Peer":
        self.thread.start()
        if not self.ready.wait(10) or self.error:
            raise PeerFailure(f"could not start the websockets server on port {self.port}: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
        self.thread.join(10)

    def wait_closed(self, count: int = 1) -> None:
        """Waits until `count` connections have ended (their close recorded or dropped)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if len(self.conns) >= count and all(c.close is not None for c in self.conns[:count]):
                return
            time.sleep(0.02)


class Listener:
    """A bare TCP listener that counts connections: proof that nothing was sent."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                s, _ = self.sock.accept()
                self.accepted += 1
                s.close()
            except OSError:
                continue

    def close(self) -> None:
        self.running = False
        self.sock.close()


def run_wsc(wsc: str, args: list[str], stdin: bytes = b"") -> tuple[int, list[str], str]:
    """Runs `wsc connect ARGS` with `stdin`; returns (status, stdout lines, stderr)."""
    argv = [wsc, "connect", *args]
    log("  $ " + " ".join(a if " " not in a else repr(a) for a in argv))
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise PeerFailure(f"wsc connect {args} did not exit within {TIMEOUT:.0f}s; stdout: {e.stdout!r}") from None
    return p.returncode, p.stdout.decode("utf-8", "replace").splitlines(), p.stderr.decode("utf-8", "replace")


def events(lines: list[str], what: str) -> list[dict]:
    """Parses a --jsonl transcript; checks the fields every event has and that time runs
    forward within a connection."""
    out = []
    for i, line in enumerate(lines):
        try:
            event = json.loads(line)
        except ValueError:
            raise PeerFailure(f"{what}: line {i + 1} is not JSON: {line!r}") from None
        for field, kind in (("t", (int, float)), ("dir", str), ("type", str), ("len", int)):
            expect(isinstance(event.get(field), kind), what, f"line {i + 1} lacks {field!r}: {line}")
        expect(event["dir"] in ("in", "out"), what, f"line {i + 1}: dir {event['dir']!r}")
        kinds = ("text", "binary", "ping", "pong", "close", "open", "error")
        expect(event["type"] in kinds, what, f"line {i + 1}: type {event['type']!r}")
        if event["type"] == "open":
            expect(event["t"] == 0, what, f"the open event starts the clock: {line}")
        elif out:
            expect(event["t"] >= out[-1]["t"], what, f"line {i + 1}: t goes back: {lines[i - 1]} then {line}")
        out.append(event)
    return out


def shape(evs: list[dict]) -> list[tuple]:
    """Each event as (dir, type, payload): text, base64, (code, reason) or message."""
    def payload(e: dict):
        if e["type"] == "close":
            return (e["code"], e["reason"])
        if e["type"] == "error":
            return e["message"]
        if e["type"] == "open":
            return e["url"]
        return e.get("text", e.get("base64"))
    return [(e["dir"], e["type"], payload(e)) for e in evs]


# ---------------------------------------------------------------- stdin ends, answers come


async def echo_late(ws, conn: Conn) -> None:
    """Echoes each message 0.3 s later, as a server that works on it; websockets sends
    nothing more once our close frame arrived."""
    async for msg in ws:
        conn.received.append(msg)
        await asyncio.sleep(0.3)
        await ws.send(msg)


async def three_parts(ws, conn: Conn) -> None:
    """Answers a message with three parts, 0.5 s apart."""
    async for msg in ws:
        conn.received.append(msg)
        for i in range(1, 4):
            await asyncio.sleep(0.5)
            await ws.send(f"{msg}: part {i}/3")


def answers_after_stdin_ends(wsc: str) -> None:
    log("== stdin ends, the answers still come")
    with Peer(echo_late) as peer:
        rc, out, err = run_wsc(wsc, [peer.url], b"hello peer\nsecond line\n")
        expect(rc == NORMAL, "the pipe", f"exit status {rc}; stderr: {err}")
        expect(out == ["hello peer", "second line", CLOSED], "the pipe", f"stdout {out}")
        peer.wait_closed()
        expect(peer.conns[0].close == (1000, ""), "the pipe", f"the server saw {peer.conns[0].close}")
        ok("printf 'hello peer\\nsecond line\\n' | wsc connect: both late echoes printed, then close 1000, exit 0")
    with Peer(echo_late) as peer:
        rc, out, err = run_wsc(wsc, ["--wait", "0", peer.url], b"hello peer\nsecond line\n")
        expect(rc == NORMAL and out == [CLOSED], "--wait 0", f"exit status {rc}, stdout {out}; stderr: {err}")
        peer.wait_closed()
        conn = peer.conns[0]
        expect(conn.received[:1] == ["hello peer"] and conn.close == (1000, ""), "--wait 0", f"server: {conn.received} {conn.close}")
        ok("--wait 0 closes at once: the close reached the server before its echo, which it then never sent")
    with Peer(three_parts) as peer:
        t0 = time.monotonic()
        rc, out, err = run_wsc(wsc, [peer.url], b"job\n")
        took = time.monotonic() - t0
        want = ["job: part 1/3", "job: part 2/3", "job: part 3/3", CLOSED]
        expect(rc == NORMAL and out == want, "quiet timer", f"exit status {rc}, stdout {out}; stderr: {err}")
        ok(f"--wait 1 counts from the last message: three parts 0.5 s apart all printed ({took:.1f} s in all)")


# ---------------------------------------------------------------- keepalive


async def goes_mute(ws, conn: Conn) -> None:
    """Takes messages for 0.3 s, then stops reading (so it answers no ping) for 4 s."""
    await ws.send("hi, I will go quiet now")
    deadline = time.monotonic() + 0.3
    while (left := deadline - time.monotonic()) > 0:
        try:
            conn.received.append(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
    ws.transport.pause_reading()
    await asyncio.sleep(4)
    ws.transport.abort()


async def stops_reading(ws, conn: Conn) -> None:
    """Reads nothing at all, for 4 s."""
    ws.transport.pause_reading()
    await asyncio.sleep(4)
    ws.transport.abort()


async def pings_then_tick(ws, conn: Conn) -> None:
    """Pings with the payload "srv", then sends "tick" after 1.15 s."""
    pong = await ws.ping(b"srv")
    await asyncio.wait_for(pong, 5)
    conn.received.append("pong srv")
    await asyncio.sleep(1.15)
    await ws.send("tick")
    async for msg in ws:
        conn.received.append(msg)


def keepalive(wsc: str) -> None:
    log("== keepalive: pings after quiet, a dead peer noticed")
    with Peer(goes_mute) as peer:
        args = ["--no-stdin", "--wait", "inf", "--ping-interval", "0.5", "--ping-timeout", "0.7", "--jsonl", peer.url]
        rc, out, err = run_wsc(wsc, args)
        expect(rc == DEAD_PEER, "dead peer", f"exit status {rc} (want {DEAD_PEER}); stderr: {err}")
        message = "dead peer: no answer to a ping in 0.7 s"
        expect(message in err, "dead peer", f"stderr must say {message!r}: {err}")
        evs = events(out, "dead peer transcript")
        want = [
            ("out", "open", peer.url),
            ("in", "text", "hi, I will go quiet now"),
            ("out", "ping", "MQ=="),
            ("in", "error", message),
            ("out", "close", (1011, "keepalive ping timeout")),
        ]
        expect(shape(evs) == want, "dead peer transcript", f"got {shape(evs)}")
        waited = evs[3]["t"] - evs[2]["t"]
        expect(0.7 <= waited < 1.5, "dead peer", f"declared dead {waited:.3f} s after the ping")
        expect(evs[2]["t"] >= 0.5, "keepalive", f"the ping went out at {evs[2]['t']} s, before 0.5 s of quiet")
        expect(evs[3]["status"] == DEAD_PEER and evs[4]["len"] == 2 + len("keepalive ping timeout"), "dead peer", f"{evs[3]} {evs[4]}")
        ok(f"a server that stops reading: ping at {evs[2]['t']:.2f} s, dead {waited:.2f} s later, close 1011 sent, exit {DEAD_PEER}")
    with Peer(stops_reading) as peer:
        # 32 MiB in one line fills the socket buffers of loopback: the write stalls.
        line = b"x" * (32 << 20) + b"\n"
        args = ["--no-deflate", "--ping-interval", "30", "--ping-timeout", "0.5", peer.url]
        rc, out, err = run_wsc(wsc, args, line)
        message = "dead peer: it took none of what was sent for 0.5 s"
        expect(rc == DEAD_PEER and message in err, "stalled write", f"exit status {rc}; stderr: {err}")
        expect(out == [f"closed: 1006 (abnormal closure: connection dropped without a close frame) ({message})"], "stalled write", f"stdout {out}")
        ok(f"a server that reads nothing while 32 MiB are sent: dead after 0.5 s of a stalled write, exit {DEAD_PEER}")
    with Peer(pings_then_tick) as peer:
        args = ["--no-stdin", "--count", "1", "--ping-interval", "0.3", "--show-control", peer.url]
        rc, out, err = run_wsc(wsc, args)
        expect(rc == NORMAL, "--show-control", f"exit status {rc}; stdout {out}; stderr: {err}")
        expect(out[:2] == ['< ping "srv"', '> pong "srv"'], "--show-control", f"the server's ping and our pong first: {out}")
        tick = out.index("tick") if "tick" in out else -1
        pairs = out[2:tick]
        expect(tick > 2 and len(pairs) >= 4 and len(pairs) % 2 == 0, "--show-control", f"ping/pong pairs before the tick: {out}")
        for k in range(len(pairs) // 2):
            want = [f'> ping "{k + 1}"', f'< pong "{k + 1}"']
            expect(pairs[2 * k : 2 * k + 2] == want, "--show-control", f"pair {k + 1} must be {want}: {out}")
        tail = ['> close 1000 (normal closure) reason=""', '< close 1000 (normal closure) reason=""', CLOSED]
        expect(out[tick + 1 :] == tail, "--show-control", f"after the tick: {out[tick + 1:]}")
        peer.wait_closed()
        expect(peer.conns[0].received == ["pong srv"] and peer.conns[0].close == (1000, ""), "--show-control", f"server: {peer.conns[0].received} {peer.conns[0].close}")
        ok(f"--show-control: the server's ping and our pong, {len(pairs) // 2} keepalive pings each answered, the tick, the close both ways")
    with Peer(goes_mute) as peer:
        args = [
            "--reconnect", "--max-retries", "1", "--backoff-initial", "10",
            "--ping-interval", "0.4", "--ping-timeout", "0.4",
            "--on-connect", "login", "--send", "once", "--no-stdin", "--wait", "inf", peer.url,
        ]
        rc, out, err = run_wsc(wsc, args)
        expect(rc == DEAD_PEER, "reconnect after a dead peer", f"exit status {rc}; stderr: {err}")
        expect(err.count("dead peer: no answer to a ping in 0.4 s") == 2, "reconnect after a dead peer", f"stderr: {err}")
        expect("(attempt 1 of 1, after a dead peer)" in err and "giving up after 1 attempts" in err, "reconnect after a dead peer", f"stderr: {err}")
        got = [c.received for c in peer.conns]
        expect(got == [["login", "once"], ["login"]], "reconnect after a dead peer", f"the server received {got}")
        ok("--reconnect after a dead peer: --on-connect sent again on the new connection, --send only once")


# ---------------------------------------------------------------- how the server ends it


def closes_with(code: int, reason: str):
    async def handler(ws, conn: Conn) -> None:
        conn.received.append(await ws.recv())
        await ws.close(code, reason)
    return handler


async def drops(ws, conn: Conn) -> None:
    conn.received.append(await ws.recv())
    ws.transport.abort()


async def breaks_protocol(ws, conn: Conn) -> None:
    conn.received.append(await ws.recv())
    ws.transport.write(b"\x83\x00")  # opcode 3 is reserved
    await ws.wait_closed()


def refuses(connection, request):
    return connection.respond(HTTPStatus.FORBIDDEN, "no entry for you\n")


def server_endings(wsc: str) -> None:
    log("== how the server ends the connection, and the exit status")
    with Peer(closes_with(4001, "go away")) as peer:
        rc, out, err = run_wsc(wsc, ["--jsonl", peer.url], b"hi\n")
        expect(rc == ABNORMAL, "close 4001", f"exit status {rc}; stderr: {err}")
        want = [
            ("out", "open", peer.url),
            ("out", "text", "hi"),
            ("in", "close", (4001, "go away")),
            ("out", "close", (4001, "go away")),
        ]
        evs = events(out, "close 4001 transcript")
        expect(shape(evs) == want, "close 4001 transcript", f"got {shape(evs)}")
        expect([e["len"] for e in evs] == [0, 2, 9, 9], "close 4001 transcript", f"lengths {[e['len'] for e in evs]}")
        ok(f"--jsonl: open, the text sent, the server's close 4001 \"go away\" and our echo of it; exit {ABNORMAL}")
    with Peer(closes_with(1000, "bye")) as peer:
        with Child([wsc, "connect", peer.url], name="wsc connect", stdin=subprocess.PIPE) as child:
            child.proc.stdin.write(b"hi\n")
            child.proc.stdin.flush()
            rc = child.wait(TIMEOUT)
            child.join_output()
        expect(rc == NORMAL, "close 1000", f"exit status {rc}")
        expect(child.stdout_lines == ['closed: 1000 (normal closure) reason="bye"'], "close 1000", f"stdout {child.stdout_lines}")
        ok("the server closes with 1000 \"bye\" while stdin is open: exit 0")
    with Peer(drops) as peer:
        rc, out, err = run_wsc(wsc, ["--jsonl", peer.url], b"hi\n")
        evs = events(out, "dropped transcript")
        want = [("out", "open", peer.url), ("out", "text", "hi"), ("in", "error", "the connection dropped without a close frame (1006)")]
        expect(rc == ABNORMAL and shape(evs) == want, "dropped", f"exit status {rc}, {shape(evs)}; stderr {err}")
        rc, out, err = run_wsc(wsc, [peer.url], b"hi\n")
        want = ["closed: 1006 (abnormal closure: connection dropped without a close frame)"]
        expect(rc == ABNORMAL and out == want, "dropped", f"exit status {rc}, stdout {out}")
        ok(f"the server drops TCP: closed: 1006, an error event in --jsonl, exit {ABNORMAL}")
    with Peer(breaks_protocol) as peer:
        rc, out, err = run_wsc(wsc, [peer.url], b"hi\n")
        expect(rc == PROTOCOL, "protocol error", f"exit status {rc}; stdout {out}; stderr {err}")
        expect(len(out) == 1 and out[0].startswith("closed: 1002 (protocol error) error=") and out[0].endswith("(sent by wsc)"), "protocol error", f"stdout {out}")
        peer.wait_closed()
        expect(peer.conns[0].close is not None and peer.conns[0].close[0] == 1002, "protocol error", f"the server saw {peer.conns[0].close}")
        ok(f"a frame with a reserved opcode: wsc closes with 1002, exit {PROTOCOL}")
    with Peer(echo_late, process_request=refuses) as peer:
        rc, out, err = run_wsc(wsc, [peer.url], b"hi\n")
        expect(rc == UPGRADE and "answered 403" in err and out == [], "upgrade refused", f"exit status {rc}; stdout {out}; stderr {err}")
        ok(f"the upgrade refused with 403: the status printed, exit {UPGRADE}")


# ---------------------------------------------------------------- scripting


async def echo(ws, conn: Conn) -> None:
    async for msg in ws:
        conn.received.append(msg)
        await ws.send(msg)


async def pushes_five(ws, conn: Conn) -> None:
    for i in range(1, 6):
        await ws.send(f"m{i}")
        await asyncio.sleep(0.1)
    async for msg in ws:
        conn.received.append(msg)


def restarts_once(peer_conns: list[Conn]):
    """The first connection closes with 1012 after two messages; later ones echo."""
    async def handler(ws, conn: Conn) -> None:
        if len(peer_conns) == 1:
            for _ in range(2):
                conn.received.append(await ws.recv())
            await ws.close(1012, "restarting")
            return
        await echo(ws, conn)
    return handler


def scripting(wsc: str, tmp: Path) -> None:
    log("== scripting: --on-connect, --send, --no-stdin, --count")
    preamble = tmp / "preamble.txt"
    preamble.write_text('{"op": "sub", "ch": "a"}\n{"op": "sub", "ch": "b"}\n')
    with Peer(echo) as peer:
        args = ["--on-connect", "login", "--on-connect", f"@{preamble}", "--send", "one", "--send", "two", peer.url]
        rc, out, err = run_wsc(wsc, args, b"three\n")
        sent = ["login", '{"op": "sub", "ch": "a"}', '{"op": "sub", "ch": "b"}', "one", "two", "three"]
        expect(rc == NORMAL and out == sent + [CLOSED], "order", f"exit status {rc}, stdout {out}; stderr {err}")
        expect(peer.conns[0].received == sent, "order", f"the server received {peer.conns[0].received}")
        ok("--on-connect (one and @FILE), then --send in order, then stdin")
    with Peer(pushes_five) as peer:
        rc, out, err = run_wsc(wsc, ["--no-stdin", "--count", "2", peer.url])
        expect(rc == NORMAL and out == ["m1", "m2", CLOSED], "--count", f"exit status {rc}, stdout {out}; stderr {err}")
        peer.wait_closed()
        expect(peer.conns[0].close == (1000, ""), "--count", f"the server saw {peer.conns[0].close}")
        ok("--no-stdin --count 2: two of five messages printed, close 1000, exit 0")
    peer = Peer(None)
    peer.handler = restarts_once(peer.conns)
    with peer:
        argv = [wsc, "connect", "--reconnect", "--backoff-initial", "10", "--on-connect", "login", "--send", "once", peer.url]
        with Child(argv, name="wsc connect", stdin=subprocess.PIPE) as child:
            child.wait_line(r"^reconnecting in \d+ ms \(attempt 1, after 1012", 10, stream="stderr")
            child.wait_line(r"^connected to ", 10, stream="stderr")
            child.proc.stdin.write(b"after\n")
            child.proc.stdin.flush()
            child.wait_line(r"^after$", 10)
            child.proc.stdin.close()
            rc = child.wait(TIMEOUT)
        got = [c.received for c in peer.conns]
        expect(rc == NORMAL and got == [["login", "once"], ["login", "after"]], "reconnect preamble", f"exit status {rc}; the server received {got}")
        ok("a 1012 restart: --on-connect sent again first on the new connection, then stdin's next line")
    listener = Listener()
    try:
        url = f"ws://127.0.0.1:{listener.port}/"
        for args, needle in (
            (["--send", "fine", "--send", b"bad \xff".decode("utf-8", "surrogateescape")], "--send #2"),
            (["--on-connect", f"@{tmp / 'missing.txt'}"], "cannot read the --on-connect file"),
        ):
            argv = [wsc, "connect", *args, url]
            p = subprocess.run([a.encode("utf-8", "surrogateescape") for a in argv], capture_output=True, timeout=TIMEOUT)
            err = p.stderr.decode("utf-8", "replace")
            expect(p.returncode == USAGE and needle in err, "bad input", f"{args}: exit status {p.returncode}; stderr {err}")
        time.sleep(0.3)
        expect(listener.accepted == 0, "bad input", f"wsc connected {listener.accepted} times")
        ok(f"a --send that is not UTF-8, an unreadable @FILE: exit {USAGE} before connecting")
    finally:
        listener.close()


# ---------------------------------------------------------------- client certificates


def openssl(*args: str, cwd: Path) -> None:
    try:
        subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)
    except FileNotFoundError:
        raise PeerFailure("the openssl command is needed to make test certificates (apt install openssl)") from None
    except subprocess.CalledProcessError as e:
        raise PeerFailure(f"openssl {' '.join(args)} failed: {e.stderr.decode(errors='replace')}") from None


def make_certs(d: Path) -> None:
    """A CA with a server certificate for 127.0.0.1 and a client certificate, and a rogue CA
    with a client certificate of its own."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-subj", f"/CN={ca}", "-days", "2", "-out", f"{ca}.pem", cwd=d)
    for name, ca, ext in (
        ("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        ("client", "ca", "extendedKeyUsage=clientAuth\n"),
        ("rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n"),
    ):
        (d / f"{name}.ext").write_text(ext)
        openssl("req", *ec, "-keyout", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)


def requiring_context(d: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "server.pem", d / "server.key")
    ctx.load_verify_locations(d / "ca.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class SyncPeer:
    """websockets' threaded server: unlike the asyncio one, its TLS layer sends the alert
    that says why a client certificate was refused."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        def echo_sync(ws) -> None:
            for msg in ws:
                ws.send(msg)
        self.port = free_port()
        self.server = sync_serve(echo_sync, "127.0.0.1", self.port, ssl=ctx)
        self.url = f"wss://127.0.0.1:{self.port}/"

    def __enter__(self) -> "SyncPeer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


def client_certificates(wsc: str, tmp: Path) -> None:
    log("== client certificates (mutual TLS)")
    d = tmp / "certs"
    d.mkdir()
    make_certs(d)
    ca = ["--ca-file", str(d / "ca.pem")]
    good = ["--cert", str(d / "client.pem"), "--key", str(d / "client.key")]
    rogue = ["--cert", str(d / "rogue.pem"), "--key", str(d / "rogue.key")]
    requires = "the server requires a client certificate (mutual TLS), and none was given"
    with Peer(echo, ssl_context=requiring_context(d)) as peer:
        rc, out, err = run_wsc(wsc, [*ca, *good, peer.url], b"over mutual TLS\n")
        expect(rc == NORMAL and out == ["over mutual TLS", CLOSED], "mutual TLS", f"exit status {rc}, stdout {out}; stderr {err}")
        ok("--cert/--key: the server takes the certificate, the echo comes back")
        rc, out, err = run_wsc(wsc, [*ca, peer.url], b"x\n")
        expect(rc == TLS and requires in err and "--cert" in err, "no certificate", f"exit status {rc}; stderr {err}")
        ok(f"no --cert for a server that requires one: it says so, exit {TLS}")
        rc, out, err = run_wsc(wsc, [*ca, *rogue, peer.url], b"x\n")
        refused = f"the client certificate {d / 'rogue.pem'} was sent, without a word (no TLS alert): it most likely refused"
        expect(rc == TLS and refused in err, "refused certificate", f"exit status {rc}; stderr {err}")
        ok(f"a certificate from another CA, refused without an alert (asyncio server): exit {TLS}")
        p = subprocess.run([wsc, "probe", "--json", *ca, *good, peer.url], capture_output=True, timeout=TIMEOUT)
        report = json.loads(p.stdout)
        expect(p.returncode == 0 and report["verdict"] == "ok", "probe --cert", f"exit {p.returncode}: {report.get('verdict')} {report.get('cause')}")
        p = subprocess.run([wsc, "probe", "--json", *ca, peer.url], capture_output=True, timeout=TIMEOUT)
        report = json.loads(p.stdout)
        expect(report["verdict"] == "tls_error" and report["cause"] == requires, "probe without --cert", f"{report.get('verdict')}: {report.get('cause')}")
        ok("wsc probe --cert/--key passes; without them its verdict is tls_error, with the same cause")
    with SyncPeer(requiring_context(d)) as peer:
        rc, out, err = run_wsc(wsc, [*ca, *rogue, peer.url], b"x\n")
        refused = f"the server refused the client certificate {d / 'rogue.pem'} (TLS alert UnknownCA: it does not trust the CA that issued it)"
        expect(rc == TLS and refused in err, "refused certificate", f"exit status {rc}; stderr {err}")
        rc, out, err = run_wsc(wsc, [*ca, peer.url], b"x\n")
        expect(rc == TLS and requires in err, "no certificate", f"exit status {rc}; stderr {err}")
        ok(f"a server that sends alerts: UnknownCA explained, a missing certificate named; exit {TLS}")
    listener = Listener()
    try:
        url = f"wss://127.0.0.1:{listener.port}/"
        for args, needle in (
            (["--cert", str(d / "client.pem"), "--key", str(d / "rogue.key")], "does not belong to the certificate"),
            (["--cert", str(d / "missing.pem"), "--key", str(d / "client.key")], "cannot read the client certificate"),
        ):
            rc, out, err = run_wsc(wsc, [*ca, *args, url], b"x\n")
            expect(rc == USAGE and needle in err, "bad certificate input", f"{args}: exit status {rc}; stderr {err}")
        time.sleep(0.3)
        expect(listener.accepted == 0, "bad certificate input", f"wsc connected {listener.accepted} times")
        ok(f"a key that does not match, an unreadable certificate: exit {USAGE} before connecting")
    finally:
        listener.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wsc", required=True, help="path to the wsc binary")
    args = ap.parse_args()
    wsc = check_executable(args.wsc, "wsc binary")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wsc-connect-") as tmp:
        answers_after_stdin_ends(wsc)
        keepalive(wsc)
        server_endings(wsc)
        scripting(wsc, Path(tmp))
        client_certificates(wsc, Path(tmp))
    log(f"wsc connect against websockets: {N} checks passed in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    run_main(main)
