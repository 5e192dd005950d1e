//! What the telephony tests share: their queues (`HOTLINE`) and how acdd
//! starts for them, SIPp peers (a trunk caller whose audio is the test's
//! own UDP socket, an operator dialling a code or number with digest auth),
//! what SIPp traced, the RTP the tests send, and `/metrics`.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use super::scrape::scrape;
use super::{Acdd, Setup, TestDir, free_port, require_program, sipp_logs};

/// A queue nobody can take calls from (no operator registered), waiting one second.
pub const HOTLINE: &str = r#"
[[trunks]]
name = "carrier"
sources = ["127.0.0.1/32"]

[[queues]]
name = "hotline"
channels = ["phone"]
operators = ["alice"]
max_wait_seconds = 1

[[routes.phone]]
number = "+4930222222"
queue = "hotline"

[[queues]]
name = "desk"
channels = ["phone"]
operators = ["alice", "bob"]
mode = "in_order"
check_availability = false

[[routes.phone]]
number = "+4930444444"
queue = "desk"

[[queues]]
name = "team"
channels = ["phone"]
operators = ["alice", "bob"]
mode = "all"
check_availability = false

[[routes.phone]]
number = "+4930666666"
queue = "team"

[[queues]]
name = "brisk"
channels = ["phone"]
operators = ["alice", "bob"]
mode = "in_order"
check_availability = false
ring_count = 1
ring_interval_seconds = 1.0

[[routes.phone]]
number = "+4930888888"
queue = "brisk"
"#;

/// acdd in `dir` with `extra` configuration (the test queues only if
/// `extra` holds them), qualify off, HTTP if `http`.
pub fn start_in(dir: &TestDir, extra: String, http: bool) -> Acdd {
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra,
        http,
        ..Setup::default()
    };
    Acdd::start(&dir.0, &setup)
}

/// A SIPp trunk caller running `scenario` (in tests/sipp/) to `number`, its
/// RTP aimed at the returned socket (the caller's media end).
pub fn media_caller(dir: &Path, acdd: &Acdd, scenario: &str, number: &str) -> (std::net::UdpSocket, Child) {
    let media = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = media.local_addr().unwrap().port().to_string();
    let scenario = format!("{}/tests/sipp/{scenario}.xml", env!("CARGO_MANIFEST_DIR"));
    let sip_port = free_port("127.0.0.1").to_string();
    let caller = Command::new("timeout")
        .args([
            "30", "sipp", "-sf", &scenario, "-s", number, "-m", "1", "-key", "rtp_port", &rtp_port,
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &sip_port,
            "-timeout",
            "20s",
            "-trace_msg",
            "-trace_err",
            "-nostdin",
        ])
        .arg(acdd.udp.to_string())
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("running sipp");
    (media, caller)
}

/// One 20 ms PCMU packet of `fill` bytes, numbered `sequence`.
pub fn pcmu_packet(sequence: u16, fill: u8) -> Vec<u8> {
    let mut packet = vec![0x80, 0x00];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&(u32::from(sequence) * 160).to_be_bytes());
    packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    packet.extend(std::iter::repeat_n(fill, 160));
    packet
}

/// The RTP port in the SDP of the first message starting at `marker` in the
/// SIPp message trace in `dir`.
pub fn traced_media_port(dir: &Path, marker: &str) -> Option<u16> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if !entry.file_name().to_string_lossy().ends_with("_messages.log") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).ok()?;
        let message = &text[text.find(marker)?..];
        let line = message.lines().find(|l| l.starts_with("m=audio "))?;
        return line.split_whitespace().nth(1)?.parse().ok();
    }
    None
}

/// Operator `user` (password `user-secret`) dialling `number` from `ip`
/// with SIPp's `scenario` and `extra` arguments, in the folder `dir/name`;
/// waits for the scenario's end.
#[allow(clippy::too_many_arguments)]
pub fn dial_as_with(
    dir: &Path,
    acdd: &Acdd,
    scenario: &str,
    number: &str,
    user: &str,
    ip: &str,
    name: &str,
    extra: &[&str],
) -> std::process::Output {
    spawn_dial_as(dir, acdd, scenario, number, user, ip, name, extra)
        .wait_with_output()
        .expect("running sipp")
}

/// `dial_as_with` without waiting: the SIPp process (its output piped).
#[allow(clippy::too_many_arguments)]
pub fn spawn_dial_as(
    dir: &Path,
    acdd: &Acdd,
    scenario: &str,
    number: &str,
    user: &str,
    ip: &str,
    name: &str,
    extra: &[&str],
) -> Child {
    require_program("sipp", "sip-tester");
    let scenario = format!("{}/tests/sipp/{scenario}.xml", env!("CARGO_MANIFEST_DIR"));
    let work = dir.join(name);
    std::fs::create_dir_all(&work).unwrap();
    let port = free_port("127.0.0.1").to_string();
    let secret = format!("{user}-secret");
    Command::new("timeout")
        .args([
            "30", "sipp", "-sf", &scenario, "-s", number, "-au", user, "-ap", &secret, "-m", "1",
        ])
        .args(["-i", ip, "-p", &port, "-timeout", "20s", "-trace_err", "-nostdin"])
        .args(extra)
        .arg(acdd.udp.to_string())
        .current_dir(&work)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("running sipp")
}

pub fn assert_succeeded(what: &str, output: &std::process::Output, acdd: &Acdd) {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
}

/// The RTP port acdd put in its 200 OK to the caller, once SIPp has seen it.
pub fn wait_for_media_port(dir: &Path, acdd: &Acdd) -> u16 {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(port) = acdd_media_port(dir) {
            return port;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no 200 OK with SDP:\n{}\nSIPp's files:\n{}",
            acdd.log_text(),
            sipp_logs(dir, &["_errors.log", "_messages.log"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn acdd_media_port(dir: &Path) -> Option<u16> {
    traced_media_port(dir, "SIP/2.0 200 OK")
}

/// acdd's `/metrics`, parsed.
pub fn metrics(acdd: &Acdd) -> prometheus_parse::Scrape {
    scrape(acdd.http.expect("HTTP is on"))
}

/// The samples of the hold music test queues play: a constant, unlike a
/// tone, and not silence.
pub const HOLD_MUSIC_SAMPLE: i16 = 3000;

/// The μ-law byte of every hold music sample.
pub fn hold_music_byte() -> u8 {
    let mut encoded = Vec::new();
    acdd::media::G711::Ulaw.encode(&[HOLD_MUSIC_SAMPLE], &mut encoded);
    encoded[0]
}
