//! The size probes' link set-up: on a microcontroller target, the memory map (memory.x)
//! and the runtime's linker script.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let memory = if target.starts_with("thumb") {
        // QEMU's MPS2 boards: 4 MiB of code memory at 0, RAM at 0x2000_0000 (the program
        // takes 256 KiB; the conversation lies above it).
        "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 4M\n  RAM : ORIGIN = 0x20000000, LENGTH = 256K\n}\n"
    } else if target.starts_with("riscv") {
        // QEMU's virt board, all in its RAM at 0x8000_0000: code first, the program's RAM
        // at 0x8020_0000 (256 KiB), the conversation above it.
        "MEMORY\n{\n  FLASH : ORIGIN = 0x80000000, LENGTH = 2M\n  RAM : ORIGIN = 0x80200000, LENGTH = 256K\n}\n\
         REGION_ALIAS(\"REGION_TEXT\", FLASH);\nREGION_ALIAS(\"REGION_RODATA\", FLASH);\n\
         REGION_ALIAS(\"REGION_DATA\", RAM);\nREGION_ALIAS(\"REGION_BSS\", RAM);\n\
         REGION_ALIAS(\"REGION_HEAP\", RAM);\nREGION_ALIAS(\"REGION_STACK\", RAM);\n"
    } else {
        return;
    };
    fs::write(out.join("memory.x"), memory).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    if target.starts_with("riscv") {
        println!("cargo:rustc-link-arg=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rerun-if-changed=build.rs");
}
