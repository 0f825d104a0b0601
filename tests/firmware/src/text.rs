//! Short texts formatted into fixed buffers: a `Host` header, a request target.

use core::fmt::Write as _;

/// Text of at most `N` bytes; what does not fit is cut off (and the text is then empty).
pub(crate) struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Text<N> {
    pub(crate) const fn new() -> Self {
        Self { buf: [0; N], len: 0 }
    }

    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> core::fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let Some(spare) = self.buf.get_mut(self.len..end) else {
            self.len = 0;
            return Err(core::fmt::Error);
        };
        spare.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `Host` header text, e.g. `192.168.69.1:9100`.
pub(crate) fn host_name(host: impl core::fmt::Display, port: u16) -> Text<48> {
    let mut text = Text::new();
    let _ = write!(text, "{host}:{port}");
    text
}
