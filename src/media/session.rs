//! The handle the telephony layer holds for one call's media: legs, their SDP
//! offer/answer state, and commands to the session task (play, bridge,
//! record, silence, remove). Signalling state lives here, on the caller's
//! side, so SDP errors come back at once as `Result`s (488 material); the
//! task only sees the outcome (where to send, which payload types).
//!
//! Codec rule: acdd relays without transcoding, so a call has one codec
//! (with each leg's own payload numbers). The first leg whose negotiation
//! completes fixes it. A leg offered before that gets the pending offer's
//! formats from the other leg (pass-through: the operator may pick any codec
//! the caller offered); an answer made before that picks G.711, which acdd
//! can also play and record.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::call_recording::CallRecorder;
use super::codec::{Format, G711, PT_TELEPHONE_EVENT};
use super::playout::{PlayEnd, PlaySource};
use super::record::{Recorder, Recording};
use super::sdp::{self, AudioDescription, Direction, LocalDescription, Negotiated, OtherMedia};
use super::stats::{LegCounters, LegStats};
use super::task::{self, Command, LegCodec};
use super::{LegId, MediaError, MediaService, random_u64};

/// One call's media. Dropping it ends the session task and frees its ports
/// shortly after; [`MediaSession::stop`] does so and waits for it.
#[derive(Debug)]
pub struct MediaSession {
    service: MediaService,
    sdp_session_id: u64,
    commands: mpsc::UnboundedSender<Command>,
    task: Option<JoinHandle<()>>,
    legs: BTreeMap<LegId, LegState>,
    next_leg: u32,
    codec: Option<Format>,
    removed: LegStats,
}

#[derive(Debug)]
struct LegState {
    port: u16,
    counters: Arc<LegCounters>,
    /// The leg's entry in the service's counter registry.
    registry_key: u64,
    sdp_version: u64,
    remote: Option<AudioDescription>,
    /// A remote offer not answered yet.
    pending_offer: Option<AudioDescription>,
    /// acdd's offer, not answered yet.
    offered: Option<Vec<Format>>,
    negotiated: Option<Negotiated>,
    /// The direction and `m=` lines of acdd's last answer, to repeat it.
    answered: Option<(Direction, Vec<Option<OtherMedia>>)>,
}

impl MediaSession {
    pub(crate) fn start(service: MediaService) -> MediaSession {
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(task::run(receiver));
        MediaSession {
            service,
            sdp_session_id: random_u64() >> 12,
            commands,
            task: Some(task),
            legs: BTreeMap::new(),
            next_leg: 0,
            codec: None,
            removed: LegStats::default(),
        }
    }

    fn send(&self, command: Command) -> Result<(), MediaError> {
        self.commands.send(command).map_err(|_| MediaError::Ended)
    }

    fn leg(&self, id: LegId) -> Result<&LegState, MediaError> {
        self.legs.get(&id).ok_or(MediaError::UnknownLeg(id))
    }

    /// A new leg with its own RTP/RTCP port pair from the configured range.
    pub fn add_leg(&mut self) -> Result<LegId, MediaError> {
        let pair = self.service.pool().allocate()?;
        let id = LegId(self.next_leg);
        self.next_leg += 1;
        let counters = Arc::new(LegCounters::default());
        let port = pair.lease.rtp_port();
        self.send(Command::AddLeg {
            id,
            pair,
            counters: counters.clone(),
        })?;
        let registry_key = self.service.register(counters.clone());
        self.legs.insert(
            id,
            LegState {
                port,
                registry_key,
                counters,
                sdp_version: 1,
                remote: None,
                pending_offer: None,
                offered: None,
                negotiated: None,
                answered: None,
            },
        );
        Ok(id)
    }

    /// acdd's RTP port for the leg (RTCP is the next one).
    pub fn local_port(&self, leg: LegId) -> Result<u16, MediaError> {
        Ok(self.leg(leg)?.port)
    }

    /// The codec the call uses, once fixed.
    pub fn codec(&self) -> Option<&Format> {
        self.codec.as_ref()
    }

