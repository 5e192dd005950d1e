//! Supervisors on operators' calls, with the real binary on loopback: a
//! SIPp trunk caller, alice's SIPp phone answering and carol's SIPp phone
//! dialling `*81`/`*82`/`*83` + alice's extension (or bob's, who picked a
//! call up), each with its audio at a UDP socket of the test, which speaks
//! a constant sample from each and checks what each hears (the mixes acdd
//! makes). Refusals: not a
//! supervisor of the queue (403), nobody in a call or no such extension
//! (404).

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

use acdd::media::G711;
use common::phone::Phone;
use common::scrape::{scrape, value};
use common::sipp_calls::{assert_succeeded, dial_as_with, media_caller, spawn_dial_as, traced_media_port};
use common::{Acdd, Setup, TestDir};

const CONFIG: &str = r#"
[admin]
token = "supervision-admin-token"

[[trunks]]
name = "carrier"
sources = ["127.0.0.1/32"]

[[operators]]
id = "carol"
extension = "103"
sip_username = "carol"
sip_password = "carol-secret"

[[queues]]
name = "desk"
channels = ["phone"]
operators = ["alice", "bob"]
mode = "in_order"
check_availability = false
supervisors = ["carol"]

[[routes.phone]]
number = "+4930444444"
queue = "desk"

[[queues]]
name = "pickme"
channels = ["phone"]
operators = ["alice"]
pickup = true
check_availability = false
supervisors = ["carol"]

[[routes.phone]]
number = "+4930121212"
queue = "pickme"
"#;

/// Where operators dial from (the trunk is 127.0.0.1).
const OPERATORS_IP: &str = "127.0.0.2";

/// What each party says (a constant sample).
const SAID: i16 = 1000;
const ANSWERED: i16 = -3000;
const WHISPERED: i16 = 500;

/// A caller bridged with alice; carol's phone not dialled yet.
struct Call {
    acdd: Acdd,
    dir: TestDir,
    caller: std::process::Child,
    alice: Phone,
    /// The caller's and alice's audio ends, with acdd's port for each.
    caller_media: (UdpSocket, u16),
    alice_media: (UdpSocket, u16),
}

fn start(dir: &TestDir) -> Acdd {
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: CONFIG.into(),
        http: true,
        ..Setup::default()
    };
    Acdd::start(&dir.0, &setup)
}

fn bridged_call(name: &str) -> Call {
    bridged_call_with(name, "operator_answer_media")
}

/// `bridged_call` with alice's phone running `scenario` (its audio at
/// `-key rtp_port`).
fn bridged_call_with(name: &str, scenario: &str) -> Call {
    let dir = TestDir::new(name);
    let acdd = start(&dir);
    let alice_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice_port = alice_socket.local_addr().unwrap().port().to_string();
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        scenario,
        &["-key", "rtp_port", &alice_port, "-trace_msg"],
    );
    let (caller_socket, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930444444");
    assert!(
        acdd.wait_for_log(&["call bridged"], Duration::from_secs(10)),
        "{}",
        acdd.log_text()
    );
    let caller_port = wait_for_port(&dir.0, "SIP/2.0 200 OK", &acdd);
    let alice_port = wait_for_port(&dir.0.join("alice"), "INVITE sip:", &acdd);
    Call {
        acdd,
        dir,
        caller,
        alice,
        caller_media: (caller_socket, caller_port),
        alice_media: (alice_socket, alice_port),
    }
}

impl Call {
    /// The caller, alice and carol (her socket, acdd's port for her), each
    /// with acdd's port for them and what they say, for `talk`.
    fn parties_with<'a>(&'a self, carol: &'a UdpSocket, carol_port: u16) -> [(&'a UdpSocket, u16, i16); 3] {
        [
            (&self.caller_media.0, self.caller_media.1, SAID),
            (&self.alice_media.0, self.alice_media.1, ANSWERED),
            (carol, carol_port, WHISPERED),
        ]
    }
}

