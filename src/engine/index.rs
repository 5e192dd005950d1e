//! Keeps the queues' indexes in step with operator and request state:
//! which members may take a request now, and which requests wait for one.
//! Every change of load, presence, workday or wrap-up goes through here.

use super::Engine;
use super::ids::{OperatorId, RequestId};
use super::request::Phase;
use super::setup::Mode;

impl Engine {
    /// Recomputes the operator's eligibility in every queue listing them and
    /// marks them for dispatch.
    pub(crate) fn reindex_operator(&mut self, id: OperatorId) {
        let operator = &self.operators[id.0 as usize];
        let mut any_eligible = !operator.reserved.is_empty();
        for &(queue_id, position) in &operator.memberships {
            let queue = &mut self.queues[queue_id.0 as usize];
            for &channel in &queue.setup.channels {
                let eligible = operator.is_eligible(queue_id, &queue.setup, channel);
                any_eligible |= eligible && channel.is_live();
                let set = queue.eligible.get_mut(channel);
                if eligible {
                    set.insert(position);
                } else {
                    set.remove(&position);
                }
                if queue.setup.mode == Mode::LongestIdle {
                    let idle = queue.idle_order.get_mut(channel);
                    idle.remove(&(operator.indexed_idle_since, position));
                    if eligible {
                        idle.insert((operator.idle_since, position));
                    }
                }
            }
        }
        let operator = &mut self.operators[id.0 as usize];
        operator.indexed_idle_since = operator.idle_since;
        if any_eligible {
            self.dirty_operators.push(id);
        }
    }

    /// Puts a queued request into its queue's waiting index and marks it for dispatch.
    pub(crate) fn enqueue(&mut self, id: RequestId) {
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        if request.phase == Phase::Queued && !request.indexed {
            request.indexed = true;
            let key = request.key();
            self.queues[request.queue.0 as usize]
                .waiting
                .get_mut(request.channel)
                .insert(key);
        }
        self.dirty_requests.push(id);
    }

    /// Takes a request out of its queue's waiting index.
    pub(crate) fn dequeue(&mut self, id: RequestId) {
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        if request.indexed {
            request.indexed = false;
            let key = request.key();
            self.queues[request.queue.0 as usize]
                .waiting
                .get_mut(request.channel)
                .remove(&key);
        }
    }
}
