//! Read-only views of the engine's state for the admin API and metrics.
//! They cost O(n) and are meant for humans and scrapes, not hot paths.

use super::Engine;
use super::event::{Presence, Workday};
use super::ids::{Channel, PerChannel, QueueId, RequestId};
use super::request::Phase;
use super::time::Time;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueView {
    pub name: String,
    pub channels: Vec<Channel>,
    /// Requests nobody holds and nobody has on offer.
    pub waiting: u32,
    /// Requests on offer to somebody now.
    pub offered: u32,
    pub waiting_by_channel: PerChannel<u32>,
    pub offered_by_channel: PerChannel<u32>,
    pub oldest_waiting_since: Option<Time>,
    pub operators: Vec<OperatorView>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorView {
    pub name: String,
    /// `offline`, `not_working`, `paused`, `away`, `do_not_disturb`,
    /// `wrap_up`, `busy` (holds something), `ringing` (only offers), `idle`.
    pub state: &'static str,
    pub pause_reason: Option<String>,
    pub phone_reachable: bool,
    /// Offers plus assignments per channel.
    pub load: PerChannel<u32>,
    pub assignments_total: u64,
    pub no_answers_total: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestView {
    pub id: RequestId,
    pub channel: Channel,
    pub queue: String,
    /// `reserved` (for the responsible), `waiting`, `offered`, `assigned`.
    pub state: &'static str,
    pub operator: Option<String>,
    pub waiting_since: Time,
}

impl Engine {
    pub fn queue_views(&self) -> Vec<QueueView> {
        let mut views: Vec<QueueView> = self
            .queues
            .iter()
            .filter(|q| !q.removed)
            .map(|q| QueueView {
                name: q.setup.name.clone(),
                channels: q.setup.channels.clone(),
                waiting: 0,
                offered: 0,
                waiting_by_channel: PerChannel::default(),
                offered_by_channel: PerChannel::default(),
                oldest_waiting_since: None,
                operators: q.members.iter().map(|m| self.operator_view(m.0 as usize)).collect(),
            })
            .collect();
        let index_of: std::collections::HashMap<QueueId, usize> = self
            .queues
            .iter()
            .enumerate()
            .filter(|(_, q)| !q.removed)
            .enumerate()
            .map(|(view, (queue, _))| (QueueId(queue as u32), view))
            .collect();
        for request in self.requests.values().filter(|r| r.holder().is_none()) {
            let Some(view) = index_of.get(&request.queue).map(|i| &mut views[*i]) else {
                continue;
            };
            if request.offers.is_empty() {
                view.waiting += 1;
                *view.waiting_by_channel.get_mut(request.channel) += 1;
            } else {
                view.offered += 1;
                *view.offered_by_channel.get_mut(request.channel) += 1;
            }
            if view.oldest_waiting_since.is_none_or(|t| request.waiting_since < t) {
                view.oldest_waiting_since = Some(request.waiting_since);
            }
        }
        views
    }

    /// Every operator's presence and workday, by name.
    pub fn operator_statuses(&self) -> Vec<(String, Presence, Workday)> {
        self.operators
            .iter()
            .filter(|o| !o.removed)
            .map(|o| (o.setup.name.clone(), o.presence, o.workday.clone()))
            .collect()
    }

    pub fn operator_views(&self) -> Vec<OperatorView> {
        (0..self.operators.len())
            .filter(|i| !self.operators[*i].removed)
            .map(|i| self.operator_view(i))
            .collect()
    }

    fn operator_view(&self, index: usize) -> OperatorView {
        let o = &self.operators[index];
        let holds = o.load.0.iter().sum::<u32>() > o.queue_load.values().map(|l| l.offers).sum::<u32>();
        let state = match (&o.workday, o.presence) {
            (_, Presence::Offline) => "offline",
            _ if holds || o.calls_outside > 0 => "busy",
            _ if o.total_load() > 0 => "ringing",
            (Workday::Paused { .. }, _) => "paused",
            (Workday::NotStarted | Workday::Ended, _) => "not_working",
            (_, Presence::Away) => "away",
            (_, Presence::DoNotDisturb) => "do_not_disturb",
            _ if o.wrapping_up => "wrap_up",
            _ => "idle",
        };
        OperatorView {
            name: o.setup.name.clone(),
            state,
            pause_reason: match &o.workday {
                Workday::Paused { reason } => Some(reason.clone()),
                _ => None,
            },
            phone_reachable: o.phone_reachable,
            load: o.load,
            assignments_total: o.assignments_total,
            no_answers_total: o.no_answers_total,
        }
    }

    pub fn request_view(&self, id: RequestId) -> Option<RequestView> {
        let r = self.requests.get(&id)?;
        let (state, operator) = match r.phase {
            Phase::Reserved { .. } if r.offers.is_empty() => ("reserved", None),
            Phase::Assigned { operator, .. } => ("assigned", Some(operator)),
            _ if !r.offers.is_empty() => ("offered", None),
            _ => ("waiting", None),
        };
        Some(RequestView {
            id,
            channel: r.channel,
            queue: self.queues[r.queue.0 as usize].setup.name.clone(),
            state,
            operator: operator.map(|o| self.operators[o.0 as usize].setup.name.clone()),
            waiting_since: r.waiting_since,
        })
    }

    /// Every request the engine holds, oldest first.
    pub fn request_views(&self) -> Vec<RequestView> {
        let mut ids: Vec<_> = self.requests.values().map(|r| (r.key(), r.id)).collect();
        ids.sort();
        ids.into_iter().filter_map(|(_, id)| self.request_view(id)).collect()
    }

    pub fn request_count(&self) -> usize {
        self.requests.len()
    }
}
