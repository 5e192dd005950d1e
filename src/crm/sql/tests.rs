//! The SQL store on a temporary SQLite file: identity merging, mail threads,
//! request ends with callback tasks and recordings, recovery order, rotation.
//! (The integration suite runs all of it against PostgreSQL too.)

use serde_json::json;

use super::SqlStore;
use crate::config::schema::Storage;
use crate::crm::{CustomerKey, Identity, LeadPlan, NewRequest, RequestEnd, Store, Stored, Thread};
use crate::engine::Channel;

async fn store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage {
        sqlite: dir.path().join("nested/acdd.db"),
        postgres: None,
        event_log: dir.path().join("events.jsonl"),
        ..Storage::default()
    };
    (SqlStore::open(&storage).await.unwrap(), dir)
}

fn arrival(channel: Channel, identities: Vec<Identity>, thread: Thread, at: i64) -> NewRequest {
    NewRequest {
        channel,
        queue: "q".into(),
        origin: "origin".into(),
        name: None,
        identities,
        thread,
        external_id: "peer".into(),
        subject: None,
        author: "someone".into(),
        body: "text".into(),
        message_id: None,
        lead: LeadPlan::IfUnknown,
        at,
    }
}

fn opened(stored: Stored) -> crate::crm::OpenRequest {
    match stored {
        Stored::Opened(open) => open,
        other => panic!("expected a new request, got {other:?}"),
    }
}

#[tokio::test]
async fn a_phone_number_merges_two_customers_into_the_one_with_the_responsible() {
    let (store, _dir) = store().await;
    let phone = Identity::phone("+493012345678".into());
    let call = opened(
        store
            .receive(arrival(Channel::Phone, vec![phone.clone()], Thread::New, 1))
            .await
            .unwrap(),
    );
    store.assigned(call.request, "bob".into(), 2).await.unwrap();
    let chat = Identity::chat("livechat", "u1");
    let first_chat = opened(
        store
            .receive(arrival(Channel::Chat, vec![chat.clone()], Thread::New, 3))
            .await
            .unwrap(),
    );
    assert_ne!(first_chat.customer, call.customer);
    store.ended(first_chat.request, RequestEnd::Closed, 4).await.unwrap();

    // The chat user now writes the phone number: one customer, bob responsible.
    let linked = opened(
        store
            .receive(arrival(Channel::Chat, vec![phone, chat], Thread::New, 5))
            .await
            .unwrap(),
    );
    assert_eq!(linked.customer, call.customer);
    assert_eq!(linked.responsible.as_deref(), Some("bob"));
    let card = store.customer(CustomerKey::Id(call.customer)).await.unwrap().unwrap();
    let kinds: Vec<&str> = card.identities.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["chat", "phone"]);
    assert_eq!(card.leads.len(), 2, "the leads of both are kept");
    assert!(card.activities.iter().any(|a| a.kind == "merged"));
    assert!(
        store
            .customer(CustomerKey::Id(first_chat.customer))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_mail_reply_joins_its_thread_and_after_close_returns_to_its_operator() {
    let (store, _dir) = store().await;
    let sender = || vec![Identity::email("jane@example.org".into())];
    let mut first = arrival(Channel::Mail, sender(), Thread::Mail { refers_to: vec![] }, 1);
    first.message_id = Some("m1@example.org".into());
    let open = opened(store.receive(first).await.unwrap());
    store.assigned(open.request, "carol".into(), 2).await.unwrap();

    let mut reply = arrival(
        Channel::Mail,
        sender(),
        Thread::Mail {
            refers_to: vec!["unknown@x".into(), "m1@example.org".into()],
        },
        3,
    );
    reply.message_id = Some("m2@example.org".into());
    let joined = store.receive(reply.clone()).await.unwrap();
    assert_eq!(
        joined,
        Stored::Appended {
            conversation: open.conversation.unwrap(),
            request: open.request,
            operator: Some("carol".into()),
        }
    );
    store.ended(open.request, RequestEnd::Closed, 4).await.unwrap();

    reply.thread = Thread::Mail {
        refers_to: vec!["m2@example.org".into()],
    };
    reply.message_id = Some("m3@example.org".into());
    let again = opened(store.receive(reply).await.unwrap());
    assert_eq!(again.conversation, open.conversation, "the same thread");
    assert_eq!(again.responsible.as_deref(), Some("carol"));
    assert_eq!(store.messages(open.conversation.unwrap()).await.unwrap().len(), 3);
}

#[tokio::test]
async fn missed_requests_leave_callback_tasks_and_open_ones_come_back_in_order() {
    let (store, _dir) = store().await;
    let mut ids = Vec::new();
    for (n, at) in [(1, 30), (2, 10), (3, 20)] {
        let who = vec![Identity::chat("livechat", &format!("u{n}"))];
        let open = opened(
            store
                .receive(arrival(
                    Channel::Chat,
                    who,
                    Thread::Chat {
                        source: "livechat".into(),
                        user: format!("u{n}"),
                    },
                    at,
                ))
                .await
                .unwrap(),
        );
        ids.push(open.request);
    }
    store
        .ended(
            ids[0],
            RequestEnd::Missed {
                reason: "nobody".into(),
            },
            40,
        )
        .await
        .unwrap();
    store
        .attach_recording(ids[0], "file:///vm/1.wav".into(), 41)
        .await
        .unwrap();
    let open: Vec<i64> = store.open_requests().await.unwrap().iter().map(|r| r.request).collect();
    assert_eq!(open, [ids[1], ids[2]], "oldest waiting first");

    let tasks = store.open_callbacks().await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].request, Some(ids[0]));
    assert_eq!(tasks[0].recording.as_deref(), Some("file:///vm/1.wav"));
    assert!(store.finish_callback(tasks[0].id, "alice".into(), 50).await.unwrap());
    assert!(!store.finish_callback(tasks[0].id, "alice".into(), 51).await.unwrap());
    assert!(store.open_callbacks().await.unwrap().is_empty());
    // Ending twice changes nothing.
    store.ended(ids[0], RequestEnd::Closed, 60).await.unwrap();
    assert!(store.open_callbacks().await.unwrap().is_empty());
}

