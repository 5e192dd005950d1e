//! Offers: a request proposed to one operator until a deadline. An offer is a
//! reservation of the operator's capacity; accepting it assigns the request,
//! everything else puts the request back to be offered elsewhere.

use super::Engine;
use super::action::{Action, AssignVia, Note, Refusal, WithdrawReason};
use super::event::Workday;
use super::ids::{Channel, OfferId, OperatorId, QueueId, RequestId};
use super::request::Phase;
use super::setup::Mode;
use super::time::Time;
use super::timers::Timer;

/// The pause reason the engine gives an operator it pauses for not answering.
pub const AUTO_PAUSE_REASON: &str = "no_answer";

pub(crate) struct Offer {
    pub request: RequestId,
    pub operator: OperatorId,
    pub queue: QueueId,
    pub channel: Channel,
    pub deadline: Time,
}

impl Engine {
    pub(crate) fn make_offer(&mut self, request_id: RequestId, operator_id: OperatorId, out: &mut Vec<Action>) {
        let id = OfferId(self.next_offer);
        self.next_offer += 1;
        let request = self.requests.get_mut(&request_id).expect("offer for a known request");
        let queue_id = request.queue;
        let channel = request.channel;
        request.offers.push(id);
        // Offered counts as tried for this round: never twice at once, and
        // not again before the next round if it comes back.
        request.tried.insert(operator_id);
        let operator = &mut self.operators[operator_id.0 as usize];
        let queue = &mut self.queues[queue_id.0 as usize];
        let deadline = self.now.plus_ms(*queue.setup.offer_timeout_ms.get(channel));
        if let Some(&(_, position)) = operator.memberships.iter().find(|(q, _)| *q == queue_id) {
            queue.pointer = Some(position);
        }
        let single = queue.setup.mode != Mode::All || request.phase != Phase::Queued;
        *operator.load.get_mut(channel) += 1;
        operator.queue_load_mut(queue_id).offers += 1;
        self.offers.insert(
            id,
            Offer {
                request: request_id,
                operator: operator_id,
                queue: queue_id,
                channel,
                deadline,
            },
        );
        self.timers.add(deadline, Timer::OfferExpires(id));
        if single {
            self.dequeue(request_id);
        }
        out.push(Action::Offer {
            offer: id,
            request: request_id,
            operator: operator_id,
            queue: queue_id,
            channel,
            deadline,
        });
        self.reindex_operator(operator_id);
    }

    /// Removes an offer and gives the operator's capacity back.
    pub(crate) fn resolve_offer(&mut self, id: OfferId) -> Option<Offer> {
        let offer = self.offers.remove(&id)?;
        if let Some(request) = self.requests.get_mut(&offer.request) {
            request.offers.retain(|o| *o != id);
        }
        let operator = &mut self.operators[offer.operator.0 as usize];
        *operator.load.get_mut(offer.channel) -= 1;
        operator.queue_load_mut(offer.queue).offers -= 1;
        operator.tidy_queue_load(offer.queue);
        if operator.total_load() == 0 {
            operator.idle_since = self.now;
        }
        self.reindex_operator(offer.operator);
        Some(offer)
    }

    /// Withdraws every offer of the request (someone took it, or it is leaving).
    pub(crate) fn withdraw_all(&mut self, request_id: RequestId, reason: WithdrawReason, out: &mut Vec<Action>) {
        let offers = match self.requests.get(&request_id) {
            Some(request) => request.offers.clone(),
            None => return,
        };
        for id in offers {
            if let Some(offer) = self.resolve_offer(id) {
                out.push(Action::Withdraw {
                    offer: id,
                    request: request_id,
                    operator: offer.operator,
                    reason,
                });
            }
        }
    }

    pub(crate) fn accept(&mut self, id: OfferId, out: &mut Vec<Action>) {
        let Some(offer) = self.resolve_offer(id) else {
            out.push(Action::RefuseAccept {
                offer: id,
                reason: Refusal::UnknownOffer,
            });
            return;
        };
        self.operators[offer.operator.0 as usize].no_answers_in_a_row = 0;
        self.withdraw_all(offer.request, WithdrawReason::TakenElsewhere, out);
        self.assign(offer.request, offer.operator, AssignVia::Offer, out);
    }

    /// A decline, a failure, or a deadline: the request looks elsewhere.
    /// Unanswered offers count towards the queue's auto-pause.
    pub(crate) fn decline(&mut self, id: OfferId, no_answer: bool, out: &mut Vec<Action>) {
        let Some(offer) = self.resolve_offer(id) else {
            out.push(Action::Note(Note::Ignored {
                what: "unknown offer".into(),
            }));
            return;
        };
        if no_answer {
            let operator = &mut self.operators[offer.operator.0 as usize];
            operator.no_answers_total += 1;
            operator.no_answers_in_a_row += 1;
            out.push(Action::Note(Note::NoAnswer {
                offer: id,
                operator: offer.operator,
            }));
            let limit = self.queues[offer.queue.0 as usize].setup.auto_pause_after;
            if limit.is_some_and(|n| operator.no_answers_in_a_row >= n) && operator.workday == Workday::Started {
                operator.workday = Workday::Paused {
                    reason: AUTO_PAUSE_REASON.to_string(),
                };
                operator.no_answers_in_a_row = 0;
                out.push(Action::Note(Note::AutoPaused {
                    operator: offer.operator,
                }));
                self.reindex_operator(offer.operator);
            }
        } else {
            out.push(Action::Note(Note::Declined {
                offer: id,
                operator: offer.operator,
            }));
        }
        self.after_refusal(offer.request, offer.operator);
    }

    pub(crate) fn offer_expired(&mut self, id: OfferId, at: Time, out: &mut Vec<Action>) {
        if self.offers.get(&id).is_none_or(|o| o.deadline != at) {
            return;
        }
        let operator = self.offers[&id].operator;
        let request = self.offers[&id].request;
        out.push(Action::Withdraw {
            offer: id,
            request,
            operator,
            reason: WithdrawReason::Timeout,
        });
        self.decline(id, true, out);
    }

    /// The operator did not take it: remember that for this round and put the
    /// request back where others can get it.
    pub(crate) fn after_refusal(&mut self, request_id: RequestId, operator: OperatorId) {
        let Some(request) = self.requests.get_mut(&request_id) else {
            return;
        };
        request.tried.insert(operator);
        match request.phase {
            Phase::Reserved { .. } | Phase::Directed { .. } => {
                if let Phase::Reserved { operator } = request.phase {
                    let key = request.key();
                    self.operators[operator.0 as usize].reserved.remove(&key);
                }
                request.phase = Phase::Queued;
                request.responsible_until = None;
                self.enqueue(request_id);
            }
            Phase::Queued => self.enqueue(request_id),
            Phase::Assigned { .. } => {}
        }
    }
}
