//! Telephony with the real binary on loopback, SIPp as the trunk caller and
//! SIPp processes as the operators' phones (registered by the test with a
//! Contact naming their port): a call is stored, announced and rung back;
//! operators are rung as the engine offers; the first to answer is bridged;
//! declines move on; CANCEL and BYE travel to the other side; the engine's
//! missed action hangs up; a caller who cancels abandons the request.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::phone::Phone;
use common::{Acdd, Setup, TestDir, free_port, require_program};

/// A queue nobody can take calls from (no operator registered), waiting one second.
const HOTLINE: &str = r#"
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

/// Runs one SIPp call of `scenario` to `number`; (success, output and errors).
fn sipp_call(dir: &Path, acdd: &Acdd, scenario: &str, number: &str) -> (bool, String) {
    require_program("sipp", "sip-tester");
    let scenario = format!("{}/tests/sipp/{scenario}.xml", env!("CARGO_MANIFEST_DIR"));
    let port = free_port("127.0.0.1");
    let output = Command::new("timeout")
        .args(["30", "sipp", "-sf", &scenario, "-s", number, "-m", "1"])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-timeout", "20s"])
        .args(["-trace_err", "-nostdin"])
        .arg(acdd.udp.to_string())
        .current_dir(dir)
        .output()
        .expect("running sipp");
    let mut errors = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_name().to_string_lossy().ends_with("_errors.log") {
            errors.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    (
        output.status.success(),
        format!("{}\n{errors}", String::from_utf8_lossy(&output.stdout)),
    )
}

fn start(name: &str) -> (TestDir, Acdd) {
    let dir = TestDir::new(name);
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: HOTLINE.into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    (dir, acdd)
}

#[test]
fn a_call_nobody_takes_rings_back_then_is_hung_up_by_the_missed_action() {
    let (dir, acdd) = start("tel-missed");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_missed", "+4930222222");
    assert!(ok, "SIPp trunk call failed:\n{output}\n{}", acdd.log_text());
    assert!(acdd.wait_for_log(&["call queued"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["missed call: hanging up", "MaxWait"], Duration::from_secs(15)));
}

#[test]
fn a_caller_who_cancels_while_queued_abandons_the_request() {
    let (dir, acdd) = start("tel-cancel");
    // `support` has no max wait: only the caller can end this call.
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_cancel", "+4930111111");
    assert!(ok, "SIPp cancelling caller failed:\n{output}\n{}", acdd.log_text());
    assert!(acdd.wait_for_log(&["caller left the queue"], Duration::from_secs(15)));
    let log = acdd.log_text();
    assert!(
        !log.contains("missed call"),
        "the request was abandoned, not missed:\n{log}"
    );
}

#[test]
fn a_call_to_an_unrouted_number_is_refused_with_404() {
    let (_dir, acdd) = start("tel-unrouted");
    let mut client = common::sip_client::SipClient::udp(acdd.udp);
    let uri = format!("sip:+4930999999@{}", acdd.udp);
    let text = format!(
        "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-u1\r\nFrom: <sip:+4930555000@127.0.0.1>;tag=u1\r\n\
         To: <{uri}>\r\nCall-ID: u1@test\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        local = client.local
    );
    assert_eq!(client.request(&text).unwrap().code, 404);
}

fn assert_finished(phone: Phone, acdd: &Acdd) {
    let (ok, output) = phone.finish();
    assert!(ok, "operator phone scenario failed:\n{output}\n{}", acdd.log_text());
}

/// alice's phone load as the engine sees it, from `/metrics`.
fn alice_phone_load(acdd: &Acdd) -> f64 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(acdd.http.expect("HTTP is on")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: acdd\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .find(|l| {
            l.starts_with("acdd_operator_load{") && l.contains("operator=\"alice\"") && l.contains("channel=\"phone\"")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no phone load for alice in:\n{text}"))
}

#[test]
fn an_answered_call_is_bridged_and_the_hang_up_reaches_the_operator() {
    let dir = TestDir::new("tel-answer");
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: HOTLINE.into(),
        http: true,
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_answer");
    assert_eq!(alice_phone_load(&acdd), 0.0);
    let scenario = format!("{}/tests/sipp/trunk_call.xml", env!("CARGO_MANIFEST_DIR"));
    let sip_port = free_port("127.0.0.1").to_string();
    let caller = Command::new("timeout")
        .args(["30", "sipp", "-sf", &scenario, "-s", "+4930444444", "-m", "1"])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &sip_port,
            "-timeout",
            "20s",
            "-trace_err",
            "-nostdin",
        ])
        .arg(acdd.udp.to_string())
        .current_dir(&dir.0)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("running sipp");
    assert!(acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)));
    // The caller talks for a second: alice is busy with the call meanwhile.
    assert_eq!(alice_phone_load(&acdd), 1.0, "busy while talking");
    let output = caller.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "SIPp caller failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
    assert_finished(alice, &acdd);
    assert!(acdd.wait_for_log(&["caller hung up"], Duration::from_secs(15)));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alice_phone_load(&acdd) != 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "alice is free again after the call"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_declining_operator_is_passed_over_for_the_next() {
    let (dir, acdd) = start("tel-decline");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_busy");
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_answer");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930444444");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    assert_finished(bob, &acdd);
    assert!(acdd.wait_for_log(&["operator leg failed", "status=486"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)));
}

