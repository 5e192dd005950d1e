//! Brings requests and operators together after every event: requests that
//! may have found an operator, operators who may take a request. Runs until
//! nothing changes. The longest-waiting request goes first across queues.

use super::Engine;
use super::action::Action;
use super::ids::{OperatorId, RequestId};
use super::queue::WaitKey;
use super::request::Phase;
use super::setup::Mode;
use super::strategy;
use super::timers::Timer;

impl Engine {
    pub(crate) fn settle(&mut self, out: &mut Vec<Action>) {
        loop {
            if !self.dirty_requests.is_empty() {
                let mut batch = std::mem::take(&mut self.dirty_requests);
                batch.sort_by_key(|id| self.requests.get(id).map(|r| r.key()));
                batch.dedup();
                for id in batch {
                    self.dispatch_request(id, out);
                }
                continue;
            }
            if let Some(id) = self.dirty_operators.pop() {
                self.dispatch_operator(id, out);
                continue;
            }
            break;
        }
    }

    /// Looks for operators for one request, as its queue's mode says.
    fn dispatch_request(&mut self, id: RequestId, out: &mut Vec<Action>) {
        let Some(request) = self.requests.get(&id) else { return };
        if !request.channel.is_live() {
            return;
        }
        match request.phase {
            Phase::Reserved { operator } => {
                let queue = &self.queues[request.queue.0 as usize];
                let holder = &self.operators[operator.0 as usize];
                if request.offers.is_empty() && holder.is_eligible(request.queue, &queue.setup, request.channel) {
                    self.make_offer(id, operator, out);
                }
            }
            Phase::Queued => {
                let queue = &self.queues[request.queue.0 as usize];
                if queue.setup.mode != Mode::All && !request.offers.is_empty() {
                    return;
                }
                let chosen = strategy::choose(queue, &self.operators, request);
                if chosen.is_empty() {
                    self.maybe_start_pause(id);
                }
                for operator in chosen {
                    self.make_offer(id, operator, out);
                }
            }
            Phase::Directed { .. } | Phase::Assigned { .. } => {}
        }
    }

    /// Nobody left to try in this round: the next round starts after the queue's retry time.
    fn maybe_start_pause(&mut self, id: RequestId) {
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        if request.offers.is_empty() && !request.tried.is_empty() && request.next_round_at.is_none() {
            let at = self.now.plus_ms(self.queues[request.queue.0 as usize].setup.retry_ms);
            request.next_round_at = Some(at);
            self.timers.add(at, Timer::NextRound(id));
        }
    }

    pub(crate) fn next_round(&mut self, id: RequestId, at: super::Time) {
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        if request.next_round_at != Some(at) {
            return;
        }
        request.next_round_at = None;
        // Whoever still has it on offer stays tried: never offered twice at once.
        let ringing: Vec<OperatorId> = request.offers.iter().map(|o| self.offers[o].operator).collect();
        request.tried.retain(|o| ringing.contains(o));
        self.dirty_requests.push(id);
    }

    /// Gives an operator who may take more the best request they can take:
    /// their own customers first, then the longest-waiting across their queues.
    fn dispatch_operator(&mut self, id: OperatorId, out: &mut Vec<Action>) {
        loop {
            let Some(request) = self.best_request_for(id) else {
                return;
            };
            self.make_offer(request, id, out);
        }
    }

    fn best_request_for(&self, id: OperatorId) -> Option<RequestId> {
        let operator = &self.operators[id.0 as usize];
        if operator.removed {
            return None;
        }
        for (_, request_id) in &operator.reserved {
            let request = &self.requests[request_id];
            let queue = &self.queues[request.queue.0 as usize];
            if request.offers.is_empty() && operator.is_eligible(request.queue, &queue.setup, request.channel) {
                return Some(*request_id);
            }
        }
        let mut best: Option<WaitKey> = None;
        for &(queue_id, position) in &operator.memberships {
            let queue = &self.queues[queue_id.0 as usize];
            for &channel in &queue.setup.channels {
                if !channel.is_live() || !queue.eligible.get(channel).contains(&position) {
                    continue;
                }
                // Offered means tried: this also skips a ring-all request already ringing them.
                let found = queue
                    .waiting
                    .get(channel)
                    .iter()
                    .find(|(_, request)| !self.requests[request].tried.contains(&id));
                if let Some(key) = found.filter(|key| best.is_none_or(|b| **key < b)) {
                    best = Some(*key);
                }
            }
        }
        best.map(|(_, request)| request)
    }
}
