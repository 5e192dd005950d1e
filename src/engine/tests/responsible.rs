//! Known customers go to their responsible operator first, within the
//! queue's wait budget; then the queue takes over.

use super::*;

fn sim() -> Sim {
    let mut queue = QueueSetup::new("q", &[Channel::Phone, Channel::Chat], &["a", "b"], Mode::InOrder);
    queue.responsible_wait_ms = 20_000;
    queue.offer_timeout_ms.0[0] = 10_000;
    Sim::new(setup(&["a", "b"], queue))
}

#[test]
fn known_customer_reaches_the_responsible_first() {
    let mut sim = sim();
    sim.ready_all(&["a", "b"]);
    let (_, out) = sim.arrive_with("q", Channel::Chat, Some("b"), None);
    assert_eq!(sim.offer(&out).1, "b");
}

#[test]
fn responsible_busy_then_free_within_the_budget() {
    let mut sim = sim();
    sim.ready_all(&["a", "b"]);
    let (busy, out) = sim.arrive_with("q", Channel::Phone, Some("b"), None);
    let (offer, _) = sim.offer(&out);
    sim.accept(offer); // b on the phone
    let (_, out) = sim.arrive_with("q", Channel::Phone, Some("b"), None);
    assert!(sim.offers(&out).is_empty(), "waits for b, not offered to a");
    sim.advance(5_000);
    let out = sim.send(Event::Closed { request: busy });
    assert_eq!(sim.offer(&out).1, "b");
}

#[test]
fn responsible_unavailable_the_queue_takes_over_after_the_budget() {
    let mut sim = sim();
    sim.ready("a"); // b is offline
    let (_, out) = sim.arrive_with("q", Channel::Phone, Some("b"), None);
    assert!(sim.offers(&out).is_empty());
    assert!(sim.advance(19_999).is_empty());
    let out = sim.advance(1);
    assert_eq!(sim.offer(&out).1, "a");
}

#[test]
fn responsible_declines_the_queue_takes_over_at_once() {
    let mut sim = sim();
    sim.ready_all(&["a", "b"]);
    let (_, out) = sim.arrive_with("q", Channel::Phone, Some("b"), None);
    let (offer, _) = sim.offer(&out);
    let out = sim.send(Event::Declined { offer });
    assert_eq!(sim.offer(&out).1, "a");
}

#[test]
fn queue_without_responsible_first_ignores_it() {
    let mut queue = QueueSetup::new("q", &[Channel::Chat], &["a", "b"], Mode::InOrder);
    queue.responsible_first = false;
    let mut sim = Sim::new(setup(&["a", "b"], queue));
    sim.ready_all(&["a", "b"]);
    let (_, out) = sim.arrive_with("q", Channel::Chat, Some("b"), None);
    assert_eq!(sim.offer(&out).1, "a");
}
