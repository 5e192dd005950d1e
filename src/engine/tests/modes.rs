//! Distribution modes: in_order, evenly, all, longest_idle; offer timeout,
//! rounds over the list, and cross-queue order.

use super::*;

#[test]
fn in_order_always_starts_from_the_top() {
    let mut sim = Sim::new(setup(&["a", "b", "c"], phone_queue(&["a", "b", "c"], Mode::InOrder)));
    sim.ready_all(&["a", "b", "c"]);
    for _ in 0..3 {
        let (_, out) = sim.arrive("q", Channel::Phone);
        let (offer, who) = sim.offer(&out);
        assert_eq!(who, "a");
        let out = sim.send(Event::Declined { offer });
        assert_eq!(sim.offer(&out).1, "b", "a declined: next in the list");
        let offer = sim.offer(&out).0;
        let out = sim.accept(offer);
        let (request, who, _) = sim.assigned(&out)[0].clone();
        assert_eq!(who, "b");
        sim.send(Event::Closed { request });
    }
}

#[test]
fn offer_timeout_moves_to_the_next_operator() {
    let mut queue = phone_queue(&["a", "b"], Mode::InOrder);
    queue.offer_timeout_ms.0[0] = 15_000; // three rings of five seconds
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    sim.ready_all(&["a", "b"]);
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (first, who) = sim.offer(&out);
    assert_eq!(who, "a");
    assert!(sim.advance(14_999).is_empty(), "nothing before the deadline");
    let out = sim.advance(1);
    assert_eq!(sim.withdrawn(&out), vec![(first, WithdrawReason::Timeout)]);
    assert_eq!(sim.offer(&out).1, "b");
}

#[test]
fn list_exhausted_goes_round_again_after_retry_then_missed_at_max_wait() {
    let mut queue = phone_queue(&["a", "b"], Mode::InOrder);
    queue.offer_timeout_ms.0[0] = 10_000;
    queue.retry_ms = 5_000;
    queue.max_wait_ms = Some(60_000);
    queue.missed = MissedAction::Voicemail;
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    sim.ready_all(&["a", "b"]);
    let (request, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "a");
    let out = sim.advance(10_000);
    assert_eq!(sim.offer(&out).1, "b");
    let out = sim.advance(10_000);
    assert!(sim.offers(&out).is_empty(), "round over: wait for retry");
    assert!(sim.advance(4_999).is_empty());
    let out = sim.advance(1);
    assert_eq!(sim.offer(&out).1, "a", "second round from the top");
    // Keep going round until max wait.
    let mut missed = Vec::new();
    for _ in 0..60 {
        let out = sim.advance(1_000);
        missed.extend(Sim::missed(&out));
    }
    assert_eq!(missed, vec![(request, MissedAction::Voicemail, MissedReason::MaxWait)]);
    assert_eq!(sim.engine.request_count(), 0);
}

#[test]
fn evenly_continues_after_whoever_got_the_last_request() {
    let mut sim = Sim::new(setup(&["a", "b", "c"], phone_queue(&["a", "b", "c"], Mode::Evenly)));
    sim.ready_all(&["a", "b", "c"]);
    let mut got = Vec::new();
    for _ in 0..6 {
        let (_, out) = sim.arrive("q", Channel::Phone);
        let (offer, who) = sim.offer(&out);
        got.push(who);
        let out = sim.accept(offer);
        let request = sim.assigned(&out)[0].0;
        sim.send(Event::Closed { request });
    }
    assert_eq!(got, ["a", "b", "c", "a", "b", "c"]);
}

#[test]
fn evenly_skips_busy_operators_and_keeps_its_place() {
    let mut sim = Sim::new(setup(&["a", "b", "c"], phone_queue(&["a", "b", "c"], Mode::Evenly)));
    sim.ready_all(&["a", "b", "c"]);
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, who) = sim.offer(&out);
    assert_eq!(who, "a");
    sim.accept(offer); // a is busy now
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, who) = sim.offer(&out);
    assert_eq!(who, "b");
    let out = sim.accept(offer);
    let b_request = sim.assigned(&out)[0].0;
    sim.send(Event::Closed { request: b_request });
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "c");
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "b", "after c comes a, who is busy, then b");
}

#[test]
fn evenly_pointer_survives_a_restart() {
    let make = || setup(&["a", "b", "c"], phone_queue(&["a", "b", "c"], Mode::Evenly));
    let mut sim = Sim::new(make());
    sim.ready_all(&["a", "b", "c"]);
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, _) = sim.offer(&out);
    sim.accept(offer);
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "b");
    let saved = sim.engine.rotation_pointers();
    assert_eq!(saved, vec![("q".to_string(), "b".to_string())]);

    let mut restarted = Sim::new(make());
    for (queue, operator) in &saved {
        restarted.engine.restore_rotation(queue, operator);
    }
    restarted.ready_all(&["a", "b", "c"]);
    let (_, out) = restarted.arrive("q", Channel::Phone);
    assert_eq!(restarted.offer(&out).1, "c", "continues after b, not from the top");
}

#[test]
fn all_rings_everyone_first_accept_wins_late_accept_refused() {
    let mut sim = Sim::new(setup(&["a", "b", "c"], phone_queue(&["a", "b", "c"], Mode::All)));
    sim.ready_all(&["a", "b", "c"]);
    let (request, out) = sim.arrive("q", Channel::Phone);
    let offers = sim.offers(&out);
    let names: Vec<_> = offers.iter().map(|o| o.1.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let out = sim.accept(offers[1].0);
    assert_eq!(sim.assigned(&out), vec![(request, "b".to_string(), AssignVia::Offer)]);
    let mut withdrawn = sim.withdrawn(&out);
    withdrawn.sort();
    assert_eq!(
        withdrawn,
        vec![
            (offers[0].0, WithdrawReason::TakenElsewhere),
            (offers[2].0, WithdrawReason::TakenElsewhere)
        ]
    );
    // c's 200 OK crosses the CANCEL: refused, never a second assignment.
    let out = sim.accept(offers[2].0);
    assert_eq!(
        out,
        vec![Action::RefuseAccept {
            offer: offers[2].0,
            reason: Refusal::UnknownOffer
        }]
    );
}

#[test]
fn all_mode_adds_an_operator_who_becomes_free_to_the_ring() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::All)));
    sim.ready("a");
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offers(&out).len(), 1);
    let out = sim.ready("b");
    assert_eq!(sim.offer(&out).1, "b", "b joins the ring");
}

#[test]
fn longest_idle_prefers_who_waited_longest() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::LongestIdle)));
    sim.ready_all(&["a", "b"]);
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, who) = sim.offer(&out);
    assert_eq!(who, "a", "equal idle time: list order");
    let out = sim.accept(offer);
    let request = sim.assigned(&out)[0].0;
    sim.advance(1_000);
    sim.send(Event::Closed { request }); // a idle since now; b idle since the start
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "b");
}

#[test]
fn operator_in_several_queues_gets_the_longest_waiting_request_first() {
    let operators = vec![OperatorSetup::new("a")];
    let queues = vec![
        QueueSetup::new("first", &[Channel::Phone], &["a"], Mode::InOrder),
        QueueSetup::new("second", &[Channel::Phone], &["a"], Mode::InOrder),
    ];
    let mut sim = Sim::new(EngineSetup { operators, queues });
    let (old, _) = sim.arrive("second", Channel::Phone);
    sim.advance(1_000);
    let (_newer, _) = sim.arrive("first", Channel::Phone);
    sim.advance(1_000);
    let out = sim.ready("a");
    let offers = sim.offers(&out);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].2, old, "the older request of the other queue goes first");
}
