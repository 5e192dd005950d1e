//! The live side for operators: follows the engine's offers, withdrawals and
//! assignments, turns them into events for each operator's event stream, and
//! settles accepts and declines. It owns the book of open offers (who got
//! which), so that an operator can act only on their own. It decides no routing.
//! Events are built (names from the engine, a summary from the store) only
//! while some stream listens; the book keeps the bare facts, and a stream
//! that connects later gets its open offers built from them.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::crm::Store;
use crate::daemon::EngineHandle;
use crate::engine::{Action, AssignVia, Channel, Event, OfferId, OperatorId, QueueId, RequestId, Time, WithdrawReason};

/// One event on an operator's stream.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperatorEvent {
    Offer {
        offer: u64,
        request: i64,
        channel: String,
        queue: String,
        /// Milliseconds since the Unix epoch.
        deadline: u64,
        conversation: Option<i64>,
        customer: Option<i64>,
        customer_name: Option<String>,
        subject: Option<String>,
        preview: Option<String>,
    },
    Withdrawn {
        offer: u64,
        request: i64,
        reason: &'static str,
    },
    Assigned {
        request: i64,
        conversation: Option<i64>,
        channel: String,
        queue: String,
        via: &'static str,
    },
    Message {
        conversation: i64,
        request: i64,
        author: String,
        body: String,
        at: i64,
    },
}

impl OperatorEvent {
    pub fn name(&self) -> &'static str {
        match self {
            OperatorEvent::Offer { .. } => "offer",
            OperatorEvent::Withdrawn { .. } => "withdrawn",
            OperatorEvent::Assigned { .. } => "assigned",
            OperatorEvent::Message { .. } => "message",
        }
    }
}

/// How an accept or decline ended.
#[derive(Debug, PartialEq, Eq)]
pub enum AcceptOutcome {
    Assigned {
        request: i64,
    },
    /// The decline reached the engine.
    Declined {
        request: i64,
    },
    /// Withdrawn, expired or never existed.
    NotOpen,
    /// The offer is somebody else's.
    NotYours,
    /// A phone offer: answered or refused on the phone, not over HTTP.
    PhoneOnly,
}

enum Command {
    Accept {
        offer: OfferId,
        operator: OperatorId,
        reply: oneshot::Sender<AcceptOutcome>,
    },
    Decline {
        offer: OfferId,
        operator: OperatorId,
        reply: oneshot::Sender<AcceptOutcome>,
    },
    Pending {
        operator: OperatorId,
        reply: oneshot::Sender<Vec<OperatorEvent>>,
    },
}

/// Cheap to clone.
#[derive(Clone)]
pub struct LiveHandle {
    events: broadcast::Sender<(String, OperatorEvent)>,
    commands: mpsc::UnboundedSender<Command>,
}

impl LiveHandle {
    /// Sends an event to the operator's streams (if any is connected).
    pub fn notify(&self, operator: &str, event: OperatorEvent) {
        let _ = self.events.send((operator.to_string(), event));
    }

    /// Every event for every operator, tagged with the operator's name.
    pub fn subscribe(&self) -> broadcast::Receiver<(String, OperatorEvent)> {
        self.events.subscribe()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).ok()?;
        answer.await.ok()
    }

    pub async fn accept(&self, offer: OfferId, operator: OperatorId) -> Option<AcceptOutcome> {
        self.ask(|reply| Command::Accept { offer, operator, reply }).await
    }

    pub async fn decline(&self, offer: OfferId, operator: OperatorId) -> Option<AcceptOutcome> {
        self.ask(|reply| Command::Decline { offer, operator, reply }).await
    }

    /// The offers open for the operator now, for a stream that just connected.
    pub async fn pending(&self, operator: OperatorId) -> Vec<OperatorEvent> {
        self.ask(|reply| Command::Pending { operator, reply })
            .await
            .unwrap_or_default()
    }
}

