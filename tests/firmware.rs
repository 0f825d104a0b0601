//! The firmware example (`tests/firmware`: Embassy executor, embassy-net/smoltcp, the
//! codec's async API straight over `TcpSocket`) on a TAP device, driven by real peers.
//!
//! Each test creates its own network namespace with a TAP device in it (`ip netns add`,
//! `ip tuntap add`), runs the firmware binary on that device inside the namespace, and runs
//! every peer inside the same namespace: `wsc connect`, `wsc serve` (the firmware's client
//! talks to it), `wsc serve --tls-cert` (the firmware's wss:// client talks to it, checking
//! the certificate against a CA made here), `wsc probe`, Python `websockets` and raw sockets
//! (`tests/firmware/peers.py`). No traffic leaves the namespace. The namespace and every
//! process started are removed when a test ends, even when it fails.
//!
//! The same application on the Cortex-M board, Autobahn included, is
//! `tests/peers/device.py`.
//!
//! Needs root, `/dev/net/tun` and iproute2; without them the tests fail and say why (they
//! never skip). Environment: `WSC` (a built `wsc` binary; otherwise it is built here),
//! `PYTHON` (a Python with `websockets`; default `.venv/bin/python`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The wss:// client test (embedded-tls against `wsc serve --tls-cert`, a CA made here).
#[path = "firmware_wss.rs"]
mod wss;

const HOST_IP: &str = "192.168.69.1";
const FIRMWARE_IP: &str = "192.168.69.2";
const PORT: u16 = 8080;
/// The port of the template's server (tests/firmware/src/template.rs).
const TEMPLATE_PORT: u16 = 8081;
/// The port of the telemetry endpoint (tests/firmware/src/telemetry.rs).
const TELEMETRY_PORT: u16 = 8082;
/// `wsc serve` on the host side, for the firmware's client task.
const HOST_ECHO_PORT: u16 = 9100;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    assert!(
        output.status.success(),
        "{shown} failed with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Fails, with the reason, when the machine cannot run these tests.
fn require_root_tun_iproute2() {
    let uid = Command::new("id").arg("-u").output().map(|o| o.stdout).unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&uid).trim(),
        "0",
        "the firmware test must run as root: it creates a network namespace and a TAP device"
    );
    assert!(
        Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing: the firmware test needs TUN/TAP (modprobe tun, or run the \
         container with --device /dev/net/tun --cap-add NET_ADMIN)"
    );
    let ip = Command::new("ip").arg("-V").output();
    assert!(
        ip.is_ok_and(|o| o.status.success()),
        "the `ip` command (iproute2) is missing: apt-get install iproute2"
    );
}

