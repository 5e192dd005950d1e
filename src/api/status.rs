//! `POST /api/v1/operators/me/status`: presence (online, away,
//! do_not_disturb, offline) and workday (start, pause, resume, end), passed
//! to the engine, whose availability check uses them for every channel.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};

use super::auth::OperatorAuth;
use super::error::ApiError;
use super::{ApiState, bodies};
use crate::engine::Event;

pub async fn update(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let update = bodies::status_update(&body)?;
    let engine = &state.ctx.engine;
    if let Some(presence) = update.presence {
        engine.send(Event::Presence {
            operator: operator.id,
            presence,
        });
    }
    if let Some(workday) = update.workday {
        engine.send(Event::Workday {
            operator: operator.id,
            workday,
        });
    }
    Ok(Json(
        json!({ "operator": operator.name, "presence": update.said_presence, "workday": update.said_workday }),
    ))
}
