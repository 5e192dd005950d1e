//! A request's life: arrival, waiting for the responsible, assignment,
//! answer, close and wrap-up, abandonment, transfer, pickup, and the end of
//! waiting (missed action or overflow into another queue).

use super::Engine;
use super::action::{Action, AssignVia, MissedReason, Note, WithdrawReason};
use super::event::{Arrival, PickupTarget, TransferTarget};
use super::ids::{Channel, OperatorId, QueueId, RequestId};
use super::request::{Phase, Request};
use super::setup::MissedAction;
use super::time::Time;
use super::timers::Timer;

impl Engine {
    pub(crate) fn arrive(&mut self, arrival: Arrival, out: &mut Vec<Action>) {
        let known_queue = self.queues.get(arrival.queue.0 as usize).filter(|q| !q.removed);
        let Some(queue) = known_queue else {
            out.push(Action::Note(Note::Ignored {
                what: "arrival for an unknown queue".into(),
            }));
            return;
        };
        if !queue.setup.channels.contains(&arrival.channel) {
            out.push(Action::Note(Note::Ignored {
                what: "arrival on a channel the queue does not serve".into(),
            }));
            return;
        }
        if self.requests.contains_key(&arrival.request) {
            out.push(Action::Note(Note::Ignored {
                what: "arrival of a request already known".into(),
            }));
            return;
        }
        let responsible = arrival
            .responsible
            .filter(|o| self.operators.get(o.0 as usize).is_some_and(|o| !o.removed));
        let waiting_since = arrival.waiting_since.unwrap_or(self.now).min(self.now);
        let mut request = Request::new(arrival.request, arrival.channel, arrival.queue, waiting_since);
        request.responsible = responsible;
        self.requests.insert(arrival.request, request);
        out.push(Action::Note(Note::Queued {
            request: arrival.request,
            queue: arrival.queue,
            channel: arrival.channel,
        }));
        if arrival.channel.is_live() {
            self.enter_queue(arrival.request, arrival.queue, waiting_since, true, out);
        } else {
            self.rotate(arrival.request, true, out);
        }
    }

    /// Puts a live request into a queue (on arrival, overflow or transfer):
    /// checks the queue's length, arms max wait, and reserves it for the
    /// responsible first when the queue says so.
    fn enter_queue(
        &mut self,
        id: RequestId,
        queue_id: QueueId,
        entered: Time,
        may_reserve: bool,
        out: &mut Vec<Action>,
    ) {
        let queue = &mut self.queues[queue_id.0 as usize];
        if queue.setup.max_length.is_some_and(|max| queue.length >= max) {
            self.requests.get_mut(&id).expect("entering request").queue = queue_id;
            queue.length += 1;
            self.end_unserved(id, MissedReason::QueueFull, out);
            return;
        }
        queue.length += 1;
        let setup = &queue.setup;
        let max_wait_at = setup.max_wait_ms.map(|ms| entered.plus_ms(ms));
        let responsible_wait = setup.responsible_wait_ms;
        let responsible_first = setup.responsible_first;
        let request = self.requests.get_mut(&id).expect("entering request");
        request.queue = queue_id;
        request.phase = Phase::Queued;
        request.next_round_at = None;
        request.max_wait_at = max_wait_at;
        if let Some(at) = max_wait_at {
            self.timers.add(at, Timer::MaxWait(id));
        }
        let responsible = request.responsible.filter(|_| may_reserve && responsible_first);
        if let Some(operator) = responsible {
            let until = self.now.plus_ms(responsible_wait);
            request.phase = Phase::Reserved { operator };
            request.responsible_until = Some(until);
            let key = request.key();
            self.operators[operator.0 as usize].reserved.insert(key);
            self.timers.add(until, Timer::ResponsibleWaitOver(id));
            self.dirty_requests.push(id);
        } else {
            self.enqueue(id);
        }
    }

