//! Negotiating permessage-deflate (RFC 7692 section 7.1): the client's offer, the server's
//! choice among offers, and the client's check of the answer.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

use super::header::{self, Param, Value};
use crate::handshake::{ExtensionError, HandshakeError};
use crate::Role;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// The largest LZ77 window, as a base-2 logarithm: 32 KiB.
pub const MAX_WINDOW_BITS: u8 = 15;
/// The smallest window a peer may be asked to keep to: 256 bytes.
pub const MIN_WINDOW_BITS: u8 = 8;

/// What this end can do, which decides what it offers (client) or accepts (server).
///
/// Build it with [`Setup::new`] from the window lent to the
/// [`Inflater`](super::Inflater) (or [`Inflater::setup`](super::Inflater::setup)).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// The LZ77 window the inflater keeps, as a base-2 logarithm (8 to 15), or 0 when it
    /// has none (a window shorter than 256 bytes).
    pub window_bits: u8,
    /// Messages are received in streaming mode ([`Config::streaming`](crate::Config)):
    /// then every compressed message goes through the window, so the peer's window must
    /// fit in it. In reassembly mode a message whose peer keeps no context between
    /// messages needs no window: the message itself is the history.
    pub streaming: bool,
    /// This end does not carry its compression context from one message to the next (it
    /// has no compressor, or chooses to reset it), and says so: as a client with the
    /// hint `client_no_context_takeover`, as a server with `server_no_context_takeover`,
    /// so that the peer need not keep a window for it.
    pub send_no_context_takeover: bool,
}

impl Setup {
    /// The setup for an inflater window of `window_len` bytes (the largest power of two
    /// that fits is used, up to 32 KiB), in reassembly mode: set
    /// [`streaming`](Self::streaming) for streaming mode. It sends with context takeover:
    /// set [`send_no_context_takeover`](Self::send_no_context_takeover) for an end without
    /// a compressor.
    pub const fn new(window_len: usize) -> Self {
        Self {
            window_bits: window_bits(window_len),
            streaming: false,
            send_no_context_takeover: false,
        }
    }
}

/// The base-2 logarithm of the largest power of two in `len`, capped at 15; 0 below 256.
pub(crate) const fn window_bits(len: usize) -> u8 {
    if len < 1 << MIN_WINDOW_BITS {
        return 0;
    }
    let bits = (usize::BITS - 1 - len.leading_zeros()) as u8;
    if bits > MAX_WINDOW_BITS {
        MAX_WINDOW_BITS
    } else {
        bits
    }
}

/// One permessage-deflate offer, as a client writes it (RFC 7692 section 7.1).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offer {
    /// `server_no_context_takeover`: the server must reset its compressor between messages.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`: a hint that the client resets its compressor between
    /// messages.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`: the server must use a window of at most 2^N bytes.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits[=N]`: the client accepts a limit on its window and, with a
    /// value below 15, will use at most 2^N bytes anyway (`Some(15)` is written without a
    /// value).
    pub client_max_window_bits: Option<u8>,
}

/// What was agreed: the parameters of the server's answer (RFC 7692 section 7.1), in the
/// terms of the header, from which each end derives how it
/// [sends](Self::send) and [receives](Self::receive).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerMessageDeflate {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's window is at most 2^N bytes (absent: 2^15).
    pub server_max_window_bits: Option<u8>,
    /// The client's window is at most 2^N bytes (absent: 2^15).
    pub client_max_window_bits: Option<u8>,
}

/// How one direction of the connection is compressed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    /// The largest LZ77 window the sender may use, as a base-2 logarithm.
    pub max_window_bits: u8,
    /// The sender resets its compressor after each message, so each message inflates on
    /// its own.
    pub no_context_takeover: bool,
}

impl PerMessageDeflate {
    /// How the `sender` (the end with this role) compresses.
    pub const fn direction(&self, sender: Role) -> Direction {
        let (bits, reset) = match sender {
            Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
            Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
        };
        let max_window_bits = match bits {
            Some(bits) => bits,
            None => MAX_WINDOW_BITS,
        };
        Direction { max_window_bits, no_context_takeover: reset }
    }

