//! `POST /api/v1/forms/{form}`: a web form posts here, URL-encoded or JSON.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};

use super::ApiState;
use super::error::ApiError;
use crate::channels::form::{self, FormReceipt};
use crate::channels::{ChannelError, FieldProblem};

pub async fn receive(
    State(state): State<ApiState>,
    Path(form_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<FormReceipt>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let submitted = match content_type.as_str() {
        "application/x-www-form-urlencoded" => url_encoded(&body)?,
        "application/json" => json_object(&body)?,
        other => {
            return Err(ApiError::Unsupported(format!(
                "content type {other:?} is not accepted; send application/x-www-form-urlencoded or application/json"
            )));
        }
    };
    let receipt = form::receive(&state.ctx, &form_name, submitted).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

fn url_encoded(body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not URL-encoded form data: {e}")))?;
    let mut fields = BTreeMap::new();
    for (name, value) in pairs {
        fields.entry(name).or_insert(value);
    }
    Ok(fields)
}

fn json_object(body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(ApiError::BadRequest("the JSON body must be an object of fields".into()));
    };
    let mut fields = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, value) in object {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => String::new(),
            _ => {
                problems.push(FieldProblem::new(&name, "must be a string, number or boolean"));
                continue;
            }
        };
        fields.insert(name, text);
    }
    if problems.is_empty() {
        Ok(fields)
    } else {
        Err(ChannelError::Invalid(problems).into())
    }
}
