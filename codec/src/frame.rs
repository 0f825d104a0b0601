//! The frame header (RFC 6455 section 5.2): decoding from partial input and encoding.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

use crate::{CloseCode, Status};

/// A frame opcode.
///
/// Each variant's value is its wire value, so that decoding is a check and encoding a
/// cast (less code in a firmware image than two `match`es that map one onto the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: the first frame of a text message.
    Text = 0x1,
    /// 0x2: the first frame of a binary message.
    Binary = 0x2,
    /// 0x8: close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl OpCode {
    /// Decodes the 4-bit opcode; reserved values (0x3–0x7, 0xB–0xF) are an error.
    pub const fn from_u8(op: u8) -> Result<Self, FrameError> {
        Ok(match op {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(FrameError::ReservedOpcode(other)),
        })
    }

    /// The 4-bit wire value.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Close, ping and pong are control frames.
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A malformed frame header. Every variant earns close code 1002 except
/// [`FrameError::TooLarge`] (1009).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// An opcode reserved for future use (0x3–0x7, 0xB–0xF).
    ReservedOpcode(u8),
    /// RSV1–3 set without a negotiated extension (the bits as `0b0RRR`).
    ReservedBits(u8),
    /// A control frame with more than 125 payload bytes.
    ControlTooLong(u64),
    /// A control frame without FIN (control frames must not be fragmented).
    FragmentedControl,
    /// A 64-bit length with its most significant bit set.
    LengthOverflow,
    /// A client frame without a mask (the server must fail the connection).
    UnmaskedClientFrame,
    /// A server frame with a mask (the client must fail the connection).
    MaskedServerFrame,
    /// A frame longer than the configured limit (declared length, maximum).
    TooLarge {
        /// The length the peer declared (frame or message so far).
        size: u64,
        /// The configured maximum.
        max: u64,
    },
}

