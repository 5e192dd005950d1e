//! `POST /api/v1/chat/{source}/messages`: what a messenger bridge or live-chat
//! widget calls for every customer message.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiState;
use super::error::ApiError;
use crate::channels::chat::{self, ChatMessage, ChatReceipt};

pub async fn receive(
    State(state): State<ApiState>,
    Path(source): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ChatReceipt>), ApiError> {
    let message: ChatMessage = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not a chat message in JSON: {e}")))?;
    let receipt = chat::receive(&state.ctx, &source, message).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}
