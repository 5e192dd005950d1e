//! Graceful stop: on SIGTERM the daemon stops taking new requests (adapters
//! watch `Drain` and refuse politely: SIP 503, HTTP 503, LMTP 421), lets
//! calls in progress finish up to the configured grace time, then returns so
//! storage and the event log are flushed and the process exits 0.

use std::time::Duration;

use tokio::sync::watch;

use super::EngineHandle;
use crate::engine::Channel;

/// Tells adapters whether the daemon still takes new requests.
#[derive(Clone)]
pub struct Drain {
    draining: watch::Receiver<bool>,
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Resolves when draining starts.
    pub async fn started(&mut self) {
        let _ = self.draining.wait_for(|draining| *draining).await;
    }
}

pub struct DrainSwitch {
    draining: watch::Sender<bool>,
}

pub fn drain() -> (DrainSwitch, Drain) {
    let (sender, receiver) = watch::channel(false);
    (DrainSwitch { draining: sender }, Drain { draining: receiver })
}

impl DrainSwitch {
    /// Stops new requests, then waits until no call is left (waiting or
    /// talking) or `grace` has passed. Returns how many calls were cut short.
    pub async fn drain(&self, engine: &EngineHandle, grace: Duration) -> usize {
        let _ = self.draining.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let calls = engine
                .query(|e| e.request_views().iter().filter(|r| r.channel == Channel::Phone).count())
                .await
                .unwrap_or(0);
            if calls == 0 {
                return 0;
            }
            if tokio::time::Instant::now() >= deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
