//! What a connection lends and how it runs, for the adapters' constructors: one value
//! instead of a list of parameters, that can grow without breaking a call site.

use crate::Config;

/// The memory a connection lends and how it runs: the receive buffer `rx`, the transmit
/// buffer `tx`, the [`Config`], and permessage-deflate's memory. Every adapter
/// constructor takes one (`WebSocket::accept`, `connect`, `server`, `client`).
///
/// ```
/// use wscodec::io::Options;
/// use wscodec::Config;
/// let (mut rx, mut tx) = ([0u8; 4096], [0u8; 1024]);
/// let streaming = Config { streaming: true, ..Config::default() };
/// let options = Options::new(&mut rx[..], &mut tx).with_config(streaming);
/// # let _ = options;
/// ```
///
/// # Buffer sizes
/// See the [module docs](super): `rx` at least [`MIN_RX_BUF`](super::MIN_RX_BUF) bytes,
/// `tx` at least [`MIN_TX_BUF`](super::MIN_TX_BUF); the constructors panic otherwise.
pub struct Options<'b, R = &'b mut [u8]> {
    pub(crate) rx: R,
    pub(crate) tx: &'b mut [u8],
    pub(crate) config: Config,
    pub(crate) received: usize,
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<super::Deflate<'b, R>>,
}

impl<'b, R> Options<'b, R> {
    /// Receiving into `rx`, sending through `tx`, with the default [`Config`] and without
    /// permessage-deflate.
    pub fn new(rx: R, tx: &'b mut [u8]) -> Self {
        Self {
            rx,
            tx,
            config: Config::default(),
            received: 0,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// With this configuration (limits and receive mode).
    #[must_use]
    pub const fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// With the first `received` bytes of `rx` already read from the stream: frames that
    /// came with a handshake done elsewhere (`WebSocket::server` and `client`; `accept`
    /// and `connect` find them themselves).
    #[must_use]
    pub const fn with_received(mut self, received: usize) -> Self {
        self.received = received;
        self
    }

    /// With permessage-deflate's memory: `accept` answers the client's offers with what
    /// it can take, `connect` offers it; after a handshake done elsewhere,
    /// `WebSocket::with_deflate` starts it with what was agreed.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub fn with_deflate(mut self, deflate: super::Deflate<'b, R>) -> Self {
        self.deflate = Some(deflate);
        self
    }
}

impl<'b, R: super::buffer::RxBuffer> Options<'b, R> {
    /// The receiving and the sending side of a connection in `role` that these options
    /// make, masking what it sends with `mask`.
    ///
    /// # Panics
    /// If `rx` can never hold [`MIN_RX_BUF`](super::MIN_RX_BUF) bytes or `tx` is shorter
    /// than [`MIN_TX_BUF`](super::MIN_TX_BUF).
    #[inline(always)]
    pub(crate) fn into_parts<M: super::MaskKeys>(
        self,
        role: crate::Role,
        mask: M,
    ) -> (super::inbox::Inbox<'b, R>, super::outbox::Outbox<'b, M>) {
        let mut conn = crate::Connection::with_config(role, self.config);
        #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
        let mut inbox = super::inbox::Inbox::new(self.rx, self.received, &mut conn);
        #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
        let mut outbox = super::outbox::Outbox::new(conn, self.tx, mask);
        // permessage-deflate's memory, kept for `with_deflate`.
        #[cfg(feature = "deflate")]
        if let Some(deflate) = self.deflate {
            outbox.storing = deflate.storing;
            inbox.inflater = Some(deflate.inflater);
            #[cfg(feature = "deflate-compress")]
            {
                outbox.compressor = deflate.compressor;
            }
        }
        (inbox, outbox)
    }
}

/// The handshake's head, read into `rx`: its first `received` bytes so far.
impl<R: super::buffer::RxBuffer> Options<'_, R> {
    /// The bytes received so far.
    pub(crate) fn head(&self) -> &[u8] {
        self.rx.bytes().get(..self.received).unwrap_or_default()
    }

    /// Whether the head fills `rx`: no room to read more of it.
    pub(crate) fn head_full(&self) -> bool {
        self.received >= self.rx.bytes().len()
    }

    /// A request's head so far, and `tx` for the answer.
    pub(crate) fn request_head(&mut self) -> (crate::handshake::server::Head<'_>, &mut [u8]) {
        (crate::handshake::server::Head::new(self.rx.bytes(), self.received), self.tx)
    }

    /// The first `n` bytes of `tx`, which hold a head to send.
    pub(crate) fn tx_head(&self, n: usize) -> &[u8] {
        self.tx.get(..n).unwrap_or_default()
    }

    /// The handshake took the first `len` bytes of the head: the frames that came with it
    /// move to the start of `rx`.
    pub(crate) fn took(&mut self, len: usize) {
        let rest = self.received.saturating_sub(len);
        crate::buffer::move_down(self.rx.bytes_mut(), len, rest, 0);
        self.received = rest;
    }
}

impl<R: super::buffer::RxBuffer> super::buffer::Fill for Options<'_, R> {
    fn room(&mut self) -> &mut [u8] {
        self.rx.bytes_mut().get_mut(self.received..).unwrap_or_default()
    }

    fn filled(&mut self, n: usize) {
        self.received += n;
    }
}

impl<R> core::fmt::Debug for Options<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s = f.debug_struct("Options");
        s.field("tx", &self.tx.len()).field("config", &self.config);
        s.field("received", &self.received);
        #[cfg(feature = "deflate")]
        s.field("deflate", &self.deflate.is_some());
        s.finish_non_exhaustive()
    }
}
