//! A malformed-message flood against the running daemon: thousands of mutated
//! INVITEs and REGISTERs (and the RFC 4475 messages, mutated) over UDP and
//! TCP. A separate client keeps asking OPTIONS throughout and must always get
//! its 200; the daemon's resident memory stays within a bound; it is alive
//! and well afterwards.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use common::{Acdd, Setup, TestDir};

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds(server: SocketAddr) -> Vec<Vec<u8>> {
    let invite = format!(
        "INVITE sip:+4930111111@{server} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-flood\r\n\
         Max-Forwards: 70\r\nFrom: <sip:caller@127.0.0.1>;tag=f1\r\nTo: <sip:+4930111111@{server}>\r\n\
         Call-ID: flood@test\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:5999>\r\n\
         Content-Type: application/sdp\r\nContent-Length: 48\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    );
    let register = format!(
        "REGISTER sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-reg\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@{server}>;tag=r1\r\nTo: <sip:alice@{server}>\r\nCall-ID: reg@test\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:alice@127.0.0.1:5999>\r\nAuthorization: Digest username=\"alice\", realm=\"acdd\", \
         nonce=\"abc\", uri=\"sip:{server}\", response=\"0123456789abcdef0123456789abcdef\", qop=auth, nc=00000001, cnonce=\"x\"\r\n\
         Expires: 60\r\nContent-Length: 0\r\n\r\n"
    );
    let mut seeds = vec![invite.into_bytes(), register.into_bytes()];
    let torture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sip-torture");
    for entry in std::fs::read_dir(torture).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dat") {
            seeds.push(std::fs::read(path).unwrap());
        }
    }
    seeds
}

/// One mutation of a seed: flipped bytes, cut short, a header repeated, a
/// huge value, CRLFs removed, or random bytes spliced in.
fn mutate(seed: &[u8], random: &mut Random) -> Vec<u8> {
    let mut message = seed.to_vec();
    for _ in 0..=random.below(3) {
        let at = random.below(message.len());
        match random.below(7) {
            0 => message[at] = random.next() as u8,
            1 => message.truncate(at.max(1)),
            2 => {
                let line_end = message[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(message.len(), |p| at + p + 1);
                let line_start = message[..at].iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                let line = message[line_start..line_end].to_vec();
                for _ in 0..random.below(20) {
                    message.splice(line_end..line_end, line.iter().copied());
                }
            }
            3 => message
                .splice(at..at, std::iter::repeat_n(b'A', random.below(70_000)))
                .for_each(drop),
            4 => message.retain(|b| *b != b'\r'),
            5 => {
                let junk: Vec<u8> = (0..random.below(64)).map(|_| random.next() as u8).collect();
                message.splice(at..at, junk).for_each(drop);
            }
            _ => message.splice(at..at, *b": ;<>\"%00\r\n\r\n").for_each(drop),
        }
        if message.is_empty() {
            message.push(b'X');
        }
    }
    message
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// OPTIONS from another loopback address (the flood's source may be throttled).
fn options_answered(server: SocketAddr, n: u32) -> bool {
    let socket = UdpSocket::bind("127.0.0.3:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let local = socket.local_addr().unwrap();
    let request = format!(
        "OPTIONS sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-check{n}\r\nMax-Forwards: 70\r\n\
         From: <sip:check@{local}>;tag=c{n}\r\nTo: <sip:{server}>\r\nCall-ID: check{n}@test\r\nCSeq: {n} OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    for _ in 0..4 {
        socket.send_to(request.as_bytes(), server).unwrap();
        let mut buffer = [0u8; 4096];
        if let Ok(n) = socket.recv(&mut buffer) {
            return buffer[..n].starts_with(b"SIP/2.0 200");
        }
    }
    false
}

fn flood(server: SocketAddr, seeds: &[Vec<u8>], random: &mut Random, count: u32, checks: &mut u32) {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut tcp: Option<TcpStream> = None;
    for i in 0..count {
        let message = mutate(&seeds[random.below(seeds.len())], random);
        if i % 4 == 3 {
            // Over TCP, on one connection until acdd closes it, then a new one.
            let stream = tcp.get_or_insert_with(|| TcpStream::connect(server).unwrap());
            if stream.write_all(&message).is_err() {
                tcp = None;
            }
        } else {
            let _ = udp.send_to(&message[..message.len().min(65_000)], server);
        }
        if i % 250 == 0 {
            *checks += 1;
            assert!(
                options_answered(server, *checks),
                "OPTIONS not answered after {i} flood messages"
            );
        }
    }
}

#[test]
fn malformed_flood_keeps_valid_requests_answered_and_memory_bounded() {
    let dir = TestDir::new("flood");
    // Let every message through the per-source guard so the parser sees them all.
    let setup = Setup {
        sip: "requests_per_second_per_source = 1000000\n".into(),
        ..Setup::default()
    };
    let mut acdd = Acdd::start(&dir.0, &setup);
    let server = acdd.udp;
    let seeds = seeds(server);
    let mut random = Random(0x5eed_acdd);
    let mut checks = 0;
    flood(server, &seeds, &mut random, 2_000, &mut checks);
    let warm = resident_kib(acdd.pid());
    flood(server, &seeds, &mut random, 8_000, &mut checks);
    let after = resident_kib(acdd.pid());
    println!("resident memory: {warm} KiB after 2,000 messages, {after} KiB after 10,000 ({checks} OPTIONS checks)");
    assert!(after < warm + 16 * 1024, "memory grew from {warm} KiB to {after} KiB");
    assert!(acdd.alive(), "acdd survived the flood");
    assert!(options_answered(server, 9_999));
}
