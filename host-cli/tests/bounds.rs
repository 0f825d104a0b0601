//! What one hostile or idle client can cost `wsc serve`, in memory and in time: idle
//! connections whatever `--max-message` says, a ping flood from a client that never
//! reads, TLS bytes trickled during and after the handshake, and silent TLS clients over
//! capacity. Every bound is measured against the real binary over loopback.

#[path = "support/raw.rs"]
mod raw;
mod support;
#[path = "support/tls.rs"]
mod tls_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use raw::{frame, message, raw_ws, read_head, rss_kib, PeakRss, Rng};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use support::{tcp, ws, Server, TIMEOUT};
use tls_support::{self_signed, Cert};
use wscodec::handshake::client::ClientRequest;
use wscodec::{CloseCode, Event, Message};

/// Raises this process's open-file limit (the server inherits it) to hold `n` sockets.
fn allow_sockets(n: u64) {
    let (soft, hard) = rlimit::Resource::NOFILE.get().expect("read RLIMIT_NOFILE");
    let want = (n + 256).min(hard);
    if soft < want {
        rlimit::Resource::NOFILE.set(want, hard).expect("raise RLIMIT_NOFILE");
    }
    assert!(want >= n + 64, "the hard open-file limit {hard} is too low for {n} sockets");
}

/// Opens `n` more connections that finish the opening handshake and then say nothing.
fn open_idle(addr: SocketAddr, n: usize, into: &mut Vec<TcpStream>) {
    for _ in 0..n {
        into.push(raw_ws(addr));
    }
}

/// Waits until the server logged `count` lines starting with `prefix`.
fn wait_for_lines(server: &Server, prefix: &str, count: usize, within: Duration) {
    let start = Instant::now();
    loop {
        let seen = server.log().lines().filter(|l| l.starts_with(prefix)).count();
        if seen >= count {
            return;
        }
        assert!(start.elapsed() < within, "{seen} of {count} {prefix:?} lines logged");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Warms the server's allocator as a long-running server's is: connections with large
/// messages come and go, so that freed buffers are there to be handed out again.
fn warm_up(server: &Server) {
    for size in [4 << 20, 1 << 20, 70_000] {
        let (mut rx, mut tx) = (vec![0u8; 5 << 20], vec![0u8; 64 * 1024]);
        let mut client = ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
        let blob = vec![7u8; size];
        client.send(Message::Binary(&blob)).unwrap();
        assert!(matches!(client.read().unwrap(), Event::Binary(b) if b == &blob[..]));
        client.close(CloseCode::NORMAL, "").unwrap();
        assert!(matches!(client.read(), Ok(Event::Close { .. })));
    }
    wait_for_lines(server, "close", 3, TIMEOUT);
    // Their threads linger up to a second after the close, holding their slots.
    thread::sleep(Duration::from_millis(1500));
}

#[test]
fn idle_connections_cost_little_whatever_max_message_allows() {
    allow_sockets(1100);
    // The default --max-message (16 MiB) and --max-connections (1024).
    let server = Server::start(&[]);
    warm_up(&server);
    let base = rss_kib(server.pid());
    let mut idle = Vec::new();
    let mut report = Vec::new();
    for total in [64, 256, 1024] {
        open_idle(server.addr, total - idle.len(), &mut idle);
        wait_for_lines(&server, "open", 3 + total, Duration::from_secs(30));
        thread::sleep(Duration::from_millis(300));
        let rss = rss_kib(server.pid());
        let each = rss.saturating_sub(base) / total as u64;
        report.push(format!("{total} idle: {rss} KiB ({each} KiB each over {base} KiB)"));
        if total == 64 {
            assert!(each <= 128, "an idle connection costs {each} KiB: {report:?}");
        }
        if total == 1024 {
            assert!(rss < 256 * 1024, "1024 idle connections take {rss} KiB: {report:?}");
        }
    }
    eprintln!("server RSS with idle connections: {}", report.join("; "));
    // They are still served.
    idle[0].write_all(&frame(0x81, b"awake")).unwrap();
    let mut echo = [0u8; 7];
    idle[0].read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"\x81\x05awake");
}

#[test]
fn a_hundred_clients_echoing_up_to_70_kb_cost_at_most_64_mib() {
    const CLIENTS: u32 = 100;
    const MESSAGES: u32 = 60;
    allow_sockets(u64::from(CLIENTS) * 2);
    let server = Server::start(&[]);
    let addr = server.addr;
    warm_up(&server);
    let base = rss_kib(server.pid());
    let peak = PeakRss::start(server.pid());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            thread::spawn(move || -> Result<(), String> {
                let (mut rx, mut tx) = (vec![0u8; 80 * 1024], vec![0u8; 16 * 1024]);
                let mut client = ws(addr, "/", None, &mut rx, &mut tx)
                    .map_err(|e| format!("{id}: connect: {e:?}"))?;
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ u64::from(id + 1));
                for seq in 0..MESSAGES {
                    // Any size up to 70 KB, uniformly.
                    let mut m = message(id, seq, &mut rng);
                    m.resize(8 + (rng.next() % 70_000) as usize, (seq as u8) ^ 0x5a);
                    client.send(Message::Binary(&m)).map_err(|e| format!("{id}: {e:?}"))?;
                    match client.read() {
                        Ok(Event::Binary(got)) if got == &m[..] => {}
                        other => return Err(format!("{id}/{seq}: {other:?}")),
                    }
                }
                client.close(CloseCode::NORMAL, "").map_err(|e| format!("{id}: {e:?}"))?;
                match client.read() {
                    Ok(Event::Close { .. }) => Ok(()),
                    other => Err(format!("{id}: close: {other:?}")),
                }
            })
        })
        .collect();
    let errors: Vec<String> =
        clients.into_iter().filter_map(|c| c.join().expect("client panicked").err()).collect();
    let peak = peak.stop();
    assert!(errors.is_empty(), "{} clients failed:\n{}", errors.len(), errors.join("\n"));
    let grew = peak.saturating_sub(base);
    eprintln!("load: {CLIENTS} clients x {MESSAGES} messages up to 70 KB: RSS {base} KiB, peak {peak} KiB (+{grew} KiB)");
    assert!(grew < 64 * 1024, "the load run grew RSS by {grew} KiB");
}

