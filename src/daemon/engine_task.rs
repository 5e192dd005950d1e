//! The one task that owns the engine. Adapters send it events and queries
//! through a channel; it feeds the engine with the wall-clock time, wakes it
//! at its next deadline, and fans actions out to subscribed adapters.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use super::names::Names;
use crate::engine::{Action, Engine, EngineSetup, Event, OperatorId, QueueId, Time};
use crate::eventlog::{EventLog, Record};

type Query = Box<dyn FnOnce(&Engine) + Send>;
type Wanted = Box<dyn Fn(&Action) -> bool + Send>;
type Subscriber = (Wanted, mpsc::UnboundedSender<Action>);

enum Command {
    Event(Event),
    Query(Query),
    Subscribe(Wanted, mpsc::UnboundedSender<Action>),
}

/// Cheap to clone; every adapter holds one.
#[derive(Clone)]
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<Command>,
    names: Arc<Names>,
}

impl EngineHandle {
    /// Hands an event to the engine; returns false once the engine has stopped.
    pub fn send(&self, event: Event) -> bool {
        self.commands.send(Command::Event(event)).is_ok()
    }

    /// Runs `read` on the engine between two events and returns its result.
    pub async fn query<R: Send + 'static>(&self, read: impl FnOnce(&Engine) -> R + Send + 'static) -> Option<R> {
        let (reply, answer) = oneshot::channel();
        let query: Query = Box::new(move |engine| {
            let _ = reply.send(read(engine));
        });
        self.commands.send(Command::Query(query)).ok()?;
        answer.await.ok()
    }

    /// The operator's name, without asking the engine task: every id an
    /// action carries is named here before the action goes out.
    pub fn operator_name(&self, id: OperatorId) -> Option<Arc<str>> {
        self.names.operator(id)
    }

    /// Like [`EngineHandle::operator_name`], for queues.
    pub fn queue_name(&self, id: QueueId) -> Option<Arc<str>> {
        self.names.queue(id)
    }

    /// Receives every action for which `wanted` is true, in order.
    pub fn subscribe(&self, wanted: impl Fn(&Action) -> bool + Send + 'static) -> mpsc::UnboundedReceiver<Action> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let _ = self.commands.send(Command::Subscribe(Box::new(wanted), sender));
        receiver
    }
}

/// The wall clock in the engine's unit.
pub fn now() -> Time {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Time(since_epoch.as_millis() as u64)
}

/// Sees every step of the engine as it happens, inside the engine task:
/// for bookkeeping that must not miss or reorder anything (metrics).
/// It must be quick and must not block.
pub trait StepObserver: Send {
    fn observe(&mut self, engine: &Engine, t: Time, event: &Event, actions: &[Action]);
}

/// Starts the engine task on the current runtime. `setup` is what `engine`
/// was built from; it opens the event log's run.
pub fn spawn(engine: Engine, setup: &EngineSetup, log: Option<EventLog>) -> EngineHandle {
    spawn_observed(engine, setup, log, Vec::new())
}

/// Like `spawn`, with observers of every step.
pub fn spawn_observed(
    engine: Engine,
    setup: &EngineSetup,
    log: Option<EventLog>,
    observers: Vec<Box<dyn StepObserver>>,
) -> EngineHandle {
    if let Some(log) = &log {
        log.append(&Record::Start {
            t: now(),
            setup: setup.clone(),
            rotation: engine.rotation_pointers(),
        });
    }
    let (commands, receiver) = mpsc::unbounded_channel();
    let names = Arc::new(Names::default());
    names.follow(&engine);
    tokio::spawn(run(engine, log, observers, receiver, names.clone()));
    EngineHandle { commands, names }
}

async fn run(
    mut engine: Engine,
    log: Option<EventLog>,
    mut observers: Vec<Box<dyn StepObserver>>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    names: Arc<Names>,
) {
    let mut subscribers: Vec<Subscriber> = Vec::new();
    let mut actions = Vec::new();
    loop {
        let wait = engine.next_deadline().map(|at| Duration::from_millis(at.since(now())));
        let command = match wait {
            Some(wait) => tokio::select! {
                command = commands.recv() => command,
                _ = tokio::time::sleep(wait) => Some(Command::Event(Event::Tick)),
            },
            None => commands.recv().await,
        };
        let Some(command) = command else { return };
        match command {
            Command::Event(event) => {
                let t = now();
                let reconfigure = matches!(event, Event::Reconfigure(_));
                if log.is_none() && observers.is_empty() {
                    engine.handle(event, t, &mut actions);
                } else {
                    engine.handle(event.clone(), t, &mut actions);
                    for observer in &mut observers {
                        observer.observe(&engine, t, &event, &actions);
                    }
                    if let Some(log) = &log {
                        log.append(&Record::Step {
                            t,
                            event,
                            actions: actions.clone(),
                        });
                    }
                }
                if reconfigure {
                    names.follow(&engine);
                }
            }
            Command::Query(query) => query(&engine),
            Command::Subscribe(wanted, sender) => subscribers.push((wanted, sender)),
        }
        for action in actions.drain(..) {
            tracing::debug!(?action, "engine action");
            subscribers.retain(|(wanted, sender)| !wanted(&action) || sender.send(action.clone()).is_ok());
        }
    }
}