/// An offer as the engine made it; its event is built when asked for.
struct OpenOffer {
    operator: OperatorId,
    request: RequestId,
    queue: QueueId,
    channel: Channel,
    deadline: Time,
}

struct Hub {
    engine: EngineHandle,
    store: Arc<dyn Store>,
    events: broadcast::Sender<(String, OperatorEvent)>,
    offers: HashMap<OfferId, OpenOffer>,
    /// Accepts sent to the engine, waiting for its Assign or RefuseAccept.
    accepting: HashMap<OfferId, (OperatorId, RequestId, oneshot::Sender<AcceptOutcome>)>,
}

/// Starts the hub; subscribe it before the first arrival reaches the engine.
pub fn spawn(engine: EngineHandle, store: Arc<dyn Store>) -> LiveHandle {
    let (events, _) = broadcast::channel(1024);
    let (commands, mut command_rx) = mpsc::unbounded_channel();
    let mut actions = engine.subscribe(|action| {
        matches!(
            action,
            Action::Offer { .. } | Action::Withdraw { .. } | Action::Assign { .. } | Action::RefuseAccept { .. }
        )
    });
    let mut hub = Hub {
        engine,
        store,
        events: events.clone(),
        offers: HashMap::new(),
        accepting: HashMap::new(),
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                action = actions.recv() => match action {
                    Some(action) => hub.follow(action).await,
                    None => return,
                },
                command = command_rx.recv() => match command {
                    Some(command) => hub.obey(command).await,
                    None => return,
                },
            }
        }
    });
    LiveHandle { events, commands }
}

impl Hub {
    fn name_of(&self, operator: OperatorId) -> String {
        self.engine.operator_name(operator).unwrap_or_default().to_string()
    }

    fn queue_name(&self, queue: QueueId) -> String {
        self.engine.queue_name(queue).unwrap_or_default().to_string()
    }

    fn publish(&self, operator: String, event: OperatorEvent) {
        let _ = self.events.send((operator, event));
    }

    /// Whether any operator stream is connected; with none, nobody reads an
    /// event, so none is built.
    fn listened(&self) -> bool {
        self.events.receiver_count() > 0
    }

    async fn offer_event(&self, offer: OfferId, open: &OpenOffer) -> OperatorEvent {
        let summary = self.store.request_summary(open.request.0 as i64).await.ok().flatten();
        OperatorEvent::Offer {
            offer: offer.0,
            request: open.request.0 as i64,
            channel: open.channel.to_string(),
            queue: self.queue_name(open.queue),
            deadline: open.deadline.as_millis(),
            conversation: summary.as_ref().and_then(|s| s.conversation),
            customer: summary.as_ref().map(|s| s.customer),
            customer_name: summary.as_ref().and_then(|s| s.customer_name.clone()),
            subject: summary.as_ref().and_then(|s| s.subject.clone()),
            preview: summary.and_then(|s| s.preview),
        }
    }

    async fn publish_assigned(
        &self,
        request: RequestId,
        operator: OperatorId,
        queue: QueueId,
        channel: Channel,
        via: AssignVia,
    ) {
        let conversation = self
            .store
            .request_summary(request.0 as i64)
            .await
            .ok()
            .flatten()
            .and_then(|s| s.conversation);
        let event = OperatorEvent::Assigned {
            request: request.0 as i64,
            conversation,
            channel: channel.to_string(),
            queue: self.queue_name(queue),
            via: match via {
                AssignVia::Offer => "offer",
                AssignVia::Rotation => "rotation",
                AssignVia::Responsible => "responsible",
                AssignVia::Pickup => "pickup",
            },
        };
        // Published before the accept is answered: a stream opened after the
        // answer never sees this assignment twice.
        self.publish(self.name_of(operator), event);
    }

