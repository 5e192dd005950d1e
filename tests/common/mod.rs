//! Shared harness for integration tests: writes a configuration with free
//! loopback ports into a fresh directory, starts the real `acdd` binary,
//! waits until it answers, and kills it on drop. Also a tiny SIP client
//! (`sip_client.rs`), a headless baresip softphone (`baresip.rs`) and the
//! SIPp peers of the telephony tests (`sipp_calls.rs`).

#![allow(dead_code)]

pub mod baresip;
pub mod phone;
pub mod scrape;
pub mod sip_client;
pub mod sipp_calls;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A fresh directory removed on drop.
pub struct TestDir(pub PathBuf);

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!(
            "acdd-{name}-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a test directory");
        TestDir(dir)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The SIPp logs in `dir` whose names end with one of `suffixes` (e.g.
/// `_errors.log`), each after its name, for a failure message.
pub fn sipp_logs(dir: &Path, suffixes: &[&str]) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if suffixes.iter().any(|s| name.ends_with(s)) {
            let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
            text.push_str(&format!("--- {name}\n{body}\n"));
        }
    }
    text
}

/// A loopback port free for both UDP and TCP right now.
pub fn free_port(host: &str) -> u16 {
    // A probe's port is free again once the probe closes, so the kernel may
    // hand it out twice; never give one port to two callers of this process.
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    for _ in 0..50 {
        let tcp = TcpListener::bind((host, 0)).expect("binding a probe TCP socket");
        let port = tcp.local_addr().unwrap().port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) && UdpSocket::bind((host, port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    panic!("no free port on {host}");
}

/// `[sip]` line offering SHA-256 (preferred) and MD5; the default is MD5 alone.
pub const SHA256_AND_MD5: &str = "algorithms = [\"SHA-256\", \"MD5\"]\n";

/// What a test wants in the configuration besides the defaults.
#[derive(Clone, Default)]
pub struct Setup {
    /// Lines inside `[sip]`.
    pub sip: String,
    /// Whole extra tables at the end (e.g. `[[trunks]]`).
    pub extra: String,
    /// Listen on `[::1]` instead of 127.0.0.1.
    pub ipv6: bool,
    /// Also listen on TLS with this PEM certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Also serve HTTP (the API and `/metrics`) on loopback.
    pub http: bool,
    /// More lines inside `[storage]` (beside `sqlite`).
    pub storage: String,
    /// More lines inside `[listen]` (e.g. `rtp_ports`).
    pub listen: String,
    /// Run acdd with this open-files limit, soft and hard (`prlimit`).
    pub open_files: Option<u64>,
}

pub struct Acdd {
    child: Option<Child>,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    pub tls: Option<SocketAddr>,
    /// The HTTP address when `Setup::http`.
    pub http: Option<SocketAddr>,
    pub config: PathBuf,
    pub log: PathBuf,
    open_files: Option<u64>,
}

pub const OPERATORS: &str = r#"
[[operators]]
id = "alice"
extension = "101"
sip_username = "alice"
sip_password = "alice-secret"
api_token = "alice-operator-api-token"

[[operators]]
id = "bob"
extension = "102"
sip_username = "bob"
sip_password = "bob-secret"

[[queues]]
name = "support"
channels = ["phone"]
operators = ["alice", "bob"]

[[routes.phone]]
number = "+4930111111"
queue = "support"
"#;

impl Acdd {
    /// Writes the configuration into `dir` and starts acdd.
    pub fn start(dir: &Path, setup: &Setup) -> Acdd {
        let host = if setup.ipv6 { "::1" } else { "127.0.0.1" };
        let port = free_port(host);
        let address: SocketAddr = if setup.ipv6 {
            format!("[::1]:{port}").parse().unwrap()
        } else {
            format!("127.0.0.1:{port}").parse().unwrap()
        };
        let config = dir.join("acdd.toml");
        let (tls_listen, tls_files, tls) = match &setup.tls {
            Some((certificate, key)) => {
                let tls: SocketAddr = format!("127.0.0.1:{}", free_port("127.0.0.1")).parse().unwrap();
                (
                    format!("sip_tls = \"{tls}\"\n"),
                    format!(
                        "tls_certificate = \"{}\"\ntls_key = \"{}\"\n",
                        certificate.display(),
                        key.display()
                    ),
                    Some(tls),
                )
            }
            None => (String::new(), String::new(), None),
        };
        let http: Option<SocketAddr> = setup
            .http
            .then(|| format!("127.0.0.1:{}", free_port("127.0.0.1")).parse().unwrap());
        let tls_listen = match http {
            Some(http) => format!("{tls_listen}http = \"{http}\"\n"),
            None => tls_listen,
        };
        let tls_listen = format!("{tls_listen}{}", setup.listen);
        let text = format!(
            "[listen]\nsip_udp = \"{address}\"\nsip_tcp = \"{address}\"\n{tls_listen}\n[storage]\nsqlite = \"{}\"\n{}\n[sip]\n{tls_files}{}\n{OPERATORS}\n{}\n",
            dir.join("data/acdd.db").display(),
            setup.storage,
            setup.sip,
            setup.extra
        );
        std::fs::write(&config, text).expect("writing the configuration");
        let mut acdd = Acdd::run(config, address, setup.open_files);
        acdd.tls = tls;
        acdd.http = http;
        acdd
    }

    /// Starts acdd again on an existing configuration (after `stop`).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// `kill -9`, then start again on the same configuration and storage.
    pub fn kill_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.start_again();
    }

    fn start_again(&mut self) {
        let mut again = Acdd::run(self.config.clone(), self.udp, self.open_files);
        again.tls = self.tls;
        again.http = self.http;
        *self = again;
    }

    fn run(config: PathBuf, address: SocketAddr, open_files: Option<u64>) -> Acdd {
        let dir = config.parent().unwrap().to_path_buf();
        let log = dir.join(format!("acdd-{}.log", rand_ish()));
        let log_file = std::fs::File::create(&log).expect("creating the log file");
        let mut command = match open_files {
            Some(limit) => {
                let mut command = Command::new("prlimit");
                command.arg(format!("--nofile={limit}:{limit}")).arg("--");
                command.arg(env!("CARGO_BIN_EXE_acdd"));
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_acdd")),
        };
        let child = command
            .args(["run", "--config"])
            .arg(&config)
            .env("ACDD_LOG", "info,acdd::sip=debug,acdd::telephony=debug")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("starting acdd");
        let acdd = Acdd {
            child: Some(child),
            udp: address,
            tcp: address,
            tls: None,
            http: None,
            config,
            log,
            open_files,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if acdd.log_text().contains("acdd started") {
                return acdd;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("acdd did not start listening; log:\n{}", acdd.log_text());
    }

    pub fn log_text(&self) -> String {
        let raw = std::fs::read_to_string(&self.log).unwrap_or_default();
        strip_ansi(&raw)
    }

    /// Waits until the log holds a line containing every one of `needles`.
    pub fn wait_for_log(&self, needles: &[&str], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log_text().lines().any(|l| needles.iter().all(|n| l.contains(n))) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then wait for the exit (kill after 10 s).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Sends SIGHUP: acdd reloads its configuration.
    /// The daemon's process id (for /proc readings).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("acdd is running").id()
    }

    pub fn reload(&self) {
        let pid = self.child.as_ref().expect("acdd is running").id();
        let status = Command::new("kill").arg("-HUP").arg(pid.to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and returns at once (see `wait_exit`).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit by itself: its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// One HTTP request to acdd's API with a bearer token; the status and body.
    pub fn api(&self, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
        let (status, _, body) = self.api_bytes(method, path, token, body);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Like `api`, also the response's header lines, the body as bytes.
    pub fn api_bytes(&self, method: &str, path: &str, token: &str, body: &str) -> (u16, String, Vec<u8>) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(self.http.expect("HTTP is on")).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: acdd\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let split = response.windows(4).position(|w| w == b"\r\n\r\n");
        let head = String::from_utf8_lossy(&response[..split.unwrap_or(response.len())]).into_owned();
        let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        let body = split.map_or(Vec::new(), |at| response[at + 4..].to_vec());
        (status, head, body)
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }
}

impl Drop for Acdd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn rand_ish() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Fails with an install hint when a peer program is missing.
pub fn require_program(program: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{program}` is missing: install it with `apt-get install -y {package}` (scripts/test does this)"
    );
}
