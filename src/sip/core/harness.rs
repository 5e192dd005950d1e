//! The SIP core driven by a script, one message, telephony command or clock
//! step at a time, with tags that depend only on what happened before: the
//! stateful fuzz target (`fuzz/fuzz_targets/sip_dialogs.rs`) uses it to walk
//! transactions and dialogs (INVITE, re-INVITE, REFER, BYE, CANCEL, ACK,
//! responses to calls acdd dialled). Nothing is received from sockets; what
//! the core sends goes out of a loopback UDP socket to loopback sinks.
//! A panic propagates (the daemon's `message` would catch and log it).
//!
//! A script is text: steps separated by lines `%%`. A step is a datagram
//! (from the trunk address, or after a first line `@3` from the stranger's)
//! or a command line: `!respond N STATUS`, `!hangup N`, `!notifycaller N
//! STATUS`, `!reoffer N STATUS` (N picks a call the core handed over),
//! `!dial L`, `!drop L`, `!notify L STATUS`, `!reofferleg L STATUS` (leg
//! `acdd-gL`, dialled through the gateway at the trunk address), `!replace
//! L M` (leg `acdd-gL` replacing the answered leg `acdd-gM`, else ringing
//! operator alice), `!wait MS`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::SipCore;
use crate::config::Config;
use crate::sip::auth::nonce::NonceSigner;
use crate::sip::auth::verifier::DigestVerifier;
use crate::sip::calls::{
    CallCommand, CallUpdate, CallVerdict, DialTarget, IncomingCall, IncomingCalls, LegEvent, ReofferDialog,
};
use crate::sip::reachability::Reachability;
use crate::sip::registrar::bindings::Bindings;
use crate::sip::service::{add_accounts, trunks_of};
use crate::sip::settings::SipSettings;
use crate::sip::transport::{Outbound, Path};

/// Steps of a script beyond this are ignored.
const MOST_STEPS: usize = 64;

/// The SDP "telephony" answers and dials with.
const SDP: &[u8] = b"v=0\r\no=acdd 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// What the core told "telephony": the Call-IDs of the calls it handed over
/// and the legs it reported on, in order.
#[derive(Default)]
pub struct Heard {
    pub calls: Vec<String>,
    pub legs: Vec<(String, LegEvent)>,
    pub updates: usize,
}

struct Recorder(Arc<Mutex<Heard>>);

impl IncomingCalls for Recorder {
    fn offer(&mut self, call: &IncomingCall) -> CallVerdict {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .calls
            .push(call.call_id.clone());
        CallVerdict::Pending
    }

    fn update(&mut self, _call_id: &str, _update: CallUpdate) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).updates += 1;
    }

    fn leg(&mut self, leg: &str, event: LegEvent) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .legs
            .push((leg.to_string(), event));
    }
}

#[doc(hidden)]
pub struct CoreHarness {
    core: SipCore,
    heard: Arc<Mutex<Heard>>,
    now: Instant,
}

