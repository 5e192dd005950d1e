//! The traffic of a recorded run, in names rather than ids, so it can be
//! replayed under another configuration: what customers did (arrivals,
//! giving up), what operators did (presence, workday, how often and how fast
//! they accepted offers), and how long each request took to handle.

use std::collections::HashMap;

use crate::engine::{Action, Channel, Engine, Event, OfferId, Presence, RequestId, Time, Workday};

/// Something that happened to the engine from outside, not decided by it.
#[derive(Clone, Debug)]
pub enum Happening {
    Arrived {
        request: RequestId,
        queue: String,
        channel: Channel,
        responsible: Option<String>,
    },
    /// The customer gave up while waiting (with `callback`, to be called
    /// back instead).
    Abandoned {
        request: RequestId,
        callback: bool,
    },
    Presence {
        operator: String,
        presence: Presence,
    },
    Workday {
        operator: String,
        workday: Workday,
    },
    PhoneReachable {
        operator: String,
        reachable: bool,
    },
    PhoneInUse {
        operator: String,
        in_use: bool,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    pub offered: u64,
    pub accepted: u64,
    pub accept_delays_ms: Vec<u64>,
}

impl Behaviour {
    pub fn accept_share(&self) -> f64 {
        if self.offered == 0 {
            1.0
        } else {
            self.accepted as f64 / self.offered as f64
        }
    }

    /// The median time to accept; 3 s when the log has none.
    pub fn accept_delay_ms(&self) -> u64 {
        let mut delays = self.accept_delays_ms.clone();
        delays.sort_unstable();
        delays.get(delays.len() / 2).copied().unwrap_or(3_000)
    }
}

#[derive(Default)]
pub struct Traffic {
    pub happenings: Vec<(Time, Happening)>,
    pub behaviour: HashMap<String, Behaviour>,
    /// Assignment to close, per request that was handled.
    pub handle_ms: HashMap<RequestId, u64>,
    offers: HashMap<OfferId, (String, Time)>,
    assigned_at: HashMap<RequestId, Time>,
}

impl Traffic {
    /// Looks at an event before the engine handles it (names still resolve).
    pub fn observe_before(&mut self, engine: &Engine, t: Time, event: &Event) {
        let name = |id| engine.operator_name(id).map(str::to_string);
        let happening = match event {
            Event::Arrived(arrival) => engine.queue_name(arrival.queue).map(|queue| Happening::Arrived {
                request: arrival.request,
                queue: queue.to_string(),
                channel: arrival.channel,
                responsible: arrival.responsible.and_then(name),
            }),
            Event::Abandoned { request } | Event::Closed { request } | Event::CallbackRequested { request } => {
                if let Some(assigned) = self.assigned_at.remove(request) {
                    self.handle_ms.insert(*request, t.since(assigned));
                    None
                } else {
                    let callback = matches!(event, Event::CallbackRequested { .. });
                    (callback || matches!(event, Event::Abandoned { .. })).then_some(Happening::Abandoned {
                        request: *request,
                        callback,
                    })
                }
            }
            Event::Presence { operator, presence } => name(*operator).map(|operator| Happening::Presence {
                operator,
                presence: *presence,
            }),
            Event::Workday { operator, workday } => name(*operator).map(|operator| Happening::Workday {
                operator,
                workday: workday.clone(),
            }),
            Event::PhoneReachable { operator, reachable } => {
                name(*operator).map(|operator| Happening::PhoneReachable {
                    operator,
                    reachable: *reachable,
                })
            }
            Event::PhoneInUse { operator, in_use } => name(*operator).map(|operator| Happening::PhoneInUse {
                operator,
                in_use: *in_use,
            }),
            Event::Accepted { offer } => {
                if let Some((operator, offered_at)) = self.offers.remove(offer) {
                    let behaviour = self.behaviour.entry(operator).or_default();
                    behaviour.accepted += 1;
                    behaviour.accept_delays_ms.push(t.since(offered_at));
                }
                None
            }
            _ => None,
        };
        if let Some(happening) = happening {
            self.happenings.push((t, happening));
        }
    }

    /// Looks at what the engine decided.
    pub fn observe_after(&mut self, engine: &Engine, t: Time, actions: &[Action]) {
        for action in actions {
            match action {
                Action::Offer { offer, operator, .. } => {
                    let name = engine.operator_name(*operator).unwrap_or_default().to_string();
                    self.behaviour.entry(name.clone()).or_default().offered += 1;
                    self.offers.insert(*offer, (name, t));
                }
                Action::Assign { request, .. } => {
                    self.assigned_at.insert(*request, t);
                }
                _ => {}
            }
        }
    }

    /// The mean handle time of the run; one minute when nothing was handled.
    pub fn mean_handle_ms(&self) -> u64 {
        if self.handle_ms.is_empty() {
            return 60_000;
        }
        self.handle_ms.values().sum::<u64>() / self.handle_ms.len() as u64
    }
}
