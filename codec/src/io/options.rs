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
