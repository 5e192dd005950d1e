//! The availability check: on, only online operators with a started and
//! unpaused workday get offers; off, everybody listed does.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, Daemon, operator};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(800);

crate::on_both_backends! {
    availability_check_on_and_off => availability_check_on_and_off;
}

async fn availability_check_on_and_off(backend: Backend) {
    let config = format!(
        "{}{}\
         [[queues]]\nname = \"relaxed\"\nchannels = [\"chat\"]\noperators = [\"alice\"]\ncheck_availability = false\n\
         [[queues]]\nname = \"strict\"\nchannels = [\"chat\"]\noperators = [\"bob\"]\ncheck_availability = true\n\
         [[routes.chat]]\nsource = \"relaxed\"\nqueue = \"relaxed\"\n\
         [[routes.chat]]\nsource = \"strict\"\nqueue = \"strict\"\n",
        operator("alice"),
        operator("bob")
    );
    let d = Daemon::start(backend, &config).await;
    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let (mut alice_events, mut bob_events) = (alice.events().await, bob.events().await);

    // Check off: alice is offline and has not started her day, and still gets it.
    let (status, _) = d.chat("relaxed", json!({ "user_id": "r1", "text": "hi" })).await;
    assert_eq!(status, 202);
    alice_events.expect("offer", WAIT).await;

    // Check on: bob gets nothing until he is online with a started workday.
    let (status, first) = d.chat("strict", json!({ "user_id": "s1", "text": "hi" })).await;
    assert_eq!(status, 202);
    bob_events.expect_no("offer", QUIET).await;
    assert_eq!(bob.status(json!({ "presence": "online" })).await.0, 200);
    bob_events.expect_no("offer", QUIET).await;
    assert_eq!(bob.status(json!({ "workday": "start" })).await.0, 200);
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], first["request"]);
    assert_eq!(bob.accept(offer["offer"].as_u64().unwrap()).await.0, 200);

    // A paused workday stops offers; resuming brings them back.
    assert_eq!(
        bob.status(json!({ "workday": "pause", "reason": "lunch" })).await.0,
        200
    );
    let (_, second) = d.chat("strict", json!({ "user_id": "s2", "text": "hello" })).await;
    bob_events.expect_no("offer", QUIET).await;
    let queues = d.admin_get("/api/v1/queues").await;
    let strict = queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "strict")
        .unwrap()
        .clone();
    assert_eq!(strict["waiting"], 1);
    assert_eq!(strict["operators"][0]["pause_reason"], "lunch");
    assert_eq!(bob.status(json!({ "workday": "resume" })).await.0, 200);
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(offer["request"], second["request"]);

    let (status, body) = bob.status(json!({ "presence": "sleeping" })).await;
    assert_eq!((status, body["fields"][0]["field"].clone()), (422, json!("presence")));
}
