//! Server handshakes: each reads one upgrade request and writes its 101 response, returning
//! the response's length, so that every response can be checked before it is timed.

use wscodec::handshake::server;
use wscodec::Status;

use crate::decode::{FixedKey, WebsocketzBuffers};
use crate::streams::{block_on, SliceStream};

/// wscodec: `server::handle_request`, the whole server handshake in one call: its own
/// request parser (into a 32-entry header array on its stack), all RFC 6455 4.2.1 checks,
/// the application's decision (accept), the `101` (SHA-1 + base64) into the caller's
/// buffer. No allocation.
pub(crate) fn wscodec(request: &[u8], out: &mut [u8]) -> usize {
    let head = server::Head::new(request, request.len());
    let accept = |_: &server::Request<'_, '_>, _: Option<&server::Upgrade<'_>>| {
        server::Decision::Accept { protocol: None }
    };
    let step = server::handle_request(head, out, accept, server::no_extensions);
    match step {
        Status::Complete { value, .. } if value.outcome == server::Outcome::Upgraded => {
            value.written
        }
        other => panic!("wscodec: {other:?}"),
    }
}

/// tungstenite: `<Request as TryParse>::try_parse` (httparse, then an `http::Request` with
/// a `HeaderMap`: allocations per header), `handshake::server::create_response` (checks
/// method, version, Connection, Upgrade, Sec-WebSocket-Version, key), and
/// `handshake::server::write_response` into a `Vec` (capacity kept).
pub(crate) fn tungstenite(request: &[u8], out: &mut Vec<u8>) -> usize {
    use tungstenite::handshake::machine::TryParse;
    use tungstenite::handshake::server::{create_response, write_response, Request};
    let (_, req) = Request::try_parse(request).unwrap().expect("complete request");
    let response = create_response(&req).unwrap();
    out.clear();
    write_response(&mut *out, &response).unwrap();
    out.len()
}

/// embedded-websocket: `httparse::Request::parse` (as its docs show), `read_http_header`
/// (extracts the key and subprotocols into `heapless` strings; checks only `Upgrade`),
/// `WebSocketServer::server_accept` (SHA-1 + base64; builds the response in a 1 KiB
/// `heapless::String` and copies it out). No allocation.
pub(crate) fn embedded(request: &[u8], out: &mut [u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    assert!(req.parse(request).unwrap().is_complete());
    let ctx = embedded_websocket::read_http_header(req.headers.iter().map(|h| (h.name, h.value)))
        .unwrap()
        .expect("an upgrade request");
    let mut ws = embedded_websocket::WebSocketServer::new_server();
    ws.server_accept(&ctx.sec_websocket_key, None, out).unwrap()
}

/// tokio-websockets: `ServerBuilder::new().accept(stream)` over an in-memory stream that
/// holds the request and collects the response, polled with a no-op waker. A
/// `tokio_util` `FramedRead` into a `BytesMut`, httparse into a 64-entry header array,
/// then an `http::Request` with a `HeaderMap` (allocations per header); checks Upgrade,
/// Connection, Sec-WebSocket-Version and the key's presence; SHA-1 from `sha1_smol`;
/// the response built in a `Vec` and written out.
pub(crate) fn tokio_websockets(request: &[u8], out: &mut Vec<u8>) -> usize {
    out.clear();
    let stream = SliceStream { input: request, output: Some(&mut *out) };
    let accepted = block_on(tokio_websockets::ServerBuilder::new().accept(stream));
    if let Err(e) = accepted {
        panic!("websocketz: {e:?}");
    }
    out.len()
}

/// websocketz: `WebSocket::accept::<16>` over an in-memory `embedded_io_async` stream that
/// holds the request and collects the response, polled with a no-op waker. httparse
/// (through `framez`) into the lent read buffer; checks the method, the version,
/// Sec-WebSocket-Version and the key's presence (not Upgrade, Connection or Host); SHA-1
/// from RustCrypto `sha1`; the response encoded into the lent write buffer. No allocation.
pub(crate) fn websocketz(request: &[u8], out: &mut Vec<u8>, bufs: &mut WebsocketzBuffers) -> usize {
    out.clear();
    let stream = SliceStream { input: request, output: Some(&mut *out) };
    let accepted = block_on(websocketz::WebSocket::accept::<16>(
        websocketz::options::AcceptOptions::default(),
        stream,
        FixedKey,
        &mut bufs.read,
        &mut bufs.write,
        &mut bufs.fragments,
    ));
    if let Err(e) = accepted {
        panic!("websocketz: {e:?}");
    }
    out.len()
}
