//! Benchmarks of `wscodec` against tungstenite, fastwebsockets and embedded-websocket.
//!
//! The code is in `benches/codec.rs` (criterion) and `benches/load.rs` (load check of the
//! whole server); `BENCHMARKS.md` at the workspace root has the command, results and notes.
