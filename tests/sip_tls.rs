//! SIP over TLS: a client that trusts only acdd's (test) certificate sends
//! OPTIONS and registers with digest auth; acdd qualifies the contact with
//! OPTIONS over the same TLS connection. The certificate is made with the
//! `openssl` command line tool.

mod common;

use std::process::Command;
use std::time::Duration;

use acdd::sip::auth::digest::DigestAlgorithm;
use common::sip_client::SipClient;
use common::{Acdd, Setup, TestDir, require_program};

#[test]
fn options_register_and_qualify_over_tls() {
    require_program("openssl", "openssl");
    let dir = TestDir::new("tls");
    let certificate = dir.0.join("cert.pem");
    let key = dir.0.join("key.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=acdd-test", "-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .expect("running openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let setup = Setup {
        sip: "qualify_interval_seconds = 1\nqualify_timeout_seconds = 1".into(),
        tls: Some((certificate.clone(), key)),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let tls = acdd.tls.unwrap();
    assert!(acdd.wait_for_log(&["SIP listening on TLS"], Duration::from_secs(15)));

    let mut phone = SipClient::tls(tls, &certificate);
    let options = format!(
        "OPTIONS sip:{tls} SIP/2.0\r\nVia: SIP/2.0/TLS {0};branch=z9hG4bK-tls1\r\nMax-Forwards: 70\r\nFrom: <sip:t@{0}>;tag=a\r\n\
         To: <sip:{tls}>\r\nCall-ID: tls-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        phone.local
    );
    assert_eq!(phone.request(&options).unwrap().code, 200);

    let contact = format!("<sip:alice@{};transport=tls>", phone.local);
    let reply = phone.register("alice", "alice-secret", Some(&contact), Some(300), DigestAlgorithm::Md5);
    assert_eq!(reply.code, 200, "{}", reply.raw);
    let options = phone
        .receive(Duration::from_secs(3))
        .expect("acdd qualifies the contact over TLS");
    let text = String::from_utf8_lossy(&options);
    assert!(text.starts_with("OPTIONS "), "{text}");
    assert!(text.contains("Via: SIP/2.0/TLS"), "{text}");

    // A plain TCP client on the TLS port gets nothing and is closed.
    let mut plain = SipClient::tcp(tls);
    plain.send(b"OPTIONS sip:x SIP/2.0\r\n\r\n");
    assert!(plain.receive(Duration::from_secs(2)).is_none());
}
