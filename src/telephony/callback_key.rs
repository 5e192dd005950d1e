//! A waiting caller who would rather be called back: in a queue with
//! `callback_key` (and `hold = "music"`), the caller's keys are watched
//! (`MediaSession::watch_keys`) while the call waits; that key ends the
//! wait. The engine hears `CallbackRequested` (nobody is offered the call
//! any more; figures count it apart from abandons), the store gets a callback
//! task for the customer ("called back" later by an
//! operator, from the API or by calling the number, `outside.rs`), and the
//! caller hears a second of tone as the confirmation, then BYE (as a
//! workday code's, `workday_codes.rs`). Other keys, and keys once an
//! operator has the call, change nothing here (they reach the operator as
//! DTMF).

use super::call::Phase;
use super::inbound::queue_of;
use super::{Input, Telephony};
use crate::crm::now_millis;
use crate::engine::Event;

/// What the callback task says.
const REASON: &str = "the caller asked to be called back";

impl Telephony {
    /// The queue of `call_id` has a callback key: watch the caller's keys.
    pub(super) fn watch_callback_key(&mut self, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let wanted = queue_of(&self.ctx.config.load(), &call.number).is_some_and(|q| q.callback_key.is_some());
        if !wanted {
            return;
        }
        let mut keys = match call.media.watch_keys(call.caller) {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%call_id, %error, "the caller's keys cannot be watched");
                return;
            }
        };
        let (loopback, call_id) = (self.loopback.clone(), call_id.to_string());
        tokio::spawn(async move {
            while let Some(key) = keys.recv().await {
                let input = Input::Key {
                    call_id: call_id.clone(),
                    key,
                };
                if loopback.send(input).is_err() {
                    return;
                }
            }
        });
    }

    /// The caller of `call_id` pressed `key`.
    pub(super) fn key_pressed(&mut self, call_id: &str, key: char) {
        let config = self.ctx.config.load();
        let Some(call) = self.calls.get_mut(call_id).filter(|call| call.phase == Phase::Queued) else {
            return;
        };
        let Some(queue) = queue_of(&config, &call.number) else {
            return;
        };
        if queue
            .callback_key
            .as_ref()
            .is_none_or(|k| !k.get_ref().starts_with(key))
        {
            tracing::debug!(%call_id, %key, "a key the queue does not take");
            return;
        }
        metrics::counter!("acdd_callbacks_requested_total", "queue" => queue.name.get_ref().clone()).increment(1);
        self.confirm_then_hang_up(call_id);
        let Some(request) = self.calls.detach_request(call_id) else {
            return;
        };
        tracing::info!(%call_id, request = request.0, "the caller asked to be called back");
        self.ctx.engine.send(Event::CallbackRequested { request });
        let store = self.ctx.store.clone();
        tokio::spawn(async move {
            if let Err(error) = store
                .request_callback(request.0 as i64, REASON.into(), now_millis())
                .await
            {
                tracing::warn!(request = request.0, %error, "callback task not written");
            }
        });
    }
}
