//! Mail and form requests: assigned at once, without an offer. A known
//! customer's request goes to their responsible; otherwise the queue's
//! rotation picks the next operator whose workday is started and not paused
//! (and who has room); when nobody is, the rotation goes on in order anyway.

use super::Engine;
use super::action::{Action, AssignVia, MissedReason};
use super::ids::RequestId;
use super::setup::Mode;

impl Engine {
    pub(crate) fn rotate(&mut self, id: RequestId, to_responsible: bool, out: &mut Vec<Action>) {
        let request = &self.requests[&id];
        let (queue_id, channel) = (request.queue, request.channel);
        let queue = &mut self.queues[queue_id.0 as usize];
        if let Some(responsible) = request
            .responsible
            .filter(|_| to_responsible && queue.setup.responsible_first)
        {
            self.assign(id, responsible, AssignVia::Responsible, out);
            return;
        }
        let eligible = queue.eligible.get(channel);
        let chosen = match (queue.setup.mode, queue.pointer) {
            (Mode::InOrder, _) | (_, None) => eligible.iter().next().copied(),
            (_, Some(pointer)) => eligible
                .range(pointer + 1..)
                .next()
                .or_else(|| eligible.iter().next())
                .copied(),
        };
        let position = chosen.or_else(|| {
            // Nobody available: in order anyway, skipping only operators removed by a reload.
            let len = queue.members.len() as u32;
            let start = match (queue.setup.mode, queue.pointer) {
                (Mode::InOrder, _) | (_, None) => 0,
                (_, Some(pointer)) => pointer + 1,
            };
            (0..len)
                .map(|step| (start + step) % len)
                .find(|p| !self.operators[queue.member(*p).0 as usize].removed)
        });
        let Some(position) = position else {
            // Every member was removed by a reload: nobody can take it.
            self.requests.remove(&id);
            out.push(Action::RunMissed {
                request: id,
                queue: queue_id,
                action: queue.setup.missed.clone(),
                reason: MissedReason::NoOperators,
            });
            return;
        };
        queue.pointer = Some(position);
        let operator = queue.member(position);
        self.assign(id, operator, AssignVia::Rotation, out);
    }
}
