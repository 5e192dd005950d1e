//! The registrar against the real daemon: digest (SHA-256 and MD5), refresh,
//! several contacts, unregister, Min-Expires, stale nonces, nonce-count
//! replays, contact parameters kept, expiry, persistence across a restart,
//! and OPTIONS qualify marking a dead contact and its return.

mod common;

use std::time::Duration;

use acdd::sip::auth::digest::DigestAlgorithm;
use common::sip_client::{SipClient, authorize, challenge_param};
use common::{Acdd, SHA256_AND_MD5, Setup, TestDir};

fn both() -> Setup {
    Setup {
        sip: SHA256_AND_MD5.into(),
        ..Setup::default()
    }
}

fn contacts(reply: &common::sip_client::Reply) -> Vec<String> {
    reply.all("contact").into_iter().map(str::to_string).collect()
}

#[test]
fn register_refresh_several_contacts_and_unregister() {
    let dir = TestDir::new("registrar");
    let acdd = Acdd::start(&dir.0, &both());
    let mut phone = SipClient::udp(acdd.udp);
    let desk = format!("<sip:alice@{}>", phone.local);
    let reply = phone.register("alice", "alice-secret", Some(&desk), Some(300), DigestAlgorithm::Sha256);
    assert_eq!(reply.code, 200, "{}", reply.raw);
    assert_eq!(contacts(&reply), vec![format!("{desk};expires=300")]);
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=true"],
        Duration::from_secs(15)
    ));

    // Refresh with MD5, then a second contact for the same operator.
    let reply = phone.register("alice", "alice-secret", Some(&desk), Some(600), DigestAlgorithm::Md5);
    assert_eq!(contacts(&reply), vec![format!("{desk};expires=600")]);
    let soft = "<sip:alice@127.0.0.1:5999;transport=udp>";
    let reply = phone.register("alice", "alice-secret", Some(soft), None, DigestAlgorithm::Sha256);
    assert_eq!(reply.code, 200);
    assert_eq!(
        contacts(&reply).len(),
        2,
        "both phones are bound: {:?}",
        contacts(&reply)
    );
    assert!(
        contacts(&reply).contains(&format!("{soft};expires=3600")),
        "the default expiry applies"
    );

    // A query (no Contact) lists them; Expires: 0 removes one; Contact: * all.
    let reply = phone.register("alice", "alice-secret", None, None, DigestAlgorithm::Md5);
    assert_eq!(contacts(&reply).len(), 2);
    let reply = phone.register("alice", "alice-secret", Some(soft), Some(0), DigestAlgorithm::Md5);
    assert_eq!(contacts(&reply).len(), 1);
    let reply = phone.register("alice", "alice-secret", Some("*"), Some(0), DigestAlgorithm::Md5);
    assert_eq!(reply.code, 200);
    assert!(contacts(&reply).is_empty());
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=false"],
        Duration::from_secs(15)
    ));

    // Contact: * without Expires: 0 is refused.
    let reply = phone.register("alice", "alice-secret", Some("*"), Some(60), DigestAlgorithm::Md5);
    assert_eq!(reply.code, 400);
}

