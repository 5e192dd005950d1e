//! SIPp (package `sip-tester`) as a registering phone: digest auth,
//! refresh, unregister, wrong password, stale nonce, with the default MD5
//! challenge (SIPp 3.6 computes MD5 digests only; SHA-256 is proven by
//! `sip_registrar`).

mod common;

use std::process::Command;
use std::time::Duration;

use acdd::sip::auth::digest::DigestAlgorithm;
use common::sip_client::SipClient;
use common::{Acdd, Setup, TestDir, free_port, require_program, sipp_logs};

fn sipp(dir: &std::path::Path, acdd: &Acdd, scenario: &str, user: &str, password: &str) -> (bool, String) {
    require_program("sipp", "sip-tester");
    let scenario = format!("{}/tests/sipp/{scenario}.xml", env!("CARGO_MANIFEST_DIR"));
    let port = free_port("127.0.0.1");
    let output = Command::new("timeout")
        .args([
            "30", "sipp", "-sf", &scenario, "-au", user, "-ap", password, "-s", user, "-m", "1",
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-timeout",
            "20s",
            "-trace_err",
            "-nostdin",
        ])
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

fn setup() -> Setup {
    Setup {
        sip: "nonce_lifetime_seconds = 2\nqualify_interval_seconds = 0".into(),
        ..Setup::default()
    }
}

#[test]
fn sipp_registers_refreshes_and_unregisters() {
    let dir = TestDir::new("sipp-register");
    let acdd = Acdd::start(&dir.0, &setup());
    let (ok, output) = sipp(&dir.0, &acdd, "register", "alice", "alice-secret");
    assert!(ok, "SIPp register scenario failed:\n{output}");
    assert!(acdd.wait_for_log(
        &["registration changed", "alice", "contacts=1"],
        Duration::from_secs(15)
    ));
    assert!(acdd.wait_for_log(
        &["registration changed", "alice", "contacts=0"],
        Duration::from_secs(15)
    ));
    let mut query = SipClient::udp(acdd.udp);
    let reply = query.register("alice", "alice-secret", None, None, DigestAlgorithm::Md5);
    assert_eq!(reply.code, 200);
    assert!(reply.all("contact").is_empty(), "SIPp unregistered: {}", reply.raw);
}

#[test]
fn sipp_with_a_wrong_password_is_refused() {
    let dir = TestDir::new("sipp-wrong");
    let acdd = Acdd::start(&dir.0, &setup());
    let (ok, output) = sipp(&dir.0, &acdd, "wrong_password", "alice", "not-the-password");
    assert!(ok, "SIPp wrong-password scenario failed:\n{output}");
    assert!(acdd.wait_for_log(
        &["SIP authentication failed", "alice", "wrong credentials"],
        Duration::from_secs(15)
    ));
    let (ok, output) = sipp(&dir.0, &acdd, "register", "alice", "not-the-password");
    assert!(!ok, "the register scenario must fail with a wrong password:\n{output}");
}

#[test]
fn sipp_stale_nonce_is_challenged_again() {
    let dir = TestDir::new("sipp-stale");
    let acdd = Acdd::start(&dir.0, &setup());
    let (ok, output) = sipp(&dir.0, &acdd, "stale_nonce", "bob", "bob-secret");
    assert!(ok, "SIPp stale-nonce scenario failed:\n{output}");
}
