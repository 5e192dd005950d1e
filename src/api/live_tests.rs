//! The live hub against a real engine task and SQLite store: it relays offers
//! to their operator and settles accepts only for that operator, and never
//! for calls (those are answered on the phone).

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::schema::Storage;
use crate::crm::sql::SqlStore;
use crate::daemon::engine_task;
use crate::engine::{Arrival, Engine, EngineSetup, Mode, OperatorSetup, Presence, QueueSetup, Time, Workday};

struct Fixture {
    engine: EngineHandle,
    live: LiveHandle,
    events: broadcast::Receiver<(String, OperatorEvent)>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage {
        sqlite: dir.path().join("acdd.db"),
        postgres: None,
        event_log: dir.path().join("events.jsonl"),
        ..Storage::default()
    };
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(&storage).await.unwrap());
    let setup = EngineSetup {
        operators: vec![OperatorSetup::new("a"), OperatorSetup::new("b")],
        queues: vec![QueueSetup::new(
            "q",
            &[Channel::Phone, Channel::Chat],
            &["a"],
            Mode::InOrder,
        )],
    };
    let engine = engine_task::spawn(Engine::new(setup.clone()), &setup, None);
    let live = spawn(engine.clone(), store);
    let events = live.subscribe();
    let a = engine.query(|e| e.operator_id("a")).await.flatten().unwrap();
    for event in [
        Event::Presence {
            operator: a,
            presence: Presence::Online,
        },
        Event::Workday {
            operator: a,
            workday: Workday::Started,
        },
        Event::PhoneReachable {
            operator: a,
            reachable: true,
        },
    ] {
        engine.send(event);
    }
    Fixture {
        engine,
        live,
        events,
        _dir: dir,
    }
}

impl Fixture {
    async fn ids(&self) -> (OperatorId, OperatorId, crate::engine::QueueId) {
        self.engine
            .query(|e| {
                (
                    e.operator_id("a").unwrap(),
                    e.operator_id("b").unwrap(),
                    e.queue_id("q").unwrap(),
                )
            })
            .await
            .unwrap()
    }

    async fn arrive(&self, request: u64, channel: Channel) -> OfferId {
        let (_, _, queue) = self.ids().await;
        self.engine.send(Event::Arrived(Arrival {
            request: RequestId(request),
            channel,
            queue,
            responsible: None,
            waiting_since: Some(Time(engine_task::now().as_millis())),
        }));
        self.next_offer().await
    }

    async fn next_offer(&self) -> OfferId {
        let mut events = self.events.resubscribe();
        loop {
            let (operator, event) = tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .expect("an offer")
                .unwrap();
            if let OperatorEvent::Offer { offer, .. } = event {
                assert_eq!(operator, "a");
                return OfferId(offer);
            }
        }
    }
}

#[tokio::test]
async fn accepts_are_settled_for_the_offered_operator_only() {
    let fixture = fixture().await;
    let (a, b, _) = fixture.ids().await;
    let offer = fixture.arrive(1, Channel::Chat).await;
    assert_eq!(fixture.live.accept(offer, b).await, Some(AcceptOutcome::NotYours));
    assert_eq!(fixture.live.decline(offer, b).await, Some(AcceptOutcome::NotYours));
    assert_eq!(fixture.live.pending(a).await.len(), 1);
    assert!(fixture.live.pending(b).await.is_empty());
    assert_eq!(
        fixture.live.accept(offer, a).await,
        Some(AcceptOutcome::Assigned { request: 1 })
    );
    assert_eq!(fixture.live.accept(offer, a).await, Some(AcceptOutcome::NotOpen));
    assert!(fixture.live.pending(a).await.is_empty());
}

#[tokio::test]
async fn calls_are_not_accepted_over_http() {
    let fixture = fixture().await;
    let (a, _, _) = fixture.ids().await;
    let offer = fixture.arrive(7, Channel::Phone).await;
    assert_eq!(fixture.live.accept(offer, a).await, Some(AcceptOutcome::PhoneOnly));
    assert_eq!(fixture.live.decline(offer, a).await, Some(AcceptOutcome::PhoneOnly));
    let view = fixture
        .engine
        .query(|e| e.request_view(RequestId(7)))
        .await
        .flatten()
        .unwrap();
    assert_eq!(view.state, "offered", "the call still rings");
}

#[tokio::test]
async fn offers_made_while_nobody_listens_reach_a_stream_that_connects_later() {
    let Fixture {
        engine,
        live,
        events,
        _dir,
    } = fixture().await;
    drop(events);
    let (a, _, queue) = engine
        .query(|e| {
            (
                e.operator_id("a").unwrap(),
                e.operator_id("b").unwrap(),
                e.queue_id("q").unwrap(),
            )
        })
        .await
        .unwrap();
    engine.send(Event::Arrived(Arrival {
        request: RequestId(3),
        channel: Channel::Chat,
        queue,
        responsible: None,
        waiting_since: Some(Time(engine_task::now().as_millis())),
    }));
    let mut pending = Vec::new();
    for _ in 0..100 {
        pending = live.pending(a).await;
        if !pending.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let [
        OperatorEvent::Offer {
            offer,
            request,
            channel,
            queue,
            deadline,
            ..
        },
    ] = pending.as_slice()
    else {
        panic!("one offer, built from the book: {pending:?}");
    };
    assert_eq!((*request, channel.as_str(), queue.as_str()), (3, "chat", "q"));
    assert!(*deadline > engine_task::now().as_millis(), "the deadline is ahead");
    let mut stream = live.subscribe();
    assert_eq!(
        live.accept(OfferId(*offer), a).await,
        Some(AcceptOutcome::Assigned { request: 3 })
    );
    let (operator, event) = tokio::time::timeout(Duration::from_secs(5), stream.recv())
        .await
        .expect("the assignment")
        .unwrap();
    assert_eq!(operator, "a");
    assert!(
        matches!(event, OperatorEvent::Assigned { request: 3, ref queue, via: "offer", .. } if queue == "q"),
        "{event:?}"
    );
}