impl CoreHarness {
    /// A core for `config` whose sends leave from `socket` (bound on
    /// loopback inside a Tokio runtime).
    pub fn new(config: &Config, socket: Arc<UdpSocket>) -> CoreHarness {
        let mut settings = SipSettings::from_config(config);
        settings.flood_limit = 0;
        settings.qualify_interval = None;
        let mut outbound = Outbound::default();
        let local = socket
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 5060)));
        outbound.udp.push((socket, local));
        let mut verifier = DigestVerifier::new(
            settings.realm.clone(),
            settings.algorithms.clone(),
            NonceSigner::new([7; 32], settings.nonce_lifetime),
        );
        add_accounts(&mut verifier, &settings);
        let trunks = trunks_of(&settings);
        let heard = Arc::new(Mutex::new(Heard::default()));
        let calls = Box::new(Recorder(heard.clone()));
        let reachability = Reachability::new(None, HashMap::new());
        let mut core = SipCore::new(
            settings,
            outbound,
            verifier,
            Bindings::default(),
            reachability,
            trunks,
            calls,
        );
        core.fixed_tags = true;
        CoreHarness {
            core,
            heard,
            now: Instant::now(),
        }
    }

    /// Plays `script` (see above), at most `MOST_STEPS` steps.
    pub fn play(&mut self, script: &str, trunk: SocketAddr, stranger: SocketAddr) {
        for step in script.split("\n%%\n").take(MOST_STEPS) {
            match step.strip_prefix('!') {
                Some(line) => self.command_line(line, trunk),
                None => match step.strip_prefix("@3\n") {
                    Some(message) => self.datagram(message.as_bytes(), stranger),
                    None => self.datagram(step.as_bytes(), trunk),
                },
            }
        }
    }

    fn command_line(&mut self, line: &str, gateway: SocketAddr) {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("");
        let number = words.next().and_then(|w| w.parse::<usize>().ok()).unwrap_or(0);
        let status = words.next().and_then(|w| w.parse::<u16>().ok()).unwrap_or(200);
        let call = self.heard(|h| (!h.calls.is_empty()).then(|| h.calls[number % h.calls.len()].clone()));
        let leg = format!("acdd-g{}", number % 4);
        let command = match verb {
            "respond" => call.map(|call_id| CallCommand::Respond {
                call_id,
                status,
                sdp: (status < 300).then(|| SDP.to_vec()),
            }),
            "hangup" => call.map(|call_id| CallCommand::Hangup { call_id }),
            "notifycaller" => call.map(|call_id| CallCommand::NotifyCaller { call_id, status }),
            "reoffer" => call.map(|call_id| CallCommand::AnswerReoffer {
                dialog: ReofferDialog::Caller(call_id),
                status,
                sdp: Some(SDP.to_vec()),
            }),
            "dial" => Some(CallCommand::Dial {
                leg,
                target: DialTarget::Gateway {
                    address: gateway,
                    uri: format!("sip:+4930999{}@{gateway}", number % 10),
                },
                caller: "sip:+4930555000@127.0.0.1".into(),
                caller_name: None,
                sdp: SDP.to_vec(),
                referred_by: None,
            }),
            "replace" => Some(CallCommand::Dial {
                leg,
                target: DialTarget::Replacing {
                    operator: "alice".into(),
                    replacing: format!("acdd-g{}", status % 4),
                },
                caller: "sip:+4930555000@127.0.0.1".into(),
                caller_name: None,
                sdp: SDP.to_vec(),
                referred_by: None,
            }),
            "drop" => Some(CallCommand::DropLeg { leg }),
            "notify" => Some(CallCommand::Notify { leg, status }),
            "reofferleg" => Some(CallCommand::AnswerReoffer {
                dialog: ReofferDialog::Leg(leg),
                status,
                sdp: Some(SDP.to_vec()),
            }),
            "wait" => {
                self.advance(Duration::from_millis(number.min(70_000) as u64));
                None
            }
            _ => None,
        };
        if let Some(command) = command {
            self.command(command);
        }
    }

    /// One datagram from `peer`.
    pub fn datagram(&mut self, bytes: &[u8], peer: SocketAddr) {
        self.core.handle_message(bytes, Path::Udp { socket: 0, peer });
    }

    /// One command as telephony would send it.
    pub fn command(&mut self, command: CallCommand) {
        self.core.call_command(command);
    }

    /// Moves the core's transaction clock on (retransmissions, timeouts).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.poll_transactions(self.now);
        self.core.prune_reoffers(self.now);
    }

    /// What the core reported so far.
    pub fn heard<T>(&self, read: impl FnOnce(&Heard) -> T) -> T {
        read(&self.heard.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Open dialogs and transactions, to check nothing grows without bound.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (
            self.core.inbound_legs.len(),
            self.core.outbound_legs.len(),
            self.core.servers.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays a committed fuzzing seed; the trunk is 127.0.0.1 (as in the
    /// example configuration), the stranger 127.0.0.3.
    fn play(script: &str) -> CoreHarness {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        let config = crate::config::parse(
            std::path::Path::new("acdd.toml"),
            include_str!("../../../config/acdd.toml"),
        )
        .unwrap();
        let bind = |ip: &str| {
            let socket = std::net::UdpSocket::bind((ip, 0)).unwrap();
            socket.set_nonblocking(true).unwrap();
            socket
        };
        let (trunk, stranger) = (bind("127.0.0.1"), bind("127.0.0.3"));
        let socket = Arc::new(UdpSocket::from_std(bind("127.0.0.1")).unwrap());
        let mut core = CoreHarness::new(&config, socket);
        core.play(script, trunk.local_addr().unwrap(), stranger.local_addr().unwrap());
        core.advance(Duration::from_secs(80));
        core
    }

    #[test]
    fn a_trunk_call_is_answered_reoffered_and_ended_by_the_caller() {
        let core = play(include_str!("../../../fuzz/seeds/sip_dialogs/call_reinvite_bye"));
        // Handed over once; then the ACK, the re-offer and the BYE (the
        // re-offer's ACK ends in the core).
        assert_eq!(core.heard(|h| (h.calls.len(), h.updates)), (1, 3));
        assert_eq!(core.sizes(), (0, 0, 0));
    }

    #[test]
    fn a_dialled_call_is_answered_reoffered_referred_and_dropped() {
        let core = play(include_str!("../../../fuzz/seeds/sip_dialogs/dial_answer_refer_bye"));
        // Answered, Reoffered, Referred: three reports on the leg.
        assert_eq!(core.heard(|h| h.legs.len()), 3);
        assert_eq!(core.sizes(), (0, 0, 0));
    }

    #[test]
    fn a_dialled_call_is_replaced_by_a_new_one_to_the_same_phone() {
        let core = play(include_str!("../../../fuzz/seeds/sip_dialogs/dial_answer_replace"));
        // Both legs answered (the second at the first's phone, by the
        // tags the seed expects), both dropped.
        let heard = core.heard(|h| h.legs.clone());
        let answered: Vec<&str> = heard
            .iter()
            .filter(|(_, event)| matches!(event, LegEvent::Answered { .. }))
            .map(|(leg, _)| leg.as_str())
            .collect();
        assert_eq!(answered, ["acdd-g1", "acdd-g2"], "{heard:?}");
        assert_eq!(core.sizes(), (0, 0, 0));
    }

    #[test]
    fn an_invite_accepting_no_sdp_is_refused_before_telephony_hears_of_it() {
        let core = play(include_str!("../../../fuzz/seeds/sip_dialogs/call_accept_identity"));
        // c1 accepts text/plain only: 406 in the core; c3's tel: URI is
        // refused there too. c2 (application/*, a multi-valued
        // P-Asserted-Identity) reaches telephony.
        assert_eq!(core.heard(|h| h.calls.clone()), ["c2@trunk"]);
        assert_eq!(core.sizes(), (0, 0, 0));
    }
}
