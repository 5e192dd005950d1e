//! Writes down what the engine decided: assignments, transfers, ends (with a
//! callback task when nobody took a request), responsible changes, and the
//! rotation pointers that must survive a restart. It follows the engine's
//! actions in order and never decides anything itself.

use std::sync::Arc;

use crate::daemon::EngineHandle;
use crate::engine::{Action, MissedReason, Note, OperatorId};

use super::model::{Record, RequestEnd};
use super::{Store, now_millis};

/// At most this many actions in one write transaction.
const BATCH: usize = 64;

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
        let mut batch = Vec::with_capacity(BATCH);
        // Everything queued since the last write goes into one transaction:
        // one commit for many calls under load, one per action when quiet.
        while actions.recv_many(&mut batch, BATCH).await > 0 {
            let at = now_millis();
            let mut records = Vec::with_capacity(batch.len() + 1);
            let mut rotation = None;
            if batch
                .iter()
                .any(|a| matches!(a, Action::Offer { .. } | Action::Assign { .. }))
                && let Some(pointers) = engine.query(|e| e.rotation_pointers()).await
                && pointers != saved_rotation
            {
                records.push(Record::Rotation(pointers.clone()));
                rotation = Some(pointers);
            }
            for action in batch.drain(..) {
                if let Some(record) = to_record(&engine, action, at) {
                    records.push(record);
                }
            }
            if records.is_empty() {
                continue;
            }
            match store.record(records.clone()).await {
                Ok(()) => {
                    if let Some(pointers) = rotation {
                        saved_rotation = pointers;
                    }
                }
                Err(error) => {
                    // Not lose the others for one that fails: one at a time.
                    tracing::warn!(%error, records = records.len(), "recording engine actions failed; retrying one by one");
                    for record in records {
                        let pointers = match &record {
                            Record::Rotation(pointers) => Some(pointers.clone()),
                            _ => None,
                        };
                        match store.record(vec![record]).await {
                            Ok(()) => {
                                if let Some(pointers) = pointers {
                                    saved_rotation = pointers;
                                }
                            }
                            Err(error) => tracing::error!(%error, "recording an engine action failed"),
                        }
                    }
                }
            }
        }
    });
}

fn name_of(engine: &EngineHandle, operator: OperatorId) -> String {
    match engine.operator_name(operator) {
        Some(name) => name.to_string(),
        None => format!("#{}", operator.0),
    }
}

fn to_record(engine: &EngineHandle, action: Action, at: super::Millis) -> Option<Record> {
    let record = match action {
        Action::Assign { request, operator, .. } => Record::Assigned {
            request: request.0 as i64,
            operator: name_of(engine, operator),
            at,
        },
        Action::ChangeResponsible { request, operator } => Record::Responsible {
            request: request.0 as i64,
            operator: name_of(engine, operator),
            at,
        },
        Action::RunMissed { request, reason, .. } => {
            let reason = match reason {
                MissedReason::MaxWait => "nobody took it within the queue's maximum wait",
                MissedReason::QueueFull => "the queue was full",
                MissedReason::OverflowLoop => "overflow looped back",
                MissedReason::NoOperators => "the queue has no operators",
            };
            Record::Ended {
                request: request.0 as i64,
                end: RequestEnd::Missed {
                    reason: reason.to_string(),
                },
                at,
            }
        }
        Action::Note(Note::Closed { request, .. }) => Record::Ended {
            request: request.0 as i64,
            end: RequestEnd::Closed,
            at,
        },
        Action::Note(Note::Abandoned { request, .. }) => Record::Ended {
            request: request.0 as i64,
            end: RequestEnd::Abandoned,
            at,
        },
        Action::Note(Note::Transferred { request, from }) => Record::Transferred {
            request: request.0 as i64,
            from: name_of(engine, from),
            at,
        },
        _ => return None,
    };
    Some(record)
}