#[test]
fn a_caller_cancelling_while_an_operator_rings_cancels_the_operator_leg() {
    let (dir, acdd) = start("tel-cancel-ringing");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_silent");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_cancel", "+4930444444");
    assert!(ok, "SIPp cancelling caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    assert!(acdd.wait_for_log(&["caller left the queue"], Duration::from_secs(15)));
}

#[test]
fn ring_all_bridges_the_first_answer_and_cancels_the_other_phone() {
    let (dir, acdd) = start("tel-ring-all");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_answer");
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_silent");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930666666");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    assert_finished(bob, &acdd);
    assert!(acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)));
}

#[test]
fn an_operator_hanging_up_ends_the_call_for_the_caller() {
    let (dir, acdd) = start("tel-operator-bye");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_hangup");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call_ended", "+4930444444");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
}

#[test]
fn ring_all_with_two_answers_bridges_one_and_hangs_up_the_late_one() {
    let (dir, acdd) = start("tel-ring-all-race");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_race");
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_race");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930666666");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    // Both phones end with ACK and BYE: one when the caller hangs up, the
    // other at once, as its 200 came too late.
    assert_finished(alice, &acdd);
    assert_finished(bob, &acdd);
    assert!(acdd.wait_for_log(&["caller hung up"], Duration::from_secs(15)));
    assert_eq!(
        acdd.log_text().matches("call bridged").count(),
        1,
        "{}",
        acdd.log_text()
    );
}

/// acdd's RTP port in the SDP of the first 200 OK in SIPp's message trace.
/// A SIPp trunk caller running `scenario` (in tests/sipp/) to `number`, its
/// RTP aimed at the returned socket (the caller's media end).
fn media_caller(dir: &Path, acdd: &Acdd, scenario: &str, number: &str) -> (std::net::UdpSocket, std::process::Child) {
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

/// The RTP port acdd put in its 200 OK to the caller, once SIPp has seen it.
fn wait_for_media_port(dir: &Path, acdd: &Acdd) -> u16 {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(port) = acdd_media_port(dir) {
            return port;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no 200 OK with SDP:\n{}\nSIPp's files:\n{}",
            acdd.log_text(),
            sipp_files(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every SIPp log in `dir`, named, for a failure message.
fn sipp_files(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".log") && !name.starts_with("acdd") {
            let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
            text.push_str(&format!("--- {name}\n{body}\n"));
        }
    }
    text
}

fn acdd_media_port(dir: &Path) -> Option<u16> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if !entry.file_name().to_string_lossy().ends_with("_messages.log") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).ok()?;
        let answer = &text[text.find("SIP/2.0 200 OK")?..];
        let line = answer.lines().find(|l| l.starts_with("m=audio "))?;
        return line.split_whitespace().nth(1)?.parse().ok();
    }
    None
}

