//! The CRM side of an incoming call, for the telephony layer: finds the
//! route of the dialled number, stores the call as a request of the caller
//! (known customer, or a new one with a lead when the route says
//! `create_lead`), and announces it to the engine. The stored row's id is
//! the call's `RequestId`, so calls and other requests never share an id.
//! Ringing, bridging and everything SIP stay in `sip/` and `telephony/`.

use crate::crm::identity;
use crate::crm::{Identity, LeadPlan, NewRequest, OpenRequest, StoreError, Stored, Thread, now_millis};
use crate::engine::{Channel, RequestId};

use super::{ChannelContext, ChannelError, arrival};

/// Digits and `+` only, as routes are compared.
pub(crate) fn plain(number: &str) -> String {
    number.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

/// Stores and announces a call from `caller` (as the trunk sent it; may be
/// anonymous) to `dialled`. Returns the request as the engine now knows it.
pub async fn arrive(
    ctx: &ChannelContext,
    caller: &str,
    dialled: &str,
) -> Result<(RequestId, OpenRequest), ChannelError> {
    if ctx.drain.is_draining() {
        return Err(ChannelError::Draining);
    }
    let (queue, create_lead, region) = {
        let config = ctx.config.load();
        let wanted = plain(dialled);
        let route = config
            .routes
            .phone
            .iter()
            .find(|r| plain(r.number.get_ref()) == wanted)
            .ok_or_else(|| ChannelError::UnknownRoute {
                channel: "phone",
                name: dialled.to_string(),
            })?;
        let region = identity::region(&config);
        (route.queue.get_ref().clone(), route.create_lead, region)
    };
    let number = identity::phone(caller, region);
    let new = NewRequest {
        channel: Channel::Phone,
        queue,
        origin: plain(dialled),
        name: None,
        identities: number.iter().cloned().map(Identity::phone).collect(),
        thread: Thread::New,
        external_id: number.clone().unwrap_or_else(|| "anonymous".to_string()),
        subject: None,
        author: number.unwrap_or_else(|| "anonymous".to_string()),
        body: String::new(),
        message_id: None,
        lead: if create_lead {
            LeadPlan::IfUnknown
        } else {
            LeadPlan::Never
        },
        at: now_millis(),
    };
    match ctx.store.receive(new).await? {
        Stored::Opened(open) => {
            arrival::announce(&ctx.engine, &open).await?;
            Ok((RequestId(open.request as u64), open))
        }
        Stored::Appended { .. } => Err(ChannelError::Storage(StoreError::Invalid(
            "a call joined an existing conversation".into(),
        ))),
    }
}

#[cfg(test)]
#[path = "phone_tests.rs"]
mod tests;
