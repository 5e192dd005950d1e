//! "What if": the recorded traffic replayed through an engine under another
//! configuration, on virtual time. Customers arrive and give up as they did;
//! operators change presence and workday as they did, accept offers as often
//! and as fast as they did, and take as long to handle each request.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use super::figures::Figures;
use super::traffic::{Happening, Traffic};
use crate::engine::{Action, Arrival, Engine, EngineSetup, Event, OfferId, RequestId, Time};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Next {
    Happening(usize),
    Accept(OfferId),
    Close(RequestId),
}

/// Steps before the simulation gives up (a guard, never reached by sane logs).
const STEP_LIMIT: usize = 50_000_000;

pub fn simulate(setup: EngineSetup, traffic: &Traffic, target_ms: u64) -> Figures {
    let mut engine = Engine::new(setup);
    let mut figures = Figures::new(target_ms);
    let mut agenda: BinaryHeap<Reverse<(Time, u64, Next)>> = BinaryHeap::new();
    let mut order = 0u64;
    for (index, (t, _)) in traffic.happenings.iter().enumerate() {
        agenda.push(Reverse((*t, order, Next::Happening(index))));
        order += 1;
    }
    let mut taken: HashSet<RequestId> = HashSet::new();
    let mut out = Vec::new();
    for _ in 0..STEP_LIMIT {
        let planned = agenda.peek().map(|Reverse((t, _, _))| *t);
        let deadline = engine.next_deadline();
        let (t, event) = match (planned, deadline) {
            (None, None) => break,
            (Some(p), Some(d)) if d < p => (d, Event::Tick),
            (None, Some(d)) => (d, Event::Tick),
            _ => {
                let Reverse((t, _, next)) = agenda.pop().expect("peeked");
                match to_event(&engine, traffic, next, &taken) {
                    Some(event) => (t, event),
                    None => continue,
                }
            }
        };
        out.clear();
        engine.handle(event.clone(), t, &mut out);
        figures.observe(&engine, t, &event, &out);
        for action in &out {
            match action {
                Action::Offer {
                    offer,
                    operator,
                    deadline,
                    ..
                } => {
                    let name = engine.operator_name(*operator).unwrap_or_default();
                    let behaviour = traffic.behaviour.get(name).cloned().unwrap_or_default();
                    let accepts =
                        (offer.0.wrapping_mul(2_654_435_761) % 1_000) as f64 / 1_000.0 < behaviour.accept_share();
                    let at = t.plus_ms(behaviour.accept_delay_ms());
                    if accepts && at < *deadline {
                        agenda.push(Reverse((at, order, Next::Accept(*offer))));
                        order += 1;
                    }
                }
                Action::Assign { request, .. } => {
                    taken.insert(*request);
                    let handle = traffic
                        .handle_ms
                        .get(request)
                        .copied()
                        .unwrap_or_else(|| traffic.mean_handle_ms());
                    agenda.push(Reverse((t.plus_ms(handle), order, Next::Close(*request))));
                    order += 1;
                }
                _ => {}
            }
        }
    }
    figures
}

fn to_event(engine: &Engine, traffic: &Traffic, next: Next, taken: &HashSet<RequestId>) -> Option<Event> {
    let operator = |name: &str| engine.operator_id(name);
    Some(match next {
        Next::Accept(offer) => Event::Accepted { offer },
        Next::Close(request) => Event::Closed { request },
        Next::Happening(index) => match &traffic.happenings[index].1 {
            Happening::Arrived {
                request,
                queue,
                channel,
                responsible,
            } => Event::Arrived(Arrival {
                request: *request,
                channel: *channel,
                queue: engine.queue_id(queue)?,
                responsible: responsible.as_deref().and_then(operator),
                waiting_since: None,
            }),
            // Somebody already took it here: the customer had no reason to give up.
            Happening::Abandoned { request, .. } if taken.contains(request) => return None,
            Happening::Abandoned {
                request,
                callback: false,
            } => Event::Abandoned { request: *request },
            Happening::Abandoned {
                request,
                callback: true,
            } => Event::CallbackRequested { request: *request },
            Happening::Presence {
                operator: name,
                presence,
            } => Event::Presence {
                operator: operator(name)?,
                presence: *presence,
            },
            Happening::Workday {
                operator: name,
                workday,
            } => Event::Workday {
                operator: operator(name)?,
                workday: workday.clone(),
            },
            Happening::PhoneReachable {
                operator: name,
                reachable,
            } => Event::PhoneReachable {
                operator: operator(name)?,
                reachable: *reachable,
            },
            Happening::PhoneInUse { operator: name, in_use } => Event::PhoneInUse {
                operator: operator(name)?,
                in_use: *in_use,
            },
        },
    })
}
