//! `POST /api/v1/operators/me/status`: presence (online, away,
//! do_not_disturb, offline) and workday (start, pause, resume, end), passed
//! to the engine, whose availability check uses them for every channel.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::OperatorAuth;
use super::error::ApiError;
use crate::channels::FieldProblem;
use crate::engine::{Event, Presence, Workday};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    presence: Option<String>,
    workday: Option<String>,
    /// Why a pause, for the admin view.
    reason: Option<String>,
}

pub async fn update(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let change: StatusChange =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("the body is not a status: {e}")))?;
    let mut problems = Vec::new();
    let presence = match change.presence.as_deref() {
        None => None,
        Some("online") => Some(Presence::Online),
        Some("away") => Some(Presence::Away),
        Some("do_not_disturb") => Some(Presence::DoNotDisturb),
        Some("offline") => Some(Presence::Offline),
        Some(_) => {
            problems.push(FieldProblem::new(
                "presence",
                "must be online, away, do_not_disturb or offline",
            ));
            None
        }
    };
    let workday = match change.workday.as_deref() {
        None => None,
        Some("start" | "resume") => Some(Workday::Started),
        Some("pause") => Some(Workday::Paused {
            reason: change.reason.clone().unwrap_or_default(),
        }),
        Some("end") => Some(Workday::Ended),
        Some(_) => {
            problems.push(FieldProblem::new("workday", "must be start, pause, resume or end"));
            None
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::Unprocessable(problems));
    }
    if presence.is_none() && workday.is_none() {
        return Err(ApiError::Unprocessable(vec![FieldProblem::new(
            "presence",
            "give presence, workday or both",
        )]));
    }
    let engine = &state.ctx.engine;
    if let Some(presence) = presence {
        engine.send(Event::Presence {
            operator: operator.id,
            presence,
        });
    }
    if let Some(workday) = workday {
        engine.send(Event::Workday {
            operator: operator.id,
            workday,
        });
    }
    Ok(Json(
        json!({ "operator": operator.name, "presence": change.presence, "workday": change.workday }),
    ))
}
