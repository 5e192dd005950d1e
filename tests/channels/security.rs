//! Tokens and ownership: no or wrong token → bare 401; an operator acting on
//! another operator's offer or conversation → 403; admin endpoints need the
//! admin token; reload refuses a broken configuration and keeps running.

use std::time::Duration;

use serde_json::json;

use crate::harness::{ADMIN_TOKEN, Backend, Daemon, operator};

const WAIT: Duration = Duration::from_secs(5);

crate::on_both_backends! {
    tokens_and_ownership => tokens_and_ownership;
}

async fn tokens_and_ownership(backend: Backend) {
    let config = format!(
        "{}{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\", \"bob\"]\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n\
         [[routes.chat]]\nsource = \"bridge\"\nqueue = \"support\"\nwebhook_token = \"bridge-secret-0000001\"\n",
        operator("alice"),
        operator("bob")
    );
    let d = Daemon::start(backend, &config).await;
    let client = &d.client;

    for token in [None, Some("wrong-token-wrong-token"), Some(ADMIN_TOKEN)] {
        let mut request = client.get(d.url("/api/v1/operators/me/events"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        assert!(response.bytes().await.unwrap().is_empty(), "a 401 carries no data");
    }
    for token in [None, Some(crate::harness::token_of("alice"))] {
        let mut request = client.get(d.url("/api/v1/queues"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status().as_u16(), 401);
    }

    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let mut alice_events = alice.events().await;
    alice.go_online().await;
    let chat = d.chat_ok("s1", "hello").await;
    let conversation = chat["conversation"].as_i64().unwrap();
    let offer = alice_events.expect("offer", WAIT).await["offer"].as_u64().unwrap();
    assert_eq!(bob.accept(offer).await.0, 403);
    assert_eq!(bob.decline(offer).await.0, 403);
    assert_eq!(alice.accept(offer).await.0, 200);
    assert_eq!(alice.accept(offer).await.0, 409, "an offer is accepted once");
    assert_eq!(bob.reply(conversation, "mine now").await.0, 403);
    assert_eq!(bob.close(conversation).await.0, 403);
    assert_eq!(bob.transfer(conversation, json!({ "operator": "bob" })).await.0, 403);
    assert_eq!(alice.reply(conversation, "hi").await.0, 201);

    let metrics = client
        .get(d.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("acdd_requests_arrived_total") && !l.ends_with(" 0")),
        "the chat is counted on /metrics:\n{metrics}"
    );

    let queues = d.admin_get("/api/v1/queues").await;
    let support = &queues["queues"][0];
    assert_eq!(support["operators"][0]["name"], "alice");
    assert_eq!(support["operators"][0]["state"], "busy");
    assert_eq!(support["operators"][0]["load"]["chat"], 1);

    // A source with a webhook token takes only messages that bear it.
    let message = json!({ "user_id": "b1", "text": "hi" });
    for token in [None, Some("bridge-secret-0000002")] {
        let mut request = client.post(d.url("/api/v1/chat/bridge/messages")).json(&message);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status().as_u16(), 401);
    }
    let response = client
        .post(d.url("/api/v1/chat/bridge/messages"))
        .bearer_auth("bridge-secret-0000001")
        .json(&message)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);

    // Reload: a broken file is refused and the daemon keeps its configuration;
    // a good one adds a chat source.
    let reload = || async {
        let response = client
            .post(d.url("/api/v1/reload"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    };
    d.rewrite_config(|text| format!("{text}\n[[routes.chat]]\nsource = \"telegram\"\nqueue = \"nowhere\"\n"));
    assert_eq!(reload().await, 422);
    assert_eq!(
        d.chat("telegram", json!({ "user_id": "t1", "text": "hi" })).await.0,
        404
    );
    d.rewrite_config(|text| text.replace("queue = \"nowhere\"", "queue = \"support\""));
    assert_eq!(reload().await, 200);
    assert_eq!(
        d.chat("telegram", json!({ "user_id": "t1", "text": "hi" })).await.0,
        202
    );
}
