//! Benchmarks of `wscodec` against tungstenite, fastwebsockets, embedded-websocket,
//! tokio-websockets and websocketz.
//!
//! The code is in `benches/codec/` (criterion) and `benches/load/` (load check of whole
//! servers); `BENCHMARKS.md` at the workspace root has the commands, results and notes.
