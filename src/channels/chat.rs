//! The chat channel: messages from a messenger bridge or live-chat widget
//! (webhook) become requests or join their open conversation; operator
//! replies go back out through the source's reply webhook. The chat tracker
//! links a conversation to a known customer by the phone numbers and e-mail
//! addresses in it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crm::identity;
use crate::crm::{Conversation, Identity, LeadPlan, Message, NewRequest, Stored, Thread, now_millis};
use crate::engine::Channel;

use super::{ChannelContext, ChannelError, FieldProblem, arrival, relay_message};

/// What the webhook receives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// The user's id at the source.
    pub user_id: String,
    pub name: Option<String>,
    pub text: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChatReceipt {
    pub conversation: i64,
    pub request: i64,
    /// False when the message joined a conversation already open.
    pub new_request: bool,
}

/// Stores one incoming chat message and tells the engine or the operator.
pub async fn receive(ctx: &ChannelContext, source: &str, message: ChatMessage) -> Result<ChatReceipt, ChannelError> {
    if ctx.drain.is_draining() {
        return Err(ChannelError::Draining);
    }
    let config = ctx.config.load_full();
    let route = config
        .routes
        .chat
        .iter()
        .find(|r| r.source.get_ref() == source)
        .ok_or_else(|| ChannelError::UnknownRoute {
            channel: "chat",
            name: source.to_string(),
        })?;
    let queue = route.queue.get_ref().clone();
    let tracker = config
        .queues
        .iter()
        .find(|q| *q.name.get_ref() == queue)
        .is_some_and(|q| q.chat_tracker);
    let region = identity::region(&config);

    let mut problems = Vec::new();
    let user = message.user_id.trim();
    if user.is_empty() || user.len() > 256 {
        problems.push(FieldProblem::new("user_id", "must be 1 to 256 characters"));
    }
    if message.text.trim().is_empty() {
        problems.push(FieldProblem::new("text", "must not be empty"));
    }
    let mut identities = Vec::new();
    if let Some(phone) = message.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        match identity::phone(phone, region) {
            Some(number) => identities.push(Identity::phone(number)),
            None => problems.push(FieldProblem::new("phone", "is not a valid phone number")),
        }
    }
    if let Some(email) = message.email.as_deref().filter(|e| !e.trim().is_empty()) {
        match identity::email(email) {
            Some(address) => identities.push(Identity::email(address)),
            None => problems.push(FieldProblem::new("email", "is not an e-mail address")),
        }
    }
    if !problems.is_empty() {
        return Err(ChannelError::Invalid(problems));
    }
    if tracker {
        // phonenumber may compile a region's patterns (milliseconds of CPU):
        // off the async workers that carry calls.
        let text = message.text.clone();
        let found = tokio::task::spawn_blocking(move || identity::find_in_text(&text, region))
            .await
            .unwrap_or_default();
        for found in found {
            if !identities.contains(&found) {
                identities.push(found);
            }
        }
    }
    identities.push(Identity::chat(source, user));
    let name = message.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let new = NewRequest {
        channel: Channel::Chat,
        queue,
        origin: source.to_string(),
        name: name.map(str::to_string),
        identities,
        thread: Thread::Chat {
            source: source.to_string(),
            user: user.to_string(),
        },
        external_id: user.to_string(),
        subject: None,
        author: name.unwrap_or(user).to_string(),
        body: message.text.clone(),
        message_id: None,
        lead: LeadPlan::IfUnknown,
        at: now_millis(),
    };
    let author = new.author.clone();
    match ctx.store.receive(new).await? {
        Stored::Opened(open) => {
            arrival::announce(&ctx.engine, &open).await?;
            Ok(ChatReceipt {
                conversation: open.conversation.unwrap_or_default(),
                request: open.request,
                new_request: true,
            })
        }
        Stored::Appended {
            conversation, request, ..
        } => {
            relay_message(ctx, conversation, request, author, message.text).await;
            Ok(ChatReceipt {
                conversation,
                request,
                new_request: false,
            })
        }
    }
}

/// What the reply webhook receives.
#[derive(Debug, Serialize)]
struct OutgoingReply<'a> {
    source: &'a str,
    user_id: &'a str,
    conversation: i64,
    operator: &'a str,
    text: &'a str,
    at: i64,
}

/// Delivers an operator's stored reply to the source's reply webhook.
/// `Ok(false)`: the source has no webhook; the reply is only stored.
pub async fn deliver_reply(
    ctx: &ChannelContext,
    http: &reqwest::Client,
    conversation: &Conversation,
    message: &Message,
) -> Result<bool, String> {
    let webhook = {
        let config = ctx.config.load();
        config
            .routes
            .chat
            .iter()
            .find(|r| *r.source.get_ref() == conversation.origin)
            .and_then(|r| r.reply_webhook.clone())
    };
    let Some(url) = webhook else { return Ok(false) };
    let body = OutgoingReply {
        source: &conversation.origin,
        user_id: &conversation.external_id,
        conversation: conversation.id,
        operator: &message.author,
        text: &message.body,
        at: message.at,
    };
    let response = http
        .post(&url)
        .timeout(Duration::from_secs(5))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("reply webhook {url}: {e}"))?;
    if response.status().is_success() {
        Ok(true)
    } else {
        Err(format!("reply webhook {url} answered {}", response.status()))
    }
}
