//! The SIP core: one task that owns all SIP state (transactions, bindings,
//! nonce counts, throttle) and every outbound socket handle. It reads the UDP
//! socket itself; TCP connection tasks feed it framed messages. It parses,
//! screens, dispatches and answers. No locks.

mod authenticate;
mod dialogs;
mod dispatch;
pub mod harness;
mod invite;
mod outbound;
mod reconfigure;
mod refer;
mod register;
mod reinvite;
mod upkeep;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use super::auth::throttle::AuthThrottle;
use super::auth::verifier::DigestVerifier;
use super::calls::{CallCommand, IncomingCalls};
use super::flood::FloodGuard;
use super::reachability::Reachability;
use super::registrar::Bindings;
use super::settings::SipSettings;
use super::stats::{Direction, Ending, SipStats};
use super::transaction::client::ClientTransactions;
use super::transaction::key::TransactionKey;
use super::transaction::server::ServerTransactions;
use super::transport::{Inbound, Outbound, Path};
use super::trunk::Trunks;
use super::wire::{Message, ParseError, ResponseBuilder, reason_phrase};

pub use reconfigure::Reconfiguration;

/// Which contact a qualify OPTIONS is probing.
#[derive(Clone, Debug)]
pub struct Probe {
    pub operator: String,
    pub uri: String,
}

pub struct SipCore {
    pub(super) settings: SipSettings,
    pub(super) outbound: Outbound,
    pub(super) servers: ServerTransactions,
    pub(super) clients: ClientTransactions<Probe>,
    pub(super) verifier: DigestVerifier,
    pub(super) throttle: AuthThrottle,
    pub(super) bindings: Bindings,
    pub(super) bindings_dirty: bool,
    pub(super) reachability: Reachability,
    pub(super) trunks: Trunks,
    pub(super) calls: Box<dyn IncomingCalls>,
    pub(super) serial: u64,
    pub(super) next_qualify: Option<Instant>,
    pub(super) flood: FloodGuard,
    /// Operator id by lowercase SIP username.
    pub(super) usernames: HashMap<String, String>,
    /// Inbound calls telephony is handling, by Call-ID.
    pub(super) inbound_legs: HashMap<String, dialogs::InboundLeg>,
    /// Re-INVITEs in answered dialogs, open or awaiting their ACK, by Call-ID.
    pub(super) reoffers: HashMap<String, reinvite::Reoffer>,
    /// BYEs, CANCELs and NOTIFYs we sent, by branch; the purpose is the Call-ID.
    pub(super) byes: ClientTransactions<String>,
    /// INVITEs we sent to operators, by branch; the purpose is the fork's Call-ID.
    pub(super) invites: ClientTransactions<String>,
    /// Operator legs by telephony's leg name, and their forks by Call-ID.
    pub(super) outbound_legs: HashMap<String, outbound::OutboundLeg>,
    pub(super) forks: outbound::ForkIndex,
    pub(super) stats: SipStats,
    /// Tags without the clock's nanoseconds (the fuzzing harness: the same
    /// inputs give the same tags).
    pub(super) fixed_tags: bool,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl SipCore {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: SipSettings,
        outbound: Outbound,
        verifier: DigestVerifier,
        bindings: Bindings,
        reachability: Reachability,
        trunks: Trunks,
        calls: Box<dyn IncomingCalls>,
    ) -> SipCore {
        let throttle = AuthThrottle::new(settings.auth_failures, settings.auth_window, settings.auth_ban);
        let next_qualify = settings.qualify_interval.map(|i| Instant::now() + i);
        let usernames = operators_by_username(&settings);
        let flood = FloodGuard::new(settings.flood_limit);
        SipCore {
            flood,
            usernames,
            settings,
            outbound,
            servers: ServerTransactions::default(),
            clients: ClientTransactions::default(),
            verifier,
            throttle,
            bindings,
            bindings_dirty: false,
            reachability,
            trunks,
            calls,
            inbound_legs: HashMap::new(),
            reoffers: HashMap::new(),
            byes: ClientTransactions::default(),
            invites: ClientTransactions::default(),
            outbound_legs: HashMap::new(),
            forks: HashMap::new(),
            serial: 0,
            next_qualify,
            stats: SipStats::default(),
            fixed_tags: false,
        }
    }

