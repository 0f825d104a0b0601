//! WebSocket frames built byte by byte, for every test, bench and example of the workspace:
//! one builder, so that a frame a test sends is the same frame everywhere.
//!
//! It does not use `wscodec` (the codec's own unit tests use it, and it must make what the
//! codec's encoder refuses: reserved opcodes and bits, unmasked client frames).

/// A frame whose first byte (FIN, RSV bits, opcode) is `first`, with `payload` masked with
/// `key`, as a client sends it. The length takes the shortest form (7, 16 or 64 bits).
pub fn masked(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut frame = header(first, payload.len(), Some(key));
    frame.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    frame
}

/// A frame whose first byte is `first`, with `payload` unmasked, as a server sends it.
pub fn unmasked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = header(first, payload.len(), None);
    frame.extend_from_slice(payload);
    frame
}

fn header(first: u8, len: usize, key: Option<[u8; 4]>) -> Vec<u8> {
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let mut out = vec![first];
    match u16::try_from(len) {
        Ok(n @ 0..=125) => out.push(mask_bit | n as u8),
        Ok(n) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Err(_) => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    if let Some(key) = key {
        out.extend_from_slice(&key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_5_7_examples() {
        // "A single-frame masked text message" and "unmasked text message".
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let hello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(masked(0x81, b"Hello", key), hello);
        assert_eq!(unmasked(0x81, b"Hello"), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    }

    #[test]
    fn lengths_take_the_shortest_form() {
        assert_eq!(unmasked(0x82, &[0; 125])[1], 125);
        assert_eq!(unmasked(0x82, &[0; 126])[1..4], [126, 0, 126]);
        assert_eq!(unmasked(0x82, &[0; 65_535])[1..4], [126, 0xff, 0xff]);
        assert_eq!(unmasked(0x82, &[0; 65_536])[1..10], [127, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(masked(0x82, &[0; 126], [1, 2, 3, 4])[1..8], [0xfe, 0, 126, 1, 2, 3, 4]);
    }
}