fn cargo_build(args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A target directory of its own: the outer `cargo test` may hold the main one.
    let target_dir = root().join("target/firmware");
    run(Command::new(cargo)
        .args(["build", "--release"])
        .args(args)
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS"));
}

/// Builds the firmware binary.
fn firmware_binary() -> PathBuf {
    let manifest = root().join("tests/firmware/Cargo.toml");
    cargo_build(&[
        "--bin",
        "wscodec-firmware",
        "--manifest-path",
        manifest.to_str().unwrap_or_default(),
    ]);
    root().join("target/firmware/release/wscodec-firmware")
}

/// `$WSC`, or a freshly built `wsc`.
fn wsc_binary() -> PathBuf {
    if let Ok(wsc) = std::env::var("WSC") {
        let wsc = PathBuf::from(wsc);
        assert!(wsc.is_file(), "WSC={} is not a file", wsc.display());
        return wsc;
    }
    let manifest = root().join("Cargo.toml");
    cargo_build(&["-p", "wsc", "--manifest-path", manifest.to_str().unwrap_or_default()]);
    root().join("target/firmware/release/wsc")
}

/// `$PYTHON` or `.venv/bin/python`, checked to import the given modules.
fn python_with(modules: &str) -> PathBuf {
    let python = std::env::var("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join(".venv/bin/python"));
    let check = Command::new(&python).args(["-c", &format!("import {modules}")]).output();
    assert!(
        check.as_ref().is_ok_and(|o| o.status.success()),
        "{} cannot import {modules}: create the venv with `python3 -m venv .venv && \
         .venv/bin/pip install websockets kosoku` or set PYTHON ({})",
        python.display(),
        check
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_else(|e| e.to_string())
    );
    python
}

/// A network namespace with a TAP device `tap0` at `HOST_IP/24`; deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn create(tag: &str) -> Self {
        let name = format!("wscodec-fw-{}-{tag}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]));
        // From here on, drop deletes it, whatever fails next.
        let netns = Self { name };
        for args in [
            &["ip", "link", "set", "lo", "up"][..],
            &["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"],
            &["ip", "addr", "add", &format!("{HOST_IP}/24"), "dev", "tap0"],
            &["ip", "link", "set", "tap0", "up"],
        ] {
            run(&mut netns.command(args[0], &args[1..]));
        }
        netns
    }

    /// `program args` inside the namespace.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program).args(args);
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let deleted = Command::new("ip").args(["netns", "del", &self.name]).output();
        if !deleted.is_ok_and(|o| o.status.success()) {
            eprintln!("warning: could not delete network namespace {}", self.name);
        }
    }
}

/// A process started by the test, its stdout collected line by line; killed on drop.
struct Process {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Process {
    fn start(name: &'static str, mut command: Command) -> Self {
        let shown = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let sink = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
                sink.lock().expect("lines").push(line);
            }
        });
        Self { name, child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `count` lines contain `needle`; fails if `failure` shows up first.
    fn wait_for(&mut self, needle: &str, count: usize, failure: &str, timeout: Duration) {
        let start = Instant::now();
        loop {
            if let Some(line) =
                self.lines().iter().find(|l| !failure.is_empty() && l.contains(failure))
            {
                panic!("{}: {line}", self.name);
            }
            if self.count(needle) >= count {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) while waiting for {needle:?}", self.name);
            }
            assert!(
                start.elapsed() < timeout,
                "{}: no {count} line(s) with {needle:?} within {timeout:?}; output:\n{}",
                self.name,
                self.lines().join("\n")
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}); output:\n{}", self.name, self.lines().join("\n"));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_firmware(netns: &Netns, peer: Option<&str>) -> Process {
    match peer {
        Some(peer) => start_firmware_with(netns, &["--peer", peer]),
        None => start_firmware_with(netns, &[]),
    }
}

fn start_firmware_with(netns: &Netns, extra: &[&str]) -> Process {
    let firmware = firmware_binary();
    let address = format!("{FIRMWARE_IP}/24");
    let (port, template_port) = (PORT.to_string(), TEMPLATE_PORT.to_string());
    // A short write timeout, so that the ping flood check (peers.py) is quick (a later
    // `--write-timeout` in `extra` wins).
    let mut args = vec!["--tap", "tap0", "--address", &address, "--port", &port];
    args.extend(["--write-timeout", "2", "--template-port", &template_port]);
    args.extend(extra);
    let mut firmware = Process::start("firmware", netns.command(firmware, &args));
    firmware.wait_for("listening on port", 2, "", Duration::from_secs(10));
    firmware
}

/// Runs `wsc connect` to the echo server in the namespace with `input` on stdin; returns
/// its stdout.
fn wsc_connect(netns: &Netns, wsc: &Path, extra: &[&str], input: &str) -> String {
    wsc_connect_to(netns, wsc, &format!("ws://{FIRMWARE_IP}:{PORT}/"), extra, input)
}

