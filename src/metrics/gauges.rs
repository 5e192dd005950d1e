//! Gauges read from the engine's views at scrape time: requests waiting and
//! on offer per queue and channel, and each operator's state and load; and
//! every counter's series registered at 0 before it first counts.

use metrics::{counter, gauge};

use crate::engine::{Channel, OperatorView, QueueView};

/// Every state an operator can be in, so a state left sets its gauge to 0.
const STATES: [&str; 9] = [
    "offline",
    "not_working",
    "paused",
    "away",
    "do_not_disturb",
    "wrap_up",
    "busy",
    "ringing",
    "idle",
];

/// Outcomes every queue reports, so each series exists (at 0) before it first happens.
const OUTCOMES: [&str; 5] = ["answered", "missed", "abandoned", "callback", "overflowed"];

/// Kinds of call operators place from their phones (`telephony/internal.rs`).
const OPERATOR_CALLS: [&str; 3] = ["colleague", "queue", "outside"];

/// How supervisors take part in calls (`telephony/supervision.rs`).
const SUPERVISIONS: [&str; 3] = ["listen", "whisper", "join"];

pub fn set(queues: &[QueueView], operators: &[OperatorView]) {
    // Telephony's counters exist (at 0) before their first call.
    for kind in OPERATOR_CALLS {
        counter!("acdd_operator_calls_total", "kind" => kind).increment(0);
    }
    counter!("acdd_holds_total").increment(0);
    for kind in ["call", "voicemail"] {
        counter!("acdd_recordings_deleted_total", "kind" => kind).increment(0);
    }
    for mode in SUPERVISIONS {
        counter!("acdd_supervisions_total", "mode" => mode).increment(0);
    }
    for queue in queues {
        counter!("acdd_callbacks_requested_total", "queue" => queue.name.clone()).increment(0);
        if queue.channels.contains(&Channel::Phone) {
            for result in ["recorded", "failed"] {
                counter!("acdd_call_recordings_total", "queue" => queue.name.clone(), "result" => result).increment(0);
            }
        }
        for channel in &queue.channels {
            let labels = [("queue", queue.name.clone()), ("channel", channel.to_string())];
            counter!("acdd_requests_arrived_total", &labels).increment(0);
            counter!("acdd_requests_answered_within_target_total", &labels).increment(0);
            counter!("acdd_offers_total", &labels).increment(0);
            for outcome in OUTCOMES {
                let with_outcome = [labels[0].clone(), labels[1].clone(), ("outcome", outcome.to_string())];
                counter!("acdd_requests_total", &with_outcome).increment(0);
            }
            gauge!("acdd_requests_waiting", &labels).set(*queue.waiting_by_channel.get(*channel) as f64);
            gauge!("acdd_requests_offered", &labels).set(*queue.offered_by_channel.get(*channel) as f64);
        }
        if let Some(since) = queue.oldest_waiting_since {
            let now = crate::daemon::engine_task::now();
            gauge!("acdd_oldest_wait_seconds", "queue" => queue.name.clone()).set(now.since(since) as f64 / 1000.0);
        } else {
            gauge!("acdd_oldest_wait_seconds", "queue" => queue.name.clone()).set(0.0);
        }
    }
    for operator in operators {
        counter!("acdd_operator_no_answers_total", "operator" => operator.name.clone()).increment(0);
        counter!("acdd_operator_declines_total", "operator" => operator.name.clone()).increment(0);
        for state in STATES {
            let value = if operator.state == state { 1.0 } else { 0.0 };
            gauge!("acdd_operator_state", "operator" => operator.name.clone(), "state" => state).set(value);
        }
        let paused = if operator.pause_reason.is_some() { 1.0 } else { 0.0 };
        gauge!("acdd_operator_paused", "operator" => operator.name.clone()).set(paused);
        gauge!("acdd_operator_phone_reachable", "operator" => operator.name.clone()).set(if operator.phone_reachable {
            1.0
        } else {
            0.0
        });
        for channel in Channel::ALL {
            gauge!("acdd_operator_load", "operator" => operator.name.clone(), "channel" => channel.to_string())
                .set(*operator.load.get(channel) as f64);
        }
    }
}