    /// What the leg negotiated (codec and telephone-event, its numbers).
    pub fn negotiated(&self, leg: LegId) -> Option<&Negotiated> {
        self.legs.get(&leg)?.negotiated.as_ref()
    }

    /// Where the leg's SDP asks for media (before latching corrects it).
    pub fn remote_addr(&self, leg: LegId) -> Option<SocketAddr> {
        let remote = self.legs.get(&leg)?.remote.as_ref()?;
        Some(SocketAddr::new(remote.addr?, remote.port))
    }

    /// The peer's SDP for this leg: an answer if acdd offered on it (from
    /// [`local_sdp`](Self::local_sdp)), else an offer that `local_sdp` will
    /// answer. Errors are for a 488 (see [`MediaError::sip_status`]).
    pub fn set_remote(&mut self, leg: LegId, body: &[u8]) -> Result<(), MediaError> {
        let description = sdp::parse_audio(body)?;
        let fixed = self.codec.clone();
        let state = self.legs.get_mut(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        if let Some(offered) = &state.offered {
            let negotiated = sdp::accept_answer(offered, &description)?;
            if let Some(fixed) = &fixed
                && !negotiated.codec.same_codec(fixed)
            {
                return Err(MediaError::NoCommonCodec(format!(
                    "the call uses {}, the answer chose {}",
                    fixed.describe(),
                    negotiated.codec.describe()
                )));
            }
            state.offered = None;
            state.negotiated = Some(negotiated.clone());
            if fixed.is_none() {
                self.codec = Some(negotiated.codec);
            }
        } else {
            if let Some(fixed) = &fixed {
                // Fail now, while the offer can still be refused with 488.
                sdp::answer_offer(&description, Some(fixed))?;
            }
            state.pending_offer = Some(description.clone());
        }
        state.remote = Some(description);
        self.configure(leg)
    }

    fn configure(&self, leg: LegId) -> Result<(), MediaError> {
        let state = self.leg(leg)?;
        let target = state
            .remote
            .as_ref()
            .and_then(|r| Some(SocketAddr::new(r.addr?, r.port)));
        let codec = state.negotiated.as_ref().map(|n| LegCodec {
            pt: n.codec.pt,
            clock_rate: n.codec.clock_rate,
            dtmf_pt: n.dtmf.as_ref().map(|d| d.pt),
        });
        let receives = state
            .remote
            .as_ref()
            .is_none_or(|r| matches!(r.direction, Direction::SendRecv | Direction::RecvOnly));
        self.send(Command::Configure {
            id: leg,
            target,
            codec,
            receives,
        })
    }

    /// acdd's SDP for the leg: the answer to a pending remote offer, else
    /// acdd's offer (repeated unchanged until answered), else the current
    /// description again.
    pub fn local_sdp(&mut self, leg: LegId) -> Result<Vec<u8>, MediaError> {
        let offer_formats = self.offer_formats(leg);
        let fixed = self.codec.clone();
        let addr = self.service.config().advertise;
        let session_id = self.sdp_session_id;
        let state = self.legs.get_mut(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        if let Some(offer) = state.pending_offer.take() {
            let negotiated = match sdp::answer_offer(&offer, fixed.as_ref()) {
                Ok(negotiated) => negotiated,
                Err(error) => {
                    state.pending_offer = Some(offer);
                    return Err(error);
                }
            };
            let answered = Some((offer.direction.answer(), offer.lines));
            // RFC 3264 §8: a new version only when the description changes
            // (a session refresh repeats the same one).
            let changed = state.negotiated.as_ref().map(Negotiated::formats) != Some(negotiated.formats())
                || state.answered != answered;
            if state.negotiated.is_some() && changed {
                state.sdp_version += 1;
            }
            state.negotiated = Some(negotiated.clone());
            state.answered = answered;
            if fixed.is_none() {
                self.codec = Some(negotiated.codec);
            }
            self.configure(leg)?;
        }
        let state = self.leg(leg)?;
        let (formats, direction, lines) = match (&state.negotiated, &state.offered, &state.answered) {
            (Some(negotiated), _, Some((direction, lines))) => (negotiated.formats(), *direction, lines.clone()),
            (Some(negotiated), _, None) => (negotiated.formats(), Direction::SendRecv, Vec::new()),
            (None, Some(offered), _) => (offered.clone(), Direction::SendRecv, Vec::new()),
            (None, None, _) => {
                let state = self.legs.get_mut(&leg).ok_or(MediaError::UnknownLeg(leg))?;
                state.offered = Some(offer_formats.clone());
                (offer_formats, Direction::SendRecv, Vec::new())
            }
        };
        let state = self.leg(leg)?;
        Ok(sdp::build(&LocalDescription {
            session_id,
            version: state.sdp_version,
            addr,
            port: state.port,
            formats: &formats,
            direction,
            lines: &lines,
        }))
    }

    /// Whether the leg's peer holds the call: its description says it
    /// sends only, or nothing, or gives no address (`c=0.0.0.0`).
    pub fn holds(&self, leg: LegId) -> bool {
        self.legs
            .get(&leg)
            .and_then(|state| state.remote.as_ref())
            .is_some_and(|remote| {
                remote.addr.is_none() || matches!(remote.direction, Direction::SendOnly | Direction::Inactive)
            })
    }

    /// What acdd offers on a leg that has no remote description yet.
    fn offer_formats(&self, leg: LegId) -> Vec<Format> {
        if let Some(codec) = &self.codec {
            let mut formats = vec![codec.clone()];
            let dtmf = self
                .legs
                .values()
                .filter_map(|l| l.negotiated.as_ref()?.dtmf.clone())
                .find(|d| d.clock_rate == codec.clock_rate && d.pt != codec.pt);
            let dtmf_pt = if codec.pt == PT_TELEPHONE_EVENT {
                PT_TELEPHONE_EVENT - 1
            } else {
                PT_TELEPHONE_EVENT
            };
            formats.push(dtmf.unwrap_or_else(|| Format::telephone_event(dtmf_pt, codec.clock_rate)));
            return formats;
        }
        let pending = self
            .legs
            .iter()
            .filter(|(id, _)| **id != leg)
            .find_map(|(_, l)| l.pending_offer.as_ref());
        match pending {
            Some(offer) => {
                // The other leg's offer, with telephone-event added if it has
                // none: acdd reads an operator's keys (`*1`) itself.
                let mut formats = offer.formats.clone();
                if let Some(codec) = offer.first_codec()
                    && offer.telephone_event(codec.clock_rate).is_none()
                {
                    let rate = codec.clock_rate;
                    let free = (PT_TELEPHONE_EVENT..=127)
                        .chain(96..PT_TELEPHONE_EVENT)
                        .find(|pt| formats.iter().all(|f| f.pt != *pt));
                    formats.extend(free.map(|pt| Format::telephone_event(pt, rate)));
                }
                formats
            }
            None => vec![
                Format::pcmu(),
                Format::pcma(),
                Format::telephone_event(PT_TELEPHONE_EVENT, 8000),
            ],
        }
    }

    fn g711_of(&self, leg: LegId) -> Result<(G711, u8), MediaError> {
        let negotiated = self
            .leg(leg)?
            .negotiated
            .as_ref()
            .ok_or(MediaError::NotNegotiated(leg))?;
        let law = negotiated.codec.g711().ok_or_else(|| MediaError::NotG711 {
            leg,
            codec: negotiated.codec.describe(),
        })?;
        Ok((law, negotiated.codec.pt))
    }

    /// Plays to the leg instead of what it heard before. The receiver gets
    /// how the play ended ([`PlayEnd::Finished`] after an announcement).
    pub fn play(&self, leg: LegId, source: PlaySource) -> Result<oneshot::Receiver<PlayEnd>, MediaError> {
        let (law, _) = self.g711_of(leg)?;
        let (done, receiver) = oneshot::channel();
        self.send(Command::Play {
            id: leg,
            source,
            law,
            done,
        })?;
        Ok(receiver)
    }

    /// Connects two legs both ways (ending what was played to them). The
    /// caller's outgoing stream goes on with the same SSRC and numbering.
    pub fn bridge(&self, a: LegId, b: LegId) -> Result<(), MediaError> {
        let codec_a = &self
            .leg(a)?
            .negotiated
            .as_ref()
            .ok_or(MediaError::NotNegotiated(a))?
            .codec;
        let codec_b = &self
            .leg(b)?
            .negotiated
            .as_ref()
            .ok_or(MediaError::NotNegotiated(b))?
            .codec;
        if !codec_a.same_codec(codec_b) {
            return Err(MediaError::NoCommonCodec(format!(
                "leg {a} uses {}, leg {b} uses {}",
                codec_a.describe(),
                codec_b.describe()
            )));
        }
        self.send(Command::Bridge { a, b })
    }

    /// The leg hears `sources` added up (ending what it heard before): for
    /// a third party in a call. Every leg must use the call's G.711; a
    /// `bridge` later puts two legs back on plain relay.
    pub fn mix(&self, leg: LegId, sources: &[LegId]) -> Result<(), MediaError> {
        let (law, _) = self.g711_of(leg)?;
        for source in sources {
            let (source_law, _) = self.g711_of(*source)?;
            if source_law != law {
                return Err(MediaError::NoCommonCodec(format!(
                    "leg {leg} uses {}, leg {source} uses {}",
                    law.name(),
                    source_law.name()
                )));
            }
        }
        self.send(Command::Mix {
            id: leg,
            sources: sources.to_vec(),
            law,
        })
    }

    /// The leg hears nothing from acdd (ends a play or a bridge towards it).
    pub fn silence(&self, leg: LegId) -> Result<(), MediaError> {
        self.leg(leg)?;
        self.send(Command::Silence { id: leg })
    }

    /// Records what the leg sends to a WAV file until `max` has been
    /// recorded or `max` has passed, or until [`stop_recording`](Self::stop_recording).
    /// The file is created now, so a bad path fails here.
    pub fn record(
        &self,
        leg: LegId,
        path: &Path,
        max: Duration,
    ) -> Result<oneshot::Receiver<Result<Recording, MediaError>>, MediaError> {
        let (law, pt) = self.g711_of(leg)?;
        let recorder = Recorder::create(path, law, pt, max)?;
        let (done, receiver) = oneshot::channel();
        self.send(Command::Record {
            id: leg,
            recorder,
            max,
            done,
        })?;
        Ok(receiver)
    }

    /// Records the call as the leg has it until the leg or the session
    /// ends (or `max` is recorded): a stereo WAV, left what the leg sends,
    /// right what acdd sends it. The file is created now, so a bad path
    /// fails here; the receiver gets the recording at the end.
    pub fn record_call(
        &self,
        leg: LegId,
        path: &Path,
        max: Duration,
    ) -> Result<oneshot::Receiver<Result<Recording, MediaError>>, MediaError> {
        let (law, pt) = self.g711_of(leg)?;
        let recorder = CallRecorder::create(path, law, pt, max)?;
        let (done, receiver) = oneshot::channel();
        self.send(Command::RecordCall {
            id: leg,
            recorder,
            done,
        })?;
        Ok(receiver)
    }

    /// Pauses or resumes the leg's call recording (`record_call`); the
    /// pause is silence in the file.
    pub fn pause_call_recording(&self, leg: LegId, paused: bool) -> Result<(), MediaError> {
        self.leg(leg)?;
        self.send(Command::PauseCallRecording { id: leg, paused })
    }

    /// The keys the leg's peer presses from now on (RFC 4733
    /// telephone-events; a leg without telephone-event sends none).
    pub fn watch_keys(&self, leg: LegId) -> Result<mpsc::UnboundedReceiver<char>, MediaError> {
        self.leg(leg)?;
        let (keys, pressed) = mpsc::unbounded_channel();
        self.send(Command::WatchKeys { id: leg, keys })?;
        Ok(pressed)
    }

    pub fn stop_recording(&self, leg: LegId) -> Result<(), MediaError> {
        self.leg(leg)?;
        self.send(Command::StopRecording { id: leg })
    }

    /// Ends the leg and frees its ports (done when this returns).
    pub async fn remove_leg(&mut self, leg: LegId) -> Result<(), MediaError> {
        let state = self.legs.remove(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        let (done, receiver) = oneshot::channel();
        self.send(Command::RemoveLeg { id: leg, done })?;
        let ended = receiver.await.map_err(|_| MediaError::Ended);
        self.removed += state.counters.snapshot();
        self.service.unregister(state.registry_key);
        ended
    }

    /// Ends the leg without waiting: the session task closes its sockets and
    /// gives its ports back to the pool as soon as it gets to the command.
    /// For a leg dropped while the call goes on (an operator who declined,
    /// rang out or lost a ring-all race), from code that cannot wait. The
    /// leg's counters are added to [`totals`](Self::totals) now, so a packet
    /// the task still counts before the command is missed there.
    pub fn release_leg(&mut self, leg: LegId) -> Result<(), MediaError> {
        let state = self.legs.remove(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        self.removed += state.counters.snapshot();
        self.service.unregister(state.registry_key);
        let (done, _) = oneshot::channel();
        self.send(Command::RemoveLeg { id: leg, done })
    }

    /// How long the leg has sent no RTP (for a media timeout: a caller gone
    /// without a BYE); `None` before its first packet.
    pub fn silent_for(&self, leg: LegId) -> Option<Duration> {
        self.legs.get(&leg)?.counters.silent_for(std::time::Instant::now())
    }

    /// The leg's counters now.
    pub fn stats(&self, leg: LegId) -> Option<LegStats> {
        Some(self.legs.get(&leg)?.counters.snapshot())
    }

    /// All legs' counters added up, removed legs included (for metrics).
    pub fn totals(&self) -> LegStats {
        let mut total = self.removed;
        for state in self.legs.values() {
            total += state.counters.snapshot();
        }
        total
    }

    /// Ends the session: plays end with `Stopped`, recordings are finished
    /// and delivered, and every port is back in the pool when this returns.
    pub async fn stop(mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The address acdd writes into SDP for this session's legs.
    pub fn advertised_ip(&self) -> IpAddr {
        self.service.config().advertise
    }
}

impl Drop for MediaSession {
    /// The legs' counters move to the service's ended sum. After `stop` they
    /// are final; after a plain drop the task may still count a few packets
    /// that the sum then misses.
    fn drop(&mut self) {
        for state in self.legs.values() {
            self.service.unregister(state.registry_key);
        }
    }
}

// The telephony layer keeps a session inside its call task and may move it
// between threads; the service is shared by all of them. Checked when compiling.
const _: () = {
    const fn send<T: Send>() {}
    const fn shared<T: Send + Sync + Clone>() {}
    send::<MediaSession>();
    send::<oneshot::Receiver<Result<Recording, MediaError>>>();
    shared::<MediaService>();
};

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::MediaConfig;
    use super::*;

    #[tokio::test]
    async fn a_released_leg_gives_its_ports_back_while_the_session_goes_on() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let service = MediaService::new(MediaConfig {
            bind: ip,
            advertise: ip,
            rtp_ports: [43100, 43107],
        })
        .unwrap();
        let mut session = service.session();
        let caller = session.add_leg().unwrap();
        let operator = session.add_leg().unwrap();
        assert_eq!(service.pool().in_use(), 2);
        session.release_leg(operator).unwrap();
        assert!(session.stats(operator).is_none(), "the leg is gone at once");
        assert!(matches!(session.release_leg(operator), Err(MediaError::UnknownLeg(_))));
        let deadline = Instant::now() + Duration::from_secs(5);
        while service.pool().in_use() > 1 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            service.pool().in_use(),
            1,
            "the operator's ports are free, the caller's kept"
        );
        assert!(session.local_port(caller).is_ok());
        session.stop().await;
        assert_eq!(service.pool().in_use(), 0);
    }
}
