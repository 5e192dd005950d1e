//! Property tests: random operators, queues and event sequences at random
//! times. After every event the engine's books must balance (`audit`), no
//! operator may exceed capacity, no request may be assigned twice or offered
//! once assigned; at the end, every request is held, missed or gone.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;

#[derive(Clone, Debug)]
enum Step {
    Arrive {
        queue: usize,
        channel: usize,
        responsible: Option<usize>,
    },
    Accept(usize),
    Decline(usize),
    Fail(usize),
    Answer(usize),
    Close(usize),
    Abandon(usize),
    Presence {
        operator: usize,
        online: bool,
    },
    Workday {
        operator: usize,
        state: usize,
    },
    Reachable {
        operator: usize,
        reachable: bool,
    },
    InUse {
        operator: usize,
        in_use: bool,
    },
    Transfer {
        request: usize,
        operator: Option<usize>,
        queue: usize,
    },
    Pickup {
        operator: usize,
    },
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..4usize, proptest::option::weighted(0.2, 0..5usize))
            .prop_map(|(queue, channel, responsible)| Step::Arrive { queue, channel, responsible }),
        4 => any::<usize>().prop_map(Step::Accept),
        1 => any::<usize>().prop_map(Step::Decline),
        1 => any::<usize>().prop_map(Step::Fail),
        1 => any::<usize>().prop_map(Step::Answer),
        3 => any::<usize>().prop_map(Step::Close),
        1 => any::<usize>().prop_map(Step::Abandon),
        1 => (0..5usize, any::<bool>()).prop_map(|(operator, online)| Step::Presence { operator, online }),
        1 => (0..5usize, 0..4usize).prop_map(|(operator, state)| Step::Workday { operator, state }),
        1 => (0..5usize, any::<bool>()).prop_map(|(operator, reachable)| Step::Reachable { operator, reachable }),
        1 => (0..5usize, any::<bool>()).prop_map(|(operator, in_use)| Step::InUse { operator, in_use }),
        1 => (any::<usize>(), proptest::option::of(0..5usize), 0..3usize)
            .prop_map(|(request, operator, queue)| Step::Transfer { request, operator, queue }),
        1 => (0..5usize).prop_map(|operator| Step::Pickup { operator }),
        3 => (0..40_000u64).prop_map(Step::Wait),
    ]
}

fn mode(i: usize) -> Mode {
    [Mode::InOrder, Mode::Evenly, Mode::All, Mode::LongestIdle][i % 4]
}

fn counts(i: usize) -> LimitCounts {
    [LimitCounts::Open, LimitCounts::Unanswered, LimitCounts::Answered][i % 3]
}

type QueueShape = (usize, usize, Vec<usize>, bool, Option<u32>);

#[derive(Clone, Debug)]
struct World {
    operators: usize,
    /// (mode, limit counting, members, availability check, limit) per queue.
    queues: Vec<QueueShape>,
    capacities: Vec<(u32, u32, bool)>,
}

fn world() -> impl Strategy<Value = World> {
    (1..=5usize).prop_flat_map(|operators| {
        let queue = (
            0..4usize,
            0..3usize,
            proptest::sample::subsequence((0..operators).collect::<Vec<_>>(), 1..=operators),
            any::<bool>(),
            proptest::option::of(1..3u32),
        );
        let capacity = (1..3u32, 1..4u32, any::<bool>());
        (
            Just(operators),
            proptest::collection::vec(queue, 1..=3),
            proptest::collection::vec(capacity, operators),
        )
            .prop_map(|(operators, queues, capacities)| World {
                operators,
                queues,
                capacities,
            })
    })
}

