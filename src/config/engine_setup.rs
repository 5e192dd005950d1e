//! Turns a validated `Config` into the engine's `EngineSetup`.

use super::schema::{self, Config};
use crate::engine::{self, EngineSetup, OperatorSetup, PerChannel, QueueSetup};

fn seconds_ms(seconds: i64) -> u64 {
    (seconds.max(0) as u64) * 1000
}

impl Config {
    pub fn engine_setup(&self) -> EngineSetup {
        let operators = self
            .operators
            .iter()
            .map(|o| OperatorSetup {
                name: o.id.get_ref().clone(),
                capacity: PerChannel([
                    Some(*o.capacity.phone.get_ref()),
                    Some(*o.capacity.chat.get_ref()),
                    o.capacity.mail.as_ref().map(|c| *c.get_ref()),
                    o.capacity.form.as_ref().map(|c| *c.get_ref()),
                ]),
                phone_blocks_others: o.phone_blocks_others,
                groups: o.groups.clone(),
            })
            .collect();
        let queues = self.queues.iter().map(queue_setup).collect();
        EngineSetup { operators, queues }
    }
}

fn queue_setup(q: &schema::Queue) -> QueueSetup {
    let ring_ms = (*q.ring_count.get_ref() as f64 * q.ring_interval_seconds.get_ref() * 1000.0) as u64;
    let offer_ms = seconds_ms(*q.offer_timeout_seconds.get_ref());
    QueueSetup {
        name: q.name.get_ref().clone(),
        channels: q.channels.get_ref().clone(),
        operators: q.operators.iter().map(|o| o.get_ref().clone()).collect(),
        mode: match q.mode {
            schema::Mode::InOrder => engine::Mode::InOrder,
            schema::Mode::Evenly => engine::Mode::Evenly,
            schema::Mode::All => engine::Mode::All,
            schema::Mode::LongestIdle => engine::Mode::LongestIdle,
        },
        offer_timeout_ms: PerChannel([ring_ms, offer_ms, offer_ms, offer_ms]),
        check_availability: q.check_availability,
        max_per_operator: q.max_per_operator.as_ref().map(|m| *m.get_ref() as u32),
        limit_counts: match q.limit_counts {
            schema::LimitCounts::Open => engine::LimitCounts::Open,
            schema::LimitCounts::Unanswered => engine::LimitCounts::Unanswered,
            schema::LimitCounts::Answered => engine::LimitCounts::Answered,
        },
        responsible_first: q.responsible_first,
        responsible_wait_ms: seconds_ms(*q.responsible_wait_seconds.get_ref()),
        transfer_changes_responsible: q.transfer_changes_responsible,
        pickup_allowed: q.pickup,
        wrap_up_ms: seconds_ms(*q.wrap_up_seconds.get_ref()),
        max_wait_ms: q.max_wait_seconds.as_ref().map(|s| seconds_ms(*s.get_ref())),
        max_length: q.max_length.as_ref().map(|m| *m.get_ref() as u32),
        retry_ms: seconds_ms(*q.retry_seconds.get_ref()),
        service_level_ms: seconds_ms(*q.service_level_seconds.get_ref()),
        auto_pause_after: q.auto_pause_after.as_ref().map(|n| *n.get_ref() as u32),
        missed: {
            let missed = q.missed.get_ref();
            let text =
                |field: &Option<toml::Spanned<String>>| field.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default();
            match missed.action {
                schema::MissedKind::Voicemail => engine::MissedAction::Voicemail,
                schema::MissedKind::Forward => engine::MissedAction::Forward(text(&missed.to)),
                schema::MissedKind::Queue => engine::MissedAction::Queue(text(&missed.queue)),
                schema::MissedKind::Hangup => engine::MissedAction::Hangup,
            }
        },
    }
}
