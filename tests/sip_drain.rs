//! A graceful stop with a call in the queue, against the real daemon: after
//! SIGTERM a new INVITE gets 503 (the trunk can try elsewhere) while the
//! queued caller stays; when that caller hangs up, acdd exits 0 without
//! waiting for the grace time to end.

mod common;

use std::time::Duration;

use common::sip_client::SipClient;
use common::{Acdd, Setup, TestDir};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// A queue nobody answers for a minute, and a stop that waits five minutes.
const PATIENT: &str = "[shutdown]\ngrace_seconds = 300\n\n[[trunks]]\nname = \"carrier\"\nsources = [\"127.0.0.1/32\"]\n\n\
    [[queues]]\nname = \"patient\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\nmax_wait_seconds = 60\n\n\
    [[routes.phone]]\nnumber = \"+4930101010\"\nqueue = \"patient\"\n";

fn invite(client: &mut SipClient, call: &str) -> String {
    let ruri = format!("sip:+4930101010@{}", client.server);
    format!(
        "INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call}\r\nMax-Forwards: 70\r\n\
         From: <sip:+4930555000@{local}>;tag={call}\r\nTo: <{ruri}>\r\nCall-ID: {call}@test\r\nCSeq: 1 INVITE\r\n\
         Content-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{SDP}",
        local = client.local,
        len = SDP.len()
    )
}

/// The final answer to the INVITE just sent (provisional ones skipped).
fn final_reply(client: &mut SipClient) -> u16 {
    loop {
        let reply = client.reply(Duration::from_secs(15)).expect("an answer to the INVITE");
        if reply.code >= 200 {
            return reply.code;
        }
    }
}

#[test]
fn a_stopping_daemon_refuses_new_calls_and_lets_the_queued_one_end() {
    let dir = TestDir::new("drain-calls");
    let setup = Setup {
        sip: "qualify_interval_seconds = 0".into(),
        extra: PATIENT.into(),
        ..Setup::default()
    };
    let mut acdd = Acdd::start(&dir.0, &setup);

    let mut waiting = SipClient::udp(acdd.udp);
    let first = invite(&mut waiting, "drain-1");
    waiting.send(first.as_bytes());
    assert!(acdd.wait_for_log(&["call queued", "drain-1@test"], Duration::from_secs(15)));

    acdd.terminate();
    assert!(acdd.wait_for_log(&["acdd stopping"], Duration::from_secs(15)));

    let mut late = SipClient::udp(acdd.udp);
    let second = invite(&mut late, "drain-2");
    late.send(second.as_bytes());
    assert_eq!(final_reply(&mut late), 503, "{}", acdd.log_text());
    assert!(acdd.alive(), "the queued call keeps the daemon up");

    // The queued caller gives up: CANCEL (200), then the INVITE's 487.
    let cancel = first
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("Content-"))
        .map(|l| {
            l.replacen("INVITE sip", "CANCEL sip", 1)
                .replace("1 INVITE", "1 CANCEL")
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\nContent-Length: 0\r\n\r\n";
    waiting.send(cancel.as_bytes());
    let mut codes = Vec::new();
    while let Some(reply) = waiting.reply(Duration::from_secs(5)) {
        codes.push(reply.code);
        if reply.code == 487 {
            break;
        }
    }
    assert!(codes.contains(&487), "the queued INVITE ends with 487: {codes:?}");

    let status = acdd
        .wait_exit(Duration::from_secs(60))
        .expect("acdd exits once no call is left");
    assert!(status.success(), "{status:?}\n{}", acdd.log_text());
    assert!(!acdd.log_text().contains("calls cut short"), "{}", acdd.log_text());
}
