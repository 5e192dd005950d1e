//! Test harness for the channel and API suite: writes a configuration with
//! free loopback ports into a temporary folder, runs the real `acdd` binary
//! against SQLite or PostgreSQL, waits until it answers, and kills it on drop.
//! Clients: reqwest for HTTP, a small server-sent-events reader, and Python's
//! `smtplib.LMTP` for mail.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ADMIN_TOKEN: &str = "admin-token-for-tests-01";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use; `scripts/services.d/postgres.sh` sets it up.
fn postgres_base() -> String {
    std::env::var("ACDD_TEST_POSTGRES").unwrap_or_else(|_| "postgres://acdd:acdd@127.0.0.1:5432".to_string())
}

fn psql(sql: &str) -> Result<(), String> {
    let output = Command::new("psql")
        .arg(format!("{}/acdd", postgres_base()))
        .args(["-v", "ON_ERROR_STOP=1", "-qtAc", sql])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Where a daemon keeps its data; outlives restarts of the daemon.
pub struct Storage {
    pub backend: Backend,
    dir: PathBuf,
    database: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Storage {
    pub fn new(backend: Backend) -> Storage {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros();
        let dir = std::env::temp_dir().join(format!("acdd-test-{}-{n}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = (backend == Backend::Postgres).then(|| {
            let name = format!("acdd_test_{}_{n}_{stamp}", std::process::id());
            if let Err(error) = psql(&format!("CREATE DATABASE {name}")) {
                panic!(
                    "PostgreSQL is needed for this test and is not usable at {}: {error}\n\
                     Run scripts/test, which installs the `postgresql` package and starts \
                     scripts/services.d/postgres.sh (or set ACDD_TEST_POSTGRES).",
                    postgres_base()
                );
            }
            name
        });
        Storage { backend, dir, database }
    }

    fn toml(&self) -> String {
        let event_log = format!("event_log = \"{}\"\n", self.dir.join("events.jsonl").display());
        match &self.database {
            Some(name) => format!("[storage]\npostgres = \"{}/{name}\"\n{event_log}", postgres_base()),
            None => format!(
                "[storage]\nsqlite = \"{}\"\n{event_log}",
                self.dir.join("acdd.db").display()
            ),
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(name) = &self.database {
            let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Two distinct free ports (HTTP, LMTP): both probes stay bound until both
/// are chosen, or the kernel may hand the same port out twice.
fn free_ports() -> (SocketAddr, SocketAddr) {
    let probe = || TcpListener::bind("127.0.0.1:0").unwrap();
    let (first, second) = (probe(), probe());
    (first.local_addr().unwrap(), second.local_addr().unwrap())
}

/// An operator section with the token `token_of(name)`.
pub fn operator(name: &str) -> String {
    format!("[[operators]]\nid = \"{name}\"\napi_token = \"{}\"\n", token_of(name))
}

pub fn token_of(name: &str) -> String {
    format!("{name}-token-for-tests-0001")
}

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    pub storage: Storage,
    config_path: PathBuf,
    pub http: SocketAddr,
    pub lmtp: SocketAddr,
    pub client: reqwest::Client,
}

impl Daemon {
    /// Starts acdd with `body` (operators, queues, routes …) added to the
    /// listen, storage and admin sections the harness writes.
    pub async fn start(backend: Backend, body: &str) -> Daemon {
        let storage = Storage::new(backend);
        let (http, lmtp) = free_ports();
        let config = format!(
            "[listen]\nhttp = \"{http}\"\nlmtp = \"{lmtp}\"\n\n{}\n[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n\
             [limits]\nhttp_body_bytes = 16384\nmail_bytes = 16384\n\n{body}",
            storage.toml()
        );
        let config_path = storage.dir.join("acdd.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut daemon = Daemon {
            child: None,
            storage,
            config_path,
            http,
            lmtp,
            client: reqwest::Client::new(),
        };
        daemon.launch().await;
        daemon
    }

    async fn launch(&mut self) {
        let log = std::fs::File::create(self.storage.dir.join("acdd.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_acdd"))
            .args(["run", "--config"])
            .arg(&self.config_path)
            .env("ACDD_LOG", "info,acdd=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting acdd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("acdd exited with {status} before it was ready:\n{}", self.log());
            }
            if let Ok(response) = self.client.get(self.url("/api/v1/health")).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "acdd was not ready within 20 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`, then start again on the same configuration and storage.
    pub async fn kill_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        self.launch().await;
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.storage.dir.join("acdd.log")).unwrap_or_default()
    }

    /// Replaces the configuration file (for reload tests).
    pub fn rewrite_config(&self, edit: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.config_path).unwrap();
        std::fs::write(&self.config_path, edit(text)).unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// Posts a customer chat message to the webhook; returns status and body.
    pub async fn chat(&self, source: &str, message: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/chat/{source}/messages")))
            .json(&message)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A chat message that must be accepted; returns the receipt.
    pub async fn chat_ok(&self, user: &str, text: &str) -> Value {
        let (status, body) = self
            .chat(
                "livechat",
                serde_json::json!({ "user_id": user, "name": user, "text": text }),
            )
            .await;
        assert_eq!(status, 202, "chat webhook refused: {body}\n{}", self.log());
        body
    }

    /// Posts a form with the given content type.
    pub async fn form(&self, form: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/forms/{form}")))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// The customer card for a phone number, e-mail or chat id (`kind=value`).
    pub async fn customer(&self, kind: &str, value: &str) -> Value {
        let query: String = url_escape(value);
        self.admin_get(&format!("/api/v1/customers?{kind}={query}")).await
    }

    /// Open requests as the admin API lists them.
    pub async fn open_requests(&self) -> Vec<Value> {
        self.admin_get("/api/v1/requests").await["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The operator the engine assigned this request to (`request` as the
    /// receipt gave it), waiting for the assignment up to 5 s.
    pub async fn holder_of(&self, request: &Value) -> String {
        eventually(Duration::from_secs(5), || async {
            self.open_requests()
                .await
                .into_iter()
                .find(|r| r["request"] == *request)
                .and_then(|r| r["operator"].as_str().map(str::to_string))
        })
        .await
    }

    pub fn operator(&self, name: &str) -> Operator {
        Operator {
            name: name.to_string(),
            token: token_of(name),
            base: format!("http://{}", self.http),
            client: self.client.clone(),
        }
    }

    /// Sends one mail over LMTP with Python's smtplib; returns every reply
    /// code in order: LHLO, MAIL, each RCPT, then DATA's and one per recipient.
    pub fn lmtp(&self, from: &str, recipients: &[&str], message: &str) -> Vec<u16> {
        lmtp_exchange(self.lmtp, from, recipients, message)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const LMTP_CLIENT: &str = r#"
import json, smtplib, sys
port, sender, recipients = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
message = sys.stdin.read().replace("\r\n", "\n").replace("\n", "\r\n")
codes = []
client = smtplib.LMTP("127.0.0.1", port)
codes.append(client.ehlo("test.example")[0])
codes.append(client.mail(sender)[0])
accepted = 0
for rcpt in recipients:
    code = client.rcpt(rcpt)[0]
    codes.append(code)
    accepted += code == 250
if codes[1] == 250 and accepted:
    codes.append(client.docmd("DATA")[0])
    data = smtplib.quotedata(message)
    if not data.endswith("\r\n"):
        data += "\r\n"
    client.send((data + ".\r\n").encode("utf-8"))
    for _ in range(accepted):
        codes.append(client.getreply()[0])
client.quit()
print(json.dumps(codes))
"#;

fn lmtp_exchange(address: SocketAddr, from: &str, recipients: &[&str], message: &str) -> Vec<u16> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", LMTP_CLIENT])
        .arg(address.port().to_string())
        .arg(from)
        .arg(recipients.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the LMTP tests (Debian package python3)");
    child.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "LMTP client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("LMTP client output")
}

/// An operator's side of the API.
pub struct Operator {
    pub name: String,
    pub token: String,
    base: String,
    client: reqwest::Client,
}

impl Operator {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Online with a started workday: available for every channel.
    pub async fn go_online(&self) {
        let (status, body) = self
            .post(
                "/api/v1/operators/me/status",
                serde_json::json!({ "presence": "online", "workday": "start" }),
            )
            .await;
        assert_eq!(status, 200, "status change refused: {body}");
    }

    pub async fn status(&self, change: Value) -> (u16, Value) {
        self.post("/api/v1/operators/me/status", change).await
    }

    pub async fn accept(&self, offer: u64) -> (u16, Value) {
        self.post(&format!("/api/v1/offers/{offer}/accept"), Value::Null).await
    }

    pub async fn decline(&self, offer: u64) -> (u16, Value) {
        self.post(&format!("/api/v1/offers/{offer}/decline"), Value::Null).await
    }

    pub async fn reply(&self, conversation: i64, text: &str) -> (u16, Value) {
        self.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            serde_json::json!({ "text": text }),
        )
        .await
    }

    pub async fn close(&self, conversation: i64) -> (u16, Value) {
        self.post(&format!("/api/v1/conversations/{conversation}/close"), Value::Null)
            .await
    }

    pub async fn transfer(&self, conversation: i64, target: Value) -> (u16, Value) {
        self.post(&format!("/api/v1/conversations/{conversation}/transfer"), target)
            .await
    }

    /// Connects the live event stream and waits for its `ready`.
    pub async fn events(&self) -> Events {
        let response = self
            .client
            .get(format!("{}/api/v1/operators/me/events", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "event stream refused");
        let mut events = Events {
            response,
            buffer: String::new(),
        };
        let (kind, _) = events.next(Duration::from_secs(5)).await.expect("no ready event");
        assert_eq!(kind, "ready");
        events
    }
}

/// A server-sent-events reader over a live HTTP response.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event (name, data), or `None` if none comes within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                return Some((name, serde_json::from_str(&data).unwrap_or(Value::String(data))));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?;
            match chunk.expect("event stream broke") {
                Some(bytes) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    }

    /// The next event named `kind`, skipping others; panics if none comes in `wait`.
    pub async fn expect(&mut self, kind: &str, wait: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some((name, data)) if name == kind => return data,
                Some(_) => continue,
                None => panic!("no {kind} event within {wait:?}"),
            }
        }
    }

    /// Asserts that no event named `kind` comes within `wait`.
    /// No offer comes while `offer` (another operator's) is open: waits
    /// until just before its deadline, however late `offer` was received.
    pub async fn expect_no_offer_while_open(&mut self, offer: &serde_json::Value) {
        let deadline = offer["deadline"].as_u64().expect("an offer has a deadline");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let open = Duration::from_millis(deadline.saturating_sub(now).saturating_sub(100));
        self.expect_no("offer", open).await;
    }

    pub async fn expect_no(&mut self, kind: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some((name, data)) if name == kind => panic!("unexpected {kind} event: {data}"),
                Some(_) => continue,
                None => return,
            }
        }
    }
}

/// Retries `check` until it returns `Some` or `wait` is over.
pub async fn eventually<T, F, Fut>(wait: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + wait;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "condition not met within {wait:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Defines `NAME::sqlite` and `NAME::postgres`, both running `scenario(backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $scenario:ident;)*) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$scenario($crate::harness::Backend::Sqlite).await;
                }
                #[tokio::test]
                async fn postgres() {
                    super::$scenario($crate::harness::Backend::Postgres).await;
                }
            }
        )*
    };
}
