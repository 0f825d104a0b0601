//! The telemetry endpoint: one WebSocket connection split between two tasks on one
//! executor, as a device streams readings while it takes commands.
//!
//! - `commands` accepts the connection, reads the client's commands and answers them
//!   (`sent`: how many telemetry messages went out so far; `uptime`: milliseconds since
//!   boot). Inside its reads it answers pings and the client's close. It waits for
//!   commands without an idle timeout (a client may only listen); once reading ends, it
//!   takes the writing side out of the lock, which ends the writer half too.
//! - `telemetry` sends a numbered message every [`PERIOD`]:
//!   `{"seq":N,"uptime_ms":T}`, N from 0 up with no gap.
//!
//! Both go through [`WebSocket::split`]: the reader half stays with `commands`, the writer
//! half goes to `telemetry`, and the two share the writing side through an
//! `embassy_sync` mutex (`NoopRawMutex`: one executor). A task's arguments are `'static`,
//! so the mutex, the transmit buffer and the socket are `static` (`static_cell`; the
//! receive buffer stays with `commands`, lent to one connection at a time); when a
//! connection ends, `Shared::into_parts` gives the transmit buffer back, and the socket
//! is closed and listens again: one client at a time, one after another (a second client
//! is refused with a TCP reset while one is connected).
//!
//! `embassy-net`'s own `TcpSocket::split` borrows the socket for as long as its halves
//! live, so halves that go to a task would hold it for good; [`SharedSocket`] lends the
//! one socket to both halves instead, each poll borrowing it for that poll.

use core::cell::{Cell, RefCell};
use core::fmt::Write as _;
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;

use embassy_executor::Spawner;
use embassy_net::tcp::{self, TcpSocket};
use embassy_net::Stack;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::mutex::Mutex;
use embassy_sync::signal::Signal;
use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::{ErrorType, Read, Write};
use static_cell::{ConstStaticCell, StaticCell};
use wscodec::handshake::server::{self, Decision, Head, Outcome};
use wscodec::io::asynch::{Reader, Shared, WebSocket, Writer};
use wscodec::io::{Error, Options, Unmasked};
use wscodec::{CloseCode, Config, Event, Message, Status};

use crate::text::Text;
use crate::{close_code_of, Settings, TimedError, Timeouts};

/// The sockets the endpoint takes from the stack: one, for one client at a time.
pub const SOCKETS: usize = 1;

/// How often `telemetry` sends a message.
pub const PERIOD: Duration = Duration::from_millis(10);

/// The connection's stream: the shared socket, with the firmware's timeouts.
type Timed = Timeouts<SocketHalf>;
/// The writing side both halves share, in its lock.
type Link = Mutex<NoopRawMutex, Option<Shared<'static, Timed, Unmasked>>>;
/// The writer half `telemetry` gets.
type Sender = Writer<'static, 'static, Timed, Unmasked, Link>;
type WsError = Error<<Timed as ErrorType>::Error>;

/// The endpoint's memory, in `.bss`.
struct Buffers {
    tcp_rx: [u8; 1024],
    tcp_tx: [u8; 4096],
    /// The request head, then commands (up to [`MAX_COMMAND`] bytes).
    ws_rx: [u8; 1024],
    /// The upgrade's answer, then frame headers and the messages: telemetry, answers,
    /// pongs.
    ws_tx: [u8; 512],
}

/// The longest command taken; a longer one is refused with 1009.
const MAX_COMMAND: u64 = 128;

static BUFFERS: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers {
    tcp_rx: [0; 1024],
    tcp_tx: [0; 4096],
    ws_rx: [0; 1024],
    ws_tx: [0; 512],
});
static SOCKET: StaticCell<SharedSocket> = StaticCell::new();
static LINK: StaticCell<Link> = StaticCell::new();
static SENT: StaticCell<Cell<u32>> = StaticCell::new();
static STOPPED: StaticCell<Signal<NoopRawMutex, Stopped>> = StaticCell::new();

