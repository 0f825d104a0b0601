//! Randomness from the operating system, for hosts (feature `std`).
//!
//! Firmware passes its own: a hardware RNG for the handshake nonce and the mask keys.

/// A fresh 16-byte nonce for `Sec-WebSocket-Key`.
///
/// # Panics
/// If the operating system has no randomness to give (`getrandom` fails), which a host
/// cannot recover from safely.
pub fn nonce() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}

/// A fresh, unpredictable 4-byte mask key (RFC 6455 section 5.3).
///
/// # Panics
/// As [`nonce`].
pub fn mask_key() -> [u8; 4] {
    let mut bytes = [0u8; 4];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}
