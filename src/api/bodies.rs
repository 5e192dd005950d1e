//! Every request body the HTTP API reads, decoded and checked without
//! touching the daemon: web form fields (URL-encoded or JSON), an operator's
//! status change, a conversation reply and a transfer target. Handlers call
//! these; the `http_bodies` fuzz target feeds them arbitrary bytes.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::ApiError;
use crate::channels::{ChannelError, FieldProblem};
use crate::engine::{Presence, Workday};

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body is not valid here: {e}")))
}

/// A web form's fields, by its Content-Type (parameters ignored).
pub fn form_fields(content_type: &str, body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let content_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match content_type.as_str() {
        "application/x-www-form-urlencoded" => url_encoded(body),
        "application/json" => json_object(body),
        other => Err(ApiError::Unsupported(format!(
            "content type {other:?} is not accepted; send application/x-www-form-urlencoded or application/json"
        ))),
    }
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    presence: Option<String>,
    workday: Option<String>,
    /// Why a pause, for the admin view.
    reason: Option<String>,
}

/// An operator's status change: presence, workday, or both.
#[derive(Debug)]
pub struct StatusUpdate {
    pub presence: Option<Presence>,
    pub workday: Option<Workday>,
    /// The words the operator sent, echoed in the answer.
    pub said_presence: Option<String>,
    pub said_workday: Option<String>,
}

/// `{"presence": "away"}`, `{"workday": "pause", "reason": "lunch"}`, ...
pub fn status_update(body: &[u8]) -> Result<StatusUpdate, ApiError> {
    let change: StatusChange =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body is not a status: {e}")))?;
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
    Ok(StatusUpdate {
        presence,
        workday,
        said_presence: change.presence,
        said_workday: change.workday,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    text: String,
}

/// An operator's reply text: `{"text": "..."}`, not blank.
pub fn reply_text(body: &[u8]) -> Result<String, ApiError> {
    let reply: Reply = parse(body)?;
    if reply.text.trim().is_empty() {
        return Err(ApiError::Unprocessable(vec![FieldProblem::new(
            "text",
            "must not be empty",
        )]));
    }
    Ok(reply.text)
}

/// Where a conversation goes, by name (resolved by the handler).
#[derive(Debug, PartialEq, Eq)]
pub enum TransferTo {
    Operator(String),
    Queue(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    operator: Option<String>,
    queue: Option<String>,
}

/// `{"operator": "bob"}` or `{"queue": "support"}`: exactly one.
pub fn transfer_to(body: &[u8]) -> Result<TransferTo, ApiError> {
    let target: Transfer = parse(body)?;
    match (target.operator, target.queue) {
        (Some(name), None) => Ok(TransferTo::Operator(name)),
        (None, Some(name)) => Ok(TransferTo::Queue(name)),
        _ => Err(ApiError::Unprocessable(vec![FieldProblem::new(
            "operator",
            "give exactly one of operator or queue",
        )])),
    }
}
