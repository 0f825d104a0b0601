#!/usr/bin/env python3
"""Generates codec/src/io/asynch.rs from blocking.rs: the twins must not drift.

Run after editing blocking.rs; `scripts/test` checks that asynch.rs is up to date.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "codec/src/io/blocking.rs").read_text()

header = '''//! A WebSocket over an async `embedded_io_async` stream (an `embassy-net` `TcpSocket`
//! plugs straight in).
//!
//! GENERATED from `blocking.rs` by `scripts/gen-asynch.py`: edit that file and rerun
//! the script. The methods are the blocking ones with `.await`.
//!
//! # Cancellation
//! Dropping a `read` future while it waits for input loses nothing: bytes are only
//! taken into the buffer once a read completes. Dropping a future while it writes (a
//! `send`, or a pong or close reply inside `read`) may leave a partial frame on the
//! wire; the connection must then be dropped.

use embedded_io_async::{ErrorType, Read, Write};

use super::buffer::{RxBuf, RxBuffer};
use super::{Error, MIN_RX_BUF, MIN_TX_BUF};
use crate::conn::{MessageKind, Step, MAX_CONTROL_FRAME};
use crate::handshake::server::{self, Decision, Outcome};
use crate::handshake::{client, HandshakeError, Header, MAX_HEADERS};
use crate::mask::apply_mask;
use crate::{CloseCode, Config, Connection, Event, Message, Role, State, Status};

/// A WebSocket connection over an async stream, with caller-owned buffers.
///
/// The same methods as [`blocking::WebSocket`](super::blocking::WebSocket), as `async fn`s.
'''
# Drop the blocking doc comment + example (it precedes the struct).
doc_start = src.rfind("/// A WebSocket connection over a blocking stream")
assert doc_start != -1
body = src[src.index("pub struct WebSocket"):]

for name in ["accept", "connect", "read", "fill", "fail", "flush_owed", "send", "send_fragment", "close", "write_tx"]:
    body = re.sub(rf"(\n    (?:pub )?)fn {name}\b", rf"\1async fn {name}", body)
for name in ["flush_owed", "write_frame", "write_and_flush"]:
    body = body.replace(f"\nfn {name}<", f"\nasync fn {name}<")
for call in [r"\.read\(spare\)", r"stream\.write_all\(bytes\)", r"stream\.flush\(\)"]:
    body = re.sub(call, lambda m: m.group(0) + ".await", body)
body = re.sub(r"(self\.(?:fill|flush_owed|send_fragment|write_tx|send|fail)\((?:[^()]|\([^()]*\))*\))", r"\1.await", body)
body = re.sub(r"((?<![.\w])(?<!fn )(?:flush_owed|write_frame|write_and_flush)\((?:[^()]|\([^()]*\))*\))(?!\s*->)", r"\1.await", body)
body = body.replace("blocking", "async")
out = header + body
import subprocess
out = subprocess.run(
    ["rustfmt", "--edition", "2021", "--emit", "stdout", "--config-path", str(root)],
    input=out, capture_output=True, text=True, check=True,
).stdout
target = root / "codec/src/io/asynch.rs"
if "--check" in sys.argv:
    if target.read_text() != out:
        sys.exit("codec/src/io/asynch.rs is out of date: run scripts/gen-asynch.py")
else:
    target.write_text(out)
