//! `inflate/<size>`: receiving one compressed text message (permessage-deflate), through
//! wscodec's receive path and through the raw inflater it uses (miniz_oxide's
//! `inflate::core::decompress`, the floor), on identical input: JSON-like text compressed
//! at level 6, a masked client frame with RSV1.
//!
//! - `miniz_oxide raw`: the compressed bytes and the appended `00 00 ff ff`, inflated in
//!   one call into a flat buffer: what any receiver must at least do.
//! - `wscodec reassembly`: the frame copied into the receive buffer, unmasked, inflated
//!   into the output storage (no context takeover: straight into it), checked for UTF-8,
//!   handed out as `Event::Text`.
//! - `wscodec streaming`: the same with context takeover, in streaming mode: pieces of up
//!   to 32 KiB out of the inflater's window, UTF-8 checked piece by piece.
//!
//! Throughput is in inflated bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
};
use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use wscodec::deflate::{InflateState, Inflater, PerMessageDeflate};
use wscodec::{Config, Connection, Event, Role, Status};

use super::masked_frame_with;

/// A byte-level checksum, for the checks before timing (pieces add up to the message's).
fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum::<u64>() ^ (bytes.len() as u64) << 40
}

/// JSON-like text of `len` bytes: compresses about 10:1 at level 6.
fn json(len: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0u32;
    while s.len() < len {
        s.push_str(&format!("{{\"id\":{i},\"temp\":{}.{},\"ok\":true}},", 20 + i % 9, i % 10));
        i += 1;
    }
    s.truncate(len);
    s.into_bytes()
}

/// `data` as RFC 7692 sends it: raw DEFLATE at level 6, sync flushed, without the final
/// `00 00 ff ff`.
fn deflated(data: &[u8]) -> Vec<u8> {
    let flags = create_comp_flags_from_zip_params(6, -15, 0);
    let mut compressor = Box::new(CompressorOxide::new(flags));
    let mut out = vec![0u8; data.len() + 1024];
    let (_, used, n) = compress(&mut compressor, data, &mut out, TDEFLFlush::Sync);
    assert_eq!(used, data.len());
    assert_eq!(out[n - 4..n], [0, 0, 0xff, 0xff]);
    out.truncate(n - 4);
    out
}

/// A masked, final text frame with RSV1.
fn compressed_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    masked_frame_with(&mut out, 0xc1, payload);
    out
}

/// The floor: one `decompress` call over the whole message into a flat buffer. Returns
/// what `check` says of the output (timed: its length; before timing: its checksum).
fn raw(
    state: &mut DecompressorOxide,
    input: &[u8],
    out: &mut [u8],
    check: fn(&[u8]) -> u64,
) -> u64 {
    state.init();
    let (status, used, n) =
        decompress(state, input, out, 0, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF);
    assert!(matches!(status, TINFLStatus::Done | TINFLStatus::FailedCannotMakeProgress));
    assert_eq!(used, input.len());
    check(&out[..n])
}

/// What the timed loops keep of the output: its length (nothing more read than the
/// library did).
fn len(bytes: &[u8]) -> u64 {
    bytes.len() as u64
}

/// wscodec's receive path: the frame copied into `rx`, then `handle_input_span` and `event`
/// until the
/// message is out (reassembly mode) or its last piece is (streaming mode).
fn wscodec<O: wscodec::RxBuffer>(
    frame: &[u8],
    rx: &mut [u8],
    inflater: &mut Inflater<'_, O>,
    (agreed, streaming): (PerMessageDeflate, bool),
    check: fn(&[u8]) -> u64,
) -> u64 {
    let config = Config { max_message: 64 << 20, streaming, ..Config::default() };
    let mut conn = Connection::with_config(Role::Server, config);
    conn.set_deflate(Some(agreed));
    let rx = &mut rx[..frame.len()];
    rx.copy_from_slice(frame);
    let (mut start, mut total) = (0, 0);
    loop {
        match conn.handle_input_span(&mut rx[start..], inflater) {
            Ok(Status::Complete { value, consumed }) => {
                let value = value.map(|span| conn.event(span, &rx[start..], inflater).unwrap());
                start += consumed;
                match value {
                    Some(Event::Text(t)) => return check(t.as_bytes()),
                    Some(Event::Piece { data, last, .. }) => {
                        total += check(data);
                        if last {
                            return total;
                        }
                    }
                    _ => {}
                }
            }
            other => panic!("{other:?}"),
        }
    }
}

pub(super) fn inflate(c: &mut Criterion) {
    for size in [1024usize, 65_536, 1_048_576] {
        let text = json(size);
        let payload = deflated(&text);
        let frame = compressed_frame(&payload);
        let with_tail = [&payload[..], &[0, 0, 0xff, 0xff]].concat();
        let expect = sum(&text);

        let mut raw_state = Box::<DecompressorOxide>::default();
        let mut raw_out = vec![0u8; size + 1];
        assert_eq!(raw(&mut raw_state, &with_tail, &mut raw_out, sum), expect);

        let mut rx = vec![0u8; frame.len()];
        let reset = PerMessageDeflate { client_no_context_takeover: true, ..Default::default() };
        let mut state = Box::new(InflateState::new());
        let mut output = vec![0u8; size + 1];
        let mut direct = Inflater::new(&mut state, &mut [], &mut output[..]);
        direct.start(reset.receive(Role::Server), &Config::default()).unwrap();
        assert_eq!(wscodec(&frame, &mut rx, &mut direct, (reset, false), sum), expect);

        // Context takeover in streaming mode: the message refers only to itself, so the
        // same bytes inflate again after it, the stream going on as between messages.
        let keep = PerMessageDeflate::default();
        let mut state2 = Box::new(InflateState::new());
        let mut window = vec![0u8; 1 << 15];
        let mut ring = Inflater::new(&mut state2, &mut window, &mut [][..]);
        ring.start(keep.receive(Role::Server), &Config { streaming: true, ..Config::default() })
            .unwrap();
        // (Pieces' checksums add up: the length is in the top bits, the byte sum below.)
        let pieces = wscodec(&frame, &mut rx, &mut ring, (keep, true), sum);
        let whole = wscodec(&frame, &mut rx, &mut ring, (keep, true), len);
        assert_eq!((pieces & 0xff_ffff_ffff, whole), (expect & 0xff_ffff_ffff, size as u64));

        let mut g = c.benchmark_group(format!("inflate/{size}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function("miniz_oxide raw", |b| {
            b.iter(|| raw(&mut raw_state, black_box(&with_tail), &mut raw_out, len))
        });
        g.bench_function("wscodec reassembly", |b| {
            b.iter(|| wscodec(black_box(&frame), &mut rx, &mut direct, (reset, false), len))
        });
        g.bench_function("wscodec streaming", |b| {
            b.iter(|| wscodec(black_box(&frame), &mut rx, &mut ring, (keep, true), len))
        });
        g.finish();
    }
}
