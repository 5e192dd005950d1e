//! A full consistency check of the engine's state against its own rules:
//! recounts every load from offers and assignments, checks capacities and
//! queue limits, and that every request sits in exactly the places its phase
//! says. O(n); for tests, replays and debugging, not for the hot path.

use std::collections::HashMap;

use super::Engine;
use super::ids::{OperatorId, PerChannel, QueueId};
use super::operator::QueueLoad;
use super::request::Phase;
use super::setup::Mode;

impl Engine {
    pub fn audit(&self) -> Result<(), String> {
        let mut load: HashMap<OperatorId, PerChannel<u32>> = HashMap::new();
        let mut queue_load: HashMap<(OperatorId, QueueId), QueueLoad> = HashMap::new();
        let mut length: HashMap<QueueId, u32> = HashMap::new();
        for (id, offer) in &self.offers {
            let request = self
                .requests
                .get(&offer.request)
                .ok_or(format!("offer {id} for unknown request {}", offer.request))?;
            if request.holder().is_some() {
                return Err(format!("offer {id} for {} which is already assigned", request.id));
            }
            if !request.offers.contains(id) {
                return Err(format!("offer {id} not listed by {}", request.id));
            }
            *load.entry(offer.operator).or_default().get_mut(offer.channel) += 1;
            queue_load.entry((offer.operator, offer.queue)).or_default().offers += 1;
        }
        for request in self.requests.values() {
            let queue = &self.queues[request.queue.0 as usize];
            let mut offered_to: Vec<_> = request.offers.iter().map(|o| self.offers[o].operator).collect();
            offered_to.sort();
            offered_to.dedup();
            if offered_to.len() != request.offers.len() {
                return Err(format!("{} offered twice to one operator", request.id));
            }
            let in_waiting = queue.waiting.get(request.channel).contains(&request.key());
            if in_waiting != request.indexed {
                return Err(format!("{} indexed flag disagrees with the waiting index", request.id));
            }
            match request.phase {
                Phase::Assigned { operator, answered } => {
                    if request.indexed || !request.offers.is_empty() {
                        return Err(format!("{} assigned but still waiting or offered", request.id));
                    }
                    *load.entry(operator).or_default().get_mut(request.channel) += 1;
                    let held = queue_load.entry((operator, request.queue)).or_default();
                    if answered {
                        held.answered += 1;
                    } else {
                        held.unanswered += 1;
                    }
                    continue;
                }
                Phase::Reserved { operator } => {
                    if request.indexed || !self.operators[operator.0 as usize].reserved.contains(&request.key()) {
                        return Err(format!("{} reserved but not in the responsible's list", request.id));
                    }
                }
                Phase::Queued => {
                    let single = queue.setup.mode != Mode::All;
                    if !request.indexed && (!single || request.offers.is_empty()) {
                        return Err(format!(
                            "{} is queued but neither waiting nor offered: lost",
                            request.id
                        ));
                    }
                    if request.indexed && single && !request.offers.is_empty() {
                        return Err(format!("{} is waiting while on offer", request.id));
                    }
                }
                Phase::Directed { .. } => {
                    if request.offers.len() != 1 || request.indexed {
                        return Err(format!("{} transferred but not on offer to its target", request.id));
                    }
                }
            }
            if request.channel.is_live() {
                *length.entry(request.queue).or_default() += 1;
            }
        }
        for (index, queue) in self.queues.iter().enumerate() {
            let expected = length.get(&QueueId(index as u32)).copied().unwrap_or(0);
            if queue.length != expected {
                return Err(format!(
                    "queue {} length {} but {} requests wait",
                    queue.setup.name, queue.length, expected
                ));
            }
        }
        for (index, operator) in self.operators.iter().enumerate() {
            let id = OperatorId(index as u32);
            let counted = load.get(&id).copied().unwrap_or_default();
            if counted != operator.load {
                return Err(format!(
                    "operator {} load {:?} but holds {:?}",
                    operator.setup.name, operator.load, counted
                ));
            }
            for (queue_id, held) in &operator.queue_load {
                if queue_load.get(&(id, *queue_id)).copied().unwrap_or_default() != *held {
                    return Err(format!("operator {} per-queue load is off", operator.setup.name));
                }
            }
            for &(queue_id, position) in &operator.memberships {
                let queue = &self.queues[queue_id.0 as usize];
                for &channel in &queue.setup.channels {
                    let indexed = queue.eligible.get(channel).contains(&position);
                    if indexed != operator.is_eligible(queue_id, &queue.setup, channel) {
                        return Err(format!(
                            "operator {} eligibility index is stale in {}",
                            operator.setup.name, queue.setup.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether an operator holds more than their capacity allows on any
    /// channel or queue. Offers count: they are reservations.
    pub fn over_capacity(&self) -> Option<String> {
        for operator in &self.operators {
            for channel in super::Channel::ALL.into_iter().filter(|c| c.is_live()) {
                let held = *operator.load.get(channel);
                if let Some(capacity) = operator.setup.capacity.get(channel).filter(|c| held > *c) {
                    return Some(format!(
                        "{} holds {held} {channel} requests, capacity {capacity}",
                        operator.setup.name
                    ));
                }
            }
        }
        None
    }
}