#[test]
fn audio_flows_both_ways_through_acdd_after_bridging() {
    let (dir, acdd) = start("tel-audio");
    let echo_port = free_port("127.0.0.1").to_string();
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        "operator_answer",
        &["-rtp_echo", "-mp", &echo_port],
    );
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930444444");
    let port = wait_for_media_port(&dir.0, &acdd);
    // 50 packets of 20 ms µ-law to acdd; the operator's phone echoes them back through acdd.
    media.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let (mut sent, mut echoed) = (0u16, 0);
    let mut buffer = [0u8; 2048];
    for sequence in 0..50u16 {
        let mut packet = vec![0x80, 0x00];
        packet.extend_from_slice(&sequence.to_be_bytes());
        packet.extend_from_slice(&(u32::from(sequence) * 160).to_be_bytes());
        packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        packet.extend(std::iter::repeat_n(0xffu8, 160));
        media.send_to(&packet, ("127.0.0.1", port)).unwrap();
        sent += 1;
        while let Ok((n, _)) = media.recv_from(&mut buffer) {
            if n >= 12 && buffer[1] & 0x7f == 0 {
                echoed += 1;
            }
        }
    }
    media.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    while let Ok((n, _)) = media.recv_from(&mut buffer) {
        if n >= 12 && buffer[1] & 0x7f == 0 {
            echoed += 1;
        }
    }
    assert_eq!(sent, 50);
    assert!(
        echoed >= 40,
        "the caller's audio reached the operator and came back: {echoed} of 50 packets"
    );
    let output = caller.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
    assert_finished(alice, &acdd);
}

#[test]
fn a_queue_with_music_answers_at_once_and_plays_it() {
    let dir = TestDir::new("tel-music");
    let music = dir.0.join("music.wav");
    let tone: Vec<i16> = (0..8000).map(|i| ((i as f64 * 0.314).sin() * 8000.0) as i16).collect();
    let music = acdd::media::write_g711_wav(&music, acdd::media::G711::Ulaw, &tone).unwrap();
    let lounge = format!(
        "[[queues]]\nname = \"lounge\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nhold = \"music\"\n\
         music_file = \"{}\"\n\n[[routes.phone]]\nnumber = \"+4930777777\"\nqueue = \"lounge\"\n",
        music.display()
    );
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: format!("{HOTLINE}\n{lounge}"),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_music", "+4930777777");
    // The caller holds for 2 s after the answer: count from the first packet
    // until the music stops (the BYE), however late SIPp starts.
    let mut buffer = [0u8; 2048];
    media.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let first = media.recv_from(&mut buffer).map(|(n, _)| n);
    assert_eq!(first.ok(), Some(12 + 160), "no music packet:\n{}", acdd.log_text());
    let mut heard = 1;
    media.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < until {
        match media.recv_from(&mut buffer) {
            Ok((n, _)) if n == 12 + 160 => heard += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let output = caller.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
    assert!(heard >= 40, "music packets of 20 ms while on hold (2 s): {heard}");
    assert!(acdd.wait_for_log(&["call queued", "music=true"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["caller left the queue"], Duration::from_secs(15)));
}

#[test]
fn an_operator_who_lets_it_ring_out_is_cancelled_and_the_next_rung() {
    let (dir, acdd) = start("tel-ring-out");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_silent");
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_answer");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930888888");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    // alice's phone got CANCEL when her offer timed out; bob answered.
    assert_finished(alice, &acdd);
    assert_finished(bob, &acdd);
    assert!(acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)));
}

