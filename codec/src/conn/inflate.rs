//! How a connection hands out compressed messages (permessage-deflate): through an
//! [`Inflater`](crate::deflate::Inflater), or not at all ([`NoInflater`]).

use super::event::EventSpan;
#[cfg(feature = "deflate")]
use super::ProtocolError;
use super::{Connection, Handout, Step};

/// What inflates compressed messages for
/// [`Connection::handle_input_span`](crate::Connection::handle_input_span): a
/// [`deflate::Inflater`](crate::deflate::Inflater) once permessage-deflate is agreed,
/// [`NoInflater`] otherwise, or an `Option` of either (`None` for none). Sealed: the crate
/// implements it for those alone.
pub trait Inflate: sealed::Sealed {
    /// One input step of `conn` over `buf`.
    #[doc(hidden)]
    fn input_step(&mut self, conn: &mut Connection, buf: &mut [u8]) -> Step;

    /// The event at `span`, in `buf` or in this inflater's memory.
    #[doc(hidden)]
    fn event<'a>(&'a self, conn: &mut Connection, span: EventSpan, buf: &'a [u8]) -> Handout<'a>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoInflater {}
    impl<T: super::Inflate> Sealed for Option<T> {}
    #[cfg(feature = "deflate")]
    impl<O: crate::RxBuffer> Sealed for crate::deflate::Inflater<'_, O> {}
}

/// No inflater: a compressed message fails the connection
/// ([`ProtocolError::NoInflater`] with permessage-deflate agreed; without it, RSV1 is a
/// protocol error anyway).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoInflater;

impl Inflate for NoInflater {
    #[inline(always)]
    fn input_step(&mut self, conn: &mut Connection, buf: &mut [u8]) -> Step {
        #[cfg(feature = "deflate")]
        let compressed = |_: &mut Connection, _: &mut [u8]| Err(ProtocolError::NoInflater);
        // (Without the feature no message is compressed: never called.)
        #[cfg(not(feature = "deflate"))]
        let compressed = |conn: &mut Connection, buf: &mut [u8]| conn.continue_frame(buf);
        conn.input_step(buf, compressed)
    }

    #[inline(always)]
    fn event<'a>(&'a self, conn: &mut Connection, span: EventSpan, buf: &'a [u8]) -> Handout<'a> {
        #[cfg(feature = "deflate")]
        if !span.in_input() {
            conn.fail(ProtocolError::NoInflater);
            return Err(ProtocolError::NoInflater);
        }
        conn.materialize(span, buf)
    }
}

impl<T: Inflate> Inflate for Option<T> {
    #[inline(always)]
    fn input_step(&mut self, conn: &mut Connection, buf: &mut [u8]) -> Step {
        match self {
            Some(inflater) => inflater.input_step(conn, buf),
            None => NoInflater.input_step(conn, buf),
        }
    }

    #[inline(always)]
    fn event<'a>(&'a self, conn: &mut Connection, span: EventSpan, buf: &'a [u8]) -> Handout<'a> {
        match self {
            Some(inflater) => inflater.event(conn, span, buf),
            None => NoInflater.event(conn, span, buf),
        }
    }
}
