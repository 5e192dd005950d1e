//! The routing engine: sans-IO, no clock. `handle(event, now)` → actions.
//!
//! It owns queues, operators, requests, offers and deadlines, and decides who
//! gets which request and when it moves on, for every channel alike. Adapters
//! (SIP, HTTP, LMTP) translate wire input into `Event`s and `Action`s into
//! wire output; they never decide. Nothing here may touch sockets, files,
//! SQL, async runtimes or the system clock.

mod action;
mod audit;
mod dispatch;
mod event;
mod ids;
mod index;
mod lifecycle;
mod offers;
mod operator;
mod queue;
mod reconfigure;
mod request;
mod rotation;
mod setup;
mod snapshot;
mod strategy;
mod time;
mod timers;

#[cfg(test)]
mod tests;

pub use action::{Action, AssignVia, MissedReason, Note, Refusal, WithdrawReason};
pub use event::{Arrival, Event, FailReason, PickupTarget, Presence, TransferTarget, Workday};
pub use ids::{Channel, OfferId, OperatorId, PerChannel, QueueId, RequestId};
pub use offers::AUTO_PAUSE_REASON;
pub use setup::{EngineSetup, LimitCounts, MissedAction, Mode, OperatorSetup, QueueSetup};
pub use snapshot::{OperatorView, QueueView, RequestView};
pub use time::Time;

use rustc_hash::FxHashMap;
use std::collections::HashMap;

use offers::Offer;
use operator::OperatorState;
use queue::QueueState;
use request::Request;
use timers::{Timer, Timers};

pub struct Engine {
    operators: Vec<OperatorState>,
    operator_ids: HashMap<String, OperatorId>,
    queues: Vec<QueueState>,
    queue_ids: HashMap<String, QueueId>,
    requests: FxHashMap<RequestId, Request>,
    offers: FxHashMap<OfferId, Offer>,
    next_offer: u64,
    timers: Timers,
    dirty_requests: Vec<RequestId>,
    dirty_operators: Vec<OperatorId>,
    now: Time,
}

impl Engine {
    pub fn new(setup: EngineSetup) -> Engine {
        let mut engine = Engine {
            operators: Vec::new(),
            operator_ids: HashMap::new(),
            queues: Vec::new(),
            queue_ids: HashMap::new(),
            requests: FxHashMap::default(),
            offers: FxHashMap::default(),
            next_offer: 1,
            timers: Timers::default(),
            dirty_requests: Vec::new(),
            dirty_operators: Vec::new(),
            now: Time::ZERO,
        };
        let mut ignored = Vec::new();
        engine.reconfigure(setup, &mut ignored);
        engine
    }

    /// Feeds one event at time `now`; appends what to do to `out`.
    /// Deadlines due at `now` fire first.
    pub fn handle(&mut self, event: Event, now: Time, out: &mut Vec<Action>) {
        if now > self.now {
            self.now = now;
        }
        self.fire_due_timers(out);
        self.apply(event, out);
        self.settle(out);
    }

    /// When the engine next needs a `Tick`, if ever.
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next()
    }

    pub fn operator_id(&self, name: &str) -> Option<OperatorId> {
        self.operator_ids
            .get(name)
            .copied()
            .filter(|id| !self.operators[id.0 as usize].removed)
    }

    pub fn queue_id(&self, name: &str) -> Option<QueueId> {
        self.queue_ids
            .get(name)
            .copied()
            .filter(|id| !self.queues[id.0 as usize].removed)
    }

    pub fn operator_name(&self, id: OperatorId) -> Option<&str> {
        self.operators.get(id.0 as usize).map(|o| o.setup.name.as_str())
    }

    /// How many operator ids were ever given out. Ids count up from 0 and are
    /// never reused or renamed (a removed operator keeps its id).
    pub fn operator_id_count(&self) -> usize {
        self.operators.len()
    }

    /// Like [`Engine::operator_id_count`], for queues.
    pub fn queue_id_count(&self) -> usize {
        self.queues.len()
    }

    /// The configuration a queue runs with now.
    pub fn queue_setup(&self, id: QueueId) -> Option<&QueueSetup> {
        self.queues.get(id.0 as usize).map(|q| &q.setup)
    }

    pub fn queue_name(&self, id: QueueId) -> Option<&str> {
        self.queues.get(id.0 as usize).map(|q| q.setup.name.as_str())
    }

    /// Rotation pointers (queue name, operator name) to persist, so that a
    /// restart continues `evenly` and mail/form rotation where it stopped.
    pub fn rotation_pointers(&self) -> Vec<(String, String)> {
        self.queues
            .iter()
            .filter(|q| !q.removed)
            .filter_map(|q| {
                let position = q.pointer?;
                let operator = q.member(position);
                Some((
                    q.setup.name.clone(),
                    self.operators[operator.0 as usize].setup.name.clone(),
                ))
            })
            .collect()
    }

    /// Puts back a persisted rotation pointer; unknown names are ignored.
    pub fn restore_rotation(&mut self, queue: &str, operator: &str) {
        if let (Some(q), Some(o)) = (self.queue_id(queue), self.operator_id(operator)) {
            let state = &mut self.queues[q.0 as usize];
            if let Some(position) = state.position_of(o) {
                state.pointer = Some(position);
            }
        }
    }

    fn apply(&mut self, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::Arrived(arrival) => self.arrive(arrival, out),
            Event::Accepted { offer } => self.accept(offer, out),
            Event::Declined { offer } => self.decline(offer, false, out),
            Event::Failed { offer, .. } => self.decline(offer, true, out),
            Event::Answered { request } => self.answered(request, out),
            Event::Closed { request } => self.close(request, out),
            Event::Abandoned { request } => self.abandon(request, false, out),
            Event::CallbackRequested { request } => self.abandon(request, true, out),
            Event::Transfer { request, to } => self.transfer(request, to, out),
            Event::Pickup { operator, target } => self.pickup(operator, target, out),
            Event::Presence { operator, presence } => self.update_operator(operator, out, |o| o.presence = presence),
            Event::PhoneReachable { operator, reachable } => {
                self.update_operator(operator, out, |o| o.phone_reachable = reachable)
            }
            Event::Workday { operator, workday } => self.update_operator(operator, out, |o| o.workday = workday),
            Event::PhoneInUse { operator, in_use } => self.update_operator(operator, out, |o| match in_use {
                true => o.calls_outside += 1,
                false => o.calls_outside = o.calls_outside.saturating_sub(1),
            }),
            Event::Tick => {}
            Event::Reconfigure(setup) => self.reconfigure(*setup, out),
        }
    }

    fn update_operator(&mut self, id: OperatorId, out: &mut Vec<Action>, change: impl FnOnce(&mut OperatorState)) {
        let Some(operator) = self.operators.get_mut(id.0 as usize) else {
            out.push(Action::Note(Note::Ignored {
                what: "unknown operator".into(),
            }));
            return;
        };
        change(operator);
        self.reindex_operator(id);
    }

    fn fire_due_timers(&mut self, out: &mut Vec<Action>) {
        while let Some((at, timer)) = self.timers.pop_due(self.now) {
            match timer {
                Timer::OfferExpires(offer) => self.offer_expired(offer, at, out),
                Timer::MaxWait(request) => self.max_wait_over(request, at, out),
                Timer::ResponsibleWaitOver(request) => self.responsible_wait_over(request, at, out),
                Timer::NextRound(request) => self.next_round(request, at),
                Timer::WrapUpOver(operator) => self.wrap_up_over(operator, at, out),
            }
        }
    }
}