#[test]
fn min_expires_stale_nonce_and_replayed_nonce_count() {
    let dir = TestDir::new("registrar-limits");
    let setup = Setup {
        sip: format!("{SHA256_AND_MD5}nonce_lifetime_seconds = 1\nmin_expires_seconds = 60"),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut phone = SipClient::udp(acdd.udp);
    let contact = format!("<sip:alice@{}>", phone.local);
    let reply = phone.register("alice", "alice-secret", Some(&contact), Some(10), DigestAlgorithm::Md5);
    assert_eq!(reply.code, 423);
    assert_eq!(reply.header("min-expires"), Some("60"));

    // Stale nonce: answer a challenge after the nonce lifetime.
    let uri = format!("sip:{}", acdd.udp);
    let challenge = phone
        .send_register("alice", Some(&contact), Some(120), None, "stale-1")
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let late = authorize(
        &challenge,
        DigestAlgorithm::Sha256,
        "REGISTER",
        &uri,
        "alice",
        "alice-secret",
        1,
    );
    let reply = phone
        .send_register("alice", Some(&contact), Some(120), Some(&late), "stale-1")
        .unwrap();
    assert_eq!(reply.code, 401);
    assert_eq!(
        challenge_param(&reply, DigestAlgorithm::Sha256, "stale").as_deref(),
        Some("true")
    );

    // The fresh nonce works once per nonce-count; a replay is refused.
    let fresh = authorize(
        &reply,
        DigestAlgorithm::Sha256,
        "REGISTER",
        &uri,
        "alice",
        "alice-secret",
        1,
    );
    let ok = phone
        .send_register("alice", Some(&contact), Some(120), Some(&fresh), "stale-1")
        .unwrap();
    assert_eq!(ok.code, 200, "{}", ok.raw);
    let replay = phone
        .send_register("alice", Some(&contact), Some(120), Some(&fresh), "stale-1")
        .unwrap();
    assert_eq!(replay.code, 403);
    assert!(acdd.wait_for_log(
        &["SIP authentication failed", "replayed nonce-count"],
        Duration::from_secs(15)
    ));
    let next = authorize(
        &reply,
        DigestAlgorithm::Sha256,
        "REGISTER",
        &uri,
        "alice",
        "alice-secret",
        2,
    );
    let ok = phone
        .send_register("alice", Some(&contact), Some(120), Some(&next), "stale-1")
        .unwrap();
    assert_eq!(ok.code, 200, "a higher nonce-count is accepted");
}

#[test]
fn contact_parameters_and_escaped_headers_are_kept() {
    let dir = TestDir::new("registrar-params");
    let acdd = Acdd::start(&dir.0, &Setup::default());
    let mut phone = SipClient::udp(acdd.udp);
    for contact in [
        "<sip:alice@127.0.0.1:5997>;unknownparam",
        "<sip:alice@127.0.0.1:5998;unknownparam>",
        "<sip:alice@127.0.0.1:5999?Route=%3Csip:sip.example.com%3E>",
    ] {
        let reply = phone.register("alice", "alice-secret", Some(contact), Some(300), DigestAlgorithm::Md5);
        assert_eq!(reply.code, 200);
        assert!(
            contacts(&reply).contains(&format!("{contact};expires=300")),
            "{contact} comes back as registered: {:?}",
            contacts(&reply)
        );
    }
}

#[test]
fn registrations_expire_and_survive_a_restart() {
    let dir = TestDir::new("registrar-restart");
    let setup = Setup {
        sip: "min_expires_seconds = 1\nqualify_interval_seconds = 0".into(),
        ..Setup::default()
    };
    let mut acdd = Acdd::start(&dir.0, &setup);
    let mut phone = SipClient::udp(acdd.udp);
    let lasting = format!("<sip:alice@{}>", phone.local);
    assert_eq!(
        phone
            .register("alice", "alice-secret", Some(&lasting), Some(600), DigestAlgorithm::Md5)
            .code,
        200
    );
    assert_eq!(
        phone
            .register(
                "bob",
                "bob-secret",
                Some("<sip:bob@127.0.0.1:5996>"),
                Some(2),
                DigestAlgorithm::Md5
            )
            .code,
        200
    );
    assert!(acdd.wait_for_log(&["registration expired", "bob"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(
        &["reachability changed", "bob", "reachable=false"],
        Duration::from_secs(15)
    ));

    acdd.restart();
    assert!(
        dir.0.join("data/registrations.tsv").exists(),
        "registrations are kept beside the SQLite path"
    );
    assert!(acdd.wait_for_log(&["registrations restored", "operators=1"], Duration::from_secs(15)));
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=true"],
        Duration::from_secs(15)
    ));
    let mut phone = SipClient::udp(acdd.udp);
    let reply = phone.register("alice", "alice-secret", None, None, DigestAlgorithm::Md5);
    assert_eq!(reply.code, 200);
    let listed = contacts(&reply);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].starts_with(&format!("{lasting};expires=")));
    let reply = phone.register("bob", "bob-secret", None, None, DigestAlgorithm::Md5);
    assert!(
        contacts(&reply).is_empty(),
        "bob's registration expired before the restart"
    );
}