/// Spawns the endpoint on `port`, with the echo server's timeouts from `settings`.
///
/// # Panics
/// If called twice (the static memory is handed out once).
pub fn start(spawner: Spawner, stack: Stack<'static>, port: u16, settings: Settings) {
    spawner.spawn(commands(spawner, stack, port, settings).unwrap());
}

/// One TCP socket lent to both halves of a split connection, each on its own task.
///
/// Each read or write borrows the socket for one poll of `embassy-net`'s own read or
/// write, which keeps nothing between polls: a pending read leaves only its waker with
/// the socket (the receive waker; a write, the send waker), so a reader waiting for
/// input never blocks the writer.
pub struct SharedSocket(RefCell<TcpSocket<'static>>);

impl SharedSocket {
    fn half(&'static self) -> SocketHalf {
        SocketHalf(self)
    }

    /// Waits for the next client on `port`.
    ///
    /// The socket stays borrowed across the wait, and across [`shut`](Self::shut)'s: no
    /// half polls it then (the last connection's halves have given the writing side
    /// back, the next one's do not exist yet; one that did would find it reset).
    #[allow(clippy::await_holding_refcell_ref)]
    async fn accept(&self, port: u16, idle: Duration) -> Result<(), tcp::AcceptError> {
        let mut socket = self.0.borrow_mut();
        socket.set_timeout(Some(idle));
        socket.set_nagle_enabled(false);
        socket.accept(port).await
    }

    /// Ends the connection, as the echo server's `shut` does.
    #[allow(clippy::await_holding_refcell_ref)]
    async fn shut(&self) {
        crate::shut(&mut self.0.borrow_mut()).await
    }
}

/// A handle on the [`SharedSocket`]: the reader half reads through one, the writer half
/// writes through another.
#[derive(Clone, Copy)]
pub struct SocketHalf(&'static SharedSocket);

impl core::fmt::Debug for SocketHalf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SocketHalf")
    }
}

impl ErrorType for SocketHalf {
    type Error = tcp::Error;
}

/// While the socket is taken for accept or close, a half finds the connection reset.
impl Read for SocketHalf {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, tcp::Error> {
        poll_fn(|cx| match self.0 .0.try_borrow_mut() {
            Ok(mut socket) => pin!(socket.read(buf)).poll(cx),
            Err(_) => Poll::Ready(Err(tcp::Error::ConnectionReset)),
        })
        .await
    }
}

impl Write for SocketHalf {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, tcp::Error> {
        poll_fn(|cx| match self.0 .0.try_borrow_mut() {
            Ok(mut socket) => pin!(socket.write(buf)).poll(cx),
            Err(_) => Poll::Ready(Err(tcp::Error::ConnectionReset)),
        })
        .await
    }

    async fn flush(&mut self) -> Result<(), tcp::Error> {
        poll_fn(|cx| match self.0 .0.try_borrow_mut() {
            Ok(mut socket) => pin!(socket.flush()).poll(cx),
            Err(_) => Poll::Ready(Err(tcp::Error::ConnectionReset)),
        })
        .await
    }
}

/// The reader half's stream: the socket without an idle timeout, its errors those of
/// the writer half's [`Timed`] stream, as the halves of a split share one error type.
#[derive(Debug)]
pub struct Untimed(SocketHalf);

impl ErrorType for Untimed {
    type Error = TimedError<tcp::Error>;
}

impl Read for Untimed {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf).await.map_err(TimedError::Io)
    }
}

/// How `telemetry` stopped: the messages it sent, and the error that stopped it.
struct Stopped {
    sent: u32,
    error: WsError,
}

