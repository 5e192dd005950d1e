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

crate::on_both_backends! {
    operator_reply_goes_out_and_the_answer_threads_back => operator_reply_goes_out_and_the_answer_threads_back;
}

/// A one-message SMTP sink standing in for the local MTA: answers like a
/// relay and hands over (envelope sender, recipient, message).
async fn smtp_sink() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Receiver<(String, String, String)>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ready\r\n").await.unwrap();
        let (mut from, mut to, mut data) = (String::new(), String::new(), String::new());
        while let Ok(Some(line)) = lines.next_line().await {
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                from = line[10..].trim_matches(['<', '>']).to_string();
                b"250 ok\r\n"
            } else if upper.starts_with("RCPT TO:") {
                to = line[8..].trim_matches(['<', '>']).to_string();
                b"250 ok\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 go on\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push('\n');
                }
                b"250 queued\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"500 what\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        let _ = sender.send((from, to, data));
    });
    (address, receiver)
}

async fn operator_reply_goes_out_and_the_answer_threads_back(backend: Backend) {
    let (relay, sent) = smtp_sink().await;
    let config = format!(
        "{}[[queues]]\nname = \"sales\"\nchannels = [\"mail\"]\noperators = [\"alice\"]\n\
         [[routes.mail]]\nmailbox = \"sales@example.com\"\nqueue = \"sales\"\nreply_relay = \"{relay}\"\n",
        operator("alice")
    );
    let d = Daemon::start(backend, &config).await;
    let alice = d.operator("alice");
    let mut events = alice.events().await;
    let codes = d.lmtp(
        "jane@example.org",
        &["sales@example.com"],
        &mail("jane@example.org", "q1@example.org", None, "What does it cost?"),
    );
    assert_eq!(codes, [250, 250, 250, 354, 250]);
    let assigned = events.expect("assigned", WAIT).await;
    let conversation = assigned["conversation"].as_i64().unwrap();

    let (status, body) = alice.reply(conversation, "It costs 10 EUR.\n.\nRegards").await;
    assert_eq!((status, body["delivered"].clone()), (201, json!(true)), "{body}");
    let (from, to, message) = tokio::time::timeout(WAIT, sent).await.unwrap().unwrap();
    assert_eq!((from.as_str(), to.as_str()), ("sales@example.com", "jane@example.org"));
    assert!(message.contains("Subject: Re: Question\n"), "{message}");
    assert!(message.contains("In-Reply-To: <q1@example.org>\n"), "{message}");
    assert!(
        message.contains("\n\nIt costs 10 EUR.\n.\nRegards\n"),
        "dot-stuffing undone: {message}"
    );
    let sent_id = message
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: <"))
        .and_then(|l| l.strip_suffix('>'))
        .unwrap()
        .to_string();

    // Jane answers the operator's mail: it joins the open conversation, alice hears of it.
    let codes = d.lmtp(
        "jane@example.org",
        &["sales@example.com"],
        &mail("jane@example.org", "q2@example.org", Some(&sent_id), "Deal."),
    );
    assert_eq!(codes, [250, 250, 250, 354, 250]);
    let message = events.expect("message", WAIT).await;
    assert_eq!(message["conversation"], conversation);
    assert_eq!(d.open_requests().await.len(), 1);
}
