//! Writes down what the engine decided: assignments, transfers, ends (with a
//! callback task when nobody took a request), responsible changes, and the
//! rotation pointers that must survive a restart. It follows the engine's
//! actions in order and never decides anything itself.

use std::sync::Arc;

use crate::daemon::EngineHandle;
use crate::engine::{Action, MissedReason, Note, OperatorId};

use super::model::RequestEnd;
use super::{Store, now_millis};

/// Starts following the engine. Subscribe before the first arrival is sent,
/// so that nothing the engine does goes unrecorded.
pub fn spawn(store: Arc<dyn Store>, engine: EngineHandle) {
    let mut actions = engine.subscribe(|action| {
        matches!(
            action,
            Action::Offer { .. }
                | Action::Assign { .. }
                | Action::RunMissed { .. }
                | Action::ChangeResponsible { .. }
                | Action::Note(Note::Closed { .. } | Note::Abandoned { .. } | Note::Transferred { .. })
        )
    });
    tokio::spawn(async move {
        let mut saved_rotation: Vec<(String, String)> = Vec::new();
        while let Some(action) = actions.recv().await {
            if matches!(action, Action::Offer { .. } | Action::Assign { .. })
                && let Some(pointers) = engine.query(|e| e.rotation_pointers()).await
                && pointers != saved_rotation
            {
                match store.save_rotation(pointers.clone()).await {
                    Ok(()) => saved_rotation = pointers,
                    Err(error) => tracing::error!(%error, "saving rotation pointers failed"),
                }
            }
            if let Err(error) = record(&*store, &engine, action).await {
                tracing::error!(%error, "recording an engine action failed");
            }
        }
    });
}

async fn name_of(engine: &EngineHandle, operator: OperatorId) -> String {
    engine
        .query(move |e| e.operator_name(operator).map(str::to_string))
        .await
        .flatten()
        .unwrap_or_else(|| format!("#{}", operator.0))
}

async fn record(store: &dyn Store, engine: &EngineHandle, action: Action) -> Result<(), super::StoreError> {
    let at = now_millis();
    match action {
        Action::Assign { request, operator, .. } => {
            store
                .assigned(request.0 as i64, name_of(engine, operator).await, at)
                .await
        }
        Action::ChangeResponsible { request, operator } => {
            store
                .set_responsible(request.0 as i64, name_of(engine, operator).await, at)
                .await
        }
        Action::RunMissed { request, reason, .. } => {
            let reason = match reason {
                MissedReason::MaxWait => "nobody took it within the queue's maximum wait",
                MissedReason::QueueFull => "the queue was full",
                MissedReason::OverflowLoop => "overflow looped back",
                MissedReason::NoOperators => "the queue has no operators",
            };
            let end = RequestEnd::Missed {
                reason: reason.to_string(),
            };
            store.ended(request.0 as i64, end, at).await
        }
        Action::Note(Note::Closed { request, .. }) => store.ended(request.0 as i64, RequestEnd::Closed, at).await,
        Action::Note(Note::Abandoned { request, .. }) => store.ended(request.0 as i64, RequestEnd::Abandoned, at).await,
        Action::Note(Note::Transferred { request, from }) => {
            store
                .transferred(request.0 as i64, name_of(engine, from).await, at)
                .await
        }
        _ => Ok(()),
    }
}
