//! The API's errors and how they look on the wire: a status and a JSON body
//! `{"error": "...", "fields": [...]}`; 401 says nothing at all.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::channels::{ChannelError, FieldProblem};

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    BadRequest(String),
    Unprocessable(Vec<FieldProblem>),
    Unsupported(String),
    Unavailable(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::Unauthorized => {
                return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")]).into_response();
            }
            ApiError::Unprocessable(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                let body = json!({
                    "error": format!("invalid fields: {}", names.join(", ")),
                    "fields": fields,
                });
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Unsupported(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "API request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; nothing was changed".into(),
                )
            }
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

impl From<ChannelError> for ApiError {
    fn from(error: ChannelError) -> ApiError {
        match error {
            ChannelError::UnknownRoute { .. } => ApiError::NotFound(error.to_string()),
            ChannelError::Invalid(fields) => ApiError::Unprocessable(fields),
            ChannelError::Storage(e) => ApiError::Internal(e.to_string()),
            ChannelError::EngineStopped | ChannelError::Draining => ApiError::Unavailable(error.to_string()),
        }
    }
}

impl From<crate::crm::StoreError> for ApiError {
    fn from(error: crate::crm::StoreError) -> ApiError {
        ApiError::Internal(error.to_string())
    }
}
