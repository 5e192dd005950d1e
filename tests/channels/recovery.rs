//! Restart recovery: requests waiting when the daemon is killed with SIGKILL
//! are all still there after a restart, in their order with their original
//! waiting time, and are offered again; rotation continues where it stopped.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, Daemon, eventually, operator};

const WAIT: Duration = Duration::from_secs(5);

crate::on_both_backends! {
    requests_survive_kill_9 => requests_survive_kill_9;
}

fn summary(requests: &[Value]) -> Vec<(i64, i64, String)> {
    requests
        .iter()
        .map(|r| {
            (
                r["request"].as_i64().unwrap(),
                r["waiting_since"].as_i64().unwrap(),
                r["channel"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn requests_survive_kill_9(backend: Backend) {
    let config = format!(
        "{}{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\"]\n\
         [[queues]]\nname = \"sales\"\nchannels = [\"form\"]\noperators = [\"alice\", \"bob\"]\nmode = \"evenly\"\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n\
         [[routes.form]]\nform = \"contact\"\nqueue = \"sales\"\nfields = {{ name = \"name\" }}\n",
        operator("alice"),
        operator("bob")
    );
    let mut d = Daemon::start(backend, &config).await;
    // Nobody online: three chats wait.
    let mut chats = Vec::new();
    for user in ["w1", "w2", "w3"] {
        chats.push(d.chat_ok(user, &format!("{user} waiting")).await["request"].clone());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A form goes to alice by rotation (all unavailable: in order).
    let (status, form) = d
        .form("contact", "application/json", json!({ "name": "Ann" }).to_string())
        .await;
    assert_eq!(status, 201);
    let form_holder = d.holder_of(&form["request"]).await;
    assert_eq!(form_holder, "alice");
    // The recorder saves the rotation pointer before it records the
    // assignment (here: alice becomes Ann's responsible), so once that is
    // stored, the pointer is too.
    let customer = form["customer"].as_i64().unwrap();
    eventually(WAIT, || async {
        let card = d.admin_get(&format!("/api/v1/customers/{customer}")).await;
        (card["responsible"] == "alice").then_some(())
    })
    .await;
    let before = d.open_requests().await;
    assert_eq!(before.len(), 4);
    assert!(
        before
            .iter()
            .filter(|r| r["channel"] == "chat")
            .all(|r| r["state"] == "waiting")
    );

    d.kill_and_restart().await;

    let after = d.open_requests().await;
    assert_eq!(
        summary(&after),
        summary(&before),
        "every open request is back, in order, with its waiting time"
    );
    let states: Vec<&str> = after.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["waiting", "waiting", "waiting", "assigned"]);

    // Offered again once alice is there, oldest first.
    let alice = d.operator("alice");
    let mut events = alice.events().await;
    alice.go_online().await;
    let mut offered = Vec::new();
    for _ in 0..3 {
        offered.push(events.expect("offer", WAIT).await["request"].clone());
    }
    assert_eq!(offered, chats);

    // The form rotation continues after alice: with bob working too, the next form is his
    // (a rotation that forgot its place would start again at alice).
    assert_eq!(d.operator("bob").status(json!({ "workday": "start" })).await.0, 200);
    let (_, next) = d
        .form("contact", "application/json", json!({ "name": "Ben" }).to_string())
        .await;
    let holder = d.holder_of(&next["request"]).await;
    assert_eq!(holder, "bob");
}

crate::on_both_backends! {
    acknowledged_requests_survive_a_kill_mid_burst => acknowledged_requests_survive_a_kill_mid_burst;
}

/// `kill -9` while chats pour in: every chat that was acknowledged (202) is
/// there after the restart; none of what was stored is half-written.
async fn acknowledged_requests_survive_a_kill_mid_burst(backend: Backend) {
    let config = format!(
        "{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\"]\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n",
        operator("alice")
    );
    let mut d = Daemon::start(backend, &config).await;
    let url = d.url("/api/v1/chat/livechat/messages");
    let acks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..40)
        .map(|n| {
            let (client, url, acks) = (reqwest::Client::new(), url.clone(), acks.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(n * 5)).await;
                let response = client
                    .post(&url)
                    .json(&json!({ "user_id": format!("burst{n}"), "text": "hello" }))
                    .send()
                    .await
                    .ok()?;
                if response.status().as_u16() != 202 {
                    return None;
                }
                let request = response.json::<Value>().await.ok()?["request"].as_i64();
                acks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                request
            })
        })
        .collect();
    // Killed as soon as the first chat is acknowledged, while the others pour in.
    for _ in 0..1000 {
        if acks.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    d.kill_and_restart().await;
    let mut acknowledged = Vec::new();
    for sender in senders {
        if let Some(request) = sender.await.unwrap() {
            acknowledged.push(request);
        }
    }
    assert!(!acknowledged.is_empty(), "some chats were acknowledged before the kill");
    let open: Vec<i64> = d
        .open_requests()
        .await
        .iter()
        .map(|r| r["request"].as_i64().unwrap())
        .collect();
    for request in &acknowledged {
        assert!(
            open.contains(request),
            "acknowledged request {request} lost; open: {open:?}"
        );
    }
    for user in 0..40 {
        // Every stored customer has its whole arrival: identity, lead and the request.
        let card = d
            .client
            .get(d.url(&format!("/api/v1/customers?chat=livechat:burst{user}")))
            .bearer_auth(crate::harness::ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        if card.status().as_u16() == 404 {
            continue;
        }
        let card: Value = card.json().await.unwrap();
        assert_eq!(card["leads"].as_array().unwrap().len(), 1, "{card}");
        let request = card["leads"][0]["request"].as_i64().unwrap();
        assert!(open.contains(&request), "stored request {request} is not open again");
    }
}

crate::on_both_backends! {
    operator_statuses_survive_a_restart => operator_statuses_survive_a_restart;
}

/// Who is online, working or paused is not lost with the process: after a
/// `kill -9` and a restart a chat goes to the operator who was available,
/// not to the paused one ahead of her in the list, without anybody saying
/// "online" again.
async fn operator_statuses_survive_a_restart(backend: Backend) {
    let config = format!(
        "{}{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"bob\", \"alice\"]\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n",
        operator("alice"),
        operator("bob")
    );
    let mut d = Daemon::start(backend, &config).await;
    d.operator("alice").go_online().await;
    let bob = d.operator("bob");
    bob.go_online().await;
    let (status, body) = bob.status(json!({ "workday": "pause", "reason": "lunch" })).await;
    assert_eq!(status, 200, "{body}");
    // Statuses are saved within two seconds of a change.
    tokio::time::sleep(Duration::from_secs(3)).await;

    d.kill_and_restart().await;

    let mut events = d.operator("alice").events().await;
    let chat = d.chat_ok("after", "hello after the restart").await;
    let offer = events.expect("offer", WAIT).await;
    assert_eq!(
        offer["request"], chat["request"],
        "alice is available, bob still paused"
    );
}
