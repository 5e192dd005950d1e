//! The table of calls the telephony task holds: each inbound call by its
//! Call-ID, the engine's request for it once stored, and where it stands.

use std::collections::HashMap;

use crate::engine::RequestId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Being stored and announced; no request id yet.
    Storing,
    /// The engine holds it; the caller hears ringback.
    Queued,
    /// The caller left while it was being stored: abandon it once known.
    LeftWhileStoring,
}

pub(crate) struct Call {
    pub request: Option<RequestId>,
    pub phase: Phase,
}

#[derive(Default)]
pub(crate) struct Calls {
    by_call_id: HashMap<String, Call>,
    by_request: HashMap<RequestId, String>,
}

impl Calls {
    pub fn insert(&mut self, call_id: &str) {
        self.by_call_id.insert(
            call_id.to_string(),
            Call {
                request: None,
                phase: Phase::Storing,
            },
        );
    }

    pub fn get_mut(&mut self, call_id: &str) -> Option<&mut Call> {
        self.by_call_id.get_mut(call_id)
    }

    pub fn set_request(&mut self, call_id: &str, request: RequestId) {
        if let Some(call) = self.by_call_id.get_mut(call_id) {
            call.request = Some(request);
            self.by_request.insert(request, call_id.to_string());
        }
    }

    pub fn call_id_of(&self, request: RequestId) -> Option<&str> {
        self.by_request.get(&request).map(String::as_str)
    }

    pub fn remove(&mut self, call_id: &str) -> Option<Call> {
        let call = self.by_call_id.remove(call_id)?;
        if let Some(request) = call.request {
            self.by_request.remove(&request);
        }
        Some(call)
    }

    pub fn len(&self) -> usize {
        self.by_call_id.len()
    }
}
