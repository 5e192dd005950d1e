//! Routing decisions per second of the sans-IO engine, at scale.
//!
//! Steady state: every operator holds one call and many requests wait. One
//! iteration is one full turn of the wheel: an operator closes a call (the
//! engine picks the longest-waiting request they may take and offers it), the
//! operator accepts (the engine assigns and withdraws nothing else), and a new
//! request arrives (the engine finds nobody free and queues it). That is three
//! routing decisions. Sizes go up tenfold so the cost per decision shows
//! whether it grows with n (it must stay O(log n)).

use std::hint::black_box;

use acdd::engine::{
    Action, Arrival, Channel, Engine, EngineSetup, Event, Mode, OperatorId, OperatorSetup, Presence, QueueId,
    QueueSetup, RequestId, Time, Workday,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

struct Wheel {
    engine: Engine,
    now: Time,
    /// The call each operator holds now.
    holding: Vec<RequestId>,
    queues: Vec<QueueId>,
    next_request: u64,
    next_operator: usize,
    out: Vec<Action>,
}

impl Wheel {
    /// `operators` operators spread over `queues` queues (each operator in two
    /// queues when there are several), all busy, with `waiting` requests queued.
    fn new(operators: usize, queues: usize, waiting: usize, mode: Mode) -> Wheel {
        let names: Vec<String> = (0..operators).map(|i| format!("op{i}")).collect();
        let mut members: Vec<Vec<&str>> = vec![Vec::new(); queues];
        for (i, name) in names.iter().enumerate() {
            members[i % queues].push(name);
            if queues > 1 {
                members[(i / queues + i + 1) % queues].push(name);
            }
        }
        let queue_setups = members
            .iter()
            .enumerate()
            .map(|(q, members)| {
                let mut setup = QueueSetup::new(&format!("q{q}"), &[Channel::Phone], members, mode);
                setup.max_wait_ms = None;
                setup
            })
            .collect();
        let setup = EngineSetup {
            operators: names.iter().map(|n| OperatorSetup::new(n)).collect(),
            queues: queue_setups,
        };
        let mut engine = Engine::new(setup);
        let queues: Vec<QueueId> = (0..queues)
            .map(|q| engine.queue_id(&format!("q{q}")).unwrap())
            .collect();
        let mut out = Vec::new();
        let now = Time::from_secs(1_000_000);
        for i in 0..operators {
            let operator = OperatorId(i as u32);
            engine.handle(
                Event::PhoneReachable {
                    operator,
                    reachable: true,
                },
                now,
                &mut out,
            );
            engine.handle(
                Event::Workday {
                    operator,
                    workday: Workday::Started,
                },
                now,
                &mut out,
            );
            engine.handle(
                Event::Presence {
                    operator,
                    presence: Presence::Online,
                },
                now,
                &mut out,
            );
        }
        let mut wheel = Wheel {
            engine,
            now,
            holding: vec![RequestId(0); operators],
            queues,
            next_request: 1,
            next_operator: 0,
            out,
        };
        // Fill every operator with a call, then queue the waiting requests.
        while wheel.holding.contains(&RequestId(0)) {
            wheel.arrive();
            wheel.accept_offers();
        }
        // Filling may leave a few waiting already (queues whose members were all busy).
        while wheel
            .engine
            .queue_views()
            .iter()
            .map(|q| q.waiting as usize)
            .sum::<usize>()
            < waiting
        {
            for _ in 0..1_000 {
                wheel.arrive();
            }
        }
        wheel
    }

    fn arrive(&mut self) {
        let request = RequestId(self.next_request);
        self.next_request += 1;
        let queue = self.queues[(request.0 as usize) % self.queues.len()];
        let arrival = Arrival {
            request,
            channel: Channel::Phone,
            queue,
            responsible: None,
            waiting_since: None,
        };
        self.engine.handle(Event::Arrived(arrival), self.now, &mut self.out);
    }

    fn accept_offers(&mut self) {
        let offers: Vec<_> = self
            .out
            .drain(..)
            .filter_map(|a| match a {
                Action::Offer { offer, .. } => Some(offer),
                _ => None,
            })
            .collect();
        for offer in offers {
            self.engine.handle(Event::Accepted { offer }, self.now, &mut self.out);
            for action in self.out.drain(..) {
                if let Action::Assign { request, operator, .. } = action {
                    self.holding[operator.0 as usize] = request;
                }
            }
        }
    }

    /// Close, offer, accept, arrive: three routing decisions.
    fn turn(&mut self) {
        self.now = self.now.plus_ms(1);
        let operator = self.next_operator;
        self.next_operator = (self.next_operator + 1) % self.holding.len();
        let request = self.holding[operator];
        self.engine.handle(Event::Closed { request }, self.now, &mut self.out);
        self.accept_offers();
        self.arrive();
        self.out.clear();
    }
}

fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(3));
    group.sample_size(20);
    for (operators, queues, waiting) in [(1_000, 1, 10_000), (10_000, 1, 100_000), (10_000, 100, 100_000)] {
        for mode in [Mode::InOrder, Mode::Evenly] {
            let label = format!("{operators}ops_{queues}q_{waiting}waiting_{mode:?}");
            let mut wheel = Wheel::new(operators, queues, waiting, mode);
            group.bench_function(BenchmarkId::new("turn", label), |b| {
                b.iter(|| black_box(&mut wheel).turn())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
