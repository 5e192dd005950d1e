//! Applies a configuration to a running engine. Operators and queues keep
//! their ids and state by name; those no longer configured are marked
//! removed: they get nothing new but finish what they hold, so a reload
//! never drops a call in progress or a waiting request.

use super::Engine;
use super::action::{Action, WithdrawReason};
use super::ids::{OperatorId, QueueId};
use super::operator::OperatorState;
use super::queue::QueueState;
use super::request::Phase;
use super::setup::EngineSetup;

impl Engine {
    pub(crate) fn reconfigure(&mut self, setup: EngineSetup, out: &mut Vec<Action>) {
        for operator in &mut self.operators {
            operator.removed = true;
            operator.memberships.clear();
        }
        for operator_setup in setup.operators {
            match self.operator_ids.get(&operator_setup.name) {
                Some(id) => {
                    let operator = &mut self.operators[id.0 as usize];
                    operator.setup = operator_setup;
                    operator.removed = false;
                }
                None => {
                    let id = OperatorId(self.operators.len() as u32);
                    self.operator_ids.insert(operator_setup.name.clone(), id);
                    self.operators.push(OperatorState::new(operator_setup));
                }
            }
        }
        for queue in &mut self.queues {
            queue.removed = true;
        }
        for queue_setup in setup.queues {
            let members: Vec<OperatorId> = queue_setup
                .operators
                .iter()
                .filter_map(|name| self.operator_ids.get(name).copied())
                .filter(|id| !self.operators[id.0 as usize].removed)
                .collect();
            match self.queue_ids.get(&queue_setup.name) {
                Some(id) => {
                    let queue = &mut self.queues[id.0 as usize];
                    let pointed = queue.pointer.map(|p| queue.member(p));
                    let mut setup = queue_setup;
                    // A channel with requests still waiting stays until they are served.
                    for channel in queue.setup.channels.clone() {
                        if !setup.channels.contains(&channel) && !queue.waiting.get(channel).is_empty() {
                            setup.channels.push(channel);
                        }
                    }
                    queue.setup = setup;
                    queue.removed = false;
                    queue.members = members;
                    queue.pointer = pointed.and_then(|o| queue.position_of(o));
                }
                None => {
                    let id = QueueId(self.queues.len() as u32);
                    self.queue_ids.insert(queue_setup.name.clone(), id);
                    self.queues.push(QueueState::new(queue_setup, members));
                }
            }
        }
        self.rebuild_indexes();
        self.withdraw_from_removed(out);
        let mut waiting: Vec<_> = self
            .requests
            .values()
            .filter(|r| r.holder().is_none())
            .map(|r| (r.key(), r.id))
            .collect();
        waiting.sort();
        self.dirty_requests.extend(waiting.into_iter().map(|(_, id)| id));
    }

    fn rebuild_indexes(&mut self) {
        for (index, queue) in self.queues.iter_mut().enumerate() {
            for set in &mut queue.eligible.0 {
                set.clear();
            }
            for set in &mut queue.idle_order.0 {
                set.clear();
            }
            for (position, member) in queue.members.iter().enumerate() {
                self.operators[member.0 as usize]
                    .memberships
                    .push((QueueId(index as u32), position as u32));
            }
        }
        for index in 0..self.operators.len() {
            let operator = &mut self.operators[index];
            operator.indexed_idle_since = operator.idle_since;
            self.reindex_operator(OperatorId(index as u32));
        }
    }

    /// Offers to removed operators are withdrawn; their reserved customers go to the queue.
    fn withdraw_from_removed(&mut self, out: &mut Vec<Action>) {
        let mut stale: Vec<_> = self
            .offers
            .iter()
            .filter(|(_, o)| self.operators[o.operator.0 as usize].removed)
            .map(|(id, o)| (*id, o.request, o.operator))
            .collect();
        stale.sort();
        for (offer, request, operator) in stale {
            self.resolve_offer(offer);
            out.push(Action::Withdraw {
                offer,
                request,
                operator,
                reason: WithdrawReason::Reconfigured,
            });
            self.after_refusal(request, operator);
        }
        let mut reserved = Vec::new();
        for operator in self.operators.iter_mut().filter(|o| o.removed) {
            reserved.extend(std::mem::take(&mut operator.reserved).into_iter().map(|(_, id)| id));
        }
        for id in reserved {
            if let Some(request) = self
                .requests
                .get_mut(&id)
                .filter(|r| matches!(r.phase, Phase::Reserved { .. }))
            {
                request.phase = Phase::Queued;
                request.responsible_until = None;
                self.enqueue(id);
            }
        }
    }
}
