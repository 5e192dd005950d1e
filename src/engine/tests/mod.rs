//! Unit tests of the engine's rules on virtual time, one file per concern,
//! and property tests of its invariants. `Sim` drives the engine and audits
//! its state after every event.

mod availability;
mod capacity;
mod lifecycle;
mod modes;
mod pickup_transfer;
mod properties;
mod reconfigure;
mod responsible;
mod rotation;

use super::*;

pub(crate) struct Sim {
    pub engine: Engine,
    pub now: Time,
    next_request: u64,
}

impl Sim {
    pub fn new(setup: EngineSetup) -> Sim {
        Sim {
            engine: Engine::new(setup),
            now: Time::from_secs(1_000),
            next_request: 1,
        }
    }

    pub fn op(&self, name: &str) -> OperatorId {
        self.engine
            .operator_id(name)
            .unwrap_or_else(|| panic!("no operator {name}"))
    }

    pub fn q(&self, name: &str) -> QueueId {
        self.engine.queue_id(name).unwrap_or_else(|| panic!("no queue {name}"))
    }

    pub fn name(&self, id: OperatorId) -> String {
        self.engine.operator_name(id).unwrap().to_string()
    }

    /// Feeds one event now; checks the engine's books after it.
    pub fn send(&mut self, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        self.engine.handle(event, self.now, &mut out);
        if let Err(problem) = self.engine.audit() {
            panic!("audit failed after event: {problem}\nactions: {out:#?}");
        }
        assert_eq!(self.engine.over_capacity(), None);
        out
    }

    pub fn advance(&mut self, ms: u64) -> Vec<Action> {
        self.now = self.now.plus_ms(ms);
        self.send(Event::Tick)
    }

    /// Online, workday started, phone registered.
    pub fn ready(&mut self, name: &str) -> Vec<Action> {
        let operator = self.op(name);
        let mut out = self.send(Event::PhoneReachable {
            operator,
            reachable: true,
        });
        out.extend(self.send(Event::Workday {
            operator,
            workday: Workday::Started,
        }));
        out.extend(self.send(Event::Presence {
            operator,
            presence: Presence::Online,
        }));
        out
    }

    pub fn ready_all(&mut self, names: &[&str]) -> Vec<Action> {
        names.iter().flat_map(|n| self.ready(n)).collect()
    }

    pub fn arrive(&mut self, queue: &str, channel: Channel) -> (RequestId, Vec<Action>) {
        self.arrive_with(queue, channel, None, None)
    }

    pub fn arrive_with(
        &mut self,
        queue: &str,
        channel: Channel,
        responsible: Option<&str>,
        waiting_since: Option<Time>,
    ) -> (RequestId, Vec<Action>) {
        let request = RequestId(self.next_request);
        self.next_request += 1;
        let arrival = Arrival {
            request,
            channel,
            queue: self.q(queue),
            responsible: responsible.map(|r| self.op(r)),
            waiting_since,
        };
        (request, self.send(Event::Arrived(arrival)))
    }

    /// The offers among the actions, as (offer, operator name, request).
    pub fn offers(&self, actions: &[Action]) -> Vec<(OfferId, String, RequestId)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Offer {
                    offer,
                    operator,
                    request,
                    ..
                } => Some((*offer, self.name(*operator), *request)),
                _ => None,
            })
            .collect()
    }

    /// The single offer among the actions.
    pub fn offer(&self, actions: &[Action]) -> (OfferId, String) {
        let offers = self.offers(actions);
        assert_eq!(offers.len(), 1, "expected one offer in {actions:#?}");
        (offers[0].0, offers[0].1.clone())
    }

    pub fn assigned(&self, actions: &[Action]) -> Vec<(RequestId, String, AssignVia)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Assign {
                    request, operator, via, ..
                } => Some((*request, self.name(*operator), *via)),
                _ => None,
            })
            .collect()
    }

    pub fn withdrawn(&self, actions: &[Action]) -> Vec<(OfferId, WithdrawReason)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Withdraw { offer, reason, .. } => Some((*offer, *reason)),
                _ => None,
            })
            .collect()
    }

    pub fn missed(actions: &[Action]) -> Vec<(RequestId, MissedAction, MissedReason)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::RunMissed {
                    request,
                    action,
                    reason,
                    ..
                } => Some((*request, action.clone(), *reason)),
                _ => None,
            })
            .collect()
    }

    /// Accepts and returns the actions.
    pub fn accept(&mut self, offer: OfferId) -> Vec<Action> {
        self.send(Event::Accepted { offer })
    }
}

/// Operators `names` with default capacities, and one queue `q` over them.
pub(crate) fn setup(names: &[&str], queue: QueueSetup) -> EngineSetup {
    EngineSetup {
        operators: names.iter().map(|n| OperatorSetup::new(n)).collect(),
        queues: vec![queue],
    }
}

pub(crate) fn phone_queue(names: &[&str], mode: Mode) -> QueueSetup {
    QueueSetup::new("q", &[Channel::Phone], names, mode)
}
