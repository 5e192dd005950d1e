//! `/metrics` after real traffic, read with a Prometheus text-format parser:
//! arrivals, outcomes, answers, declines, missed requests, handle times and
//! operator gauges carry the values the traffic implies. Every metric the
//! Grafana dashboard in `contrib/` uses is exported.

use std::collections::BTreeSet;
use std::time::Duration;

use prometheus_parse::Scrape;

use crate::harness::{Backend, Daemon, eventually, operator};

#[path = "../common/scrape.rs"]
mod prometheus;
use prometheus::value;

const WAIT: Duration = Duration::from_secs(5);

crate::on_both_backends! {
    metrics_after_real_traffic => metrics_after_real_traffic;
}

async fn scrape(d: &Daemon) -> Scrape {
    let text = d
        .client
        .get(d.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("valid Prometheus text format")
}

async fn metrics_after_real_traffic(backend: Backend) {
    let config = format!(
        "{}{}[[queues]]\nname = \"support\"\nchannels = [\"chat\"]\noperators = [\"alice\", \"bob\"]\n\
         max_per_operator = 1\nmax_wait_seconds = 3\nservice_level_seconds = 20\n\
         [[routes.chat]]\nsource = \"livechat\"\nqueue = \"support\"\n",
        operator("alice"),
        operator("bob")
    );
    let d = Daemon::start(backend, &config).await;
    let (alice, bob) = (d.operator("alice"), d.operator("bob"));
    let (mut alice_events, mut bob_events) = (alice.events().await, bob.events().await);
    alice.go_online().await;
    bob.go_online().await;
    let offer_id = |offer: serde_json::Value| offer["offer"].as_u64().unwrap();

    // c1: alice takes it, answers, closes.
    let c1 = d.chat_ok("c1", "hello").await;
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(alice.accept(offer_id(offer)).await.0, 200);
    let conversation = c1["conversation"].as_i64().unwrap();
    assert_eq!(alice.reply(conversation, "hi").await.0, 201);
    assert_eq!(alice.close(conversation).await.0, 200);
    // c2: alice declines, bob takes it (and keeps it).
    d.chat_ok("c2", "hello again").await;
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(alice.decline(offer_id(offer)).await.0, 200);
    let offer = bob_events.expect("offer", WAIT).await;
    assert_eq!(bob.accept(offer_id(offer)).await.0, 200);
    // c3: alice declines, bob is at the queue's limit: it runs out of waiting time.
    d.chat_ok("c3", "anyone?").await;
    let offer = alice_events.expect("offer", WAIT).await;
    assert_eq!(alice.decline(offer_id(offer)).await.0, 200);

    let queue = [("queue", "support"), ("channel", "chat")];
    let metrics = eventually(Duration::from_secs(8), || async {
        let metrics = scrape(&d).await;
        let missed = value(
            &metrics,
            "acdd_requests_total",
            &[queue[0], queue[1], ("outcome", "missed")],
        );
        (missed == Some(1.0)).then_some(metrics)
    })
    .await;
    let outcome = |o| value(&metrics, "acdd_requests_total", &[queue[0], queue[1], ("outcome", o)]);
    assert_eq!(value(&metrics, "acdd_requests_arrived_total", &queue), Some(3.0));
    assert_eq!(outcome("answered"), Some(2.0));
    assert_eq!(
        outcome("abandoned"),
        Some(0.0),
        "nobody gave up; the series exists from the start"
    );
    assert_eq!(
        value(&metrics, "acdd_requests_answered_within_target_total", &queue),
        Some(2.0)
    );
    assert_eq!(value(&metrics, "acdd_speed_of_answer_seconds_count", &queue), Some(2.0));
    assert_eq!(
        value(
            &metrics,
            "acdd_missed_total",
            &[("queue", "support"), ("reason", "max_wait")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&metrics, "acdd_offers_total", &queue), Some(4.0));
    let assigned = |who| {
        value(
            &metrics,
            "acdd_operator_assignments_total",
            &[("operator", who), ("channel", "chat")],
        )
    };
    assert_eq!((assigned("alice"), assigned("bob")), (Some(1.0), Some(1.0)));
    assert_eq!(
        value(&metrics, "acdd_operator_declines_total", &[("operator", "alice")]),
        Some(2.0)
    );
    assert_eq!(
        value(
            &metrics,
            "acdd_operator_handle_seconds_count",
            &[("operator", "alice"), ("channel", "chat")]
        ),
        Some(1.0)
    );
    // Gauges, read from the engine at scrape time.
    assert_eq!(value(&metrics, "acdd_requests_waiting", &queue), Some(0.0));
    assert_eq!(
        value(
            &metrics,
            "acdd_operator_state",
            &[("operator", "bob"), ("state", "busy")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &metrics,
            "acdd_operator_state",
            &[("operator", "alice"), ("state", "idle")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &metrics,
            "acdd_operator_load",
            &[("operator", "bob"), ("channel", "chat")]
        ),
        Some(1.0)
    );

    // The dashboard only uses metrics acdd exports. Those of SIP and media
    // appear with telephony traffic: tests/telephony.rs checks them.
    let exported: BTreeSet<String> = metrics.samples.iter().map(|s| base_name(&s.metric)).collect();
    let dashboard = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/grafana/acdd.json")).unwrap();
    let used: BTreeSet<String> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("acdd_") && w.len() > 5)
        .filter(|w| {
            !["acdd_sip_", "acdd_rtp_", "acdd_calls_", "acdd_call_recordings_"]
                .iter()
                .any(|p| w.starts_with(p))
        })
        .map(base_name)
        .collect();
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard uses metrics acdd does not export: {unknown:?}"
    );
}

fn base_name(name: &str) -> String {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
        .to_string()
}
