//! The I/O side of one media session: a tokio task that owns the session's
//! sockets and runtime state and is the only code in `media/` that touches
//! the network. It waits on the command channel, every leg's RTP and RTCP
//! socket and one timer (playout pacing, recording deadlines), and reacts with
//! the pure pieces: latching, loss counting, header rewriting, playout frames,
//! recording. Packets are received and sent without awaiting (`try_send_to`):
//! a full socket drops the packet and counts it, as UDP would.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};
use tokio::io::ReadBuf;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, Sleep};

use super::call_recording::{CallRecorder, Side};
use super::codec::{FRAME_SAMPLES, G711};
use super::dtmf::DigitWatch;
use super::latch::Latch;
use super::mix::MixInput;
use super::playout::{PlayEnd, PlaySource, Playout};
use super::ports::PortPair;
use super::record::{Recorder, Recording};
use super::rewrite::{OutStream, SourceKey, patch_header};
use super::stats::{LegCounters, SeqTracker, bump};
use super::{LegId, MediaError, random_u64};

mod mixing;

const FRAME: Duration = Duration::from_millis(20);
/// A playout that fell this far behind (a stalled runtime) skips ahead
/// instead of sending a burst.
const MAX_LAG: Duration = Duration::from_millis(100);
const MAX_PACKET: usize = 2048;

/// What a leg's negotiated codec means for the relay, on that leg's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LegCodec {
    pub pt: u8,
    pub clock_rate: u32,
    pub dtmf_pt: Option<u8>,
}

pub(crate) enum Command {
    AddLeg {
        id: LegId,
        pair: PortPair,
        counters: Arc<LegCounters>,
    },
    Configure {
        id: LegId,
        target: Option<SocketAddr>,
        codec: Option<LegCodec>,
        /// The peer wants media from acdd (its SDP is not sendonly or
        /// inactive: on hold, acdd sends it nothing).
        receives: bool,
    },
    Play {
        id: LegId,
        source: PlaySource,
        law: G711,
        done: oneshot::Sender<PlayEnd>,
    },
    Bridge {
        a: LegId,
        b: LegId,
    },
    /// The leg hears these legs added up (`law` is the call's G.711).
    Mix {
        id: LegId,
        sources: Vec<LegId>,
        law: G711,
    },
    Silence {
        id: LegId,
    },
    Record {
        id: LegId,
        recorder: Recorder,
        max: Duration,
        done: oneshot::Sender<Result<Recording, MediaError>>,
    },
    StopRecording {
        id: LegId,
    },
    /// Record what the leg sends and what acdd sends it until the leg or
    /// the session ends.
    RecordCall {
        id: LegId,
        recorder: CallRecorder,
        done: oneshot::Sender<Result<Recording, MediaError>>,
    },
    /// Pause or resume the leg's call recording.
    PauseCallRecording {
        id: LegId,
        paused: bool,
    },
    /// Report the keys the leg's peer presses (telephone-events).
    WatchKeys {
        id: LegId,
        keys: mpsc::UnboundedSender<char>,
    },
    RemoveLeg {
        id: LegId,
        done: oneshot::Sender<()>,
    },
    Stop,
}

enum Feed {
    /// acdd sends nothing to the leg.
    Silent,
    /// The leg hears another leg.
    Relay(LegId),
    Play(Box<ActivePlay>),
    /// The leg hears other legs added up, a frame every 20 ms.
    Mix(Box<ActiveMix>),
}

struct ActiveMix {
    sources: Vec<LegId>,
    law: G711,
    /// Names the mix's stream in the leg's `OutStream`.
    id: u64,
    frames: u64,
}

struct ActivePlay {
    playout: Playout,
    law: G711,
    due: Instant,
    done: Option<oneshot::Sender<PlayEnd>>,
}

struct ActiveRecording {
    recorder: Recorder,
    deadline: Instant,
    done: oneshot::Sender<Result<Recording, MediaError>>,
}

struct ActiveCallRecording {
    recorder: CallRecorder,
    done: oneshot::Sender<Result<Recording, MediaError>>,
}

