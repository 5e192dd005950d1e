//! RTP relay throughput: packets per second through `MediaSession`s, as a
//! ratio against a plain UDP forwarder (recv_from → send_to, no parsing)
//! measured in the same run on the same runtime and load generator.
//!
//! Each session carries two flows (caller → operator and back) of 172-byte
//! RTP packets (160 bytes of G.711). The load is closed-loop: a flow keeps at
//! most `WINDOW` packets in flight, so the figure is what the relay sustains,
//! not how fast the kernel drops. Loopback only, bounded in time.
//!
//! `cargo bench --bench media_relay` (options: `--seconds N`, `--sessions N,M`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use acdd::media::{MediaConfig, MediaService, MediaSession};
use rtp_rs::{RtpPacketBuilder, Seq};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;

const WINDOW: usize = 16;
const ROUNDS: usize = 3;

struct Flow {
    from: Arc<UdpSocket>,
    to: Arc<UdpSocket>,
    via: SocketAddr,
}

struct Counts {
    sent: AtomicU64,
    received: AtomicU64,
    stalls: AtomicU64,
}

/// Drives the flows for `warmup + measure`; returns packets received per
/// second during `measure`, and the stalls (windows lost to drops).
async fn drive(flows: Vec<Flow>, warmup: Duration, measure: Duration) -> (f64, u64, u64, u64) {
    let counts = Arc::new(Counts {
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
        stalls: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (n, flow) in flows.into_iter().enumerate() {
        let window = Arc::new(Semaphore::new(WINDOW));
        let (counts_tx, stop_tx, window_tx) = (counts.clone(), stop.clone(), window.clone());
        tasks.push(tokio::spawn(async move {
            let payload = [0xD5u8; 160];
            let mut packet = RtpPacketBuilder::new()
                .payload_type(0)
                .ssrc(n as u32 + 1)
                .sequence(Seq::from(0))
                .timestamp(0)
                .payload(&payload)
                .build()
                .unwrap();
            let mut seq = 0u16;
            while !stop_tx.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(50), window_tx.acquire()).await {
                    Ok(Ok(permit)) => permit.forget(),
                    Ok(Err(_)) => break,
                    Err(_) => {
                        // Packets were dropped: open the window again.
                        counts_tx.stalls.fetch_add(1, Ordering::Relaxed);
                        window_tx.add_permits(WINDOW.saturating_sub(window_tx.available_permits()));
                        continue;
                    }
                }
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                packet[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                if flow.from.send_to(&packet, flow.via).await.is_ok() {
                    counts_tx.sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
        let (counts_rx, stop_rx) = (counts.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while !stop_rx.load(Ordering::Relaxed) {
                if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(50), flow.to.recv_from(&mut buf)).await {
                    counts_rx.received.fetch_add(1, Ordering::Relaxed);
                    if window.available_permits() < WINDOW {
                        window.add_permits(1);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(warmup).await;
    let (start_rx, start_tx, start_stalls) = (
        counts.received.load(Ordering::Relaxed),
        counts.sent.load(Ordering::Relaxed),
        counts.stalls.load(Ordering::Relaxed),
    );
    let started = Instant::now();
    tokio::time::sleep(measure).await;
    let elapsed = started.elapsed().as_secs_f64();
    let received = counts.received.load(Ordering::Relaxed) - start_rx;
    let sent = counts.sent.load(Ordering::Relaxed) - start_tx;
    let stalls = counts.stalls.load(Ordering::Relaxed) - start_stalls;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    (received as f64 / elapsed, sent, received, stalls)
}

async fn bind() -> Arc<UdpSocket> {
    Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap())
}

fn sdp(port: u16) -> Vec<u8> {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
        .into_bytes()
}

/// `sessions` bridged calls through acdd; returns the flows and the sessions.
async fn acdd_calls(service: &MediaService, sessions: usize) -> (Vec<Flow>, Vec<MediaSession>) {
    let mut flows = Vec::new();
    let mut held = Vec::new();
    for _ in 0..sessions {
        let (caller, operator) = (bind().await, bind().await);
        let mut session = service.session();
        let a = session.add_leg().unwrap();
        session
            .set_remote(a, &sdp(caller.local_addr().unwrap().port()))
            .unwrap();
        let answer = session.local_sdp(a).unwrap();
        let b = session.add_leg().unwrap();
        session.local_sdp(b).unwrap();
        session
            .set_remote(b, &sdp(operator.local_addr().unwrap().port()))
            .unwrap();
        session.bridge(a, b).unwrap();
        let _ = answer;
        let ip = service.config().advertise;
        let via_a = SocketAddr::new(ip, session.local_port(a).unwrap());
        let via_b = SocketAddr::new(ip, session.local_port(b).unwrap());
        flows.push(Flow {
            from: caller.clone(),
            to: operator.clone(),
            via: via_a,
        });
        flows.push(Flow {
            from: operator,
            to: caller,
            via: via_b,
        });
        held.push(session);
    }
    (flows, held)
}

/// The reference: per call, one task forwarding between two sockets with
/// no parsing, no rewriting, fixed destinations.
async fn reference_calls(sessions: usize) -> (Vec<Flow>, Vec<tokio::task::JoinHandle<()>>) {
    let mut flows = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let (caller, operator) = (bind().await, bind().await);
        let (side_a, side_b) = (bind().await, bind().await);
        let (to_caller, to_operator) = (caller.local_addr().unwrap(), operator.local_addr().unwrap());
        flows.push(Flow {
            from: caller.clone(),
            to: operator.clone(),
            via: side_a.local_addr().unwrap(),
        });
        flows.push(Flow {
            from: operator,
            to: caller,
            via: side_b.local_addr().unwrap(),
        });
        tasks.push(tokio::spawn(async move {
            let (mut buf_a, mut buf_b) = ([0u8; 2048], [0u8; 2048]);
            loop {
                tokio::select! {
                    Ok((n, _)) = side_a.recv_from(&mut buf_a) => { let _ = side_b.try_send_to(&buf_a[..n], to_operator); }
                    Ok((n, _)) = side_b.recv_from(&mut buf_b) => { let _ = side_a.try_send_to(&buf_b[..n], to_caller); }
                }
            }
        }));
    }
    (flows, tasks)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `cargo test --all-targets` runs this binary without `--bench`: a short
    // smoke run then, so the test command stays quick.
    let smoke = !args.iter().any(|a| a == "--bench");
    let seconds: f64 = option("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 0.2 } else { 2.0 });
    let sessions: Vec<usize> = option("--sessions")
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| if smoke { vec![2] } else { vec![1, 50] });
    let rounds = if smoke { 1 } else { ROUNDS };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ip = "127.0.0.1".parse().unwrap();
        let service = MediaService::new(MediaConfig {
            bind: ip,
            advertise: ip,
            rtp_ports: [43000, 43999],
        })
        .unwrap();
        let warmup = Duration::from_millis(if smoke { 50 } else { 300 });
        let measure = Duration::from_secs_f64(seconds);
        println!("RTP relay, packets/s received at the far leg (2 flows per session, window {WINDOW}, {seconds} s × {rounds} rounds, median)");
        println!(
            "{:>8} {:>12} {:>12} {:>6} {:>11} {:>11} {:>9} {:>9}",
            "sessions", "reference", "acdd", "ratio", "ref stalls", "acdd stalls", "ref loss", "acdd loss"
        );
        for &n in &sessions {
            let mut reference = Vec::new();
            let mut acdd = Vec::new();
            let (mut ref_stalls, mut acdd_stalls) = (0, 0);
            let (mut ref_sent, mut ref_received, mut acdd_sent, mut acdd_received) = (0, 0, 0, 0);
            for _ in 0..rounds {
                let (flows, tasks) = reference_calls(n).await;
                let (rate, sent, received, stalls) = drive(flows, warmup, measure).await;
                reference.push(rate);
                ref_stalls += stalls;
                ref_sent += sent;
                ref_received += received;
                for task in tasks {
                    task.abort();
                }
                let (flows, held) = acdd_calls(&service, n).await;
                let (rate, sent, received, stalls) = drive(flows, warmup, measure).await;
                acdd.push(rate);
                acdd_stalls += stalls;
                acdd_sent += sent;
                acdd_received += received;
                let relayed: u64 = held.iter().map(|s| s.totals().relayed).sum();
                assert!(relayed >= received, "counters: relayed {relayed} < received {received} (sent {sent})");
                for session in held {
                    session.stop().await;
                }
            }
            let median = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            };
            let (r, a) = (median(&mut reference), median(&mut acdd));
            assert!(a > 0.0 && r > 0.0, "no packets went through");
            // Loss: sent but not received in the window (packets in flight
            // at the window's edges count too: at most WINDOW per flow).
            let loss = |sent: u64, received: u64| 100.0 * sent.saturating_sub(received) as f64 / sent.max(1) as f64;
            println!(
                "{n:>8} {r:>12.0} {a:>12.0} {:>6.2} {ref_stalls:>11} {acdd_stalls:>11} {:>8.2}% {:>8.2}%",
                a / r,
                loss(ref_sent, ref_received),
                loss(acdd_sent, acdd_received)
            );
        }
    });
}