#[test]
fn a_missed_call_to_a_voicemail_queue_is_recorded_and_hung_up() {
    let dir = TestDir::new("tel-voicemail");
    let mailbox = "[[queues]]\nname = \"mailbox\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nmax_wait_seconds = 1\n\
                   missed = { action = \"voicemail\", max_seconds = 2 }\n\n[[routes.phone]]\nnumber = \"+4930999000\"\nqueue = \"mailbox\"\n";
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: format!("{HOTLINE}\n{mailbox}"),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_voicemail", "+4930999000");
    let port = wait_for_media_port(&dir.0, &acdd);
    // One second of speech (50 packets of 20 ms µ-law).
    for sequence in 0..50u16 {
        let mut packet = vec![0x80, 0x00];
        packet.extend_from_slice(&sequence.to_be_bytes());
        packet.extend_from_slice(&(u32::from(sequence) * 160).to_be_bytes());
        packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        packet.extend(std::iter::repeat_n(0x7fu8, 160));
        media.send_to(&packet, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = caller.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
    assert!(acdd.wait_for_log(&["voicemail recorded", "stored=true"], Duration::from_secs(15)));
    let wav = dir.0.join("data/voicemail/r1.wav");
    let size = std::fs::metadata(&wav).map(|m| m.len()).unwrap_or(0);
    assert!(
        size >= 44 + 8000,
        "at least a second of G.711 in {}: {size} bytes",
        wav.display()
    );
}

#[test]
fn an_operator_picks_up_a_call_ringing_for_another_by_extension() {
    let dir = TestDir::new("tel-pickup");
    // The trunk is 127.0.0.2 here, so that 127.0.0.1 may dial as an operator.
    let pickme = "[[trunks]]\nname = \"local\"\nsources = [\"127.0.0.2/32\"]\n\n[[queues]]\nname = \"pickme\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\npickup = true\n\
                  check_availability = false\n\n[[routes.phone]]\nnumber = \"+4930121212\"\nqueue = \"pickme\"\n";
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: pickme.into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_silent");
    let scenario = format!("{}/tests/sipp/trunk_call.xml", env!("CARGO_MANIFEST_DIR"));
    let sip_port = free_port("127.0.0.1").to_string();
    let caller_dir = dir.0.join("caller");
    std::fs::create_dir_all(&caller_dir).unwrap();
    let caller = Command::new("timeout")
        .args(["30", "sipp", "-sf", &scenario, "-s", "+4930121212", "-m", "1"])
        .args([
            "-i",
            "127.0.0.2",
            "-p",
            &sip_port,
            "-timeout",
            "20s",
            "-trace_err",
            "-nostdin",
        ])
        .arg(acdd.udp.to_string())
        .current_dir(&caller_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("running sipp");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=alice"], Duration::from_secs(15)));
    // bob (extension 102) picks up what rings for alice (extension 101).
    let picker = format!("{}/tests/sipp/picker.xml", env!("CARGO_MANIFEST_DIR"));
    let picker_dir = dir.0.join("picker");
    std::fs::create_dir_all(&picker_dir).unwrap();
    let port = free_port("127.0.0.1").to_string();
    let picked = Command::new("timeout")
        .args([
            "30",
            "sipp",
            "-sf",
            &picker,
            "-s",
            "**101",
            "-au",
            "bob",
            "-ap",
            "bob-secret",
            "-m",
            "1",
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port,
            "-timeout",
            "20s",
            "-trace_err",
            "-nostdin",
        ])
        .arg(acdd.udp.to_string())
        .current_dir(&picker_dir)
        .output()
        .expect("running sipp");
    let output = caller.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "caller: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
    assert!(
        picked.status.success(),
        "picker: {}\n{}",
        String::from_utf8_lossy(&picked.stdout),
        acdd.log_text()
    );
    // alice's phone stopped ringing (CANCEL).
    assert_finished(alice, &acdd);
    assert!(acdd.wait_for_log(&["call picked up"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["caller hung up"], Duration::from_secs(15)));
}

#[test]
fn a_pickup_with_nothing_ringing_is_refused_with_404() {
    let (dir, acdd) = start("tel-pickup-refused");
    // The trunk is 127.0.0.1 here, so the picker authenticates from 127.0.0.2.
    let picker = format!("{}/tests/sipp/picker_refused.xml", env!("CARGO_MANIFEST_DIR"));
    let port = free_port("127.0.0.1").to_string();
    let picked = Command::new("timeout")
        .args([
            "30",
            "sipp",
            "-sf",
            &picker,
            "-s",
            "*8",
            "-au",
            "bob",
            "-ap",
            "bob-secret",
            "-m",
            "1",
        ])
        .args([
            "-i",
            "127.0.0.2",
            "-p",
            &port,
            "-timeout",
            "20s",
            "-trace_err",
            "-nostdin",
        ])
        .arg(acdd.udp.to_string())
        .current_dir(&dir.0)
        .output()
        .expect("running sipp");
    assert!(
        picked.status.success(),
        "picker: {}\n{}",
        String::from_utf8_lossy(&picked.stdout),
        acdd.log_text()
    );
    assert!(acdd.wait_for_log(&["pickup refused"], Duration::from_secs(15)));
}
