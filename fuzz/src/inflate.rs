//! The differential inflate target: compressed messages through wscodec's receive path
//! and through zlib-rs, a DEFLATE implementation independent of miniz_oxide.
//!
//! Input: byte 0 sets wscodec's side (bit 0 streaming mode; bit 1 the peer keeps its
//! context; bits 2-3 the window lent: 32 KiB, 40,000 bytes (its 32 KiB prefix is used),
//! 64 KiB, or none, which only reassembly without context can use (32 KiB otherwise);
//! bit 4 the client role, receiving unmasked frames from a server), byte 1 the limit on
//! the inflated size (bits 0-5: 4 KiB times 1 + the value) and the read size (bits 6-7:
//! 1, 7, 64 or 1024 bytes per read), then messages as for `deflate_inflate`:
//! `len_hi len_lo flags payload[len]`, where bit 0 of `flags` splits the payload into two
//! frames, bit 1 makes it text, bit 2 sends it without RSV1 (uncompressed), bit 3 puts a
//! ping between the frames.
//!
//! For each message, in order, both must accept it with the same bytes, or both refuse
//! it (and then the run ends): with the same close code for a binary message (1007 for
//! corrupt data, 1009 over the limit), unless its compressed size alone is over what
//! wscodec takes (1009 at a frame header, which may come after a fragment found
//! corrupt); text may be refused for its UTF-8 first. In
//! streaming mode the pieces handed out before a refusal must be bytes the reference
//! produced too, unless the reference refused a dynamic block at its header for lacking
//! an end-of-block code (miniz_oxide fails such a block only once it cannot end).

use core::ffi::c_int;
use core::mem::MaybeUninit;

use libz_rs_sys::{
    inflate, inflateEnd, inflateInit2_, inflateReset, inflateSetDictionary, z_stream, zlibVersion,
    Z_BLOCK, Z_BUF_ERROR, Z_OK, Z_STREAM_END,
};
use wscodec::deflate::{InflateState, Inflater, PerMessageDeflate};
use wscodec::{Config, Connection, Event, Role, State, Status};

/// What RFC 7692 section 7.2.2 appends to every message before inflating it.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// The DEFLATE window (RFC 1951: distances up to 32 KiB).
const WINDOW: usize = 1 << 15;

/// One message of the script.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub payload: &'a [u8],
    pub text: bool,
    pub compressed: bool,
    pub split: bool,
    pub ping_between: bool,
}

/// What the input asks for.
#[derive(Debug)]
pub struct Script<'a> {
    pub streaming: bool,
    pub keep: bool,
    /// The window lent (bytes), 0 for none.
    pub window: usize,
    pub role: Role,
    pub limit: u64,
    pub chunk: usize,
    pub messages: Vec<Message<'a>>,
}

impl<'a> Script<'a> {
    /// Reads a script; `None` for input shorter than its two set-up bytes.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let [mode, limit, rest @ ..] = data else { return None };
        let mut rest = rest;
        let streaming = mode & 1 == 1;
        let keep = mode & 2 == 2;
        let mut window = [WINDOW, 40_000, 2 * WINDOW, 0][usize::from(mode >> 2 & 3)];
        if window == 0 && (streaming || keep) {
            window = WINDOW;
        }
        let role = if mode & 0x10 == 0 { Role::Server } else { Role::Client };
        let mut messages = Vec::new();
        while let [hi, lo, flags, tail @ ..] = rest {
            let len = (usize::from(*hi) << 8 | usize::from(*lo)).min(tail.len());
            let (payload, after) = tail.split_at(len);
            rest = after;
            messages.push(Message {
                payload,
                text: flags & 2 == 2,
                compressed: flags & 4 == 0,
                split: flags & 1 == 1,
                ping_between: flags & 8 == 8,
            });
        }
        Some(Self {
            streaming,
            keep,
            window,
            role,
            limit: 4096 * (1 + u64::from(limit & 0x3f)),
            chunk: [1, 7, 64, 1024][usize::from(limit >> 6)],
            messages,
        })
    }

    /// The frames of the messages, as the peer of `role` sends them.
    pub fn wire(&self) -> Vec<u8> {
        let mut wire = Vec::new();
        for m in &self.messages {
            let opcode = if m.text { 0x1 } else { 0x2 };
            let rsv1 = if m.compressed { 0x40 } else { 0 };
            if m.split {
                let (a, b) = m.payload.split_at(m.payload.len() / 2);
                frame(&mut wire, self.role, rsv1 | opcode, a);
                if m.ping_between {
                    frame(&mut wire, self.role, 0x89, b"p");
                }
                frame(&mut wire, self.role, 0x80, b);
            } else {
                frame(&mut wire, self.role, 0x80 | rsv1 | opcode, m.payload);
            }
        }
        wire
    }

    /// The largest compressed message wscodec takes for this limit (see
    /// `Connection::set_max_inflated`).
    fn max_wire(&self) -> u64 {
        self.limit + self.limit / 8 + 1024
    }
}