#[embassy_executor::task]
async fn commands(spawner: Spawner, stack: Stack<'static>, port: u16, settings: Settings) -> ! {
    let Buffers { tcp_rx, tcp_tx, ws_rx, ws_tx } = BUFFERS.take();
    let shared = SOCKET.init(SharedSocket(RefCell::new(TcpSocket::new(stack, tcp_rx, tcp_tx))));
    let link: &'static Link = LINK.init(Mutex::new(None));
    let sent: &'static Cell<u32> = SENT.init(Cell::new(0));
    let stopped: &'static Signal<NoopRawMutex, Stopped> = STOPPED.init(Signal::new());
    // Lent to each connection, given back when it ends.
    let mut tx: &'static mut [u8] = ws_tx;
    stack.wait_config_up().await;
    info!("telemetry: listening on port {}", port);
    loop {
        if let Err(e) = shared.accept(port, settings.idle_timeout).await {
            warn!("telemetry: accept failed: {:?}", e);
            continue;
        }
        let mut stream =
            Timeouts::new(shared.half(), settings.idle_timeout, settings.write_timeout)
                .answered_by(Instant::now() + settings.handshake_timeout);
        match upgrade(&mut stream, ws_rx, &mut *tx).await {
            Ok(received) => {
                let options = Options::new(&mut ws_rx[..], tx).with_received(received);
                let config = Config { max_message: MAX_COMMAND, ..Config::default() };
                let ws = WebSocket::server(stream, options.with_config(config));
                // Commands may be rare, so the reader half waits for them without an idle
                // timeout: a peer that is gone is found by the writer half, whose telemetry
                // then stalls (the write timeout) or fails.
                let halves = |_| {
                    let writing = shared.half();
                    let timed = Timeouts::new(writing, settings.idle_timeout, settings.write_timeout);
                    (Untimed(shared.half()), timed)
                };
                let (reader, writer) = ws.split(link, halves).await;
                sent.set(0);
                let (ended, sender) = serve(spawner, reader, writer, sent, stopped).await;
                // Taking the writing side out of the lock ends the writer half too, once the
                // frame it may be writing is whole (its next message finds no connection),
                // and gives `tx` back for the next connection.
                let taken = link.lock().await.take();
                let by = match sender {
                    SenderState::Running => Some(stopped.wait().await),
                    SenderState::Stopped(by) => Some(by),
                    SenderState::NotStarted => None,
                };
                tx = match taken {
                    Some(shared) => shared.into_parts().1,
                    None => &mut [],
                };
                report(&ended, by);
            }
            Err(Error::NotUpgraded(status)) => {
                info!("telemetry: answered HTTP {}, not upgraded", status)
            }
            Err(e) => info!("telemetry: not upgraded: {}", e),
        }
        shared.shut().await;
        if tx.is_empty() {
            warn!("telemetry: the transmit buffer was not given back; stopping");
            core::future::pending::<()>().await;
        }
    }
}

/// How the reading side ended: the peer's close code, or the error.
type Ended = Result<Option<CloseCode>, WsError>;

/// How the sender stood when the reading side was done.
enum SenderState {
    /// It could not be started.
    NotStarted,
    /// It had stopped.
    Stopped(Stopped),
    /// It was still sending.
    Running,
}

fn report(ended: &Ended, by: Option<Stopped>) {
    let code = close_code_of(ended);
    match ended {
        Ok(_) => info!("telemetry: commands: closed {}", code),
        Err(e) => info!("telemetry: commands: closed {} ({})", code.as_u16(), e),
    }
    match by {
        Some(Stopped { sent, error }) => {
            info!("telemetry: sender: stopped after {} messages ({})", sent, error)
        }
        None => warn!("telemetry: sender: never started"),
    }
}

/// Runs one connection: starts `telemetry` with the writer half, then reads and answers
/// commands until the connection ends for either half, or reading fails. Returns how the
/// reading side ended, and how the sender stood then.
async fn serve(
    spawner: Spawner,
    mut reader: Reader<'static, 'static, Untimed, Timed, Unmasked, &mut [u8], Link>,
    writer: Sender,
    sent: &'static Cell<u32>,
    stopped: &'static Signal<NoopRawMutex, Stopped>,
) -> (Ended, SenderState) {
    let mut answers = writer.clone();
    stopped.reset();
    match telemetry(writer, sent, stopped) {
        Ok(task) => spawner.spawn(task),
        Err(_) => {
            let _ = answers.close(CloseCode::TRY_AGAIN_LATER, "telemetry busy").await;
            return (Err(Error::Closed), SenderState::NotStarted);
        }
    }
    let ended = loop {
        let event = match first(reader.read(), stopped.wait()).await {
            Either::First(event) => event,
            // The sender's write failed: the connection is over for both halves.
            Either::Second(by) => return (Err(Error::Closed), SenderState::Stopped(by)),
        };
        let answered = match event {
            Ok(Event::Text(command)) => answer(&mut answers, command, sent.get()).await,
            Ok(Event::Binary(_)) => answers.send(Message::Text("commands are text")).await,
            // Pongs and the close reply went out inside `read`.
            Ok(Event::Close { code, .. }) => break Ok(code),
            Ok(_) => Ok(()),
            Err(e) => break Err(e),
        };
        if let Err(e) = answered {
            break Err(e);
        }
    };
    (ended, SenderState::Running)
}

