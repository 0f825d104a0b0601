#!/usr/bin/env python3
"""Captures a Python websockets client request and server response for the seed corpora
(pip install websockets; python3 fuzz/seeds-gen/capture_python.py)."""
import asyncio, socket, threading, base64, os
import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

OUT = "/work/main/fuzz/seeds-gen/captured/"
# 1. The request a Python websockets client sends, captured by a plain socket listener.
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(1)
port = lst.getsockname()[1]
got = {}
def accept():
    c, _ = lst.accept(); data = b""
    while b"\r\n\r\n" not in data:
        data += c.recv(4096)
    got["req"] = data; c.close()
t = threading.Thread(target=accept); t.start()
async def client():
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=2):
            pass
    except Exception:
        pass
asyncio.run(client()); t.join()
open(OUT + "python-websockets-%s.request" % websockets.__version__, "wb").write(got["req"])
# 2. The response a Python websockets server sends to a known nonce.
nonce = b"the sample nonce"
async def main():
    async def echo(ws):
        async for m in ws:
            await ws.send(m)
    async with serve(echo, "127.0.0.1", 0) as server:
        p = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", p)
        key = base64.b64encode(nonce).decode()
        w.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        await w.drain()
        resp = await r.readuntil(b"\r\n\r\n")
        w.close()
        return resp
resp = asyncio.run(main())
base = OUT + "python-websockets-%s-server" % websockets.__version__
open(base + ".response", "wb").write(resp)
open(base + ".nonce", "wb").write(nonce)
