//! Operators' own calls to numbers outside (a customer called back): any
//! number of digits (an optional leading `+`) that is no colleague's
//! extension and no routed number (those queue the operator as a caller,
//! `internal.rs`) goes out through the outbound gateway
//! (`sip.outbound_gateway`), showing `sip.outbound_caller_id` (else the
//! operator's extension); `internal.rs` carries the call. When the customer
//! answers, the call goes into their history in the CRM ("called by
//! OPERATOR"; a number the CRM does not know becomes a customer), and their
//! open callback tasks (a missed call's "call back") are done by that
//! operator, as `POST /api/v1/callbacks/{id}/done` would do.

use super::Telephony;
use super::gateway::gateway_uri;
use crate::crm::identity;
use crate::crm::{CustomerKey, now_millis};
use crate::sip::DialTarget;

/// Digits with an optional leading `+`: a number a carrier can dial.
fn dialable(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

impl Telephony {
    /// Whether an operator dialling `number` (no colleague's extension) calls
    /// outside: a gateway is configured and the number is dialable and not
    /// one acdd routes.
    pub(super) fn reaches_outside(&self, number: &str) -> bool {
        self.ctx.config.load().sip.outbound_gateway.is_some() && dialable(number) && !self.routed(number)
    }

    /// The gateway's INVITE target for `number`; 503 without a gateway.
    pub(super) fn outside_target(&self, number: &str) -> Result<DialTarget, u16> {
        let (address, _) = self.gateway().ok_or(503u16)?;
        Ok(DialTarget::Gateway {
            address,
            uri: gateway_uri(number, address),
        })
    }

    /// `operator` reached `number` outside: the customer with that number
    /// (created if unknown) gets the call in their history, and their open
    /// callback tasks are done (in the background).
    pub(super) fn called_back(&self, operator: &str, number: &str) {
        let config = self.ctx.config.load();
        let Some(phone) = identity::phone(number, identity::region(&config)) else {
            return;
        };
        let (store, operator) = (self.ctx.store.clone(), operator.to_string());
        tokio::spawn(async move {
            let customer = store
                .record_call_out(phone.clone(), operator.clone(), now_millis())
                .await;
            let card = match customer {
                Ok(customer) => store.customer(CustomerKey::Id(customer)).await,
                Err(error) => Err(error),
            };
            let callbacks = match card {
                Ok(card) => card.map(|card| card.callbacks).unwrap_or_default(),
                Err(error) => {
                    tracing::warn!(%phone, %error, "call outside not written to the customer's history");
                    return;
                }
            };
            for task in callbacks {
                match store.finish_callback(task.id, operator.clone(), now_millis()).await {
                    Ok(true) => {
                        tracing::info!(callback = task.id, %operator, %phone, "customer called back: callback done")
                    }
                    Ok(false) => {}
                    Err(error) => tracing::warn!(callback = task.id, %error, "callback not marked done"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::dialable;

    #[test]
    fn only_plain_numbers_go_outside() {
        assert!(dialable("+4930123456"));
        assert!(dialable("030123456"));
        assert!(!dialable("*99"));
        assert!(!dialable("+"));
        assert!(!dialable("alice"));
        assert!(!dialable("12#"));
    }
}
