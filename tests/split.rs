//! A connection split into a reader half and a writer half (`WebSocket::split`), in both
//! twins: the reader answers every ping through the shared writing side between the
//! writer's frames, whole; a close begun by either half ends the connection for both; a
//! failed write ends both. The same scenario run through the blocking and the async twin
//! writes the same bytes.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::Poll;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use wscodec::io::{asynch, blocking, Error, Options, Unmasked};
use wscodec::{CloseCode, Connection, Event, Message, Role, SendError, Status};
use wscodec_test_frames::masked;
use wscodec_tests::block_on;

const KEY: [u8; 4] = [9, 8, 7, 6];

/// The reading part of a split stream: the peer's bytes, `chunk` at a time. With a gate,
/// the bytes from `gate.0` on come only once `gate.1` is set (the peer waits for
/// something); an async read that must wait yields.
struct Input {
    bytes: VecDeque<u8>,
    chunk: usize,
    handed: usize,
    gate: Option<(usize, Rc<Cell<bool>>)>,
}

/// The writing part: everything written is kept in `out`, at most `chunk` bytes per
/// write; writes fail once `fails_after` bytes were taken. An async write yields first.
struct Output {
    out: Rc<RefCell<Vec<u8>>>,
    chunk: usize,
    fails_after: usize,
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")
}

impl Input {
    fn new(bytes: &[u8], chunk: usize) -> Self {
        Self { bytes: bytes.iter().copied().collect(), chunk, handed: 0, gate: None }
    }

    /// `None`: the gate is closed and nothing is left before it.
    fn take(&mut self, buf: &mut [u8]) -> Option<usize> {
        let mut n = buf.len().min(self.chunk).min(self.bytes.len());
        if let Some((at, open)) = &self.gate {
            if !open.get() {
                n = n.min(at - self.handed);
                if n == 0 {
                    return None;
                }
            }
        }
        for (dst, src) in buf.iter_mut().zip(self.bytes.drain(..n)) {
            *dst = src;
        }
        self.handed += n;
        Some(n)
    }
}

impl Output {
    /// Writes of at most `chunk` bytes that fail after `fails_after` bytes, and where
    /// they go.
    fn new(chunk: usize, fails_after: usize) -> (Self, Rc<RefCell<Vec<u8>>>) {
        let out = Rc::new(RefCell::new(Vec::new()));
        (Self { out: Rc::clone(&out), chunk, fails_after }, out)
    }

    fn take(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        let mut out = self.out.borrow_mut();
        let n = buf.len().min(self.chunk).min(self.fails_after.saturating_sub(out.len()));
        if n == 0 && !buf.is_empty() {
            return Err(timed_out());
        }
        out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl embedded_io::ErrorType for Input {
    type Error = std::io::Error;
}
impl embedded_io::ErrorType for Output {
    type Error = std::io::Error;
}

impl embedded_io::Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        self.take(buf).ok_or_else(|| std::io::Error::other("blocking read behind a closed gate"))
    }
}

impl embedded_io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        self.take(buf)
    }
    fn flush(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// The whole stream, before the split: both parts.
struct Both(Input, Output);

impl embedded_io::ErrorType for Both {
    type Error = std::io::Error;
}

impl embedded_io::Read for Both {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        embedded_io::Read::read(&mut self.0, buf)
    }
}

impl embedded_io::Write for Both {
    fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        embedded_io::Write::write(&mut self.1, buf)
    }
    fn flush(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

impl embedded_io_async::Read for Both {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        embedded_io_async::Read::read(&mut self.0, buf).await
    }
}