    /// Runs until `stop` fires or every transport is gone; saves registrations on the way out.
    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut reconfigurations: mpsc::UnboundedReceiver<Reconfiguration>,
        mut commands: mpsc::UnboundedReceiver<CallCommand>,
        mut stop: oneshot::Receiver<oneshot::Sender<()>>,
    ) {
        self.announce_restored_bindings();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut housekeeping = tokio::time::interval(Duration::from_secs(1));
        let udp = self.outbound.udp.first().map(|(socket, _)| socket.clone());
        let mut datagram = vec![0u8; 65536];
        let mut streams_open = true;
        let done = loop {
            tokio::select! {
                received = receive(udp.as_deref(), &mut datagram) => {
                    if let Ok((length, peer)) = received {
                        self.message(&datagram[..length], Path::Udp { socket: 0, peer });
                    }
                    // Drain what else is queued before looking at timers again.
                    for _ in 0..256 {
                        let Some(Ok((length, peer))) = udp.as_ref().map(|s| s.try_recv_from(&mut datagram)) else { break };
                        self.message(&datagram[..length], Path::Udp { socket: 0, peer });
                    }
                }
                message = inbound.recv(), if streams_open => match message {
                    Some(message) => self.inbound(message),
                    None => streams_open = false,
                },
                Some(change) = reconfigurations.recv() => self.reconfigure(change),
                Some(command) = commands.recv() => {
                    self.call_command(command);
                    // Under load telephony sends in bursts: take what is queued.
                    for _ in 0..256 {
                        let Ok(command) = commands.try_recv() else { break };
                        self.call_command(command);
                    }
                }
                _ = tick.tick() => self.poll_transactions(Instant::now()),
                _ = housekeeping.tick() => self.housekeeping(Instant::now()),
                reply = &mut stop => break reply.ok(),
            }
        };
        self.save_bindings();
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    fn inbound(&mut self, message: Inbound) {
        match message {
            Inbound::Connected { connection, writer } => {
                self.outbound.tcp.insert(connection, writer);
            }
            Inbound::Closed { connection } => {
                self.outbound.tcp.remove(&connection);
            }
            Inbound::Message { bytes, path } => self.message(&bytes, path),
            Inbound::Unframable { head, path, too_large } => {
                if too_large {
                    let headers = super::wire::parse::head_headers(&head);
                    if headers.count("via") > 0 {
                        let tag = self.new_tag();
                        let bytes = ResponseBuilder::new(&headers, 513, reason_phrase(513), &tag).build();
                        self.outbound.send(path, bytes);
                    }
                } else {
                    self.message(&head, path);
                }
                if let Path::Tcp { connection, .. } = path {
                    self.outbound.close(connection);
                }
            }
        }
    }

    /// Handles one message; a bug that panics on it costs that message only,
    /// not the SIP layer.
    fn message(&mut self, bytes: &[u8], path: Path) {
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle_message(bytes, path)));
        if handled.is_err() {
            tracing::error!(peer = %path.peer(), bytes = bytes.len(), "SIP message handling panicked; message dropped");
        }
    }

    fn handle_message(&mut self, bytes: &[u8], path: Path) {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let source = path.peer().ip();
        if self.trunks.by_source(source).is_none() && !self.flood.allow(source, Instant::now()) {
            return;
        }
        match super::wire::parse_message(bytes, self.settings.max_message) {
            Ok(Message::Request(request)) => self.request(*request, path),
            Ok(Message::Response(response)) => self.response(response),
            Err(ParseError::Reject(rejection)) => {
                tracing::debug!(peer = %path.peer(), status = rejection.status, reason = %rejection.reason, "SIP request rejected");
                let tag = self.new_tag();
                let reason = if rejection.status == 400 {
                    rejection.reason.as_str()
                } else {
                    reason_phrase(rejection.status)
                };
                let bytes = ResponseBuilder::new(&rejection.headers, rejection.status, reason, &tag).build();
                self.outbound.send(path, bytes);
            }
            Err(ParseError::Drop(why)) => tracing::debug!(peer = %path.peer(), %why, "SIP message dropped"),
        }
    }

    fn response(&mut self, response: super::wire::Response) {
        if response.cseq_method.eq_ignore_ascii_case("INVITE") {
            self.invite_response(&response);
            return;
        }
        let Some(branch) = response.branch.as_deref() else {
            return;
        };
        if let Some(probe) = self.clients.answer(branch, response.code) {
            self.stats
                .transaction(Direction::Out, &response.cseq_method, Ending::Final(response.code));
            self.probe_answered(probe, response.code);
        }
        if self.byes.answer(branch, response.code).is_some() {
            self.stats
                .transaction(Direction::Out, &response.cseq_method, Ending::Final(response.code));
        }
    }

    /// A tag or branch suffix unique within this process.
    pub(super) fn new_tag(&mut self) -> String {
        self.serial += 1;
        let nanos = match self.fixed_tags {
            true => 0,
            false => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0),
        };
        format!("{:x}{:05x}", self.serial, nanos & 0xfffff)
    }

    /// Sends a response and records it in the request's transaction.
    pub(super) fn reply(&mut self, key: &TransactionKey, path: Path, code: u16, bytes: Vec<u8>) {
        if let Some(method) = self.servers.respond(key, code, &bytes, Instant::now()) {
            self.stats.transaction(Direction::In, method, Ending::Final(code));
        }
        self.outbound.send(path, bytes);
    }

    fn poll_transactions(&mut self, now: Instant) {
        let outbound = &self.outbound;
        self.servers.poll(now, |path, bytes| {
            outbound.send(path, bytes.to_vec());
        });
        let timed_out = self.clients.poll(now, |path, bytes| {
            outbound.send(path, bytes.to_vec());
        });
        for call_id in self.byes.poll(now, |path, bytes| {
            outbound.send(path, bytes.to_vec());
        }) {
            self.stats.transaction(Direction::Out, "BYE", Ending::Timeout);
            tracing::info!(%call_id, "our BYE, CANCEL or NOTIFY went unanswered");
        }
        let unanswered = self.invites.poll(now, |path, bytes| {
            outbound.send(path, bytes.to_vec());
        });
        for call_id in unanswered {
            self.stats.transaction(Direction::Out, "INVITE", Ending::Timeout);
            self.invite_timed_out(&call_id);
        }
        for probe in timed_out {
            self.stats.transaction(Direction::Out, "OPTIONS", Ending::Timeout);
            self.probe_timed_out(probe);
        }

        if self.next_qualify.is_some_and(|at| at <= now) {
            self.next_qualify = self.settings.qualify_interval.map(|i| now + i);
            self.qualify_all(now);
        }
    }
}

/// The next datagram on the UDP socket; never, without one. The core reads
/// UDP itself: no hop through a channel and another thread per datagram.
async fn receive(socket: Option<&UdpSocket>, buffer: &mut [u8]) -> std::io::Result<(usize, std::net::SocketAddr)> {
    match socket {
        Some(socket) => socket.recv_from(buffer).await,
        None => std::future::pending().await,
    }
}

/// `HashMap` of operator id by lowercase SIP username.
pub fn operators_by_username(settings: &SipSettings) -> HashMap<String, String> {
    settings
        .operators
        .iter()
        .map(|o| (o.username.to_lowercase(), o.id.clone()))
        .collect()
}
