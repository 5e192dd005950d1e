//! An operator's conversations: read one, reply (stored, then delivered: to the
//! chat source's reply webhook, or by mail through the mailbox's relay),
//! close, transfer to an operator or a queue.
//! Only the operator who holds the conversation's request may act on it (403).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::OperatorAuth;
use super::bodies::{self, TransferTo};
use super::error::ApiError;
use crate::channels::{FieldProblem, chat, mail_reply};
use crate::crm::{Conversation, RequestEnd, now_millis};
use crate::engine::{Event, RequestId, TransferTarget};

/// The conversation and its open request, if the operator holds that request.
async fn held(state: &ApiState, operator: &OperatorAuth, id: i64) -> Result<(Conversation, i64), ApiError> {
    let conversation = state
        .ctx
        .store
        .conversation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no conversation {id}")))?;
    let Some(request) = conversation.open_request else {
        return Err(ApiError::Conflict(format!("conversation {id} is closed")));
    };
    let holder = state
        .ctx
        .engine
        .query(move |e| e.request_view(RequestId(request as u64)).and_then(|v| v.operator))
        .await
        .ok_or_else(|| ApiError::Unavailable("the engine is not running".into()))?;
    if holder.as_deref() != Some(operator.name.as_str()) {
        return Err(ApiError::Forbidden(format!("conversation {id} is not assigned to you")));
    }
    Ok((conversation, request))
}

pub async fn show(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let conversation = state
        .ctx
        .store
        .conversation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no conversation {id}")))?;
    if conversation.operator.as_deref() != Some(operator.name.as_str()) {
        held(&state, &operator, id).await?;
    }
    let messages = state.ctx.store.messages(id).await?;
    Ok(Json(json!({ "conversation": conversation, "messages": messages })))
}

pub async fn reply(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = bodies::reply_text(&body)?;
    let (conversation, request) = held(&state, &operator, id).await?;
    let message = state
        .ctx
        .store
        .reply(id, operator.name.clone(), text, now_millis())
        .await?;
    state.ctx.engine.send(Event::Answered {
        request: RequestId(request as u64),
    });
    let delivery = match conversation.channel.as_str() {
        "chat" => chat::deliver_reply(&state.ctx, &state.http, &conversation, &message).await,
        "mail" => mail_reply::deliver(&state.ctx, &conversation, &message).await,
        _ => Ok(false),
    };
    let (delivered, delivery_error) = match delivery {
        Ok(delivered) => (delivered, None),
        Err(error) => {
            tracing::warn!(%error, conversation = id, "reply stored but not delivered");
            (false, Some(error))
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": message, "delivered": delivered, "delivery_error": delivery_error })),
    ))
}

pub async fn close(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let (_, request) = held(&state, &operator, id).await?;
    state.ctx.store.ended(request, RequestEnd::Closed, now_millis()).await?;
    state.ctx.engine.send(Event::Closed {
        request: RequestId(request as u64),
    });
    Ok(Json(json!({ "conversation": id, "request": request, "closed": true })))
}

pub async fn transfer(
    State(state): State<ApiState>,
    operator: OperatorAuth,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let target = bodies::transfer_to(&body)?;
    let (conversation, request) = held(&state, &operator, id).await?;
    let to = match target {
        TransferTo::Operator(name) => {
            let lookup = name.clone();
            let id = state.ctx.engine.query(move |e| e.operator_id(&lookup)).await.flatten();
            TransferTarget::Operator(
                id.ok_or_else(|| ApiError::Unprocessable(vec![FieldProblem::new("operator", "is not an operator")]))?,
            )
        }
        TransferTo::Queue(name) => {
            let serves = state.ctx.config.load().queues.iter().any(|q| {
                *q.name.get_ref() == name && q.channels.get_ref().iter().any(|c| c.as_str() == conversation.channel)
            });
            let lookup = name.clone();
            let id = state.ctx.engine.query(move |e| e.queue_id(&lookup)).await.flatten();
            match id.filter(|_| serves) {
                Some(id) => TransferTarget::Queue(id),
                None => {
                    return Err(ApiError::Unprocessable(vec![FieldProblem::new(
                        "queue",
                        "is not a queue serving this channel",
                    )]));
                }
            }
        }
    };
    state.ctx.engine.send(Event::Transfer {
        request: RequestId(request as u64),
        to,
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "conversation": id, "request": request, "transferred": true })),
    ))
}