fn build(world: &World) -> EngineSetup {
    let names: Vec<String> = (0..world.operators).map(|i| format!("o{i}")).collect();
    let operators = names
        .iter()
        .zip(&world.capacities)
        .map(|(name, (phone, chat, blocks))| {
            let mut o = OperatorSetup::new(name);
            o.capacity = PerChannel([Some(*phone), Some(*chat), Some(2), None]);
            o.phone_blocks_others = *blocks;
            o.groups = vec!["all".into()];
            o
        })
        .collect();
    let queues = world
        .queues
        .iter()
        .enumerate()
        .map(|(i, (m, c, members, check, max))| {
            let members: Vec<&str> = members.iter().map(|m| names[*m].as_str()).collect();
            let mut q = QueueSetup::new(&format!("q{i}"), &Channel::ALL, &members, mode(*m));
            q.check_availability = *check;
            q.max_per_operator = *max;
            q.limit_counts = counts(*c);
            q.pickup_allowed = true;
            q.wrap_up_ms = 3_000;
            q.responsible_wait_ms = 10_000;
            q.offer_timeout_ms = PerChannel([10_000, 20_000, 20_000, 20_000]);
            q.max_wait_ms = Some(120_000);
            q.retry_ms = 2_000;
            // Overflow only forwards, never back: q0 → q1 → q2 → hang up.
            q.missed = if i + 1 < world.queues.len() {
                MissedAction::Queue(format!("q{}", i + 1))
            } else {
                MissedAction::Hangup
            };
            q
        })
        .collect();
    EngineSetup { operators, queues }
}

/// Tracks what the actions say and checks them against each other.
#[derive(Default)]
struct Ledger {
    offers: HashMap<OfferId, RequestId>,
    assigned: HashMap<RequestId, OperatorId>,
    ended: HashSet<RequestId>,
    arrived: Vec<RequestId>,
}

impl Ledger {
    fn record(&mut self, actions: &[Action]) -> Result<(), TestCaseError> {
        for action in actions {
            match action {
                Action::Offer { offer, request, .. } => {
                    prop_assert!(
                        !self.assigned.contains_key(request),
                        "offer of an assigned request {request}"
                    );
                    prop_assert!(!self.ended.contains(request), "offer of an ended request");
                    self.offers.insert(*offer, *request);
                }
                Action::Withdraw { offer, .. } | Action::RefuseAccept { offer, .. } => {
                    self.offers.remove(offer);
                }
                Action::Assign { request, operator, .. } => {
                    prop_assert!(
                        self.assigned.insert(*request, *operator).is_none(),
                        "{request} assigned twice without a transfer"
                    );
                }
                Action::Note(Note::Transferred { request, .. }) => {
                    self.assigned.remove(request);
                }
                Action::Note(Note::Closed { request, .. }) | Action::Note(Note::Abandoned { request, .. }) => {
                    self.assigned.remove(request);
                    self.ended.insert(*request);
                }
                Action::Note(Note::Declined { offer, .. }) | Action::Note(Note::NoAnswer { offer, .. }) => {
                    self.offers.remove(offer);
                }
                Action::RunMissed { request, .. } => {
                    prop_assert!(!self.assigned.contains_key(request));
                    self.ended.insert(*request);
                }
                _ => {}
            }
        }
        // Offers resolved by an accept disappear from the engine: keep only live ones.
        self.offers
            .retain(|_, r| !self.assigned.contains_key(r) && !self.ended.contains(r));
        Ok(())
    }

    fn pick<T: Copy>(items: &[T], index: usize) -> Option<T> {
        (!items.is_empty()).then(|| items[index % items.len()])
    }
}

