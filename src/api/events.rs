//! `GET /api/v1/operators/me/events`: the operator's live stream (server-sent
//! events). It opens with `ready`, then the offers open for the operator and
//! the requests they hold (`assigned` with `via: held`), then offers,
//! withdrawals, assignments and customer messages as they happen.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::ApiState;
use super::auth::OperatorAuth;
use super::live::OperatorEvent;

fn sse(event: &OperatorEvent) -> Result<Event, Infallible> {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Ok(Event::default().event(event.name()).data(data))
}

/// What the operator holds now, per the engine, described from the store.
async fn held_by(state: &ApiState, name: &str) -> Vec<OperatorEvent> {
    let me = name.to_string();
    let held = state
        .ctx
        .engine
        .query(move |e| {
            e.request_views()
                .into_iter()
                .filter(|v| v.operator.as_deref() == Some(me.as_str()))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
    let mut events = Vec::new();
    for view in held {
        let summary = state.ctx.store.request_summary(view.id.0 as i64).await.ok().flatten();
        events.push(OperatorEvent::Assigned {
            request: view.id.0 as i64,
            conversation: summary.and_then(|s| s.conversation),
            channel: view.channel.to_string(),
            queue: view.queue,
            via: "held",
        });
    }
    events
}

pub async fn stream(
    State(state): State<ApiState>,
    operator: OperatorAuth,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe first, then read what is open: nothing falls between the two.
    let receiver = state.ctx.live.subscribe();
    let mut pending = state.ctx.live.pending(operator.id).await;
    pending.extend(held_by(&state, &operator.name).await);
    let ready = Event::default()
        .event("ready")
        .data(serde_json::json!({ "operator": operator.name }).to_string());
    let me = operator.name;
    let opening = stream::iter(std::iter::once(Ok(ready)).chain(pending.iter().map(sse).collect::<Vec<_>>()));
    let live = stream::unfold((receiver, me), |(mut receiver, me)| async move {
        loop {
            match receiver.recv().await {
                Ok((operator, event)) if operator == me => return Some((sse(&event), (receiver, me))),
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    let note = Event::default()
                        .event("lagged")
                        .data(serde_json::json!({ "missed": missed }).to_string());
                    return Some((Ok(note), (receiver, me)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(opening.chain(live)).keep_alive(KeepAlive::default())
}
