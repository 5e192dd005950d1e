//! SIPp peers the telephony tests share: a trunk caller whose audio is the
//! test's own UDP socket, an operator dialling a code or number with digest
//! auth, what SIPp traced, and the RTP the tests send.

use std::path::Path;
use std::process::{Child, Command};

use super::{Acdd, free_port, require_program};

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
