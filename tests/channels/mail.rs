//! Mail over real LMTP (Python's smtplib): rotation through the queue's
//! operators skipping those whose workday is not running, the all-unavailable
//! fallback, known senders to their responsible, threads staying with their
//! operator, and the protocol's refusals (550 unknown mailbox, 552 too large).

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, Daemon, eventually, operator};

const WAIT: Duration = Duration::from_secs(5);

fn mail(from: &str, id: &str, in_reply_to: Option<&str>, body: &str) -> String {
    let reply = in_reply_to
        .map(|r| format!("In-Reply-To: <{r}>\nReferences: <{r}>\n"))
        .unwrap_or_default();
    format!(
        "From: Customer <{from}>\nTo: sales@example.com\nSubject: Question\nMessage-ID: <{id}>\n{reply}\
         Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

async fn latest_request(d: &Daemon) -> i64 {
    d.open_requests()
        .await
        .iter()
        .map(|r| r["request"].as_i64().unwrap())
        .max()
        .unwrap()
}

crate::on_both_backends! {
    mail_rotation_threads_and_refusals => mail_rotation_threads_and_refusals;
}

async fn mail_rotation_threads_and_refusals(backend: Backend) {
    let config = format!(
        "{}{}{}[[queues]]\nname = \"sales\"\nchannels = [\"mail\"]\noperators = [\"alice\", \"bob\", \"carol\"]\n\
         mode = \"evenly\"\n[[routes.mail]]\nmailbox = \"sales@example.com\"\nqueue = \"sales\"\n",
        operator("alice"),
        operator("bob"),
        operator("carol")
    );
    let d = Daemon::start(backend, &config).await;
    let (alice, bob, carol) = (d.operator("alice"), d.operator("bob"), d.operator("carol"));
    let mut alice_events = alice.events().await;
    // Mail looks at the workday only: alice and carol work, bob paused.
    for (who, day) in [(&alice, "start"), (&bob, "start"), (&carol, "start"), (&bob, "pause")] {
        assert_eq!(who.status(json!({ "workday": day })).await.0, 200);
    }

    let mut holders = Vec::new();
    for n in 1..=3 {
        let codes = d.lmtp(
            &format!("c{n}@example.org"),
            &["sales@example.com"],
            &mail(
                &format!("c{n}@example.org"),
                &format!("m{n}@example.org"),
                None,
                "price?",
            ),
        );
        assert_eq!(codes, [250, 250, 250, 354, 250]);
        holders.push(d.holder_of(&latest_request(&d).await.into()).await);
    }
    assert_eq!(
        holders,
        ["alice", "carol", "alice"],
        "rotation skips bob's paused workday"
    );
    let assigned = alice_events.expect("assigned", WAIT).await;
    assert_eq!(assigned["via"], "rotation");
    let first_request = assigned["request"].as_i64().unwrap();

    // A reply in the thread joins alice's conversation: no new request, alice hears of it.
    let before = d.open_requests().await.len();
    let codes = d.lmtp(
        "c1@example.org",
        &["sales@example.com"],
        &mail(
            "c1@example.org",
            "m1b@example.org",
            Some("m1@example.org"),
            "and shipping?",
        ),
    );
    assert_eq!(codes, [250, 250, 250, 354, 250]);
    let message = alice_events.expect("message", WAIT).await;
    assert_eq!(message["request"], first_request);
    assert_eq!(message["body"].as_str().unwrap().trim(), "and shipping?");
    assert_eq!(d.open_requests().await.len(), before);

    // Nobody working: in order anyway, continuing the rotation after alice.
    for who in [&alice, &bob, &carol] {
        assert_eq!(who.status(json!({ "workday": "end" })).await.0, 200);
    }
    let codes = d.lmtp(
        "c4@example.org",
        &["sales@example.com"],
        &mail("c4@example.org", "m4@example.org", None, "hello"),
    );
    assert_eq!(codes, [250, 250, 250, 354, 250]);
    assert_eq!(d.holder_of(&latest_request(&d).await.into()).await, "bob");

    // A known sender (new thread) goes to their responsible, the first who got them.
    eventually(WAIT, || async {
        (d.customer("email", "c2@example.org").await["responsible"] == "carol").then_some(())
    })
    .await;
    let codes = d.lmtp(
        "C2@Example.org",
        &["sales@example.com"],
        &mail("C2@Example.org", "m5@example.org", None, "me again"),
    );
    assert_eq!(codes, [250, 250, 250, 354, 250]);
    assert_eq!(d.holder_of(&latest_request(&d).await.into()).await, "carol");
    let card: Value = d.customer("email", "c2@example.org").await;
    assert_eq!(card["responsible"], "carol");
    assert_eq!(card["leads"].as_array().unwrap().len(), 1);

    // Refusals: unknown mailbox per recipient, too large for everyone, nothing stored.
    let before = d.open_requests().await.len();
    let codes = d.lmtp(
        "x@example.org",
        &["nobody@example.com", "sales@example.com"],
        &mail("x@example.org", "m6@example.org", None, "hi"),
    );
    assert_eq!(codes, [250, 250, 550, 250, 354, 250]);
    let huge = mail("y@example.org", "m7@example.org", None, &"x".repeat(20_000));
    let codes = d.lmtp("y@example.org", &["sales@example.com"], &huge);
    assert_eq!(codes, [250, 250, 250, 354, 552]);
    let codes = d.lmtp(
        "z@example.org",
        &["nobody@example.com"],
        &mail("z@example.org", "m8@example.org", None, "hi"),
    );
    assert_eq!(codes, [250, 250, 550]);
    assert_eq!(
        d.open_requests().await.len(),
        before + 1,
        "only the one good copy was stored"
    );
}

crate::on_both_backends! {
    lmtp_protocol_rules => lmtp_protocol_rules;
}

/// Plain LMTP over a socket: command order, RSET, NOOP, the LHLO-only greeting.
async fn lmtp_protocol_rules(backend: Backend) {
    use std::io::{BufRead, BufReader, Write};

    let config = format!(
        "{}[[queues]]\nname = \"sales\"\nchannels = [\"mail\"]\noperators = [\"alice\"]\n\
         [[routes.mail]]\nmailbox = \"sales@example.com\"\nqueue = \"sales\"\n",
        operator("alice")
    );
    let d = Daemon::start(backend, &config).await;
    let address = d.lmtp;
    let replies = tokio::task::spawn_blocking(move || {
        let stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut read_reply = || {
            // A reply is its lines up to the one with a space after the code.
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.as_bytes().get(3) != Some(&b'-') {
                    return line[..3].parse::<u16>().unwrap();
                }
            }
        };
        let mut codes = vec![read_reply()];
        for command in [
            "EHLO client.example",
            "MAIL FROM:<a@example.org>",
            "LHLO client.example",
            "RCPT TO:<sales@example.com>",
            "DATA",
            "MAIL FROM:<a@example.org>",
            "MAIL FROM:<b@example.org>",
            "RSET",
            "RCPT TO:<sales@example.com>",
            "NOOP",
            "MAIL FROM:<a@example.org> SIZE=999999",
            "BOGUS",
            "QUIT",
        ] {
            writer.write_all(format!("{command}\r\n").as_bytes()).unwrap();
            codes.push(read_reply());
        }
        codes
    })
    .await
    .unwrap();
    assert_eq!(
        replies,
        [220, 500, 503, 250, 503, 503, 250, 503, 250, 503, 250, 552, 500, 221]
    );
    assert!(d.open_requests().await.is_empty());
}
