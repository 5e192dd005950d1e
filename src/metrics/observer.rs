//! Counts and times what the engine does, step by step, inside the engine
//! task: arrivals, outcomes (answered, missed, abandoned, callback,
//! overflowed), waits,
//! speed of answer, the service level, offers, no-answers, handle times.
//! Labels stay low-cardinality: queue, channel, outcome, and operator only
//! where the configuration bounds it.

use std::collections::HashMap;
use std::hash::Hash;

use metrics::{Counter, Histogram, counter, histogram};

use crate::daemon::engine_task::StepObserver;
use crate::engine::{Action, Channel, Engine, Event, MissedReason, Note, OperatorId, QueueId, RequestId, Time};

/// Where a waiting request stands, for its outcome's labels and wait.
struct Waiting {
    queue: QueueId,
    channel: Channel,
    since: Time,
}

/// The metric handles already looked up, by their labels: the registry's
/// lookup (building the key, its label strings, hashing it) once per label
/// set instead of several times for every request.
#[derive(Default)]
struct Handles {
    arrived: HashMap<(QueueId, Channel), Counter>,
    offers: HashMap<(QueueId, Channel), Counter>,
    outcomes: HashMap<(QueueId, Channel, &'static str), (Counter, Histogram)>,
    answered: HashMap<(QueueId, Channel), (Histogram, Counter)>,
    missed: HashMap<(QueueId, &'static str), Counter>,
    declines: HashMap<OperatorId, Counter>,
    no_answers: HashMap<OperatorId, Counter>,
    assignments: HashMap<(OperatorId, Channel), Counter>,
    handled: HashMap<(OperatorId, Channel), Histogram>,
}

/// The handle under `key`, made by `make` the first time.
fn handle<K: Hash + Eq, V: Clone>(map: &mut HashMap<K, V>, key: K, make: impl FnOnce() -> V) -> V {
    map.entry(key).or_insert_with(make).clone()
}

#[derive(Default)]
pub struct MetricsObserver {
    waiting: HashMap<RequestId, Waiting>,
    /// Assigned requests: operator, channel, since when.
    held: HashMap<RequestId, (OperatorId, Channel, Time)>,
    handles: Handles,
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

fn queue_name(engine: &Engine, id: QueueId) -> String {
    engine.queue_name(id).unwrap_or("?").to_string()
}

fn operator_name(engine: &Engine, id: OperatorId) -> String {
    engine.operator_name(id).unwrap_or("?").to_string()
}

impl MetricsObserver {
    /// Requests it still follows (waiting or assigned): none once every
    /// request has ended, or it would grow with every call.
    #[cfg(test)]
    pub(super) fn followed(&self) -> usize {
        self.waiting.len() + self.held.len()
    }

    fn arrived(&mut self, engine: &Engine, queue: QueueId, channel: Channel) {
        handle(&mut self.handles.arrived, (queue, channel), || {
            counter!("acdd_requests_arrived_total", "queue" => queue_name(engine, queue), "channel" => channel.to_string())
        })
        .increment(1);
    }

    fn outcome(&mut self, engine: &Engine, request: RequestId, outcome: &'static str, t: Time) -> Option<Waiting> {
        let waiting = self.waiting.remove(&request)?;
        let (requests, wait) = handle(
            &mut self.handles.outcomes,
            (waiting.queue, waiting.channel, outcome),
            || {
                let labels = [
                    ("queue", queue_name(engine, waiting.queue)),
                    ("channel", waiting.channel.to_string()),
                    ("outcome", outcome.to_string()),
                ];
                (
                    counter!("acdd_requests_total", &labels),
                    histogram!("acdd_wait_seconds", &labels),
                )
            },
        );
        requests.increment(1);
        wait.record(seconds(t.since(waiting.since)));
        Some(waiting)
    }
}

impl StepObserver for MetricsObserver {
    fn observe(&mut self, engine: &Engine, t: Time, event: &Event, actions: &[Action]) {
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
                    self.arrived(engine, *queue, *channel);
                    self.waiting.insert(
                        *request,
                        Waiting {
                            queue: *queue,
                            channel: *channel,
                            since,
                        },
                    );
                }
                Action::Offer { queue, channel, .. } => {
                    handle(&mut self.handles.offers, (*queue, *channel), || {
                        counter!("acdd_offers_total", "queue" => queue_name(engine, *queue), "channel" => channel.to_string())
                    })
                    .increment(1);
                }
                Action::Note(Note::Declined { operator, .. }) => {
                    handle(
                        &mut self.handles.declines,
                        *operator,
                        || counter!("acdd_operator_declines_total", "operator" => operator_name(engine, *operator)),
                    )
                    .increment(1);
                }
                Action::Note(Note::NoAnswer { operator, .. }) => {
                    handle(
                        &mut self.handles.no_answers,
                        *operator,
                        || counter!("acdd_operator_no_answers_total", "operator" => operator_name(engine, *operator)),
                    )
                    .increment(1);
                }
                Action::Assign {
                    request,
                    operator,
                    queue,
                    channel,
                    ..
                } => {
                    handle(&mut self.handles.assignments, (*operator, *channel), || {
                        counter!("acdd_operator_assignments_total", "operator" => operator_name(engine, *operator), "channel" => channel.to_string())
                    })
                    .increment(1);
                    self.held.insert(*request, (*operator, *channel, t));
                    if let Some(waiting) = self.outcome(engine, *request, "answered", t) {
                        let waited = t.since(waiting.since);
                        let (speed, within) =
                            handle(&mut self.handles.answered, (waiting.queue, waiting.channel), || {
                                let labels = [
                                    ("queue", queue_name(engine, waiting.queue)),
                                    ("channel", waiting.channel.to_string()),
                                ];
                                (
                                    histogram!("acdd_speed_of_answer_seconds", &labels),
                                    counter!("acdd_requests_answered_within_target_total", &labels),
                                )
                            });
                        speed.record(seconds(waited));
                        let target = engine.queue_setup(*queue).map_or(20_000, |q| q.service_level_ms);
                        if waited <= target {
                            within.increment(1);
                        }
                    }
                }
                Action::Note(Note::Closed { request, .. }) => {
                    if let Some((operator, channel, from)) = self.held.remove(request) {
                        handle(&mut self.handles.handled, (operator, channel), || {
                            histogram!("acdd_operator_handle_seconds", "operator" => operator_name(engine, operator), "channel" => channel.to_string())
                        })
                        .record(seconds(t.since(from)));
                    }
                }
                Action::Note(Note::Abandoned { request, callback, .. }) => {
                    let outcome = if *callback { "callback" } else { "abandoned" };
                    self.outcome(engine, *request, outcome, t);
                }
                Action::RunMissed { request, reason, .. } => {
                    if let Some(waiting) = self.outcome(engine, *request, "missed", t) {
                        let reason = reason_label(*reason);
                        handle(&mut self.handles.missed, (waiting.queue, reason), || {
                            counter!("acdd_missed_total", "queue" => queue_name(engine, waiting.queue), "reason" => reason)
                        })
                        .increment(1);
                    }
                }
                Action::Note(Note::Overflowed { request, to, .. }) => {
                    // Counted as overflowed where it was; it goes on waiting in the next queue.
                    if let Some(waiting) = self.outcome(engine, *request, "overflowed", t) {
                        self.arrived(engine, *to, waiting.channel);
                        self.waiting.insert(*request, Waiting { queue: *to, ..waiting });
                    }
                }
                Action::Note(Note::Transferred { request, .. }) => {
                    self.held.remove(request);
                }
                _ => {}
            }
        }
    }
}