#[test]
fn a_ping_flood_from_a_client_that_never_reads_is_dropped() {
    let server = Server::start(&["--idle-timeout", "2", "--write-timeout", "2"]);
    let s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    let mut writer = s.try_clone().unwrap();
    writer.set_write_timeout(None).unwrap();
    let start = Instant::now();
    // Pings as fast as the server takes them; the pongs are never read, so the server's
    // writes stall once the socket buffers between the two are full.
    let flood = thread::spawn(move || {
        let ping = frame(0x89, &[b'p'; 125]);
        let burst: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 256).collect();
        while writer.write_all(&burst).is_ok() {}
        start.elapsed()
    });
    let log = server.wait_for_log_within(&format!("close {local}"), Duration::from_secs(30));
    let dropped = start.elapsed();
    assert!(log.contains("stopped reading"), "{log}");
    // The fill takes a moment; then a pong write stalls for the write timeout (2 s).
    assert!(dropped < Duration::from_secs(2 + 2 + 6), "dropped after {dropped:?}");
    let writer_saw = flood.join().unwrap();
    assert!(writer_saw < dropped + Duration::from_secs(5), "the socket stayed open {writer_saw:?}");
    eprintln!("ping flood without reading: dropped after {dropped:?}");
    drop(s);
    // Others are still served.
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let mut client = ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
    client.send(Message::Text("still here")).unwrap();
    assert_eq!(client.read().unwrap(), Event::Text("still here"));
}