/// Appends a frame to the peer's wire: masked (with a fixed key) towards a server.
fn frame(wire: &mut Vec<u8>, to: Role, first: u8, payload: &[u8]) {
    wire.extend(match to {
        Role::Server => wscodec_test_frames::masked(first, payload, [0x37, 0xfa, 0x21, 0x3d]),
        Role::Client => wscodec_test_frames::unmasked(first, payload),
    });
}

/// One side's verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered, with these bytes.
    Accepted(Vec<u8>),
    /// Refused with this close code; `partial` is what was handed out (wscodec's
    /// streaming pieces) or inflated (the reference) of it before.
    Refused { code: u16, why: String, partial: Vec<u8> },
}

/// wscodec: a `Connection` in the script's role and mode, with an `Inflater` over the
/// window lent, fed `chunk` bytes per read.
pub fn run_wscodec(script: &Script<'_>) -> Vec<Verdict> {
    let agreed = PerMessageDeflate {
        server_no_context_takeover: !script.keep,
        client_no_context_takeover: !script.keep,
        server_max_window_bits: None,
        client_max_window_bits: None,
    };
    let mut state = Box::new(InflateState::new());
    let mut window = vec![0u8; script.window];
    let mut out = vec![0u8; usize::try_from(script.limit).unwrap() + 1];
    let mut inflater = Inflater::new(&mut state, &mut window, &mut out[..]);
    let config = Config { max_message: 1 << 20, streaming: script.streaming, min_piece: 0 };
    inflater.start(agreed.receive(script.role), &config).unwrap();
    let mut conn = Connection::with_config(script.role, config);
    conn.set_deflate(Some(agreed));
    conn.set_max_inflated(script.limit);

    let wire = script.wire();
    let mut rest = &wire[..];
    let mut buf = Vec::new();
    let mut verdicts = Vec::new();
    let mut pieces = Vec::new();
    loop {
        let step = conn.handle_input_span(&mut buf, &mut inflater).and_then(|step| match step {
            Status::Complete { value: Some(span), consumed } => {
                Ok(Status::Complete { value: Some(conn.event(span, &buf, &inflater)?), consumed })
            }
            Status::Complete { value: None, consumed } => {
                Ok(Status::Complete { value: None, consumed })
            }
            Status::Partial { needed } => Ok(Status::Partial { needed }),
        });
        match step {
            Ok(Status::Complete { value, consumed }) => {
                match value {
                    Some(Event::Text(t)) => verdicts.push(Verdict::Accepted(t.as_bytes().to_vec())),
                    Some(Event::Binary(b)) => verdicts.push(Verdict::Accepted(b.to_vec())),
                    Some(Event::Piece { data, last, .. }) => {
                        pieces.extend_from_slice(data);
                        if last {
                            verdicts.push(Verdict::Accepted(core::mem::take(&mut pieces)));
                        }
                    }
                    Some(Event::Ping(_) | Event::Pong(_)) | None => {}
                    Some(Event::Close { .. }) => unreachable!("the script sends no close"),
                }
                buf.drain(..consumed);
            }
            Ok(Status::Partial { .. }) if rest.is_empty() => return verdicts,
            Ok(Status::Partial { .. }) => {
                let take = rest.len().min(script.chunk);
                buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
            Err(e) => {
                assert_eq!(conn.state(), State::Failing);
                let code = e.close_code().as_u16();
                verdicts.push(Verdict::Refused { code, why: e.to_string(), partial: pieces });
                return verdicts;
            }
        }
    }
}

/// A raw (headerless) zlib-rs inflate stream with a 32 KiB window.
struct Zlib(Box<MaybeUninit<z_stream>>);

impl Zlib {
    fn new() -> Self {
        let mut stream = Box::new(MaybeUninit::new(z_stream::default()));
        // SAFETY: a default z_stream (null buffers, zlib-rs's allocator), the version
        // string and size of this build's z_stream, as zlib's C API asks.
        let ret = unsafe {
            inflateInit2_(
                stream.as_mut_ptr(),
                -15,
                zlibVersion(),
                core::mem::size_of::<z_stream>() as c_int,
            )
        };
        assert_eq!(ret, Z_OK, "inflateInit2");
        Self(stream)
    }

    fn stream(&mut self) -> *mut z_stream {
        self.0.as_mut_ptr()
    }

    /// A new stream whose history is `dictionary` (its last 32 KiB are used).
    fn restart(&mut self, dictionary: &[u8]) {
        let dictionary = &dictionary[dictionary.len().saturating_sub(WINDOW)..];
        // SAFETY: an initialized stream; the dictionary is a live slice of its length.
        unsafe {
            assert_eq!(inflateReset(self.stream()), Z_OK);
            if !dictionary.is_empty() {
                let ret = inflateSetDictionary(
                    self.stream(),
                    dictionary.as_ptr(),
                    dictionary.len() as u32,
                );
                assert_eq!(ret, Z_OK, "inflateSetDictionary");
            }
        }
    }

    /// Inflates `input` with `Z_BLOCK` until it is used up or the stream ends, appending
    /// the output to `out` (at most `cap` bytes in all).
    fn run(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> Run {
        let mut at = 0;
        // Whether the last call that did something stopped between two blocks (a call
        // that does nothing clears zlib's flag), and after the final one: with `Z_BLOCK`
        // zlib stops there before it reports the end of the stream.
        let (mut boundary, mut last) = (false, false);
        loop {
            let room = (cap + 1).saturating_sub(out.len()).min(64 * 1024);
            if room == 0 {
                return Run::Full;
            }
            let start = out.len();
            out.resize(start + room, 0);
            let s = self.stream();
            // SAFETY: next_in/next_out point into live slices of the lengths given; the
            // stream was initialized by `new`.
            let (ret, used, made, data_type) = unsafe {
                (*s).next_in = input[at..].as_ptr();
                (*s).avail_in = (input.len() - at) as u32;
                (*s).next_out = out[start..].as_mut_ptr();
                (*s).avail_out = room as u32;
                let ret = inflate(s, Z_BLOCK);
                let used = input.len() - at - (*s).avail_in as usize;
                let made = room - (*s).avail_out as usize;
                (ret, used, made, (*s).data_type)
            };
            out.truncate(start + made);
            at += used;
            if used > 0 || made > 0 {
                (boundary, last) = (data_type & 128 != 0, data_type & 64 != 0);
            }
            match ret {
                Z_STREAM_END => return Run::Ended { used: at },
                // Used up: done, unless the output filled up inside a block (more may be
                // pending). Another call at a block boundary would read the next header
                // from the bits left of the last byte.
                Z_OK | Z_BUF_ERROR if at == input.len() && (made < room || boundary) => {
                    if boundary && last {
                        return Run::Ended { used: at };
                    }
                    return Run::NeedsInput { boundary };
                }
                Z_OK | Z_BUF_ERROR => {
                    assert!(used > 0 || made > 0, "zlib-rs made no progress: {ret}");
                }
                _ => {
                    // SAFETY: zlib sets `msg` to a static C string or leaves it null.
                    let msg = unsafe { (*s).msg };
                    let why = if msg.is_null() {
                        format!("zlib-rs error {ret}")
                    } else {
                        // SAFETY: as above.
                        unsafe { core::ffi::CStr::from_ptr(msg) }.to_string_lossy().into_owned()
                    };
                    return Run::Corrupt(why);
                }
            }
        }
    }
}

impl Drop for Zlib {
    fn drop(&mut self) {
        // SAFETY: an initialized stream, ended once.
        unsafe {
            inflateEnd(self.stream());
        }
    }
}

/// How a call to [`Zlib::run`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    /// The input is used up; `boundary`: between two blocks.
    NeedsInput { boundary: bool },
    /// A final block ended after `used` bytes of the input.
    Ended { used: usize },
    /// More output than the cap.
    Full,
    /// Not valid DEFLATE data: zlib's message.
    Corrupt(String),
}

/// The reference: each message inflated by zlib-rs as RFC 7692 section 7.2.2 says (the
/// tail appended; the history the connection's, or the message's without context; a
/// message may hold several streams, each one after a final block).
pub fn run_reference(script: &Script<'_>) -> Vec<Verdict> {
    let limit = usize::try_from(script.limit).unwrap();
    let mut zlib = Zlib::new();
    let mut history: Vec<u8> = Vec::new();
    let mut ended = false;
    let mut verdicts = Vec::new();
    for m in &script.messages {
        if !m.compressed {
            if m.text && core::str::from_utf8(m.payload).is_err() {
                let partial = m.payload.to_vec();
                verdicts.push(Verdict::Refused { code: 1007, why: "utf8".into(), partial });
                break;
            }
            verdicts.push(Verdict::Accepted(m.payload.to_vec()));
            continue;
        }
        if !script.keep {
            history.clear();
        }
        if !script.keep || ended {
            zlib.restart(&history);
        }
        ended = false;
        let input = [m.payload, &TAIL].concat();
        let mut out = Vec::new();
        let mut at = 0;
        let verdict = loop {
            let from = out.len();
            let run = zlib.run(&input[at..], &mut out, limit);
            history.extend_from_slice(&out[from..]);
            match run {
                Run::Ended { used } => {
                    at += used;
                    if at >= m.payload.len() {
                        ended = true;
                        break None;
                    }
                    zlib.restart(&history);
                }
                Run::NeedsInput { boundary: true } => break None,
                Run::NeedsInput { boundary: false } => break Some((1007, "truncated".into())),
                Run::Full => break Some((1009, "too large".into())),
                Run::Corrupt(why) => break Some((1007, why)),
            }
        };
        if history.len() > 4 * WINDOW {
            history.drain(..history.len() - WINDOW);
        }
        match verdict {
            // Too large to take, whatever it inflates to (wscodec may find either first).
            None if m.payload.len() as u64 > script.max_wire() => {
                verdicts.push(Verdict::Refused { code: 1009, why: "wire".into(), partial: out });
            }
            // Over the limit, though it ended where the reference's buffer did.
            None if out.len() > limit => {
                verdicts.push(Verdict::Refused { code: 1009, why: "too large".into(), partial: out });
            }
            None if m.text && core::str::from_utf8(&out).is_err() => {
                verdicts.push(Verdict::Refused { code: 1007, why: "utf8".into(), partial: out });
            }
            None => verdicts.push(Verdict::Accepted(out)),
            Some((code, why)) => verdicts.push(Verdict::Refused { code, why, partial: out }),
        }
        if matches!(verdicts.last(), Some(Verdict::Refused { .. })) {
            break;
        }
    }
    verdicts
}

/// The target: see the module documentation.
pub fn inflate_differential(data: &[u8]) {
    let Some(script) = Script::parse(data) else { return };
    let ours = run_wscodec(&script);
    let reference = run_reference(&script);
    compare(&script, &ours, &reference);
}

/// Panics, saying where, unless the two verdict lists agree (see the module doc).
pub fn compare(script: &Script<'_>, ours: &[Verdict], reference: &[Verdict]) {
    let context = || format!("{script:?}\nwscodec:   {ours:?}\nreference: {reference:?}");
    assert_eq!(ours.len(), reference.len(), "a different number of verdicts\n{}", context());
    for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
        match (a, b) {
            (Verdict::Accepted(x), Verdict::Accepted(y)) => {
                assert!(x == y, "message {i}: different bytes\n{}", context());
            }
            (
                Verdict::Refused { code: ca, partial: pa, .. },
                Verdict::Refused { code: cb, partial: pb, why },
            ) => {
                let m = &script.messages[i];
                if !m.text && m.payload.len() as u64 <= script.max_wire() {
                    assert_eq!(ca, cb, "message {i}: different close codes\n{}", context());
                }
                // zlib refuses a dynamic block without an end-of-block code at its header;
                // miniz_oxide decodes it, and fails the message when the block cannot end
                // (it never can): in streaming mode, pieces of it may go out first.
                assert!(
                    pb.starts_with(pa) || why == "invalid code -- missing end-of-block",
                    "message {i}: wscodec handed out bytes the reference did not make\n{}",
                    context()
                );
            }
            _ => panic!("message {i}: one accepts, the other refuses\n{}", context()),
        }
    }
}
