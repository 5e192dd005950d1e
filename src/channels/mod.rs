//! Channel adapters: chat (webhooks in, reply webhooks out), mail (LMTP),
//! forms, and the CRM side of calls for the telephony layer. Each turns wire
//! input into a stored request and an engine event; none of them decides
//! routing. `arrival` announces stored requests to the engine, on arrival and
//! after a restart.

pub mod arrival;
pub mod chat;
pub mod form;
pub mod lmtp;
pub mod lmtp_dialogue;
pub mod mail;
pub mod mail_reply;
pub mod phone;
pub mod smtp;

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::api::live::LiveHandle;
use crate::api::live::OperatorEvent;
use crate::config::Config;
use crate::crm::{Store, StoreError};
use crate::daemon::EngineHandle;
use crate::daemon::shutdown::Drain;
use crate::engine::RequestId;

/// What every channel adapter works with.
#[derive(Clone)]
pub struct ChannelContext {
    pub config: Arc<ArcSwap<Config>>,
    pub store: Arc<dyn Store>,
    pub engine: EngineHandle,
    pub live: LiveHandle,
    /// Set when the daemon stops: no new requests are taken.
    pub drain: Drain,
}

/// One field that is missing or malformed, named as the sender named it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl FieldProblem {
    pub fn new(field: &str, problem: &str) -> FieldProblem {
        FieldProblem {
            field: field.to_string(),
            problem: problem.to_string(),
        }
    }
}

/// Why a channel refused or could not take an input.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("no {channel} route named {name:?}")]
    UnknownRoute { channel: &'static str, name: String },
    #[error("invalid fields: {}", .0.iter().map(|p| format!("{} ({})", p.field, p.problem)).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldProblem>),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error("the engine is not running")]
    EngineStopped,
    #[error("acdd is stopping and takes no new requests; try again later")]
    Draining,
}

/// Tells whoever holds the request now (per the engine) that the customer
/// wrote again in its conversation.
pub async fn relay_message(ctx: &ChannelContext, conversation: i64, request: i64, author: String, body: String) {
    let event = OperatorEvent::Message {
        conversation,
        request,
        author,
        body,
        at: crate::crm::now_millis(),
    };
    let holder = ctx
        .engine
        .query(move |e| e.request_view(RequestId(request as u64)).and_then(|v| v.operator))
        .await
        .flatten();
    if let Some(operator) = holder {
        ctx.live.notify(&operator, event);
    }
}
