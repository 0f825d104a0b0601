//! Builds `tests/nostd-link`, a `#![no_std] #![no_main]` host binary that calls
//! wscodec's public API with its own panic handler. If `std` is linked in by wscodec or
//! any of its dependencies, the duplicate `panic_impl` lang item makes the build fail.

use std::path::Path;
use std::process::Command;

#[test]
fn wscodec_links_without_std() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("nostd-link/Cargo.toml");
    let target_dir = root.join("../target/nostd-link");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo build for tests/nostd-link");
    assert!(
        output.status.success(),
        "the no_std link check failed: wscodec (or a dependency) pulled in std, or the API broke:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The binary runs its calls into the API and exits with the number of failures.
    let binary = target_dir.join("release/wscodec-nostd-link");
    let status = Command::new(&binary).status().expect("run the no_std binary");
    assert_eq!(status.code(), Some(0), "the no_std binary reported failures");
}