/// acdd's RTP port in the SDP of the first message starting with `marker`
/// in the SIPp trace in `dir`, once it is there.
fn wait_for_port(dir: &Path, marker: &str, acdd: &Acdd) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(port) = traced_media_port(dir, marker) {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "no SDP in {}:\n{}",
            dir.display(),
            acdd.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// carol's phone dialling `code` with `scenario`, her audio at the returned
/// socket; returns once acdd says she joined, with acdd's port for her.
fn carol_joins(dir: &Path, acdd: &Acdd, scenario: &str, code: &str) -> (std::process::Child, UdpSocket, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port().to_string();
    let carol = spawn_dial_as(
        dir,
        acdd,
        scenario,
        code,
        "carol",
        OPERATORS_IP,
        "carol",
        &["-key", "rtp_port", &port, "-trace_msg"],
    );
    assert!(
        acdd.wait_for_log(&["supervisor joined the call"], Duration::from_secs(10)),
        "{}",
        acdd.log_text()
    );
    let acdd_port = wait_for_port(&dir.join("carol"), "SIP/2.0 200 OK", acdd);
    (carol, socket, acdd_port)
}

/// Every 20 ms for `frames` frames, each party (its socket, acdd's port
/// for it, its sample) sends a frame of its sample; returns per party the
/// decoded frames it heard meanwhile.
fn talk(parties: &[(&UdpSocket, u16, i16)], first: u16, frames: u16) -> Vec<Vec<Vec<i16>>> {
    let mut heard = vec![Vec::new(); parties.len()];
    let mut buffer = [0u8; 2048];
    for (socket, _, _) in parties {
        socket.set_nonblocking(true).unwrap();
    }
    let start = Instant::now();
    for n in 0..frames {
        for (i, (socket, port, sample)) in parties.iter().enumerate() {
            let mut packet = vec![0x80, 0x00];
            packet.extend_from_slice(&(first + n).to_be_bytes());
            packet.extend_from_slice(&(u32::from(first + n) * 160).to_be_bytes());
            packet.extend_from_slice(&(0x5000 + i as u32).to_be_bytes());
            G711::Ulaw.encode(&[*sample; 160], &mut packet);
            socket.send_to(&packet, ("127.0.0.1", *port)).unwrap();
        }
        let until = start + Duration::from_millis(20 * u64::from(n + 1));
        while Instant::now() < until {
            for (i, (socket, _, _)) in parties.iter().enumerate() {
                while let Ok((len, _)) = socket.recv_from(&mut buffer) {
                    if len > 12 && buffer[1] & 0x7f == 0 {
                        let mut pcm = Vec::new();
                        G711::Ulaw.decode(&buffer[12..len], &mut pcm);
                        heard[i].push(pcm);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    heard
}

/// A sample as heard through G.711.
fn through(sample: i16) -> i16 {
    let (mut bytes, mut pcm) = (Vec::new(), Vec::new());
    G711::Ulaw.encode(&[sample], &mut bytes);
    G711::Ulaw.decode(&bytes, &mut pcm);
    pcm[0]
}

/// What a mix of parties saying `samples` sounds like.
fn mix(samples: &[i16]) -> i16 {
    through(samples.iter().map(|s| through(*s)).sum())
}

/// How many of `frames` are all `sample`.
fn frames_of(frames: &[Vec<i16>], sample: i16) -> usize {
    frames.iter().filter(|f| f.iter().all(|s| *s == sample)).count()
}

#[test]
fn a_whispering_supervisor_is_heard_by_the_operator_only_and_leaving_restores_the_bridge() {
    let call = bridged_call("sup-whisper");
    let (carol, carol_socket, carol_port) = carol_joins(&call.dir.0, &call.acdd, "supervisor_leaves", "*82101");
    // The wallboard shows the call, who talks in it and who whispers.
    let (status, body) = call.acdd.api("GET", "/api/v1/calls", "supervision-admin-token", "");
    assert_eq!(status, 200, "{body}");
    let calls: serde_json::Value = serde_json::from_str(&body).unwrap();
    let calls = calls["calls"].as_array().expect("a list of calls");
    assert_eq!(calls.len(), 1, "{body}");
    let shown = &calls[0];
    assert_eq!(
        (
            &shown["phase"],
            &shown["queue"],
            &shown["operator"],
            &shown["supervisor"],
            &shown["supervision"],
            &shown["caller"]
        ),
        (
            &serde_json::json!("bridged"),
            &serde_json::json!("desk"),
            &serde_json::json!("alice"),
            &serde_json::json!("carol"),
            &serde_json::json!("whisper"),
            &serde_json::json!("+4930555000")
        ),
        "{body}"
    );
    let parties = call.parties_with(&carol_socket, carol_port);
    let heard = talk(&parties, 0, 40);
    let counts = (
        frames_of(&heard[0], through(ANSWERED)),
        frames_of(&heard[1], mix(&[SAID, WHISPERED])),
        frames_of(&heard[2], mix(&[SAID, ANSWERED])),
    );
    assert!(
        counts.0 >= 30 && counts.1 >= 25 && counts.2 >= 25,
        "of 40 frames: the caller heard alice {}, alice heard caller + carol {}, carol heard both {}\n{}",
        counts.0,
        counts.1,
        counts.2,
        call.acdd.log_text()
    );
    // carol hangs up after 1.5 s: caller and alice hear each other plainly.
    assert_succeeded("carol", &carol.wait_with_output().unwrap(), &call.acdd);
    assert!(
        call.acdd
            .wait_for_log(&["supervisor left the call"], Duration::from_secs(5))
    );
    let heard = talk(&parties[..2], 40, 20);
    assert!(
        frames_of(&heard[0], through(ANSWERED)) >= 15 && frames_of(&heard[1], through(SAID)) >= 15,
        "after carol left: {} and {} of 20 plain frames",
        frames_of(&heard[0], through(ANSWERED)),
        frames_of(&heard[1], through(SAID))
    );
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), &call.acdd);
    let (ok, output) = call.alice.finish();
    assert!(ok, "{output}");
    let metrics = scrape(call.acdd.http.unwrap());
    assert_eq!(
        value(&metrics, "acdd_supervisions_total", &[("mode", "whisper")]),
        Some(1.0)
    );
}

#[test]
fn a_whisper_goes_on_after_the_operator_holds_and_resumes() {
    let call = bridged_call_with("sup-hold", "operator_hold_media");
    let (carol, carol_socket, carol_port) = carol_joins(&call.dir.0, &call.acdd, "supervisor", "*82101");
    // alice holds 2 s after answering and resumes 300 ms later.
    assert!(
        call.acdd
            .wait_for_log(&["holds or resumes", "holds=false"], Duration::from_secs(6)),
        "{}",
        call.acdd.log_text()
    );
    let parties = call.parties_with(&carol_socket, carol_port);
    let heard = talk(&parties, 0, 40);
    let counts = (
        frames_of(&heard[0], through(ANSWERED)),
        frames_of(&heard[1], mix(&[SAID, WHISPERED])),
    );
    assert!(
        counts.0 >= 30 && counts.1 >= 25,
        "after the resume, of 40 frames: the caller heard alice {}, alice heard caller + carol {}\n{}",
        counts.0,
        counts.1,
        call.acdd.log_text()
    );
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), &call.acdd);
    assert_succeeded("carol", &carol.wait_with_output().unwrap(), &call.acdd);
    let (ok, output) = call.alice.finish();
    assert!(ok, "{output}");
}

#[test]
fn a_joining_supervisor_makes_a_three_way_call_and_is_hung_up_when_it_ends() {
    let call = bridged_call("sup-join");
    let (carol, carol_socket, carol_port) = carol_joins(&call.dir.0, &call.acdd, "supervisor", "*83101");
    let parties = call.parties_with(&carol_socket, carol_port);
    let heard = talk(&parties, 0, 40);
    let counts = (
        frames_of(&heard[0], mix(&[ANSWERED, WHISPERED])),
        frames_of(&heard[1], mix(&[SAID, WHISPERED])),
        frames_of(&heard[2], mix(&[SAID, ANSWERED])),
    );
    assert!(
        counts.0 >= 25 && counts.1 >= 25 && counts.2 >= 25,
        "of 40 frames, each heard the other two: {counts:?}\n{}",
        call.acdd.log_text()
    );
    // The caller hangs up: alice and carol get BYE.
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), &call.acdd);
    assert_succeeded("carol", &carol.wait_with_output().unwrap(), &call.acdd);
    let (ok, output) = call.alice.finish();
    assert!(ok, "{output}");
    assert!(
        call.acdd
            .log_text()
            .contains("supervised call over: hanging up the supervisor")
    );
}