/// A TLS client configuration that trusts `cert`.
fn trusting(cert: &Cert) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// The bytes a TLS client sends first (its ClientHello).
fn client_hello(config: &Arc<ClientConfig>) -> Vec<u8> {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = ClientConnection::new(Arc::clone(config), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

/// Sends `bytes` one at a time, `every` apart, until done or the peer is gone. Returns
/// how many were sent.
fn trickle(stream: &mut TcpStream, bytes: &[u8], every: Duration) -> usize {
    for (i, b) in bytes.iter().enumerate() {
        if stream.write_all(&[*b]).is_err() {
            return i;
        }
        thread::sleep(every);
    }
    bytes.len()
}

/// Waits (at most `within`) for the server to end the connection; returns when it did.
fn wait_for_eof(stream: &mut TcpStream, within: Duration) -> Instant {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return Instant::now(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Instant::now(),
            Err(e) => panic!("the server did not end the connection within {within:?}: {e}"),
        }
    }
}

#[test]
fn a_tls_handshake_trickled_byte_by_byte_ends_at_the_handshake_deadline() {
    let cert = self_signed(&["127.0.0.1"], false);
    let server = Server::start(&[&cert.serve_args()[..], &["--handshake-timeout", "2"]].concat());
    let hello = client_hello(&trusting(&cert));
    let mut stream = tcp(server.addr);
    let local = stream.local_addr().unwrap();
    let start = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    // A byte every 150 ms: each read is quick, the whole hello would take a minute.
    let trickler = thread::spawn(move || trickle(&mut writer, &hello, Duration::from_millis(150)));
    let ended = wait_for_eof(&mut stream, Duration::from_secs(20)) - start;
    let sent = trickler.join().unwrap();
    assert!(ended < Duration::from_millis(3000), "dropped after {ended:?}");
    let log = server.wait_for_log(&format!("drop  {local}"));
    assert!(log.contains("handshake timeout"), "{log}");
    eprintln!("TLS hello trickled: dropped after {ended:?} ({sent} bytes sent)");
}

#[test]
fn a_tls_hello_then_silence_ends_at_the_handshake_deadline() {
    let cert = self_signed(&["127.0.0.1"], false);
    let server = Server::start(&[&cert.serve_args()[..], &["--handshake-timeout", "2"]].concat());
    let mut stream = tcp(server.addr);
    let start = Instant::now();
    stream.write_all(&client_hello(&trusting(&cert))).unwrap();
    let ended = wait_for_eof(&mut stream, Duration::from_secs(20)) - start;
    assert!(ended < Duration::from_millis(3000), "dropped after {ended:?}");
    assert!(ended >= Duration::from_millis(1900), "dropped early, after {ended:?}");
    eprintln!("TLS hello then silence: dropped after {ended:?}");
}

#[test]
fn a_tls_record_trickled_after_the_upgrade_is_closed_with_1008() {
    let cert = self_signed(&["127.0.0.1"], false);
    let server = Server::start(&[&cert.serve_args()[..], &["--idle-timeout", "2"]].concat());
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(trusting(&cert), name).unwrap();
    let mut tls = StreamOwned::new(conn, tcp(server.addr));
    let host = server.addr.to_string();
    let mut head = [0u8; 512];
    let n = ClientRequest::new(&host, "/", *b"the sample nonce").encode(&mut head).unwrap();
    tls.write_all(&head[..n]).unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).unwrap();
        response.push(byte[0]);
    }
    assert!(response.starts_with(b"HTTP/1.1 101 "), "{}", String::from_utf8_lossy(&response));
    let local = tls.sock.local_addr().unwrap();
    // One WebSocket frame in one TLS record, sent a byte every 100 ms (about 15 s).
    tls.conn.writer().write_all(&frame(0x81, &[b'x'; 100])).unwrap();
    let mut record = Vec::new();
    tls.conn.write_tls(&mut record).unwrap();
    let start = Instant::now();
    let mut writer = tls.sock.try_clone().unwrap();
    let trickler = thread::spawn(move || trickle(&mut writer, &record, Duration::from_millis(100)));
    let log = server.wait_for_log_within(&format!("close {local}"), Duration::from_secs(20));
    let closed = start.elapsed();
    let sent = trickler.join().unwrap();
    assert!(
        log.contains(&format!(
            "close {local} code=1008 (policy violation) reason=\"message too slow\""
        )),
        "{log}"
    );
    assert!(closed < Duration::from_millis(3500), "closed after {closed:?} ({sent} bytes sent)");
    // The close frame itself arrived, inside TLS.
    tls.sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut plain = Vec::new();
    let _ = tls.read_to_end(&mut plain);
    assert_eq!(plain.get(..4), Some(&[0x88, 0x12, 0x03, 0xf0][..]), "{plain:x?}");
    eprintln!("TLS record trickled after the upgrade: 1008 after {closed:?}");
}

