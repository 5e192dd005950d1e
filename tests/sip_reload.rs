//! SIGHUP reaches the SIP layer: a new operator can register, a removed one
//! cannot and loses its registrations, new registrar limits apply, and
//! registrations of operators that stay survive the reload.

mod common;

use std::time::Duration;

use acdd::sip::auth::digest::DigestAlgorithm;
use common::sip_client::SipClient;
use common::{Acdd, Setup, TestDir};

#[test]
fn a_reload_changes_accounts_and_limits() {
    let dir = TestDir::new("reload");
    let setup = Setup {
        sip: "min_expires_seconds = 60".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut phone = SipClient::udp(acdd.udp);
    let alice = format!("<sip:alice@{}>", phone.local);
    assert_eq!(
        phone
            .register("alice", "alice-secret", Some(&alice), Some(300), DigestAlgorithm::Md5)
            .code,
        200
    );
    assert_eq!(
        phone
            .register(
                "bob",
                "bob-secret",
                Some("<sip:bob@127.0.0.1:5996>"),
                Some(300),
                DigestAlgorithm::Md5
            )
            .code,
        200
    );
    assert_eq!(
        phone
            .register(
                "carol",
                "carol-secret",
                Some("<sip:carol@127.0.0.1:5995>"),
                Some(300),
                DigestAlgorithm::Md5
            )
            .code,
        403
    );

    // Bob leaves, Carol arrives, registrations must now last at least 120 s.
    let text = std::fs::read_to_string(&acdd.config).unwrap();
    let text = text
        .replace("min_expires_seconds = 60", "min_expires_seconds = 120")
        .replace("id = \"bob\"", "id = \"carol\"")
        .replace("sip_username = \"bob\"", "sip_username = \"carol\"")
        .replace("sip_password = \"bob-secret\"", "sip_password = \"carol-secret\"")
        .replace("operators = [\"alice\", \"bob\"]", "operators = [\"alice\", \"carol\"]");
    std::fs::write(&acdd.config, text).unwrap();
    acdd.reload();
    assert!(
        acdd.wait_for_log(&["SIP configuration reloaded"], Duration::from_secs(15)),
        "{}",
        acdd.log_text()
    );
    assert!(acdd.wait_for_log(&["registrations dropped", "bob"], Duration::from_secs(15)));

    assert_eq!(
        phone
            .register(
                "carol",
                "carol-secret",
                Some("<sip:carol@127.0.0.1:5995>"),
                Some(300),
                DigestAlgorithm::Md5
            )
            .code,
        200
    );
    assert_eq!(
        phone
            .register(
                "bob",
                "bob-secret",
                Some("<sip:bob@127.0.0.1:5996>"),
                Some(300),
                DigestAlgorithm::Md5
            )
            .code,
        403
    );
    let brief = phone.register("alice", "alice-secret", Some(&alice), Some(90), DigestAlgorithm::Md5);
    assert_eq!((brief.code, brief.header("min-expires")), (423, Some("120")));
    let reply = phone.register("alice", "alice-secret", None, None, DigestAlgorithm::Md5);
    assert_eq!(
        reply.all("contact").len(),
        1,
        "alice's registration survived the reload"
    );
}