impl embedded_io_async::Write for Both {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        embedded_io_async::Write::write(&mut self.1, buf).await
    }
    async fn flush(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// A blocking server's split halves over [`Input`] and [`Output`].
type Lock<'b> = Mutex<Option<blocking::Shared<'b, Output, Unmasked>>>;
type Halves<'s, 'b> = (
    blocking::Reader<'s, 'b, Input, Output, Unmasked, &'b mut [u8], Lock<'b>>,
    blocking::Writer<'s, 'b, Output, Unmasked, Lock<'b>>,
);

/// A blocking server that reads `input` `chunk` bytes at a time and writes through
/// `writing`, split into halves that `run` drives. Returns what `run` returned, and the
/// bytes the server wrote.
fn blocking_halves<T>(
    input: Input,
    (writing, wire): (Output, Rc<RefCell<Vec<u8>>>),
    run: impl FnOnce(Halves<'_, '_>) -> T,
) -> (T, Vec<u8>) {
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let ws = blocking::WebSocket::server(Both(input, writing), Options::new(&mut rx[..], &mut tx));
    let shared = Mutex::new(None);
    let result = run(ws.split(&shared, |Both(r, w)| (r, w)));
    (result, wire.take())
}

/// Returns `Pending` once, so that the other future of the executor runs.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

impl embedded_io_async::Read for Input {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        loop {
            yield_now().await;
            if let Some(n) = self.take(buf) {
                return Ok(n);
            }
        }
    }
}

