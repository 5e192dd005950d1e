//! The front door against the real daemon: OPTIONS over UDP/TCP/IPv6,
//! unknown and unsupported methods, Max-Forwards, oversized messages, who may
//! INVITE (trunks by source, authenticated operators; 401/403 otherwise), no
//! user enumeration, failed-auth throttling, INVITE transactions that end.

mod common;

use std::time::Duration;

use acdd::sip::auth::digest::DigestAlgorithm;
use common::sip_client::{Reply, SipClient, authorize};
use common::{Acdd, Setup, TestDir};

fn request(client: &mut SipClient, method: &str, ruri: &str, extra: &str, body: &str) -> String {
    let n = client.next();
    format!(
        "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/{transport} {local};branch=z9hG4bK-fd{n}-{port}\r\nMax-Forwards: 70\r\n\
         From: <sip:tester@{local}>;tag=t{n}\r\nTo: <{ruri}>\r\nCall-ID: fd{n}-{port}@test\r\nCSeq: {n} {method}\r\n{extra}\
         Content-Length: {len}\r\n\r\n{body}",
        transport = client.transport(),
        local = client.local,
        port = client.local.port(),
        len = body.len()
    )
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const SDP_TYPE: &str = "Content-Type: application/sdp\r\n";
/// A number whose queue gives up after one second: a trunk's call to it is
/// taken by telephony, rung back, and ends with the missed action's 480.
const BRIEF: &str = "[[queues]]\nname = \"brief\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nmax_wait_seconds = 1\n\n[[routes.phone]]\nnumber = \"+4930333333\"\nqueue = \"brief\"\n";

fn options_ok(mut client: SipClient) {
    let ruri = format!("sip:{}", client.server);
    let text = request(&mut client, "OPTIONS", &ruri, "", "");
    let reply = client.request(&text).expect("OPTIONS answered");
    assert_eq!(reply.code, 200);
    assert!(reply.header("allow").unwrap().contains("REGISTER"));
    assert_eq!(reply.header("accept"), Some("application/sdp"));
}

#[test]
fn options_over_udp_tcp_and_ipv6() {
    let dir = TestDir::new("front-options");
    let acdd = Acdd::start(&dir.0, &Setup::default());
    options_ok(SipClient::udp(acdd.udp));
    options_ok(SipClient::tcp(acdd.tcp));
    let dir6 = TestDir::new("front-options6");
    let acdd6 = Acdd::start(
        &dir6.0,
        &Setup {
            ipv6: true,
            ..Setup::default()
        },
    );
    options_ok(SipClient::udp(acdd6.udp));
    options_ok(SipClient::tcp(acdd6.tcp));
    let mut phone = SipClient::udp(acdd6.udp);
    let contact = format!("<sip:alice@{}>", phone.local);
    let reply = phone.register("alice", "alice-secret", Some(&contact), Some(300), DigestAlgorithm::Md5);
    assert_eq!(reply.code, 200, "{}", reply.raw);
    assert_eq!(reply.all("contact"), vec![format!("{contact};expires=300")]);
    assert!(contact.contains("[::1]:"));
}

#[test]
fn methods_hops_sizes_and_stray_requests() {
    let dir = TestDir::new("front-methods");
    let setup = Setup {
        sip: "max_message_bytes = 1500".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut client = SipClient::udp(acdd.udp);
    let ruri = format!("sip:alice@{}", acdd.udp);
    let text = request(&mut client, "FROBNICATE", &ruri, "", "");
    assert_eq!(client.request(&text).unwrap().code, 501);
    let text = request(&mut client, "SUBSCRIBE", &ruri, "", "");
    let reply = client.request(&text).unwrap();
    assert_eq!(reply.code, 405);
    assert!(reply.header("allow").unwrap().contains("INVITE"));
    let text = request(&mut client, "INVITE", &ruri, SDP_TYPE, SDP).replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(client.request(&text).unwrap().code, 483);
    let text = request(&mut client, "BYE", &ruri, "", "");
    assert_eq!(client.request(&text).unwrap().code, 481);
    let text = request(&mut client, "CANCEL", &ruri, "", "");
    assert_eq!(client.request(&text).unwrap().code, 481);

    let padding = format!("X-Padding: {}\r\n", "p".repeat(3000));
    let text = request(&mut client, "OPTIONS", &ruri, &padding, "");
    assert_eq!(client.request(&text).unwrap().code, 513);
    let mut tcp = SipClient::tcp(acdd.tcp);
    let text = request(&mut tcp, "OPTIONS", &ruri, &padding, "");
    assert_eq!(tcp.request(&text).unwrap().code, 513);
    let text = request(&mut tcp, "INVITE", &ruri, SDP_TYPE, SDP)
        .replace(&format!("Content-Length: {}", SDP.len()), "Content-Length: 90000");
    let mut tcp = SipClient::tcp(acdd.tcp);
    let reply = tcp.request(&text).unwrap();
    assert_eq!(reply.code, 513, "{}", reply.raw);
    assert!(
        tcp.receive(Duration::from_secs(2)).is_none(),
        "the connection closes after an unframable message"
    );
    options_ok(SipClient::udp(acdd.udp));
}

#[test]
fn invites_need_a_trunk_or_an_authenticated_operator() {
    let dir = TestDir::new("front-invite");
    let setup = Setup {
        sip: common::SHA256_AND_MD5.into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut client = SipClient::udp(acdd.udp);
    let routed = format!("sip:+4930111111@{}", acdd.udp);
    let unrouted = format!("sip:+4930999999@{}", acdd.udp);

    let text = request(&mut client, "INVITE", &routed, SDP_TYPE, SDP);
    let challenge = client.request(&text).unwrap();
    assert_eq!(challenge.code, 401, "an unknown source must authenticate");
    let wrong = authorize(&challenge, DigestAlgorithm::Md5, "INVITE", &routed, "alice", "guess", 1);
    let text = request(
        &mut client,
        "INVITE",
        &routed,
        &format!("{SDP_TYPE}Authorization: {wrong}\r\n"),
        SDP,
    );
    assert_eq!(client.request(&text).unwrap().code, 403);

    // Operators dial pickup codes, colleagues' extensions and routed numbers
    // (they queue like callers: tests/telephony.rs); with no outbound gateway,
    // anything else is 404.
    let text = request(&mut client, "INVITE", &unrouted, SDP_TYPE, SDP);
    let challenge = client.request(&text).unwrap();
    let good = authorize(
        &challenge,
        DigestAlgorithm::Sha256,
        "INVITE",
        &unrouted,
        "alice",
        "alice-secret",
        1,
    );
    let text = request(
        &mut client,
        "INVITE",
        &unrouted,
        &format!("{SDP_TYPE}Authorization: {good}\r\n"),
        SDP,
    );
    let reply = client.request(&text).unwrap();
    assert_eq!(
        reply.code, 404,
        "an operator's call is handed to the call seam: {}",
        reply.raw
    );
    assert!(acdd.wait_for_log(
        &["operator's call refused", "operator=alice", "status=404"],
        Duration::from_secs(15)
    ));
}

#[test]
fn trunk_invites_end_their_transactions() {
    let dir = TestDir::new("front-trunk");
    let setup = Setup {
        extra: format!("[[trunks]]\nname = \"carrier\"\nsources = [\"127.0.0.1/32\"]\n{BRIEF}"),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut client = SipClient::udp(acdd.udp);
    let routed = format!("sip:+4930333333@{}", acdd.udp);
    let text = request(&mut client, "INVITE", &routed, SDP_TYPE, SDP);
    // The queue's maximum wait (1 s) comes first; a loaded machine adds more.
    client.send(text.as_bytes());
    let first = client
        .reply(Duration::from_secs(15))
        .expect("the INVITE is refused once the queue's wait is over");
    assert_eq!(first.code, 480);
    assert!(acdd.wait_for_log(&["missed call: hanging up"], Duration::from_secs(15)));

    // Over UDP the failure is repeated until the ACK (timer G) ...
    let again = client
        .reply(Duration::from_millis(1500))
        .expect("the 480 is retransmitted");
    assert_eq!(again.header("to"), first.header("to"), "same transaction, same To tag");
    // ... and a retransmitted INVITE gets the same answer.
    client.send(text.as_bytes());
    assert_eq!(
        client.reply(Duration::from_secs(1)).unwrap().header("to"),
        first.header("to")
    );
    let ack = text
        .replacen("INVITE sip", "ACK sip", 1)
        .replace(" INVITE\r\n", " ACK\r\n")
        .replace(
            &format!("To: <{routed}>"),
            &format!("To: {}", first.header("to").unwrap()),
        )
        .replace(SDP_TYPE, "")
        .replace(
            &format!("Content-Length: {}\r\n\r\n{SDP}", SDP.len()),
            "Content-Length: 0\r\n\r\n",
        );
    client.send(ack.as_bytes());
    while client.receive(Duration::from_millis(300)).is_some() {}
    assert!(
        client.receive(Duration::from_millis(2500)).is_none(),
        "no retransmission after the ACK"
    );

    let unrouted = format!("sip:+4930999999@{}", acdd.udp);
    let text = request(&mut client, "INVITE", &unrouted, SDP_TYPE, SDP);
    assert_eq!(client.request(&text).unwrap().code, 404);
    let text = request(
        &mut client,
        "INVITE",
        &unrouted,
        "Content-Type: text/plain\r\n",
        "hello",
    );
    assert_eq!(client.request(&text).unwrap().code, 415);
}

#[test]
fn a_trunk_may_authenticate_with_credentials_instead_of_its_address() {
    let dir = TestDir::new("front-trunk-digest");
    let setup = Setup {
        extra: format!("[[trunks]]\nname = \"pbx\"\nusername = \"pbx\"\npassword = \"pbx-secret\"\n{BRIEF}"),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut client = SipClient::tcp(acdd.tcp);
    let routed = format!("sip:+4930333333@{}", acdd.tcp);
    let text = request(&mut client, "INVITE", &routed, SDP_TYPE, SDP);
    let challenge = client.request(&text).unwrap();
    assert_eq!(challenge.code, 401, "no source address makes this a trunk");
    let good = authorize(
        &challenge,
        DigestAlgorithm::Md5,
        "INVITE",
        &routed,
        "pbx",
        "pbx-secret",
        1,
    );
    let text = request(
        &mut client,
        "INVITE",
        &routed,
        &format!("{SDP_TYPE}Authorization: {good}\r\n"),
        SDP,
    );
    assert_eq!(client.request(&text).unwrap().code, 480);
    assert!(acdd.wait_for_log(&["missed call: hanging up"], Duration::from_secs(15)));

    // A trunk's credentials do not register phones.
    let reply = client.register(
        "pbx",
        "pbx-secret",
        Some("<sip:pbx@127.0.0.1:5999>"),
        None,
        DigestAlgorithm::Md5,
    );
    assert_eq!(reply.code, 403);
    // Nor does an operator register another operator's address of record.
    let call_id = "aor-1";
    let first = client
        .send_register("bob", Some("<sip:bob@127.0.0.1:5999>"), None, None, call_id)
        .unwrap();
    let alice = authorize(
        &first,
        DigestAlgorithm::Md5,
        "REGISTER",
        &format!("sip:{}", acdd.tcp),
        "alice",
        "alice-secret",
        1,
    );
    let reply = client
        .send_register("bob", Some("<sip:bob@127.0.0.1:5999>"), None, Some(&alice), call_id)
        .unwrap();
    assert_eq!(reply.code, 403);
}

#[test]
fn a_flooding_source_is_cut_down_to_its_rate() {
    let dir = TestDir::new("front-flood");
    let setup = Setup {
        sip: "requests_per_second_per_source = 5".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut client = SipClient::udp(acdd.udp);
    let ruri = format!("sip:{}", acdd.udp);
    for _ in 0..40 {
        let text = request(&mut client, "OPTIONS", &ruri, "", "");
        client.send(text.as_bytes());
    }
    let mut answered = 0;
    while client.receive(Duration::from_millis(500)).is_some() {
        answered += 1;
    }
    assert!(
        (5..=12).contains(&answered),
        "a burst of twice the rate passes, the rest is dropped: {answered}"
    );
    assert!(acdd.wait_for_log(&["SIP flood", "127.0.0.1"], Duration::from_secs(15)));
    std::thread::sleep(Duration::from_secs(1));
    options_ok(SipClient::udp(acdd.udp));
}

fn challenge_shape(reply: &Reply) -> Vec<String> {
    reply
        .all("www-authenticate")
        .into_iter()
        .map(|c| {
            let nonce_start = c.find("nonce=\"").unwrap() + 7;
            let nonce_end = nonce_start + c[nonce_start..].find('"').unwrap();
            format!("{}NONCE{}", &c[..nonce_start], &c[nonce_end..])
        })
        .collect()
}

#[test]
fn unknown_users_look_like_known_ones_and_failures_are_throttled() {
    let dir = TestDir::new("front-throttle");
    let setup = Setup {
        sip: "auth_failures_allowed = 3\nauth_failure_window_seconds = 60\nauth_ban_seconds = 60".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let mut client = SipClient::udp(acdd.udp);
    let known = client
        .send_register("alice", Some("<sip:alice@127.0.0.1:5999>"), None, None, "enum-1")
        .unwrap();
    let unknown = client
        .send_register("mallory", Some("<sip:mallory@127.0.0.1:5999>"), None, None, "enum-2")
        .unwrap();
    assert_eq!((known.code, unknown.code), (401, 401));
    assert_eq!(
        challenge_shape(&known),
        challenge_shape(&unknown),
        "the same challenge for both"
    );
    let uri = format!("sip:{}", acdd.udp);
    let wrong = authorize(&known, DigestAlgorithm::Md5, "REGISTER", &uri, "alice", "guess", 1);
    let nobody = authorize(&unknown, DigestAlgorithm::Md5, "REGISTER", &uri, "mallory", "guess", 1);
    let a = client
        .send_register(
            "alice",
            Some("<sip:alice@127.0.0.1:5999>"),
            None,
            Some(&wrong),
            "enum-1",
        )
        .unwrap();
    let b = client
        .send_register(
            "mallory",
            Some("<sip:mallory@127.0.0.1:5999>"),
            None,
            Some(&nobody),
            "enum-2",
        )
        .unwrap();
    assert_eq!(
        (a.code, a.reason.as_str()),
        (b.code, b.reason.as_str()),
        "the same refusal for both"
    );
    assert_eq!(a.code, 403);

    // Two more failures reach the limit of 3 per window; the next one bans.
    for nc in 2..=3 {
        let wrong = authorize(&known, DigestAlgorithm::Md5, "REGISTER", &uri, "alice", "guess", nc);
        client
            .send_register(
                "alice",
                Some("<sip:alice@127.0.0.1:5999>"),
                None,
                Some(&wrong),
                "enum-1",
            )
            .unwrap();
    }
    assert!(acdd.wait_for_log(
        &["too many failed SIP authentications", "127.0.0.1"],
        Duration::from_secs(15)
    ));
    // Banned: even a request that could authenticate is refused before any challenge.
    let reply = client
        .send_register("alice", Some("<sip:alice@127.0.0.1:5999>"), None, None, "enum-3")
        .unwrap();
    assert_eq!(reply.code, 403);
    assert!(
        reply.reason.contains("too many failed authentications"),
        "{}",
        reply.reason
    );
    let mut other = SipClient::udp(acdd.udp);
    let reply = other
        .send_register("alice", Some("<sip:alice@127.0.0.1:5999>"), None, None, "enum-4")
        .unwrap();
    assert_eq!(
        reply.code, 403,
        "the ban is per source address; another port of 127.0.0.1 is the same source"
    );
}
