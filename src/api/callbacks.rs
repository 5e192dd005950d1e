//! Callback tasks (requests nobody took): the admin lists the open ones, an
//! operator marks one done after calling the customer back.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::ApiState;
use super::auth::{AdminAuth, OperatorAuth};
use super::error::ApiError;
use crate::crm::now_millis;

/// `GET /api/v1/callbacks`.
pub async fn list(State(state): State<ApiState>, _: AdminAuth) -> Result<Json<Value>, ApiError> {
    let callbacks = state.ctx.store.open_callbacks().await?;
    Ok(Json(json!({ "callbacks": callbacks })))
}

/// `POST /api/v1/callbacks/{id}/done`.
pub async fn done(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    if state.ctx.store.finish_callback(id, operator.name, now_millis()).await? {
        Ok(Json(json!({ "callback": id, "done": true })))
    } else {
        Err(ApiError::NotFound(format!("no open callback task {id}")))
    }
}