impl embedded_io_async::Write for Output {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        yield_now().await;
        self.take(buf)
    }
    async fn flush(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// Two futures on one executor, polled in turn until both are done.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// What a client made of the server's bytes: every frame must parse (a torn frame would
/// not), as events in order.
#[derive(Debug, Default, PartialEq)]
struct Heard {
    texts: Vec<String>,
    pongs: Vec<Vec<u8>>,
    close: Option<Option<u16>>,
    /// The frames in order: `m` a numbered message, `e` an echo, `p` a pong.
    order: String,
}

fn hear(mut wire: Vec<u8>) -> Heard {
    let mut client = Connection::new(Role::Client);
    let mut heard = Heard::default();
    loop {
        match client.handle_input(&mut wire).expect("the server's bytes parse") {
            Status::Complete { value, consumed } => {
                match value {
                    Some(Event::Text(t)) => {
                        heard.order.push(if t.starts_with("message") { 'm' } else { 'e' });
                        heard.texts.push(t.to_owned());
                    }
                    Some(Event::Pong(p)) => {
                        heard.order.push('p');
                        heard.pongs.push(p.to_vec());
                    }
                    Some(Event::Close { code, .. }) => {
                        heard.close = Some(code.map(|c| c.as_u16()));
                        assert_eq!(consumed, wire.len(), "nothing after the close frame");
                        return heard;
                    }
                    Some(other) => panic!("unexpected {other:?}"),
                    None => {}
                }
                wire.drain(..consumed);
            }
            Status::Partial { .. } => {
                assert!(wire.is_empty(), "{} bytes of a frame cut short", wire.len());
                return heard;
            }
        }
    }
}

/// The peer's side: pings interleaved with messages to echo, then (behind the gate) its
/// close.
fn peer_input(pings: u32) -> (Vec<u8>, usize) {
    let mut input = Vec::new();
    for i in 0..pings {
        input.extend(masked(0x89, &i.to_be_bytes(), KEY));
        if i % 4 == 0 {
            input.extend(masked(0x81, format!("echo {i}").as_bytes(), KEY));
        }
    }
    let gate = input.len();
    input.extend(masked(0x88, &[0x03, 0xe8], KEY));
    (input, gate)
}

fn expected(pings: u32, messages: u32) -> (Vec<String>, Vec<Vec<u8>>) {
    let echoes = (0..pings).filter(|i| i % 4 == 0).map(|i| format!("echo {i}"));
    let numbered = (0..messages).map(|n| format!("message {n}"));
    let pongs = (0..pings).map(|i| i.to_be_bytes().to_vec()).collect();
    (echoes.chain(numbered).collect(), pongs)
}

#[test]
fn async_halves_on_one_executor_answer_every_ping_between_the_writers_frames() {
    const PINGS: u32 = 40;
    const MESSAGES: u32 = 30;
    let (input, gate) = peer_input(PINGS);
    let open = Rc::new(Cell::new(false));
    let mut reading = Input::new(&input, 7);
    reading.gate = Some((gate, Rc::clone(&open)));
    // Writes of at most 3 bytes: a frame takes several, each a chance for the other
    // future to run.
    let (writing, out) = Output::new(3, usize::MAX);
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let shared = embassy_sync::mutex::Mutex::<NoopRawMutex, _>::new(None);
    let (echoes, numbered) = block_on(async {
        let ws =
            asynch::WebSocket::server(Both(reading, writing), Options::new(&mut rx[..], &mut tx));
        let (mut reader, writer) = ws.split(&shared, |Both(r, w)| (r, w)).await;
        let mut echo = writer.clone();
        let mut writer = writer;
        let reads = async {
            let mut echoes = 0;
            loop {
                match reader.read().await {
                    Ok(Event::Text(t)) => {
                        echo.send(Message::Text(t)).await.unwrap();
                        echoes += 1;
                    }
                    Ok(Event::Ping(_)) => {}
                    Ok(Event::Close { code, .. }) => {
                        assert_eq!(code, Some(CloseCode::NORMAL));
                        break;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            // The closing handshake is over for both halves.
            assert!(matches!(reader.read().await, Err(Error::Closed)));
            echoes
        };
        let writes = async {
            for n in 0..MESSAGES {
                writer.send(Message::Text(&format!("message {n}"))).await.unwrap();
            }
            // The peer closes once it has every message.
            open.set(true);
            let late = writer.send(Message::Text("late")).await;
            (MESSAGES, late)
        };
        let (echoes, (numbered, late)) = join(reads, writes).await;
        // The writer's last send raced the close: sent before it, or refused after.
        if let Err(e) = late {
            assert!(matches!(e, Error::Send(SendError::Closed) | Error::Closed), "{e:?}");
        }
        assert_eq!(writer.state().await, wscodec::State::Closed);
        (echoes, numbered)
    });
    let mut heard = hear(out.take());
    heard.texts.retain(|t| t != "late");
    let (mut texts, pongs) = expected(PINGS, MESSAGES);
    // Echoes and numbered messages interleave as the two futures ran; each in order.
    let mut got = heard.texts.clone();
    got.sort();
    texts.sort();
    assert_eq!(got, texts);
    let in_order = |prefix: &str| -> Vec<String> {
        heard.texts.iter().filter(|t| t.starts_with(prefix)).cloned().collect()
    };
    assert_eq!(in_order("message "), expected(0, MESSAGES).0);
    assert_eq!(in_order("echo ").len(), echoes);
    assert_eq!(heard.pongs, pongs, "every ping answered, in order");
    assert_eq!(heard.close, Some(Some(1000)), "the close reply comes last");
    // The two futures really ran at once: pongs went out between numbered messages.
    let between = heard.order.trim_matches(|c| c != 'm');
    assert!(between.contains('p') && between.contains('e'), "{}", heard.order);
    assert_eq!(numbered, MESSAGES);
}

#[test]
fn a_close_from_the_writer_completes_the_handshake_for_both_halves() {
    let mut input = masked(0x89, b"p", KEY);
    input.extend(masked(0x81, b"after our close", KEY));
    input.extend(masked(0x88, &[0x03, 0xe8], KEY));
    let ((), wire) = blocking_halves(
        Input::new(&input, 1),
        Output::new(usize::MAX, usize::MAX),
        |(mut reader, mut writer)| {
            writer.close(CloseCode::GOING_AWAY, "bye").unwrap();
            assert_eq!(writer.state(), wscodec::State::CloseSent);
            // Data still arrives until the peer's close; nothing more may be sent.
            let refused = writer.send(Message::Text("x"));
            assert!(matches!(refused, Err(Error::Send(SendError::Closed))));
            assert_eq!(reader.read().unwrap(), Event::Ping(b"p"));
            assert_eq!(reader.read().unwrap(), Event::Text("after our close"));
            let close = reader.read().unwrap();
            assert!(matches!(close, Event::Close { code: Some(CloseCode::NORMAL), .. }));
            assert_eq!(writer.state(), wscodec::State::Closed);
            assert!(matches!(reader.read(), Err(Error::Closed)));
        },
    );
    let heard = hear(wire);
    // Our close went out first; a ping that came after it is not answered.
    assert_eq!(heard.close, Some(Some(1001)));
    assert!(heard.pongs.is_empty() && heard.texts.is_empty());
}

#[test]
fn a_close_from_the_reader_ends_the_writer_too() {
    let input = masked(0x81, b"quit", KEY);
    let ((), wire) = blocking_halves(
        Input::new(&input, 64),
        Output::new(usize::MAX, usize::MAX),
        |(mut reader, mut writer)| {
            writer.send(Message::Text("before")).unwrap();
            assert_eq!(reader.read().unwrap(), Event::Text("quit"));
            reader.close(CloseCode::NORMAL, "asked to").unwrap();
            let refused = writer.send(Message::Text("x"));
            assert!(matches!(refused, Err(Error::Send(SendError::Closed))));
        },
    );
    let heard = hear(wire);
    assert_eq!((heard.texts, heard.close), (vec!["before".to_owned()], Some(Some(1000))));
}

#[test]
fn a_failed_write_ends_both_halves() {
    // The writer's frame fails part way: the reader finds the connection over.
    let input = masked(0x81, b"never read", KEY);
    blocking_halves(
        Input::new(&input, 64),
        Output::new(usize::MAX, 10),
        |(mut reader, mut writer)| {
            assert!(matches!(writer.send(Message::Binary(&[7; 100])), Err(Error::Write(_))));
            assert!(matches!(reader.read(), Err(Error::Closed)));
            assert!(matches!(writer.send(Message::Text("x")), Err(Error::Send(_) | Error::Closed)));
        },
    );

    // The reader's pong fails: the writer finds the connection over.
    let input = masked(0x89, b"ping", KEY);
    blocking_halves(Input::new(&input, 64), Output::new(1, 3), |(mut reader, mut writer)| {
        // The ping is handed out; the failed pong is reported next.
        assert_eq!(reader.read().unwrap(), Event::Ping(b"ping"));
        let failed = writer.send(Message::Text("x"));
        assert!(matches!(failed, Err(Error::Write(_) | Error::Send(_))));
        assert_eq!(writer.state(), wscodec::State::Closed);
    });
}

#[test]
fn the_twins_split_write_the_same_bytes() {
    // One sequence of calls through each twin's halves, the async one on one executor.
    let (input, _) = peer_input(6);
    let run_blocking = || {
        blocking_halves(
            Input::new(&input, 3),
            Output::new(5, usize::MAX),
            |(mut reader, mut writer)| {
                let mut events = Vec::new();
                for n in 0.. {
                    writer.send(Message::Binary(&[n as u8; 300])).unwrap();
                    match reader.read() {
                        Ok(Event::Close { .. }) => break,
                        Ok(event) => events.push(format!("{event:?}")),
                        Err(e) => panic!("{e}"),
                    }
                }
                events
            },
        )
    };
    let run_async = || {
        let (writing, out) = Output::new(5, usize::MAX);
        let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
        let shared = embassy_sync::mutex::Mutex::<NoopRawMutex, _>::new(None);
        let events = block_on(async {
            let ws = asynch::WebSocket::server(
                Both(Input::new(&input, 3), writing),
                Options::new(&mut rx[..], &mut tx),
            );
            let (mut reader, mut writer) = ws.split(&shared, |Both(r, w)| (r, w)).await;
            let mut events = Vec::new();
            for n in 0.. {
                writer.send(Message::Binary(&[n as u8; 300])).await.unwrap();
                match reader.read().await {
                    Ok(Event::Close { .. }) => break,
                    Ok(event) => events.push(format!("{event:?}")),
                    Err(e) => panic!("{e}"),
                }
            }
            events
        });
        (events, out.take())
    };
    let (blocking_events, blocking_wire) = run_blocking();
    let (async_events, async_wire) = run_async();
    assert_eq!(blocking_events, async_events);
    assert_eq!(blocking_wire, async_wire);
    assert!(blocking_events.len() > 6 && blocking_wire.len() > 6 * 300);
}
