//! The admin side: live queues, open requests, customer and lead look-up,
//! reload of the configuration. Admin token only.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::ApiState;
use super::auth::AdminAuth;
use super::error::ApiError;
use crate::channels::FieldProblem;
use crate::crm::{CustomerKey, identity};
use crate::engine::Channel;

fn per_channel(load: &crate::engine::PerChannel<u32>) -> Value {
    Channel::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), json!(load.get(*c))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// `GET /api/v1/queues`: waiting, offered, operators with state and load.
pub async fn queues(State(state): State<ApiState>, _: AdminAuth) -> Result<Json<Value>, ApiError> {
    let views = state
        .ctx
        .engine
        .query(|e| e.queue_views())
        .await
        .ok_or_else(|| ApiError::Unavailable("the engine is not running".into()))?;
    let queues: Vec<Value> = views
        .iter()
        .map(|q| {
            json!({
                "name": q.name,
                "channels": q.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "waiting": q.waiting,
                "offered": q.offered,
                "oldest_waiting_since": q.oldest_waiting_since.map(|t| t.as_millis()),
                "operators": q.operators.iter().map(|o| json!({
                    "name": o.name,
                    "state": o.state,
                    "pause_reason": o.pause_reason,
                    "phone_reachable": o.phone_reachable,
                    "load": per_channel(&o.load),
                    "assignments_total": o.assignments_total,
                    "no_answers_total": o.no_answers_total,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "queues": queues })))
}

/// `GET /api/v1/requests`: open requests as stored, with their position in
/// their queue and their state in the engine.
pub async fn requests(State(state): State<ApiState>, _: AdminAuth) -> Result<Json<Value>, ApiError> {
    let open = state.ctx.store.open_requests().await?;
    let engine_views = state
        .ctx
        .engine
        .query(|e| e.request_views())
        .await
        .ok_or_else(|| ApiError::Unavailable("the engine is not running".into()))?;
    let by_id: HashMap<u64, _> = engine_views.iter().map(|v| (v.id.0, v)).collect();
    let mut positions: HashMap<&str, u32> = HashMap::new();
    let requests: Vec<Value> = open
        .iter()
        .map(|r| {
            let view = by_id.get(&(r.request as u64));
            let position = positions.entry(r.queue.as_str()).or_default();
            *position += 1;
            json!({
                "request": r.request,
                "conversation": r.conversation,
                "customer": r.customer,
                "channel": r.channel.as_str(),
                "queue": r.queue,
                "position": *position,
                "waiting_since": r.waiting_since,
                "state": view.map(|v| v.state).unwrap_or("unknown"),
                "operator": view.and_then(|v| v.operator.clone()),
            })
        })
        .collect();
    Ok(Json(json!({ "requests": requests })))
}

/// `GET /api/v1/customers?phone=…|email=…|chat=source:user`.
pub async fn find_customer(
    State(state): State<ApiState>,
    _: AdminAuth,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let region = identity::region(&state.ctx.config.load());
    let key = if let Some(phone) = query.get("phone") {
        let number = identity::phone(phone, region)
            .ok_or_else(|| ApiError::Unprocessable(vec![FieldProblem::new("phone", "is not a valid phone number")]))?;
        CustomerKey::Identity("phone".into(), number)
    } else if let Some(email) = query.get("email") {
        let address = identity::email(email)
            .ok_or_else(|| ApiError::Unprocessable(vec![FieldProblem::new("email", "is not an e-mail address")]))?;
        CustomerKey::Identity("email".into(), address)
    } else if let Some(chat) = query.get("chat") {
        CustomerKey::Identity("chat".into(), chat.clone())
    } else {
        return Err(ApiError::Unprocessable(vec![FieldProblem::new(
            "phone",
            "give phone, email or chat (source:user)",
        )]));
    };
    let card = state
        .ctx
        .store
        .customer(key)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such customer".into()))?;
    Ok(Json(json!(card)))
}

/// `GET /api/v1/customers/{id}`.
pub async fn customer(
    State(state): State<ApiState>,
    _: AdminAuth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let card = state
        .ctx
        .store
        .customer(CustomerKey::Id(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no customer {id}")))?;
    Ok(Json(json!(card)))
}

/// `GET /api/v1/calls`: every phone call now (empty without SIP).
pub async fn calls(State(state): State<ApiState>, _: AdminAuth) -> Json<Value> {
    let calls = match &state.telephony {
        Some(telephony) => telephony.calls().await,
        None => Vec::new(),
    };
    Json(json!({ "calls": calls }))
}

/// `GET /api/v1/leads/{id}`.
pub async fn lead(State(state): State<ApiState>, _: AdminAuth, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    let lead = state
        .ctx
        .store
        .lead(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no lead {id}")))?;
    Ok(Json(json!(lead)))
}

/// `POST /api/v1/reload`: re-reads the configuration file; a bad one is
/// refused with its error and the running one kept.
pub async fn reload(State(state): State<ApiState>, _: AdminAuth) -> Result<Json<Value>, ApiError> {
    crate::daemon::reload(
        &state.config_path,
        &state.ctx.config,
        &state.ctx.engine,
        &state.reloaded,
    )
    .map_err(|e| ApiError::Unprocessable(vec![FieldProblem::new("configuration", &e.to_string())]))?;
    Ok(Json(json!({ "reloaded": true })))
}