#[test]
fn silent_tls_clients_over_capacity_are_dropped_at_the_handshake_deadline() {
    let cert = self_signed(&["127.0.0.1"], false);
    let config = trusting(&cert);
    let args = [&cert.serve_args()[..], &["--max-connections", "1", "--handshake-timeout", "2"]];
    let server = Server::start(&args.concat());
    // The one slot is taken by a wss:// client that stays.
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(Arc::clone(&config), name).unwrap();
    let mut holder = StreamOwned::new(conn, tcp(server.addr));
    let host = server.addr.to_string();
    let mut head = [0u8; 512];
    let n = ClientRequest::new(&host, "/", *b"the sample nonce").encode(&mut head).unwrap();
    holder.write_all(&head[..n]).unwrap();
    let mut byte = [0u8; 1];
    holder.read_exact(&mut byte).unwrap();
    server.wait_for_log("open ");
    // More silent clients than there are refusal threads (64): they send nothing, not
    // even a TLS hello.
    let start = Instant::now();
    let mut silent: Vec<TcpStream> = (0..80).map(|_| tcp(server.addr)).collect();
    for s in &mut silent {
        wait_for_eof(s, Duration::from_secs(20));
    }
    let all_dropped = start.elapsed();
    assert!(all_dropped < Duration::from_millis(3500), "the last one went after {all_dropped:?}");
    // 64 refusal threads waited for a TLS hello until the deadline; the rest found them
    // all busy and were dropped at once.
    let silent = |log: &str| log.lines().filter(|l| l.contains("over capacity and silent")).count();
    let start_count = Instant::now();
    while silent(&server.log()) < 64 && start_count.elapsed() < TIMEOUT {
        thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    let timed_out = count("over capacity and silent for 2 s (handshake timeout)");
    assert_eq!(timed_out, 64, "{log}");
    assert_eq!(count("at capacity and 64 refusals already in progress"), 16, "{log}");
    // The refusal threads are free again: a real client over capacity gets its 503.
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(config, name).unwrap();
    let mut late = StreamOwned::new(conn, tcp(server.addr));
    late.write_all(&head[..n]).unwrap();
    let response = read_tls_head(&mut late);
    assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
    eprintln!(
        "80 silent TLS clients over capacity: all dropped after {all_dropped:?} \
         ({timed_out} waited for the handshake deadline)"
    );
}

/// Reads an HTTP head from a TLS stream.
fn read_tls_head(stream: &mut StreamOwned<ClientConnection, TcpStream>) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => {
                panic!("reading the head: {other:?} after {:?}", String::from_utf8_lossy(&head))
            }
        }
    }
    String::from_utf8(head).unwrap()
}

#[test]
fn a_silent_plain_client_over_capacity_gets_its_503_at_once() {
    let server = Server::start(&["--max-connections", "1", "--handshake-timeout", "2"]);
    let _holder = raw_ws(server.addr);
    let mut silent = tcp(server.addr);
    let start = Instant::now();
    let head = read_head(&mut silent);
    assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
    wait_for_eof(&mut silent, Duration::from_secs(10));
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
}
