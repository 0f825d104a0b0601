use std::net::TcpListener;

use super::*;

fn pair() -> (TimedTcp, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (TimedTcp::new(server).unwrap(), client)
}

#[test]
fn a_trickle_does_not_outlive_the_read_deadline() {
    let (mut timed, mut client) = pair();
    timed.set_budget(Budget {
        wait: Some(Duration::from_secs(5)),
        read: Some(Duration::from_millis(300)),
        write: None,
    });
    let trickle = std::thread::spawn(move || {
        // One byte every 100 ms: each read finishes well inside any per-read timeout.
        for _ in 0..30 {
            if client.write_all(b"x").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let mut got = 0;
    let error = loop {
        match timed.read(&mut [0u8; 16]) {
            Ok(n) => got += n,
            Err(e) => break e,
        }
    };
    let took = start.elapsed();
    assert_eq!(expired(&error), Some(Expired::Read), "{error}");
    assert!((1..=5).contains(&got), "{got} bytes before the deadline");
    assert!(took < Duration::from_millis(900), "the deadline held: {took:?}");
    drop(timed);
    trickle.join().unwrap();
}

#[test]
fn without_a_deadline_a_read_waits_at_most_the_budget() {
    let (mut timed, _client) = pair();
    timed.set_budget(Budget {
        wait: Some(Duration::from_millis(100)),
        read: Some(Duration::from_secs(5)),
        write: None,
    });
    let error = timed.read(&mut [0u8; 16]).unwrap_err();
    assert!(is_timeout(&error) && expired(&error).is_none(), "{error}");
}

#[test]
fn a_peer_that_never_reads_meets_the_write_deadline() {
    let (mut timed, _client) = pair();
    timed.set_budget(Budget { wait: None, read: None, write: Some(Duration::from_millis(300)) });
    let start = Instant::now();
    let chunk = vec![0u8; 64 * 1024];
    let error = loop {
        if let Err(e) = timed.write_all(&chunk) {
            break e;
        }
    };
    assert_eq!(expired(&error), Some(Expired::Write), "{error}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
}

#[test]
fn each_write_after_a_read_has_its_own_deadline() {
    // A write, a read that waits longer than the write budget, another write: the
    // second must not inherit the first's deadline (an idle ping, then the idle close).
    let (mut timed, _client) = pair();
    timed.set_budget(Budget {
        wait: Some(Duration::from_millis(400)),
        read: None,
        write: Some(Duration::from_millis(300)),
    });
    timed.write_all(b"ping").unwrap();
    let error = timed.read(&mut [0u8; 16]).unwrap_err();
    assert!(is_timeout(&error) && expired(&error).is_none(), "{error}");
    timed.write_all(b"close").unwrap();
    assert_eq!(timed.write_failure(), None);
}

#[test]
fn a_failed_write_is_kept_with_its_reason() {
    let (mut timed, _client) = pair();
    timed.set_budget(Budget { wait: None, read: None, write: Some(Duration::from_millis(200)) });
    let chunk = vec![0u8; 64 * 1024];
    while timed.write_all(&chunk).is_ok() {}
    let failure = timed.write_failure().unwrap();
    assert_eq!(failure, &WriteFailure::NotTaken { budget: Some(Duration::from_millis(200)) });
    assert_eq!(
        failure.to_string(),
        "the client did not take it within 0.2 s (write timeout): it stopped reading"
    );
}

#[test]
fn a_passed_deadline_fails_at_once_and_done_lifts_it() {
    let (mut timed, mut client) = pair();
    timed.set_deadline(Instant::now());
    let error = timed.read(&mut [0u8; 1]).unwrap_err();
    assert_eq!(expired(&error), Some(Expired::Read));
    let error = timed.write(b"x").unwrap_err();
    assert_eq!(expired(&error), Some(Expired::Write));
    timed.done(Next::Waiting);
    client.write_all(b"y").unwrap();
    assert_eq!(timed.read(&mut [0u8; 1]).unwrap(), 1);
    timed.write_all(b"z").unwrap();
}

#[test]
fn a_short_write_goes_out_with_the_next_write_or_the_flush() {
    let (mut timed, mut client) = pair();
    let payload: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
    // A frame header, then its payload: one vectored write.
    timed.write_all(&[0x82, 126, 0x9c, 0x40]).unwrap();
    timed.write_all(&payload).unwrap();
    timed.flush().unwrap();
    let mut got = vec![0u8; 4 + payload.len()];
    client.read_exact(&mut got).unwrap();
    assert_eq!(got[..4], [0x82, 126, 0x9c, 0x40]);
    assert_eq!(got[4..], payload[..]);
    // A short write alone goes out with the flush, another with the shutdown.
    timed.write_all(b"ping").unwrap();
    timed.flush().unwrap();
    let mut got = [0u8; 4];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    timed.write_all(b"bye").unwrap();
    timed.shutdown_write().unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"bye");
    assert_eq!(timed.traffic().1, 4 + payload.len() as u64 + 4 + 3);
}

#[test]
fn the_socket_timeout_is_reset_only_when_it_could_overrun_or_is_far_short() {
    let (ms, none) = (Duration::from_millis, None);
    // Under a deadline: up to a millisecond longer, or down to half, will do.
    assert!(!stale(Some(ms(30_000)), Some(ms(29_999)), true, true));
    assert!(!stale(Some(ms(20_000)), Some(ms(30_000)), true, true));
    assert!(stale(Some(ms(30_000)), Some(ms(29_998)), true, true));
    assert!(stale(Some(ms(14_000)), Some(ms(30_000)), true, true));
    assert!(stale(none, Some(ms(30_000)), true, true));
    // Without one, only the exact wait.
    assert!(stale(Some(ms(59_999)), Some(ms(60_000)), false, true));
    assert!(!stale(Some(ms(60_000)), Some(ms(60_000)), false, true));
    assert!(stale(Some(ms(60_000)), none, false, true));
    // A read's first try keeps a shorter timeout under a deadline or a settle wait.
    assert!(!stale(Some(ms(2)), Some(ms(30_000)), true, false));
    assert!(stale(Some(ms(2)), Some(ms(30_000)), true, true));
    assert!(stale(Some(ms(60_000)), Some(ms(2)), true, false));
    assert!(stale(Some(ms(2)), Some(ms(60_000)), false, false), "no deadline: exact");
    assert!(!stale(none, none, false, true));
}
