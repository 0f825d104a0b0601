//! RAM figures for `scripts/firmware-budget`: `size_of` the connection state, and the stack
//! high-water mark of one echo round trip through the firmware's own `echo_connection`,
//! and, given `--wss HOST:PORT --wss-ca CA.der` (a `wsc serve --tls-cert` for the name
//! `wsc.test`), of one wss:// session through the firmware's `wss_exchange`.
//!
//! The stack is measured on a thread whose stack is a buffer painted with a known byte:
//! after the thread ends, the lowest byte that changed marks the deepest point reached.
//! The figure printed is that depth minus the depth of an empty thread on the same kind of
//! stack (glibc keeps the thread descriptor and TLS at its top).

use std::alloc::{alloc, dealloc, Layout};
use std::future::Future;
use std::hint::black_box;
use std::mem::size_of;
use std::pin::{pin, Pin};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use embassy_net::tcp::{self, TcpSocket};
use embassy_net::IpEndpoint;
use embedded_io_async::ErrorKind;
use embedded_tls::{Aes128GcmSha256, TlsConnection};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wscodec::deflate::{InflateState, Inflater, PerMessageDeflate};
use wscodec::io::asynch::WebSocket;
use wscodec::io::{Deflate, MaskKeys, Unmasked};
use wscodec::{CloseCode, Config, Connection, MessageKind, PieceHeader};
use wscodec_firmware::tls_client::{wss_exchange, WssBuffers, WssPeer, TLS_RX, TLS_TX};
use wscodec_firmware::{
    echo_connection, ClientBuffers, Rng, ServerBuffers, INFLATE_WINDOW, WS_RX, WS_TX,
};

const STACK: usize = 512 * 1024;
const PAINT: u8 = 0xA5;

/// Runs `f` on a fresh thread whose stack is a painted buffer; returns the bytes used.
fn stack_used(f: fn()) -> usize {
    let layout = Layout::from_size_align(STACK, 4096).expect("layout");
    // SAFETY: the layout has a non-zero size.
    let base = unsafe { alloc(layout) };
    assert!(!base.is_null(), "out of memory");
    // SAFETY: `base` points to STACK writable bytes we own.
    unsafe { base.write_bytes(PAINT, STACK) };
    extern "C" fn trampoline(arg: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `arg` is the `fn()` passed to pthread_create below.
        let f: fn() = unsafe { std::mem::transmute::<*mut libc::c_void, fn()>(arg) };
        f();
        std::ptr::null_mut()
    }
    // SAFETY: plain pthread calls on a stack buffer that outlives the thread (joined
    // before the buffer is read or freed).
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(libc::pthread_attr_init(&mut attr), 0);
        assert_eq!(libc::pthread_attr_setstack(&mut attr, base.cast(), STACK), 0);
        let mut thread: libc::pthread_t = 0;
        let arg = f as *mut libc::c_void;
        assert_eq!(libc::pthread_create(&mut thread, &attr, trampoline, arg), 0);
        assert_eq!(libc::pthread_join(thread, std::ptr::null_mut()), 0);
        libc::pthread_attr_destroy(&mut attr);
    }
    // SAFETY: the thread has ended; the buffer is ours again.
    let bytes = unsafe { std::slice::from_raw_parts(base, STACK) };
    let untouched = bytes.iter().position(|b| *b != PAINT).unwrap_or(STACK);
    // SAFETY: allocated above with the same layout.
    unsafe { dealloc(base, layout) };
    STACK - untouched
}

/// A transport that replays `input` and keeps what is written, with embassy-net's error
/// type so the futures have the firmware's layout.
struct Script<'a> {
    input: &'a [u8],
    output: &'a mut [u8],
    written: usize,
}

impl embedded_io_async::ErrorType for Script<'_> {
    type Error = tcp::Error;
}

impl embedded_io_async::Read for Script<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, tcp::Error> {
        let n = buf.len().min(self.input.len());
        let (head, rest) = self.input.split_at(n);
        buf[..n].copy_from_slice(head);
        self.input = rest;
        Ok(n)
    }
}

