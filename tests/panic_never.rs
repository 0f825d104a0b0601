//! Builds `tests/panic-never`: one `#![no_std]` binary per peer-facing path, whose panic
//! handler calls a symbol that is defined nowhere. A binary links only if the optimizer
//! removed every panic from its path (release, opt-level 3, fat LTO).
//!
//! Proven: `FrameHeader::decode`; `Connection::handle_input`, `handle_input_span`, `event`
//! and `compact` (both roles, both receive modes); `CloseFrame::decode`; `apply_mask` and `mask_into`;
//! `server::parse_request` and `Request::validate`; `server::handle_request`, the whole
//! server handshake (parse, validate, the application's decision, the `101`, a page or an
//! error response); `client::parse_response` and `Response::validate`. Both HTTP heads
//! are read by wscodec's own parser: httparse's `parse_headers_iter_uninit` keeps a
//! slice-index check the optimizer cannot remove. The compressed path (`conn_inflate`) is
//! not proven: miniz_oxide keeps panics in its decoder; it is checked that they are the
//! only ones, and fuzzed long instead (fuzz/README.md).

use std::path::Path;
use std::process::{Command, Output};

const PROVEN: &[&str] = &[
    "frame_decode",
    "conn_handle_input",
    "close_decode",
    "mask",
    "handshake_server",
    "handshake_step",
    "handshake_client",
];
/// Indexes with an opaque index: it must keep its panic path, and fail to link.
const CONTROL: &str = "control";
const MARKER: &str = "wscodec_panic_path_survived_optimization";

fn build(bin: &str) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(["build", "--release", "--bin", bin, "--manifest-path"])
        .arg(root.join("panic-never/Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("../target/panic-never"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo build for tests/panic-never")
}

#[test]
fn peer_facing_paths_have_no_panic_left_after_optimization() {
    let mut failed = Vec::new();
    for bin in PROVEN {
        let out = build(bin);
        if !out.status.success() {
            failed.push(format!("{bin}:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(
        failed.is_empty(),
        "a panic path survived (the link needs `{MARKER}`); find it with \
         `cargo build --release --features locate --bin NAME` in tests/panic-never and the \
         disassembly:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_path_that_can_panic_fails_to_link() {
    let out = build(CONTROL);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{CONTROL} links although it keeps a panic path: the proofs above prove nothing"
    );
    assert!(stderr.contains(MARKER), "{CONTROL} failed for another reason:\n{stderr}");
}

/// The compressed path (`conn_inflate`: `Connection::handle_input_with` with an
/// `Inflater`) cannot join [`PROVEN`]: miniz_oxide's decoder keeps slice-index and
/// `assert!` checks whose conditions depend on invariants of its state machine (a match
/// never runs past the output buffer) that the optimizer cannot see. Those paths are run
/// long by the `deflate_inflate` and `inflate_differential` fuzz targets instead
/// (fuzz/README.md). This holds the line: built with the `locate` handler, every function
/// left with a call to a panic is miniz_oxide's, none of wscodec's; and if none is left,
/// the path belongs in `PROVEN`.
#[test]
fn the_compressed_path_panics_only_inside_miniz_oxide() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = root.join("../target/panic-never-locate");
    let out = Command::new(cargo)
        .args(["build", "--release", "--features", "locate", "--bin", "conn_inflate"])
        .arg("--manifest-path")
        .arg(root.join("panic-never/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo build for tests/panic-never");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let binary = target.join("release/conn_inflate");
    let dis = Command::new("objdump")
        .args(["-d", "--demangle", "--no-show-raw-insn"])
        .arg(&binary)
        .output()
        .expect("run objdump (binutils) on the conn_inflate proof binary");
    assert!(dis.status.success(), "objdump: {}", String::from_utf8_lossy(&dis.stderr));
    let text = String::from_utf8_lossy(&dis.stdout);
    let panics = ["core::panicking::", "core::slice::index::", "len_mismatch_fail"];
    let mut function = "";
    let mut callers = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(name) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")) {
            function = name.1;
        } else if line.contains("call") && panics.iter().any(|p| line.contains(p)) {
            // The panic machinery itself calls on down its own chain.
            if !function.starts_with("core::") {
                callers.insert(function.to_owned());
            }
        }
    }
    assert!(
        !callers.is_empty(),
        "conn_inflate has no panic path left: move it to PROVEN and update fuzz/README.md"
    );
    let ours: Vec<_> =
        callers.iter().filter(|f| !f.starts_with("miniz_oxide::inflate::core::")).collect();
    assert!(
        ours.is_empty(),
        "panic paths outside miniz_oxide on the compressed path: {ours:?} (all: {callers:?})"
    );
}
