//! `POST /api/v1/offers/{id}/accept` and `/decline`: an operator answers an
//! offer made to them. Somebody else's offer → 403; one no longer open → 409.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::ApiState;
use super::auth::OperatorAuth;
use super::error::ApiError;
use super::live::AcceptOutcome;
use crate::engine::OfferId;

fn settle(offer: u64, outcome: Option<AcceptOutcome>) -> Result<Json<Value>, ApiError> {
    match outcome {
        Some(AcceptOutcome::Assigned { request }) => {
            Ok(Json(json!({ "offer": offer, "request": request, "assigned": true })))
        }
        Some(AcceptOutcome::Declined { request }) => {
            Ok(Json(json!({ "offer": offer, "request": request, "declined": true })))
        }
        Some(AcceptOutcome::NotOpen) => Err(ApiError::Conflict(format!(
            "offer {offer} is not open: it was withdrawn, expired or never made"
        ))),
        Some(AcceptOutcome::PhoneOnly) => Err(ApiError::Conflict(format!(
            "offer {offer} is a call: answer or refuse it on the phone"
        ))),
        Some(AcceptOutcome::NotYours) => Err(ApiError::Forbidden(format!(
            "offer {offer} was made to another operator"
        ))),
        None => Err(ApiError::Unavailable("the engine is not running".into())),
    }
}

pub async fn accept(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(offer): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.ctx.live.accept(OfferId(offer), operator.id),
    )
    .await
    .map_err(|_| ApiError::Unavailable("the engine did not answer in time".into()))?;
    settle(offer, outcome)
}

pub async fn decline(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(offer): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    settle(offer, state.ctx.live.decline(OfferId(offer), operator.id).await)
}