impl embedded_io_async::Write for Script<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, tcp::Error> {
        let room = &mut self.output[self.written..];
        let n = buf.len().min(room.len());
        room[..n].copy_from_slice(&buf[..n]);
        self.written += n;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), tcp::Error> {
        Ok(())
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// A client's bytes: the upgrade request, a masked text message of `len` bytes (with
/// `compressed`, the request offers permessage-deflate and the message is compressed), a
/// ping, and a close 1000.
fn client_bytes(len: usize, compressed: bool) -> Vec<u8> {
    let mut wire = b"GET / HTTP/1.1\r\nHost: device\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n"
        .to_vec();
    if compressed {
        wire.extend_from_slice(
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        );
    }
    wire.extend_from_slice(b"\r\n");
    let mut conn = Connection::new(wscodec::Role::Client);
    conn.set_deflate(Some(PerMessageDeflate::default()));
    // Text that is not one repeated byte, so that the inflater decodes real matches.
    let text: String = (0..len).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let mut frame = vec![0u8; len + 64];
    if compressed {
        let payload = deflate_message(text.as_bytes());
        let key = [1, 2, 3, 4];
        let n = conn
            .encode_compressed_header(
                PieceHeader { kind: MessageKind::Text, len: payload.len() as u64, last: true },
                key,
                &mut frame,
            )
            .expect("encode");
        wire.extend_from_slice(&frame[..n]);
        wire.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        let n =
            conn.encode(wscodec::Message::Text(&text), [1, 2, 3, 4], &mut frame).expect("encode");
        wire.extend_from_slice(&frame[..n]);
    }
    for message in
        [wscodec::Message::Ping(b"ping"), wscodec::Message::Close(Some((CloseCode::NORMAL, "")))]
    {
        let n = conn.encode(message, [1, 2, 3, 4], &mut frame).expect("encode");
        wire.extend_from_slice(&frame[..n]);
    }
    wire
}

/// `data` as a permessage-deflate message (RFC 7692 section 7.2.1): raw DEFLATE, sync
/// flushed, without the final `00 00 ff ff`; matches only within a 4 KiB window.
fn deflate_message(data: &[u8]) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    };
    assert!(data.len() <= INFLATE_WINDOW, "longer messages would need a 4 KiB compressor window");
    let mut compressor =
        Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(6, -15, 0)));
    let mut out = vec![0u8; data.len() + 1024];
    let (_, used, n) = compress(&mut compressor, data, &mut out, TDEFLFlush::Sync);
    assert_eq!(used, data.len());
    assert_eq!(out[n - 4..n], [0, 0, 0xff, 0xff]);
    out.truncate(n - 4);
    out
}

/// The session the measured thread runs: a boxed future, set up beforehand so that the
/// thread only polls it (and checks its result).
struct Job(Box<dyn FnOnce()>);

// SAFETY: a job is made on the main thread and run once on the measuring thread while the
// main thread waits in `pthread_join`; nothing it holds is touched by two threads at once.
// (The wss:// future is not `Send` only because embedded-tls keeps raw pointers to the
// record buffers, which are leaked and used by the job alone.)
unsafe impl Send for Job {}

static JOB: Mutex<Option<Job>> = Mutex::new(None);

/// Polls `future` to the end and checks its result.
fn job<F: Future + 'static>(future: Pin<Box<F>>, check: fn(F::Output)) -> Job {
    Job(Box::new(move || check(block_on(future))))
}

