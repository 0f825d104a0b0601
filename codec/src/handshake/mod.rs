//! The opening handshake (RFC 6455 section 4).

/// Placeholder; replaced by the handshake module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Placeholder.
    Placeholder,
}