    /// How this end (with role `me`) compresses what it sends.
    pub const fn send(&self, me: Role) -> Direction {
        self.direction(me)
    }

    /// How what this end (with role `me`) receives is compressed.
    pub const fn receive(&self, me: Role) -> Direction {
        self.direction(match me {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        })
    }

    /// The `Sec-WebSocket-Extensions` value that answers the offer with this agreement,
    /// e.g. `permessage-deflate; client_max_window_bits=12`.
    pub fn header_value(&self) -> HeaderValue {
        let offer = Offer {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: self.server_max_window_bits,
            client_max_window_bits: self.client_max_window_bits,
        };
        // A response always gives client_max_window_bits a value.
        offer.write(true)
    }
}

impl fmt::Display for PerMessageDeflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_value().as_str())
    }
}

impl Offer {
    /// The offer a client with `setup` makes, or `None` when it can take no compressed
    /// message at all (streaming mode without a window of at least 256 bytes).
    ///
    /// It always accepts a limit on its own window (`client_max_window_bits`). A window
    /// shorter than 32 KiB asks the server to keep to it (`server_max_window_bits`); in
    /// reassembly mode without a window it asks the server to reset its context instead
    /// (`server_no_context_takeover`).
    pub const fn for_setup(setup: &Setup) -> Option<Self> {
        let bits = setup.window_bits;
        if setup.streaming && bits < MIN_WINDOW_BITS {
            return None;
        }
        let limit = bits >= MIN_WINDOW_BITS && bits < MAX_WINDOW_BITS;
        Some(Self {
            server_no_context_takeover: bits < MIN_WINDOW_BITS,
            client_no_context_takeover: setup.send_no_context_takeover,
            server_max_window_bits: if limit { Some(bits) } else { None },
            client_max_window_bits: Some(MAX_WINDOW_BITS),
        })
    }

    /// The `Sec-WebSocket-Extensions` value of this offer, e.g.
    /// `permessage-deflate; client_max_window_bits`.
    pub fn header_value(&self) -> HeaderValue {
        self.write(false)
    }

    fn write(&self, response: bool) -> HeaderValue {
        let mut v = HeaderValue { bytes: [0; HeaderValue::CAPACITY], len: 0 };
        v.push(NAME);
        if self.server_no_context_takeover {
            v.push("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push("; client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            v.push("; server_max_window_bits=");
            v.push_bits(bits);
        }
        match self.client_max_window_bits {
            Some(bits) if response || bits < MAX_WINDOW_BITS => {
                v.push("; client_max_window_bits=");
                v.push_bits(bits);
            }
            Some(_) => v.push("; client_max_window_bits"),
            None => {}
        }
        v
    }

    /// Reads one offer's parameters (or, with `response`, an answer's, where
    /// `client_max_window_bits` needs a value); `Err` when the offer must be declined (a
    /// parameter RFC 7692 does not define, repeated, or with a bad value).
    fn parse<'a>(
        params: impl Iterator<Item = Result<Param<'a>, ExtensionError>>,
        response: bool,
    ) -> Result<Self, ExtensionError> {
        let mut offer = Self::default();
        let mut seen = [false; 4];
        for param in params {
            let param = param?;
            let (index, value) = known(param)?;
            if core::mem::replace(
                seen.get_mut(index).ok_or(ExtensionError::UnknownParameter)?,
                true,
            ) {
                return Err(ExtensionError::DuplicateParameter);
            }
            match (index, value) {
                (0, None) => offer.server_no_context_takeover = true,
                (1, None) => offer.client_no_context_takeover = true,
                (2, Some(v)) => offer.server_max_window_bits = Some(bits_of(v)?),
                (3, None) if !response => offer.client_max_window_bits = Some(MAX_WINDOW_BITS),
                (3, Some(v)) => offer.client_max_window_bits = Some(bits_of(v)?),
                _ => return Err(ExtensionError::InvalidValue),
            }
        }
        Ok(offer)
    }
}

/// Which of the four parameters `param` is (in the order of [`Offer`]'s fields).
fn known(param: Param<'_>) -> Result<(usize, Option<Value<'_>>), ExtensionError> {
    const NAMES: [&str; 4] = [
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    ];
    NAMES
        .iter()
        .position(|name| param.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|index| (index, param.value))
        .ok_or(ExtensionError::UnknownParameter)
}