    /// Answers the accepts this assignment settles.
    fn settle_accepts(&mut self, request: RequestId, operator: OperatorId) {
        let settled: Vec<OfferId> = self
            .accepting
            .iter()
            .filter(|(_, (o, r, _))| *o == operator && *r == request)
            .map(|(offer, _)| *offer)
            .collect();
        for offer in settled {
            if let Some((_, _, reply)) = self.accepting.remove(&offer) {
                let _ = reply.send(AcceptOutcome::Assigned {
                    request: request.0 as i64,
                });
            }
        }
    }

    async fn follow(&mut self, action: Action) {
        match action {
            Action::Offer {
                offer,
                request,
                operator,
                queue,
                channel,
                deadline,
            } => {
                let open = OpenOffer {
                    operator,
                    request,
                    queue,
                    channel,
                    deadline,
                };
                if self.listened() {
                    let event = self.offer_event(offer, &open).await;
                    self.publish(self.name_of(operator), event);
                }
                self.offers.insert(offer, open);
            }
            Action::Withdraw {
                offer,
                request,
                operator,
                reason,
            } => {
                self.offers.remove(&offer);
                if !self.listened() {
                    return;
                }
                let reason = match reason {
                    WithdrawReason::TakenElsewhere => "taken_elsewhere",
                    WithdrawReason::Timeout => "timeout",
                    WithdrawReason::Abandoned => "abandoned",
                    WithdrawReason::Missed => "missed",
                    WithdrawReason::Reconfigured => "reconfigured",
                };
                let event = OperatorEvent::Withdrawn {
                    offer: offer.0,
                    request: request.0 as i64,
                    reason,
                };
                self.publish(self.name_of(operator), event);
            }
            Action::Assign {
                request,
                operator,
                queue,
                channel,
                via,
            } => {
                self.offers
                    .retain(|_, o| !(o.request == request && o.operator == operator));
                if self.listened() {
                    self.publish_assigned(request, operator, queue, channel, via).await;
                }
                self.settle_accepts(request, operator);
            }
            Action::RefuseAccept { offer, .. } => {
                self.offers.remove(&offer);
                if let Some((_, _, reply)) = self.accepting.remove(&offer) {
                    let _ = reply.send(AcceptOutcome::NotOpen);
                }
            }
            _ => {}
        }
    }

    async fn obey(&mut self, command: Command) {
        match command {
            Command::Accept { offer, operator, reply } => match self.offers.get(&offer) {
                None => {
                    let _ = reply.send(AcceptOutcome::NotOpen);
                }
                Some(open) if open.operator != operator => {
                    let _ = reply.send(AcceptOutcome::NotYours);
                }
                Some(open) if open.channel == Channel::Phone => {
                    let _ = reply.send(AcceptOutcome::PhoneOnly);
                }
                Some(open) => {
                    self.accepting.insert(offer, (operator, open.request, reply));
                    self.engine.send(Event::Accepted { offer });
                }
            },
            Command::Decline { offer, operator, reply } => {
                let outcome = match self.offers.get(&offer) {
                    None => AcceptOutcome::NotOpen,
                    Some(open) if open.operator != operator => AcceptOutcome::NotYours,
                    Some(open) if open.channel == Channel::Phone => AcceptOutcome::PhoneOnly,
                    Some(open) => {
                        let request = open.request.0 as i64;
                        self.offers.remove(&offer);
                        self.engine.send(Event::Declined { offer });
                        AcceptOutcome::Declined { request }
                    }
                };
                let _ = reply.send(outcome);
            }
            Command::Pending { operator, reply } => {
                let mut open: Vec<(&OfferId, &OpenOffer)> =
                    self.offers.iter().filter(|(_, o)| o.operator == operator).collect();
                open.sort_by_key(|(id, _)| **id);
                let mut events = Vec::with_capacity(open.len());
                for (offer, o) in open {
                    events.push(self.offer_event(*offer, o).await);
                }
                let _ = reply.send(events);
            }
        }
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
