//! `acdd replay`: a log written the way the daemon writes it is re-run by the
//! real binary, every decision checked; a tampered log is caught at its line;
//! "what if" replays the same traffic under another configuration.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use acdd::engine::{Action, Arrival, Channel, Engine, Event, Presence, RequestId, Time, Workday};
use acdd::eventlog::{EventLog, Record};

const ACDD: &str = env!("CARGO_BIN_EXE_acdd");

const OPERATORS: &str = r#"
[[operators]]
id = "alice"
[[operators]]
id = "bob"
[[operators]]
id = "carol"
"#;

fn config(dir: &Path, name: &str, queue_operators: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let text = format!(
        "[listen]\n{OPERATORS}\n[[queues]]\nname = \"support\"\nchannels = [\"phone\"]\noperators = {queue_operators}\nring_count = 2\nring_interval_seconds = 5\nmax_wait_seconds = 600\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Drives an engine on virtual time like a small call centre and logs every
/// step as the daemon does: a call every 20 s, operators accept after 2 s and
/// talk 60 s, callers give up after 90 s of waiting.
fn write_log(config: &Path, log: &Path) {
    let setup = acdd::config::load(config).unwrap().engine_setup();
    let mut engine = Engine::new(setup.clone());
    let writer = EventLog::open(log).unwrap();
    let start = Time::from_secs(1_700_000_000);
    writer.append(&Record::Start {
        t: start,
        setup,
        rotation: engine.rotation_pointers(),
    });
    let mut out = Vec::new();
    let step = |engine: &mut Engine, t: Time, event: Event, out: &mut Vec<Action>| {
        out.clear();
        engine.handle(event.clone(), t, out);
        writer.append(&Record::Step {
            t,
            event,
            actions: out.clone(),
        });
    };
    for name in ["alice", "bob", "carol"] {
        let operator = engine.operator_id(name).unwrap();
        step(
            &mut engine,
            start,
            Event::PhoneReachable {
                operator,
                reachable: true,
            },
            &mut out,
        );
        step(
            &mut engine,
            start,
            Event::Workday {
                operator,
                workday: Workday::Started,
            },
            &mut out,
        );
        step(
            &mut engine,
            start,
            Event::Presence {
                operator,
                presence: Presence::Online,
            },
            &mut out,
        );
    }
    let queue = engine.queue_id("support").unwrap();
    let mut accept_at = HashMap::new();
    let mut close_at = HashMap::new();
    let mut waiting = HashMap::new();
    for second in 0..1_500u64 {
        let t = start.plus_ms(second * 1000);
        let mut events = Vec::new();
        if second % 20 == 0 && second < 1_000 {
            let request = RequestId(second / 20 + 1);
            waiting.insert(request, second);
            events.push(Event::Arrived(Arrival {
                request,
                channel: Channel::Phone,
                queue,
                responsible: None,
                waiting_since: None,
            }));
        }
        events.extend(
            accept_at
                .iter()
                .filter(|(_, s)| **s == second)
                .map(|(o, _)| Event::Accepted { offer: *o }),
        );
        events.extend(
            close_at
                .iter()
                .filter(|(_, s)| **s == second)
                .map(|(r, _)| Event::Closed { request: *r }),
        );
        // Callers give up after 90 s; every fifth asks to be called back after 60 s.
        let gave_up: Vec<_> = waiting
            .iter()
            .filter(|(r, s)| second - **s == if r.0 % 5 == 0 { 60 } else { 90 })
            .map(|(r, _)| *r)
            .collect();
        events.extend(gave_up.into_iter().map(|request| match request.0 % 5 {
            0 => Event::CallbackRequested { request },
            _ => Event::Abandoned { request },
        }));
        events.push(Event::Tick);
        for event in events {
            step(&mut engine, t, event, &mut out);
            for action in &out {
                match action {
                    Action::Offer { offer, .. } => {
                        accept_at.insert(*offer, second + 2);
                    }
                    Action::Assign { request, .. } => {
                        waiting.remove(request);
                        close_at.insert(*request, second + 60);
                    }
                    Action::Note(acdd::engine::Note::Abandoned { request, .. }) => {
                        waiting.remove(request);
                    }
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn replay_checks_every_decision_and_answers_what_if() {
    let dir = tempfile::tempdir().unwrap();
    let one = config(dir.path(), "one.toml", r#"["alice"]"#);
    let three = config(dir.path(), "three.toml", r#"["alice", "bob", "carol"]"#);
    let log = dir.path().join("events.jsonl");
    write_log(&one, &log);

    let output = Command::new(ACDD).arg("replay").arg(&log).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("every decision is the same"), "{text}");
    assert!(text.contains("arrived") && text.contains("50"), "{text}");

    let output = Command::new(ACDD)
        .arg("replay")
        .arg(&log)
        .arg("--config")
        .arg(&three)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{text}");
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = |label: &str| -> Vec<f64> {
        let line = text
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"));
        line.split_whitespace().filter_map(|w| w.parse().ok()).collect()
    };
    let abandoned = row("abandoned");
    let callbacks = row("callbacks requested");
    let answered = row("answered");
    let level = row("service level (%)");
    // One operator talking 60 s per call every 20 s cannot keep up: callers give up.
    assert!(abandoned[0] > 10.0 && callbacks[0] > 2.0, "recorded: {text}");
    // The model under the logged configuration tells the same story as the recording ...
    assert_eq!(answered[0], answered[1], "{text}");
    assert_eq!(abandoned[0], abandoned[1], "{text}");
    assert_eq!(callbacks[0], callbacks[1], "{text}");
    // ... and with three operators nobody gives up and everyone is answered fast.
    assert_eq!((abandoned[2], callbacks[2]), (0.0, 0.0), "{text}");
    assert_eq!(answered[2], 50.0, "{text}");
    assert!(level[2] > level[0], "{text}");
}

#[test]
fn a_tampered_log_is_caught_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let one = config(dir.path(), "one.toml", r#"["alice"]"#);
    let log = dir.path().join("events.jsonl");
    write_log(&one, &log);
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"Offer\":{"))
        .expect("an offer in the log")
        + 1;
    let tampered: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                l.replacen("\"operator\":0", "\"operator\":1", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&log, tampered.join("\n")).unwrap();
    let output = Command::new(ACDD).arg("replay").arg(&log).output().unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(&format!("line {line}: the engine decided differently")),
        "{message}"
    );

    std::fs::write(&log, "{\"start\": 12}\n").unwrap();
    let output = Command::new(ACDD).arg("replay").arg(&log).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 1: not an event log record"));
}
