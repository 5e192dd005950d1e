//! `POST /api/v1/forms/{form}`: a web form posts here, URL-encoded or JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};

use super::error::ApiError;
use super::{ApiState, bodies};
use crate::channels::form::{self, FormReceipt};

pub async fn receive(
    State(state): State<ApiState>,
    Path(form_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<FormReceipt>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let submitted = bodies::form_fields(content_type, &body)?;
    let receipt = form::receive(&state.ctx, &form_name, submitted).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