/// A window size: a whole number from 8 to 15 written without leading zeros.
fn bits_of(value: Value<'_>) -> Result<u8, ExtensionError> {
    let mut digits = value.bytes();
    let bits = match (digits.next(), digits.next(), digits.next()) {
        (Some(d @ b'8'..=b'9'), None, None) => d - b'0',
        (Some(b'1'), Some(d @ b'0'..=b'5'), None) => 10 + d - b'0',
        _ => return Err(ExtensionError::InvalidValue),
    };
    Ok(bits)
}

/// The server's choice: the first offer in `lines` (the values of every
/// `Sec-WebSocket-Extensions` header of the request) that `setup` can take, with the
/// parameters to answer it with; `None` when there is none (then the connection runs
/// without compression, which is what declining means).
///
/// An offer with a parameter RFC 7692 does not define, a repeated parameter or a bad
/// window size is declined (section 5: "a server MUST decline"), and the next one
/// considered. The answer:
/// - keeps the client's context between messages when the window holds the client's
///   window, asking for a smaller client window (`client_max_window_bits=N`) when the
///   client accepts one and the lent window is smaller than 32 KiB;
/// - otherwise, in reassembly mode, demands `client_no_context_takeover` (always allowed
///   to a server, section 7.1.1.2), so that each message inflates on its own without a
///   window; it also does so whenever the client says it resets its context anyway;
/// - in streaming mode declines an offer whose window cannot fit;
/// - accepts the client's `server_no_context_takeover` and `server_max_window_bits`
///   requests, and adds `server_no_context_takeover` when `setup` says this server
///   never keeps context.
///
/// # Errors
/// [`ExtensionError::Syntax`] when the header is not a valid extension list: answer it
/// with 400 ([`HandshakeError::status`]).
///
/// ```
/// use wscodec::deflate::{accept_offers, Setup};
/// // A browser's offer, to a server whose inflater has a 4 KiB window.
/// let chosen = accept_offers([&b"permessage-deflate; client_max_window_bits"[..]], &Setup { streaming: true, ..Setup::new(4096) })?;
/// let answer = chosen.unwrap().header_value();
/// assert_eq!(answer.as_str(), "permessage-deflate; client_max_window_bits=12");
/// # Ok::<(), wscodec::handshake::ExtensionError>(())
/// ```
pub fn accept_offers<'a, I>(
    lines: I,
    setup: &Setup,
) -> Result<Option<PerMessageDeflate>, ExtensionError>
where
    I: IntoIterator<Item = &'a [u8]>,
    I::IntoIter: Clone,
{
    let lines = lines.into_iter();
    header::check(lines.clone())?;
    for item in header::items(lines) {
        let item = item?;
        if !item.name.eq_ignore_ascii_case(NAME.as_bytes()) {
            continue;
        }
        let Ok(offer) = Offer::parse(item.params(), false) else { continue };
        if let Some(agreed) = answer(&offer, setup) {
            return Ok(Some(agreed));
        }
    }
    Ok(None)
}

/// The answer to a valid `offer`, if `setup` can take it.
const fn answer(offer: &Offer, setup: &Setup) -> Option<PerMessageDeflate> {
    let ring = setup.window_bits;
    let mut agreed = PerMessageDeflate {
        server_no_context_takeover: offer.server_no_context_takeover
            || setup.send_no_context_takeover,
        client_no_context_takeover: false,
        server_max_window_bits: offer.server_max_window_bits,
        client_max_window_bits: None,
    };
    if !setup.streaming && offer.client_no_context_takeover {
        // Each message inflates on its own, into its own storage.
        agreed.client_no_context_takeover = true;
        return Some(agreed);
    }
    match offer.client_max_window_bits {
        Some(hint) if ring >= MIN_WINDOW_BITS => {
            let bits = if hint < ring { hint } else { ring };
            if bits < MAX_WINDOW_BITS {
                agreed.client_max_window_bits = Some(bits);
            }
        }
        None if ring >= MAX_WINDOW_BITS => {}
        _ if !setup.streaming => agreed.client_no_context_takeover = true,
        _ => return None,
    }
    if offer.client_no_context_takeover {
        agreed.client_no_context_takeover = true;
    }
    Some(agreed)
}

