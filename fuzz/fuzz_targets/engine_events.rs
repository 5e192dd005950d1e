//! Arbitrary event sequences at arbitrary times against a small engine:
//! it never panics, its books always balance (`audit`), and no operator
//! ever holds more than their capacity.
#![no_main]

use acdd::engine::*;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Step {
    Arrive {
        queue: u8,
        channel: u8,
        responsible: Option<u8>,
    },
    Accept(u8),
    Decline(u8),
    Fail(u8),
    Answer(u8),
    Close(u8),
    Abandon(u8),
    Presence {
        operator: u8,
        online: bool,
    },
    Workday {
        operator: u8,
        state: u8,
    },
    Reachable {
        operator: u8,
        reachable: bool,
    },
    Transfer {
        request: u8,
        operator: Option<u8>,
        queue: u8,
    },
    Pickup {
        operator: u8,
        directed: Option<u8>,
    },
    Wait(u16),
    Reload {
        drop_operator: u8,
    },
    PhoneInUse {
        operator: u8,
        in_use: bool,
    },
    CallbackRequested(u8),
}

fn setup(without: Option<usize>) -> EngineSetup {
    let names = ["a", "b", "c", "d"];
    let kept: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != without)
        .map(|(_, n)| *n)
        .collect();
    let modes = [Mode::InOrder, Mode::Evenly, Mode::All, Mode::LongestIdle];
    let queues = (0..4)
        .map(|i| {
            let mut q = QueueSetup::new(&format!("q{i}"), &Channel::ALL, &kept, modes[i]);
            q.max_per_operator = Some(2);
            q.limit_counts = [LimitCounts::Open, LimitCounts::Unanswered, LimitCounts::Answered][i % 3];
            q.check_availability = i != 1;
            q.pickup_allowed = true;
            q.wrap_up_ms = 2_000;
            q.auto_pause_after = Some(3);
            q.missed = if i < 3 {
                MissedAction::Queue(format!("q{}", i + 1))
            } else {
                MissedAction::Voicemail
            };
            q.max_length = Some(5);
            q
        })
        .collect();
    let operators = kept
        .iter()
        .map(|n| {
            let mut o = OperatorSetup::new(n);
            o.groups = vec!["g".into()];
            o
        })
        .collect();
    EngineSetup { operators, queues }
}

fuzz_target!(|steps: Vec<Step>| {
    let mut engine = Engine::new(setup(None));
    let mut now = Time::from_secs(1_000);
    let mut out = Vec::new();
    let mut offers: Vec<OfferId> = Vec::new();
    let mut requests: Vec<RequestId> = Vec::new();
    let operator = |i: u8| OperatorId(u32::from(i % 5));
    for (n, step) in steps.into_iter().take(300).enumerate() {
        let pick_offer = |i: u8| offers.get(usize::from(i) % offers.len().max(1)).copied();
        let pick_request = |i: u8| requests.get(usize::from(i) % requests.len().max(1)).copied();
        let event = match step {
            Step::Arrive {
                queue,
                channel,
                responsible,
            } => {
                let request = RequestId(n as u64 + 1);
                requests.push(request);
                Event::Arrived(Arrival {
                    request,
                    channel: Channel::ALL[usize::from(channel % 4)],
                    queue: QueueId(u32::from(queue % 5)),
                    responsible: responsible.map(operator),
                    waiting_since: None,
                })
            }
            Step::Accept(i) => match pick_offer(i) {
                Some(offer) => Event::Accepted { offer },
                None => continue,
            },
            Step::Decline(i) => match pick_offer(i) {
                Some(offer) => Event::Declined { offer },
                None => continue,
            },
            Step::Fail(i) => match pick_offer(i) {
                Some(offer) => Event::Failed {
                    offer,
                    reason: FailReason::NoAnswer,
                },
                None => continue,
            },
            Step::Answer(i) => match pick_request(i) {
                Some(request) => Event::Answered { request },
                None => continue,
            },
            Step::Close(i) => match pick_request(i) {
                Some(request) => Event::Closed { request },
                None => continue,
            },
            Step::Abandon(i) => match pick_request(i) {
                Some(request) => Event::Abandoned { request },
                None => continue,
            },
            Step::CallbackRequested(i) => match pick_request(i) {
                Some(request) => Event::CallbackRequested { request },
                None => continue,
            },
            Step::Presence { operator: o, online } => Event::Presence {
                operator: operator(o),
                presence: if online {
                    Presence::Online
                } else {
                    Presence::DoNotDisturb
                },
            },
            Step::Workday { operator: o, state } => Event::Workday {
                operator: operator(o),
                workday: match state % 4 {
                    0 => Workday::Started,
                    1 => Workday::Paused { reason: "x".into() },
                    2 => Workday::Ended,
                    _ => Workday::NotStarted,
                },
            },
            Step::Reachable { operator: o, reachable } => Event::PhoneReachable {
                operator: operator(o),
                reachable,
            },
            Step::PhoneInUse { operator: o, in_use } => Event::PhoneInUse {
                operator: operator(o),
                in_use,
            },
            Step::Transfer {
                request,
                operator: o,
                queue,
            } => match pick_request(request) {
                Some(request) => Event::Transfer {
                    request,
                    to: match o {
                        Some(o) => TransferTarget::Operator(operator(o)),
                        None => TransferTarget::Queue(QueueId(u32::from(queue % 5))),
                    },
                },
                None => continue,
            },
            Step::Pickup { operator: o, directed } => Event::Pickup {
                operator: operator(o),
                target: directed.map_or(PickupTarget::Group, |d| PickupTarget::Operator(operator(d))),
            },
            Step::Wait(ms) => {
                now = now.plus_ms(u64::from(ms) * 10);
                Event::Tick
            }
            Step::Reload { drop_operator } => {
                let without = (drop_operator % 5 < 4).then_some(usize::from(drop_operator % 5));
                Event::Reconfigure(Box::new(setup(without)))
            }
        };
        out.clear();
        engine.handle(event, now, &mut out);
        for action in &out {
            if let Action::Offer { offer, .. } = action {
                offers.push(*offer);
            }
        }
        if let Err(problem) = engine.audit() {
            panic!("audit: {problem}");
        }
        assert_eq!(engine.over_capacity(), None);
    }
});
