//! Media layer: RTP anchored in acdd for every call. It owns port allocation,
//! SDP offer/answer, the RTP relay between a call's legs (caller ↔ operator),
//! playout (music on hold, ringback, announcements), voicemail recording and
//! the per-leg counters. It knows nothing of SIP: the telephony layer hands it
//! SDP bodies and gets SDP bodies back, and tells it what each leg hears.
//!
//! Use: one [`MediaService`] per daemon (from the configuration), one
//! [`MediaSession`] per call, one [`LegId`] per call leg:
//!
//! ```text
//! let session = service.session();            // in a tokio runtime
//! let caller = session.add_leg()?;              // binds an RTP/RTCP port pair
//! session.set_remote(caller, invite_sdp)?;      // 488 on Err (err.sip_status())
//! let answer = session.local_sdp(caller)?;      // 200 OK / 183 body
//! let done = session.play(caller, PlaySource::Music(prompt))?;
//! let op = session.add_leg()?;
//! let offer = session.local_sdp(op)?;           // INVITE body to the operator
//! session.set_remote(op, answer_sdp)?;          // from the operator's 200 OK
//! session.bridge(caller, op)?;                  // caller hears the operator
//! session.remove_leg(op).await?; session.stop().await;   // ports freed
//! ```
//!
//! Also: `record(leg, path, max)` (voicemail; the receiver gets the
//! `Recording`), `record_call(leg, path, max)` (the whole call as the leg
//! has it, stereo), `silence(leg)`, `silent_for(leg)` (media timeout),
//! `stats(leg)`/`totals()` and `MediaService::stats()` (metrics).
//!
//! Pure parts (SDP, rewriting, tones, loss counting, latching, recording,
//! playout framing) are plain functions and structs tested without sockets;
//! `task.rs` is the only place that touches the network.

mod call_recording;
mod codec;
mod dtmf;
mod error;
mod latch;
mod mix;
mod playout;
mod ports;
mod prompt;
mod record;
mod rewrite;
pub mod sdp;
mod service;
mod session;
mod stats;
mod task;
mod tone;

pub use call_recording::{CallRecorder, Side, repair_wav};
pub use codec::{FRAME_SAMPLES, Format, G711, G711_RATE};
pub use error::MediaError;
pub use latch::{Latch, PROBATION};
pub use mix::{MixInput, add_frame};
pub use playout::{PlayEnd, PlaySource, Playout};
pub use ports::{PortLease, PortPair, PortPool};
pub use prompt::{Prompt, decode_wav, write_g711_wav};
pub use record::{Recorder, Recording};
pub use rewrite::{Mapped, OutStream, SourceKey, patch_header, seq_after};
pub use service::{MediaConfig, MediaService};
pub use session::MediaSession;
pub use stats::{LegStats, SeqTracker};
pub use tone::Tone;

/// One leg of a call inside a [`MediaSession`] (the caller, an operator, a
/// forward target). Numbers are unique within their session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(u32);

impl std::fmt::Display for LegId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Unpredictable numbers for SSRCs, first sequence numbers and timestamps
/// (RFC 3550 §5.1) without a random-number crate: std's per-process random
/// hash keys mixed with a counter and the clock.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    hasher.write_u64(nanos);
    hasher.finish()
}
