//! The mail channel: one delivered message for one of our mailboxes becomes a
//! request, or joins its thread (In-Reply-To / References) while the thread's
//! request is open, so that replies stay with the operator who has it. A
//! thread whose request ended goes back to the operator who had it.
//! The LMTP protocol itself lives in `lmtp.rs`.

use mail_parser::{HeaderValue, MessageParser};

use crate::crm::identity;
use crate::crm::{Identity, LeadPlan, NewRequest, Stored, Thread, now_millis};
use crate::engine::Channel;

use super::{ChannelContext, ChannelError, FieldProblem, arrival, relay_message};

/// Whether mail for this address is taken (a configured mailbox).
pub fn is_mailbox(ctx: &ChannelContext, address: &str) -> bool {
    let address = address.to_lowercase();
    ctx.config
        .load()
        .routes
        .mail
        .iter()
        .any(|r| r.mailbox.get_ref().to_lowercase() == address)
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Stores a message delivered to `mailbox` and tells the engine or the operator.
pub async fn deliver(
    ctx: &ChannelContext,
    mailbox: &str,
    envelope_from: &str,
    data: &[u8],
) -> Result<(), ChannelError> {
    let queue = {
        let config = ctx.config.load();
        let mailbox = mailbox.to_lowercase();
        config
            .routes
            .mail
            .iter()
            .find(|r| r.mailbox.get_ref().to_lowercase() == mailbox)
            .map(|r| r.queue.get_ref().clone())
            .ok_or_else(|| ChannelError::UnknownRoute {
                channel: "mail",
                name: mailbox.clone(),
            })?
    };
    let message = MessageParser::default()
        .parse(data)
        .ok_or_else(|| ChannelError::Invalid(vec![FieldProblem::new("message", "is not an e-mail message")]))?;
    let from = message.from().and_then(|a| a.first());
    let sender = from
        .and_then(|a| a.address())
        .and_then(identity::email)
        .or_else(|| identity::email(envelope_from))
        .ok_or_else(|| ChannelError::Invalid(vec![FieldProblem::new("from", "has no sender address")]))?;
    let name = from.and_then(|a| a.name()).map(str::to_string);
    let mut refers_to = ids(message.in_reply_to());
    let mut references = ids(message.references());
    references.reverse();
    refers_to.extend(references);
    let body = message
        .body_text(0)
        .map(|b| b.into_owned())
        .or_else(|| message.body_html(0).map(|b| b.into_owned()))
        .unwrap_or_default();
    let subject = message.subject().map(str::to_string);
    let new = NewRequest {
        channel: Channel::Mail,
        queue,
        origin: mailbox.to_lowercase(),
        name: name.clone(),
        identities: vec![Identity::email(sender.clone())],
        thread: Thread::Mail { refers_to },
        external_id: sender.clone(),
        subject,
        author: name.unwrap_or_else(|| sender.clone()),
        body: body.clone(),
        message_id: message.message_id().map(str::to_string),
        lead: LeadPlan::IfUnknown,
        at: now_millis(),
    };
    let author = new.author.clone();
    match ctx.store.receive(new).await? {
        Stored::Opened(open) => arrival::announce(&ctx.engine, &open).await,
        Stored::Appended {
            conversation, request, ..
        } => {
            relay_message(ctx, conversation, request, author, body).await;
            Ok(())
        }
    }
}
