//! Chat routing end to end: the responsible first, passing on after the wait
//! time, the chat tracker, transfers changing the responsible, replies out
//! through the reply webhook and customer messages in.

use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::harness::{Backend, Daemon, operator};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(800);

fn config(extra_queue: &str, reply_webhook: Option<&str>) -> String {
    let webhook = reply_webhook
        .map(|url| format!("reply_webhook = \"{url}\"\n"))
        .unwrap_or_default();
    format!(
        "{}{}\
         [[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\", \"bob\"]\n\
         offer_timeout_seconds = 1\nresponsible_wait_seconds = 2\nretry_seconds = 1\n\
         transfer_changes_responsible = true\n{extra_queue}\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n{webhook}",
        operator("alice"),
        operator("bob")
    )
}

crate::on_both_backends! {
    known_customer_reaches_responsible => known_customer_reaches_responsible;
    chat_passes_on_after_wait => chat_passes_on_after_wait;
    tracker_links_chat_to_phone_customer => tracker_links_chat_to_phone_customer;
    transfer_changes_responsible => transfer_changes_responsible;
    replies_and_customer_messages => replies_and_customer_messages;
    simultaneous_messages_open_one_conversation => simultaneous_messages_open_one_conversation;
}

async fn known_customer_reaches_responsible(backend: Backend) {
    let d = Daemon::start(backend, &config("", None)).await;
    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let (mut alice_events, mut bob_events) = (alice.events().await, bob.events().await);
    alice.go_online().await;
    bob.go_online().await;

    let first = d.chat_ok("u1", "hello").await;
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], first["request"], "in order: alice first");
    assert_eq!(alice.decline(offer["offer"].as_u64().unwrap()).await.0, 200);
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(bob.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    bob_events.expect("assigned", WAIT).await;
    let conversation = first["conversation"].as_i64().unwrap();
    assert_eq!(bob.close(conversation).await.0, 200);
    let card = crate::harness::eventually(WAIT, || async {
        let card = d.customer("chat", "livechat:u1").await;
        (card["responsible"] == "bob").then_some(card)
    })
    .await;
    assert_eq!(
        card["leads"].as_array().unwrap().len(),
        1,
        "one lead for the new customer"
    );

    // The same customer again: bob, their responsible, first, although alice is idle and first in order.
    let second = d.chat_ok("u1", "me again").await;
    assert_eq!(second["new_request"], true);
    assert_ne!(
        second["conversation"], first["conversation"],
        "a message after close opens a new conversation"
    );
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], second["request"]);
    alice_events.expect_no_offer_while_open(&offer).await;
}

async fn chat_passes_on_after_wait(backend: Backend) {
    let d = Daemon::start(backend, &config("", None)).await;
    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let (mut alice_events, mut bob_events) = (alice.events().await, bob.events().await);
    alice.go_online().await;
    bob.go_online().await;

    let epoch_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let sent_ms = epoch_ms();
    let chat = d.chat_ok("u2", "anyone there?").await;
    let offered_at = Instant::now();
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], chat["request"]);
    // The deadline is the offer's time plus the queue's 1 s offer timeout.
    let deadline = offer["deadline"].as_u64().unwrap();
    assert!(
        deadline >= sent_ms + 1000 && deadline <= epoch_ms() + 1000,
        "the offer carries its deadline: {deadline}, chat sent at {sent_ms}"
    );
    let withdrawn = alice_events.expect("withdrawn", WAIT).await;
    assert_eq!(withdrawn["reason"], "timeout");
    let next = bob_events.expect("offer", WAIT).await;
    assert_eq!(next["request"], chat["request"]);
    assert!(
        offered_at.elapsed() >= Duration::from_millis(900),
        "passed on before the 1 s offer timeout"
    );
    // alice's late accept is refused; bob's counts.
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 409);
    assert_eq!(bob.accept(next["offer"].as_u64().unwrap()).await.0, 200);
}

async fn tracker_links_chat_to_phone_customer(backend: Backend) {
    let form_queue = "[[queues]]\nname = \"sales\"\nchannels = [\"form\"]\noperators = [\"bob\"]\n\
                      [[routes.form]]\nform = \"contact\"\nqueue = \"sales\"\n\
                      fields = { name = \"your-name\", phone = \"tel\" }\n\
                      [crm]\nphone_region = \"DE\"\n";
    let d = Daemon::start(backend, &config(form_queue, None)).await;
    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let (mut alice_events, mut bob_events) = (alice.events().await, bob.events().await);
    alice.go_online().await;
    bob.go_online().await;

    // A phone customer from a form; bob (the only one in sales) becomes responsible.
    let (status, body) = d
        .form(
            "contact",
            "application/x-www-form-urlencoded",
            "your-name=Max+Muster&tel=%2B49+30+12345678",
        )
        .await;
    assert_eq!(status, 201, "{body}");
    bob_events.expect("assigned", WAIT).await;
    crate::harness::eventually(WAIT, || async {
        (d.customer("phone", "+493012345678").await["responsible"] == "bob").then_some(())
    })
    .await;

    // A chat that mentions the number (nationally written) belongs to Max: bob gets it first.
    let chat = d
        .chat_ok("u7", "Hi, this is Max, call me on 030 1234 5678 please")
        .await;
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], chat["request"]);
    alice_events.expect_no_offer_while_open(&offer).await;
    let card = d.customer("phone", "+493012345678").await;
    let identities: Vec<String> = card["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{}={}", i["kind"].as_str().unwrap(), i["value"].as_str().unwrap()))
        .collect();
    assert!(identities.contains(&"chat=livechat:u7".to_string()), "{identities:?}");
    assert_eq!(d.customer("chat", "livechat:u7").await["id"], card["id"]);
    assert_eq!(
        card["leads"].as_array().unwrap().len(),
        1,
        "a known customer's chat makes no new lead"
    );
}