/// Answers one command.
async fn answer(answers: &mut Sender, command: &str, sent: u32) -> Result<(), WsError> {
    let mut text = Text::<160>::new();
    let _ = match command {
        "sent" => write!(text, "sent {sent}"),
        "uptime" => write!(text, "uptime_ms {}", Instant::now().as_millis()),
        other => write!(text, "unknown command: {other}"),
    };
    answers.send(Message::Text(text.as_str())).await
}

/// Sends `{"seq":N,"uptime_ms":T}` every [`PERIOD`] until a send fails (the connection
/// closed, or the peer stopped reading), then says how many it sent.
#[embassy_executor::task]
async fn telemetry(
    mut writer: Sender,
    sent: &'static Cell<u32>,
    stopped: &'static Signal<NoopRawMutex, Stopped>,
) {
    let mut next = Instant::now();
    let error = loop {
        let mut text = Text::<64>::new();
        let seq = sent.get();
        let _ = write!(text, "{{\"seq\":{seq},\"uptime_ms\":{}}}", Instant::now().as_millis());
        if let Err(e) = writer.send(Message::Text(text.as_str())).await {
            break e;
        }
        sent.set(seq + 1);
        // On schedule, or (after a slow write) one period from now: no burst to catch up.
        next = (next + PERIOD).max(Instant::now());
        Timer::at(next).await;
    };
    stopped.signal(Stopped { sent: sent.get(), error });
}

/// Reads the upgrade request into `rx` and answers it through `tx`. Returns how many
/// bytes of frames came after the request head, moved to the start of `rx`.
///
/// `WebSocket::accept` does the same, but takes `tx` for good, even when the upgrade
/// fails; here `tx` is only borrowed, and lent to a connection once it is upgraded.
async fn upgrade(stream: &mut Timed, rx: &mut [u8], tx: &mut [u8]) -> Result<usize, WsError> {
    let mut received = 0;
    loop {
        let decide =
            |request: &server::Request<'_, '_>, _: Option<&server::Upgrade<'_>>| match request.path
            {
                "/" => Decision::Accept { protocol: None },
                _ => Decision::Reject { status: 404, reason: "the telemetry endpoint is /" },
            };
        let head = Head::new(rx, received);
        if let Status::Complete { value: answer, consumed } =
            server::handle_request(head, tx, decide, server::no_extensions)
        {
            let written = tx.get(..answer.written).unwrap_or_default();
            stream.write_all(written).await.map_err(Error::Write)?;
            return match answer.outcome {
                Outcome::Upgraded => {
                    rx.copy_within(consumed..received, 0);
                    Ok(received - consumed)
                }
                Outcome::NotUpgraded(status) => Err(Error::NotUpgraded(status)),
                Outcome::Failed(e) => Err(Error::Handshake(e)),
            };
        }
        let room = rx.get_mut(received..).unwrap_or_default();
        match stream.read(room).await.map_err(Error::Read)? {
            0 => return Err(Error::UnexpectedEof),
            n => received += n,
        }
    }
}

enum Either<A, B> {
    First(A),
    Second(B),
}

/// Whichever of `a` and `b` finishes first; the other is dropped.
async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::First(out));
        }
        b.as_mut().poll(cx).map(Either::Second)
    })
    .await
}
