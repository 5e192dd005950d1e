//! RTP relay throughput: packets per second through `MediaSession`s, as a
//! ratio against a plain UDP forwarder (recv_from → send_to, no parsing)
//! measured in the same run with the same load generator. The relay (acdd's
//! session tasks, or the reference forwarders) runs alone on one thread with
//! a current-thread tokio runtime, the load generator on another; the relay
//! thread's CPU time (from /proc, nanoseconds) gives the cost per packet.
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
/// A flow whose window has not moved for this long counts as stalled (its
/// packets taken as lost) and gets its window back. Long enough that a
/// thread descheduled on a busy machine does not look like loss.
const STALL: Duration = Duration::from_millis(300);
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

/// What one run measured (during `measure`, after the warm-up).
#[derive(Default)]
struct Run {
    rate: f64,
    sent: u64,
    received: u64,
    /// Windows the generator reopened after `STALL` without progress.
    stalls: u64,
    /// Relay thread CPU time.
    cpu_ns: u64,
    /// acdd only: packets its counters say it could not send or refused.
    dropped: u64,
}

/// Drives the flows for `warmup + measure`.
async fn drive(relay: &Relay, flows: Vec<Flow>, warmup: Duration, measure: Duration) -> Run {
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
                match tokio::time::timeout(STALL, window_tx.acquire()).await {
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
    let cpu_start = relay.cpu_ns();
    tokio::time::sleep(measure).await;
    let cpu_ns = relay.cpu_ns() - cpu_start;
    let elapsed = started.elapsed().as_secs_f64();
    let received = counts.received.load(Ordering::Relaxed) - start_rx;
    let sent = counts.sent.load(Ordering::Relaxed) - start_tx;
    let stalls = counts.stalls.load(Ordering::Relaxed) - start_stalls;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    Run {
        rate: received as f64 / elapsed,
        sent,
        received,
        stalls,
        cpu_ns,
        dropped: 0,
    }
}

async fn bind() -> Arc<UdpSocket> {
    Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap())
}

fn sdp(port: u16) -> Vec<u8> {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
        .into_bytes()
}

/// The relay's own thread and runtime.
struct Relay {
    handle: tokio::runtime::Handle,
    tid: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn start() -> Relay {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            // "/proc/thread-self" links to "PID/task/TID".
            let link = std::fs::read_link("/proc/thread-self").unwrap();
            let tid = link.file_name().unwrap().to_string_lossy().into_owned();
            tx.send((runtime.handle().clone(), tid, stop)).unwrap();
            runtime.block_on(async {
                let _ = stopped.await;
            });
        });
        let (handle, tid, stop) = rx.recv().unwrap();
        Relay {
            handle,
            tid,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// CPU time the relay thread has used, in nanoseconds.
    fn cpu_ns(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{}/schedstat", self.tid)).unwrap_or_default();
        stat.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `sessions` bridged calls through acdd (session tasks on the relay
/// thread); returns the flows and the sessions.
async fn acdd_calls(relay: &Relay, service: &MediaService, sessions: usize) -> (Vec<Flow>, Vec<MediaSession>) {
    let mut flows = Vec::new();
    let mut held = Vec::new();
    for _ in 0..sessions {
        let (caller, operator) = (bind().await, bind().await);
        let mut session = {
            let _relay_runtime = relay.handle.enter();
            service.session()
        };
        let a = session.add_leg().unwrap();
        session
            .set_remote(a, &sdp(caller.local_addr().unwrap().port()))
            .unwrap();
        session.local_sdp(a).unwrap();
        let b = session.add_leg().unwrap();
        session.local_sdp(b).unwrap();
        session
            .set_remote(b, &sdp(operator.local_addr().unwrap().port()))
            .unwrap();
        session.bridge(a, b).unwrap();
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

/// The reference: per call, one task on the relay thread forwarding between
/// two sockets with no parsing, no rewriting, fixed destinations.
async fn reference_calls(relay: &Relay, sessions: usize) -> (Vec<Flow>, Vec<tokio::task::JoinHandle<()>>) {
    let mut flows = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let (caller, operator) = (bind().await, bind().await);
        let side = || {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            socket
        };
        let (side_a, side_b) = (side(), side());
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
        tasks.push(relay.handle.spawn(async move {
            let side_a = UdpSocket::from_std(side_a).unwrap();
            let side_b = UdpSocket::from_std(side_b).unwrap();
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
    let generator = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let relay = Relay::start();
    generator.block_on(async {
        let ip = "127.0.0.1".parse().unwrap();
        let service = MediaService::new(MediaConfig {
            bind: ip,
            advertise: ip,
            rtp_ports: [43000, 43999],
        })
        .unwrap();
        let warmup = Duration::from_millis(if smoke { 50 } else { 300 });
        let measure = Duration::from_secs_f64(seconds);
        println!(
            "RTP relay on one thread, load generator on another; 2 flows per session, window {WINDOW}, \
             {seconds} s x {rounds} round(s), median by packets/s"
        );
        println!(
            "{:>8} {:>10} {:>10} {:>6} | {:>9} {:>9} {:>6} | {:>8} {:>8} | {:>7} {:>7} | {:>9}",
            "sessions",
            "ref pkt/s",
            "acdd pkt/s",
            "ratio",
            "ref ns/p",
            "acdd ns/p",
            "ratio",
            "ref loss",
            "acdd loss",
            "ref st",
            "acdd st",
            "acdd drop"
        );
        for &n in &sessions {
            let (mut reference, mut acdd) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                let (flows, tasks) = reference_calls(&relay, n).await;
                reference.push(drive(&relay, flows, warmup, measure).await);
                for task in tasks {
                    task.abort();
                }
                let (flows, held) = acdd_calls(&relay, &service, n).await;
                let run = drive(&relay, flows, warmup, measure).await;
                let relayed: u64 = held.iter().map(|s| s.totals().relayed).sum();
                assert!(
                    relayed >= run.received,
                    "counters: relayed {relayed} < received {}",
                    run.received
                );
                acdd.push(run);
                for session in held {
                    session.stop().await;
                }
            }
            let median = |runs: &mut Vec<Run>| {
                runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
                let middle = runs.len() / 2;
                std::mem::take(&mut runs[middle])
            };
            let (r, a) = (median(&mut reference), median(&mut acdd));
            assert!(a.received > 0 && r.received > 0, "no packets went through");
            let ns = |run: &Run| run.cpu_ns as f64 / run.received as f64;
            // Loss: sent but not received in the window (packets in flight
            // at the window's edges count too: at most WINDOW per flow).
            let loss = |run: &Run| 100.0 * run.sent.saturating_sub(run.received) as f64 / run.sent.max(1) as f64;
            println!(
                "{n:>8} {:>10.0} {:>10.0} {:>6.2} | {:>9.0} {:>9.0} {:>6.2} | {:>7.2}% {:>7.2}% | {:>7} {:>7} | {:>9}",
                r.rate,
                a.rate,
                a.rate / r.rate,
                ns(&r),
                ns(&a),
                ns(&a) / ns(&r),
                loss(&r),
                loss(&a),
                r.stalls,
                a.stalls,
                a.dropped
            );
        }
    });
}
