//! Replays every committed fuzz input on the normal toolchain, without cargo-fuzz.
//!
//! `fuzz/corpus/<target>/` holds the seeds (`seed-*`) and every input that once crashed
//! a target (`crash-*`). Each goes through the same body the fuzz target runs
//! (`wscodec-fuzz-bodies`), so a fixed crash stays fixed. The `differential_frames` inputs
//! need tungstenite, which only the fuzz crate depends on: here they replay through the
//! wscodec half (the header decoder and both connection roles); CI replays them against
//! tungstenite with `cargo fuzz run differential_frames -- -runs=0`. The same for the
//! `inflate_differential` inputs, whose reference is zlib-rs.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

use wscodec_fuzz_bodies as __fuzz;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("seed-") || name.starts_with("crash-")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no committed inputs in {}", dir.display());
    files.into_iter().map(|p| (p.clone(), fs::read(&p).unwrap())).collect()
}

/// Runs `body` on every input of `target`, and names every input that fails.
fn replay(target: &str, body: fn(&[u8])) {
    let mut failed = Vec::new();
    for (path, data) in inputs(target) {
        if panic::catch_unwind(|| body(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: {} inputs fail:\n{}", failed.len(), failed.join("\n"));
}

#[test]
fn frame_header() {
    replay("frame_header", __fuzz::frame_header);
}

#[test]
fn handshake_request() {
    replay("handshake_request", __fuzz::handshake_request);
}

#[test]
fn request_parser() {
    replay("request_parser", __fuzz::request_parser);
}

#[test]
fn handshake_response() {
    replay("handshake_response", __fuzz::handshake_response);
}

#[test]
fn close_payload() {
    replay("close_payload", __fuzz::close_payload);
}

#[test]
fn server_connection() {
    replay("server_connection", __fuzz::server_connection);
}

#[test]
fn client_connection() {
    replay("client_connection", __fuzz::client_connection);
}

#[test]
fn roundtrip() {
    replay("roundtrip", __fuzz::roundtrip);
}

#[test]
fn deflate_negotiation() {
    replay("deflate_negotiation", __fuzz::deflate_negotiation);
}

#[test]
fn deflate_inflate() {
    replay("deflate_inflate", __fuzz::deflate_inflate);
}

#[test]
fn inflate_differential_wscodec_half() {
    // The zlib-rs half needs the fuzz crate (CI replays it in fuzz/smoke.sh). Here the
    // same script goes through `deflate_inflate`'s body: a server, the window of 32 KiB
    // (or none), every message delivered once the wire is in.
    replay("inflate_differential", |data| {
        let Some((&mode, rest)) = data.split_first() else { return };
        let window = if mode >> 2 & 3 == 3 { 3 } else { 2 };
        __fuzz::deflate_inflate(&[&[mode & 3 | window << 2][..], rest].concat());
    });
}

#[test]
fn differential_frames_wscodec_half() {
    replay("differential_frames", |data| {
        let Some((&flags, wire)) = data.split_first() else { return };
        __fuzz::frame_header(wire);
        // Mode 0 (reassembly), the largest buffer, then the whole stream in one piece.
        let mut script = vec![flags & 2, 255];
        for chunk in wire.chunks(255) {
            script.extend_from_slice(&[0, chunk.len() as u8]);
            script.extend_from_slice(chunk);
        }
        if flags & 1 == 0 {
            __fuzz::server_connection(&script);
        } else {
            __fuzz::client_connection(&script);
        }
    });
}
