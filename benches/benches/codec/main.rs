//! `wscodec` side by side with nexus-web, tungstenite, fastwebsockets, embedded-websocket,
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

use criterion::{criterion_group, Criterion, Throughput};

use decode::{Buffers, Kind, WebsocketzBuffers, Workload};

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
/// One masked frame whose first byte (FIN, RSV bits, opcode) is `first`.
fn masked_frame_with(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
    out.extend(wscodec_test_frames::masked(first, payload, KEY));
}

/// A 128-byte JSON message, the shape of most WebSocket traffic.
const JSON_128: &[u8; 128] =
    br#"{"type":"trade","symbol":"BTC-USD","price":"43250.17","size":"0.0153","side":"buy","ts":1705314600123,"id":987654321,"seq":4242}"#;

/// Text of `len` bytes, all of it multi-byte code points (two-, three- and four-byte ones in
/// turn) but for ASCII spaces between words, ending on a code point boundary.
fn multibyte_text(len: usize) -> Vec<u8> {
    let words = ["κόσμε", "世界你好", "🎉🚀", "Ωμέγα", "データ", "€£¥"];
    let mut text = String::new();
    for word in words.iter().cycle() {
        if text.len() + word.len() + 1 > len {
            break;
        }
        text.push_str(word);
        text.push(' ');
    }
    while text.len() < len {
        text.push('.');
    }
    text.into_bytes()
}

/// ASCII JSON text of exactly `len` bytes (128-byte messages repeated, cut to length).
fn json_text(len: usize) -> Vec<u8> {
    JSON_128.iter().copied().cycle().take(len).collect()
}

/// Every decode group, in the order the bench runs them.
fn decode_workloads() -> Vec<Workload> {
    let elements = |n: usize| Throughput::Elements(n as u64);
    let bytes = |n: usize| Throughput::Bytes(n as u64);
    let mut all = vec![Workload::new(
        format!("decode_small/{SMALL_FRAMES}x{SMALL_LEN}"),
        SMALL_PAYLOAD.to_vec(),
        SMALL_FRAMES,
        Kind::Binary,
        elements(SMALL_FRAMES),
    )];
    for size in [65536usize, 1_048_576] {
        let group = format!("decode_large/{size}");
        all.push(Workload::new(group, pattern(size, 7), 1, Kind::Binary, bytes(size)));
    }
    all.push(Workload::new(
        "decode_text/128".into(),
        JSON_128.to_vec(),
        SMALL_FRAMES,
        Kind::Text,
        elements(SMALL_FRAMES),
    ));
    all.push(Workload::new(
        "decode_text_utf8/128".into(),
        multibyte_text(128),
        1_000,
        Kind::Text,
        elements(1_000),
    ));
    all.push(Workload::new(
        "decode_text/65536".into(),
        json_text(65536),
        1,
        Kind::Text,
        bytes(65536),
    ));
    all
}

/// The payload sizes of the `unmask` groups.
const UNMASK_SIZES: [usize; 9] = [16, 32, 64, 125, 256, 512, 1024, 65536, 1_048_576];

fn naive_mask(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn unmask(c: &mut Criterion) {
    for size in UNMASK_SIZES {
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
        let mut check = src.clone();
        nexus_web::ws::apply_mask(&mut check, KEY);
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
        // nexus-web: `ws::apply_mask`, in place (SSE2 or AVX2 chosen at run time, unsafe).
        g.bench_function("nexus-web", |b| {
            b.iter(|| nexus_web::ws::apply_mask(black_box(&mut buf), black_box(KEY)))
        });
        g.finish();
    }
}

/// `decode_small`, `decode_large` and `decode_text*`: every library on the same frames,
/// each checked against the sent payloads before it is timed.
fn decode(c: &mut Criterion) {
    for w in decode_workloads() {
        let mut buffers = Buffers::new(&w);
        let mut functions = decode::decoders(&w, &mut buffers);
        for (_, f) in &mut functions {
            f(true);
        }
        let mut g = c.benchmark_group(&w.group);
        g.throughput(w.throughput.clone());
        for (name, f) in &mut functions {
            g.bench_function(*name, |b| b.iter(|| f(false)));
        }
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
    targets = unmask, decode, encode_small, handshake_server, message_roundtrip,
        inflate::inflate
}

/// `cargo bench` runs the criterion groups; with `WSCODEC_ICOUNT` set, the binary instead
/// runs one function of one group a given number of times, for instruction counts
/// (`scripts/bench-icount` runs it under callgrind).
fn main() {
    if let Ok(spec) = std::env::var("WSCODEC_ICOUNT") {
        icount(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

/// A masking routine with the benches' key, at payload offset 0.
type Masker = fn(&mut [u8]);

/// `WSCODEC_ICOUNT="GROUP FUNCTION RUNS"`: checks the function's result once, then runs it
/// RUNS times (0 gives the cost of everything else, to subtract). `WSCODEC_ICOUNT=list`
/// prints every group and function it knows, one `GROUP FUNCTION UNITS` a line, UNITS being
/// the messages (or bytes, for `unmask`) of one run.
fn icount(spec: &str) {
    let mut words = spec.split_whitespace();
    let (group, function) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let runs: usize = words.next().and_then(|r| r.parse().ok()).unwrap_or(0);
    let mut sum = 0u64;
    for size in UNMASK_SIZES {
        let name = format!("unmask/{size}");
        let mut buf = pattern(size, 1);
        let mut expect = buf.clone();
        naive_mask(&mut expect, KEY);
        let functions: [(&str, Masker); 3] = [
            ("wscodec", |b| wscodec::mask::apply_mask(b, KEY, 0)),
            ("nexus-web", |b| nexus_web::ws::apply_mask(b, KEY)),
            ("fastwebsockets", |b| fastwebsockets::unmask(b, KEY)),
        ];
        for (f, run) in functions {
            if spec == "list" {
                println!("{name} {f} 1");
            } else if name == group && f == function {
                let mut check = buf.clone();
                run(&mut check);
                assert_eq!(check, expect, "{name} {f}");
                for _ in 0..runs {
                    run(black_box(&mut buf));
                }
                sum = u64::from(buf[0]);
            }
        }
        // The bench's `memcpy`: one copy of as many bytes, the yardstick of masking.
        if spec == "list" {
            println!("{name} memcpy 1");
        } else if name == group && function == "memcpy" {
            let mut dst = vec![0u8; size];
            for _ in 0..runs {
                black_box(&mut dst[..]).copy_from_slice(black_box(&buf));
            }
            sum = u64::from(dst[size - 1]);
        }
    }
    for w in decode_workloads() {
        if spec != "list" && w.group != group {
            continue;
        }
        let mut buffers = Buffers::new(&w);
        for (f, mut run) in decode::decoders(&w, &mut buffers) {
            if spec == "list" {
                println!("{} {f} {}", w.group, w.frames);
            } else if f == function {
                run(true);
                for _ in 0..runs {
                    sum = sum.wrapping_add(run(false));
                }
            }
        }
    }
    if spec != "list" {
        println!("{sum}");
    }
}
