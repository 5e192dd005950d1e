//! The names behind operator and queue ids, readable by adapters without a
//! round trip to the engine task. Ids are never reused or renamed, so the
//! directory only grows; the engine task appends the ids a reconfiguration
//! adds before any action that names them goes out.

use std::sync::{Arc, RwLock};

use crate::engine::{Engine, OperatorId, QueueId};

#[derive(Debug, Default)]
pub struct Names {
    operators: RwLock<Vec<Arc<str>>>,
    queues: RwLock<Vec<Arc<str>>>,
}

impl Names {
    pub fn operator(&self, id: OperatorId) -> Option<Arc<str>> {
        read(&self.operators).get(id.0 as usize).cloned()
    }

    pub fn queue(&self, id: QueueId) -> Option<Arc<str>> {
        read(&self.queues).get(id.0 as usize).cloned()
    }

    /// Appends the ids `engine` has that the directory has not; cheap when
    /// there are none.
    pub(crate) fn follow(&self, engine: &Engine) {
        if read(&self.operators).len() < engine.operator_id_count() {
            let mut operators = self.operators.write().unwrap_or_else(|p| p.into_inner());
            for id in operators.len()..engine.operator_id_count() {
                let name = engine.operator_name(OperatorId(id as u32)).unwrap_or_default();
                operators.push(Arc::from(name));
            }
        }
        if read(&self.queues).len() < engine.queue_id_count() {
            let mut queues = self.queues.write().unwrap_or_else(|p| p.into_inner());
            for id in queues.len()..engine.queue_id_count() {
                let name = engine.queue_name(QueueId(id as u32)).unwrap_or_default();
                queues.push(Arc::from(name));
            }
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Channel, EngineSetup, Event, Mode, OperatorSetup, QueueSetup, Time};

    fn setup(operators: &[&str]) -> EngineSetup {
        EngineSetup {
            operators: operators.iter().map(|n| OperatorSetup::new(n)).collect(),
            queues: vec![QueueSetup::new("q", &[Channel::Chat], operators, Mode::InOrder)],
        }
    }

    #[test]
    fn ids_added_by_a_reconfiguration_get_their_names_and_old_ones_keep_theirs() {
        let mut engine = Engine::new(setup(&["ann", "bob"]));
        let names = Names::default();
        names.follow(&engine);
        let bob = engine.operator_id("bob").unwrap();
        assert_eq!(names.operator(bob).as_deref(), Some("bob"));
        assert_eq!(names.queue(engine.queue_id("q").unwrap()).as_deref(), Some("q"));
        let mut actions = Vec::new();
        engine.handle(
            Event::Reconfigure(Box::new(setup(&["cid", "ann"]))),
            Time(1),
            &mut actions,
        );
        names.follow(&engine);
        let cid = engine.operator_id("cid").unwrap();
        assert_eq!(names.operator(cid).as_deref(), Some("cid"));
        assert_eq!(names.operator(bob).as_deref(), Some("bob"), "removed, still named");
        assert_eq!(names.operator(OperatorId(99)), None);
    }
}
