//! Telephony with the real binary on loopback, SIPp as the trunk caller and
//! SIPp processes as the operators' phones (registered by the test with a
//! Contact naming their port): a call is stored, announced and rung back;
//! operators are rung as the engine offers; the first to answer is bridged;
//! declines move on; CANCEL and BYE travel to the other side; the engine's
//! missed action hangs up; a caller who cancels abandons the request.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use common::phone::Phone;
use common::scrape::value;
use common::sip_client::SipClient;
use common::sipp_calls::{
    HOLD_MUSIC_SAMPLE, HOTLINE, acdd_media_port, assert_succeeded, dial_as_with, hold_music_byte, media_caller,
    metrics, pcmu_packet, start_in, traced_media_port, wait_for_media_port,
};
use common::{Acdd, Setup, TestDir, free_port, require_program, sipp_logs};

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
    let errors = sipp_logs(dir, &["_errors.log"]);
    (
        output.status.success(),
        format!("{}\n{errors}", String::from_utf8_lossy(&output.stdout)),
    )
}

/// acdd with the test queues and HTTP (for `/metrics`).
fn start(name: &str) -> (TestDir, Acdd) {
    let dir = TestDir::new(name);
    let acdd = start_in(&dir, HOTLINE.into(), true);
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

#[test]
fn a_trunks_asserted_identity_names_the_caller() {
    let (dir, acdd) = start("tel-asserted");
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_sees_caller");
    let mut client = SipClient::udp(acdd.udp);
    let uri = format!("sip:+4930444444@{}", acdd.udp);
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let text = format!(
        "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-pai1\r\n\
         From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=pai1\r\n\
         P-Asserted-Identity: \"Ann\" <sip:+4930555123@carrier.example>, <tel:+4930555123>\r\n\
         To: <{uri}>\r\nCall-ID: pai1@test\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        local = client.local
    );
    client.send(text.as_bytes());
    assert!(acdd.wait_for_log(&["operator leg failed", "status=486"], Duration::from_secs(15)));
    // alice's phone saw the asserted number in the INVITE's From.
    assert_finished(alice, &acdd);
}

fn assert_finished(phone: Phone, acdd: &Acdd) {
    let (ok, output) = phone.finish();
    assert!(ok, "operator phone scenario failed:\n{output}\n{}", acdd.log_text());
}

/// alice's phone load as the engine sees it, from `/metrics`.
fn alice_phone_load(acdd: &Acdd) -> f64 {
    let scrape = metrics(acdd);
    value(
        &scrape,
        "acdd_operator_load",
        &[("operator", "alice"), ("channel", "phone")],
    )
    .unwrap_or_else(|| panic!("no phone load for alice in {:?}", scrape.samples))
}

#[test]
fn an_answered_call_is_bridged_and_the_hang_up_reaches_the_operator() {
    let (dir, acdd) = start("tel-answer");
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
fn an_operator_behind_nat_is_rung_where_it_registered_from() {
    let (dir, acdd) = start("tel-nat");
    // alice's phone sits behind NAT: it registers its private address, which
    // acdd cannot reach, from the address its NAT gives it (here this socket).
    let mut phone = SipClient::udp(acdd.udp);
    let reply = phone.register(
        "alice",
        "alice-secret",
        Some("<sip:alice@10.20.30.40:5060>"),
        None,
        acdd::sip::DigestAlgorithm::Md5,
    );
    assert_eq!(reply.code, 200, "{}", reply.raw);
    std::thread::scope(|scope| {
        // `desk` rings alice first; the caller gives up after a second.
        let caller = scope.spawn(|| sipp_call(&dir.0, &acdd, "trunk_cancel", "+4930444444"));
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut invite = None;
        while invite.is_none() && std::time::Instant::now() < deadline {
            if let Some(bytes) = phone.receive(Duration::from_millis(500)) {
                let text = String::from_utf8_lossy(&bytes).to_string();
                if text.starts_with("INVITE ") {
                    invite = Some(text);
                }
            }
        }
        let invite =
            invite.unwrap_or_else(|| panic!("no INVITE came where alice registered from\n{}", acdd.log_text()));
        assert!(invite.starts_with("INVITE sip:alice@10.20.30.40:5060 "), "{invite}");
        let (ok, output) = caller.join().unwrap();
        assert!(ok, "SIPp cancelling caller failed:\n{output}\n{}", acdd.log_text());
    });
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
fn re_invites_hold_resume_and_refresh_a_bridged_call() {
    let (dir, acdd) = start("tel-reinvite");
    // The operator's phone holds (sendonly → acdd answers recvonly) and
    // resumes; the trunk refreshes its session with the same SDP. Both get
    // 200 with acdd's SDP, ACK, and the call goes on until alice hangs up.
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_hold");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call_reinvite", "+4930444444");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
    let log = acdd.log_text();
    assert_eq!(log.matches("leg's re-INVITE answered").count(), 2, "{log}");
    assert_eq!(log.matches("caller's re-INVITE answered").count(), 1, "{log}");
}

#[test]
fn requests_in_a_record_routed_dialog_follow_its_route_set() {
    let (dir, acdd) = start("tel-record-route");
    // Proxies on both sides asked to stay on the path: the caller's 180 and
    // 200 repeat its Record-Route, the operator gets an ACK with its route
    // set reversed, and the caller gets the BYE with its route set.
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_record_routed");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call_record_routed", "+4930444444");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
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

/// One second of speech (50 packets of 20 ms µ-law, paced) to acdd's `port`.
fn speak_one_second(media: &std::net::UdpSocket, port: u16) {
    for sequence in 0..50u16 {
        media
            .send_to(&pcmu_packet(sequence, 0x7f), ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// alice's SIPp phone, answering and echoing the audio it gets.
fn echoing_alice(dir: &Path, acdd: &Acdd) -> Phone {
    let echo_port = free_port("127.0.0.1").to_string();
    Phone::start_with(dir, acdd, "alice", "operator_answer", &["-rtp_echo", "-mp", &echo_port])
}

/// The text of SIPp's message trace in `dir`, if it wrote one.
fn message_trace(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|entry| entry.file_name().to_string_lossy().ends_with("_messages.log"))
        .and_then(|entry| std::fs::read_to_string(entry.path()).ok())
}

#[test]
fn the_operators_phone_shows_the_customers_name_from_the_crm() {
    let dir = TestDir::new("tel-caller-name");
    let web = "[[queues]]\nname = \"web\"\nchannels = [\"form\"]\noperators = [\"bob\"]\n\n\
               [[routes.form]]\nform = \"contact\"\nqueue = \"web\"\nfields = { name = \"your-name\", phone = \"tel\" }\n";
    let acdd = start_in(&dir, format!("{HOTLINE}\n{web}"), true);
    // The customer filled in the web form first, with the number they call
    // from, and a name no header could hold as it is.
    let form = r#"{"your-name": "Jane \"JJ\" Doe\r\nX-Evil: 1", "tel": "+4930555000"}"#;
    let (status, body) = acdd.api("POST", "/api/v1/forms/contact", "", form);
    assert_eq!(status, 201, "{body}");
    let alice = Phone::start_with(&dir.0, &acdd, "alice", "operator_answer", &["-trace_msg"]);
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930444444");
    assert!(ok, "{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    let trace = message_trace(&dir.0.join("alice")).expect("alice's message trace");
    let invite = &trace[trace.find("INVITE sip:").expect("an INVITE")..];
    let from = invite.lines().find(|l| l.starts_with("From:")).expect("a From");
    assert!(
        from.starts_with(r#"From: "Jane \"JJ\" Doe X-Evil: 1" <sip:+4930555000@"#),
        "{from}"
    );
    assert!(!invite.lines().any(|l| l.starts_with("X-Evil")), "{invite}");
}

#[test]
fn audio_flows_both_ways_through_acdd_after_bridging() {
    let (dir, acdd) = start("tel-audio");
    let alice = echoing_alice(&dir.0, &acdd);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930444444");
    let port = wait_for_media_port(&dir.0, &acdd);
    // 50 packets of 20 ms µ-law to acdd; the operator's phone echoes them back through acdd.
    media.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let (mut sent, mut echoed) = (0u16, 0);
    let mut buffer = [0u8; 2048];
    for sequence in 0..50u16 {
        media
            .send_to(&pcmu_packet(sequence, 0xff), ("127.0.0.1", port))
            .unwrap();
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
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
}

/// acdd with a queue "lounge" (+4930777777) that answers at once and holds
/// with a second of music.
fn start_with_lounge(dir: &TestDir) -> Acdd {
    start_with_lounge_and(dir, "")
}

/// `start_with_lounge` with more lines in the lounge queue (or, after a
/// table header, more tables), HTTP on.
fn start_with_lounge_and(dir: &TestDir, more: &str) -> Acdd {
    let music = dir.0.join("music.wav");
    let tone: Vec<i16> = (0..8000).map(|i| ((i as f64 * 0.314).sin() * 8000.0) as i16).collect();
    let music = acdd::media::write_g711_wav(&music, acdd::media::G711::Ulaw, &tone).unwrap();
    let lounge = format!(
        "[[queues]]\nname = \"lounge\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nhold = \"music\"\n\
         music_file = \"{}\"\n{more}\n[[routes.phone]]\nnumber = \"+4930777777\"\nqueue = \"lounge\"\n",
        music.display()
    );
    start_in(dir, format!("{HOTLINE}\n{lounge}"), true)
}

#[test]
fn a_waiting_caller_hears_the_queues_announcement_between_the_music() {
    let dir = TestDir::new("tel-waiting-announcement");
    // 0.4 s of one constant sample, every second: unlike the music's sine.
    let announcement = acdd::media::write_g711_wav(
        &dir.0.join("busy.wav"),
        acdd::media::G711::Ulaw,
        &[HOLD_MUSIC_SAMPLE; 3200],
    )
    .unwrap();
    let more = format!(
        "waiting_announcement = {{ file = \"{}\", every_seconds = 1 }}\n",
        announcement.display()
    );
    let acdd = start_with_lounge_and(&dir, &more);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_music", "+4930777777");
    // The caller waits 2 s after the answer: music, the announcement at 1 s,
    // music again. Each packet is one or the other, in that order.
    let announced = hold_music_byte();
    let mut buffer = [0u8; 2048];
    media.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut heard = Vec::new();
    while let Ok((n, _)) = media.recv_from(&mut buffer) {
        if n == 12 + 160 {
            heard.push(buffer[12..n].iter().all(|b| *b == announced));
        }
        media.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    }
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    let first = heard.iter().position(|a| *a);
    let last = heard.iter().rposition(|a| *a);
    let (Some(first), Some(last)) = (first, last) else {
        panic!("no announcement among {} packets\n{}", heard.len(), acdd.log_text());
    };
    let announcement_packets = heard[first..=last].iter().filter(|a| **a).count();
    assert!(
        first >= 20 && (15..=25).contains(&announcement_packets) && heard.len() > last + 10,
        "music ({first} packets), the announcement ({announcement_packets} of {}), music again ({})\n{}",
        last + 1 - first,
        heard.len() - last - 1,
        acdd.log_text()
    );
}

#[test]
fn a_callers_refer_is_refused_with_a_notify_and_the_call_goes_on() {
    let dir = TestDir::new("tel-caller-refer");
    let acdd = start_with_lounge(&dir);
    let (_media, caller) = media_caller(&dir.0, &acdd, "trunk_refer_refused", "+4930777777");
    assert_succeeded(
        "caller's REFER: 202, NOTIFY 100, NOTIFY 403",
        &caller.wait_with_output().unwrap(),
        &acdd,
    );
    assert!(acdd.wait_for_log(&["REFER from a caller: refused"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["caller left the queue"], Duration::from_secs(15)));
}

#[test]
fn a_queue_with_music_answers_at_once_and_plays_it() {
    let dir = TestDir::new("tel-music");
    let acdd = start_with_lounge(&dir);
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
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert!(heard >= 40, "music packets of 20 ms while on hold (2 s): {heard}");
    assert!(acdd.wait_for_log(&["call queued", "hold=\"music\""], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["caller left the queue"], Duration::from_secs(15)));
}

/// An RFC 4733 telephone-event packet: `key`'s event at `ts`, ending it if `end`.
fn key_packet(sequence: u16, ts: u32, key: u8, end: bool) -> Vec<u8> {
    let mut packet = vec![0x80, 101];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&ts.to_be_bytes());
    packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    packet.extend_from_slice(&[key, if end { 0x8a } else { 0x0a }, 0x01, 0x40]);
    packet
}

#[test]
fn a_waiting_caller_presses_a_key_to_be_called_back_instead() {
    let dir = TestDir::new("tel-callback-key");
    let more = "callback_key = \"1\"\n\n[admin]\ntoken = \"callback-key-admin-token\"\n";
    let acdd = start_with_lounge_and(&dir, more);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_music_keys", "+4930777777");
    let port = wait_for_media_port(&dir.0, &acdd);
    // A 2 first (the queue does not take it), then 1, each in three packets.
    std::thread::sleep(Duration::from_millis(300));
    let mut sequence = 0;
    for (key, ts) in [(2u8, 1600u32), (1, 4800)] {
        for end in [false, true, true] {
            sequence += 1;
            media
                .send_to(&key_packet(sequence, ts, key, end), ("127.0.0.1", port))
                .unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // acdd confirms with a tone and hangs up.
    assert_succeeded(
        "the caller, hung up by acdd",
        &caller.wait_with_output().unwrap(),
        &acdd,
    );
    let log = acdd.log_text();
    assert!(log.contains("the caller asked to be called back"), "{log}");
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while open_callbacks(&acdd, "callback-key-admin-token").is_empty() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let callbacks = open_callbacks(&acdd, "callback-key-admin-token");
    assert_eq!(callbacks.len(), 1, "{callbacks:?}\n{log}");
    assert_eq!(callbacks[0]["reason"], "the caller asked to be called back");
    assert_eq!(
        value(
            &metrics(&acdd),
            "acdd_callbacks_requested_total",
            &[("queue", "lounge")]
        ),
        Some(1.0)
    );
    // The request ended as a callback, not as an abandon.
    let outcome = |outcome: &str| {
        value(
            &metrics(&acdd),
            "acdd_requests_total",
            &[("queue", "lounge"), ("channel", "phone"), ("outcome", outcome)],
        )
    };
    assert_eq!((outcome("callback"), outcome("abandoned")), (Some(1.0), Some(0.0)));
}

#[test]
fn a_queue_with_a_tone_rings_back_with_early_media_until_an_operator_answers() {
    let dir = TestDir::new("tel-tone");
    let parlour = "[[queues]]\nname = \"parlour\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nhold = \"tone\"\n\
                   ringback_tone = \"north_america\"\ncheck_availability = false\nretry_seconds = 1\n\n[[routes.phone]]\nnumber = \"+4930777888\"\nqueue = \"parlour\"\n";
    let acdd = start_in(&dir, format!("{HOTLINE}\n{parlour}"), false);
    // alice has no phone registered yet: the caller waits (alice is tried
    // again every second) and hears the tone (440 + 480 Hz, on for the
    // first 2 s) in 20 ms packets of early media.
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_early_media", "+4930777888");
    let mut buffer = [0u8; 2048];
    media.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let (mut packets, mut sounding) = (0, 0);
    while packets < 50 {
        let Ok((n, _)) = media.recv_from(&mut buffer) else {
            panic!("early media stopped after {packets} packets:\n{}", acdd.log_text())
        };
        assert_eq!(n, 12 + 160, "a 20 ms PCMU packet");
        packets += 1;
        // µ-law silence is 0xFF/0x7F; a tone swings across many values.
        let distinct: std::collections::HashSet<u8> = buffer[12..n].iter().copied().collect();
        if distinct.len() > 8 {
            sounding += 1;
        }
    }
    assert!(
        sounding >= 45,
        "the tone sounds in its first second: {sounding} of 50 packets"
    );
    // alice registers and answers: the caller gets 200 with the same SDP.
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_answer");
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
    let early = traced_media_port(&dir.0, "SIP/2.0 183");
    assert!(
        early.is_some(),
        "183 with SDP:\n{}",
        sipp_logs(&dir.0, &["_messages.log"])
    );
    assert_eq!(early, acdd_media_port(&dir.0), "the 200 repeats the 183's SDP");
    assert!(acdd.wait_for_log(&["call queued", "hold=\"tone\""], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)));
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
                   missed = { action = \"voicemail\", max_seconds = 2 }\n\n[[routes.phone]]\nnumber = \"+4930999000\"\nqueue = \"mailbox\"\n\n\
                   [admin]\ntoken = \"voicemail-admin-token\"\n";
    let acdd = start_in(&dir, format!("{HOTLINE}\n{mailbox}"), true);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_voicemail", "+4930999000");
    let port = wait_for_media_port(&dir.0, &acdd);
    speak_one_second(&media, port);
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert!(acdd.wait_for_log(&["voicemail recorded", "stored=true"], Duration::from_secs(15)));
    let wav = dir.0.join("data/voicemail/r1.wav");
    let size = std::fs::metadata(&wav).map(|m| m.len()).unwrap_or(0);
    assert!(
        size >= 44 + 8000,
        "at least a second of G.711 in {}: {size} bytes",
        wav.display()
    );
    let (status, head, body) = acdd.api_bytes("GET", "/api/v1/voicemail/1", "voicemail-admin-token", "");
    assert_eq!(status, 200, "{head}");
    assert!(body == std::fs::read(&wav).unwrap(), "the API serves the voicemail");
    assert_eq!(
        acdd.api("GET", "/api/v1/voicemail/7", "voicemail-admin-token", "").0,
        404
    );
}

#[test]
fn an_operator_picks_up_a_call_ringing_for_another_by_extension() {
    let dir = TestDir::new("tel-pickup");
    // The trunk is 127.0.0.2 here, so that 127.0.0.1 may dial as an operator.
    let pickme = "[[trunks]]\nname = \"local\"\nsources = [\"127.0.0.2/32\"]\n\n[[queues]]\nname = \"pickme\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\npickup = true\n\
                  check_availability = false\n\n[[routes.phone]]\nnumber = \"+4930121212\"\nqueue = \"pickme\"\n";
    let acdd = start_in(&dir, pickme.into(), false);
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
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
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

/// A SIPp trunk caller running `scenario` to `number` from `ip`, in its own
/// folder `dir/name` (so that its logs stay apart).
fn spawn_caller(dir: &Path, acdd: &Acdd, scenario: &str, number: &str, ip: &str, name: &str) -> Child {
    require_program("sipp", "sip-tester");
    let scenario = format!("{}/tests/sipp/{scenario}.xml", env!("CARGO_MANIFEST_DIR"));
    let work = dir.join(name);
    std::fs::create_dir_all(&work).unwrap();
    let port = free_port("127.0.0.1").to_string();
    Command::new("timeout")
        .args(["30", "sipp", "-sf", &scenario, "-s", number, "-m", "1"])
        .args(["-i", ip, "-p", &port, "-timeout", "20s", "-trace_err", "-nostdin"])
        .arg(acdd.udp.to_string())
        .current_dir(&work)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("running sipp")
}

/// Operator `user` (password `user-secret`) dialling `number` from `ip` with
/// SIPp's `scenario`, in the folder `dir/name`; waits for the scenario's end.
fn dial_as(
    dir: &Path,
    acdd: &Acdd,
    scenario: &str,
    number: &str,
    user: &str,
    ip: &str,
    name: &str,
) -> std::process::Output {
    dial_as_with(dir, acdd, scenario, number, user, ip, name, &[])
}

/// Three more operators sharing the pickup group `front`; carol and erin
/// each answer for a queue that allows pickup. Trunks call from 127.0.0.2.
const FRONT: &str = r#"
[[trunks]]
name = "local"
sources = ["127.0.0.2/32"]

[[operators]]
id = "carol"
extension = "103"
sip_username = "carol"
sip_password = "carol-secret"
groups = ["front"]

[[operators]]
id = "dave"
extension = "104"
sip_username = "dave"
sip_password = "dave-secret"
groups = ["front"]

[[operators]]
id = "erin"
extension = "105"
sip_username = "erin"
sip_password = "erin-secret"
groups = ["front"]

[[queues]]
name = "front1"
channels = ["phone"]
operators = ["carol"]
pickup = true
check_availability = false
wrap_up_seconds = 0

[[routes.phone]]
number = "+4930131313"
queue = "front1"

[[queues]]
name = "front2"
channels = ["phone"]
operators = ["erin"]
pickup = true
check_availability = false
wrap_up_seconds = 0

[[routes.phone]]
number = "+4930141414"
queue = "front2"
"#;

#[test]
fn group_pickup_takes_the_oldest_call_ringing_in_the_pickers_groups() {
    let dir = TestDir::new("tel-group-pickup");
    let acdd = start_in(&dir, FRONT.into(), false);
    let carol = Phone::start(&dir.0, &acdd, "carol", "operator_silent");
    let erin = Phone::start(&dir.0, &acdd, "erin", "operator_silent");
    // The first call rings carol, the second erin.
    let first = spawn_caller(&dir.0, &acdd, "trunk_call", "+4930131313", "127.0.0.2", "first");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=carol"], Duration::from_secs(15)));
    let second = spawn_caller(&dir.0, &acdd, "trunk_call", "+4930141414", "127.0.0.2", "second");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=erin"], Duration::from_secs(15)));
    // bob is in no group: nothing rings for him to pick up.
    let refused = dial_as(&dir.0, &acdd, "picker_refused", "*8", "bob", "127.0.0.1", "bob");
    assert_succeeded("bob's *8 is refused", &refused, &acdd);
    assert!(!acdd.log_text().contains("call picked up"), "{}", acdd.log_text());
    // dave shares carol's and erin's group: *8 takes the oldest, the first call.
    let picked = dial_as(&dir.0, &acdd, "picker", "*8", "dave", "127.0.0.1", "dave-1");
    assert_succeeded("dave's first *8", &picked, &acdd);
    let log = acdd.log_text();
    let line = log.lines().find(|l| l.contains("call picked up")).unwrap_or_default();
    assert!(
        line.contains("request=1 "),
        "the oldest call was picked up first:\n{log}"
    );
    let output = first.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "first caller: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_finished(carol, &acdd);
    // The second call rang on meanwhile; dave, free again, takes it too.
    assert!(acdd.wait_for_log(&["caller hung up"], Duration::from_secs(15)));
    let picked = dial_as(&dir.0, &acdd, "picker", "*8", "dave", "127.0.0.1", "dave-2");
    assert_succeeded("dave's second *8", &picked, &acdd);
    let output = second.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "second caller: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_finished(erin, &acdd);
    let log = acdd.log_text();
    let picks: Vec<&str> = log.lines().filter(|l| l.contains("call picked up")).collect();
    assert_eq!(picks.len(), 2, "{log}");
    assert!(picks[1].contains("request=2 "), "{log}");
}

#[test]
fn a_picked_up_call_transferred_through_the_api_leaves_the_picker_for_the_new_operator() {
    let dir = TestDir::new("tel-pickup-transfer");
    let acdd = start_in(&dir, FRONT.into(), true);
    // The call rings carol, who does not answer; erin will answer the
    // transfer, talk and hang up; the caller expects acdd's BYE at the end.
    let carol = Phone::start(&dir.0, &acdd, "carol", "operator_silent");
    let erin = Phone::start(&dir.0, &acdd, "erin", "operator_hangup");
    let caller = spawn_caller(&dir.0, &acdd, "trunk_call_ended", "+4930131313", "127.0.0.2", "caller");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=carol"], Duration::from_secs(15)));
    std::thread::scope(|scope| {
        // alice takes it with a directed pickup of carol's extension; her
        // phone stays on the call until acdd's BYE.
        let picker = scope.spawn(|| dial_as(&dir.0, &acdd, "picker", "**103", "alice", "127.0.0.1", "alice"));
        assert!(
            acdd.wait_for_log(&["call picked up"], Duration::from_secs(15)),
            "{}",
            acdd.log_text()
        );
        // Only the operator holding the call may move it: alice, to erin.
        let (status, body) = acdd.api(
            "POST",
            "/api/v1/conversations/1/transfer",
            "alice-operator-api-token",
            r#"{"operator":"erin"}"#,
        );
        assert_eq!(status, 202, "{body}\n{}", acdd.log_text());
        assert_succeeded("alice's pickup, ended by acdd's BYE", &picker.join().unwrap(), &acdd);
    });
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(carol, &acdd);
    assert_finished(erin, &acdd);
    assert!(acdd.wait_for_log(&["picked-up call transferred"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["call bridged", "request=1"], Duration::from_secs(15)));
}

#[test]
fn a_picker_transfers_the_call_with_refer_from_their_phone() {
    let dir = TestDir::new("tel-pickup-refer");
    let acdd = start_in(&dir, FRONT.into(), false);
    // The call rings carol, who does not answer; alice picks it up and
    // sends REFER to erin's extension (105) from her own call; erin answers,
    // talks and hangs up; the caller expects acdd's BYE at the end.
    let carol = Phone::start(&dir.0, &acdd, "carol", "operator_silent");
    let erin = Phone::start(&dir.0, &acdd, "erin", "operator_hangup");
    let caller = spawn_caller(&dir.0, &acdd, "trunk_call_ended", "+4930131313", "127.0.0.2", "caller");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=carol"], Duration::from_secs(15)));
    let picker = dial_as(&dir.0, &acdd, "picker_refer", "**103", "alice", "127.0.0.1", "alice");
    assert_succeeded("alice's pickup, REFER to 105, NOTIFYs and acdd's BYE", &picker, &acdd);
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(carol, &acdd);
    assert_finished(erin, &acdd);
    assert!(acdd.wait_for_log(
        &["picked-up call transferred", "by_refer=true"],
        Duration::from_secs(15)
    ));
    assert!(acdd.wait_for_log(&["ringing operator", "operator=erin"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["call bridged", "request=1"], Duration::from_secs(15)));
}

/// Once the caller is bridged with carol, carol calls erin's extension 105
/// with SIPp's `scenario` (Call-ID consult-1@127.0.0.1, as her REFER's
/// Replaces names it); how that consultation call ended.
fn carol_consults_erin(dir: &TestDir, acdd: &Acdd, scenario: &str) -> std::process::Output {
    assert!(
        acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)),
        "{}",
        acdd.log_text()
    );
    dial_as_with(
        &dir.0,
        acdd,
        scenario,
        "105",
        "carol",
        "127.0.0.1",
        "consultation",
        &["-cid_str", "consult-%u@%s"],
    )
}

/// carol takes a call to front1, consults erin (extension 105) on a call of
/// her own (Call-ID consult-1@127.0.0.1; `consultation` is carol's SIPp
/// scenario for it), then sends REFER to 105 with Replaces naming that
/// consultation (by Call-ID; acdd does not check the tags). erin's phone
/// runs `erin` for both of her calls (-m 2). Every peer must succeed; the
/// log once the transfer is noted.
fn attended_transfer(name: &str, erin: &str, consultation: &str) -> String {
    let dir = TestDir::new(name);
    let acdd = start_in(&dir, FRONT.into(), false);
    let carol = Phone::start(&dir.0, &acdd, "carol", "operator_attended_refer");
    let erin = Phone::start_with(&dir.0, &acdd, "erin", erin, &["-m", "2"]);
    let caller = spawn_caller(&dir.0, &acdd, "trunk_call_ended", "+4930131313", "127.0.0.2", "caller");
    let consulted = carol_consults_erin(&dir, &acdd, consultation);
    assert_succeeded("carol's consultation call", &consulted, &acdd);
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(carol, &acdd);
    assert_finished(erin, &acdd);
    assert!(
        acdd.wait_for_log(&["call transferred", "by_refer=true"], Duration::from_secs(5)),
        "{}",
        acdd.log_text()
    );
    acdd.log_text()
}

#[test]
fn an_attended_transfer_to_a_baresip_colleague_without_replaces_reaches_it_as_a_second_call() {
    // baresip 1.0 knows no Replaces: acdd's INVITE for the hand-over is a
    // second call to it, which it answers by itself; acdd then ends the
    // consultation, and erin talks with the customer until she hangs up.
    let _alias = common::baresip::LoopbackAlias::ensure();
    let dir = TestDir::new("tel-attended-baresip");
    let acdd = start_in(&dir, FRONT.into(), false);
    let erin = common::baresip::Baresip::start(&dir.0, &acdd, "erin", 30);
    assert!(
        acdd.wait_for_log(&["registration changed", "erin", "contacts=1"], Duration::from_secs(15)),
        "{}\n{}",
        erin.log(),
        acdd.log_text()
    );
    let carol = Phone::start(&dir.0, &acdd, "carol", "operator_attended_refer");
    let caller = spawn_caller(&dir.0, &acdd, "trunk_call_ended", "+4930131313", "127.0.0.2", "caller");
    let consulted = carol_consults_erin(&dir, &acdd, "picker");
    assert_succeeded("carol's consultation, ended by the hand-over", &consulted, &acdd);
    assert!(
        acdd.wait_for_log(&["attended transfer: consultation call over"], Duration::from_secs(10)),
        "{}\n{}",
        erin.log(),
        acdd.log_text()
    );
    let hung_up = erin.command("hangup");
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(carol, &acdd);
    let (log, phone) = (acdd.log_text(), erin.log());
    assert!(
        phone.contains("Call established: sip:+4930555000"),
        "erin talked with the customer ({hung_up}):\n{phone}\n{log}"
    );
    assert_eq!(
        log.matches("bridge: call bridged").count(),
        2,
        "carol, then erin:\n{log}"
    );
}

#[test]
fn an_attended_transfer_hands_the_call_to_the_consulted_colleague_in_place_of_the_consultation() {
    // erin answers the consultation; acdd ends carol's side of it (BYE) and
    // hands the customer's call to erin with an INVITE that replaces her
    // side (her scenario checks the Replaces header), then ends that side;
    // erin talks and hangs up; the caller gets BYE.
    let log = attended_transfer("tel-attended-transfer", "operator_replaced", "picker");
    assert!(log.contains("internal call bridged"), "{log}");
    assert!(log.contains("attended transfer: handing the call over"), "{log}");
    assert!(log.contains("replacing the operator's call"), "{log}");
    assert!(log.contains("attended transfer: consultation call over"), "{log}");
}

#[test]
fn an_attended_transfer_before_the_colleague_answers_ends_the_consultation_and_rings_them_with_the_call() {
    // erin's phone still rings when carol transfers: the consultation ends
    // (CANCEL to erin, 480 to carol) and the customer's call rings erin, who
    // answers it after 4 s.
    let log = attended_transfer("tel-attended-early", "operator_consulted_late", "operator_refused");
    assert!(log.contains("attended transfer: consultation call ended"), "{log}");
    assert!(!log.contains("handing the call over"), "{log}");
    assert_eq!(
        log.matches("bridge: call bridged").count(),
        2,
        "carol, then erin: {log}"
    );
}

#[test]
fn operators_on_an_internal_call_are_not_offered_queue_calls_until_it_ends() {
    let dir = TestDir::new("tel-internal-busy");
    let acdd = start_in(&dir, FRONT.into(), false);
    // erin answers dave's call and hangs up after 4 s; then she answers the
    // queue call that waited meanwhile, and hangs up that one 4 s later.
    let erin = Phone::start_with(&dir.0, &acdd, "erin", "operator_consulted", &["-m", "2"]);
    std::thread::scope(|scope| {
        let dave = scope.spawn(|| dial_as(&dir.0, &acdd, "picker", "105", "dave", "127.0.0.1", "dave"));
        assert!(
            acdd.wait_for_log(&["internal call bridged"], Duration::from_secs(15)),
            "{}",
            acdd.log_text()
        );
        // front2 is erin's queue: its call waits while her phone is in use.
        let caller = spawn_caller(&dir.0, &acdd, "trunk_call_ended", "+4930141414", "127.0.0.2", "caller");
        assert!(acdd.wait_for_log(&["call queued"], Duration::from_secs(15)));
        assert_succeeded("dave's call to erin", &dave.join().unwrap(), &acdd);
        assert_succeeded("the queue's caller", &caller.wait_with_output().unwrap(), &acdd);
    });
    assert_finished(erin, &acdd);
    let log = acdd.log_text();
    let ended = log
        .find("the forwarded party hung up")
        .expect("erin ended the internal call");
    let offered = log
        .find("ringing operator leg=acdd-o")
        .expect("the queue call rang erin");
    assert!(
        offered > ended,
        "the queue call rang erin only after the internal call:\n{log}"
    );
}

#[test]
fn a_pickup_from_a_queue_that_does_not_allow_it_is_refused_and_the_call_rings_on() {
    let dir = TestDir::new("tel-pickup-closed");
    let closed = "[[trunks]]\nname = \"local\"\nsources = [\"127.0.0.2/32\"]\n\n[[queues]]\nname = \"closed\"\nchannels = [\"phone\"]\n\
                  operators = [\"alice\"]\npickup = false\ncheck_availability = false\nmax_wait_seconds = 10\n\n\
                  [[routes.phone]]\nnumber = \"+4930151515\"\nqueue = \"closed\"\n";
    let acdd = start_in(&dir, closed.into(), true);
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_silent");
    let caller = spawn_caller(&dir.0, &acdd, "trunk_missed", "+4930151515", "127.0.0.2", "caller");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=alice"], Duration::from_secs(15)));
    let refused = dial_as(&dir.0, &acdd, "picker_refused", "**101", "bob", "127.0.0.1", "bob");
    assert_succeeded("bob's **101 is refused with 404", &refused, &acdd);
    assert!(acdd.wait_for_log(&["pickup refused"], Duration::from_secs(15)));
    // alice's phone still rings: her offer still holds her phone capacity.
    assert_eq!(alice_phone_load(&acdd), 1.0, "alice is still being offered the call");
    assert!(!acdd.log_text().contains("call picked up"));
    // It rings until the queue's maximum wait, then the missed action hangs up (480).
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
    assert!(acdd.wait_for_log(&["missed call: hanging up", "MaxWait"], Duration::from_secs(15)));
}

#[test]
fn evenly_gives_the_next_call_to_the_operator_after_the_last_one() {
    let dir = TestDir::new("tel-evenly");
    let round = "[[queues]]\nname = \"round\"\nchannels = [\"phone\"]\noperators = [\"alice\", \"bob\"]\nmode = \"evenly\"\n\
                 check_availability = false\nwrap_up_seconds = 0\nresponsible_first = false\n\n[[routes.phone]]\nnumber = \"+4930161616\"\nqueue = \"round\"\n";
    let acdd = start_in(&dir, format!("{HOTLINE}\n{round}"), false);
    // Both calls come from the same number, whose first operator becomes its
    // responsible: the queue does not prefer the responsible, so only the
    // mode decides. Each phone answers one call only: a second call to the same operator
    // would ring a phone that no longer answers, and the caller would fail.
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_answer");
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_answer");
    for _ in 0..2 {
        let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930161616");
        assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
        assert!(acdd.wait_for_log(&["caller hung up"], Duration::from_secs(15)));
    }
    assert_finished(alice, &acdd);
    assert_finished(bob, &acdd);
    let log = acdd.log_text();
    let rung: Vec<&str> = log.lines().filter(|l| l.contains("ringing operator")).collect();
    assert_eq!(rung.len(), 2, "{log}");
    assert_ne!(
        rung[0].contains("operator=alice"),
        rung[1].contains("operator=alice"),
        "the two calls went to two operators:\n{log}"
    );
    assert_eq!(log.matches("call bridged").count(), 2, "{log}");
}

#[test]
fn an_operator_dialling_neither_a_colleague_nor_a_pickup_code_is_refused() {
    let (dir, acdd) = start("tel-operator-call");
    // The trunk is 127.0.0.1 here, so bob authenticates from 127.0.0.2.
    for (number, name, status) in [("+4930999999", "unrouted", 404), ("102", "own-extension", 486)] {
        let output = dial_as(&dir.0, &acdd, "operator_refused", number, "bob", "127.0.0.2", name);
        assert_succeeded(&format!("bob dialling {number}"), &output, &acdd);
        assert!(
            acdd.wait_for_log(
                &["operator's call refused", &format!("number={number} status={status}")],
                Duration::from_secs(5)
            ),
            "{}",
            acdd.log_text()
        );
    }
    assert!(!acdd.log_text().contains("call queued"));
}

#[test]
fn an_operator_dialling_a_routed_number_waits_in_its_queue_like_a_caller() {
    let dir = TestDir::new("tel-operator-queues");
    let acdd = start_in(&dir, FRONT.into(), false);
    // dave calls front1's number: carol's phone rings with it, answers,
    // and hangs up after a while; acdd then sends dave BYE.
    let carol = Phone::start(&dir.0, &acdd, "carol", "operator_hangup");
    let output = dial_as(&dir.0, &acdd, "picker", "+4930131313", "dave", "127.0.0.1", "dave");
    assert_succeeded("dave's call through front1, ended by carol", &output, &acdd);
    assert_finished(carol, &acdd);
    let log = acdd.log_text();
    assert!(log.contains("operator's call to a queue"), "{log}");
    assert!(log.contains("ringing operator leg=acdd-o1 operator=carol"), "{log}");
    assert!(log.contains("bridge: call bridged"), "{log}");
}

#[test]
fn operators_start_pause_and_end_their_workday_with_star_codes() {
    let (dir, acdd) = start("tel-workday-codes");
    let state = |acdd: &Acdd| {
        let scrape = metrics(acdd);
        let state = ["paused", "not_working", "idle", "offline", "away"]
            .into_iter()
            .find(|state| {
                value(
                    &scrape,
                    "acdd_operator_state",
                    &[("operator", "alice"), ("state", state)],
                ) == Some(1.0)
            });
        let paused = value(&scrape, "acdd_operator_paused", &[("operator", "alice")]);
        (state.map(str::to_string), paused)
    };
    // alice has no app: she is offline until *45 says she is there. Each
    // code is answered, sounds its tone, then acdd hangs up (BYE).
    assert_eq!(state(&acdd), (Some("offline".to_string()), Some(0.0)));
    for (round, (code, expected, paused)) in [
        ("*45", "idle", 0.0),
        ("*46", "paused", 1.0),
        ("*45", "idle", 0.0),
        ("*47", "not_working", 0.0),
    ]
    .into_iter()
    .enumerate()
    {
        let output = dial_as(
            &dir.0,
            &acdd,
            "picker",
            code,
            "alice",
            "127.0.0.2",
            &format!("code-{round}"),
        );
        assert_succeeded(&format!("alice dialling {code}"), &output, &acdd);
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while state(&acdd).0.as_deref() != Some(expected) && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            state(&acdd),
            (Some(expected.to_string()), Some(paused)),
            "after {code}\n{}",
            acdd.log_text()
        );
    }
    assert_eq!(
        acdd.log_text().matches("workday changed from the phone").count(),
        4,
        "{}",
        acdd.log_text()
    );
}

/// The open callback tasks, as `GET /api/v1/callbacks` lists them.
fn open_callbacks(acdd: &Acdd, token: &str) -> Vec<serde_json::Value> {
    let (status, body) = acdd.api("GET", "/api/v1/callbacks", token, "");
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    listed["callbacks"].as_array().cloned().unwrap_or_default()
}

#[test]
fn an_operator_calls_a_customer_back_through_the_gateway_and_the_callback_is_done() {
    let dir = TestDir::new("tel-call-back");
    let gateway = Phone::uas(&dir.0, "gateway", "operator_hangup", &["-trace_msg"]);
    let setup = Setup {
        sip: format!(
            "qualify_interval_seconds = 0\noutbound_gateway = \"127.0.0.1:{}\"\noutbound_caller_id = \"+4930100100\"",
            gateway.port
        ),
        extra: format!("{HOTLINE}\n[admin]\ntoken = \"callback-admin-token\"\n"),
        http: true,
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    // Nobody answers +4930555000's call to the hotline: a callback task.
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_missed", "+4930222222");
    assert!(ok, "{output}\n{}", acdd.log_text());
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while open_callbacks(&acdd, "callback-admin-token").is_empty() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        open_callbacks(&acdd, "callback-admin-token").len(),
        1,
        "{}",
        acdd.log_text()
    );
    // bob calls the customer back from his phone (the trunk is 127.0.0.1,
    // so he authenticates from 127.0.0.2); the gateway answers, then hangs up.
    let output = dial_as(&dir.0, &acdd, "picker", "+4930555000", "bob", "127.0.0.2", "bob");
    assert_succeeded("bob's call outside, ended by the customer", &output, &acdd);
    let (ok, output) = gateway.finish();
    assert!(ok, "the gateway: {output}\n{}", acdd.log_text());
    let trace = message_trace(&dir.0.join("gateway")).expect("the gateway's message trace");
    let invite = &trace[trace.find("INVITE sip:").expect("an INVITE")..];
    assert!(invite.starts_with("INVITE sip:+4930555000@127.0.0.1:"), "{invite}");
    let from = invite.lines().find(|l| l.starts_with("From:")).unwrap_or_default();
    assert!(from.contains("<sip:+4930100100@"), "the company's number shows: {from}");
    // Reaching the customer did the callback task, in bob's name.
    assert!(
        acdd.wait_for_log(
            &["customer called back: callback done", "operator=bob"],
            Duration::from_secs(10)
        ),
        "{}",
        acdd.log_text()
    );
    assert!(open_callbacks(&acdd, "callback-admin-token").is_empty());
    assert!(acdd.log_text().contains("operator's call outside bridged"));
    // The call is in the customer's history.
    let (status, card) = acdd.api(
        "GET",
        "/api/v1/customers?phone=%2B4930555000",
        "callback-admin-token",
        "",
    );
    assert_eq!(status, 200, "{card}");
    assert!(card.contains("called by bob"), "{card}");
    assert_eq!(
        value(&metrics(&acdd), "acdd_operator_calls_total", &[("kind", "outside")]),
        Some(1.0)
    );
}

#[test]
fn an_operator_calls_a_colleague_by_extension() {
    let dir = TestDir::new("tel-internal");
    let acdd = start_in(&dir, FRONT.into(), false);
    // erin answers, talks a second and hangs up; dave, calling her
    // extension, hears 180, gets 200 with acdd's SDP and then acdd's BYE.
    let erin = Phone::start_with(&dir.0, &acdd, "erin", "operator_hangup", &["-trace_msg"]);
    let dave = dial_as(&dir.0, &acdd, "picker", "105", "dave", "127.0.0.1", "dave");
    assert_succeeded("dave's call to 105", &dave, &acdd);
    assert_finished(erin, &acdd);
    let log = acdd.log_text();
    assert!(log.contains("internal call bridged"), "{log}");
    // erin's phone shows who calls: dave, extension 104.
    let trace = message_trace(&dir.0.join("erin")).expect("erin's message trace");
    let invite = &trace[trace.find("INVITE sip:").expect("an INVITE")..];
    let from = invite.lines().find(|l| l.starts_with("From:")).unwrap_or_default();
    assert!(from.starts_with(r#"From: "dave" <sip:104@"#), "{from}");
    assert!(!log.contains("call queued"), "an internal call is no request:\n{log}");
    // Nobody has extension 109; dave's own is 104.
    let nobody = dial_as(&dir.0, &acdd, "operator_refused", "109", "dave", "127.0.0.1", "nobody");
    assert_succeeded("dave's call to 109", &nobody, &acdd);
}

/// `seconds` of a 440 Hz tone as a µ-law WAV in `dir`.
fn tone_wav(dir: &Path, name: &str, seconds: f64) -> std::path::PathBuf {
    let samples = (8000.0 * seconds) as usize;
    let tone: Vec<i16> = (0..samples)
        .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16)
        .collect();
    acdd::media::write_g711_wav(&dir.join(name), acdd::media::G711::Ulaw, &tone).unwrap()
}

/// Counts 20 ms G.711 packets arriving at `media` (up to 15 s for the first,
/// then until 500 ms pass without one).
fn count_packets(media: &std::net::UdpSocket) -> usize {
    let mut buffer = [0u8; 2048];
    media.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut heard = match media.recv_from(&mut buffer) {
        Ok((n, _)) if n == 12 + 160 => 1,
        _ => return 0,
    };
    media.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    while let Ok((n, _)) = media.recv_from(&mut buffer) {
        if n == 12 + 160 {
            heard += 1;
        }
    }
    heard
}

#[test]
fn voicemail_plays_the_greeting_then_records_into_the_voicemail_folder() {
    let dir = TestDir::new("tel-greeting");
    let greeting = tone_wav(&dir.0, "greeting.wav", 0.6);
    let mailbox = format!(
        "[[queues]]\nname = \"mailbox\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nmax_wait_seconds = 1\n\
         missed = {{ action = \"voicemail\", max_seconds = 5, greeting = \"{}\" }}\n\n\
         [[routes.phone]]\nnumber = \"+4930999000\"\nqueue = \"mailbox\"\n",
        greeting.display()
    );
    let messages = dir.0.join("messages");
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: format!("{HOTLINE}\n{mailbox}"),
        storage: format!("voicemail_dir = \"{}\"\n", messages.display()),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_voicemail", "+4930999000");
    // 0.6 s of greeting: 30 packets of 20 ms, all before the recording starts.
    let heard = count_packets(&media);
    assert!(heard >= 25, "greeting packets heard: {heard}\n{}", acdd.log_text());
    assert!(acdd.wait_for_log(&["recording voicemail"], Duration::from_secs(15)));
    let log = acdd.log_text();
    let greeted = log.find("greeting played").expect("the greeting ended");
    let recording = log.find("recording voicemail").unwrap();
    assert!(greeted < recording, "the greeting came first:\n{log}");
    // One second of speech (50 packets of 20 ms µ-law) into the recording,
    // which lasts 5 s from its start.
    let port = wait_for_media_port(&dir.0, &acdd);
    speak_one_second(&media, port);
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert!(acdd.wait_for_log(&["voicemail recorded", "stored=true"], Duration::from_secs(15)));
    let wav = messages.join("r1.wav");
    let size = std::fs::metadata(&wav).map(|m| m.len()).unwrap_or(0);
    assert!(
        size >= 44 + 8000,
        "a second of G.711 in {}: {size} bytes",
        wav.display()
    );
    assert!(!dir.0.join("data/voicemail").exists(), "not in the default folder");
}

#[test]
fn a_hangup_announcement_is_heard_then_bye_arrives() {
    let dir = TestDir::new("tel-announcement");
    let announcement = tone_wav(&dir.0, "closed.wav", 1.0);
    let farewell = format!(
        "[[queues]]\nname = \"farewell\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nmax_wait_seconds = 1\n\
         missed = {{ action = \"hangup\", announcement = \"{}\" }}\n\n\
         [[routes.phone]]\nnumber = \"+4930171717\"\nqueue = \"farewell\"\n",
        announcement.display()
    );
    let acdd = start_in(&dir, format!("{HOTLINE}\n{farewell}"), false);
    // Answered (200) for the announcement, then acdd's BYE.
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_voicemail", "+4930171717");
    let heard = count_packets(&media);
    assert!(
        heard >= 45,
        "announcement packets heard (1 s): {heard}\n{}",
        acdd.log_text()
    );
    let output = caller.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the caller got BYE: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        acdd.log_text()
    );
    assert!(acdd.wait_for_log(&["announcement played, hanging up"], Duration::from_secs(15)));
}

/// The RTP port in the SDP of the first INVITE in the SIPp message trace in `dir`.
fn invite_media_port(dir: &Path) -> Option<u16> {
    traced_media_port(dir, "INVITE sip:")
}

#[test]
fn an_operator_leg_that_rang_out_frees_its_media_ports_while_the_call_goes_on() {
    let (dir, acdd) = start("tel-leg-ports");
    let alice = Phone::start_with(&dir.0, &acdd, "alice", "operator_silent", &["-trace_msg"]);
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_answer");
    // `brisk` rings alice for a second, cancels her, then rings bob, who
    // answers; the caller talks for 4 s.
    let (_media, mut caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930888888");
    assert!(
        acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)),
        "{}",
        acdd.log_text()
    );
    assert!(
        invite_media_port(&dir.0.join("alice")).is_some(),
        "alice was rung with acdd's RTP port"
    );
    // The pool leases two pairs while the call goes on: the caller's and
    // bob's. Alice's went back when her leg was cancelled (a third pair
    // would still be leased otherwise).
    let pairs = value(&metrics(&acdd), "acdd_rtp_port_pairs_in_use", &[]);
    let talking = caller.try_wait().unwrap().is_none() && !acdd.log_text().contains("caller hung up");
    assert!(
        pairs == Some(2.0) && talking,
        "two port pairs leased while the call goes on (leased {pairs:?}, still talking {talking})\n{}",
        acdd.log_text()
    );
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
    assert_finished(bob, &acdd);
}

#[test]
fn sip_and_media_metrics_follow_a_call_with_audio() {
    let (dir, acdd) = start("tel-metrics");
    // One failed authentication: a wrong password (the 401 before is a
    // challenge, not a failure).
    let refused = SipClient::udp(acdd.udp).register(
        "bob",
        "not-bobs-password",
        None,
        Some(60),
        acdd::sip::DigestAlgorithm::Md5,
    );
    assert_eq!(refused.code, 403, "{}", refused.raw);
    let alice = echoing_alice(&dir.0, &acdd);
    let before = metrics(&acdd);
    assert_eq!(
        value(&before, "acdd_sip_registered_contacts", &[]),
        Some(1.0),
        "alice's phone"
    );
    assert_eq!(value(&before, "acdd_calls_active", &[]).unwrap_or(0.0), 0.0);
    assert_eq!(
        value(&before, "acdd_sip_auth_failures_total", &[("method", "REGISTER")]),
        Some(1.0)
    );
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930444444");
    let port = wait_for_media_port(&dir.0, &acdd);
    speak_one_second(&media, port);
    let during = metrics(&acdd);
    assert_eq!(value(&during, "acdd_calls_active", &[]), Some(1.0));
    assert_eq!(
        value(&during, "acdd_rtp_port_pairs_in_use", &[]),
        Some(2.0),
        "the caller's and alice's"
    );
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let after = loop {
        let after = metrics(&acdd);
        let settled = value(&after, "acdd_calls_active", &[]) == Some(0.0)
            && value(&after, "acdd_rtp_port_pairs_in_use", &[]) == Some(0.0);
        if settled || std::time::Instant::now() > deadline {
            break after;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let count = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels).unwrap_or(0.0);
    assert_eq!(count("acdd_calls_active", &[]), 0.0);
    assert_eq!(count("acdd_rtp_port_pairs_in_use", &[]), 0.0);
    assert_eq!(
        count("acdd_rtp_port_pairs", &[]),
        500.0,
        "the default range 20000-20999"
    );
    // The trunk's INVITE and BYE were answered 2xx; acdd's INVITE to alice
    // was answered 2xx; alice's REGISTERs were challenged (4xx), then 2xx.
    let transactions = |direction: &str, method: &str, class: &str| {
        count(
            "acdd_sip_transactions_total",
            &[("direction", direction), ("method", method), ("class", class)],
        )
    };
    assert_eq!(transactions("in", "INVITE", "2xx"), 1.0);
    assert_eq!(transactions("in", "BYE", "2xx"), 1.0);
    assert_eq!(transactions("out", "INVITE", "2xx"), 1.0);
    assert_eq!(transactions("out", "BYE", "2xx"), 1.0, "acdd hung alice up");
    assert!(transactions("in", "REGISTER", "2xx") >= 1.0);
    assert!(
        transactions("in", "REGISTER", "4xx") >= 2.0,
        "challenges and the refusal"
    );
    // 50 packets each way: the caller's to alice, and alice's echo back.
    let received = count("acdd_rtp_packets_received_total", &[]);
    let relayed = count("acdd_rtp_packets_relayed_total", &[]);
    assert!((80.0..=100.0).contains(&received), "received {received}");
    assert!((80.0..=100.0).contains(&relayed), "relayed {relayed}");
    assert_eq!(count("acdd_rtp_packets_lost_total", &[]), 0.0);
    // Every telephony metric the Grafana dashboard uses is exported.
    let dashboard = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/grafana/acdd.json")).unwrap();
    let unknown: Vec<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            ["acdd_sip_", "acdd_rtp_", "acdd_calls_", "acdd_call_recordings_"]
                .iter()
                .any(|p| w.starts_with(p))
        })
        .filter(|w| !after.samples.iter().any(|s| s.metric == *w))
        .collect();
    assert!(
        unknown.is_empty(),
        "the dashboard uses metrics acdd does not export: {unknown:?}"
    );
}

#[test]
fn under_a_low_open_files_limit_fewer_rtp_pairs_stay_open_and_calls_go_on() {
    require_program("prlimit", "util-linux");
    let dir = TestDir::new("tel-open-files");
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: HOTLINE.into(),
        http: true,
        // (1,100 − 1,024 reserved) / 2: 38 pairs may stay open, of the
        // default range's 500.
        open_files: Some(1100),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    assert!(
        acdd.wait_for_log(
            &["open-files limit is below", "rtp_pairs=38", "range_pairs=500"],
            Duration::from_secs(5)
        ),
        "{}",
        acdd.log_text()
    );
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_answer");
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_call", "+4930444444");
    assert!(ok, "SIPp caller failed:\n{output}\n{}", acdd.log_text());
    assert_finished(alice, &acdd);
    let calls = value(
        &metrics(&acdd),
        "acdd_sip_transactions_total",
        &[("direction", "in"), ("method", "INVITE"), ("class", "2xx")],
    );
    assert_eq!(calls, Some(1.0), "the call was answered and bridged");
}

/// A queue that records its calls (+4930777666, alice), and the admin token.
const TAPED: &str = "[[queues]]\nname = \"taped\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\n\
                     check_availability = false\nrecord_calls = true\n\n[[routes.phone]]\nnumber = \"+4930777666\"\n\
                     queue = \"taped\"\n\n[admin]\ntoken = \"taped-admin-token\"\n";

#[test]
fn a_call_recording_cut_off_by_a_kill_is_repaired_and_linked_after_the_restart() {
    let dir = TestDir::new("tel-record-kill");
    let mut acdd = start_in(&dir, format!("{HOTLINE}\n{TAPED}"), true);
    let _alice = echoing_alice(&dir.0, &acdd);
    let (media, _caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930777666");
    let port = wait_for_media_port(&dir.0, &acdd);
    assert!(acdd.wait_for_log(&["recording the call"], Duration::from_secs(10)));
    // A second and a half of speech, then the daemon dies mid-call.
    for sequence in 0..75u16 {
        media
            .send_to(&pcmu_packet(sequence, 0x20), ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let part = dir.0.join("data/recordings/r1.wav.part");
    assert!(part.exists(), "the recording is unfinished while the call goes on");
    acdd.kill_and_restart();
    assert!(
        acdd.wait_for_log(
            &["unfinished call recording recovered", "request=1", "stored=true"],
            Duration::from_secs(10)
        ),
        "{}",
        acdd.log_text()
    );
    assert!(!part.exists());
    let (status, head, wav) = acdd.api_bytes("GET", "/api/v1/recordings/1", "taped-admin-token", "");
    assert_eq!(status, 200, "{head}");
    // A readable WAV whose sizes match the file, holding most of the speech
    // (what sat in the writer's buffer when the kill came is lost).
    let data_at = wav.windows(4).position(|w| w == b"data").expect("a data chunk") + 8;
    let data = u32::from_le_bytes(wav[data_at - 4..data_at].try_into().unwrap()) as usize;
    assert_eq!(
        u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize,
        wav.len() - 8
    );
    assert_eq!(data, wav.len() - data_at);
    let frames = data / 4;
    assert!(
        (4_000..=14_000).contains(&frames),
        "{frames} stereo frames kept of 12,000 spoken"
    );
    let (_, card) = acdd.api("GET", "/api/v1/customers?phone=%2B4930555000", "taped-admin-token", "");
    assert!(card.contains("data/recordings/r1.wav"), "{card}");
}

#[test]
fn recordings_and_voicemails_past_their_keep_days_are_deleted_at_start() {
    let dir = TestDir::new("tel-retention");
    let day = Duration::from_secs(24 * 3600);
    let written = |path: &Path, age: Duration| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(path).unwrap();
        file.set_modified(std::time::SystemTime::now() - age).unwrap();
    };
    let recordings = dir.0.join("data/recordings");
    let voicemail = dir.0.join("data/voicemail");
    written(&recordings.join("r1.wav"), day * 31);
    written(&recordings.join("r2.wav"), day * 29);
    written(&voicemail.join("r3.wav"), day * 8);
    written(&voicemail.join("r4.wav"), day * 6);
    written(&voicemail.join("greeting.wav"), day * 400);
    let setup = Setup {
        storage: "recordings_keep_days = 30\nvoicemail_keep_days = 7\n".into(),
        extra: format!("{HOTLINE}\n{TAPED}"),
        http: true,
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    for kind in ["kind=\"call\"", "kind=\"voicemail\""] {
        assert!(
            acdd.wait_for_log(
                &["expired recordings deleted", kind, "deleted=1"],
                Duration::from_secs(10)
            ),
            "{}",
            acdd.log_text()
        );
    }
    let get = |path: &str| acdd.api("GET", path, "taped-admin-token", "").0;
    assert_eq!(get("/api/v1/recordings/1"), 404, "31 days old, kept for 30");
    assert_eq!(get("/api/v1/recordings/2"), 200);
    assert_eq!(get("/api/v1/voicemail/3"), 404, "8 days old, kept for 7");
    assert_eq!(get("/api/v1/voicemail/4"), 200);
    assert!(
        voicemail.join("greeting.wav").exists(),
        "only files named like recordings go"
    );
    let scrape = metrics(&acdd);
    for kind in ["call", "voicemail"] {
        let deleted = value(&scrape, "acdd_recordings_deleted_total", &[("kind", kind)]);
        assert_eq!(deleted, Some(1.0), "{kind}");
    }
}

#[test]
fn an_operator_pauses_and_resumes_the_recording_with_star_one_on_the_phone() {
    let dir = TestDir::new("tel-record-keys");
    let acdd = start_in(&dir, format!("{HOTLINE}\n{TAPED}"), true);
    let alice_media = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice_port = alice_media.local_addr().unwrap().port().to_string();
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        "operator_answer_media",
        &["-key", "rtp_port", &alice_port, "-trace_msg"],
    );
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930777666");
    let port = wait_for_media_port(&dir.0, &acdd);
    assert!(acdd.wait_for_log(&["recording the call"], Duration::from_secs(10)));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let alice_leg = loop {
        if let Some(port) = traced_media_port(&dir.0.join("alice"), "INVITE sip:") {
            break port;
        }
        assert!(std::time::Instant::now() < deadline, "no INVITE to alice traced");
        std::thread::sleep(Duration::from_millis(50));
    };
    let speak = |from: u16| speak_for_recording(&media, port, from);
    // alice presses `*` (event 10) and `1`, each as three packets of one event.
    let mut sequence = 0u16;
    let mut press_star_one = |timestamp: u32| {
        for (key, ts) in [(10u8, timestamp), (1, timestamp + 800)] {
            for end in [false, true, true] {
                alice_media
                    .send_to(&key_packet(sequence, ts, key, end), ("127.0.0.1", alice_leg))
                    .unwrap();
                sequence += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    // 0.6 s kept, 0.6 s paused, 0.6 s kept.
    speak(0);
    press_star_one(1_000);
    assert!(
        acdd.wait_for_log(
            &["call recording paused or resumed", "paused=true", "from=\"phone\""],
            Duration::from_secs(5)
        ),
        "{}",
        acdd.log_text()
    );
    let (_, calls) = acdd.api("GET", "/api/v1/calls", "taped-admin-token", "");
    assert!(calls.contains(r#""recording_paused":true"#), "{calls}");
    speak(30);
    press_star_one(9_000);
    assert!(acdd.wait_for_log(&["paused=false", "from=\"phone\""], Duration::from_secs(5)));
    speak(60);
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
    assert!(
        acdd.wait_for_log(&["call recorded"], Duration::from_secs(10)),
        "{}",
        acdd.log_text()
    );
    let (kept, longest_gap) = speech_in_recording(&dir.0.join("data/recordings/r1.wav"));
    assert!(
        (50..=66).contains(&kept) && longest_gap >= 22,
        "{kept} blocks of speech kept (60 spoken outside the pause), longest silence inside {longest_gap} blocks (30 paused)"
    );
}

/// 0.6 s of the caller's speech (µ-law 0x20) to acdd's `port`, packets
/// numbered from `from`.
fn speak_for_recording(media: &std::net::UdpSocket, port: u16, from: u16) {
    for sequence in from..from + 30 {
        media
            .send_to(&pcmu_packet(sequence, 0x20), ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The caller's channel of a call recording in 20 ms blocks of the test's
/// speech (µ-law 0x20): how many blocks hold it, and the longest run of
/// blocks without it between the first and the last.
fn speech_in_recording(path: &Path) -> (usize, usize) {
    let wav = std::fs::read(path).unwrap();
    let data_at = wav.windows(4).position(|w| w == b"data").unwrap() + 8;
    let speech = {
        let mut pcm = Vec::new();
        acdd::media::G711::Ulaw.decode(&[0x20], &mut pcm);
        pcm[0]
    };
    let left: Vec<i16> = wav[data_at..]
        .chunks_exact(4)
        .map(|f| i16::from_le_bytes([f[0], f[1]]))
        .collect();
    let spoken: Vec<bool> = left
        .chunks(160)
        .map(|b| b.iter().filter(|s| **s == speech).count() > 80)
        .collect();
    let first = spoken.iter().position(|s| *s).expect("speech");
    let last = spoken.iter().rposition(|s| *s).unwrap();
    let kept = spoken.iter().filter(|s| **s).count();
    let longest_gap = spoken[first..=last]
        .split(|s| *s)
        .map(|gap| gap.len())
        .max()
        .unwrap_or(0);
    (kept, longest_gap)
}

#[test]
fn an_operator_pauses_the_recording_while_the_customer_gives_card_details() {
    let dir = TestDir::new("tel-record-pause");
    let acdd = start_in(&dir, format!("{HOTLINE}\n{TAPED}"), true);
    let alice = echoing_alice(&dir.0, &acdd);
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930777666");
    let port = wait_for_media_port(&dir.0, &acdd);
    assert!(acdd.wait_for_log(&["recording the call"], Duration::from_secs(10)));
    let speak = |from: u16| speak_for_recording(&media, port, from);
    let operator = |what: &str| {
        acdd.api(
            "POST",
            &format!("/api/v1/operators/me/recording/{what}"),
            "alice-operator-api-token",
            "",
        )
    };
    // 0.6 s kept, 0.6 s paused, 0.6 s kept.
    speak(0);
    let (status, body) = operator("pause");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""recording":"paused""#), "{body}");
    speak(30);
    assert_eq!(operator("resume").0, 200);
    speak(60);
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_finished(alice, &acdd);
    assert!(
        acdd.wait_for_log(&["call recorded"], Duration::from_secs(10)),
        "{}",
        acdd.log_text()
    );
    // The call is over: nothing to pause.
    let (status, body) = operator("pause");
    assert_eq!(status, 404, "{body}");
    let (kept, longest_gap) = speech_in_recording(&dir.0.join("data/recordings/r1.wav"));
    assert!(
        (50..=66).contains(&kept) && longest_gap >= 22,
        "{kept} blocks of speech kept (60 spoken outside the pause), longest silence inside {longest_gap} blocks (30 paused)"
    );
}