struct Leg {
    id: LegId,
    /// Given back to the pool when the leg is removed or the session ends.
    ports: PortPair,
    counters: Arc<LegCounters>,
    signalled: Option<SocketAddr>,
    receives: bool,
    latch: Latch,
    codec: Option<LegCodec>,
    seq: SeqTracker,
    out: OutStream,
    feed: Feed,
    recording: Option<ActiveRecording>,
    call_recording: Option<ActiveCallRecording>,
    keys: Option<DigitWatch>,
    /// The leg's audio waiting for a mix, while some leg hears it in one.
    mix_input: Option<MixInput>,
}

impl Leg {
    /// Symmetric RTP: where the leg's packets come from, else its SDP address.
    fn target(&self) -> Option<SocketAddr> {
        self.latch.current().or(self.signalled)
    }

    fn end_play(&mut self, how: PlayEnd) {
        if let Feed::Play(play) = std::mem::replace(&mut self.feed, Feed::Silent)
            && let Some(done) = play.done
        {
            let _ = done.send(how);
        }
    }

    fn finish_recording(&mut self) {
        if let Some(active) = self.recording.take() {
            let _ = active.done.send(active.recorder.finish());
        }
    }

    fn finish_call_recording(&mut self) {
        if let Some(active) = self.call_recording.take() {
            let _ = active.done.send(active.recorder.finish());
        }
    }

    /// Adds a packet the leg sent (`Said`) or acdd sent it (`Heard`) to the
    /// call recording, if one runs.
    fn tape(&mut self, side: Side, at_us: u64, pt: u8, payload: &[u8]) {
        if let Some(active) = &mut self.call_recording {
            active.recorder.on_audio(side, at_us, pt, payload);
        }
    }
}

enum Event {
    Command(Option<Command>),
    Rtp(usize, usize, SocketAddr),
    Rtcp(usize),
    Timer,
}

struct Task {
    legs: Vec<Leg>,
    epoch: Instant,
    /// The timer's deadline while nothing is timed: fixed, so the timer is
    /// not reset on every packet.
    idle: Instant,
    next_play: u64,
    poll_start: usize,
    buf: Box<[u8; MAX_PACKET]>,
    scratch: Box<[u8; MAX_PACKET]>,
    payload: Vec<u8>,
    /// The next mix tick, while some leg hears a mix.
    mix_due: Option<Instant>,
    /// The call's G.711, as the last mix command gave it.
    mix_law: G711,
    pcm: Vec<i16>,
}

/// Runs one session until `Stop` or until its handle is dropped; then ends
/// every play and recording and drops the sockets (freeing the ports).
pub(crate) async fn run(mut commands: mpsc::UnboundedReceiver<Command>) {
    let epoch = Instant::now();
    let mut task = Task {
        legs: Vec::new(),
        epoch,
        idle: epoch + Duration::from_secs(10 * 365 * 86_400),
        next_play: 0,
        poll_start: 0,
        buf: Box::new([0; MAX_PACKET]),
        scratch: Box::new([0; MAX_PACKET]),
        payload: Vec::with_capacity(160),
        mix_due: None,
        mix_law: G711::Ulaw,
        pcm: Vec::with_capacity(FRAME_SAMPLES),
    };
    let sleep = tokio::time::sleep_until(task.idle);
    tokio::pin!(sleep);
    loop {
        let deadline = task.next_deadline();
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        let event = poll_fn(|cx| task.poll_event(cx, &mut commands, sleep.as_mut())).await;
        match event {
            Event::Command(None) | Event::Command(Some(Command::Stop)) => break,
            Event::Command(Some(command)) => task.command(command),
            Event::Rtp(index, len, from) => task.on_rtp(index, len, from),
            Event::Rtcp(index) => bump(&task.legs[index].counters.rtcp, 1),
            Event::Timer => task.on_timer(),
        }
    }
    for mut leg in task.legs.drain(..) {
        leg.end_play(PlayEnd::Stopped);
        leg.finish_recording();
        leg.finish_call_recording();
        leg.ports.give_back();
    }
}

