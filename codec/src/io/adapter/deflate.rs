//! permessage-deflate in the adapters, with the `deflate` feature.

use super::*;
use crate::deflate::PerMessageDeflate;
use crate::handshake::ExtensionError;

impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// Turns permessage-deflate on with what was `agreed` (`None`: it stays off), for a
    /// connection whose handshake was done elsewhere (see
    /// [`accept_offers`](crate::deflate::accept_offers) and
    /// [`check_response`](crate::deflate::check_response)), with the memory lent by
    /// [`Options::with_deflate`]. Call it before the first read.
    ///
    /// # Errors
    /// [`ExtensionError::WindowUnsupported`] when the agreement needs a larger window
    /// than the inflater lent has (or none was lent).
    pub fn with_deflate(
        mut self,
        agreed: Option<PerMessageDeflate>,
    ) -> Result<Self, ExtensionError> {
        crate::io::deflate::start(&mut self.inbox, &mut self.link.out, agreed)?;
        Ok(self)
    }

    /// What a handshake of the adapter's own agreed on, in force.
    pub(super) fn agreed(
        &mut self,
        agreed: Option<PerMessageDeflate>,
    ) -> Result<(), Error<S::Error>> {
        // The inflater fits what was agreed: the negotiation made sure of it.
        crate::io::deflate::start(&mut self.inbox, &mut self.link.out, agreed)
            .map_err(|e| Error::Handshake(e.into()))
    }

    /// What permessage-deflate parameters were agreed, if any.
    pub fn deflate(&self) -> Option<PerMessageDeflate> {
        self.link.out.conn.deflate()
    }
}
