//! Counts and times what the engine does, step by step, inside the engine
//! task: arrivals, outcomes (answered, missed, abandoned, overflowed), waits,
//! speed of answer, the service level, offers, no-answers, handle times.
//! Labels stay low-cardinality: queue, channel, outcome, and operator only
//! where the configuration bounds it.

use std::collections::HashMap;

use metrics::{counter, histogram};

use crate::daemon::engine_task::StepObserver;
use crate::engine::{Action, Channel, Engine, Event, MissedReason, Note, RequestId, Time};

/// Where a waiting request stands, for its outcome's labels and wait.
struct Waiting {
    queue: String,
    channel: Channel,
    since: Time,
}

#[derive(Default)]
pub struct MetricsObserver {
    waiting: HashMap<RequestId, Waiting>,
    /// Assigned requests: operator, channel, since when.
    held: HashMap<RequestId, (String, Channel, Time)>,
}

fn reason_label(reason: MissedReason) -> &'static str {
    match reason {
        MissedReason::MaxWait => "max_wait",
        MissedReason::QueueFull => "queue_full",
        MissedReason::OverflowLoop => "overflow_loop",
        MissedReason::NoOperators => "no_operators",
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

impl MetricsObserver {
    /// Requests it still follows (waiting or assigned): none once every
    /// request has ended, or it would grow with every call.
    #[cfg(test)]
    pub(super) fn followed(&self) -> usize {
        self.waiting.len() + self.held.len()
    }

    fn outcome(&mut self, request: RequestId, outcome: &'static str, t: Time) -> Option<Waiting> {
        let waiting = self.waiting.remove(&request)?;
        let labels = [
            ("queue", waiting.queue.clone()),
            ("channel", waiting.channel.to_string()),
        ];
        counter!(
            "acdd_requests_total",
            &[&labels[..], &[("outcome", outcome.to_string())]].concat()
        )
        .increment(1);
        histogram!(
            "acdd_wait_seconds",
            &[&labels[..], &[("outcome", outcome.to_string())]].concat()
        )
        .record(seconds(t.since(waiting.since)));
        Some(waiting)
    }
}

impl StepObserver for MetricsObserver {
    fn observe(&mut self, engine: &Engine, t: Time, event: &Event, actions: &[Action]) {
        let queue_name = |id| engine.queue_name(id).unwrap_or("?").to_string();
        let operator_name = |id| engine.operator_name(id).unwrap_or("?").to_string();
        let since = match event {
            Event::Arrived(arrival) => arrival.waiting_since.unwrap_or(t).min(t),
            _ => t,
        };
        for action in actions {
            match action {
                Action::Note(Note::Queued {
                    request,
                    queue,
                    channel,
                }) => {
                    let queue = queue_name(*queue);
                    counter!("acdd_requests_arrived_total", "queue" => queue.clone(), "channel" => channel.to_string())
                        .increment(1);
                    self.waiting.insert(
                        *request,
                        Waiting {
                            queue,
                            channel: *channel,
                            since,
                        },
                    );
                }
                Action::Offer { queue, channel, .. } => {
                    counter!("acdd_offers_total", "queue" => queue_name(*queue), "channel" => channel.to_string())
                        .increment(1);
                }
                Action::Note(Note::Declined { operator, .. }) => {
                    counter!("acdd_operator_declines_total", "operator" => operator_name(*operator)).increment(1);
                }
                Action::Note(Note::NoAnswer { operator, .. }) => {
                    counter!("acdd_operator_no_answers_total", "operator" => operator_name(*operator)).increment(1);
                }
                Action::Assign {
                    request,
                    operator,
                    queue,
                    channel,
                    ..
                } => {
                    let operator = operator_name(*operator);
                    counter!("acdd_operator_assignments_total", "operator" => operator.clone(), "channel" => channel.to_string())
                        .increment(1);
                    self.held.insert(*request, (operator, *channel, t));
                    if let Some(waiting) = self.outcome(*request, "answered", t) {
                        let waited = t.since(waiting.since);
                        let labels = [("queue", waiting.queue), ("channel", waiting.channel.to_string())];
                        histogram!("acdd_speed_of_answer_seconds", &labels).record(seconds(waited));
                        let target = engine.queue_setup(*queue).map_or(20_000, |q| q.service_level_ms);
                        if waited <= target {
                            counter!("acdd_requests_answered_within_target_total", &labels).increment(1);
                        }
                    }
                }
                Action::Note(Note::Closed { request, .. }) => {
                    if let Some((operator, channel, from)) = self.held.remove(request) {
                        histogram!("acdd_operator_handle_seconds", "operator" => operator, "channel" => channel.to_string())
                            .record(seconds(t.since(from)));
                    }
                }
                Action::Note(Note::Abandoned { request, .. }) => {
                    self.outcome(*request, "abandoned", t);
                }
                Action::RunMissed { request, reason, .. } => {
                    if let Some(waiting) = self.outcome(*request, "missed", t) {
                        counter!("acdd_missed_total", "queue" => waiting.queue, "reason" => reason_label(*reason))
                            .increment(1);
                    }
                }
                Action::Note(Note::Overflowed { request, from, to }) => {
                    // Counted as overflowed where it was; it goes on waiting in the next queue.
                    if let Some(waiting) = self.outcome(*request, "overflowed", t) {
                        let queue = queue_name(*to);
                        counter!("acdd_requests_arrived_total", "queue" => queue.clone(), "channel" => waiting.channel.to_string())
                            .increment(1);
                        self.waiting.insert(*request, Waiting { queue, ..waiting });
                    }
                    let _ = from;
                }
                Action::Note(Note::Transferred { request, .. }) => {
                    self.held.remove(request);
                }
                _ => {}
            }
        }
    }
}
