//! permessage-deflate's part in the adapters' handshakes, without I/O: what a server
//! answers to the client's offers and what a client offers and accepts, from the memory
//! the [`Options`] lend. Without the feature `deflate`, or without that memory, nothing is
//! offered or accepted.

use super::buffer::RxBuffer;
use super::Options;
use crate::handshake::{client, server};
use crate::HandshakeError;

/// What a handshake agrees on: permessage-deflate's parameters, or nothing to agree on.
#[cfg(feature = "deflate")]
pub(crate) type Agreed = crate::deflate::PerMessageDeflate;
#[cfg(not(feature = "deflate"))]
pub(crate) type Agreed = core::convert::Infallible;

/// A client's offer, with the header value that carries it.
#[cfg(feature = "deflate")]
pub(crate) type Offered = Option<(crate::deflate::Offer, crate::deflate::HeaderValue)>;
#[cfg(not(feature = "deflate"))]
pub(crate) type Offered = NoOffer;

/// Without the feature `deflate`, a client offers nothing.
#[cfg(not(feature = "deflate"))]
pub(crate) struct NoOffer;

/// The negotiation the memory [`Options`] lend allows.
pub(crate) struct Negotiation {
    #[cfg(feature = "deflate")]
    setup: Option<crate::deflate::Setup>,
}

impl Negotiation {
    pub(crate) fn of<R: RxBuffer>(options: &Options<'_, R>) -> Self {
        #[cfg(feature = "deflate")]
        return Self { setup: options.deflate.as_ref().map(|d| d.setup(&options.config)) };
        #[cfg(not(feature = "deflate"))]
        {
            let _ = options;
            Self {}
        }
    }

    /// A server's answer to the request's offers: the header value and what it agreed.
    #[cfg(feature = "deflate")]
    pub(crate) fn answer(
        &self,
        request: &server::Request<'_, '_>,
    ) -> Result<Option<(crate::deflate::HeaderValue, Agreed)>, HandshakeError> {
        let Some(setup) = &self.setup else { return Ok(None) };
        let offers = extension_lines(request.headers());
        let agreed = crate::deflate::accept_offers(offers, setup)?;
        Ok(agreed.map(|agreed| (agreed.header_value(), agreed)))
    }

    /// A server's answer: nothing to agree on.
    #[cfg(not(feature = "deflate"))]
    #[inline(always)]
    pub(crate) fn answer(
        &self,
        request: &server::Request<'_, '_>,
    ) -> Result<Option<(&'static str, Agreed)>, HandshakeError> {
        server::no_extensions(request)
    }

    /// A client's offer, if it makes one.
    pub(crate) fn offer(&self) -> Offered {
        #[cfg(feature = "deflate")]
        return self
            .setup
            .as_ref()
            .and_then(crate::deflate::Offer::for_setup)
            .map(|offer| (offer, offer.header_value()));
        #[cfg(not(feature = "deflate"))]
        NoOffer
    }

    /// `request` with the offer in its `Sec-WebSocket-Extensions`.
    pub(crate) fn request<'a>(
        &self,
        request: &client::ClientRequest<'a>,
        offer: &'a Offered,
    ) -> client::ClientRequest<'a> {
        #[cfg(feature = "deflate")]
        if let Some((_, value)) = offer {
            return client::ClientRequest { extensions: Some(value.as_str()), ..*request };
        }
        let _ = offer;
        *request
    }

    /// A client's check of the server's answer to its offer.
    ///
    /// # Errors
    /// [`HandshakeError::Extension`] or [`HandshakeError::UnofferedExtension`] for an
    /// answer the client must fail.
    pub(crate) fn check(
        &self,
        response: &client::Response<'_, '_>,
        offer: &Offered,
    ) -> Result<Option<Agreed>, HandshakeError> {
        // Without an offer, `Response::validate` refuses any extension in the answer.
        #[cfg(feature = "deflate")]
        if let (Some((offer, _)), Some(setup)) = (offer, &self.setup) {
            let answers = extension_lines(response.headers());
            return crate::deflate::check_response(answers, offer, setup);
        }
        let _ = (response, offer);
        Ok(None)
    }
}

/// The values of a head's `Sec-WebSocket-Extensions` lines.
#[cfg(feature = "deflate")]
fn extension_lines<'h, 'b>(
    headers: &'h [crate::handshake::Header<'b>],
) -> impl Iterator<Item = &'b [u8]> + Clone + 'h {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
        .map(|h| h.value)
}
