//! A minimal SIP user agent for tests: writes requests as text, reads
//! replies, answers digest challenges with acdd's own hashing functions.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::Arc;

use std::time::{Duration, Instant};
use tokio_rustls::rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use acdd::sip::auth::digest::{Challenge, DigestAlgorithm, expected_response, ha1};

#[derive(Debug, Clone)]
pub struct Reply {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub raw: String,
}

impl Reply {
    pub fn parse(bytes: &[u8]) -> Option<Reply> {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        let head = raw.split("\r\n\r\n").next()?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?;
        let mut parts = status.splitn(3, ' ');
        if parts.next()? != "SIP/2.0" {
            return None;
        }
        let code = parts.next()?.parse().ok()?;
        let reason = parts.next().unwrap_or("").to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Reply {
            code,
            reason,
            headers,
            raw,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

enum Socket {
    Udp(UdpSocket),
    Tcp(TcpStream, Vec<u8>),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>, Vec<u8>),
}

pub struct SipClient {
    socket: Socket,
    pub server: SocketAddr,
    pub local: SocketAddr,
    serial: u32,
}

impl SipClient {
    pub fn udp(server: SocketAddr) -> SipClient {
        let bind = if server.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" };
        let socket = UdpSocket::bind(bind).expect("binding a UDP client");
        let local = socket.local_addr().unwrap();
        SipClient {
            socket: Socket::Udp(socket),
            server,
            local,
            serial: 0,
        }
    }

    pub fn tcp(server: SocketAddr) -> SipClient {
        let stream = TcpStream::connect(server).expect("connecting to acdd over TCP");
        let local = stream.local_addr().unwrap();
        SipClient {
            socket: Socket::Tcp(stream, Vec::new()),
            server,
            local,
            serial: 0,
        }
    }

    /// A TLS client trusting only the PEM certificate `ca`.
    pub fn tls(server: SocketAddr, ca: &Path) -> SipClient {
        use rustls_pki_types::pem::PemObject;
        let mut roots = RootCertStore::empty();
        for certificate in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(certificate.unwrap()).unwrap();
        }
        let config = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::IpAddress(server.ip().into());
        let connection = ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = TcpStream::connect(server).expect("connecting to acdd over TLS");
        let local = tcp.local_addr().unwrap();
        let mut stream = StreamOwned::new(connection, tcp);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .expect("TLS handshake with acdd");
        }
        SipClient {
            socket: Socket::Tls(Box::new(stream), Vec::new()),
            server,
            local,
            serial: 0,
        }
    }

