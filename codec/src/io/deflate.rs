//! permessage-deflate for the adapters: what a connection lends and uses for it.

use crate::buffer::RxBuffer;
use crate::deflate::{Inflater, Setup};

/// permessage-deflate for an adapter: the [`Inflater`] over the memory this end lends for
/// it and, on a build with `deflate-compress`, a compressor for what it sends.
///
/// Without a compressor this end sends every message uncompressed, and says so in the
/// negotiation (`*_no_context_takeover` for its side), so that the peer need keep no
/// window for it.
pub struct Deflate<'b, R> {
    pub(crate) inflater: Inflater<'b, R>,
    /// This end resets its compression context after each message, and says so.
    resetting: bool,
    /// Without a compressor, messages still go out as permessage-deflate: stored blocks.
    pub(crate) storing: bool,
    #[cfg(feature = "deflate-compress")]
    pub(crate) compressor: Option<crate::deflate::Compressor>,
}

impl<R: RxBuffer> core::fmt::Debug for Deflate<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflate").field("inflater", &self.inflater).finish_non_exhaustive()
    }
}

impl<'b, R: RxBuffer> Deflate<'b, R> {
    /// Receiving compressed messages with `inflater`; sending uncompressed.
    pub fn new(inflater: Inflater<'b, R>) -> Self {
        Self {
            inflater,
            resetting: false,
            storing: false,
            #[cfg(feature = "deflate-compress")]
            compressor: None,
        }
    }

    /// Also sending compressed messages, with `compressor`.
    #[cfg(feature = "deflate-compress")]
    pub fn compressing(mut self, compressor: crate::deflate::Compressor) -> Self {
        self.compressor = Some(compressor);
        self
    }

    /// Compresses each message on its own (no context carried from one to the next), and
    /// says so in the negotiation (`client_no_context_takeover` as a client's hint,
    /// `server_no_context_takeover` as a server), so that the peer need keep no window
    /// for what it receives. The compressor's memory is then taken only while a message
    /// is compressed. Without a compressor this is always so.
    pub fn resetting(mut self) -> Self {
        self.resetting = true;
        self
    }

    /// Sends messages in permessage-deflate's framing without compressing them: each piece
    /// of a message is a DEFLATE stored block (5 bytes of header, up to 65,535 bytes of
    /// data), and RSV1 marks the message's first frame. It takes no memory and no
    /// window, and every inflater reads it; the cost is 5 bytes a piece and 1 a message.
    ///
    /// RFC 7692 lets an endpoint send uncompressed messages on a compressed connection,
    /// and that is the default here. This is for peers that take only compressed ones:
    /// the Autobahn runner kosoku 0.1.0 fails its compression cases (12.x and 13.x) on
    /// an uncompressed text echo. A compressor, where there is one, wins over this.
    pub fn storing(mut self) -> Self {
        self.storing = true;
        self
    }

    /// What this end can take and gives, for the negotiation, receiving as `config` says.
    pub fn setup(&self, config: &crate::Config) -> Setup {
        let mut setup = self.inflater.setup(config);
        #[cfg(feature = "deflate-compress")]
        let compresses = self.compressor.is_some();
        #[cfg(not(feature = "deflate-compress"))]
        let compresses = false;
        setup.send_no_context_takeover = self.resetting || !compresses;
        setup
    }
}

/// Turns permessage-deflate on with what was `agreed`, in the receiving and the sending
/// side of a connection (`None`: it stays off).
///
/// # Errors
/// [`ExtensionError::WindowUnsupported`] when the agreement needs a larger window than the
/// inflater lent has (or none was lent).
pub(crate) fn start<R: RxBuffer, M>(
    inbox: &mut super::inbox::Inbox<'_, R>,
    outbox: &mut super::outbox::Outbox<'_, M>,
    agreed: Option<crate::deflate::PerMessageDeflate>,
) -> Result<(), crate::handshake::ExtensionError> {
    let Some(agreed) = agreed else { return Ok(()) };
    let role = outbox.conn.role();
    let config = outbox.conn.config();
    let incoming = agreed.receive(role);
    let Some(inflater) = inbox.inflater.as_mut() else {
        let bits = incoming.max_window_bits;
        return Err(crate::handshake::ExtensionError::WindowUnsupported { bits });
    };
    inflater.start(incoming, &config)?;
    outbox.conn.set_deflate(Some(agreed));
    #[cfg(feature = "deflate-compress")]
    if let Some(compressor) = outbox.compressor.as_mut() {
        compressor.start(agreed.send(role));
    }
    Ok(())
}