impl Task {
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        sleep: Pin<&mut Sleep>,
    ) -> Poll<Event> {
        if sleep.poll(cx).is_ready() {
            return Poll::Ready(Event::Timer);
        }
        if let Poll::Ready(command) = commands.poll_recv(cx) {
            return Poll::Ready(Event::Command(command));
        }
        let count = self.legs.len();
        for step in 0..count {
            let index = (self.poll_start + step) % count;
            let leg = &self.legs[index];
            let mut read = ReadBuf::new(&mut self.buf[..]);
            match leg.ports.rtp.poll_recv_from(cx, &mut read) {
                Poll::Ready(Ok(from)) => {
                    // Next time start after this leg, so no leg starves another.
                    self.poll_start = index + 1;
                    return Poll::Ready(Event::Rtp(index, read.filled().len(), from));
                }
                Poll::Ready(Err(error)) => {
                    // An error queued on the socket (e.g. ICMP port
                    // unreachable for an earlier send); the socket still works.
                    tracing::debug!(leg = %leg.id, %error, "RTP receive error");
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Pending => {}
            }
            let mut read = ReadBuf::new(&mut self.scratch[..]);
            match leg.ports.rtcp.poll_recv_from(cx, &mut read) {
                Poll::Ready(Ok(_)) => return Poll::Ready(Event::Rtcp(index)),
                Poll::Ready(Err(_)) => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    fn now_us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_micros() as u64
    }

    fn index(&self, id: LegId) -> Option<usize> {
        self.legs.iter().position(|leg| leg.id == id)
    }

    fn next_deadline(&self) -> Instant {
        let mut next = None::<Instant>;
        for leg in &self.legs {
            if let Feed::Play(play) = &leg.feed {
                next = Some(next.map_or(play.due, |n| n.min(play.due)));
            }
            if let Some(recording) = &leg.recording {
                next = Some(next.map_or(recording.deadline, |n| n.min(recording.deadline)));
            }
        }
        if let Some(due) = self.mix_due {
            next = Some(next.map_or(due, |n| n.min(due)));
        }
        next.unwrap_or(self.idle)
    }

    fn command(&mut self, command: Command) {
        self.apply(command);
        self.refresh_mix();
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::AddLeg { id, pair, counters } => self.add_leg(id, pair, counters),
            Command::Configure {
                id,
                target,
                codec,
                receives,
            } => {
                if let Some(leg) = self.index(id).map(|i| &mut self.legs[i]) {
                    leg.signalled = target;
                    leg.receives = receives;
                    if let Some(codec) = codec {
                        leg.out.set_clock_rate(codec.clock_rate);
                    }
                    leg.codec = codec;
                }
            }
            Command::Play { id, source, law, done } => {
                let Some(index) = self.index(id) else {
                    let _ = done.send(PlayEnd::Stopped);
                    return;
                };
                self.next_play += 1;
                let leg = &mut self.legs[index];
                leg.end_play(PlayEnd::Replaced);
                leg.feed = Feed::Play(Box::new(ActivePlay {
                    playout: Playout::new(source, self.next_play),
                    law,
                    due: Instant::now(),
                    done: Some(done),
                }));
            }
            Command::Bridge { a, b } => {
                for (to, from) in [(a, b), (b, a)] {
                    if let Some(index) = self.index(to) {
                        self.legs[index].end_play(PlayEnd::Replaced);
                        self.legs[index].feed = Feed::Relay(from);
                    }
                }
            }
            Command::Mix { id, sources, law } => {
                if let Some(index) = self.index(id) {
                    self.next_play += 1;
                    self.mix_law = law;
                    let leg = &mut self.legs[index];
                    leg.end_play(PlayEnd::Replaced);
                    leg.feed = Feed::Mix(Box::new(ActiveMix {
                        sources,
                        law,
                        id: self.next_play,
                        frames: 0,
                    }));
                }
            }
            Command::Silence { id } => {
                if let Some(index) = self.index(id) {
                    self.legs[index].end_play(PlayEnd::Replaced);
                }
            }
            Command::Record {
                id,
                recorder,
                max,
                done,
            } => match self.index(id) {
                Some(index) => {
                    let leg = &mut self.legs[index];
                    leg.finish_recording();
                    leg.recording = Some(ActiveRecording {
                        recorder,
                        deadline: Instant::now() + max,
                        done,
                    });
                }
                None => {
                    let _ = done.send(recorder.finish());
                }
            },
            Command::StopRecording { id } => {
                if let Some(index) = self.index(id) {
                    self.legs[index].finish_recording();
                }
            }
            Command::RecordCall { id, mut recorder, done } => match self.index(id) {
                Some(index) => {
                    recorder.start_at(self.now_us(Instant::now()));
                    let leg = &mut self.legs[index];
                    leg.finish_call_recording();
                    leg.call_recording = Some(ActiveCallRecording { recorder, done });
                }
                None => {
                    let _ = done.send(recorder.finish());
                }
            },
            Command::PauseCallRecording { id, paused } => {
                if let Some(active) = self.index(id).and_then(|i| self.legs[i].call_recording.as_mut()) {
                    active.recorder.set_paused(paused);
                }
            }
            Command::WatchKeys { id, keys } => {
                if let Some(index) = self.index(id) {
                    self.legs[index].keys = Some(DigitWatch::new(keys));
                }
            }
            Command::RemoveLeg { id, done } => {
                if let Some(index) = self.index(id) {
                    let mut leg = self.legs.swap_remove(index);
                    leg.end_play(PlayEnd::Stopped);
                    leg.finish_recording();
                    leg.finish_call_recording();
                    leg.ports.give_back();
                    for other in &mut self.legs {
                        if matches!(other.feed, Feed::Relay(from) if from == id) {
                            other.feed = Feed::Silent;
                        }
                        if let Feed::Mix(mix) = &mut other.feed {
                            mix.sources.retain(|source| *source != id);
                        }
                    }
                }
                let _ = done.send(());
            }
            Command::Stop => {}
        }
    }

    fn add_leg(&mut self, id: LegId, pair: PortPair, counters: Arc<LegCounters>) {
        let random = random_u64();
        self.legs.push(Leg {
            id,
            ports: pair,
            counters,
            signalled: None,
            receives: true,
            latch: Latch::default(),
            codec: None,
            seq: SeqTracker::default(),
            out: OutStream::new(random as u32, 8000, (random >> 32) as u16, (random >> 48) as u32 * 7919),
            feed: Feed::Silent,
            recording: None,
            call_recording: None,
            keys: None,
            mix_input: None,
        });
    }

    fn on_rtp(&mut self, index: usize, len: usize, from: SocketAddr) {
        let now = Instant::now();
        let now_us = self.now_us(now);
        let leg = &mut self.legs[index];
        let Ok(reader) = RtpReader::new(&self.buf[..len]) else {
            bump(&leg.counters.rejected, 1);
            return;
        };
        let pt = reader.payload_type();
        let seq = u16::from(reader.sequence_number());
        let ts = reader.timestamp();
        let ssrc = reader.ssrc();
        let marker = reader.mark();
        let Some(codec) = leg.codec else {
            bump(&leg.counters.rejected, 1);
            return;
        };
        let is_dtmf = Some(pt) == codec.dtmf_pt;
        if (pt != codec.pt && !is_dtmf) || !leg.latch.accept(from, seq) {
            bump(&leg.counters.rejected, 1);
            return;
        }
        let payload = reader.payload();
        let payload_range = reader.payload_offset()..reader.payload_offset() + payload.len();
        bump(&leg.counters.received, 1);
        bump(&leg.counters.received_bytes, payload.len() as u64);
        leg.counters.mark_received(now.into_std());
        let lost = leg.seq.on_packet(ssrc, seq);
        leg.counters.lost.store(lost, std::sync::atomic::Ordering::Relaxed);
        if is_dtmf && let Some(watch) = &mut leg.keys {
            watch.on_event(ts, payload);
        }
        if !is_dtmf && let Some(input) = &mut leg.mix_input {
            self.pcm.clear();
            self.mix_law.decode(payload, &mut self.pcm);
            input.push(&self.pcm);
        }
        if let Some(active) = &mut leg.recording {
            match active.recorder.on_packet(pt, ts, payload) {
                Ok(false) => {}
                Ok(true) | Err(_) => leg.finish_recording(),
            }
        }
        leg.tape(Side::Said, now_us, pt, payload);
        let source = leg.id;
        let mut relayed = 0;
        for (dst_index, dst) in self.legs.iter_mut().enumerate() {
            if dst_index == index || !matches!(dst.feed, Feed::Relay(from) if from == source) {
                continue;
            }
            if !dst.receives {
                dst.out.interrupt();
                continue;
            }
            let (Some(dst_codec), Some(target)) = (dst.codec, dst.target()) else {
                bump(&dst.counters.send_failed, 1);
                continue;
            };
            let out_pt = if is_dtmf {
                match dst_codec.dtmf_pt {
                    Some(pt) => pt,
                    None => continue,
                }
            } else {
                dst_codec.pt
            };
            let key = SourceKey::Relay { leg: source.0, ssrc };
            let mapped = dst.out.map(key, seq, ts, marker, now_us);
            patch_header(&mut self.buf[..len], out_pt, mapped, dst.out.ssrc());
            dst.tape(Side::Heard, now_us, out_pt, &self.buf[payload_range.clone()]);
            match dst.ports.rtp.try_send_to(&self.buf[..len], target) {
                Ok(_) => {
                    bump(&dst.counters.sent, 1);
                    relayed += 1;
                }
                Err(_) => bump(&dst.counters.send_failed, 1),
            }
        }
        if relayed > 0 {
            bump(&self.legs[index].counters.relayed, relayed);
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        self.mix_due_frames(now);
        for index in 0..self.legs.len() {
            self.play_due(index, now);
            let leg = &mut self.legs[index];
            if leg.recording.as_ref().is_some_and(|r| r.deadline <= now) {
                leg.finish_recording();
            }
        }
    }

    fn play_due(&mut self, index: usize, now: Instant) {
        loop {
            let epoch = self.epoch;
            let leg = &mut self.legs[index];
            let Feed::Play(play) = &mut leg.feed else {
                return;
            };
            if play.due > now {
                return;
            }
            if now.duration_since(play.due) > MAX_LAG {
                play.due = now;
            }
            let at_us = play.due.saturating_duration_since(epoch).as_micros() as u64;
            play.due += FRAME;
            let Some((seq, ts)) = play.playout.next_frame(play.law, &mut self.payload) else {
                leg.end_play(PlayEnd::Finished);
                return;
            };
            let id = play.playout.id();
            if leg.send_generated(
                SourceKey::Playout { id },
                (seq, ts),
                at_us,
                &self.payload,
                &mut self.scratch[..],
            ) {
                bump(&leg.counters.played, 1);
            }
        }
    }
}

impl Leg {
    /// Sends one frame acdd made (a playout's, a mix's) to the leg as its
    /// stream's next packet; true if it went out. A leg on hold gets
    /// nothing and its stream resumes in time.
    fn send_generated(
        &mut self,
        key: SourceKey,
        (seq, ts): (u16, u32),
        at_us: u64,
        payload: &[u8],
        scratch: &mut [u8],
    ) -> bool {
        if !self.receives {
            self.out.interrupt();
            return false;
        }
        let (Some(codec), Some(target)) = (self.codec, self.target()) else {
            bump(&self.counters.send_failed, 1);
            return false;
        };
        let mapped = self.out.map(key, seq, ts, false, at_us);
        self.tape(Side::Heard, at_us, codec.pt, payload);
        let packet = RtpPacketBuilder::new()
            .payload_type(codec.pt)
            .marked(mapped.marker)
            .sequence(Seq::from(mapped.seq))
            .timestamp(mapped.ts)
            .ssrc(self.out.ssrc())
            .payload(payload);
        let sent = packet
            .build_into(scratch)
            .ok()
            .and_then(|n| self.ports.rtp.try_send_to(&scratch[..n], target).ok());
        match sent {
            Some(_) => bump(&self.counters.sent, 1),
            None => bump(&self.counters.send_failed, 1),
        }
        sent.is_some()
    }
}
