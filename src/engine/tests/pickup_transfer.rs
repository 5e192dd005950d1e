//! Pickup of a ringing call by a colleague, and transfers that may make the
//! new operator the customer's responsible.

use super::*;

fn sim(pickup: bool) -> Sim {
    let mut operators: Vec<_> = ["a", "b", "c"].iter().map(|n| OperatorSetup::new(n)).collect();
    operators[0].groups = vec!["desk".into()];
    operators[1].groups = vec!["desk".into()];
    operators[2].groups = vec!["other".into()];
    let mut queue = QueueSetup::new("q", &[Channel::Phone, Channel::Chat], &["a"], Mode::InOrder);
    queue.pickup_allowed = pickup;
    queue.transfer_changes_responsible = true;
    let mut sim = Sim::new(EngineSetup {
        operators,
        queues: vec![queue],
    });
    sim.ready_all(&["a", "b", "c"]);
    sim
}

#[test]
fn group_pickup_takes_the_oldest_ringing_call() {
    let mut sim = sim(true);
    let (request, out) = sim.arrive("q", Channel::Phone);
    let (offer, _) = sim.offer(&out);
    let b = sim.op("b");
    let out = sim.send(Event::Pickup {
        operator: b,
        target: PickupTarget::Group,
    });
    assert_eq!(sim.withdrawn(&out), vec![(offer, WithdrawReason::TakenElsewhere)]);
    assert_eq!(sim.assigned(&out), vec![(request, "b".to_string(), AssignVia::Pickup)]);
}

#[test]
fn pickup_outside_the_group_or_queue_is_refused() {
    let mut sim = sim(true);
    sim.arrive("q", Channel::Phone);
    let c = sim.op("c");
    let out = sim.send(Event::Pickup {
        operator: c,
        target: PickupTarget::Group,
    });
    assert_eq!(out, vec![Action::Note(Note::PickupRefused { operator: c })]);

    let mut sim = self::sim(false);
    sim.arrive("q", Channel::Phone);
    let b = sim.op("b");
    let out = sim.send(Event::Pickup {
        operator: b,
        target: PickupTarget::Group,
    });
    assert_eq!(
        out,
        vec![Action::Note(Note::PickupRefused { operator: b })],
        "queue forbids pickup"
    );
}

#[test]
fn directed_pickup_names_the_ringing_operator() {
    let mut sim = sim(true);
    let (request, _) = sim.arrive("q", Channel::Phone);
    let (a, c) = (sim.op("a"), sim.op("c"));
    let out = sim.send(Event::Pickup {
        operator: c,
        target: PickupTarget::Operator(a),
    });
    assert_eq!(sim.assigned(&out), vec![(request, "c".to_string(), AssignVia::Pickup)]);
}

#[test]
fn transfer_to_an_operator_changes_the_responsible() {
    let mut sim = sim(false);
    let (request, out) = sim.arrive("q", Channel::Chat);
    sim.accept(sim.offer(&out).0);
    let b = sim.op("b");
    let out = sim.send(Event::Transfer {
        request,
        to: TransferTarget::Operator(b),
    });
    let (offer, who) = sim.offer(&out);
    assert_eq!(who, "b");
    let out = sim.accept(offer);
    assert_eq!(sim.assigned(&out), vec![(request, "b".to_string(), AssignVia::Offer)]);
    assert!(out.contains(&Action::ChangeResponsible { request, operator: b }));
}

#[test]
fn declined_transfer_falls_back_to_the_queue() {
    let mut sim = sim(false);
    let (request, out) = sim.arrive("q", Channel::Chat);
    sim.accept(sim.offer(&out).0);
    let b = sim.op("b");
    let out = sim.send(Event::Transfer {
        request,
        to: TransferTarget::Operator(b),
    });
    let out = sim.send(Event::Declined {
        offer: sim.offer(&out).0,
    });
    assert!(
        sim.offers(&out).is_empty(),
        "a, who transferred it, is not offered it again this round"
    );
    assert_eq!(sim.engine.request_view(request).unwrap().state, "waiting");
}

#[test]
fn transfer_to_a_queue() {
    let operators = vec![OperatorSetup::new("a"), OperatorSetup::new("b")];
    let queues = vec![
        QueueSetup::new("first", &[Channel::Chat], &["a"], Mode::InOrder),
        QueueSetup::new("second", &[Channel::Chat], &["b"], Mode::InOrder),
    ];
    let mut sim = Sim::new(EngineSetup { operators, queues });
    sim.ready_all(&["a", "b"]);
    let (request, out) = sim.arrive("first", Channel::Chat);
    sim.accept(sim.offer(&out).0);
    let second = sim.q("second");
    let out = sim.send(Event::Transfer {
        request,
        to: TransferTarget::Queue(second),
    });
    let out = sim.accept(sim.offer(&out).0);
    assert_eq!(sim.assigned(&out)[0].1, "b");
    assert!(
        !out.iter().any(|a| matches!(a, Action::ChangeResponsible { .. })),
        "flag off in this queue"
    );
}
