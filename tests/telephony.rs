//! Telephony with the real binary on loopback and SIPp as the trunk caller:
//! a call is stored, announced and rung back; the engine's missed action
//! hangs it up; a caller who cancels abandons the request.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
    assert!(acdd.wait_for_log(&["call queued"], Duration::from_secs(2)));
    assert!(acdd.wait_for_log(&["missed call: hanging up", "MaxWait"], Duration::from_secs(2)));
}

#[test]
fn a_caller_who_cancels_while_queued_abandons_the_request() {
    let (dir, acdd) = start("tel-cancel");
    // `support` has no max wait: only the caller can end this call.
    let (ok, output) = sipp_call(&dir.0, &acdd, "trunk_cancel", "+4930111111");
    assert!(ok, "SIPp cancelling caller failed:\n{output}\n{}", acdd.log_text());
    assert!(acdd.wait_for_log(&["caller left the queue"], Duration::from_secs(2)));
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
