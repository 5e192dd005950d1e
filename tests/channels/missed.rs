//! A request nobody takes within the queue's maximum wait ends as missed: its
//! conversation closes, the customer gets a callback task in the CRM, and the
//! customer's next message opens a new request.

use std::time::Duration;

use crate::harness::{Backend, Daemon, eventually, operator};

const WAIT: Duration = Duration::from_secs(5);

crate::on_both_backends! {
    missed_chat_becomes_callback_task => missed_chat_becomes_callback_task;
}

async fn missed_chat_becomes_callback_task(backend: Backend) {
    let config = format!(
        "{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\"]\nmax_wait_seconds = 1\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n",
        operator("alice")
    );
    let d = Daemon::start(backend, &config).await;
    let first = d.chat_ok("m1", "is anybody there?").await;
    let card = eventually(WAIT, || async {
        let card = d.customer("chat", "livechat:m1").await;
        (!card["callbacks"].as_array().unwrap().is_empty()).then_some(card)
    })
    .await;
    assert_eq!(card["callbacks"][0]["request"], first["request"]);
    assert!(
        card["callbacks"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("maximum wait")
    );
    assert!(
        card["activities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "missed")
    );
    assert!(
        d.open_requests().await.is_empty(),
        "the missed request is no longer open"
    );
    let listed = d.admin_get("/api/v1/callbacks").await;
    let task = listed["callbacks"][0]["id"].as_i64().unwrap();
    assert_eq!(listed["callbacks"][0]["customer"], card["id"]);
    let alice = d.operator("alice");
    let done = |id: i64| {
        d.client
            .post(d.url(&format!("/api/v1/callbacks/{id}/done")))
            .bearer_auth(&alice.token)
            .send()
    };
    assert_eq!(done(task).await.unwrap().status().as_u16(), 200);
    assert_eq!(done(task).await.unwrap().status().as_u16(), 404, "done once");
    assert!(
        d.admin_get("/api/v1/callbacks").await["callbacks"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let again = d.chat_ok("m1", "hello again").await;
    assert_eq!(again["new_request"], true);
    assert_ne!(again["conversation"], first["conversation"]);
}
