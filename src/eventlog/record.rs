//! One line of the event log: the engine's start (configuration and restored
//! rotation), or one step (the event, the time it was handled, and every
//! action the engine answered with). JSON lines, one record per line.

use serde::{Deserialize, Serialize};

use crate::engine::{Action, EngineSetup, Event, Time};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// The engine was created: everything before this line is another run.
    Start {
        t: Time,
        setup: EngineSetup,
        rotation: Vec<(String, String)>,
    },
    /// One `handle(event, t)` and what it returned.
    Step {
        t: Time,
        event: Event,
        actions: Vec<Action>,
    },
}

impl Record {
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("records always serialize");
        line.push('\n');
        line
    }
}
