//! The queue's per-operator limit, with each counting rule: `open` counts
//! every open request, `unanswered` only those not answered yet, `answered`
//! only those answered and not closed.

use std::time::Duration;

use crate::harness::{Backend, Daemon, operator};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(800);

fn config(rule: &str) -> String {
    format!(
        "{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\"]\n\
         max_per_operator = 1\nlimit_counts = \"{rule}\"\noffer_timeout_seconds = 30\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n",
        operator("alice")
    )
}

crate::on_both_backends! {
    limit_counts_open => limit_counts_open;
    limit_counts_unanswered => limit_counts_unanswered;
    limit_counts_answered => limit_counts_answered;
}

async fn limit_counts_open(backend: Backend) {
    let d = Daemon::start(backend, &config("open")).await;
    let alice = d.operator("alice");
    let mut events = alice.events().await;
    alice.go_online().await;
    let first = d.chat_ok("c1", "one").await;
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    let second = d.chat_ok("c2", "two").await;
    events.expect_no("offer", QUIET).await;
    // Answering does not free the place: the request is still open.
    assert_eq!(alice.reply(first["conversation"].as_i64().unwrap(), "hi").await.0, 201);
    events.expect_no("offer", QUIET).await;
    assert_eq!(alice.close(first["conversation"].as_i64().unwrap()).await.0, 200);
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], second["request"]);
}

async fn limit_counts_unanswered(backend: Backend) {
    let d = Daemon::start(backend, &config("unanswered")).await;
    let alice = d.operator("alice");
    let mut events = alice.events().await;
    alice.go_online().await;
    let first = d.chat_ok("c1", "one").await;
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    let second = d.chat_ok("c2", "two").await;
    events.expect_no("offer", QUIET).await;
    // The first answer frees the place.
    assert_eq!(alice.reply(first["conversation"].as_i64().unwrap(), "hi").await.0, 201);
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], second["request"]);
}

async fn limit_counts_answered(backend: Backend) {
    let d = Daemon::start(backend, &config("answered")).await;
    let alice = d.operator("alice");
    let mut events = alice.events().await;
    alice.go_online().await;
    let first = d.chat_ok("c1", "one").await;
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    // Not answered yet: it does not count, so a second chat comes.
    let second = d.chat_ok("c2", "two").await;
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], second["request"]);
    assert_eq!(alice.accept(offer["offer"].as_u64().unwrap()).await.0, 200);
    // Answering the first fills the place.
    assert_eq!(alice.reply(first["conversation"].as_i64().unwrap(), "hi").await.0, 201);
    let third = d.chat_ok("c3", "three").await;
    events.expect_no("offer", QUIET).await;
    assert_eq!(alice.close(first["conversation"].as_i64().unwrap()).await.0, 200);
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], third["request"]);
}
