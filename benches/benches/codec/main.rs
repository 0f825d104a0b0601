//! `wscodec` side by side with tungstenite, fastwebsockets, embedded-websocket,
//! tokio-websockets and websocketz, on identical inputs. Group and function names are fixed
//! so that runs can be compared; see `BENCHMARKS.md` for the command, the results and what
//! each peer's API costs.
//!
//! Each function is checked for a correct result before it is timed (payload checksums,
//! encoded bytes, `Sec-WebSocket-Accept`, echoes); criterion's `--test` mode runs those
//! checks and each function once. The async peers (fastwebsockets, tokio-websockets,
//! websocketz) run over in-memory streams, polled by a no-op-waker `block_on`.

mod decode;
mod encode;
mod handshake;
mod inflate;
mod roundtrip;
mod streams;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use decode::WebsocketzBuffers;

/// The mask key of every client frame (RFC 6455 section 5.7's example key).
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// `decode_small` / `encode_small`: this many frames ...
const SMALL_FRAMES: usize = 10_000;
/// ... of this many payload bytes.
const SMALL_LEN: usize = 16;
/// The payload of every small frame.
static SMALL_PAYLOAD: [u8; SMALL_LEN] = *b"0123456789abcdef";

/// The upgrade request exactly as Chromium sends it (12 headers).
const CHROME_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: 127.0.0.1:9001\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://127.0.0.1:9001\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";
/// The accept key that answers `CHROME_REQUEST` (RFC 6455 section 1.3).
const CHROME_ACCEPT: &[u8] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ---------------------------------------------------------------------------------------
// Inputs, built here (not by any of the libraries under test).

/// A payload of `len` bytes with a recognisable pattern.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8).collect()
}

/// One final masked binary frame, as a client sends it.
fn masked_frame(out: &mut Vec<u8>, payload: &[u8]) {
    masked_frame_with(out, 0x82, payload);
}

/// One masked frame whose first byte (FIN, RSV bits, opcode) is `first`.
fn masked_frame_with(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
    out.extend(wscodec_test_frames::masked(first, payload, KEY));
}

fn small_input() -> Vec<u8> {
    let mut wire = Vec::with_capacity(SMALL_FRAMES * (6 + SMALL_LEN));
    for _ in 0..SMALL_FRAMES {
        masked_frame(&mut wire, &SMALL_PAYLOAD);
    }
    wire
}

fn large_input(len: usize) -> (Vec<u8>, Vec<u8>) {
    let payload = pattern(len, 7);
    let mut wire = Vec::with_capacity(len + 14);
    masked_frame(&mut wire, &payload);
    (wire, payload)
}

fn naive_mask(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn unmask(c: &mut Criterion) {
    for size in [16usize, 125, 1024, 65536, 1_048_576] {
        let mut g = c.benchmark_group(format!("unmask/{size}"));
        g.throughput(Throughput::Bytes(size as u64));
        let src = pattern(size, 1);
        let mut buf = src.clone();
        // Check every routine against the naive one once.
        let mut expect = src.clone();
        naive_mask(&mut expect, KEY);
        let mut check = src.clone();
        wscodec::mask::apply_mask(&mut check, KEY, 0);
        assert_eq!(check, expect);
        let mut check = src.clone();
        fastwebsockets::unmask(&mut check, KEY);
        assert_eq!(check, expect);

        // wscodec: `mask::apply_mask`, in place, u64 words (vectorised), safe Rust.
        g.bench_function("wscodec", |b| {
            b.iter(|| wscodec::mask::apply_mask(black_box(&mut buf), black_box(KEY), 0))
        });
        // The physical limit: one copy of the same number of bytes.
        let mut dst = vec![0u8; size];
        g.bench_function("memcpy", |b| {
            b.iter(|| black_box(&mut dst[..]).copy_from_slice(black_box(&src)))
        });
        g.bench_function("naive", |b| b.iter(|| naive_mask(black_box(&mut buf), black_box(KEY))));
        // tungstenite 0.28: `protocol::frame::mask` is a private module; no public routine.
        // fastwebsockets: `fastwebsockets::unmask`, in place, u32 at a time (align_to_mut).
        g.bench_function("fastwebsockets", |b| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buf), black_box(KEY)))
        });
        // embedded-websocket 0.9: masking happens inside `read`/`write`; no public routine.
        g.finish();
    }
}

