//! Contact-centre figures from a stream of engine steps: per queue of
//! arrival, how many requests arrived, were answered, abandoned or missed,
//! their waits, and the service level (answered within the target).

use std::collections::{BTreeMap, HashMap};

use crate::engine::{Action, Engine, Event, Note, RequestId, Time};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFigures {
    pub arrived: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Customers who stopped waiting to be called back.
    pub callbacks: u64,
    pub missed: u64,
    pub answered_within_target: u64,
    pub abandoned_within_target: u64,
    /// Waits of answered requests, milliseconds.
    pub waits_ms: Vec<u64>,
}

impl QueueFigures {
    pub fn mean_wait_seconds(&self) -> f64 {
        if self.waits_ms.is_empty() {
            return 0.0;
        }
        self.waits_ms.iter().sum::<u64>() as f64 / self.waits_ms.len() as f64 / 1000.0
    }

    /// The wait that `share` (0..1) of answered requests did not exceed.
    pub fn wait_percentile_seconds(&self, share: f64) -> f64 {
        if self.waits_ms.is_empty() {
            return 0.0;
        }
        let mut waits = self.waits_ms.clone();
        waits.sort_unstable();
        let index = ((waits.len() as f64 * share).ceil() as usize).clamp(1, waits.len()) - 1;
        waits[index] as f64 / 1000.0
    }

    /// Answered within the target, out of all arrivals but those who gave up
    /// before the target (the usual contact-centre definition) and those
    /// who asked to be called back, in percent.
    pub fn service_level_percent(&self) -> f64 {
        let counted = self
            .arrived
            .saturating_sub(self.abandoned_within_target + self.callbacks);
        if counted == 0 {
            return 100.0;
        }
        self.answered_within_target as f64 * 100.0 / counted as f64
    }
}

pub struct Figures {
    pub target_ms: u64,
    pub queues: BTreeMap<String, QueueFigures>,
    /// Request → (queue it arrived at, when it started waiting).
    arrivals: HashMap<RequestId, (String, Time)>,
}

impl Figures {
    pub fn new(target_ms: u64) -> Figures {
        Figures {
            target_ms,
            queues: BTreeMap::new(),
            arrivals: HashMap::new(),
        }
    }

    pub fn observe(&mut self, engine: &Engine, t: Time, event: &Event, actions: &[Action]) {
        let arrived = match event {
            Event::Arrived(arrival) => engine.queue_name(arrival.queue).map(|queue| (arrival, queue)),
            _ => None,
        };
        if let Some((arrival, queue)) = arrived {
            let since = arrival.waiting_since.unwrap_or(t).min(t);
            self.arrivals.insert(arrival.request, (queue.to_string(), since));
            self.queues.entry(queue.to_string()).or_default().arrived += 1;
        }
        for action in actions {
            let (request, outcome) = match action {
                Action::Assign { request, .. } => (request, Outcome::Answered),
                Action::Note(Note::Abandoned {
                    request,
                    callback: true,
                    ..
                }) => (request, Outcome::Callback),
                Action::Note(Note::Abandoned { request, .. }) => (request, Outcome::Abandoned),
                Action::RunMissed { request, .. } => (request, Outcome::Missed),
                _ => continue,
            };
            // Only the first outcome counts: a transfer's second assignment is not a new answer.
            let Some((queue, since)) = self.arrivals.remove(request) else {
                continue;
            };
            let waited = t.since(since);
            let within = waited <= self.target_ms;
            let figures = self.queues.entry(queue).or_default();
            match outcome {
                Outcome::Answered => {
                    figures.answered += 1;
                    figures.waits_ms.push(waited);
                    figures.answered_within_target += u64::from(within);
                }
                Outcome::Callback => figures.callbacks += 1,
                Outcome::Abandoned => {
                    figures.abandoned += 1;
                    figures.abandoned_within_target += u64::from(within);
                }
                Outcome::Missed => figures.missed += 1,
            }
        }
    }
}

enum Outcome {
    Answered,
    Abandoned,
    Callback,
    Missed,
}
