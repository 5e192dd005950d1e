//! The media layer with SIPp's RTP (package `sip-tester`, installed by
//! scripts/test): a SIPp caller streams G.711 audio with `rtp_stream` into a
//! `MediaSession`'s caller leg, acdd relays it to the operator leg whose
//! remote is a second SIPp running `-rtp_echo`, and the echo comes back
//! through acdd to the caller. SIP here is only between the two SIPp
//! processes (acdd's SIP layer is not under test); this test plays the
//! telephony layer by hand. Both SIPp processes are bounded by `-timeout`
//! and killed at the end. Loopback only.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acdd::media::{G711, MediaConfig, MediaService, Prompt};

const UAS_SIP_PORT: u16 = 45060;
const UAC_SIP_PORT: u16 = 45061;
const ECHO_PORT: u16 = 45100;
const UAC_MEDIA_PORT: u16 = 45200;

fn sdp(port: u16) -> Vec<u8> {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
        .into_bytes()
}

fn scenario(name: &str) -> String {
    format!("{}/tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn sipp(dir: &Path, args: &[&str]) -> Child {
    Command::new("sipp")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipp (package sip-tester) must be installed: scripts/test installs it")
}

/// Kills the child when the test ends, pass or fail.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_rtp_stream_is_relayed_to_an_echoing_operator_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let ip = "127.0.0.1".parse().unwrap();
    let service = MediaService::new(MediaConfig {
        bind: ip,
        advertise: ip,
        rtp_ports: [42100, 42109],
    })
    .unwrap();
    let mut session = service.session();
    let caller = session.add_leg().unwrap();
    // The caller's SDP names its media port; SIPp streams from another port,
    // which acdd latches onto.
    session.set_remote(caller, &sdp(UAC_MEDIA_PORT)).unwrap();
    session.local_sdp(caller).unwrap();
    let caller_port = session.local_port(caller).unwrap();
    let operator = session.add_leg().unwrap();
    session.local_sdp(operator).unwrap();
    session.set_remote(operator, &sdp(ECHO_PORT)).unwrap();
    session.bridge(caller, operator).unwrap();

    // One second of a 400 Hz tone, µ-law: 50 packets of 20 ms.
    let tone: Vec<i16> = (0..8000)
        .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * 400.0 / 8000.0).sin() * 8000.0) as i16)
        .collect();
    // SIPp 3.6.1's rtp_stream sends a file's bytes as they are, a WAV
    // header included: give it raw µ-law.
    let mut ulaw = Vec::new();
    G711::Ulaw.encode(&tone, &mut ulaw);
    std::fs::write(dir.path().join("caller.ulaw"), &ulaw).unwrap();
    let mut sent = Vec::new();
    G711::Ulaw.decode(&ulaw, &mut sent);
    let caller_recording = dir.path().join("caller-leg.wav");
    let operator_recording = dir.path().join("operator-leg.wav");
    // Longer than the stream; stopped once SIPp is done.
    let caller_done = session
        .record(caller, &caller_recording, Duration::from_secs(10))
        .unwrap();
    let operator_done = session
        .record(operator, &operator_recording, Duration::from_secs(10))
        .unwrap();

    let acdd_port = caller_port.to_string();
    let (uas_port, uac_port, echo_port, uac_media) = (
        UAS_SIP_PORT.to_string(),
        UAC_SIP_PORT.to_string(),
        ECHO_PORT.to_string(),
        UAC_MEDIA_PORT.to_string(),
    );
    let _answerer = Reap(sipp(
        dir.path(),
        &[
            "-sf",
            &scenario("answer_to_acdd.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            &uas_port,
            "-mi",
            "127.0.0.1",
            "-mp",
            &echo_port,
            "-rtp_echo",
            "-key",
            "acdd_port",
            &acdd_port,
            "-m",
            "1",
            "-timeout",
            "15s",
            "-nostdin",
        ],
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut caller_sipp = Reap(sipp(
        dir.path(),
        &[
            "-sf",
            &scenario("caller.xml"),
            &format!("127.0.0.1:{uas_port}"),
            "-i",
            "127.0.0.1",
            "-p",
            &uac_port,
            "-mi",
            "127.0.0.1",
            "-mp",
            &uac_media,
            "-m",
            "1",
            "-timeout",
            "15s",
            "-nostdin",
        ],
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = caller_sipp.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "SIPp caller did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = caller_sipp.0.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(status.success(), "SIPp caller failed ({status}): {stderr}");

    let from_caller = session.stats(caller).unwrap();
    let from_operator = session.stats(operator).unwrap();
    assert_eq!(from_caller.received, 50, "{from_caller:?}");
    assert_eq!(from_caller.relayed, 50, "{from_caller:?}");
    assert_eq!(from_operator.received, 50, "echoed: {from_operator:?}");
    assert_eq!(from_caller.sent, 50, "echo relayed back to SIPp: {from_caller:?}");
    assert_eq!(from_caller.lost + from_operator.lost, 0);

    // What SIPp sent arrived unchanged, and so did the echo.
    session.stop_recording(caller).unwrap();
    session.stop_recording(operator).unwrap();
    for (done, path) in [(caller_done, &caller_recording), (operator_done, &operator_recording)] {
        let recording = tokio::time::timeout(Duration::from_secs(3), done)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(recording.duration, Duration::from_secs(1), "{}", path.display());
        let heard = Prompt::load(path).unwrap();
        assert_eq!(heard.samples(), &sent[..], "{}", path.display());
    }
    session.stop().await;
}
