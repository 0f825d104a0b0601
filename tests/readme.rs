//! The READMEs' firmware code is the firmware's own code, not a copy that drifts.

use std::path::Path;

/// `pub async fn echo<` up to the `}` that closes it, from `text`.
fn echo(text: &str) -> &str {
    let start = text.find("pub async fn echo<").expect("echo is there");
    let end = text[start..].find("\n}\n").expect("its closing brace") + start + 2;
    &text[start..end]
}

#[test]
fn the_readme_shows_the_firmwares_echo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let firmware = std::fs::read_to_string(root.join("tests/firmware/src/lib.rs")).unwrap();
    let shown = echo(&readme);
    let real = echo(&firmware);
    assert!(real.contains("read_for_reply"), "{real}");
    assert_eq!(shown, real, "README.md's echo differs from tests/firmware/src/lib.rs");
}

#[test]
fn the_crate_readme_shows_the_firmwares_template() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("codec/README.md")).unwrap();
    let template = std::fs::read_to_string(root.join("tests/firmware/src/template.rs")).unwrap();
    let start = readme.find("```rust,ignore\n").expect("the template block") + 15;
    let end = readme[start..].find("```\n").expect("its end") + start;
    assert_eq!(
        &readme[start..end],
        template,
        "codec/README.md's template differs from tests/firmware/src/template.rs"
    );
}
