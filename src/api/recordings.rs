//! Recordings over HTTP, for a CRM or a supervisor's browser (admin token):
//! `GET /api/v1/recordings/{request}` streams the recording of a call
//! (`record_calls`), `GET /api/v1/voicemail/{request}` a voicemail, both
//! `audio/wav`. Files are found by request number only, so nothing a
//! client sends becomes a path; a call still being recorded is 404 until
//! it ends (its file is `r<request>.wav.part` meanwhile). And for the
//! operator (their token), `POST /api/v1/operators/me/recording/pause` and
//! `…/resume`: the recording of the call they are in keeps silence
//! meanwhile (card details, as PCI DSS asks).

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio_util::io::ReaderStream;

use super::ApiState;
use super::auth::{AdminAuth, OperatorAuth};
use super::error::ApiError;

/// `GET /api/v1/recordings/{request}`.
pub async fn call(State(state): State<ApiState>, _: AdminAuth, Path(request): Path<u64>) -> Result<Response, ApiError> {
    let directory = state.ctx.config.load().storage.recordings_dir();
    wav(directory.join(format!("r{request}.wav")), "recording", request).await
}

/// `GET /api/v1/voicemail/{request}`.
pub async fn voicemail(
    State(state): State<ApiState>,
    _: AdminAuth,
    Path(request): Path<u64>,
) -> Result<Response, ApiError> {
    let directory = state.ctx.config.load().storage.voicemail_dir();
    wav(directory.join(format!("r{request}.wav")), "voicemail", request).await
}

/// `POST /api/v1/operators/me/recording/pause`.
pub async fn pause(State(state): State<ApiState>, operator: OperatorAuth) -> Result<Json<Value>, ApiError> {
    set_paused(&state, &operator, true).await
}

/// `POST /api/v1/operators/me/recording/resume`.
pub async fn resume(State(state): State<ApiState>, operator: OperatorAuth) -> Result<Json<Value>, ApiError> {
    set_paused(&state, &operator, false).await
}

async fn set_paused(state: &ApiState, operator: &OperatorAuth, paused: bool) -> Result<Json<Value>, ApiError> {
    let telephony = state
        .telephony
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("no telephony: SIP is not configured".into()))?;
    if !telephony.pause_recording(&operator.name, paused).await {
        return Err(ApiError::NotFound(format!(
            "operator {} is in no call being recorded",
            operator.name
        )));
    }
    let recording = if paused { "paused" } else { "recording" };
    Ok(Json(json!({ "operator": operator.name, "recording": recording })))
}

async fn wav(path: PathBuf, what: &str, request: u64) -> Result<Response, ApiError> {
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::NotFound(format!("no {what} of request {request}")));
        }
        Err(error) => return Err(ApiError::Internal(format!("{}: {error}", path.display()))),
    };
    let length = file
        .metadata()
        .await
        .map_err(|error| ApiError::Internal(format!("{}: {error}", path.display())))?
        .len();
    let headers = [
        (header::CONTENT_TYPE, "audio/wav".to_string()),
        (header::CONTENT_LENGTH, length.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{what}-r{request}.wav\""),
        ),
    ];
    Ok((headers, Body::from_stream(ReaderStream::new(file))).into_response())
}