    pub(crate) fn responsible_wait_over(&mut self, id: RequestId, at: Time, _out: &mut Vec<Action>) {
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        let Phase::Reserved { operator } = request.phase else {
            return;
        };
        if request.responsible_until != Some(at) || !request.offers.is_empty() {
            // Still ringing the responsible: the offer's own deadline decides.
            return;
        }
        let key = request.key();
        request.phase = Phase::Queued;
        request.responsible_until = None;
        self.operators[operator.0 as usize].reserved.remove(&key);
        self.enqueue(id);
    }

    /// The request is the operator's now.
    pub(crate) fn assign(&mut self, id: RequestId, operator_id: OperatorId, via: AssignVia, out: &mut Vec<Action>) {
        self.dequeue(id);
        let request = self.requests.get_mut(&id).expect("assigning a known request");
        if let Phase::Reserved { operator } = request.phase {
            let key = request.key();
            self.operators[operator.0 as usize].reserved.remove(&key);
        }
        let answered = request.channel == Channel::Phone;
        request.phase = Phase::Assigned {
            operator: operator_id,
            answered,
        };
        request.next_round_at = None;
        request.max_wait_at = None;
        request.responsible_until = None;
        let (queue_id, channel) = (request.queue, request.channel);
        let change_responsible = std::mem::take(&mut request.responsible_on_accept);
        if channel.is_live() {
            self.queues[queue_id.0 as usize].length -= 1;
        }
        let operator = &mut self.operators[operator_id.0 as usize];
        *operator.load.get_mut(channel) += 1;
        let held = operator.queue_load_mut(queue_id);
        if answered {
            held.answered += 1;
        } else {
            held.unanswered += 1;
        }
        operator.assignments_total += 1;
        out.push(Action::Assign {
            request: id,
            operator: operator_id,
            queue: queue_id,
            channel,
            via,
        });
        if change_responsible {
            self.requests.get_mut(&id).expect("assigned").responsible = Some(operator_id);
            out.push(Action::ChangeResponsible {
                request: id,
                operator: operator_id,
            });
        }
        self.reindex_operator(operator_id);
    }

    pub(crate) fn answered(&mut self, id: RequestId, out: &mut Vec<Action>) {
        let Some(request) = self.requests.get_mut(&id) else {
            out.push(Action::Note(Note::Ignored {
                what: "answer for an unknown request".into(),
            }));
            return;
        };
        let Phase::Assigned {
            operator,
            answered: false,
        } = request.phase
        else {
            return;
        };
        request.phase = Phase::Assigned {
            operator,
            answered: true,
        };
        let held = self.operators[operator.0 as usize].queue_load_mut(request.queue);
        held.unanswered -= 1;
        held.answered += 1;
        self.reindex_operator(operator);
    }

    /// Takes an assigned request off its holder; returns who held it.
    fn release(&mut self, id: RequestId) -> Option<OperatorId> {
        let request = self.requests.get_mut(&id)?;
        let Phase::Assigned {
            operator: operator_id,
            answered,
        } = request.phase
        else {
            return None;
        };
        request.phase = Phase::Queued;
        let operator = &mut self.operators[operator_id.0 as usize];
        *operator.load.get_mut(request.channel) -= 1;
        let held = operator.queue_load_mut(request.queue);
        if answered {
            held.answered -= 1;
        } else {
            held.unanswered -= 1;
        }
        operator.tidy_queue_load(request.queue);
        if operator.total_load() == 0 {
            operator.idle_since = self.now;
        }
        Some(operator_id)
    }

    pub(crate) fn close(&mut self, id: RequestId, out: &mut Vec<Action>) {
        let Some(request) = self.requests.get(&id) else {
            out.push(Action::Note(Note::Ignored {
                what: "close of an unknown request".into(),
            }));
            return;
        };
        if request.holder().is_none() {
            // Closed before anybody took it: the customer left.
            self.abandon(id, false, out);
            return;
        }
        let (queue_id, channel) = (request.queue, request.channel);
        let operator_id = self.release(id).expect("assigned");
        self.requests.remove(&id);
        out.push(Action::Note(Note::Closed {
            request: id,
            operator: operator_id,
        }));
        let wrap_up = self.queues[queue_id.0 as usize].setup.wrap_up_ms;
        if wrap_up > 0 && channel.is_live() {
            let operator = &mut self.operators[operator_id.0 as usize];
            let until = self.now.plus_ms(wrap_up).max(operator.wrap_up_until);
            operator.wrapping_up = true;
            operator.wrap_up_until = until;
            self.timers.add(until, Timer::WrapUpOver(operator_id));
        }
        self.reindex_operator(operator_id);
    }

