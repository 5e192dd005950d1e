//! Distribution modes: which eligible member(s) of a queue get a request next.
//!
//! Reads the queue's eligibility index only, so each choice costs O(log n)
//! plus the members this request already tried in the current round.

use super::ids::{Channel, OperatorId};
use super::operator::OperatorState;
use super::queue::QueueState;
use super::request::Request;
use super::setup::Mode;

/// Members to offer `request` to now: at most one, except in `all` mode.
pub(crate) fn choose(queue: &QueueState, operators: &[OperatorState], request: &Request) -> Vec<OperatorId> {
    let channel = request.channel;
    let untried = |position: &u32| !request.tried.contains(&queue.member(*position));
    match queue.setup.mode {
        Mode::InOrder => queue
            .eligible
            .get(channel)
            .iter()
            .find(|p| untried(p))
            .map(|p| vec![queue.member(*p)])
            .unwrap_or_default(),
        Mode::Evenly => evenly(queue, operators, request, channel)
            .map(|o| vec![o])
            .unwrap_or_default(),
        Mode::LongestIdle => queue
            .idle_order
            .get(channel)
            .iter()
            .find(|(_, p)| untried(p))
            .map(|(_, p)| vec![queue.member(*p)])
            .unwrap_or_default(),
        Mode::All => queue
            .eligible
            .get(channel)
            .iter()
            .map(|p| queue.member(*p))
            .filter(|o| !request.tried.contains(o))
            .collect(),
    }
}

/// Continue after whoever got the last request; with no pointer yet (a new
/// queue, or the pointer's member removed), the least loaded goes first.
fn evenly(queue: &QueueState, operators: &[OperatorState], request: &Request, channel: Channel) -> Option<OperatorId> {
    let eligible = queue.eligible.get(channel);
    let untried = |position: &&u32| !request.tried.contains(&queue.member(**position));
    match queue.pointer {
        Some(pointer) => eligible
            .range(pointer + 1..)
            .find(untried)
            .or_else(|| eligible.range(..=pointer).find(untried))
            .map(|p| queue.member(*p)),
        None => eligible
            .iter()
            .filter(untried)
            .min_by_key(|p| (operators[queue.member(**p).0 as usize].total_load(), **p))
            .map(|p| queue.member(*p)),
    }
}