impl FrameError {
    /// The close code this error earns.
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::TooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::ReservedOpcode(_)
            | Self::ReservedBits(_)
            | Self::ControlTooLong(_)
            | Self::FragmentedControl
            | Self::LengthOverflow
            | Self::UnmaskedClientFrame
            | Self::MaskedServerFrame => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ReservedBits(bits) => {
                write!(f, "reserved bits RSV{bits:03b} set but no extension was negotiated")
            }
            Self::ControlTooLong(len) => {
                write!(f, "control frame payload of {len} bytes (at most 125 allowed)")
            }
            Self::FragmentedControl => {
                f.write_str("control frame without FIN (control frames cannot be fragmented)")
            }
            Self::LengthOverflow => {
                f.write_str("64-bit payload length with the most significant bit set")
            }
            Self::UnmaskedClientFrame => f.write_str("client frame is not masked"),
            Self::MaskedServerFrame => f.write_str("server frame is masked"),
            Self::TooLarge { size, max } => {
                write!(f, "message of {size} bytes exceeds the limit of {max} bytes")
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// A decoded frame header.
///
/// ```
/// use wscodec::{FrameHeader, OpCode, Status};
/// // RFC 6455 section 5.7: a single-frame masked text message "Hello".
/// let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let Status::Complete { value: h, consumed } = FrameHeader::decode(&wire).unwrap() else { panic!() };
/// assert_eq!((h.opcode, h.fin, h.payload_len, consumed), (OpCode::Text, true, 5, 6));
/// assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
/// // Partial input says how much more is needed.
/// assert_eq!(FrameHeader::decode(&wire[..1]).unwrap(), Status::Partial { needed: 1 });
/// assert_eq!(FrameHeader::decode(&wire[..2]).unwrap(), Status::Partial { needed: 4 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameHeader {
    /// FIN: this is the last frame of a message.
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the low three bits (`0b0000_0RRR`, RSV1 highest).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// The longest header: 2 + 8 (64-bit length) + 4 (mask key).
    pub const MAX_LEN: usize = 14;

    /// A final, unmasked header for `opcode` with `payload_len` bytes.
    pub const fn new(opcode: OpCode, payload_len: u64) -> Self {
        Self { fin: true, rsv: 0, opcode, mask: None, payload_len }
    }

    /// Decodes a header from the start of `buf` without consuming anything.
    ///
    /// Checks what a header alone can show: reserved opcodes, control frames longer
    /// than 125 bytes or without FIN, and 64-bit lengths with the top bit set. RSV bits,
    /// masking direction and size limits depend on the connection and are checked there.
    ///
    /// # Errors
    /// [`FrameError`] for a header that breaks RFC 6455 section 5.2 / 5.5.
    #[inline]
    pub fn decode(buf: &[u8]) -> Result<Status<Self>, FrameError> {
        let Some((&[b0, b1], rest)) = buf.split_first_chunk::<2>() else {
            return Ok(Status::Partial { needed: 2 - buf.len() });
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        let opcode = OpCode::from_u8(b0 & 0x0f)?;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7f;
        let ext_len = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask_len = if masked { 4 } else { 0 };
        let header_len = 2 + ext_len + mask_len;
        // Control frames: "All control frames MUST have a payload length of 125 bytes or
        // less and MUST NOT be fragmented." (section 5.5). Checked before the extended
        // length arrives so a bad frame fails as early as possible.
        if opcode.is_control() {
            if !fin {
                return Err(FrameError::FragmentedControl);
            }
            if len7 > 125 {
                return Err(FrameError::ControlTooLong(u64::from(len7)));
            }
        }
        if buf.len() < header_len {
            return Ok(Status::Partial { needed: header_len - buf.len() });
        }
        // The whole header is in `buf`: the extended length (big-endian), then the key.
        let (ext, key) = rest.split_at_checked(ext_len).unwrap_or_default();
        let short_len = if ext_len == 0 { u64::from(len7) } else { 0 };
        let payload_len = ext.iter().fold(short_len, |len, &b| (len << 8) | u64::from(b));
        // "the most significant bit MUST be 0" (section 5.2)
        if payload_len >> 63 != 0 {
            return Err(FrameError::LengthOverflow);
        }
        let mask = match (masked, key.first_chunk::<4>()) {
            (false, _) => None,
            (true, Some(k)) => Some(*k),
            (true, None) => return Ok(Status::Partial { needed: 4 }),
        };
        Ok(Status::Complete {
            value: Self { fin, rsv, opcode, mask, payload_len },
            consumed: header_len,
        })
    }

    /// The encoded length of this header (2 to 14 bytes).
    #[inline]
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.payload_len <= 125 {
            0
        } else if self.payload_len <= 0xffff {
            2
        } else {
            8
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header into `out` using the shortest length encoding, and returns the
    /// number of bytes written, or `None` if `out` is shorter than [`encoded_len`](Self::encoded_len).
    ///
    /// ```
    /// use wscodec::{FrameHeader, OpCode};
    /// let mut out = [0u8; 14];
    /// // RFC 6455 section 5.7: 256 bytes binary message in a single unmasked frame.
    /// let n = FrameHeader::new(OpCode::Binary, 256).encode(&mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x82, 0x7e, 0x01, 0x00]);
    /// ```
    #[inline]
    pub fn encode(&self, out: &mut [u8]) -> Option<usize> {
        let len = self.encoded_len();
        let out = out.get_mut(..len)?;
        let b0 = (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let ([b0_out, b1_out], rest) = out.split_first_chunk_mut::<2>()?;
        *b0_out = b0;
        // Fixed-size copies for each length class: no variable-length memcpy call.
        let rest = if self.payload_len <= 125 {
            // Fits in 7 bits by the branch condition.
            *b1_out = mask_bit | self.payload_len as u8;
            rest
        } else if let Ok(short) = u16::try_from(self.payload_len) {
            *b1_out = mask_bit | 126;
            let (ext, rest) = rest.split_first_chunk_mut::<2>()?;
            *ext = short.to_be_bytes();
            rest
        } else {
            *b1_out = mask_bit | 127;
            let (ext, rest) = rest.split_first_chunk_mut::<8>()?;
            *ext = self.payload_len.to_be_bytes();
            rest
        };
        if let Some(key) = self.mask {
            *rest.first_chunk_mut::<4>()? = key;
        }
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::decode(buf).unwrap() {
            Status::Complete { value, consumed } => (value, consumed),
            Status::Partial { needed } => panic!("partial, needs {needed}"),
        }
    }

    #[test]
    fn rfc6455_5_7_headers() {
        // unmasked "Hello"
        assert_eq!(complete(&[0x81, 0x05]), (FrameHeader::new(OpCode::Text, 5), 2));
        // fragmented "Hel" + "lo"
        let (h, _) = complete(&[0x01, 0x03]);
        assert_eq!((h.fin, h.opcode, h.payload_len), (false, OpCode::Text, 3));
        let (h, _) = complete(&[0x80, 0x02]);
        assert_eq!((h.fin, h.opcode, h.payload_len), (true, OpCode::Continuation, 2));
        // ping "Hello"
        assert_eq!(complete(&[0x89, 0x05]).0.opcode, OpCode::Ping);
        // 256 bytes and 64 KiB binary
        assert_eq!(complete(&[0x82, 0x7e, 0x01, 0x00]), (FrameHeader::new(OpCode::Binary, 256), 4));
        assert_eq!(
            complete(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]),
            (FrameHeader::new(OpCode::Binary, 65536), 10)
        );
    }

    #[test]
    fn every_truncation_of_a_header_is_partial() {
        let wire = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..wire.len() {
            match FrameHeader::decode(&wire[..cut]).unwrap() {
                Status::Partial { needed } => assert!(needed >= 1 && cut + needed <= wire.len()),
                Status::Complete { .. } => panic!("complete at {cut}"),
            }
        }
        assert_eq!(complete(&wire).1, 14);
    }

    #[test]
    fn bad_headers() {
        assert_eq!(FrameHeader::decode(&[0x83, 0]), Err(FrameError::ReservedOpcode(3)));
        assert_eq!(FrameHeader::decode(&[0x8b, 0]), Err(FrameError::ReservedOpcode(0xb)));
        assert_eq!(FrameHeader::decode(&[0x09, 0]), Err(FrameError::FragmentedControl));
        assert_eq!(FrameHeader::decode(&[0x89, 126]), Err(FrameError::ControlTooLong(126)));
        assert_eq!(
            FrameHeader::decode(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(FrameError::LengthOverflow)
        );
    }

    #[test]
    fn encode_decode_every_length_class() {
        for len in [0u64, 1, 125, 126, 0xffff, 0x1_0000, 1 << 40] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let h = FrameHeader {
                    fin: len % 2 == 0,
                    rsv: 0,
                    opcode: OpCode::Binary,
                    mask,
                    payload_len: len,
                };
                let mut out = [0u8; 14];
                let n = h.encode(&mut out).unwrap();
                assert_eq!(n, h.encoded_len());
                assert_eq!(complete(&out[..n]), (h, n));
                assert_eq!(h.encode(&mut out[..n - 1]), None);
            }
        }
    }
}
