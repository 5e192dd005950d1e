//! Tells the engine about stored requests: on arrival, and after a restart
//! for every request still open, oldest first, with its original waiting time.

use crate::crm::{OpenRequest, Store};
use crate::daemon::EngineHandle;
use crate::engine::{Arrival, Event, RequestId, Time};

use super::ChannelError;

/// Sends `Event::Arrived` for a stored request. The responsible operator is
/// looked up by name; one no longer configured is simply not used.
pub async fn announce(engine: &EngineHandle, open: &OpenRequest) -> Result<(), ChannelError> {
    let queue = open.queue.clone();
    let responsible = open.responsible.clone();
    let ids = engine
        .query(move |e| (e.queue_id(&queue), responsible.and_then(|name| e.operator_id(&name))))
        .await
        .ok_or(ChannelError::EngineStopped)?;
    let (Some(queue), responsible) = ids else {
        tracing::warn!(request = open.request, queue = %open.queue, "request for a queue that is no longer configured");
        return Ok(());
    };
    let arrival = Arrival {
        request: RequestId(open.request as u64),
        channel: open.channel,
        queue,
        responsible,
        waiting_since: Some(Time(open.waiting_since.max(0) as u64)),
    };
    if engine.send(Event::Arrived(arrival)) {
        Ok(())
    } else {
        Err(ChannelError::EngineStopped)
    }
}

/// Re-announces every open request after a start; returns how many.
pub async fn recover(store: &dyn Store, engine: &EngineHandle) -> Result<usize, ChannelError> {
    let open = store.open_requests().await?;
    for request in &open {
        announce(engine, request).await?;
    }
    Ok(open.len())
}
