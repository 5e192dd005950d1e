//! Calls that leave the queue's operators, with the real binary on loopback
//! and SIPp peers: a missed call forwarded through the outbound gateway (a
//! SIPp UAS), and blind transfers with REFER from the answering operator's
//! phone to another operator's extension, to a queue's number and to an
//! outside number (NOTIFYs with `message/sipfrag`, the operator's leg
//! released with BYE, the new party bridged), and a transfer asked through
//! the HTTP API while the call is bridged. The CRM's responsible follows a
//! transfer in a queue with `transfer_changes_responsible`.

mod common;

use std::time::{Duration, Instant};

use common::phone::Phone;
use common::{Acdd, Setup, TestDir};

const ADMIN: &str = "transfer-admin-token";

/// Queues for these tests; `{flag}` is the desk's `transfer_changes_responsible`.
const QUEUES: &str = r#"
[admin]
token = "transfer-admin-token"

[[trunks]]
name = "carrier"
sources = ["127.0.0.1/32"]

[[queues]]
name = "away"
channels = ["phone"]
operators = ["alice"]
max_wait_seconds = 1
missed = { action = "forward", to = "+4930999999" }

[[routes.phone]]
number = "+4930333333"
queue = "away"

[[queues]]
name = "desk"
channels = ["phone"]
operators = ["alice", "bob"]
mode = "in_order"
check_availability = false
transfer_changes_responsible = {flag}

[[routes.phone]]
number = "+4930444444"
queue = "desk"

[[queues]]
name = "second"
channels = ["phone"]
operators = ["bob"]
check_availability = false

[[routes.phone]]
number = "+4930555555"
queue = "second"
"#;

/// acdd with the gateway at `gateway` (a port on 127.0.0.1), HTTP on.
fn start(name: &str, gateway: u16, changes_responsible: bool) -> (TestDir, Acdd) {
    let dir = TestDir::new(name);
    let acdd = start_in(&dir, gateway, changes_responsible);
    (dir, acdd)
}

fn start_in(dir: &TestDir, gateway: u16, changes_responsible: bool) -> Acdd {
    let setup = Setup {
        sip: format!(
            "qualify_interval_seconds = 0\noutbound_gateway = \"127.0.0.1:{gateway}\"\noutbound_ring_seconds = 10"
        ),
        extra: QUEUES.replace("{flag}", &changes_responsible.to_string()),
        http: true,
        ..Setup::default()
    };
    Acdd::start(&dir.0, &setup)
}

fn assert_ok(phone: Phone, acdd: &Acdd) {
    let (ok, output) = phone.finish();
    assert!(ok, "SIPp peer failed:\n{output}\n{}", acdd.log_text());
}

/// The caller was bridged twice: with the first operator, then with the
/// one the transfer brought.
fn assert_bridged_twice(acdd: &Acdd) {
    let log = acdd.log_text();
    assert_eq!(log.matches("call bridged").count(), 2, "{log}");
}

/// A port nobody listens on (for tests that need no gateway).
fn no_gateway() -> u16 {
    common::free_port("127.0.0.1")
}

/// The admin look-up of the caller +4930555000 (SIPp's From), as JSON text.
fn caller_card(acdd: &Acdd) -> String {
    acdd.api("GET", "/api/v1/customers?phone=%2B4930555000", ADMIN, "").1
}