fn wsc_connect_to(netns: &Netns, wsc: &Path, url: &str, extra: &[&str], input: &str) -> String {
    let mut args = vec!["connect", url];
    args.extend(extra);
    let mut child = netns
        .command(wsc, &args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsc connect");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
        // Give the echoes time to come back before EOF makes wsc close.
        thread::sleep(Duration::from_millis(500));
    });
    let output = wait_with_timeout(child, Duration::from_secs(30), "wsc connect");
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "wsc connect {extra:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn wait_with_timeout(mut child: Child, timeout: Duration, what: &str) -> Output {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Runs the Python peer `script` (in tests/firmware/) with `args` inside `netns`, within
/// `timeout`; asserts that it succeeded with `checks` "ok: " lines. Returns its output.
fn peer_script(
    netns: &Netns,
    python: &Path,
    script: &str,
    args: &[&str],
    timeout: Duration,
    checks: usize,
) -> String {
    let path = root().join("tests/firmware").join(script);
    let mut argv = vec![path.to_str().unwrap_or_default()];
    argv.extend_from_slice(args);
    let child = netns
        .command(python, &argv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {script}: {e}"));
    let output = wait_with_timeout(child, timeout, script);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stdout}{stderr}");
    let passed = stdout.lines().filter(|l| l.starts_with("ok: ")).count();
    assert_eq!(passed, checks, "{script} checks:\n{stdout}");
    stdout
}

