//! Tells the engine when an operator's phone becomes reachable or not
//! (some registered contact that answers OPTIONS), once per change.

use std::collections::HashMap;

use crate::daemon::EngineHandle;
use crate::engine::{Event, OperatorId};

pub struct Reachability {
    engine: Option<EngineHandle>,
    ids: HashMap<String, OperatorId>,
    last: HashMap<String, bool>,
}

impl Reachability {
    pub fn new(engine: Option<EngineHandle>, ids: HashMap<String, OperatorId>) -> Reachability {
        Reachability {
            engine,
            ids,
            last: HashMap::new(),
        }
    }

    pub fn report(&mut self, operator: &str, reachable: bool) {
        let before = self.last.insert(operator.to_string(), reachable).unwrap_or(false);
        if before == reachable {
            return;
        }
        tracing::info!(operator, reachable, "operator phone reachability changed");
        if let (Some(engine), Some(id)) = (&self.engine, self.ids.get(operator)) {
            engine.send(Event::PhoneReachable {
                operator: *id,
                reachable,
            });
        }
    }
}
