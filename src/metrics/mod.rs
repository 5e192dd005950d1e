//! Prometheus metrics: one recorder for the process (and its upkeep task),
//! an observer of every engine step (counters and histograms), and gauges
//! refreshed from the engine's views when `/metrics` is scraped. Other
//! layers (SIP, media) record their own counters through the `metrics`
//! macros; they all end up in the same exposition.

mod gauges;
mod observer;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::daemon::EngineHandle;
pub use observer::MetricsObserver;

/// Buckets for every `_seconds` histogram: sub-second answers to long waits.
const SECONDS_BUCKETS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

/// How often the recorder folds the histogram samples recorded since into
/// their buckets. It keeps every raw sample until then (or until a scrape):
/// without this, a daemon nobody scrapes (or with no HTTP listener at all)
/// grows by every call's waits and handle time.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Refreshes figures another layer owns, right before a scrape renders.
type ScrapeHook = Box<dyn Fn() + Send + Sync>;

#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    hooks: Arc<Mutex<Vec<ScrapeHook>>>,
}

impl Exporter {
    /// Installs the process-wide recorder and starts its upkeep on the
    /// current tokio runtime. Call once, inside the runtime, before anything
    /// records.
    pub fn install() -> anyhow::Result<Exporter> {
        let handle = builder()?.install_recorder()?;
        describe();
        tokio::spawn(upkeep(handle.clone(), UPKEEP_INTERVAL));
        Ok(Exporter {
            handle,
            hooks: Arc::default(),
        })
    }

    /// Runs `refresh` before every scrape (for figures read, not counted,
    /// such as the media layer's packet counters and port pool).
    pub fn on_scrape(&self, refresh: impl Fn() + Send + Sync + 'static) {
        self.lock_hooks().push(Box::new(refresh));
    }

    fn lock_hooks(&self) -> std::sync::MutexGuard<'_, Vec<ScrapeHook>> {
        self.hooks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The text exposition, with gauges freshly read from the engine.
    pub async fn render(&self, engine: &EngineHandle) -> String {
        if let Some((queues, operators)) = engine.query(|e| (e.queue_views(), e.operator_views())).await {
            gauges::set(&queues, &operators);
        }
        for refresh in self.lock_hooks().iter() {
            refresh();
        }
        self.handle.render()
    }
}

/// Drains the recorder's histogram samples into their buckets every
/// `interval`, for as long as the process runs.
async fn upkeep(handle: PrometheusHandle, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// How acdd's exposition is built: histograms (not summaries) for `_seconds`.
fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new().set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "acdd_requests_arrived_total",
        "Requests that entered a queue (overflows included)."
    );
    describe_counter!(
        "acdd_requests_total",
        "Requests by outcome: answered, missed, abandoned, overflowed."
    );
    describe_counter!(
        "acdd_requests_answered_within_target_total",
        "Requests answered within the queue's service-level target."
    );
    describe_counter!("acdd_missed_total", "Requests handed to the missed action, by reason.");
    describe_counter!("acdd_offers_total", "Offers made to operators.");
    describe_counter!("acdd_operator_assignments_total", "Requests assigned to the operator.");
    describe_counter!(
        "acdd_operator_no_answers_total",
        "Offers the operator let ring out or could not take."
    );
    describe_counter!("acdd_operator_declines_total", "Offers the operator declined.");
    describe_histogram!(
        "acdd_wait_seconds",
        Unit::Seconds,
        "How long requests waited, by outcome."
    );
    describe_histogram!(
        "acdd_speed_of_answer_seconds",
        Unit::Seconds,
        "Wait until an operator took the request."
    );
    describe_histogram!("acdd_operator_handle_seconds", Unit::Seconds, "Assignment to close.");
    describe_gauge!("acdd_requests_waiting", "Requests waiting with no offer out.");
    describe_gauge!("acdd_requests_offered", "Requests on offer to an operator now.");
    describe_gauge!(
        "acdd_oldest_wait_seconds",
        Unit::Seconds,
        "Wait of the oldest request in the queue."
    );
    describe_gauge!(
        "acdd_operator_state",
        "1 for the operator's current state, 0 for the others."
    );
    describe_gauge!("acdd_operator_paused", "1 while the operator's workday is paused.");
    describe_gauge!(
        "acdd_operator_phone_reachable",
        "1 while a SIP contact of the operator is registered and answers."
    );
    describe_gauge!(
        "acdd_operator_load",
        "Offers plus assignments the operator holds, per channel."
    );
    describe_counter!(
        "acdd_sip_transactions_total",
        "SIP transactions ended, by direction (in: acdd answered; out: acdd asked), method and final response class (or timeout)."
    );
    describe_counter!(
        "acdd_sip_auth_failures_total",
        "Digest authentications with wrong credentials, by method."
    );
    describe_gauge!("acdd_sip_registered_contacts", "Operator contacts registered now.");
    describe_gauge!(
        "acdd_calls_active",
        "Calls acdd holds now (queued, ringing or bridged)."
    );
    describe_counter!(
        "acdd_operator_calls_total",
        "Calls operators placed from their phones, by kind (colleague, queue, outside)."
    );
    describe_counter!(
        "acdd_callbacks_requested_total",
        "Waiting callers who pressed the queue's callback key, by queue."
    );
    describe_counter!(
        "acdd_call_recordings_total",
        "Recordings of answered calls, by queue and result (recorded, failed)."
    );
    describe_counter!(
        "acdd_recordings_deleted_total",
        "Recordings deleted for being older than the storage's keep_days, by kind (call, voicemail)."
    );
    describe_counter!(
        "acdd_supervisions_total",
        "Supervisors who joined an operator's call, by mode (listen, whisper, join)."
    );
    describe_counter!(
        "acdd_holds_total",
        "Times the party beside a caller put the call on hold."
    );
    describe_counter!(
        "acdd_rtp_packets_received_total",
        "RTP packets accepted from callers and operators."
    );
    describe_counter!(
        "acdd_rtp_packets_relayed_total",
        "RTP packets relayed to the other side of a call."
    );
    describe_counter!(
        "acdd_rtp_packets_played_total",
        "RTP packets acdd generated (music, tones, prompts)."
    );
    describe_counter!(
        "acdd_rtp_packets_lost_total",
        "RTP packets missing in what peers sent (sequence gaps)."
    );
    describe_counter!(
        "acdd_rtp_packets_rejected_total",
        "Packets dropped on arrival: not RTP, a foreign payload type, or not from the latched source."
    );
    describe_gauge!(
        "acdd_rtp_port_pairs_in_use",
        "RTP/RTCP port pairs leased to call legs now."
    );
    describe_gauge!("acdd_rtp_port_pairs", "RTP/RTCP port pairs in the configured range.");
}
