//! Mail and form requests: assigned at once, to the responsible when known,
//! otherwise by rotation skipping operators whose workday is not started or
//! paused; when nobody is available, in order anyway.

use super::*;

fn sim(channel: Channel, mode: Mode) -> Sim {
    Sim::new(setup(
        &["a", "b", "c"],
        QueueSetup::new("q", &[channel], &["a", "b", "c"], mode),
    ))
}

fn assignee(sim: &mut Sim, channel: Channel, responsible: Option<&str>) -> (String, AssignVia) {
    let (_, out) = sim.arrive_with("q", channel, responsible, None);
    let assigned = sim.assigned(&out);
    assert_eq!(assigned.len(), 1, "{out:#?}");
    (assigned[0].1.clone(), assigned[0].2)
}

#[test]
fn mail_rotates_among_working_operators() {
    let mut sim = sim(Channel::Mail, Mode::Evenly);
    sim.ready_all(&["a", "b", "c"]);
    let b = sim.op("b");
    sim.send(Event::Workday {
        operator: b,
        workday: Workday::Paused { reason: "lunch".into() },
    });
    let got: Vec<_> = (0..4).map(|_| assignee(&mut sim, Channel::Mail, None).0).collect();
    assert_eq!(got, ["a", "c", "a", "c"]);
}

#[test]
fn form_rotation_skips_operators_whose_workday_has_not_started() {
    let mut sim = sim(Channel::Form, Mode::Evenly);
    sim.ready("c");
    let a = sim.op("a");
    sim.send(Event::Workday {
        operator: a,
        workday: Workday::Started,
    }); // presence offline: irrelevant for forms
    let got: Vec<_> = (0..4).map(|_| assignee(&mut sim, Channel::Form, None).0).collect();
    assert_eq!(got, ["a", "c", "a", "c"]);
}

#[test]
fn all_unavailable_rotates_in_order_anyway() {
    let mut sim = sim(Channel::Form, Mode::Evenly);
    let got: Vec<_> = (0..4).map(|_| assignee(&mut sim, Channel::Form, None)).collect();
    let names: Vec<_> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "a"]);
    assert!(got.iter().all(|g| g.1 == AssignVia::Rotation));
}

#[test]
fn mail_from_a_known_customer_goes_to_the_responsible() {
    let mut sim = sim(Channel::Mail, Mode::Evenly);
    sim.ready_all(&["a", "b", "c"]);
    assert_eq!(
        assignee(&mut sim, Channel::Mail, Some("c")),
        ("c".to_string(), AssignVia::Responsible)
    );
    assert_eq!(
        assignee(&mut sim, Channel::Mail, None).0,
        "a",
        "the rotation is untouched"
    );
}

#[test]
fn in_order_mail_goes_to_the_top_working_operator() {
    let mut sim = sim(Channel::Mail, Mode::InOrder);
    sim.ready_all(&["b", "c"]);
    let got: Vec<_> = (0..3).map(|_| assignee(&mut sim, Channel::Mail, None).0).collect();
    assert_eq!(got, ["b", "b", "b"]);
}

#[test]
fn mail_is_closed_like_any_request() {
    let mut sim = sim(Channel::Mail, Mode::Evenly);
    let (request, _) = sim.arrive("q", Channel::Mail);
    let out = sim.send(Event::Closed { request });
    assert!(out.iter().any(|a| matches!(a, Action::Note(Note::Closed { .. }))));
    assert_eq!(sim.engine.request_count(), 0);
}
