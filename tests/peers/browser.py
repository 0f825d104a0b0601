#!/usr/bin/env python3
"""Browser interop: headless Chromium's WebSocket against `wsc serve`.

How it works:
  1. start `wsc serve --listen 127.0.0.1:PORT` and wait for `listening on ws://ADDR/`;
  2. start headless Chromium (fresh profile) with --remote-debugging-port=0 and read
     the DevTools port from <profile>/DevToolsActivePort;
  3. drive the page over the Chrome DevTools Protocol (a WebSocket, spoken with the
     Python `websockets` client): enable Network, navigate to http://ADDR/ (wsc's
     HTML page; the test needs an http origin), then Runtime.evaluate an async
     function (awaitPromise) that opens `new WebSocket("ws://ADDR/")`, echoes
     text and binary, closes with 4001 "bye" and returns what it saw;
  4. check the returned values plus the handshake headers CDP's Network domain
     reports (the browser offered permessage-deflate, the server accepted it), and
     the bytes wsc serve's close line says went over the socket.

Checks: GET / serves HTML (200), socket opened, the browser's permessage-deflate
offer accepted (`Sec-WebSocket-Extensions` in the 101, the same in
`WebSocket.extensions`, and on the page's "Extensions" line), text echo equal, binary
echo equal (small and 70000 bytes), 700 KB of JSON echoed and compressed both ways (the
server read and wrote less than a quarter of it on the socket), onclose code 4001
reason "bye" (the server echoes the client's close), wasClean true.

"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Child, PeerFailure, log, run_main, start_wsc_serve  # noqa: E402

try:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
except ImportError as e:  # pragma: no cover
    print(f"FAIL: Python websockets >= 13 is required ({e}); use .venv/bin/python", file=sys.stderr)
    sys.exit(1)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]

# Runs in the page. Every await is bounded; the result is a plain JSON object.
PAGE_TEST_JS = r"""
(async (url) => {
  const r = { steps: [] };
  const step = (s) => r.steps.push(s);
  const withTimeout = (p, ms, what) => Promise.race([
    p, new Promise((_, rej) => setTimeout(() => rej(new Error("timeout: " + what)), ms))]);
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (e) { r.error = "new WebSocket threw: " + e; return r; }
  ws.binaryType = "arraybuffer";
  const inbox = []; let waiter = null;
  ws.onmessage = (e) => { inbox.push(e.data); if (waiter) { const w = waiter; waiter = null; w(); } };
  const closed = new Promise((res) => {
    ws.onclose = (e) => res({ code: e.code, reason: e.reason, wasClean: e.wasClean });
  });
  ws.onerror = () => step("error event");
  const next = async (what) => {
    if (!inbox.length) await withTimeout(new Promise((res) => { waiter = res; }), 10000, what);
    return inbox.shift();
  };
  try {
    await withTimeout(new Promise((res, rej) => {
      ws.onopen = res;
      closed.then((c) => rej(new Error("closed before open: code " + c.code)));
    }), 10000, "open");
    r.opened = true;
    r.readyState = ws.readyState;
    r.extensions = ws.extensions;
    r.protocol = ws.protocol;
    step("open");

    const text = "hello from chromium \u00e9 \u2713 \ud83d\ude00";
    ws.send(text);
    const t = await next("text echo");
    r.textType = typeof t;
    r.textEqual = (t === text);
    r.textGot = (typeof t === "string") ? t.slice(0, 80) : "<binary>";
    step("text echo");

    // About 700 KB of JSON: compressed by the browser, and by the server for the echo.
    const json = Array.from({ length: 30000 }, (_, i) => '{"id":' + i + ',"ok":true}').join(",");
    ws.send(json);
    const j = await next("json echo");
    r.jsonLength = json.length;
    r.jsonEqual = (j === json);
    step("json echo");
    r.pageExtensions = document.getElementById("extensions")
      ? document.getElementById("extensions").textContent : null;

    const sizes = [256, 70000];
    r.binary = [];
    for (const n of sizes) {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 255;
      ws.send(b);
      const got = await next("binary echo " + n);
      const item = { size: n, isArrayBuffer: got instanceof ArrayBuffer };
      if (item.isArrayBuffer) {
        const g = new Uint8Array(got);
        item.gotSize = g.length;
        item.equal = g.length === n && g.every((v, i) => v === b[i]);
      } else { item.equal = false; item.gotType = typeof got; }
      r.binary.push(item);
      step("binary echo " + n);
    }

    ws.close(4001, "bye");
    step("close sent");
    r.close = await withTimeout(closed, 10000, "close event");
    step("close event");
  } catch (e) {
    r.error = String(e && e.message || e);
    try { ws.close(); } catch (_) {}
  }
  return r;
})
"""


class CDP:
    """Minimal Chrome DevTools Protocol client over one target's WebSocket."""

    def __init__(self, ws_url: str) -> None:
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(
            connect(ws_url, max_size=None, compression=None, ping_interval=None, open_timeout=10)
        )
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, timeout: float = 15) -> dict:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerFailure(f"CDP {method} got no answer within {timeout:.0f}s")
            try:
                msg = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            except ConnectionClosed as e:
                raise PeerFailure(f"the DevTools connection closed during {method}: {e}") from None
            if msg.get("id") == mid:
                if "error" in msg:
                    raise PeerFailure(f"CDP {method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float, pred=lambda p: True) -> dict:
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            while i < len(self.events):
                ev = self.events[i]
                i += 1
                if ev["method"] == method and pred(ev.get("params", {})):
                    return ev["params"]
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerFailure(f"no CDP event {method} within {timeout:.0f}s")
            try:
                msg = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            if "method" in msg:
                self.events.append(msg)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return
            if "method" in msg:
                self.events.append(msg)

    def close(self) -> None:
        try:
            self._stack.close()
        except Exception:  # noqa: BLE001
            pass


def find_chromium(explicit: str | None) -> str:
    cands = [explicit] if explicit else ["/usr/bin/chromium", "chromium", "chromium-browser"]
    for c in cands:
        p = c if "/" in c else shutil.which(c)
        if p and Path(p).exists():
            return p
    raise PeerFailure(
        "chromium not found (looked for " + ", ".join(cands) + "); install it with "
        "`apt-get install -y --no-install-recommends chromium` (scripts/setup does this)"
    )


def start_chromium(chromium: str, profile: str) -> tuple[Child, int]:
    child = Child([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                  name="chromium", echo_stdout=False, echo_stderr=False)
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if not child.alive():
            raise PeerFailure(
                f"chromium exited (code {child.proc.returncode}) before opening DevTools; stderr:\n    "
                + child.stderr_tail(30)
            )
        if port_file.exists():
            first = port_file.read_text().splitlines()[:1]
            if first and first[0].strip().isdigit():
                return child, int(first[0])
        time.sleep(0.1)
    child.kill()
    raise PeerFailure("chromium did not write DevToolsActivePort within 45s; stderr:\n    " + child.stderr_tail(30))


def page_ws_url(port: int) -> str:
    deadline = time.monotonic() + 20
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                targets = json.load(r)
            for t in targets:
                if t.get("type") == "page" and "webSocketDebuggerUrl" in t:
                    return t["webSocketDebuggerUrl"]
            last = f"no page target in {[t.get('type') for t in targets]}"
        except OSError as e:
            last = repr(e)
        time.sleep(0.2)
    raise PeerFailure(f"could not find chromium's page target over DevTools: {last}")


def header(headers: dict, name: str) -> str | None:
    for k, v in (headers or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def run(args) -> int:
    chromium = find_chromium(args.chromium)
    if not args.wsc:
        raise PeerFailure("--wsc PATH is required")
    server, addr = start_wsc_serve(args.wsc)
    log(f"== browser (chromium) -> wsc serve at {addr}")
    passed = 0

    def ok(what: str) -> None:
        nonlocal passed
        passed += 1
        log(f"  ok {passed}: {what}")

    profile = tempfile.mkdtemp(prefix="wsc-chromium-")
    try:
        with server:
            browser, dport = start_chromium(chromium, profile)
            with browser:
                ok(f"chromium started ({Path(chromium).name}, DevTools on 127.0.0.1:{dport})")
                cdp = CDP(page_ws_url(dport))
                try:
                    cdp.call("Network.enable")
                    cdp.call("Page.enable")
                    page_url = f"http://{addr}/"
                    nav = cdp.call("Page.navigate", {"url": page_url}, timeout=20)
                    if nav.get("errorText"):
                        raise PeerFailure(f"navigating to {page_url} failed: {nav['errorText']}")
                    cdp.wait_event("Page.loadEventFired", 20)
                    doc = next(
                        (e["params"]["response"] for e in cdp.events
                         if e["method"] == "Network.responseReceived" and e["params"].get("type") == "Document"),
                        None,
                    )
                    if doc is None:
                        raise PeerFailure(f"no HTTP response seen for {page_url}")
                    if doc.get("status") != 200 or "html" not in str(doc.get("mimeType")):
                        raise PeerFailure(
                            f"GET / must serve an HTML page: got HTTP {doc.get('status')} {doc.get('mimeType')}"
                        )
                    ok(f"GET / served HTML (HTTP {doc['status']}, {doc['mimeType']})")

                    ws_url = f"ws://{addr}/"
                    res = cdp.call(
                        "Runtime.evaluate",
                        {
                            "expression": f"({PAGE_TEST_JS})({json.dumps(ws_url)})",
                            "awaitPromise": True,
                            "returnByValue": True,
                        },
                        timeout=60,
                    )
                    if "exceptionDetails" in res:
                        raise PeerFailure(f"the page test threw: {json.dumps(res['exceptionDetails'])[:800]}")
                    r = res.get("result", {}).get("value")
                    if not isinstance(r, dict):
                        raise PeerFailure(f"the page test returned no result object: {res!r}"[:800])
                    cdp.drain(0.5)  # collect the last Network.webSocket* events
                    check_results(r, cdp.events, ok)
                    check_compressed(server, r, ok)
                finally:
                    cdp.close()
            if not server.alive():
                raise PeerFailure(
                    f"the server exited during the browser test (code {server.proc.returncode}); "
                    f"stderr:\n    {server.stderr_tail()}"
                )
            ok("server still running")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    log(f"browser: {passed} checks passed")
    return 0


def check_results(r: dict, events: list[dict], ok) -> None:
    def bad(what: str) -> PeerFailure:
        return PeerFailure(f"{what} (page test result: {json.dumps(r)[:600]})")

    if not r.get("opened"):
        raise bad(f"the WebSocket did not open: {r.get('error')}")
    ok("socket opened (onopen fired, readyState OPEN)" if r.get("readyState") == 1 else "socket opened")

    # Handshake headers as the browser saw them.
    reqs = [e["params"] for e in events if e["method"] == "Network.webSocketWillSendHandshakeRequest"]
    resps = [e["params"] for e in events if e["method"] == "Network.webSocketHandshakeResponseReceived"]
    if not reqs or not resps:
        raise bad("CDP reported no WebSocket handshake (Network.webSocket* events missing)")
    for q in reqs:
        offer = header(q["request"].get("headers", {}), "Sec-WebSocket-Extensions") or ""
        if "permessage-deflate" not in offer:
            raise bad(f"expected chromium to offer permessage-deflate, its request had Sec-WebSocket-Extensions: {offer!r}")
    accepted = []
    for p in resps:
        resp = p["response"]
        if resp.get("status") != 101:
            raise bad(f"handshake answered HTTP {resp.get('status')} instead of 101")
        acc = header(resp.get("headers", {}), "Sec-WebSocket-Extensions") or ""
        if not acc.startswith("permessage-deflate"):
            raise bad(f"the server must accept permessage-deflate, its 101 had Sec-WebSocket-Extensions: {acc!r}")
        accepted.append(acc)
    ok(f"chromium offered {offer!r}; the server accepted {accepted[0]!r}")
    if r.get("extensions") != accepted[0]:
        raise bad(f"WebSocket.extensions must be the accepted {accepted[0]!r}, got {r.get('extensions')!r}")
    ok(f"WebSocket.extensions == {accepted[0]!r}")
    if r.get("pageExtensions") != accepted[0]:
        raise bad(f"the test page must show the extension on its Extensions line, it shows {r.get('pageExtensions')!r}")
    ok("the test page shows the negotiated extension")
    if not r.get("jsonEqual"):
        raise bad(f"the JSON echo differs or did not arrive: {r.get('error')}")
    ok(f"JSON echoed equal ({r.get('jsonLength')} characters)")

    if r.get("error") and "text echo" not in r.get("steps", []):
        raise bad(f"text echo failed: {r['error']}")
    if r.get("textType") != "string" or not r.get("textEqual"):
        raise bad(f"text echo differs: got {r.get('textType')} {r.get('textGot')!r}")
    ok("text echo equal (UTF-8 incl. non-BMP)")

    for item in r.get("binary", []):
        if not item.get("equal"):
            raise bad(f"binary echo of {item['size']} bytes differs: {item}")
        ok(f"binary echo equal ({item['size']} bytes, ArrayBuffer)")
    if len(r.get("binary", [])) != 2:
        raise bad(f"binary echo did not complete: {r.get('error')}")

    c = r.get("close")
    if not isinstance(c, dict):
        raise bad(f"no close event after ws.close(4001, 'bye'): {r.get('error')}")
    if c.get("code") != 4001 or c.get("reason") != "bye":
        raise bad(f"onclose must see code 4001 reason 'bye' (the server echoes the client's close), got {c.get('code')} {c.get('reason')!r}")
    ok("onclose code 4001, reason 'bye'")
    if c.get("wasClean") is not True:
        raise bad("onclose wasClean must be true")
    ok("onclose wasClean == true")
    if r.get("error"):
        raise bad(f"page test reported an error: {r['error']}")


def check_compressed(server, r: dict, ok) -> None:
    """wsc serve's close line for the page's WebSocket says how many bytes crossed the
    socket: with permessage-deflate both ways, far fewer than the JSON alone."""
    deadline = time.monotonic() + 10
    line = None
    while time.monotonic() < deadline and line is None:
        # The test's socket closed with 4001 (the page's own socket stays open).
        line = next((l for l in server.stderr_lines if l.startswith("close ") and "code=4001" in l), None)
        if line is None:
            time.sleep(0.1)
    if line is None:
        raise PeerFailure(f"wsc serve logged no close line for code 4001; stderr:\n    {server.stderr_tail()}")
    fields = dict(f.split("=", 1) for f in line.split() if f.startswith("wire_"))
    wire_in, wire_out = int(fields["wire_in"]), int(fields["wire_out"])
    limit = r.get("jsonLength", 0) // 4
    if not (wire_in < limit and wire_out < limit):
        raise PeerFailure(
            f"messages did not go compressed: wsc serve read {wire_in} and wrote {wire_out} bytes for "
            f"a {r.get('jsonLength')}-character JSON echo (and 70 KiB of binary); expected under {limit} each"
        )
    ok(f"compressed both ways: the server read {wire_in} and wrote {wire_out} bytes in all")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wsc", help="path to the wsc binary")
    ap.add_argument("--chromium", help="chromium executable (default /usr/bin/chromium)")
    return run(ap.parse_args())


if __name__ == "__main__":
    run_main(main)