fn run(world: World, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut sim = Sim::new(build(&world));
    let mut ledger = Ledger::default();
    let mut next = 1u64;
    let operator = |sim: &Sim, i: usize| sim.op(&format!("o{}", i % world.operators));
    for step in steps {
        let mut offers: Vec<OfferId> = ledger.offers.keys().copied().collect();
        offers.sort();
        let mut held: Vec<RequestId> = ledger.assigned.keys().copied().collect();
        held.sort();
        let mut open: Vec<RequestId> = ledger
            .arrived
            .iter()
            .copied()
            .filter(|r| !ledger.ended.contains(r))
            .collect();
        open.sort();
        let event = match step {
            Step::Arrive {
                queue,
                channel,
                responsible,
            } => {
                let request = RequestId(next);
                next += 1;
                ledger.arrived.push(request);
                Event::Arrived(Arrival {
                    request,
                    channel: Channel::ALL[channel],
                    queue: sim.q(&format!("q{}", queue % world.queues.len())),
                    responsible: responsible.map(|r| operator(&sim, r)),
                    waiting_since: None,
                })
            }
            Step::Accept(i) => match Ledger::pick(&offers, i) {
                Some(offer) => Event::Accepted { offer },
                None => continue,
            },
            Step::Decline(i) => match Ledger::pick(&offers, i) {
                Some(offer) => Event::Declined { offer },
                None => continue,
            },
            Step::Fail(i) => match Ledger::pick(&offers, i) {
                Some(offer) => Event::Failed {
                    offer,
                    reason: FailReason::Unreachable,
                },
                None => continue,
            },
            Step::Answer(i) => match Ledger::pick(&held, i) {
                Some(request) => Event::Answered { request },
                None => continue,
            },
            Step::Close(i) => match Ledger::pick(&held, i) {
                Some(request) => Event::Closed { request },
                None => continue,
            },
            Step::Abandon(i) => match Ledger::pick(&open, i) {
                Some(request) => Event::Abandoned { request },
                None => continue,
            },
            Step::Presence { operator: o, online } => Event::Presence {
                operator: operator(&sim, o),
                presence: if online { Presence::Online } else { Presence::Away },
            },
            Step::Workday { operator: o, state } => Event::Workday {
                operator: operator(&sim, o),
                workday: match state {
                    0 => Workday::Started,
                    1 => Workday::Paused { reason: "p".into() },
                    2 => Workday::Ended,
                    _ => Workday::Started,
                },
            },
            Step::Reachable { operator: o, reachable } => Event::PhoneReachable {
                operator: operator(&sim, o),
                reachable,
            },
            Step::InUse { operator: o, in_use } => Event::PhoneInUse {
                operator: operator(&sim, o),
                in_use,
            },
            Step::Transfer {
                request,
                operator: o,
                queue,
            } => match Ledger::pick(&held, request) {
                Some(request) => Event::Transfer {
                    request,
                    to: match o {
                        Some(o) => TransferTarget::Operator(operator(&sim, o)),
                        None => TransferTarget::Queue(sim.q(&format!("q{}", queue % world.queues.len()))),
                    },
                },
                None => continue,
            },
            Step::Pickup { operator: o } => Event::Pickup {
                operator: operator(&sim, o),
                target: PickupTarget::Group,
            },
            Step::Wait(ms) => {
                sim.now = sim.now.plus_ms(ms);
                Event::Tick
            }
        };
        let out = sim.send(event);
        ledger.record(&out)?;
    }
    // Time runs on with nobody answering: every request still waiting must end.
    for _ in 0..120 {
        let out = sim.advance(5_000);
        ledger.record(&out)?;
    }
    for view in sim.engine.request_views() {
        prop_assert_eq!(view.state, "assigned", "{:?} is stuck", view);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_traffic(world in world(), steps in proptest::collection::vec(step(), 1..120)) {
        run(world, steps)?;
    }
}

proptest! {
    /// With everybody equally available and taking every request at once,
    /// `evenly` hands out requests so that no two operators differ by more than one.
    #[test]
    fn evenly_is_fair_within_one_request(operators in 1..8usize, requests in 1..60usize) {
        let names: Vec<String> = (0..operators).map(|i| format!("o{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut sim = Sim::new(setup(&refs, phone_queue(&refs, Mode::Evenly)));
        sim.ready_all(&refs);
        let mut got: HashMap<String, usize> = HashMap::new();
        for _ in 0..requests {
            let (_, out) = sim.arrive("q", Channel::Phone);
            let (offer, who) = sim.offer(&out);
            *got.entry(who).or_default() += 1;
            let out = sim.accept(offer);
            let request = sim.assigned(&out)[0].0;
            sim.send(Event::Closed { request });
        }
        let most = names.iter().map(|n| got.get(n).copied().unwrap_or(0)).max().unwrap();
        let least = names.iter().map(|n| got.get(n).copied().unwrap_or(0)).min().unwrap();
        prop_assert!(most - least <= 1, "{got:?}");
    }
}
