//! `POST /api/v1/chat/{source}/messages`: what a messenger bridge or live-chat
//! widget calls for every customer message. A source with a `webhook_token`
//! takes only messages bearing it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::ApiState;
use super::auth;
use super::error::ApiError;
use crate::channels::chat::{self, ChatMessage, ChatReceipt};

pub async fn receive(
    State(state): State<ApiState>,
    Path(source): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Result<(StatusCode, Json<ChatReceipt>), ApiError> {
    let expected = state
        .ctx
        .config
        .load()
        .routes
        .chat
        .iter()
        .find(|r| *r.source.get_ref() == source)
        .and_then(|r| r.webhook_token.as_ref().map(|t| t.get_ref().clone()));
    if let Some(expected) = expected
        && !auth::bearer(&parts).is_some_and(|token| auth::same(token, &expected))
    {
        return Err(ApiError::Unauthorized);
    }
    let message: ChatMessage = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not a chat message in JSON: {e}")))?;
    let receipt = chat::receive(&state.ctx, &source, message).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}