/// Sets up one echo round trip through the firmware's `echo_connection`, with the
/// firmware's buffer sizes. The future is boxed, as an embassy task's future lives in its
/// static task pool, not on the stack.
fn prepare_echo(len: usize, compressed: bool) {
    let input: &'static [u8] = Box::leak(client_bytes(len, compressed).into_boxed_slice());
    let output: &'static mut [u8] = Box::leak(vec![0u8; len + 4096].into_boxed_slice());
    let rx = Box::leak(vec![0u8; WS_RX].into_boxed_slice());
    let tx = Box::leak(vec![0u8; WS_TX].into_boxed_slice());
    let window = Box::leak(vec![0u8; INFLATE_WINDOW].into_boxed_slice());
    let state = Box::leak(Box::new(InflateState::new()));
    let script = Script { input, output, written: 0 };
    let config = Config { max_message: 1 << 20, streaming: true, ..Config::default() };
    let deflate = Deflate::new(Inflater::new(state, window, &mut [][..]));
    let future = Box::pin(echo_connection(script, config, rx, tx, deflate));
    let check = |result| assert_eq!(result, Ok(Some(CloseCode::NORMAL)), "echo round trip failed");
    *JOB.lock().expect("lock") = Some(job(future, check));
}

/// A host TCP connection as the transport under TLS (blocking calls inside `async fn`s).
struct Tcp(std::net::TcpStream);

impl embedded_io_async::ErrorType for Tcp {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for Tcp {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        std::io::Read::read(&mut self.0, buf).map_err(|_| ErrorKind::Other)
    }
}

impl embedded_io_async::Write for Tcp {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        std::io::Write::write(&mut self.0, buf).map_err(|_| ErrorKind::Other)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// Sets up one wss:// session with the server at `addr` through the firmware's
/// `wss_exchange`, with the firmware's buffer sizes.
fn prepare_wss(addr: std::net::SocketAddrV4, ca: &'static [u8]) {
    let stream = std::net::TcpStream::connect(addr).expect("connect to the wss server");
    let peer = WssPeer {
        endpoint: IpEndpoint::new((*addr.ip()).into(), addr.port()),
        name: "wsc.test",
        ca,
        seed: [0; 32],
        unix_time_at_boot: 0,
    };
    let mut seed = [0u8; 32];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("urandom"),
        &mut seed,
    )
    .expect("read /dev/urandom");
    let rng = Box::leak(Box::new(ChaCha20Rng::from_seed(seed)));
    let peer = Box::leak(Box::new(peer));
    let tls_rx = Box::leak(vec![0u8; TLS_RX].into_boxed_slice());
    let tls_tx = Box::leak(vec![0u8; TLS_TX].into_boxed_slice());
    let ws_rx = Box::leak(vec![0u8; 2048].into_boxed_slice());
    let ws_tx = Box::leak(vec![0u8; 512].into_boxed_slice());
    let future = Box::pin(wss_exchange(Tcp(stream), peer, tls_rx, tls_tx, ws_rx, ws_tx, rng));
    let check = |result: Result<(), _>| {
        if let Err(e) = result {
            panic!("the wss:// session failed: {e}");
        }
    };
    *JOB.lock().expect("lock") = Some(job(future, check));
}

/// Runs the prepared session: the function measured on the painted stack.
fn run_job() {
    let job = JOB.lock().expect("lock").take().expect("a prepared job");
    (job.0)();
}

fn calib() {
    let a = [7u8; 10000];
    black_box(&a);
}

fn empty() {
    black_box(0u8);
}

/// `size_of` a WebSocket over the firmware's socket with the given mask keys.
fn ws_size<M: MaskKeys>(_: &M) -> usize {
    size_of::<WebSocket<'static, &'static mut TcpSocket<'static>, M>>()
}