    pub fn transport(&self) -> &'static str {
        match self.socket {
            Socket::Udp(_) => "UDP",
            Socket::Tcp(..) => "TCP",
            Socket::Tls(..) => "TLS",
        }
    }

    pub fn next(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    pub fn send(&mut self, bytes: &[u8]) {
        match &mut self.socket {
            Socket::Udp(socket) => {
                socket.send_to(bytes, self.server).expect("sending UDP");
            }
            Socket::Tcp(stream, _) => stream.write_all(bytes).expect("writing TCP"),
            Socket::Tls(stream, _) => {
                stream.write_all(bytes).expect("writing TLS");
                stream.flush().expect("flushing TLS");
            }
        }
    }

    /// The next message, or `None` after `timeout`.
    pub fn receive(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        match &mut self.socket {
            Socket::Udp(socket) => {
                socket.set_read_timeout(Some(timeout)).unwrap();
                let mut buffer = vec![0u8; 65536];
                let (n, _) = socket.recv_from(&mut buffer).ok()?;
                Some(buffer[..n].to_vec())
            }
            Socket::Tcp(stream, pending) => {
                let socket = stream.try_clone().unwrap();
                read_message(stream, &socket, pending, timeout)
            }
            Socket::Tls(stream, pending) => {
                let socket = stream.sock.try_clone().unwrap();
                read_message(stream.as_mut(), &socket, pending, timeout)
            }
        }
    }

    /// The next final reply (provisional ones are skipped).
    pub fn reply(&mut self, timeout: Duration) -> Option<Reply> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let reply = Reply::parse(&self.receive(left)?)?;
            if reply.code >= 200 {
                return Some(reply);
            }
        }
    }

    pub fn request(&mut self, text: &str) -> Option<Reply> {
        self.send(text.as_bytes());
        self.reply(Duration::from_secs(3))
    }

    /// A REGISTER for `user`; `contact` None means a query.
    pub fn register_text(
        &mut self,
        user: &str,
        contact: Option<&str>,
        expires: Option<u32>,
        authorization: Option<&str>,
        call_id: &str,
    ) -> String {
        let n = self.next();
        let mut text = format!(
            "REGISTER sip:{server} SIP/2.0\r\nVia: SIP/2.0/{transport} {local};branch=z9hG4bK-t{n}-{call_id}\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@{server}>;tag=f{n}\r\nTo: <sip:{user}@{server}>\r\nCall-ID: {call_id}\r\nCSeq: {n} REGISTER\r\n",
            server = self.server,
            transport = self.transport(),
            local = self.local
        );
        if let Some(contact) = contact {
            text.push_str(&format!("Contact: {contact}\r\n"));
        }
        if let Some(expires) = expires {
            text.push_str(&format!("Expires: {expires}\r\n"));
        }
        if let Some(authorization) = authorization {
            text.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        text
    }

    /// Sends one REGISTER and waits for its final reply.
    pub fn send_register(
        &mut self,
        user: &str,
        contact: Option<&str>,
        expires: Option<u32>,
        authorization: Option<&str>,
        call_id: &str,
    ) -> Option<Reply> {
        let text = self.register_text(user, contact, expires, authorization, call_id);
        self.request(&text)
    }

    /// REGISTER, answer the challenge for `algorithm`, return the final reply.
    pub fn register(
        &mut self,
        user: &str,
        password: &str,
        contact: Option<&str>,
        expires: Option<u32>,
        algorithm: DigestAlgorithm,
    ) -> Reply {
        let call_id = format!("reg-{user}-{}", self.local.port());
        let first = self.register_text(user, contact, expires, None, &call_id);
        let challenge = self.request(&first).expect("no answer to REGISTER");
        assert_eq!(challenge.code, 401, "expected a challenge: {}", challenge.raw);
        let authorization = authorize(
            &challenge,
            algorithm,
            "REGISTER",
            &format!("sip:{}", self.server),
            user,
            password,
            1,
        );
        let second = self.register_text(user, contact, expires, Some(&authorization), &call_id);
        self.request(&second).expect("no answer to the authenticated REGISTER")
    }
}

/// The challenge parameter `name` of the WWW-Authenticate offering `algorithm`.
pub fn challenge_param(reply: &Reply, algorithm: DigestAlgorithm, name: &str) -> Option<String> {
    let challenge = reply
        .all("www-authenticate")
        .into_iter()
        .find(|c| c.contains(&format!("algorithm={}", algorithm.name())))?;
    let start = challenge.find(&format!("{name}="))? + name.len() + 1;
    let rest = &challenge[start..];
    Some(match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?.to_string(),
        None => rest.split([',', ' ']).next()?.to_string(),
    })
}

/// An Authorization value answering `reply`'s challenge for `algorithm`.
pub fn authorize(
    reply: &Reply,
    algorithm: DigestAlgorithm,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    nc: u32,
) -> String {
    let nonce = challenge_param(reply, algorithm, "nonce").expect("no challenge for this algorithm");
    let realm = challenge_param(reply, algorithm, "realm").expect("no realm");
    let nc = format!("{nc:08x}");
    let cnonce = "0a4f113b";
    let ha1 = ha1(algorithm, user, &realm, password);
    let response = expected_response(
        algorithm,
        &ha1,
        &Challenge {
            method,
            uri,
            nonce: &nonce,
            qop_auth: Some((&nc, cnonce)),
        },
    );
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"{cnonce}\"",
        algorithm.name()
    )
}

/// One Content-Length framed message from a stream, or `None` after `timeout` or at its end.
fn read_message(
    stream: &mut impl Read,
    socket: &TcpStream,
    pending: &mut Vec<u8>,
    timeout: Duration,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if pending.len() >= end + 4 + length {
                return Some(pending.drain(..end + 4 + length).collect());
            }
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut chunk = [0u8; 16384];
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(_) => return None,
        }
    }
}
