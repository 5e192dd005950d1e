//! Legs acdd originates (`CallCommand::Dial`): to an operator, one INVITE
//! per registered contact (forks of one leg); to the outbound gateway, one
//! INVITE to a number or SIP URI. Their responses, ACK (of the 2xx, and
//! hop-by-hop of failures), CANCEL, and BYE both ways. A leg may replace
//! an answered fork of another (`DialTarget::Replacing`, RFC 3891: the
//! attended transfer's hand-over). The first 2xx wins
//! the leg and the other forks are cancelled; a 2xx that arrives after the
//! leg was won or dropped gets ACK then BYE. In-dialog requests acdd sends
//! later on a fork (BYE, NOTIFY from `refer.rs`) take the fork's next CSeq.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::SipCore;
use super::dispatch::ALLOW;
use crate::sip::calls::{DialTarget, LegEvent};
use crate::sip::stats::{Direction, Ending};
use crate::sip::transport::Path;
use crate::sip::wire::Response;
use crate::sip::wire::name_addr::{parse_name_addr, quoted_display};
use crate::sip::wire::route::route_lines;
use crate::sip::wire::uri::{Uri, parse_uri};

/// How long an INVITE may go without a final answer (the engine's offer
/// deadline normally drops the leg long before).
const INVITE_TIMEOUT: Duration = Duration::from_secs(180);
const DROP_TIMEOUT: Duration = Duration::from_secs(32);

#[derive(Clone, Debug, PartialEq, Eq)]
enum ForkState {
    Ringing,
    /// 2xx received and ACKed: the peer's To (with tag) and target.
    Answered {
        to: String,
        target: String,
        ack: Vec<u8>,
    },
    Done(u16),
}

pub(super) struct Fork {
    pub(super) call_id: String,
    branch: String,
    pub(super) path: Path,
    pub(super) local: SocketAddr,
    target: String,
    from: String,
    to: String,
    state: ForkState,
    /// The CSeq of the last request acdd sent in this dialog.
    cseq: u32,
    /// The dialog's route set (the 2xx's Record-Route, reversed): Route
    /// headers of the requests in it. Empty before the answer.
    routes: Vec<String>,
}

#[derive(Default)]
pub(in crate::sip) struct OutboundLeg {
    pub(super) forks: Vec<Fork>,
    answered: bool,
    dropped: bool,
}

/// Where each fork belongs: Call-ID → (leg, fork index).
pub(in crate::sip) type ForkIndex = HashMap<String, (String, usize)>;

/// Over UDP a contact with a literal address is reached at that address
/// (RFC 3261 §8.1.2); otherwise, and over connections, where it registered
/// from. A phone behind NAT registers a private address (RFC 1918, shared
/// 100.64/10, link-local, IPv6 ULA) that acdd cannot reach: when the
/// REGISTER came from another address, the phone is reached there, through
/// the mapping its NAT keeps open (as Asterisk's `rewrite_contact` does).
fn contact_path(uri: &str, path: Path) -> Path {
    let Path::Udp { socket, peer: source } = path else {
        return path;
    };
    let Ok(Uri::Sip(sip)) = parse_uri(uri) else { return path };
    let host = sip.host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if is_private(ip) && ip != source.ip() => path,
        Ok(ip)
            if sip
                .param("transport")
                .flatten()
                .is_none_or(|t| t.eq_ignore_ascii_case("udp")) =>
        {
            Path::Udp {
                socket,
                peer: SocketAddr::new(ip, sip.port.unwrap_or(5060)),
            }
        }
        _ => path,
    }
}

/// An address that only means something inside its own network.
fn is_private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_link_local() || (a == 100 && (b & 0xc0) == 64)
        }
        std::net::IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

fn user_part(caller: &str) -> String {
    let user: String = caller
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+')
        .collect();
    if user.is_empty() { "anonymous".into() } else { user }
}

impl Fork {
    /// The next in-dialog request of an answered fork (remote target, their
    /// To with tag, a fresh CSeq); `None` if the fork is not answered.
    pub(super) fn in_dialog(&mut self, method: &str, branch: &str) -> Option<String> {
        let ForkState::Answered { to, target, .. } = &self.state else {
            return None;
        };
        let (to, target) = (to.clone(), target.clone());
        self.cseq += 1;
        Some(self.request(method, &target, branch, &to, self.cseq))
    }

