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

    /// Operator ids after the engine took a new configuration.
    pub fn set_ids(&mut self, ids: HashMap<String, OperatorId>) {
        self.ids = ids;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::engine_task;
    use crate::engine::{Engine, EngineSetup, OperatorSetup};

    async fn reachable(engine: &EngineHandle) -> bool {
        engine
            .query(|e| {
                e.operator_views()
                    .into_iter()
                    .find(|o| o.name == "alice")
                    .unwrap()
                    .phone_reachable
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn changes_reach_the_engine_once() {
        let setup = EngineSetup {
            operators: vec![OperatorSetup::new("alice")],
            queues: Vec::new(),
        };
        let engine = engine_task::spawn(Engine::new(setup.clone()), &setup, None);
        let id = engine.query(|e| e.operator_id("alice")).await.flatten().unwrap();
        let mut reachability = Reachability::new(Some(engine.clone()), HashMap::from([("alice".to_string(), id)]));
        assert!(!reachable(&engine).await);
        reachability.report("alice", true);
        assert!(reachable(&engine).await);
        reachability.report("alice", true);
        reachability.report("alice", false);
        assert!(!reachable(&engine).await);
        reachability.report("nobody", true);
    }
}