fn decode_small(c: &mut Criterion) {
    let input = small_input();
    let mut rx = vec![0u8; input.len()];
    let mut to = vec![0u8; 4096];
    let mut z = WebsocketzBuffers::new(input.len());
    let expect = (0..SMALL_FRAMES).fold(0, |s, _| decode::fold(s, &SMALL_PAYLOAD));
    assert_eq!(decode::wscodec(&input, &mut rx, SMALL_FRAMES), expect);
    assert_eq!(decode::tungstenite(&input, SMALL_FRAMES), expect);
    assert_eq!(decode::fastwebsockets(&input, SMALL_FRAMES), expect);
    assert_eq!(decode::embedded(&input, &mut to, SMALL_FRAMES), expect);
    assert_eq!(decode::tokio_websockets(&input, SMALL_FRAMES), expect);
    assert_eq!(decode::websocketz(&input, &mut z, SMALL_FRAMES), expect);

    let mut g = c.benchmark_group(format!("decode_small/{SMALL_FRAMES}x{SMALL_LEN}"));
    g.throughput(Throughput::Elements(SMALL_FRAMES as u64));
    let n = SMALL_FRAMES;
    g.bench_function("wscodec", |b| b.iter(|| decode::wscodec(black_box(&input), &mut rx, n)));
    g.bench_function("tungstenite", |b| b.iter(|| decode::tungstenite(black_box(&input), n)));
    g.bench_function("fastwebsockets", |b| b.iter(|| decode::fastwebsockets(black_box(&input), n)));
    g.bench_function("embedded-websocket", |b| {
        b.iter(|| decode::embedded(black_box(&input), &mut to, n))
    });
    g.bench_function("tokio-websockets", |b| {
        b.iter(|| decode::tokio_websockets(black_box(&input), n))
    });
    g.bench_function("websocketz", |b| b.iter(|| decode::websocketz(black_box(&input), &mut z, n)));
    g.finish();
}