    /// Where the phone of this answered fork is, and the `Replaces` value
    /// that names its dialog as the phone knows it (its tag is the local
    /// one, to-tag; ours the remote one, from-tag).
    fn replaces(&self) -> Option<(String, Path, String)> {
        let ForkState::Answered { to, target, .. } = &self.state else {
            return None;
        };
        let tag_of = |text: &str| parse_name_addr(text).ok().and_then(|n| n.tag().map(str::to_string));
        let (theirs, ours) = (tag_of(to)?, tag_of(&self.from)?);
        let value = format!("{};to-tag={theirs};from-tag={ours}", self.call_id);
        Some((target.clone(), self.path, value))
    }

    pub(super) fn answered(&self) -> bool {
        matches!(self.state, ForkState::Answered { .. })
    }

    /// Whether an in-dialog request from the peer names this answered
    /// fork's dialog: its To tag is ours, its From tag the peer's.
    pub(super) fn in_this_dialog(&self, from_tag: Option<&str>, to_tag: Option<&str>) -> bool {
        let ForkState::Answered { to, .. } = &self.state else {
            return false;
        };
        let tag_of = |text: &str| parse_name_addr(text).ok().and_then(|n| n.tag().map(str::to_string));
        let (ours, theirs) = (tag_of(&self.from), tag_of(to));
        ours.is_some() && ours.as_deref() == to_tag && theirs.as_deref() == from_tag
    }

    fn request(&self, method: &str, uri: &str, branch: &str, to: &str, cseq: u32) -> String {
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{} {};branch={branch};rport\r\nMax-Forwards: 70\r\n{}From: {}\r\n\
             To: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nUser-Agent: acdd\r\nContent-Length: 0\r\n\r\n",
            self.path.transport().name(),
            self.local,
            route_lines(self.routes.iter().map(String::as_str)),
            self.from,
            self.call_id
        )
    }
}

