//! Real proxies from Debian packages for the proxy tests: Squid (package `squid`), nginx
//! (`nginx`), microsocks (`microsocks`) and dante (`dante-server`).
//!
//! Each is started by the test that needs it, on a free loopback port, with its own
//! configuration in a fresh directory, as a child process (never a daemon) in a process
//! group of its own, and killed with the whole group on drop. A proxy that cannot start
//! fails the test with its log; a missing program fails it with the package to install
//! (`scripts/setup` installs them all).
#![allow(dead_code, unreachable_pub)]

use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a proxy may take to accept connections.
const START: Duration = Duration::from_secs(30);

/// A running proxy, killed (with its process group) and cleaned up on drop.
pub struct Proxy {
    name: &'static str,
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Proxy {
    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Everything the proxy logged, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for entry in fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = fs::read_to_string(&path).unwrap_or_default();
                let _ = write!(out, "\n--- {}:\n{text}", path.display());
            }
        }
        out
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The proxy's helpers and workers are in its process group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh directory that a proxy running as another user (Squid switches to `proxy`)
/// can write to.
fn fresh_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "wsc-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// The path of `program`, or a failure naming the package that has it.
fn program(program: &str, package: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not installed: these tests run the real proxy; install the \
                 Debian package `{package}` (apt-get install {package}, as scripts/setup does)"
            )
        })
}

/// Starts `argv` in `dir` and waits until something accepts TCP on `port`.
fn start(name: &'static str, argv: &[&str], dir: PathBuf, port: u16) -> Proxy {
    let log = |what: &str| fs::File::create(dir.join(format!("{name}.{what}.log"))).unwrap();
    let child = Command::new(argv[0])
        .args(&argv[1..])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log("stdout"))
        .stderr(log("stderr"))
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", argv.join(" ")));
    let mut proxy = Proxy { name, child, port, dir };
    let start = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return proxy;
        }
        if let Ok(Some(status)) = proxy.child.try_wait() {
            panic!("{name} exited ({status}) instead of listening on port {port}:{}", proxy.logs());
        }
        assert!(
            start.elapsed() < START,
            "{name} did not listen on port {port} within {} s:{}",
            START.as_secs(),
            proxy.logs()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether this process runs as root (the proxies then drop to unprivileged users).
fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Squid's access policy.
#[derive(Debug, Clone, Copy)]
pub enum SquidPolicy<'a> {
    /// The policy of the `squid.conf` Debian ships: CONNECT only to port 443, clients
    /// from localhost allowed.
    Stock,
    /// Everyone may CONNECT anywhere.
    Open,
    /// Basic authentication (`basic_ncsa_auth`) with this one user, then open.
    BasicAuth { user: &'a str, password: &'a str },
}

/// Squid 5 (`squid -N`: no daemon) on a free port with `policy`.
pub fn squid(policy: SquidPolicy<'_>) -> Proxy {
    let squid = program("squid", "squid");
    let dir = fresh_dir("squid");
    let port = free_port();
    let mut conf = String::new();
    match policy {
        SquidPolicy::Stock => {
            // The shipped file, less what would clash with other instances: its port,
            // its core dump directory and its includes.
            let stock = fs::read_to_string("/etc/squid/squid.conf")
                .expect("/etc/squid/squid.conf (from the squid package) must be readable");
            for line in stock.lines().map(str::trim) {
                let skip = ["http_port", "coredump_dir", "include"];
                if line.is_empty()
                    || line.starts_with('#')
                    || skip.iter().any(|s| line.starts_with(s))
                {
                    continue;
                }
                conf.push_str(line);
                conf.push('\n');
            }
            assert!(
                conf.contains("http_access deny CONNECT !SSL_ports"),
                "the stock squid.conf no longer limits CONNECT to SSL_ports:\n{conf}"
            );
        }
        SquidPolicy::Open => conf.push_str("http_access allow all\n"),
        SquidPolicy::BasicAuth { user, password } => {
            let hash = Command::new("openssl")
                .args(["passwd", "-apr1", password])
                .output()
                .expect("openssl (to hash the password for basic_ncsa_auth)");
            assert!(hash.status.success(), "openssl passwd failed: {hash:?}");
            let hash = String::from_utf8(hash.stdout).unwrap();
            let passwd = dir.join("passwd");
            fs::write(&passwd, format!("{user}:{}\n", hash.trim())).unwrap();
            fs::set_permissions(&passwd, fs::Permissions::from_mode(0o644)).unwrap();
            let helper = Path::new("/usr/lib/squid/basic_ncsa_auth");
            assert!(helper.exists(), "{} (from the squid package) is missing", helper.display());
            let _ = writeln!(
                conf,
                "auth_param basic program {} {}\n\
                 auth_param basic realm wsc test proxy\n\
                 acl authenticated proxy_auth REQUIRED\n\
                 http_access deny !authenticated\n\
                 http_access allow all",
                helper.display(),
                passwd.display()
            );
        }
    }
    let d = dir.display();
    let _ = write!(
        conf,
        "http_port 127.0.0.1:{port}\n\
         pid_filename {d}/squid.pid\n\
         access_log stdio:{d}/access.log\n\
         cache_log {d}/cache.log\n\
         cache deny all\n\
         coredump_dir {d}\n\
         netdb_filename none\n\
         pinger_enable off\n\
         shutdown_lifetime 0 seconds\n"
    );
    let conf_path = dir.join("squid.conf");
    fs::write(&conf_path, conf).unwrap();
    start("squid", &[squid.to_str().unwrap(), "-N", "-f", conf_path.to_str().unwrap()], dir, port)
}

