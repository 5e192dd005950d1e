//! `acdd replay LOG`: re-runs every step of an event log through a fresh
//! engine and checks that each decision comes out the same. On the way it
//! collects the figures of the recorded run and the traffic (arrivals,
//! customer patience, operator behaviour) a what-if simulation replays.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use super::Record;
use super::figures::Figures;
use super::traffic::Traffic;
use crate::engine::{Engine, EngineSetup};

pub struct Replayed {
    pub runs: usize,
    pub steps: usize,
    /// The configuration of the last run in the log.
    pub setup: Option<EngineSetup>,
    pub figures: Figures,
    pub traffic: Traffic,
}

#[derive(Debug)]
pub enum ReplayError {
    Read(std::io::Error),
    /// A line that is not a record.
    Malformed {
        line: usize,
        reason: String,
    },
    /// A step before any start record.
    NoStart {
        line: usize,
    },
    /// The engine decided differently than the log says.
    Diverged {
        line: usize,
        expected: String,
        got: String,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Read(e) => write!(f, "cannot read the log: {e}"),
            ReplayError::Malformed { line, reason } => write!(f, "line {line}: not an event log record: {reason}"),
            ReplayError::NoStart { line } => write!(f, "line {line}: a step before any start record"),
            ReplayError::Diverged { line, expected, got } => {
                write!(
                    f,
                    "line {line}: the engine decided differently\n  logged:   {expected}\n  replayed: {got}"
                )
            }
        }
    }
}

impl std::error::Error for ReplayError {}

pub fn replay(path: &Path, target_ms: u64) -> Result<Replayed, ReplayError> {
    let file = std::fs::File::open(path).map_err(ReplayError::Read)?;
    let mut engine: Option<Engine> = None;
    let mut replayed = Replayed {
        runs: 0,
        steps: 0,
        setup: None,
        figures: Figures::new(target_ms),
        traffic: Traffic::default(),
    };
    let mut out = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(ReplayError::Read)?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line).map_err(|e| ReplayError::Malformed {
            line: number,
            reason: e.to_string(),
        })?;
        match record {
            Record::Start { setup, rotation, .. } => {
                let mut fresh = Engine::new(setup.clone());
                for (queue, operator) in &rotation {
                    fresh.restore_rotation(queue, operator);
                }
                engine = Some(fresh);
                replayed.setup = Some(setup);
                replayed.runs += 1;
            }
            Record::Step { t, event, actions } => {
                let engine = engine.as_mut().ok_or(ReplayError::NoStart { line: number })?;
                replayed.traffic.observe_before(engine, t, &event);
                out.clear();
                engine.handle(event.clone(), t, &mut out);
                if out != actions {
                    let position = out
                        .iter()
                        .zip(&actions)
                        .position(|(a, b)| a != b)
                        .unwrap_or(out.len().min(actions.len()));
                    return Err(ReplayError::Diverged {
                        line: number,
                        expected: actions
                            .get(position)
                            .map_or("(no more actions)".into(), |a| format!("{a:?}")),
                        got: out
                            .get(position)
                            .map_or("(no more actions)".into(), |a| format!("{a:?}")),
                    });
                }
                replayed.figures.observe(engine, t, &event, &actions);
                replayed.traffic.observe_after(engine, t, &actions);
                replayed.steps += 1;
            }
        }
    }
    Ok(replayed)
}
