//! The fast path for small whole messages against the general path.

extern crate std;

use super::tests::{own, wire_from, Owned, KEY};
use super::*;
use crate::Status;

/// `next_frame`'s fast path for small whole messages must give exactly what the general
/// path gives: the same result, the same consumed count, the same connection state after.
/// Every opcode, 7-bit, 16-bit and 64-bit lengths with and without the mask bit, both roles,
/// valid and invalid UTF-8, truncations, tight message limits, fresh and used connections.
#[test]
fn small_message_fast_path_agrees_with_the_general_path() {
    fn run(
        conn: &mut Connection,
        buf: &mut [u8],
        general: bool,
    ) -> Result<Status<Option<Owned>>, ProtocolError> {
        let result = if general {
            conn.any_frame(buf)
        } else {
            conn.handle_input_span(buf, &mut NoInflater)
        };
        if general {
            if let Err(e) = result {
                conn.fail(e);
            }
        }
        match result? {
            Status::Complete { value: Some(at), consumed } => {
                let event = own(conn.event(at, buf, &NoInflater)?);
                Ok(Status::Complete { value: Some(event), consumed })
            }
            Status::Complete { value: None, consumed } => {
                Ok(Status::Complete { value: None, consumed })
            }
            Status::Partial { needed } => Ok(Status::Partial { needed }),
        }
    }
    let mut checked = 0;
    let mut fast = 0;
    for role in [Role::Server, Role::Client] {
        for max_message in [0, 15, 16, 125, 299, Config::default().max_message] {
            let mut used = Connection::with_config(
                role,
                Config { max_message, streaming: false, ..Config::default() },
            );
            let mut hello = wire_from(role, 0x81, b"hello");
            assert!(used.handle_input(&mut hello).is_ok() || max_message < 5);
            let fresh = Connection::with_config(
                role,
                Config { max_message, streaming: false, ..Config::default() },
            );
            for start in [fresh, used] {
                if start.state() != State::Open {
                    continue;
                }
                // Every opcode, with FIN and RSV bits in the combinations that matter.
                let firsts = [0x00u8, 0x80, 0x90, 0xc0].into_iter();
                for first in firsts.flat_map(|high| (0..16).map(move |op| high | op)) {
                    // (payload length, extended length bytes): 7-bit, 16-bit (one not
                    // minimal), 64-bit, and 126 and 127 followed by the key's bytes.
                    let lengths = [(0, 0), (1, 0), (3, 0), (16, 0), (125, 0), (126, 2), (300, 2)];
                    let odd = [(5, 2), (126, 8), (0x37fa, 2), (126, 126), (127, 127)];
                    for (len, ext) in lengths.into_iter().chain(odd) {
                        for mask_bit in [0, 0x80] {
                            for content in [b'a', 0xff] {
                                let len7 = match ext {
                                    0 => len as u8,
                                    2 | 126 => 126,
                                    _ => 127,
                                };
                                let mut wire = std::vec![first, len7 | mask_bit];
                                match ext {
                                    2 => wire.extend_from_slice(&(len as u16).to_be_bytes()),
                                    8 => wire.extend_from_slice(&(len as u64).to_be_bytes()),
                                    _ => {}
                                }
                                let header = wire.len() + if mask_bit != 0 { 4 } else { 0 };
                                wire.extend_from_slice(&KEY);
                                wire.extend(core::iter::repeat_n(content, len + 8));
                                let whole = header + len;
                                for cut in [1, 2, 3, 4, 5, 6, 8, whole - 1, whole, whole + 1] {
                                    let Some(input) = wire.get(..cut) else { continue };
                                    let (mut a, mut b) = (start.clone(), start.clone());
                                    let fast_taken = a.small_message(input).is_some();
                                    let (mut x, mut y) = (input.to_vec(), input.to_vec());
                                    let got = run(&mut a, &mut x, false);
                                    let want = run(&mut b, &mut y, true);
                                    let case =
                                        (role, max_message, first, len, mask_bit, content, cut);
                                    assert_eq!(got, want, "{case:?}");
                                    assert_eq!(x, y, "buffer after {case:?}");
                                    assert_eq!(
                                        std::format!("{a:?}"),
                                        std::format!("{b:?}"),
                                        "state after {case:?}"
                                    );
                                    checked += 1;
                                    fast += usize::from(fast_taken);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // The fast path was really taken, and not for everything.
    assert!(fast > 500 && fast < checked / 10, "fast path taken {fast} of {checked} times");
}