async fn transfer_changes_responsible(backend: Backend) {
    let d = Daemon::start(backend, &config("", None)).await;
    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let (mut alice_events, mut bob_events) = (alice.events().await, bob.events().await);
    alice.go_online().await;
    bob.go_online().await;

    let chat = d.chat_ok("u3", "I need help").await;
    let conversation = chat["conversation"].as_i64().unwrap();
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    crate::harness::eventually(WAIT, || async {
        (d.customer("chat", "livechat:u3").await["responsible"] == "alice").then_some(())
    })
    .await;

    let (status, body) = alice.transfer(conversation, json!({ "operator": "bob" })).await;
    assert_eq!(status, 202, "{body}");
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], chat["request"]);
    assert_eq!(bob.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    crate::harness::eventually(WAIT, || async {
        (d.customer("chat", "livechat:u3").await["responsible"] == "bob").then_some(())
    })
    .await;
    assert_eq!(alice.reply(conversation, "still mine?").await.0, 403);
    assert_eq!(bob.reply(conversation, "I'll take it from here").await.0, 201);
    let (status, body) = bob.transfer(conversation, json!({ "queue": "nowhere" })).await;
    assert_eq!((status, body["fields"][0]["field"].clone()), (422, json!("queue")));

    // Back to the queue: offered to the others, not to bob who handed it on.
    let (status, _) = bob.transfer(conversation, json!({ "queue": "support" })).await;
    assert_eq!(status, 202);
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], chat["request"]);
    bob_events.expect_no("offer", QUIET).await;
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    crate::harness::eventually(WAIT, || async {
        (d.customer("chat", "livechat:u3").await["responsible"] == "alice").then_some(())
    })
    .await;
}

async fn replies_and_customer_messages(backend: Backend) {
    let (sender, mut received) = mpsc::unbounded_channel::<Value>();
    let app = axum::Router::new().route(
        "/replies",
        post(move |Json(body): Json<Value>| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/replies", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let d = Daemon::start(backend, &config("", Some(&url))).await;
    let alice = d.operator("alice");
    let mut events = alice.events().await;
    alice.go_online().await;
    let chat = d.chat_ok("u4", "hello?").await;
    let conversation = chat["conversation"].as_i64().unwrap();
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(offer["preview"], "hello?");
    assert_eq!(offer["conversation"], conversation);
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);

    // A second stream (a reconnect) starts with what alice holds.
    let mut reconnected = alice.events().await;
    let held = reconnected.expect("assigned", WAIT).await;
    assert_eq!(
        (held["request"].clone(), held["via"].clone()),
        (chat["request"].clone(), json!("held"))
    );
    assert_eq!(held["conversation"], conversation);
    drop(reconnected);

    let (status, body) = alice.reply(conversation, "Hello, how can I help?").await;
    assert_eq!((status, body["delivered"].clone()), (201, json!(true)), "{body}");
    let delivered = tokio::time::timeout(WAIT, received.recv()).await.unwrap().unwrap();
    assert_eq!(delivered["user_id"], "u4");
    assert_eq!(delivered["text"], "Hello, how can I help?");
    assert_eq!(delivered["operator"], "alice");

    let more = d.chat_ok("u4", "my order is late").await;
    assert_eq!(more["new_request"], false);
    assert_eq!(more["conversation"], conversation);
    let message = events.expect("message", WAIT).await;
    assert_eq!(message["body"], "my order is late");

    let history = d
        .client
        .get(d.url(&format!("/api/v1/conversations/{conversation}")))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["hello?", "Hello, how can I help?", "my order is late"]);

    let (status, body) = d.chat("livechat", json!({ "user_id": "", "text": " " })).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["user_id", "text"]);
    assert_eq!(
        d.chat("nosuchsource", json!({ "user_id": "x", "text": "hi" })).await.0,
        404
    );
    let (status, body) = d
        .chat("livechat", json!({ "user_id": "x", "text": "hi", "colour": "red" }))
        .await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");
    assert!(body["error"].as_str().unwrap().contains("colour"));
    let truncated = d
        .client
        .post(d.url("/api/v1/chat/livechat/messages"))
        .header("content-type", "application/json")
        .body("{\"user_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(truncated.status().as_u16(), 400);
    let (status, _) = d
        .chat("livechat", json!({ "user_id": "x", "text": "y".repeat(20_000) }))
        .await;
    assert_eq!(status, 413);
    assert_eq!(
        d.open_requests().await.len(),
        1,
        "refused messages leave nothing behind"
    );
    server.abort();
}

async fn simultaneous_messages_open_one_conversation(backend: Backend) {
    let d = Daemon::start(backend, &config("", None)).await;
    let sends = (0..8).map(|n| d.chat_ok("burst", if n % 2 == 0 { "hello" } else { "anyone?" }));
    let receipts = futures_util::future::join_all(sends).await;
    let opened = receipts.iter().filter(|r| r["new_request"] == true).count();
    assert_eq!(opened, 1, "one conversation and request for one user: {receipts:?}");
    let conversations: std::collections::BTreeSet<i64> =
        receipts.iter().map(|r| r["conversation"].as_i64().unwrap()).collect();
    assert_eq!(conversations.len(), 1);
    assert_eq!(d.open_requests().await.len(), 1);
    let card = d.customer("chat", "livechat:burst").await;
    assert_eq!(card["leads"].as_array().unwrap().len(), 1, "one customer, one lead");
}