#[tokio::test]
async fn forms_always_make_a_lead_or_deal_and_rotation_pointers_persist() {
    let (store, _dir) = store().await;
    let mut form = arrival(Channel::Form, vec![], Thread::New, 1);
    form.lead = LeadPlan::Always {
        kind: crate::crm::LeadKind::Deal,
        fields: json!({ "budget": "5000" }),
    };
    let open = opened(store.receive(form).await.unwrap());
    let card = store.customer(CustomerKey::Id(open.customer)).await.unwrap().unwrap();
    assert_eq!(card.leads[0].kind, "deal");
    assert_eq!(card.leads[0].fields, json!({ "budget": "5000" }));

    assert!(store.rotation().await.unwrap().is_empty());
    store
        .save_rotation(vec![("sales".into(), "bob".into()), ("support".into(), "alice".into())])
        .await
        .unwrap();
    store
        .save_rotation(vec![("sales".into(), "carol".into())])
        .await
        .unwrap();
    assert_eq!(
        store.rotation().await.unwrap(),
        [
            ("sales".to_string(), "carol".to_string()),
            ("support".to_string(), "alice".to_string())
        ]
    );
}

#[tokio::test]
async fn operator_statuses_keep_apart_from_rotation_and_calls_out_reach_the_history() {
    let (store, _dir) = store().await;
    store.save_rotation(vec![("sales".into(), "bob".into())]).await.unwrap();
    store
        .save_operator_statuses(vec![("bob".into(), "{\"a\":1}".into())])
        .await
        .unwrap();
    store
        .save_operator_statuses(vec![("bob".into(), "{\"a\":2}".into()), ("amy".into(), "{}".into())])
        .await
        .unwrap();
    assert_eq!(
        store.operator_statuses().await.unwrap(),
        [
            ("amy".to_string(), "{}".to_string()),
            ("bob".to_string(), "{\"a\":2}".to_string())
        ]
    );
    assert_eq!(
        store.rotation().await.unwrap(),
        [("sales".to_string(), "bob".to_string())]
    );

    // A number the CRM does not know becomes a customer with the call in its
    // history; calling it again finds the same customer.
    let first = store
        .record_call_out("+4930555000".into(), "bob".into(), 10)
        .await
        .unwrap();
    let again = store
        .record_call_out("+4930555000".into(), "amy".into(), 20)
        .await
        .unwrap();
    assert_eq!(first, again);
    let card = store
        .customer(CustomerKey::Identity("phone".into(), "+4930555000".into()))
        .await
        .unwrap()
        .unwrap();
    let called: Vec<(&str, Option<&str>)> = card
        .activities
        .iter()
        .map(|a| (a.detail.as_str(), a.operator.as_deref()))
        .collect();
    assert!(called.contains(&("called by bob", Some("bob"))), "{called:?}");
    assert!(called.contains(&("called by amy", Some("amy"))), "{called:?}");
}