fn main() {
    let mut rng = Rng::new(1);
    let server_mask = Unmasked;
    let client_mask = || rng.next_u32().to_ne_bytes();
    println!("size_of Connection (client and server: one type) {}", size_of::<Connection>());
    println!("size_of asynch::WebSocket server, over &mut TcpSocket {}", ws_size(&server_mask));
    println!("size_of asynch::WebSocket client, over &mut TcpSocket {}", ws_size(&client_mask));
    println!("size_of embassy_net TcpSocket {}", size_of::<TcpSocket<'static>>());
    let (mut rx, mut tx) = ([0u8; WS_RX], [0u8; WS_TX]);
    let script = Script { input: &[], output: &mut [], written: 0 };
    let config = Config::default();
    let (mut state, mut window) = (InflateState::new(), [0u8; INFLATE_WINDOW]);
    let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut [][..]));
    let future = echo_connection(script, config, &mut rx, &mut tx, deflate);
    println!(
        "size_of echo_connection future (in the task pool) {}",
        std::mem::size_of_val(&future)
    );
    drop(future);
    println!(
        "size_of ServerBuffers (static, per server, with the {INFLATE_WINDOW}-byte permessage-deflate window) {}",
        size_of::<ServerBuffers>()
    );
    println!(
        "size_of InflateState (permessage-deflate, static, per server) {}",
        InflateState::SIZE
    );
    println!("size_of ClientBuffers (static) {}", size_of::<ClientBuffers>());
    println!(
        "size_of WssBuffers (static: TCP 2 x 2048, TLS records {TLS_RX} + {TLS_TX}, WebSocket 2048 + 512) {}",
        size_of::<WssBuffers>()
    );
    println!(
        "size_of embedded-tls TlsConnection over &mut TcpSocket {}",
        size_of::<TlsConnection<'static, &'static mut TcpSocket<'static>, Aes128GcmSha256>>()
    );
    println!("size_of wss_exchange future (in the task pool) {}", wss_future_size());
    let floor = stack_used(empty);
    // Self-check of the method: a frame with a 10000-byte array.
    let calib = stack_used(calib).saturating_sub(floor);
    assert!((9_900..10_200).contains(&calib), "stack measurement is off: {calib} for 10000");
    prepare_echo(100, false);
    let small = stack_used(run_job).saturating_sub(floor);
    prepare_echo(20_000, false);
    let large = stack_used(run_job).saturating_sub(floor);
    prepare_echo(4_000, true);
    let compressed = stack_used(run_job).saturating_sub(floor);
    println!("stack high-water, echo round trip, 100-byte message {small}");
    println!("stack high-water, echo round trip, 20000-byte message (streamed) {large}");
    println!(
        "stack high-water, echo round trip, 4000-byte compressed message (inflated) {compressed}"
    );
    if let Some((addr, ca)) = wss_args() {
        prepare_wss(addr, ca);
        let wss = stack_used(run_job).saturating_sub(floor);
        println!("stack high-water, wss:// session (TLS handshake with certificate check, exchange) {wss}");
    }
}

/// `size_of` the firmware's wss:// session future over its socket.
fn wss_future_size() -> usize {
    let peer = WssPeer {
        endpoint: IpEndpoint::new(embassy_net::Ipv4Address::UNSPECIFIED.into(), 0),
        name: "",
        ca: &[],
        seed: [0; 32],
        unix_time_at_boot: 0,
    };
    let rng = &mut ChaCha20Rng::from_seed([0; 32]);
    let (tls_rx, tls_tx): (&mut [u8], &mut [u8]) = (&mut [], &mut []);
    let (ws_rx, ws_tx): (&mut [u8], &mut [u8]) = (&mut [], &mut []);
    let peer = &peer;
    returned_size(move |socket: &'static mut TcpSocket<'static>| {
        wss_exchange(socket, peer, tls_rx, tls_tx, ws_rx, ws_tx, rng)
    })
}

/// The size of what `f` returns (here: a future), without calling it.
fn returned_size<A, R>(_: impl FnOnce(A) -> R) -> usize {
    size_of::<R>()
}

/// `--wss HOST:PORT --wss-ca CA.der`, if given.
fn wss_args() -> Option<(std::net::SocketAddrV4, &'static [u8])> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match &args[..] {
        [] => None,
        [wss, addr, ca_flag, ca] if wss == "--wss" && ca_flag == "--wss-ca" => {
            let addr = addr.parse().expect("--wss HOST:PORT");
            let ca = std::fs::read(ca).expect("read the --wss-ca file");
            Some((addr, Box::leak(ca.into_boxed_slice())))
        }
        _ => panic!("usage: budget [--wss HOST:PORT --wss-ca CA.der]"),
    }
}
