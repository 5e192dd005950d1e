//! Capacity per operator and channel, the phone blocking other channels,
//! and the queue's per-operator limit with each counting rule.

use super::*;

fn chat_queue(names: &[&str]) -> QueueSetup {
    QueueSetup::new("q", &[Channel::Chat], names, Mode::InOrder)
}

#[test]
fn chat_capacity_per_operator() {
    let mut sim = Sim::new(setup(&["a", "b"], chat_queue(&["a", "b"])));
    sim.ready_all(&["a", "b"]);
    let mut who = Vec::new();
    for _ in 0..7 {
        let (_, out) = sim.arrive("q", Channel::Chat);
        if let Some((offer, name, _)) = sim.offers(&out).first().cloned() {
            who.push(name);
            sim.accept(offer);
        }
    }
    assert_eq!(
        who,
        ["a", "a", "a", "b", "b", "b"],
        "three chats each, the seventh waits"
    );
    assert_eq!(sim.engine.queue_views()[0].waiting, 1);
}

#[test]
fn a_phone_call_blocks_chats_unless_configured() {
    let mut operators = vec![OperatorSetup::new("a"), OperatorSetup::new("b")];
    operators[1].phone_blocks_others = false;
    let queues = vec![QueueSetup::new(
        "q",
        &[Channel::Phone, Channel::Chat],
        &["a", "b"],
        Mode::InOrder,
    )];
    let mut sim = Sim::new(EngineSetup { operators, queues });
    sim.ready_all(&["a", "b"]);
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, _) = sim.offer(&out);
    sim.accept(offer); // a on the phone
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, _) = sim.offer(&out);
    sim.accept(offer); // b on the phone
    let (_, out) = sim.arrive("q", Channel::Chat);
    assert_eq!(sim.offer(&out).1, "b", "a's call blocks chats, b's does not");
}

#[test]
fn chats_do_not_block_a_call() {
    let mut sim = Sim::new(EngineSetup {
        operators: vec![OperatorSetup::new("a")],
        queues: vec![QueueSetup::new(
            "q",
            &[Channel::Phone, Channel::Chat],
            &["a"],
            Mode::InOrder,
        )],
    });
    sim.ready("a");
    let (_, out) = sim.arrive("q", Channel::Chat);
    let (offer, _) = sim.offer(&out);
    sim.accept(offer);
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "a");
}

fn limited(counts: LimitCounts) -> Sim {
    let mut queue = chat_queue(&["a", "b"]);
    queue.max_per_operator = Some(1);
    queue.limit_counts = counts;
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    sim.ready_all(&["a", "b"]);
    sim
}

/// Accepts a chat for the top operator and returns the request and who took it.
fn take_chat(sim: &mut Sim) -> Option<(RequestId, String)> {
    let (request, out) = sim.arrive("q", Channel::Chat);
    let (offer, who, _) = sim.offers(&out).first().cloned()?;
    sim.accept(offer);
    Some((request, who))
}

#[test]
fn limit_counting_open_requests() {
    let mut sim = limited(LimitCounts::Open);
    let (first, who) = take_chat(&mut sim).unwrap();
    assert_eq!(who, "a");
    sim.send(Event::Answered { request: first });
    assert_eq!(take_chat(&mut sim).unwrap().1, "b", "a holds one open chat");
    assert!(take_chat(&mut sim).is_none(), "both hold one");
}

#[test]
fn limit_counting_unanswered_requests() {
    let mut sim = limited(LimitCounts::Unanswered);
    let (first, _) = take_chat(&mut sim).unwrap();
    let (_, out) = sim.arrive("q", Channel::Chat);
    assert_eq!(sim.offer(&out).1, "b", "a has one unanswered");
    let out = sim.send(Event::Answered { request: first });
    assert!(sim.offers(&out).is_empty(), "the waiting one is on offer to b already");
    let (_, out) = sim.arrive("q", Channel::Chat);
    assert_eq!(sim.offer(&out).1, "a", "answered chats do not count");
}

#[test]
fn limit_counting_answered_requests() {
    let mut sim = limited(LimitCounts::Answered);
    let (first, _) = take_chat(&mut sim).unwrap();
    assert_eq!(take_chat(&mut sim).unwrap().1, "a", "unanswered chats do not count");
    sim.send(Event::Answered { request: first });
    assert_eq!(take_chat(&mut sim).unwrap().1, "b", "a has one answered chat now");
}

#[test]
fn offers_reserve_capacity() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    sim.ready("a");
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offers(&out).len(), 1);
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty(), "a's phone is ringing: no second call");
}