    pub(crate) fn wrap_up_over(&mut self, id: OperatorId, at: Time, _out: &mut Vec<Action>) {
        let operator = &mut self.operators[id.0 as usize];
        if operator.wrapping_up && operator.wrap_up_until == at {
            operator.wrapping_up = false;
            self.reindex_operator(id);
        }
    }

    /// Removes a request nobody holds from every index it may be in.
    fn unlink_waiting(&mut self, id: RequestId, reason: WithdrawReason, out: &mut Vec<Action>) {
        self.withdraw_all(id, reason, out);
        self.dequeue(id);
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        if let Phase::Reserved { operator } = request.phase {
            let key = request.key();
            self.operators[operator.0 as usize].reserved.remove(&key);
        }
        request.phase = Phase::Queued;
        request.next_round_at = None;
        request.max_wait_at = None;
        request.responsible_until = None;
        let queue = &mut self.queues[request.queue.0 as usize];
        queue.length -= 1;
    }

    /// The customer left (or, with `callback`, asked to be called back).
    pub(crate) fn abandon(&mut self, id: RequestId, callback: bool, out: &mut Vec<Action>) {
        let Some(request) = self.requests.get(&id) else {
            out.push(Action::Note(Note::Ignored {
                what: "abandon of an unknown request".into(),
            }));
            return;
        };
        if request.holder().is_some() {
            // The customer hung up on an operator: that is the end of the request.
            self.close(id, out);
            return;
        }
        let (queue, waited_ms) = (request.queue, self.now.since(request.waiting_since));
        self.unlink_waiting(id, WithdrawReason::Abandoned, out);
        self.requests.remove(&id);
        out.push(Action::Note(Note::Abandoned {
            request: id,
            queue,
            waited_ms,
            callback,
        }));
    }

    pub(crate) fn max_wait_over(&mut self, id: RequestId, at: Time, out: &mut Vec<Action>) {
        let Some(request) = self.requests.get(&id) else { return };
        if request.max_wait_at != Some(at) || request.holder().is_some() {
            return;
        }
        self.unlink_waiting(id, WithdrawReason::Missed, out);
        self.end_unserved(id, MissedReason::MaxWait, out);
    }

    /// Nobody took it: overflow into the next queue, or hand it to the missed action.
    /// The request is already out of every index of its queue, and counted in its length.
    fn end_unserved(&mut self, id: RequestId, reason: MissedReason, out: &mut Vec<Action>) {
        let request = &self.requests[&id];
        let queue_id = request.queue;
        let queue = &mut self.queues[queue_id.0 as usize];
        debug_assert!(
            !request.indexed && request.offers.is_empty(),
            "end_unserved on a request still indexed"
        );
        if reason == MissedReason::QueueFull {
            queue.length -= 1;
        }
        let action = queue.setup.missed.clone();
        if let MissedAction::Queue(name) = &action {
            let target = self
                .queue_ids
                .get(name)
                .copied()
                .filter(|q| !self.queues[q.0 as usize].removed);
            let request = self.requests.get_mut(&id).expect("known");
            match target {
                Some(to) if !request.visited.contains(&to) => {
                    request.visited.push(to);
                    request.tried.clear();
                    out.push(Action::Note(Note::Overflowed {
                        request: id,
                        from: queue_id,
                        to,
                    }));
                    let now = self.now;
                    self.enter_queue(id, to, now, false, out);
                    return;
                }
                _ => {
                    self.requests.remove(&id);
                    out.push(Action::RunMissed {
                        request: id,
                        queue: queue_id,
                        action: MissedAction::Hangup,
                        reason: MissedReason::OverflowLoop,
                    });
                    return;
                }
            }
        }
        self.requests.remove(&id);
        out.push(Action::RunMissed {
            request: id,
            queue: queue_id,
            action,
            reason,
        });
    }