#[test]
fn qualify_marks_a_silent_contact_dead_and_alive_again() {
    let dir = TestDir::new("registrar-qualify");
    let setup = Setup {
        sip: format!("{SHA256_AND_MD5}qualify_interval_seconds = 1\nqualify_timeout_seconds = 1"),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut phone = SipClient::udp(acdd.udp);
    let contact = format!("<sip:alice@{}>", phone.local);
    assert_eq!(
        phone
            .register(
                "alice",
                "alice-secret",
                Some(&contact),
                Some(300),
                DigestAlgorithm::Sha256
            )
            .code,
        200
    );

    // Answer OPTIONS for a while: the phone stays reachable.
    let answered = answer_options(&mut phone, Duration::from_millis(2500));
    assert!(answered >= 1, "acdd qualifies the contact with OPTIONS");
    assert!(!acdd.log_text().contains("stopped answering OPTIONS"));

    // Go silent: the contact is dead and the operator unreachable.
    assert!(acdd.wait_for_log(
        &["SIP contact stopped answering OPTIONS", "alice"],
        Duration::from_secs(15)
    ));
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=false"],
        Duration::from_secs(15)
    ));

    // Answer again: reachable again.
    answer_options(&mut phone, Duration::from_millis(3000));
    assert!(acdd.wait_for_log(&["SIP contact answers OPTIONS again", "alice"], Duration::from_secs(15)));
    let log = acdd.log_text();
    let last = log
        .lines()
        .rfind(|l| l.contains("reachability changed") && l.contains("alice"))
        .unwrap();
    assert!(last.contains("reachable=true"), "{last}");
}

#[test]
fn only_md5_is_offered_by_default() {
    let dir = TestDir::new("registrar-md5");
    let acdd = Acdd::start(&dir.0, &Setup::default());
    let mut phone = SipClient::udp(acdd.udp);
    let challenge = phone
        .send_register("alice", Some("<sip:alice@127.0.0.1:5999>"), None, None, "md5-only")
        .unwrap();
    let offered = challenge.all("www-authenticate");
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert!(offered[0].contains("algorithm=MD5"));
    let uri = format!("sip:{}", acdd.udp);
    let nonce = challenge_param(&challenge, DigestAlgorithm::Md5, "nonce").unwrap();
    let sha = authorize(
        &challenge,
        DigestAlgorithm::Md5,
        "REGISTER",
        &uri,
        "alice",
        "alice-secret",
        1,
    )
    .replace("algorithm=MD5", "algorithm=SHA-256");
    assert!(sha.contains(&nonce));
    let reply = phone
        .send_register(
            "alice",
            Some("<sip:alice@127.0.0.1:5999>"),
            None,
            Some(&sha),
            "md5-only",
        )
        .unwrap();
    assert_eq!(
        reply.code, 401,
        "an algorithm that was not offered gets a new challenge"
    );
}

#[test]
fn a_tcp_contact_is_qualified_on_its_connection_and_dies_with_it() {
    let dir = TestDir::new("registrar-tcp");
    let setup = Setup {
        sip: "qualify_interval_seconds = 1\nqualify_timeout_seconds = 1".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut phone = SipClient::tcp(acdd.tcp);
    let contact = format!("<sip:alice@{};transport=tcp>", phone.local);
    assert_eq!(
        phone
            .register("alice", "alice-secret", Some(&contact), Some(300), DigestAlgorithm::Md5)
            .code,
        200
    );
    assert!(
        answer_options(&mut phone, Duration::from_millis(2500)) >= 1,
        "OPTIONS arrive on the phone's connection"
    );
    assert!(!acdd.log_text().contains("stopped answering OPTIONS"));
    drop(phone);
    assert!(acdd.wait_for_log(
        &["SIP contact stopped answering OPTIONS", "alice"],
        Duration::from_secs(15)
    ));
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=false"],
        Duration::from_secs(15)
    ));
}

/// Answers every OPTIONS received for `during` with 200; returns how many.
fn answer_options(phone: &mut SipClient, during: Duration) -> usize {
    let deadline = std::time::Instant::now() + during;
    let mut count = 0;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Some(bytes) = phone.receive(left) else { break };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !text.starts_with("OPTIONS ") {
            continue;
        }
        let keep: Vec<&str> = text
            .split("\r\n")
            .filter(|l| {
                ["Via:", "From:", "To:", "Call-ID:", "CSeq:"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        let reply = format!("SIP/2.0 200 OK\r\n{}\r\nContent-Length: 0\r\n\r\n", keep.join("\r\n"));
        phone.send(reply.as_bytes());
        count += 1;
    }
    count
}