fn decode_large(c: &mut Criterion) {
    for size in [65536usize, 1_048_576] {
        let (input, payload) = large_input(size);
        let mut rx = vec![0u8; input.len()];
        let mut to = vec![0u8; size];
        let mut z = WebsocketzBuffers::new(input.len());
        let expect = decode::fold(0, &payload);
        assert_eq!(decode::wscodec(&input, &mut rx, 1), expect);
        assert_eq!(decode::tungstenite(&input, 1), expect);
        assert_eq!(decode::fastwebsockets(&input, 1), expect);
        assert_eq!(decode::embedded(&input, &mut to, 1), expect);
        assert_eq!(decode::tokio_websockets(&input, 1), expect);
        assert_eq!(decode::websocketz(&input, &mut z, 1), expect);

        let mut g = c.benchmark_group(format!("decode_large/{size}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function("wscodec", |b| b.iter(|| decode::wscodec(black_box(&input), &mut rx, 1)));
        g.bench_function("tungstenite", |b| b.iter(|| decode::tungstenite(black_box(&input), 1)));
        g.bench_function("fastwebsockets", |b| {
            b.iter(|| decode::fastwebsockets(black_box(&input), 1))
        });
        g.bench_function("embedded-websocket", |b| {
            b.iter(|| decode::embedded(black_box(&input), &mut to, 1))
        });
        g.bench_function("tokio-websockets", |b| {
            b.iter(|| decode::tokio_websockets(black_box(&input), 1))
        });
        g.bench_function("websocketz", |b| {
            b.iter(|| decode::websocketz(black_box(&input), &mut z, 1))
        });
        g.finish();
    }
}

fn encode_small(c: &mut Criterion) {
    let len = SMALL_FRAMES * (2 + SMALL_LEN);
    let mut out = vec![0u8; len + 64];
    let mut vec_out = Vec::with_capacity(len);
    let mut z = WebsocketzBuffers::new(4096);
    let mut expect = Vec::with_capacity(len);
    for _ in 0..SMALL_FRAMES {
        expect.extend_from_slice(&[0x82, SMALL_LEN as u8]);
        expect.extend_from_slice(&SMALL_PAYLOAD);
    }
    let n = encode::wscodec(&mut out);
    assert_eq!(out[..n], expect[..]);
    assert_eq!(encode::tungstenite(&mut vec_out), len);
    assert_eq!(vec_out, expect);
    let n = encode::fastwebsockets(&mut out);
    assert_eq!(out[..n], expect[..]);
    let n = encode::embedded(&mut out);
    assert_eq!(out[..n], expect[..]);
    assert_eq!(encode::tokio_websockets(&mut vec_out), len);
    assert_eq!(vec_out, expect);
    assert_eq!(encode::websocketz(&mut vec_out, &mut z), len);
    assert_eq!(vec_out, expect);

    let mut g = c.benchmark_group(format!("encode_small/{SMALL_FRAMES}x{SMALL_LEN}"));
    g.throughput(Throughput::Elements(SMALL_FRAMES as u64));
    g.bench_function("wscodec", |b| b.iter(|| encode::wscodec(black_box(&mut out))));
    g.bench_function("tungstenite", |b| b.iter(|| encode::tungstenite(black_box(&mut vec_out))));
    g.bench_function("fastwebsockets", |b| b.iter(|| encode::fastwebsockets(black_box(&mut out))));
    g.bench_function("embedded-websocket", |b| b.iter(|| encode::embedded(black_box(&mut out))));
    g.bench_function("tokio-websockets", |b| {
        b.iter(|| encode::tokio_websockets(black_box(&mut vec_out)))
    });
    g.bench_function("websocketz", |b| {
        b.iter(|| encode::websocketz(black_box(&mut vec_out), &mut z))
    });
    g.finish();
}

fn handshake_server(c: &mut Criterion) {
    let mut out = [0u8; 1024];
    let mut vec_out = Vec::with_capacity(1024);
    let mut z = WebsocketzBuffers::new(4096);
    let is_101 = |r: &[u8]| {
        r.starts_with(b"HTTP/1.1 101 ")
            && r.windows(CHROME_ACCEPT.len()).any(|w| w == CHROME_ACCEPT)
            && r.ends_with(b"\r\n\r\n")
    };
    let n = handshake::wscodec(CHROME_REQUEST, &mut out);
    assert!(is_101(&out[..n]), "wscodec");
    handshake::tungstenite(CHROME_REQUEST, &mut vec_out);
    assert!(is_101(&vec_out), "tungstenite");
    let n = handshake::embedded(CHROME_REQUEST, &mut out);
    assert!(is_101(&out[..n]), "embedded-websocket");
    handshake::tokio_websockets(CHROME_REQUEST, &mut vec_out);
    assert!(is_101(&vec_out), "tokio-websockets");
    handshake::websocketz(CHROME_REQUEST, &mut vec_out, &mut z);
    assert!(is_101(&vec_out), "websocketz");

    let mut g = c.benchmark_group("handshake_server/chrome");
    g.throughput(Throughput::Elements(1));
    let req = CHROME_REQUEST;
    g.bench_function("wscodec", |b| b.iter(|| handshake::wscodec(black_box(req), &mut out)));
    g.bench_function("tungstenite", |b| {
        b.iter(|| handshake::tungstenite(black_box(req), &mut vec_out))
    });
    // fastwebsockets: none. It parses no HTTP itself; `upgrade::upgrade` (feature
    // `upgrade`) takes a request hyper has already parsed and needs hyper's connection to
    // complete the upgrade, so the comparable work is hyper's, not fastwebsockets'.
    g.bench_function("embedded-websocket", |b| {
        b.iter(|| handshake::embedded(black_box(req), &mut out))
    });
    g.bench_function("tokio-websockets", |b| {
        b.iter(|| handshake::tokio_websockets(black_box(req), &mut vec_out))
    });
    g.bench_function("websocketz", |b| {
        b.iter(|| handshake::websocketz(black_box(req), &mut vec_out, &mut z))
    });
    g.finish();
}

fn message_roundtrip(c: &mut Criterion) {
    for size in [16usize, 65536] {
        let payload = pattern(size, 3);
        let mut g = c.benchmark_group(format!("message_roundtrip/{size}"));
        g.throughput(Throughput::Bytes(size as u64));
        roundtrip::wscodec(&mut g, &payload);
        roundtrip::tungstenite(&mut g, &payload);
        roundtrip::fastwebsockets(&mut g, &payload);
        roundtrip::embedded(&mut g, &payload);
        roundtrip::tokio_websockets(&mut g, &payload);
        roundtrip::websocketz(&mut g, &payload);
        g.finish();
    }
}

fn config() -> Criterion {
    // Keeps a full run to a few minutes on a 2-core machine; command-line flags override.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        // Fewer bootstrap resamples: the analysis otherwise takes longer than the measurement
        // on two cores without rayon. Medians are unaffected.
        .nresamples(10_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = unmask, decode_small, decode_large, encode_small, handshake_server, message_roundtrip,
        inflate::inflate
}
criterion_main!(benches);