/// nginx as a reverse proxy to `upstream`. With `forward_upgrade`, it passes the upgrade
/// (`proxy_http_version 1.1`, `Upgrade`, `Connection`) and cuts tunnels idle for
/// `read_timeout` seconds; without, it is nginx's default, which drops `Upgrade`.
pub fn nginx(upstream: SocketAddr, forward_upgrade: bool, read_timeout: u32) -> Proxy {
    let nginx = program("nginx", "nginx");
    let dir = fresh_dir("nginx");
    let port = free_port();
    let d = dir.display();
    let upgrade = if forward_upgrade {
        "proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      \
         proxy_set_header Connection \"upgrade\";"
    } else {
        ""
    };
    let user = if is_root() { "user nobody nogroup;\n" } else { "" };
    let conf = format!(
        "{user}daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log info;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  server {{\n    \
         listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://{upstream};\n      \
         {upgrade}\n      proxy_read_timeout {read_timeout}s;\n    }}\n  }}\n}}\n"
    );
    let conf_path = dir.join("nginx.conf");
    fs::write(&conf_path, conf).unwrap();
    let argv = [
        nginx.to_str().unwrap(),
        "-p",
        dir.to_str().unwrap(),
        "-c",
        conf_path.to_str().unwrap(),
        "-e",
        &format!("{d}/error.log"),
    ];
    start("nginx", &argv, dir.clone(), port)
}

/// microsocks, a SOCKS5 server, optionally with user name and password (RFC 1929).
pub fn microsocks(credentials: Option<(&str, &str)>) -> Proxy {
    let microsocks = program("microsocks", "microsocks");
    let dir = fresh_dir("microsocks");
    let port = free_port();
    let port_text = port.to_string();
    let mut argv = vec![microsocks.to_str().unwrap(), "-i", "127.0.0.1", "-p", &port_text];
    if let Some((user, password)) = credentials {
        argv.extend(["-u", user, "-P", password]);
    }
    start("microsocks", &argv, dir, port)
}

/// dante (`danted`), a SOCKS5 server whose rules refuse connections to `blocked` and
/// pass everything else.
pub fn dante(blocked: SocketAddr) -> Proxy {
    let danted = program("danted", "dante-server");
    let dir = fresh_dir("dante");
    let port = free_port();
    let d = dir.display();
    let users = if is_root() { "user.privileged: root\nuser.unprivileged: nobody\n" } else { "" };
    let conf = format!(
        "logoutput: {d}/danted.log\n\
         internal: 127.0.0.1 port = {port}\n\
         external: 127.0.0.1\n\
         clientmethod: none\n\
         socksmethod: none\n\
         {users}\
         client pass {{ from: 127.0.0.1/32 to: 0.0.0.0/0 }}\n\
         socks block {{ from: 0.0.0.0/0 to: {}/32 port = {} log: error connect }}\n\
         socks pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 }}\n",
        blocked.ip(),
        blocked.port()
    );
    let conf_path = dir.join("danted.conf");
    fs::write(&conf_path, conf).unwrap();
    let pid = dir.join("danted.pid");
    let argv = [
        danted.to_str().unwrap(),
        "-f",
        conf_path.to_str().unwrap(),
        "-p",
        pid.to_str().unwrap(),
        "-N",
        "1",
    ];
    start("dante", &argv, dir, port)
}
