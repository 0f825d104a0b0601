extern crate std;
use std::string::ToString as _;

use super::*;

fn server(lines: &[&str], setup: Setup) -> Result<Option<std::string::String>, ExtensionError> {
    let agreed = accept_offers(lines.iter().map(|l| l.as_bytes()), &setup)?;
    Ok(agreed.map(|a| std::string::ToString::to_string(a.header_value().as_str())))
}

const CHROME: &str = "permessage-deflate; client_max_window_bits";
const FIREFOX: &str = "permessage-deflate";
const PYTHON: &str = "permessage-deflate; client_max_window_bits";

fn reassembly(window: usize) -> Setup {
    Setup::new(window)
}

fn streaming(window: usize) -> Setup {
    Setup { streaming: true, ..Setup::new(window) }
}

#[test]
fn the_window_lent_decides_the_answer() {
    let s = |offer: &str, setup| server(&[offer], setup).unwrap();
    // A full window keeps the client's context at its full size.
    assert_eq!(s(CHROME, reassembly(32768)).as_deref(), Some("permessage-deflate"));
    assert_eq!(s(FIREFOX, streaming(1 << 16)).as_deref(), Some("permessage-deflate"));
    // A smaller one asks for a smaller client window when the client accepts one...
    assert_eq!(
        s(CHROME, streaming(4096)).as_deref(),
        Some("permessage-deflate; client_max_window_bits=12")
    );
    assert_eq!(
        s(PYTHON, reassembly(5000)).as_deref(),
        Some("permessage-deflate; client_max_window_bits=12")
    );
    // ...and otherwise, in reassembly mode, has each message inflate on its own.
    assert_eq!(
        s(FIREFOX, reassembly(4096)).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    assert_eq!(
        s(CHROME, reassembly(0)).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    // Streaming mode needs the client's window: without a limit it declines.
    assert_eq!(s(FIREFOX, streaming(4096)), None);
    assert_eq!(s(CHROME, streaming(255)), None);
    // A client that resets anyway is told to (binding), whatever the window.
    assert_eq!(
        s("permessage-deflate; client_no_context_takeover", reassembly(32768)).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    // A client's own smaller window is enough.
    assert_eq!(
        s("permessage-deflate; client_max_window_bits=10", streaming(4096)).as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
}

#[test]
fn the_clients_requests_about_the_server_are_granted() {
    let s = |offer: &str, setup| server(&[offer], setup).unwrap().unwrap();
    assert_eq!(
        s(
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
            reassembly(32768)
        ),
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"
    );
    // A server without a compressor says it keeps no context.
    let mut setup = reassembly(32768);
    setup.send_no_context_takeover = true;
    assert_eq!(s(CHROME, setup), "permessage-deflate; server_no_context_takeover");
}

#[test]
fn autobahn_offers_are_all_accepted() {
    // The client offers of Autobahn's cases 12 and 13.
    for offer in [
        "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=9",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=15",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9",
    ] {
        for setup in [reassembly(0), reassembly(32768), streaming(4096)] {
            assert!(server(&[offer], setup).unwrap().is_some(), "{offer} {setup:?}");
        }
    }
}

#[test]
fn invalid_offers_are_declined_and_the_next_one_taken() {
    for bad in [
        "permessage-deflate; x=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=1a",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits=\"\"",
    ] {
        assert_eq!(server(&[bad], reassembly(32768)), Ok(None), "{bad}");
        let next = std::format!("{bad}, permessage-deflate; server_no_context_takeover");
        assert_eq!(
            server(&[&next], reassembly(32768)).unwrap().as_deref(),
            Some("permessage-deflate; server_no_context_takeover"),
            "{next}"
        );
    }
    // Quoted values and any case are fine.
    assert_eq!(
        server(&["Permessage-Deflate; Client_Max_Window_Bits=\"9\""], streaming(512))
            .unwrap()
            .as_deref(),
        Some("permessage-deflate; client_max_window_bits=9")
    );
    // Other extensions are skipped; several header lines are one list.
    assert_eq!(
        server(
            &["x-webkit-deflate-frame", "foo; bar=\"a,b\", permessage-deflate"],
            reassembly(32768)
        )
        .unwrap()
        .as_deref(),
        Some("permessage-deflate")
    );
}

#[test]
fn a_malformed_header_is_a_400() {
    for bad in ["permessage-deflate;", "permessage-deflate; a=\"", ";", "permessage-deflate; =9"] {
        let e = server(&[bad], reassembly(32768)).unwrap_err();
        assert_eq!(e, ExtensionError::Syntax, "{bad}");
        assert_eq!(HandshakeError::from(e).status(), 400);
    }
    // Even when a valid offer comes first: nothing is decided on a malformed header.
    assert_eq!(
        server(&["permessage-deflate", "x;"], reassembly(32768)),
        Err(ExtensionError::Syntax)
    );
}

#[test]
fn client_offers_follow_the_window() {
    let offer = |setup: Setup| Offer::for_setup(&setup).map(|o| o.header_value());
    let text = |setup| offer(setup).map(|v| std::string::ToString::to_string(v.as_str()));
    assert_eq!(
        text(reassembly(32768)).as_deref(),
        Some("permessage-deflate; client_max_window_bits")
    );
    assert_eq!(
        text(streaming(4096)).as_deref(),
        Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits")
    );
    assert_eq!(
        text(reassembly(0)).as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_max_window_bits")
    );
    assert_eq!(text(streaming(100)), None);
    let mut setup = reassembly(1 << 15);
    setup.send_no_context_takeover = true;
    assert_eq!(
        text(setup).as_deref(),
        Some("permessage-deflate; client_no_context_takeover; client_max_window_bits")
    );
}

fn client(response: &[&str], setup: Setup) -> Result<Option<PerMessageDeflate>, HandshakeError> {
    let offer = Offer::for_setup(&setup).unwrap();
    check_response(response.iter().map(|l| l.as_bytes()), &offer, &setup)
}

#[test]
fn client_accepts_valid_answers() {
    assert_eq!(client(&[], reassembly(32768)), Ok(None));
    let agreed = client(&["permessage-deflate"], reassembly(32768)).unwrap().unwrap();
    assert_eq!(agreed, PerMessageDeflate::default());
    let agreed = client(
        &["permessage-deflate; server_max_window_bits=10; client_max_window_bits=9; client_no_context_takeover"],
        streaming(4096),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        agreed.receive(Role::Client),
        Direction { max_window_bits: 10, no_context_takeover: false }
    );
    assert_eq!(
        agreed.send(Role::Client),
        Direction { max_window_bits: 9, no_context_takeover: true }
    );
    // Without a window, a server that resets its context is fine in reassembly mode.
    let agreed = client(&["permessage-deflate; server_no_context_takeover"], reassembly(0))
        .unwrap()
        .unwrap();
    assert!(agreed.receive(Role::Client).no_context_takeover);
    assert_eq!(agreed.to_string(), "permessage-deflate; server_no_context_takeover");
}

#[test]
fn client_fails_bad_answers() {
    let e = |response: &str, setup| client(&[response], setup).unwrap_err();
    let x = HandshakeError::Extension;
    assert_eq!(e("x-other", reassembly(32768)), HandshakeError::UnofferedExtension);
    assert_eq!(
        e("permessage-deflate, permessage-deflate", reassembly(32768)),
        x(ExtensionError::Repeated)
    );
    assert_eq!(
        e("permessage-deflate; foo", reassembly(32768)),
        x(ExtensionError::UnknownParameter)
    );
    assert_eq!(
        e(
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            reassembly(32768)
        ),
        x(ExtensionError::DuplicateParameter)
    );
    assert_eq!(
        e("permessage-deflate; client_max_window_bits", reassembly(32768)),
        x(ExtensionError::InvalidValue)
    );
    assert_eq!(
        e("permessage-deflate; server_max_window_bits=16", reassembly(32768)),
        x(ExtensionError::InvalidValue)
    );
    assert_eq!(
        e("permessage-deflate; server_max_window_bits=13", streaming(4096)),
        x(ExtensionError::WindowTooLarge)
    );
    assert_eq!(
        e("permessage-deflate", streaming(4096)),
        x(ExtensionError::WindowUnsupported { bits: 15 })
    );
    assert_eq!(
        e("permessage-deflate", reassembly(0)),
        x(ExtensionError::WindowUnsupported { bits: 15 })
    );
    assert_eq!(e("permessage-deflate;", reassembly(32768)), x(ExtensionError::Syntax));
    // client_max_window_bits only answers an offer that had it.
    let offer = Offer::default();
    let setup = reassembly(32768);
    assert_eq!(
        check_response([&b"permessage-deflate; client_max_window_bits=10"[..]], &offer, &setup),
        Err(x(ExtensionError::UnofferedParameter))
    );
    for error in [ExtensionError::Repeated, ExtensionError::WindowUnsupported { bits: 15 }] {
        assert_eq!(x(error).status(), 502);
    }
}

#[test]
fn header_values_fit_and_round_trip() {
    let all = PerMessageDeflate {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(15),
        client_max_window_bits: Some(8),
    };
    let value = all.header_value();
    assert_eq!(
        value.as_str(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=15; client_max_window_bits=8"
    );
    let offer = Offer {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(15),
    };
    let setup = reassembly(32768);
    let back = check_response([value.as_str().as_bytes()], &offer, &setup);
    assert_eq!(back, Err(HandshakeError::Extension(ExtensionError::WindowTooLarge)));
    let agreed =
        accept_offers([offer.header_value().as_str().as_bytes()], &setup).unwrap().unwrap();
    assert_eq!(agreed.server_max_window_bits, Some(10));
    assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
}
