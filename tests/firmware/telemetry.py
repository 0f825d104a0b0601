#!/usr/bin/env python3
"""Drives the firmware's telemetry endpoint (tests/firmware/src/telemetry.rs: one
connection split between two tasks) with Python `websockets`.

Run by tests/firmware.rs inside the test's network namespace:

    python telemetry.py ws://192.168.69.2:8082/ [--seconds 3] [--silent 3]

For --seconds the client reads the numbered telemetry the sender task writes every 10 ms,
while it pings every 50 ms and sends a command every 100 ms that the other task answers;
then it closes. Checked: every telemetry message arrived, numbered from 0 with no gap nor
repeat; every command was answered, in order, and each `sent N` answer came after the N
telemetry messages it counts; every ping was answered; the close completed with 1000
from both halves. Then a request for another path gets 404, and the endpoint serves the
next client from seq 0, which sends nothing for --silent seconds (run it above the
firmware's idle timeout: the commands side waits without one) and then a command that
is answered.

Prints one "ok: ..." line per check. Any failure exits with code 1 and the reason on
stderr. Every network operation has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from websockets.exceptions import ConnectionClosedOK

# The echo checks' helpers: connect (tried again while the firmware is not listening),
# check, ok, Failure, the check that a path other than / gets 404, and run (exits 1 on
# any failure).
from peers import Failure, check, connect, ok, rejected_path, run

TIMEOUT = 10
PERIOD = 0.010
PING_EVERY = 0.050
COMMAND_EVERY = 0.100


class Seen:
    """What the client received, checked as it arrives."""

    def __init__(self) -> None:
        self.telemetry = 0  # the next seq due
        self.last_uptime = 0
        self.answers: list[str] = []

    def take(self, message: str | bytes) -> None:
        check(isinstance(message, str), f"a binary message: {message!r}")
        if message.startswith("{"):
            reading = json.loads(message)
            check(reading["seq"] == self.telemetry,
                  f"telemetry seq {reading['seq']} where {self.telemetry} was due")
            check(reading["uptime_ms"] >= self.last_uptime, f"uptime went back: {message}")
            self.telemetry += 1
            self.last_uptime = reading["uptime_ms"]
        elif message.startswith("sent "):
            # The sender counts a message once it is written, and the answer is written
            # after it: the count cannot be ahead of what arrived.
            sent = int(message.removeprefix("sent "))
            check(sent <= self.telemetry,
                  f"'{message}' came after only {self.telemetry} telemetry messages")
            self.answers.append("sent")
        elif message.startswith("uptime_ms "):
            uptime = int(message.removeprefix("uptime_ms "))
            check(uptime >= self.last_uptime,
                  f"'{message}' is earlier than the telemetry before it ({self.last_uptime} ms)")
            self.answers.append("uptime")
        elif message.startswith("unknown command: "):
            self.answers.append(message.removeprefix("unknown command: "))
        else:
            raise Failure(f"unexpected message {message!r}")


async def session(url: str, seconds: float) -> None:
    seen = Seen()
    commands: list[str] = []
    pongs: list[asyncio.Future] = []
    async with asyncio.timeout(seconds + 3 * TIMEOUT):
        async with connect(url, ping_interval=None, compression=None, open_timeout=TIMEOUT,
                           close_timeout=TIMEOUT, max_queue=None) as ws:

            async def read() -> None:
                try:
                    async for message in ws:
                        seen.take(message)
                except ConnectionClosedOK:
                    pass

            reading = asyncio.create_task(read())
            start = time.monotonic()
            next_ping = next_command = start
            cycle = ["sent", "uptime", "sent", "bogus"]
            while time.monotonic() - start < seconds:
                now = time.monotonic()
                if now >= next_ping:
                    next_ping += PING_EVERY
                    pongs.append(await ws.ping(len(pongs).to_bytes(4, "big")))
                if now >= next_command:
                    next_command += COMMAND_EVERY
                    command = cycle[len(commands) % len(cycle)]
                    commands.append(command)
                    await ws.send(command)
                if reading.done():
                    reading.result()
                    raise Failure("the connection ended early")
                await asyncio.sleep(min(next_ping, next_command) - time.monotonic())
            # Every pong and answer is due before the close.
            await asyncio.wait_for(asyncio.gather(*pongs), TIMEOUT)
            deadline = time.monotonic() + TIMEOUT
            while len(seen.answers) < len(commands) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            received_before_close = seen.telemetry
            closing = time.monotonic()
            await ws.close(1000, "done")
            closed_in = time.monotonic() - closing
            await asyncio.wait_for(reading, TIMEOUT)

    check(ws.close_code == 1000, f"the firmware's close reply: {ws.close_code} {ws.close_reason!r}")
    elapsed = time.monotonic() - start
    due = int(elapsed / PERIOD)
    check(seen.telemetry >= due // 3,
          f"only {seen.telemetry} telemetry messages in {elapsed:.1f} s (one every 10 ms: {due})")
    ok(f"telemetry: {seen.telemetry} messages in {elapsed:.1f} s, seq 0..{seen.telemetry - 1} "
       f"in order, none missing ({received_before_close} before the close)")
    check(seen.answers == commands, f"answers {seen.answers} for commands {commands}")
    ok(f"commands: {len(commands)} answered in order while the telemetry ran "
       f"(each 'sent N' after the N messages it counts)")
    ok(f"pings: {len(pongs)} answered while the telemetry ran")
    ok(f"close: 1000 from the firmware, completed in {closed_in:.2f} s; "
       f"received {seen.telemetry}")


async def next_client(url: str, silent: float) -> None:
    async with asyncio.timeout(silent + 3 * TIMEOUT):
        async with connect(url, ping_interval=None, open_timeout=TIMEOUT,
                           close_timeout=TIMEOUT) as ws:
            seen = Seen()
            # Nothing sent for `silent` seconds, longer than the firmware's idle timeout: a
            # listener that never speaks keeps its telemetry, and its next command is read.
            start = time.monotonic()
            while time.monotonic() - start < silent or seen.telemetry < 5:
                seen.take(await ws.recv())
            await ws.send("sent")
            while not seen.answers:
                seen.take(await ws.recv())
        check(ws.close_code == 1000, f"the next client's close: {ws.close_code}")
    ok(f"the next client: telemetry from seq 0 ({seen.telemetry} messages while it sent "
       f"nothing for {silent:.1f} s), then a command answered, close 1000")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--silent", type=float, default=3.0,
                        help="how long the second client sends nothing (over the firmware's "
                             "idle timeout)")
    args = parser.parse_args()
    await session(args.url, args.seconds)
    await rejected_path(args.url)
    await next_client(args.url, args.silent)


if __name__ == "__main__":
    run(main())