/// Waits until the caller's stored responsible is `operator`.
fn wait_for_responsible(acdd: &Acdd, operator: &str) -> bool {
    let needle = format!("\"responsible\":\"{operator}\"");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if caller_card(acdd).contains(&needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_missed_call_is_forwarded_through_the_gateway_and_bridged() {
    let dir = TestDir::new("xfer-forward-gw");
    let gateway = Phone::uas(&dir.0, "gateway", "gateway_answer", &[]);
    let acdd = start_in(&dir, gateway.port, false);
    // 100, 180 while queued; 200 once the gateway answered; BYE after a second.
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call", "+4930333333");
    assert_ok(caller, &acdd);
    // The gateway got the INVITE for the number, answered, and got the caller's BYE.
    assert_ok(gateway, &acdd);
    assert!(acdd.wait_for_log(&["missed call: forwarding"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["forwarded call bridged"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["caller hung up (forwarded call)"], Duration::from_secs(15)));
}

#[test]
fn the_forwarded_party_hanging_up_ends_the_call_for_the_caller() {
    let dir = TestDir::new("xfer-forward-bye-gw");
    let gateway = Phone::uas(&dir.0, "gateway", "operator_hangup", &[]);
    let acdd = start_in(&dir, gateway.port, false);
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930333333");
    assert_ok(caller, &acdd);
    assert_ok(gateway, &acdd);
    assert!(acdd.wait_for_log(&["the forwarded party hung up"], Duration::from_secs(15)));
}

#[test]
fn a_forward_the_gateway_refuses_hangs_the_caller_up_with_480() {
    let dir = TestDir::new("xfer-forward-busy-gw");
    let gateway = Phone::uas(&dir.0, "gateway", "operator_busy", &[]);
    let acdd = start_in(&dir, gateway.port, false);
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_missed", "+4930333333");
    assert_ok(caller, &acdd);
    assert_ok(gateway, &acdd);
    assert!(acdd.wait_for_log(&["forward failed", "status=486"], Duration::from_secs(15)));
}

#[test]
fn refer_to_an_extension_rings_that_operator_and_makes_them_responsible() {
    let (dir, acdd) = start("xfer-refer-ext", no_gateway(), true);
    let alice = Phone::start_with(&dir.0, &acdd, "alice", "operator_refer", &["-key", "refer_to", "102"]);
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_hangup");
    // alice answers, transfers to bob (extension 102); bob answers, talks and hangs up.
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert_ok(bob, &acdd);
    assert!(acdd.wait_for_log(&["REFER accepted", "refer_to=sip:102@"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["call transferred"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
    assert_bridged_twice(&acdd);
    assert!(
        wait_for_responsible(&acdd, "bob"),
        "bob, who took the transfer, is the customer's responsible now:\n{}\n{}",
        caller_card(&acdd),
        acdd.log_text()
    );
}

#[test]
fn a_transfer_through_the_api_moves_the_bridged_call_to_the_other_operator() {
    let (dir, acdd) = start("xfer-api", no_gateway(), true);
    // alice answers and stays until acdd's BYE; bob answers, talks, hangs up.
    let alice = Phone::start(&dir.0, &acdd, "alice", "operator_answer");
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_hangup");
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert!(
        acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)),
        "{}",
        acdd.log_text()
    );
    let (status, requests) = acdd.api("GET", "/api/v1/requests", ADMIN, "");
    assert_eq!(status, 200, "{requests}");
    let requests: serde_json::Value = serde_json::from_str(&requests).expect("JSON");
    let conversation = requests["requests"][0]["conversation"]
        .as_i64()
        .expect("a conversation");
    let path = format!("/api/v1/conversations/{conversation}/transfer");
    // Only the operator holding the call may transfer it.
    let (status, _) = acdd.api("POST", &path, ADMIN, r#"{"operator":"bob"}"#);
    assert_eq!(status, 401);
    let (status, body) = acdd.api("POST", &path, "alice-operator-api-token", r#"{"operator":"bob"}"#);
    assert_eq!(status, 202, "{body}\n{}", acdd.log_text());
    // alice got acdd's BYE, bob answered and hung up, the caller got acdd's BYE.
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert_ok(bob, &acdd);
    assert!(acdd.wait_for_log(&["call transferred", "by_refer=false"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
    assert_bridged_twice(&acdd);
    assert!(
        wait_for_responsible(&acdd, "bob"),
        "bob, who took the transfer, is the customer's responsible now:\n{}",
        caller_card(&acdd)
    );
}

#[test]
fn without_the_queue_flag_a_transfer_keeps_the_responsible() {
    let (dir, acdd) = start("xfer-refer-keep", no_gateway(), false);
    let alice = Phone::start_with(&dir.0, &acdd, "alice", "operator_refer", &["-key", "refer_to", "102"]);
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_hangup");
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert_ok(bob, &acdd);
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
    assert!(
        wait_for_responsible(&acdd, "alice"),
        "alice, the first to take the call, stays responsible:\n{}",
        caller_card(&acdd)
    );
}

#[test]
fn refer_to_a_queue_number_puts_the_call_into_that_queue() {
    let (dir, acdd) = start("xfer-refer-queue", no_gateway(), false);
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        "operator_refer",
        &["-key", "refer_to", "+4930555555"],
    );
    let bob = Phone::start(&dir.0, &acdd, "bob", "operator_hangup");
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert_ok(bob, &acdd);
    assert!(acdd.wait_for_log(&["transfer asked", "Queue(\"second\")"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["call transferred"], Duration::from_secs(15)));
    assert_bridged_twice(&acdd);
}

#[test]
fn refer_to_an_outside_number_dials_it_through_the_gateway() {
    let dir = TestDir::new("xfer-refer-out-gw");
    let gateway = Phone::uas(&dir.0, "gateway", "operator_hangup", &[]);
    let acdd = start_in(&dir, gateway.port, false);
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        "operator_refer",
        &["-key", "refer_to", "+4930999999"],
    );
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert_ok(gateway, &acdd);
    assert!(acdd.wait_for_log(&["call transferred outside and bridged"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["the forwarded party hung up"], Duration::from_secs(15)));
}

#[test]
fn a_refer_outside_any_dialog_is_refused_with_481() {
    let (_dir, acdd) = start("xfer-refer-stray", no_gateway(), false);
    let mut client = common::sip_client::SipClient::udp(acdd.udp);
    let uri = format!("sip:acdd@{}", acdd.udp);
    // The Call-ID of acdd's first operator leg, but no such dialog.
    let text = format!(
        "REFER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-r1\r\nFrom: <sip:mallory@127.0.0.1>;tag=r1\r\n\
         To: <{uri}>;tag=guess\r\nCall-ID: acdd-o1.0@acdd\r\nCSeq: 1 REFER\r\nMax-Forwards: 70\r\n\
         Refer-To: <sip:+4930999999@127.0.0.1>\r\nContent-Length: 0\r\n\r\n",
        local = client.local
    );
    assert_eq!(client.request(&text).unwrap().code, 481);
}

#[test]
fn a_refer_to_nobody_fails_in_its_notify_and_the_operator_keeps_the_caller() {
    let (dir, acdd) = start("xfer-refer-nobody", no_gateway(), false);
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        "operator_refer_refused",
        &["-key", "refer_to", "nobody"],
    );
    // The caller stays with alice until she hangs up.
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert!(acdd.wait_for_log(&["transfer asked", "Unknown"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
    assert!(!acdd.log_text().contains("call transferred"), "{}", acdd.log_text());
}

#[test]
fn a_transfer_outside_the_gateway_refuses_leaves_the_operator_with_the_caller() {
    let dir = TestDir::new("xfer-refer-out-busy");
    let gateway = Phone::uas(&dir.0, "gateway", "operator_busy", &[]);
    let acdd = start_in(&dir, gateway.port, false);
    let alice = Phone::start_with(
        &dir.0,
        &acdd,
        "alice",
        "operator_refer_refused",
        &["-key", "refer_to", "+4930999999"],
    );
    let caller = Phone::caller(&dir.0, &acdd, "caller", "trunk_call_ended", "+4930444444");
    assert_ok(alice, &acdd);
    assert_ok(caller, &acdd);
    assert_ok(gateway, &acdd);
    assert!(acdd.wait_for_log(&["transfer outside failed", "status=486"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(&["operator hung up"], Duration::from_secs(15)));
}
