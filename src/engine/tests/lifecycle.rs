//! Abandonment, queue length, overflow into another queue, and events about
//! things the engine does not know.

use super::*;

#[test]
fn abandon_while_ringing_withdraws_every_offer() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::All)));
    sim.ready_all(&["a", "b"]);
    let (request, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offers(&out).len(), 2);
    let out = sim.send(Event::Abandoned { request });
    let withdrawn = sim.withdrawn(&out);
    assert_eq!(withdrawn.len(), 2);
    assert!(withdrawn.iter().all(|w| w.1 == WithdrawReason::Abandoned));
    assert!(out.iter().any(|a| matches!(a, Action::Note(Note::Abandoned { .. }))));
    assert_eq!(sim.engine.request_count(), 0);
}

#[test]
fn a_callback_request_ends_the_wait_like_an_abandon_but_says_so() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::All)));
    sim.ready_all(&["a", "b"]);
    let (request, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offers(&out).len(), 2);
    sim.advance(3_000);
    let out = sim.send(Event::CallbackRequested { request });
    assert_eq!(sim.withdrawn(&out).len(), 2);
    assert!(out.iter().any(|a| matches!(
        a,
        Action::Note(Note::Abandoned {
            callback: true,
            waited_ms: 3_000,
            ..
        })
    )));
    assert_eq!(sim.engine.request_count(), 0);
    // A plain abandon says it is none.
    let (request, _) = sim.arrive("q", Channel::Phone);
    let out = sim.send(Event::Abandoned { request });
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::Note(Note::Abandoned { callback: false, .. })))
    );
}

#[test]
fn hanging_up_on_an_operator_closes_the_request() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    sim.ready("a");
    let (request, out) = sim.arrive("q", Channel::Phone);
    sim.accept(sim.offer(&out).0);
    let out = sim.send(Event::Abandoned { request });
    assert!(out.iter().any(|a| matches!(a, Action::Note(Note::Closed { .. }))));
}

#[test]
fn a_full_queue_runs_the_missed_action_for_newcomers() {
    let mut queue = phone_queue(&["a"], Mode::InOrder);
    queue.max_length = Some(2);
    queue.missed = MissedAction::Forward("sip:+4930999@gw".into());
    let mut sim = Sim::new(setup(&["a"], queue));
    sim.arrive("q", Channel::Phone);
    sim.arrive("q", Channel::Phone);
    let (third, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(
        Sim::missed(&out),
        vec![(
            third,
            MissedAction::Forward("sip:+4930999@gw".into()),
            MissedReason::QueueFull
        )]
    );
    assert_eq!(sim.engine.queue_views()[0].waiting, 2);
}

#[test]
fn overflow_keeps_the_waiting_time() {
    let mut first = QueueSetup::new("first", &[Channel::Phone], &["a"], Mode::InOrder);
    first.max_wait_ms = Some(30_000);
    first.missed = MissedAction::Queue("second".into());
    let second = QueueSetup::new("second", &[Channel::Phone], &["b"], Mode::InOrder);
    let mut sim = Sim::new(EngineSetup {
        operators: vec![OperatorSetup::new("a"), OperatorSetup::new("b")],
        queues: vec![first, second],
    });
    let start = sim.now;
    let (overflowing, _) = sim.arrive("first", Channel::Phone);
    sim.advance(10_000);
    let (direct, _) = sim.arrive("second", Channel::Phone);
    let out = sim.advance(20_000);
    assert!(out.iter().any(|a| matches!(a, Action::Note(Note::Overflowed { .. }))));
    assert_eq!(sim.engine.request_view(overflowing).unwrap().queue, "second");
    assert_eq!(sim.engine.request_view(overflowing).unwrap().waiting_since, start);
    let out = sim.ready("b");
    assert_eq!(
        sim.offers(&out)[0].2,
        overflowing,
        "it waited longer than the direct caller"
    );
    let _ = direct;
}

#[test]
fn recovered_requests_keep_their_order() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    let earlier = sim.now;
    sim.advance(5_000);
    let (late, _) = sim.arrive("q", Channel::Phone);
    let (recovered, _) = sim.arrive_with("q", Channel::Phone, None, Some(earlier));
    let out = sim.ready("a");
    assert_eq!(sim.offers(&out)[0].2, recovered);
    let _ = late;
}

#[test]
fn unknown_things_are_ignored_not_fatal() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    for event in [
        Event::Closed { request: RequestId(77) },
        Event::Abandoned { request: RequestId(77) },
        Event::Answered { request: RequestId(77) },
        Event::Declined { offer: OfferId(5) },
        Event::Presence {
            operator: OperatorId(99),
            presence: Presence::Online,
        },
        Event::Transfer {
            request: RequestId(77),
            to: TransferTarget::Queue(QueueId(0)),
        },
    ] {
        let out = sim.send(event);
        assert!(
            out.iter().all(|a| matches!(a, Action::Note(Note::Ignored { .. }))),
            "{out:?}"
        );
    }
    let out = sim.send(Event::Accepted { offer: OfferId(5) });
    assert!(matches!(out[..], [Action::RefuseAccept { .. }]));
    let (request, _) = sim.arrive("q", Channel::Phone);
    let out = sim.send(Event::Arrived(Arrival {
        request,
        channel: Channel::Phone,
        queue: QueueId(0),
        responsible: None,
        waiting_since: None,
    }));
    assert!(
        matches!(out[..], [Action::Note(Note::Ignored { .. })]),
        "duplicate arrival"
    );
    let out = sim.send(Event::Arrived(Arrival {
        request: RequestId(500),
        channel: Channel::Mail,
        queue: QueueId(0),
        responsible: None,
        waiting_since: None,
    }));
    assert!(
        matches!(out[..], [Action::Note(Note::Ignored { .. })]),
        "channel the queue does not serve"
    );
}

#[test]
fn next_deadline_is_the_earliest_timer() {
    let mut queue = phone_queue(&["a"], Mode::InOrder);
    queue.offer_timeout_ms.0[0] = 15_000;
    queue.max_wait_ms = Some(60_000);
    let mut sim = Sim::new(setup(&["a"], queue));
    assert_eq!(sim.engine.next_deadline(), None);
    sim.ready("a");
    sim.arrive("q", Channel::Phone);
    assert_eq!(sim.engine.next_deadline(), Some(sim.now.plus_ms(15_000)));
}