/// The client's check of the server's answer to `offer` (the values of every
/// `Sec-WebSocket-Extensions` header of the response): the agreement, or `None` when
/// the server declined.
///
/// # Errors
/// The client must fail the connection (RFC 7692 sections 5 and 7.1) on
/// [`HandshakeError::UnofferedExtension`] (an extension other than permessage-deflate)
/// and [`HandshakeError::Extension`]: a malformed header, permessage-deflate twice, a
/// parameter that is unknown, repeated, has a bad value or answers nothing offered, a
/// server window larger than asked for, or one larger than `setup`'s window where this
/// end needs to keep it.
pub fn check_response<'a, I>(
    lines: I,
    offer: &Offer,
    setup: &Setup,
) -> Result<Option<PerMessageDeflate>, HandshakeError>
where
    I: IntoIterator<Item = &'a [u8]>,
    I::IntoIter: Clone,
{
    let lines = lines.into_iter();
    header::check(lines.clone())?;
    let mut agreed = None;
    for item in header::items(lines) {
        let item = item?;
        if !item.name.eq_ignore_ascii_case(NAME.as_bytes()) {
            return Err(HandshakeError::UnofferedExtension);
        }
        if agreed.is_some() {
            return Err(ExtensionError::Repeated.into());
        }
        let answer = Offer::parse(item.params(), true)?;
        agreed = Some(check_answer(&answer, offer, setup)?);
    }
    Ok(agreed)
}

/// The rules a response must follow beyond those of an offer.
fn check_answer(
    answer: &Offer,
    offer: &Offer,
    setup: &Setup,
) -> Result<PerMessageDeflate, ExtensionError> {
    match (answer.client_max_window_bits, offer.client_max_window_bits) {
        (Some(_), None) => return Err(ExtensionError::UnofferedParameter),
        (Some(bits), Some(hint)) if bits > hint => return Err(ExtensionError::InvalidValue),
        _ => {}
    }
    if let (Some(bits), Some(asked)) = (answer.server_max_window_bits, offer.server_max_window_bits)
    {
        if bits > asked {
            return Err(ExtensionError::WindowTooLarge);
        }
    }
    let agreed = PerMessageDeflate {
        server_no_context_takeover: answer.server_no_context_takeover,
        client_no_context_takeover: answer.client_no_context_takeover
            || offer.client_no_context_takeover,
        server_max_window_bits: answer.server_max_window_bits,
        client_max_window_bits: answer.client_max_window_bits,
    };
    let incoming = agreed.receive(Role::Client);
    let needs_window = setup.streaming || !incoming.no_context_takeover;
    if needs_window && setup.window_bits < incoming.max_window_bits {
        return Err(ExtensionError::WindowUnsupported { bits: incoming.max_window_bits });
    }
    Ok(agreed)
}

impl From<ExtensionError> for HandshakeError {
    fn from(e: ExtensionError) -> Self {
        Self::Extension(e)
    }
}

/// A `Sec-WebSocket-Extensions` value written without allocating (at most 128 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HeaderValue {
    bytes: [u8; Self::CAPACITY],
    len: u8,
}

impl HeaderValue {
    /// Long enough for every parameter with two-digit values.
    const CAPACITY: usize = 128;

    fn push(&mut self, s: &str) {
        let start = usize::from(self.len);
        let end = start + s.len();
        if let Some(dst) = self.bytes.get_mut(start..end) {
            dst.copy_from_slice(s.as_bytes());
            self.len = end as u8;
        }
    }

    fn push_bits(&mut self, bits: u8) {
        let digits = [b'0' + bits / 10, b'0' + bits % 10];
        let digits = if bits >= 10 { &digits[..] } else { digits.get(1..).unwrap_or_default() };
        self.push(core::str::from_utf8(digits).unwrap_or(""));
    }

    /// The value as text.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

impl AsRef<str> for HeaderValue {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests;
