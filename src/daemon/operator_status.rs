//! Operators' presence and workday across restarts: a restart must not log
//! everybody out (an operator with only a desk phone said `*45` once and has
//! no app to say it again). The keeper saves what changed every
//! `CHECK_EVERY` and everything at shutdown (`Store::save_operator_statuses`,
//! JSON per operator); at start, before the open requests are offered
//! again, `restore` sends the saved statuses to the engine as `Presence` and
//! `Workday` events (so the event log and replay see them too). A kill loses
//! at most the last `CHECK_EVERY` of changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::EngineHandle;
use crate::crm::Store;
use crate::engine::{Event, Presence, Workday};

const CHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Status {
    presence: Presence,
    workday: Workday,
}

/// The engine's statuses now, as saved: operator → JSON text.
async fn current(engine: &EngineHandle) -> HashMap<String, String> {
    let statuses = engine.query(|e| e.operator_statuses()).await.unwrap_or_default();
    statuses
        .into_iter()
        .filter_map(|(name, presence, workday)| {
            let text = serde_json::to_string(&Status { presence, workday }).ok()?;
            Some((name, text))
        })
        .collect()
}

/// Sends the saved statuses of operators the configuration still has to
/// the engine; how many.
pub async fn restore(store: &dyn Store, engine: &EngineHandle) -> anyhow::Result<usize> {
    let mut restored = 0;
    for (name, text) in store.operator_statuses().await? {
        let Ok(status) = serde_json::from_str::<Status>(&text) else {
            tracing::warn!(operator = %name, %text, "saved operator status unreadable: ignored");
            continue;
        };
        let lookup = name.clone();
        let Some(operator) = engine.query(move |e| e.operator_id(&lookup)).await.flatten() else {
            continue;
        };
        engine.send(Event::Presence {
            operator,
            presence: status.presence,
        });
        engine.send(Event::Workday {
            operator,
            workday: status.workday,
        });
        restored += 1;
    }
    Ok(restored)
}

/// Saves every status that differs from `saved`, which then holds them.
async fn save_changes(store: &dyn Store, engine: &EngineHandle, saved: &mut HashMap<String, String>) {
    let now = current(engine).await;
    let changed: Vec<(String, String)> = now
        .iter()
        .filter(|(name, text)| saved.get(*name) != Some(*text))
        .map(|(name, text)| (name.clone(), text.clone()))
        .collect();
    if changed.is_empty() {
        return;
    }
    match store.save_operator_statuses(changed.clone()).await {
        Ok(()) => saved.extend(changed),
        Err(error) => tracing::warn!(%error, "operator statuses not saved; trying again"),
    }
}

/// Follows the engine's statuses until `stop` fires, then saves them once more.
pub fn spawn_keeper(
    store: Arc<dyn Store>,
    engine: EngineHandle,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut saved = HashMap::new();
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        loop {
            tokio::select! {
                _ = ticks.tick() => save_changes(&*store, &engine, &mut saved).await,
                _ = stop.changed() => {
                    save_changes(&*store, &engine, &mut saved).await;
                    return;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_written() {
        let status = Status {
            presence: Presence::Online,
            workday: Workday::Paused { reason: "lunch".into() },
        };
        let text = serde_json::to_string(&status).unwrap();
        assert_eq!(serde_json::from_str::<Status>(&text).unwrap(), status);
        assert!(serde_json::from_str::<Status>("{\"presence\":\"Sleeping\"}").is_err());
    }
}
