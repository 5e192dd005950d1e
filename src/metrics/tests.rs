//! The observer's counters and histograms after a scripted engine run,
//! read back through a Prometheus text-format parser.

use prometheus_parse::{Scrape, Value};

use super::MetricsObserver;
use crate::daemon::engine_task::StepObserver;
use crate::engine::*;

fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(h) => h.iter().map(|b| b.count).fold(0.0, f64::max),
            Value::Summary(_) => f64::NAN,
        })
}

#[test]
fn counts_outcomes_waits_and_service_level() {
    let recorder = super::builder().unwrap().build_recorder();
    let handle = recorder.handle();
    let mut queue = QueueSetup::new("sales", &[Channel::Phone], &["a"], Mode::InOrder);
    queue.max_wait_ms = Some(60_000);
    queue.service_level_ms = 20_000;
    let mut engine = Engine::new(EngineSetup {
        operators: vec![OperatorSetup::new("a")],
        queues: vec![queue],
    });
    let mut observer = MetricsObserver::default();
    let a = engine.operator_id("a").unwrap();
    let q = engine.queue_id("sales").unwrap();
    let mut t = Time::from_secs(100);
    let mut step = |engine: &mut Engine, t: Time, event: Event| {
        let mut out = Vec::new();
        engine.handle(event.clone(), t, &mut out);
        metrics::with_local_recorder(&recorder, || observer.observe(engine, t, &event, &out));
        out
    };
    let arrive = |request| {
        Event::Arrived(Arrival {
            request,
            channel: Channel::Phone,
            queue: q,
            responsible: None,
            waiting_since: None,
        })
    };
    step(&mut engine, t, arrive(RequestId(1)));
    step(&mut engine, t, arrive(RequestId(2)));
    step(&mut engine, t, arrive(RequestId(3)));
    t = t.plus_ms(5_000);
    step(&mut engine, t, Event::Abandoned { request: RequestId(3) });
    step(
        &mut engine,
        t,
        Event::PhoneReachable {
            operator: a,
            reachable: true,
        },
    );
    step(
        &mut engine,
        t,
        Event::Workday {
            operator: a,
            workday: Workday::Started,
        },
    );
    let out = step(
        &mut engine,
        t,
        Event::Presence {
            operator: a,
            presence: Presence::Online,
        },
    );
    let offer = out
        .iter()
        .find_map(|x| {
            if let Action::Offer { offer, .. } = x {
                Some(*offer)
            } else {
                None
            }
        })
        .unwrap();
    t = t.plus_ms(3_000);
    step(&mut engine, t, Event::Accepted { offer });
    t = t.plus_ms(30_000);
    step(&mut engine, t, Event::Closed { request: RequestId(1) });
    t = t.plus_ms(60_000);
    step(&mut engine, t, Event::Tick); // request 2 ran out of waiting time (and rang out in between)
    assert_eq!(
        observer.followed(),
        0,
        "every request has ended: nothing left to follow"
    );

    let text = handle.render();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let queue = [("queue", "sales"), ("channel", "phone")];
    assert_eq!(
        value(&scrape, "acdd_requests_arrived_total", &queue),
        Some(3.0),
        "{text}"
    );
    let outcome = |o| value(&scrape, "acdd_requests_total", &[queue[0], queue[1], ("outcome", o)]);
    assert_eq!(outcome("answered"), Some(1.0), "{text}");
    assert_eq!(outcome("abandoned"), Some(1.0), "{text}");
    assert_eq!(outcome("missed"), Some(1.0), "{text}");
    assert_eq!(
        value(&scrape, "acdd_requests_answered_within_target_total", &queue),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&scrape, "acdd_operator_assignments_total", &[("operator", "a")]),
        Some(1.0)
    );
    assert!(
        value(&scrape, "acdd_operator_no_answers_total", &[("operator", "a")]).unwrap() >= 1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &scrape,
            "acdd_missed_total",
            &[("queue", "sales"), ("reason", "max_wait")]
        ),
        Some(1.0)
    );
    // The answered call waited 8 s: in the 10 s bucket, not in the 5 s one.
    let speed = scrape
        .samples
        .iter()
        .find(|s| s.metric == "acdd_speed_of_answer_seconds")
        .unwrap();
    let Value::Histogram(buckets) = &speed.value else {
        panic!("not a histogram: {speed:?}")
    };
    let count_at = |le: f64| buckets.iter().find(|b| b.less_than == le).map(|b| b.count);
    assert_eq!(count_at(5.0), Some(0.0));
    assert_eq!(count_at(10.0), Some(1.0));
    let handled = scrape
        .samples
        .iter()
        .find(|s| s.metric == "acdd_operator_handle_seconds_sum")
        .unwrap();
    assert!(
        matches!(handled.value, Value::Untyped(v) | Value::Counter(v) | Value::Gauge(v) if v == 30.0),
        "{handled:?}"
    );
}