    pub(crate) fn transfer(&mut self, id: RequestId, to: TransferTarget, out: &mut Vec<Action>) {
        let Some(from) = self.requests.get(&id).and_then(|r| r.holder()) else {
            out.push(Action::Note(Note::Ignored {
                what: "transfer of a request nobody holds".into(),
            }));
            return;
        };
        let request = &self.requests[&id];
        let (channel, queue_id) = (request.channel, request.queue);
        let (target_queue, target_operator) = match to {
            TransferTarget::Queue(q) => (q, None),
            TransferTarget::Operator(o) => (queue_id, Some(o)),
        };
        let queue_ok = self
            .queues
            .get(target_queue.0 as usize)
            .is_some_and(|q| !q.removed && q.setup.channels.contains(&channel));
        let operator_ok = target_operator.is_none_or(|o| {
            self.operators
                .get(o.0 as usize)
                .is_some_and(|o| !o.removed && o.serves(channel))
        });
        if !queue_ok || !operator_ok {
            out.push(Action::Note(Note::Ignored {
                what: "transfer to an unknown or unsuitable target".into(),
            }));
            return;
        }
        let changes_responsible = self.queues[queue_id.0 as usize].setup.transfer_changes_responsible;
        self.release(id);
        self.reindex_operator(from);
        out.push(Action::Note(Note::Transferred { request: id, from }));
        let request = self.requests.get_mut(&id).expect("known");
        request.responsible_on_accept = changes_responsible;
        request.tried.clear();
        request.tried.insert(from);
        if !channel.is_live() {
            // Mail and forms move without asking: straight to the operator, or by the new queue's rotation.
            request.queue = target_queue;
            match target_operator {
                Some(operator) => self.assign(id, operator, AssignVia::Responsible, out),
                None => self.rotate(id, false, out),
            }
            return;
        }
        let now = self.now;
        self.enter_queue(id, target_queue, now, false, out);
        if let Some(operator) = target_operator {
            if self.requests.get(&id).is_none_or(|r| r.phase != Phase::Queued) {
                // The target queue was full and ran its missed action.
                return;
            }
            let fits = self.operators[operator.0 as usize].is_eligible(
                target_queue,
                &self.queues[target_queue.0 as usize].setup,
                channel,
            );
            if fits {
                self.dequeue(id);
                self.requests.get_mut(&id).expect("known").phase = Phase::Directed { operator };
                self.make_offer(id, operator, out);
            }
        }
    }

    pub(crate) fn pickup(&mut self, picker: OperatorId, target: PickupTarget, out: &mut Vec<Action>) {
        let Some(picking) = self.operators.get(picker.0 as usize).filter(|o| !o.removed) else {
            out.push(Action::Note(Note::Ignored {
                what: "pickup by an unknown operator".into(),
            }));
            return;
        };
        let mut best: Option<(Time, RequestId)> = None;
        for offer in self.offers.values() {
            let queue = &self.queues[offer.queue.0 as usize];
            if offer.channel != Channel::Phone || !queue.setup.pickup_allowed || offer.operator == picker {
                continue;
            }
            let ringing = &self.operators[offer.operator.0 as usize];
            let wanted = match target {
                PickupTarget::Group => picking.shares_group_with(ringing),
                PickupTarget::Operator(o) => offer.operator == o,
            };
            if !wanted || !picking.has_room(offer.queue, &queue.setup, offer.channel) {
                continue;
            }
            let key = self.requests[&offer.request].key();
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        let Some((_, id)) = best else {
            out.push(Action::Note(Note::PickupRefused { operator: picker }));
            return;
        };
        self.withdraw_all(id, WithdrawReason::TakenElsewhere, out);
        self.assign(id, picker, AssignVia::Pickup, out);
    }
}
