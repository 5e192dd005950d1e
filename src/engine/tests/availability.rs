//! The availability check: presence, workday, pause, wrap-up, phone
//! registration; and what happens when the check is off.

use super::*;

#[test]
fn only_available_operators_get_offers() {
    let mut sim = Sim::new(setup(&["off", "paused", "idle", "away", "unregistered", "ok"], {
        phone_queue(&["off", "paused", "idle", "away", "unregistered", "ok"], Mode::InOrder)
    }));
    sim.ready_all(&["off", "paused", "idle", "away", "unregistered", "ok"]);
    let off = sim.op("off");
    sim.send(Event::Presence {
        operator: off,
        presence: Presence::Offline,
    });
    let paused = sim.op("paused");
    sim.send(Event::Workday {
        operator: paused,
        workday: Workday::Paused { reason: "lunch".into() },
    });
    let idle = sim.op("idle");
    sim.send(Event::Workday {
        operator: idle,
        workday: Workday::NotStarted,
    });
    let away = sim.op("away");
    sim.send(Event::Presence {
        operator: away,
        presence: Presence::Away,
    });
    let unregistered = sim.op("unregistered");
    sim.send(Event::PhoneReachable {
        operator: unregistered,
        reachable: false,
    });
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "ok");
}

#[test]
fn check_off_offers_regardless_of_presence_but_capacity_holds() {
    let mut queue = phone_queue(&["a", "b"], Mode::InOrder);
    queue.check_availability = false;
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    // Nobody is online, nobody started a workday.
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, who) = sim.offer(&out);
    assert_eq!(who, "a");
    sim.accept(offer);
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "b", "a is at capacity");
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty(), "b holds an offer: capacity 1 reached");
}

#[test]
fn wrap_up_keeps_the_operator_out_until_it_ends() {
    let mut queue = phone_queue(&["a", "b"], Mode::InOrder);
    queue.wrap_up_ms = 10_000;
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    sim.ready_all(&["a", "b"]);
    let (request, out) = sim.arrive("q", Channel::Phone);
    let (offer, _) = sim.offer(&out);
    sim.accept(offer);
    sim.send(Event::Closed { request });
    let (_, out) = sim.arrive("q", Channel::Phone);
    let (offer, who) = sim.offer(&out);
    assert_eq!(who, "b", "a is wrapping up");
    sim.accept(offer);
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty());
    let out = sim.advance(10_000);
    assert_eq!(sim.offer(&out).1, "a", "wrap-up over: a takes the waiting call");
}

#[test]
fn becoming_available_picks_up_the_waiting_request() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    let (request, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty());
    let out = sim.ready("a");
    assert_eq!(sim.offers(&out)[0].2, request);
}

#[test]
fn pause_and_resume() {
    let mut sim = Sim::new(setup(&["a"], phone_queue(&["a"], Mode::InOrder)));
    sim.ready("a");
    let a = sim.op("a");
    sim.send(Event::Workday {
        operator: a,
        workday: Workday::Paused { reason: "break".into() },
    });
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty());
    let view = sim.engine.operator_views();
    assert_eq!(view[0].state, "paused");
    assert_eq!(view[0].pause_reason.as_deref(), Some("break"));
    let out = sim.send(Event::Workday {
        operator: a,
        workday: Workday::Started,
    });
    assert_eq!(sim.offers(&out).len(), 1);
}

#[test]
fn operators_who_let_offers_ring_out_are_paused() {
    let mut queue = phone_queue(&["a", "b"], Mode::InOrder);
    queue.auto_pause_after = Some(2);
    queue.offer_timeout_ms.0[0] = 10_000;
    queue.retry_ms = 1_000;
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    sim.ready("a");
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offer(&out).1, "a");
    sim.advance(10_000); // rings out once
    let out = sim.advance(1_000);
    assert_eq!(sim.offer(&out).1, "a", "next round: a again");
    let out = sim.advance(10_000); // twice
    let a = sim.op("a");
    assert!(out.contains(&Action::Note(Note::AutoPaused { operator: a })), "{out:?}");
    assert_eq!(
        sim.engine.operator_views()[0].pause_reason.as_deref(),
        Some(AUTO_PAUSE_REASON)
    );
    let out = sim.advance(5_000);
    assert!(sim.offers(&out).is_empty(), "paused: no more offers");
    let out = sim.send(Event::Workday {
        operator: a,
        workday: Workday::Started,
    });
    assert_eq!(sim.offer(&out).1, "a", "resumed");
}

#[test]
fn an_accept_resets_the_no_answer_count() {
    let mut queue = phone_queue(&["a"], Mode::InOrder);
    queue.auto_pause_after = Some(2);
    queue.offer_timeout_ms.0[0] = 10_000;
    queue.retry_ms = 1_000;
    let mut sim = Sim::new(setup(&["a"], queue));
    sim.ready("a");
    let (request, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offers(&out).len(), 1);
    sim.advance(10_000);
    let out = sim.advance(1_000);
    let out = sim.accept(sim.offer(&out).0);
    assert_eq!(sim.assigned(&out).len(), 1);
    sim.send(Event::Closed { request });
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert_eq!(sim.offers(&out).len(), 1);
    let out = sim.advance(10_000);
    assert!(
        !out.iter().any(|a| matches!(a, Action::Note(Note::AutoPaused { .. }))),
        "one in a row only"
    );
}

#[test]
fn a_call_outside_acdd_keeps_the_phone_and_other_channels_busy_until_it_ends() {
    let mut sim = Sim::new(setup(&["a", "b"], phone_queue(&["a", "b"], Mode::InOrder)));
    sim.ready_all(&["a", "b"]);
    let (a, b) = (sim.op("a"), sim.op("b"));
    // a calls b: both phones are on a call acdd did not distribute.
    sim.send(Event::PhoneInUse {
        operator: a,
        in_use: true,
    });
    sim.send(Event::PhoneInUse {
        operator: b,
        in_use: true,
    });
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty(), "both phones are busy: {out:?}");
    assert_eq!(sim.engine.operator_views()[0].state, "busy");
    // b's call ends: b takes the waiting call; a is still on the phone.
    let out = sim.send(Event::PhoneInUse {
        operator: b,
        in_use: false,
    });
    assert_eq!(sim.offer(&out).1, "b");
    let (_, out) = sim.arrive("q", Channel::Phone);
    assert!(sim.offers(&out).is_empty(), "a is still on the phone");
    let out = sim.send(Event::PhoneInUse {
        operator: a,
        in_use: false,
    });
    assert_eq!(sim.offer(&out).1, "a");
    // An end without a start changes nothing.
    sim.send(Event::PhoneInUse {
        operator: a,
        in_use: false,
    });
}

#[test]
fn a_call_outside_acdd_blocks_chats_when_the_phone_blocks_others() {
    let mut queue = phone_queue(&["a"], Mode::InOrder);
    queue.channels = vec![Channel::Phone, Channel::Chat];
    let mut sim = Sim::new(setup(&["a"], queue));
    sim.ready_all(&["a"]);
    let a = sim.op("a");
    sim.send(Event::PhoneInUse {
        operator: a,
        in_use: true,
    });
    let (_, out) = sim.arrive("q", Channel::Chat);
    assert!(sim.offers(&out).is_empty(), "on the phone: no chat");
    let out = sim.send(Event::PhoneInUse {
        operator: a,
        in_use: false,
    });
    assert_eq!(sim.offer(&out).1, "a");
}