impl SipCore {
    pub(super) fn dial(
        &mut self,
        leg: String,
        target: &DialTarget,
        (caller, caller_name): (&str, Option<&str>),
        sdp: Vec<u8>,
        referred_by: Option<&str>,
    ) {
        let replaced = match target {
            DialTarget::Replacing { replacing, .. } => self
                .outbound_legs
                .get(replacing)
                .and_then(|o| o.forks.iter().find_map(Fork::replaces)),
            _ => None,
        };
        let contacts: Vec<(String, Path)> = match target {
            DialTarget::Replacing { .. } if replaced.is_some() => {
                replaced.iter().map(|(uri, path, _)| (uri.clone(), *path)).collect()
            }
            DialTarget::Operator(operator) | DialTarget::Replacing { operator, .. } => self
                .bindings
                .of(operator)
                .iter()
                .filter(|b| b.alive)
                .map(|b| (b.uri.clone(), contact_path(&b.uri, b.path)))
                .collect(),
            DialTarget::Gateway { address, uri } => match self.outbound.udp.is_empty() {
                true => Vec::new(),
                false => vec![(
                    uri.clone(),
                    Path::Udp {
                        socket: 0,
                        peer: *address,
                    },
                )],
            },
        };
        let mut extra = referred_by.map_or(String::new(), |by| format!("Referred-By: {by}\r\n"));
        if let Some((_, _, replaces)) = &replaced {
            extra.push_str(&format!("Replaces: {replaces}\r\n"));
        }
        let display = caller_name
            .and_then(quoted_display)
            .map_or(String::new(), |name| format!("{name} "));
        let mut outbound = OutboundLeg::default();
        let now = Instant::now();
        for (target, path) in contacts {
            let Some(local) = self.outbound.local_for(path) else {
                continue;
            };
            let call_id = format!("{leg}.{}@acdd", outbound.forks.len());
            let branch = format!("z9hG4bK-i{}", self.new_tag());
            let from = format!("{display}<sip:{}@{local}>;tag={}", user_part(caller), self.new_tag());
            let fork = Fork {
                call_id: call_id.clone(),
                branch: branch.clone(),
                path,
                local,
                to: format!("<{target}>"),
                target,
                from,
                state: ForkState::Ringing,
                cseq: 1,
                routes: Vec::new(),
            };
            let head = fork.request("INVITE", &fork.target, &branch, &fork.to, 1);
            let head = head.replace(
                "Content-Length: 0\r\n\r\n",
                &format!(
                    "Contact: <sip:acdd@{local}>\r\nAllow: {ALLOW}\r\n{extra}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
                    sdp.len()
                ),
            );
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&sdp);
            self.outbound.send(path, bytes.clone());
            self.invites
                .start(branch, bytes, path, INVITE_TIMEOUT, call_id.clone(), now);
            self.forks.insert(call_id, (leg.clone(), outbound.forks.len()));
            outbound.forks.push(fork);
        }
        match target {
            _ if !outbound.forks.is_empty() => {}
            DialTarget::Operator(operator) | DialTarget::Replacing { operator, .. } => {
                tracing::info!(%leg, %operator, "no registered contact to ring");
                self.calls.leg(&leg, LegEvent::Failed { status: 0 });
                return;
            }
            DialTarget::Gateway { .. } => {
                tracing::warn!(%leg, "no UDP transport to reach the outbound gateway");
                self.calls.leg(&leg, LegEvent::Failed { status: 503 });
                return;
            }
        }
        match target {
            DialTarget::Operator(operator) => {
                tracing::debug!(%leg, %operator, contacts = outbound.forks.len(), "ringing operator")
            }
            DialTarget::Replacing { operator, replacing } => match replaced {
                Some(_) => tracing::info!(%leg, %operator, %replacing, "replacing the operator's call"),
                None => tracing::info!(%leg, %operator, %replacing, "nothing to replace: ringing operator"),
            },
            DialTarget::Gateway { address, uri } => {
                tracing::info!(%leg, %address, %uri, "dialling through the outbound gateway")
            }
        }
        self.outbound_legs.insert(leg, outbound);
    }

    /// CANCEL what rings, BYE what answered.
    pub(super) fn drop_leg(&mut self, leg: &str) {
        let Some(outbound) = self.outbound_legs.get_mut(leg) else {
            return;
        };
        outbound.dropped = true;
        let mut sends = Vec::new();
        for fork in &mut outbound.forks {
            match &fork.state {
                ForkState::Ringing => {
                    let cancel = fork.request("CANCEL", &fork.target, &fork.branch, &fork.to, 1);
                    sends.push((
                        fork.branch.clone(),
                        fork.path,
                        cancel.into_bytes(),
                        fork.call_id.clone(),
                    ));
                }
                ForkState::Answered { .. } => {
                    let branch = format!("z9hG4bK-d{}-{}", fork.call_id.len(), fork.branch);
                    let bye = fork.in_dialog("BYE", &branch).unwrap_or_default();
                    sends.push((branch, fork.path, bye.into_bytes(), fork.call_id.clone()));
                    fork.state = ForkState::Done(200);
                }
                ForkState::Done(_) => {}
            }
        }
        for (branch, path, bytes, call_id) in sends {
            self.outbound.send(path, bytes.clone());
            self.byes
                .start(branch, bytes, path, DROP_TIMEOUT, call_id, Instant::now());
        }
        self.forget_if_done(leg);
    }

    /// A response to one of our INVITEs.
    pub(super) fn invite_response(&mut self, response: &Response) {
        let Some(branch) = response.branch.as_deref() else {
            return;
        };
        if self.invites.answer(branch, response.code).is_some() {
            self.stats
                .transaction(Direction::Out, "INVITE", Ending::Final(response.code));
        }
        if response.code < 200 {
            return;
        }
        let Some((leg, index)) = self.forks.get(&response.call_id).cloned() else {
            return;
        };
        let Some(outbound) = self.outbound_legs.get_mut(&leg) else {
            return;
        };
        let fork = &mut outbound.forks[index];
        if fork.branch != branch {
            return;
        }
        if response.code >= 300 {
            // Hop-by-hop ACK of a failure: same branch, their To.
            let ack = fork.request("ACK", &fork.target, &fork.branch, &response.to, 1);
            self.outbound.send(fork.path, ack.into_bytes());
            if fork.state == ForkState::Ringing {
                fork.state = ForkState::Done(response.code);
                self.fork_failed(&leg);
            }
            return;
        }
        match &fork.state {
            ForkState::Answered { ack, .. } => {
                self.outbound.send(fork.path, ack.clone());
                return;
            }
            ForkState::Done(_) => return,
            ForkState::Ringing => {}
        }
        let target = response.contact.clone().unwrap_or_else(|| fork.target.clone());
        fork.routes = response.record_route.iter().rev().cloned().collect();
        let ack_branch = format!("z9hG4bK-a{}", fork.branch);
        let ack = fork.request("ACK", &target, &ack_branch, &response.to, 1).into_bytes();
        self.outbound.send(fork.path, ack.clone());
        fork.state = ForkState::Answered {
            to: response.to.clone(),
            target,
            ack,
        };
        if outbound.answered || outbound.dropped {
            tracing::info!(%leg, call_id = %response.call_id, "late 2xx: ACK then BYE");
            let branch = format!("z9hG4bK-d{}", fork.branch);
            if let Some(bye) = fork.in_dialog("BYE", &branch) {
                let bye = bye.into_bytes();
                let (path, call_id) = (fork.path, fork.call_id.clone());
                fork.state = ForkState::Done(200);
                self.outbound.send(path, bye.clone());
                self.byes
                    .start(branch, bye, path, DROP_TIMEOUT, call_id, Instant::now());
            }
            self.forget_if_done(&leg);
            return;
        }
        outbound.answered = true;
        let sdp = response.body.clone();
        // The other contacts stop ringing.
        let mut cancels = Vec::new();
        for (i, other) in outbound.forks.iter().enumerate() {
            if i != index && other.state == ForkState::Ringing {
                let cancel = other.request("CANCEL", &other.target, &other.branch, &other.to, 1);
                cancels.push((
                    other.branch.clone(),
                    other.path,
                    cancel.into_bytes(),
                    other.call_id.clone(),
                ));
            }
        }
        for (branch, path, bytes, call_id) in cancels {
            self.outbound.send(path, bytes.clone());
            self.byes
                .start(branch, bytes, path, DROP_TIMEOUT, call_id, Instant::now());
        }
        self.calls.leg(&leg, LegEvent::Answered { sdp });
    }

    /// An INVITE that never got a final answer counts as 408.
    pub(super) fn invite_timed_out(&mut self, call_id: &str) {
        let Some((leg, index)) = self.forks.get(call_id).cloned() else {
            return;
        };
        let Some(outbound) = self.outbound_legs.get_mut(&leg) else {
            return;
        };
        if outbound.forks[index].state == ForkState::Ringing {
            outbound.forks[index].state = ForkState::Done(408);
            self.fork_failed(&leg);
        }
    }

    /// After a fork failed: when none is left ringing or answered, the leg failed.
    fn fork_failed(&mut self, leg: &str) {
        let Some(outbound) = self.outbound_legs.get(leg) else {
            return;
        };
        let mut status = None;
        for fork in &outbound.forks {
            match fork.state {
                ForkState::Ringing | ForkState::Answered { .. } => return,
                ForkState::Done(code) => {
                    if matches!(code, 486 | 600 | 603) || status.is_none() {
                        status = Some(code);
                    }
                }
            }
        }
        let report = !outbound.dropped && !outbound.answered;
        self.forget_if_done(leg);
        if report {
            self.calls.leg(
                leg,
                LegEvent::Failed {
                    status: status.unwrap_or(408),
                },
            );
        }
    }

    fn forget_if_done(&mut self, leg: &str) {
        let done = self
            .outbound_legs
            .get(leg)
            .is_some_and(|o| o.forks.iter().all(|f| matches!(f.state, ForkState::Done(_))));
        if done && let Some(outbound) = self.outbound_legs.remove(leg) {
            for fork in outbound.forks {
                self.forks.remove(&fork.call_id);
            }
        }
    }

    /// BYE from an operator on an answered leg; false if it is not ours.
    pub(super) fn operator_bye(&mut self, call_id: &str) -> bool {
        let Some((leg, index)) = self.forks.get(call_id).cloned() else {
            return false;
        };
        let Some(outbound) = self.outbound_legs.get_mut(&leg) else {
            return false;
        };
        if !matches!(outbound.forks[index].state, ForkState::Answered { .. }) {
            return false;
        }
        outbound.forks[index].state = ForkState::Done(200);
        self.forget_if_done(&leg);
        self.calls.leg(&leg, LegEvent::Ended);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(peer: &str) -> Path {
        Path::Udp {
            socket: 0,
            peer: peer.parse().unwrap(),
        }
    }

    #[test]
    fn a_contact_is_reached_at_its_address_unless_it_is_private_behind_nat() {
        let registered_from = udp("203.0.113.5:40312");
        // A public (or loopback) literal address: there, as RFC 3261 says.
        assert_eq!(
            contact_path("sip:alice@198.51.100.7:5062", registered_from),
            udp("198.51.100.7:5062")
        );
        // A private one seen from elsewhere: where the REGISTER came from.
        for private in [
            "sip:alice@192.168.1.20:5060",
            "sip:alice@10.0.0.8",
            "sip:alice@100.64.1.1",
            "sip:alice@[fd00::5]:5060",
        ] {
            assert_eq!(contact_path(private, registered_from), registered_from, "{private}");
        }
        // A private one the REGISTER came from itself (same LAN): its port.
        assert_eq!(
            contact_path("sip:alice@192.168.1.20:5070", udp("192.168.1.20:5070")),
            udp("192.168.1.20:5070")
        );
        assert_eq!(
            contact_path("sip:alice@192.168.1.20:5062", udp("192.168.1.20:5070")),
            udp("192.168.1.20:5062")
        );
        // Names and TCP: where it registered from.
        assert_eq!(
            contact_path("sip:alice@phone.example", registered_from),
            registered_from
        );
        assert_eq!(
            contact_path("sip:alice@198.51.100.7;transport=tcp", registered_from),
            registered_from
        );
    }
}