#[test]
fn only_a_queues_supervisor_may_listen_and_only_to_a_call_in_progress() {
    let call = bridged_call("sup-refused");
    let refused = |user: &str, code: &str| {
        let output = dial_as_with(
            &call.dir.0,
            &call.acdd,
            "picker_refused",
            code,
            user,
            OPERATORS_IP,
            &format!("{user}{code}"),
            &[],
        );
        String::from_utf8_lossy(&output.stdout).to_string()
            + &common::sipp_logs(&call.dir.0.join(format!("{user}{code}")), &["_errors.log"])
    };
    // bob is no supervisor of the desk; carol dials an extension nobody
    // has, and bob's, who is in no call.
    let bob = refused("bob", "*81101");
    assert!(
        call.acdd
            .wait_for_log(&["supervision refused", "status=403"], Duration::from_secs(5)),
        "{bob}"
    );
    let _ = refused("carol", "*81109");
    let _ = refused("carol", "*81102");
    let log = call.acdd.log_text();
    assert_eq!(log.matches("supervision refused").count(), 3, "{log}");
    assert_eq!(log.matches("status=404").count(), 2, "{log}");
    assert!(!log.contains("supervisor joined the call"), "{log}");
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), &call.acdd);
}

#[test]
fn a_supervisor_listens_to_a_call_a_colleague_picked_up() {
    let dir = TestDir::new("sup-picked");
    let acdd = start(&dir);
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_silent");
    let (caller_socket, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", "+4930121212");
    assert!(acdd.wait_for_log(&["ringing operator", "operator=alice"], Duration::from_secs(10)));
    // bob (102) picks up what rings for alice; carol listens to bob.
    let bob = spawn_dial_as(&dir.0, &acdd, "picker", "**101", "bob", OPERATORS_IP, "bob", &[]);
    assert!(
        acdd.wait_for_log(&["call picked up"], Duration::from_secs(10)),
        "{}",
        acdd.log_text()
    );
    let caller_port = wait_for_port(&dir.0, "SIP/2.0 200 OK", &acdd);
    let (carol, carol_socket, carol_port) = carol_joins(&dir.0, &acdd, "supervisor", "*81102");
    let heard = talk(
        &[
            (&caller_socket, caller_port, SAID),
            (&carol_socket, carol_port, WHISPERED),
        ],
        0,
        40,
    );
    // bob's phone sends no audio: carol hears the caller; the caller hears nothing of her.
    let (carol_heard, caller_heard) = (
        frames_of(&heard[1], mix(&[SAID])),
        frames_of(&heard[0], through(WHISPERED)),
    );
    assert!(
        carol_heard >= 25 && caller_heard == 0,
        "carol {carol_heard}, caller {caller_heard} of 40\n{}",
        acdd.log_text()
    );
    assert_succeeded("caller", &caller.wait_with_output().unwrap(), &acdd);
    assert_succeeded("bob", &bob.wait_with_output().unwrap(), &acdd);
    assert_succeeded("carol", &carol.wait_with_output().unwrap(), &acdd);
    let (ok, output) = alice.finish();
    assert!(ok, "alice's phone stopped ringing: {output}");
}
