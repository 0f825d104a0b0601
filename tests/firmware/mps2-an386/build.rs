//! Puts memory.x and device.x where the linker finds them, and links with cortex-m-rt's
//! link.x and defmt's defmt.x.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for file in ["memory.x", "device.x"] {
        std::fs::copy(file, out.join(file)).expect("copy a linker script to OUT_DIR");
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");
    println!("cargo:rustc-link-arg=--nmagic");
}
