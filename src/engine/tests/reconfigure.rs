//! Reloading the configuration keeps calls in progress and waiting requests.

use super::*;

#[test]
fn reload_keeps_waiting_and_assigned_requests() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::InOrder)));
    sim.ready("a");
    let (talking, out) = sim.arrive("q", Channel::Phone);
    sim.accept(sim.offer(&out).0);
    let (waiting, _) = sim.arrive("q", Channel::Phone);
    // New configuration: b leaves, c joins and is first.
    let new = setup(&["a", "c"], phone_queue(&["c", "a"], Mode::InOrder));
    sim.send(Event::Reconfigure(Box::new(new)));
    assert_eq!(sim.engine.request_view(talking).unwrap().state, "assigned");
    assert_eq!(sim.engine.request_view(waiting).unwrap().state, "waiting");
    let out = sim.ready("c");
    assert_eq!(sim.offers(&out)[0].2, waiting);
    assert!(sim.engine.operator_id("b").is_none());
}

#[test]
fn removed_operator_loses_offers_keeps_calls() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::InOrder)));
    sim.ready_all(&["a", "b"]);
    let (talking, out) = sim.arrive("q", Channel::Phone);
    sim.accept(sim.offer(&out).0); // a talks
    let (ringing, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "b");
    let out = sim.send(Event::Reconfigure(Box::new(setup(
        &["a"],
        phone_queue(&["a"], Mode::InOrder),
    ))));
    assert_eq!(sim.withdrawn(&out)[0].1, WithdrawReason::Reconfigured);
    assert_eq!(sim.engine.request_view(talking).unwrap().operator.as_deref(), Some("a"));
    let out = sim.send(Event::Closed { request: talking });
    assert_eq!(sim.offers(&out)[0].2, ringing, "a takes the call b lost");
}

#[test]
fn removed_queue_still_serves_its_requests() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    let (waiting, _) = sim.arrive("q", Channel::Phone);
    let other = QueueSetup::new("other", &[Channel::Phone], &["a"], Mode::InOrder);
    sim.send(Event::Reconfigure(Box::new(setup(&["a"], other))));
    assert!(sim.engine.queue_id("q").is_none(), "no new arrivals");
    let out = sim.ready("a");
    assert_eq!(sim.offers(&out)[0].2, waiting);
}