#[test]
fn firmware_echo_server_and_client_on_a_tap_device() {
    require_root_tun_iproute2();
    let wsc = wsc_binary();
    let python = python_with("websockets");
    let netns = Netns::create("echo");

    // The firmware's client task talks to `wsc serve` on the host side once at start.
    let listen = format!("{HOST_IP}:{HOST_ECHO_PORT}");
    let mut host_echo =
        Process::start("wsc serve", netns.command(&wsc, &["serve", "--listen", &listen]));
    host_echo.wait_for("listening on", 1, "", Duration::from_secs(10));
    let mut firmware = start_firmware(&netns, Some(&listen));
    firmware.wait_for("client: PASS", 1, "client: FAIL", Duration::from_secs(30));

    // wsc connect: text, binary, and a line longer than the firmware's 4 KiB receive buffer
    // (streamed back to wsc in fragments).
    let out = wsc_connect(&netns, &wsc, &[], "hello firmware\nsecond line\n");
    assert!(out.contains("hello firmware\nsecond line\n"), "text echo: {out}");
    assert!(out.contains("closed: 1000"), "close 1000: {out}");
    let out = wsc_connect(&netns, &wsc, &["--binary"], "\u{1}\u{2}AB\n");
    assert!(out.contains("<binary 4 bytes: 01 02 41 42>"), "binary echo: {out}");
    let long = "0123456789".repeat(2_000);
    let out = wsc_connect(&netns, &wsc, &[], &format!("{long}\n"));
    assert!(out.contains(&long), "20000-byte echo missing: {} bytes out", out.len());
    firmware.wait_for("closed 1000", 3, "", Duration::from_secs(5));

    // Python websockets and raw sockets: ping/pong, fragments both ways, close 1000, a
    // refused path, abrupt disconnects (FIN and RST), a protocol error, and survival.
    let url = format!("ws://{FIRMWARE_IP}:{PORT}/");
    peer_script(&netns, &python, "peers.py", &[&url], Duration::from_secs(300), 19);
    // What the firmware itself reported for those connections.
    firmware.wait_for(
        "permessage-deflate: permessage-deflate; server_no_context_takeover; \
         client_max_window_bits=12",
        1,
        "",
        Duration::from_secs(5),
    );
    firmware.wait_for("closed 1000", 6, "", Duration::from_secs(5));
    firmware.wait_for("answered HTTP 404, not upgraded", 1, "", Duration::from_secs(5));
    firmware.wait_for("closed 1006", 2, "", Duration::from_secs(5));
    firmware.wait_for("closed 1002", 1, "", Duration::from_secs(5));
    // The back-references before the start of the stream, one per reused window.
    firmware.wait_for("closed 1007", 2, "", Duration::from_secs(5));
    firmware.wait_for(
        "closed 1006 (writing to the transport failed, so the connection is closed: Stalled)",
        1,
        "",
        Duration::from_secs(5),
    );

    // wsc probe walks every step (DNS, TCP, upgrade, 101 checks, ping/pong, close).
    let child = netns
        .command(&wsc, &["probe", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsc probe");
    let output = wait_with_timeout(child, Duration::from_secs(60), "wsc probe");
    eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        output.status.success(),
        "wsc probe {url} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // Still serving after all of it.
    let out = wsc_connect(&netns, &wsc, &[], "still alive\n");
    assert!(out.contains("still alive"), "echo after everything: {out}");

    // The template (tests/firmware/src/template.rs) serves too: text, binary, close 1000.
    let template = format!("ws://{FIRMWARE_IP}:{TEMPLATE_PORT}/");
    let out = wsc_connect_to(&netns, &wsc, &template, &[], "from the template\n");
    assert!(out.contains("from the template\n"), "template text echo: {out}");
    assert!(out.contains("closed: 1000"), "template close 1000: {out}");
    let out = wsc_connect_to(&netns, &wsc, &template, &["--binary"], "\u{1}\u{2}AB\n");
    assert!(out.contains("<binary 4 bytes: 01 02 41 42>"), "template binary echo: {out}");
    let refused = netns
        .command(&wsc, &["connect", &format!("{template}other")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsc connect");
    let refused = wait_with_timeout(refused, Duration::from_secs(30), "wsc connect /other");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("404"), "template /other: {said}");
    firmware.assert_running();
    host_echo.assert_running();
}

/// The telemetry endpoint (tests/firmware/src/telemetry.rs): one connection split between
/// two tasks, one answering commands and one sending numbered telemetry every 10 ms,
/// driven by Python `websockets` for a few seconds (tests/firmware/telemetry.py).
#[test]
fn firmware_telemetry_endpoint_split_between_two_tasks() {
    require_root_tun_iproute2();
    let python = python_with("websockets");
    let netns = Netns::create("telemetry");
    // An idle timeout below the second client's silence (telemetry.py --silent 3).
    let port = TELEMETRY_PORT.to_string();
    let mut firmware =
        start_firmware_with(&netns, &["--telemetry-port", &port, "--idle-timeout", "2"]);
    firmware.wait_for("telemetry: listening on port", 1, "", Duration::from_secs(10));

    let url = format!("ws://{FIRMWARE_IP}:{TELEMETRY_PORT}/");
    let args = [url.as_str(), "--seconds", "3", "--silent", "3"];
    let stdout = peer_script(&netns, &python, "telemetry.py", &args, Duration::from_secs(120), 6);
    // Both halves ended with the client's close, the two clients' alike, and the 404.
    firmware.wait_for("telemetry: commands: closed 1000", 2, "", Duration::from_secs(5));
    firmware.wait_for("telemetry: sender: stopped after", 2, "", Duration::from_secs(5));
    firmware.wait_for("telemetry: answered HTTP 404, not upgraded", 1, "", Duration::from_secs(5));
    // Nothing lost: every message the sender wrote arrived (telemetry.py checked them
    // numbered from 0 without a gap), those that crossed the client's close included.
    let number_after = |line: &str, key: &str| -> u64 {
        let rest =
            &line[line.find(key).unwrap_or_else(|| panic!("no {key:?} in {line:?}")) + key.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap_or_else(|_| panic!("no number after {key:?} in {line:?}"))
    };
    let received = stdout
        .lines()
        .find(|l| l.starts_with("ok: close:"))
        .map(|l| number_after(l, "received "))
        .expect("the close line");
    let lines = firmware.lines();
    let stopped =
        lines.iter().find(|l| l.contains("telemetry: sender: stopped after")).expect("logged");
    let sent = number_after(stopped, "stopped after ");
    assert_eq!(sent, received, "the sender wrote {sent}, the client read {received}: {stopped}");
    firmware.assert_running();
}
