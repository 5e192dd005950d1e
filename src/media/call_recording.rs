//! Recording of a whole call as its caller has it: one stereo WAV (8 kHz
//! PCM16, `hound`), left what the caller says, right what the caller hears
//! (the operator, a colleague after a transfer, hold music, announcements).
//! Each side's packets are placed by arrival time: a steady stream is laid
//! end to end (jitter does not cut it up), a pause becomes silence, and a
//! side running ahead of the clock (a burst, a fast sender) loses what is
//! more than 200 ms ahead, so the two sides stay in step. What is
//! older than a short horizon is written out, so memory stays bounded
//! however long the call. Pure apart from the file it writes; the session
//! task hands it packets with their time.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::MediaError;
use super::codec::{G711, G711_RATE};
use super::record::{Recording, create_wav};

/// Which channel of the recording a packet belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// What the caller says (left).
    Said = 0,
    /// What the caller hears (right).
    Heard = 1,
}

/// A packet arriving this many samples after its side's stream ended still
/// continues it (network jitter); later, the gap is silence.
const SLACK: u64 = 800;
/// Samples this old are final (no packet can land before them) and written.
const HORIZON: u64 = 1600;
/// A side this far ahead of the clock (a burst, a fast clock) loses packets.
const MAX_AHEAD: u64 = 1600;

pub struct CallRecorder {
    writer: hound::WavWriter<BufWriter<File>>,
    path: PathBuf,
    law: G711,
    pt: u8,
    max_samples: u64,
    /// Microseconds (on the caller's clock) at sample 0.
    origin_us: u64,
    /// Frames from `written` on, not yet in the file.
    pending: VecDeque<[i16; 2]>,
    /// Frames in the file.
    written: u64,
    /// Per side: the frame after its last packet.
    next: [u64; 2],
    scratch: Vec<i16>,
    failed: Option<String>,
    /// Paused (e.g. while the customer gives card details): packets are
    /// not kept, the time passes as silence.
    paused: bool,
}

impl std::fmt::Debug for CallRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallRecorder")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish()
    }
}

impl CallRecorder {
    /// Creates the file now, so a bad path fails before the call goes on.
    /// `pt` is the recorded leg's payload type for `law`; `max` caps the
    /// length (what comes after is not recorded).
    pub fn create(path: &Path, law: G711, pt: u8, max: Duration) -> Result<CallRecorder, MediaError> {
        let writer = create_wav(path, 2)?;
        Ok(CallRecorder {
            writer,
            path: path.to_path_buf(),
            law,
            pt,
            max_samples: max.as_millis() as u64 * u64::from(G711_RATE) / 1000,
            origin_us: 0,
            pending: VecDeque::new(),
            written: 0,
            next: [0; 2],
            scratch: Vec::with_capacity(320),
            failed: None,
            paused: false,
        })
    }

    /// Sets when the recording starts, on the clock `on_audio` is given.
    pub fn start_at(&mut self, origin_us: u64) {
        self.origin_us = origin_us;
    }

    /// Pauses or resumes the recording; a pause is silence in the file.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether the recording has reached its maximum length (or its file
    /// failed): nothing more goes in.
    pub fn is_done(&self) -> bool {
        self.failed.is_some() || self.written >= self.max_samples
    }

    /// One packet of `side` at `at_us`: its payload in the recorded leg's
    /// G.711 when `pt` is the leg's audio type (other types are skipped).
    pub fn on_audio(&mut self, side: Side, at_us: u64, pt: u8, payload: &[u8]) {
        if pt != self.pt || self.is_done() || self.paused {
            return;
        }
        let now = at_us.saturating_sub(self.origin_us) * u64::from(G711_RATE) / 1_000_000;
        self.flush_until(now.saturating_sub(HORIZON));
        let next = self.next[side as usize];
        let start = if next + SLACK < now { now } else { next }.max(self.written);
        if start > now + MAX_AHEAD {
            return;
        }
        self.scratch.clear();
        self.law.decode(payload, &mut self.scratch);
        let end = start + self.scratch.len() as u64;
        let from = (start - self.written) as usize;
        let to = (end - self.written) as usize;
        if self.pending.len() < to {
            self.pending.resize(to, [0, 0]);
        }
        for (frame, &sample) in self.pending.range_mut(from..to).zip(&self.scratch) {
            frame[side as usize] = sample;
        }
        self.next[side as usize] = end;
    }

    /// Writes every frame before `frame` (silence where nothing was placed),
    /// a second at most per write.
    fn flush_until(&mut self, frame: u64) {
        let frame = frame.min(self.max_samples);
        while self.written < frame && self.failed.is_none() {
            let count = (frame - self.written).min(u64::from(G711_RATE)) as u32;
            let mut samples = self.writer.get_i16_writer(2 * count);
            for _ in 0..count {
                let [left, right] = self.pending.pop_front().unwrap_or([0, 0]);
                samples.write_sample(left);
                samples.write_sample(right);
            }
            if let Err(error) = samples.flush() {
                self.failed = Some(error.to_string());
            }
            self.written += u64::from(count);
        }
    }

    /// Writes what is left and closes the file; the recording's length is
    /// what was written.
    pub fn finish(mut self) -> Result<Recording, MediaError> {
        let end = self.written + self.pending.len() as u64;
        self.flush_until(end);
        let path = self.path;
        if let Some(reason) = self.failed {
            return Err(MediaError::Record { path, reason });
        }
        let duration = Duration::from_micros(self.written * 1_000_000 / u64::from(G711_RATE));
        self.writer.finalize().map_err(|e| MediaError::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Recording { path, duration })
    }
}

/// Makes a WAV file whose writer never closed it (the daemon was killed)
/// readable: its RIFF and data sizes say what the file holds, cut to whole
/// frames. Returns the length of the audio. Files that are not a WAV this
/// module wrote are refused.
pub fn repair_wav(path: &Path) -> Result<Duration, MediaError> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let failed = |reason: String| MediaError::Record {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| failed(e.to_string()))?;
    let length = file.metadata().map_err(|e| failed(e.to_string()))?.len();
    let mut head = [0u8; 512];
    let read = file.read(&mut head).map_err(|e| failed(e.to_string()))?;
    let head = &head[..read];
    if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(failed("not a WAV file".into()));
    }
    let (mut at, mut frame_bytes, mut rate) = (12usize, None, 0u32);
    let data_at = loop {
        let Some(chunk) = head.get(at..at + 8) else {
            return Err(failed("no data chunk in the first 512 bytes".into()));
        };
        let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
        match &chunk[..4] {
            b"data" => break at + 8,
            b"fmt " if head.len() >= at + 24 => {
                let channels = u16::from_le_bytes([head[at + 10], head[at + 11]]);
                rate = u32::from_le_bytes([head[at + 12], head[at + 13], head[at + 14], head[at + 15]]);
                let bits = u16::from_le_bytes([head[at + 22], head[at + 23]]);
                frame_bytes = Some(u64::from(channels) * u64::from(bits / 8));
            }
            _ => {}
        }
        at += 8 + size + size % 2;
    };
    let frame_bytes = frame_bytes
        .filter(|b| *b > 0 && rate > 0)
        .ok_or_else(|| failed("no usable fmt chunk".into()))?;
    let data = length.saturating_sub(data_at as u64) / frame_bytes * frame_bytes;
    let riff = u32::try_from(data_at as u64 - 8 + data).map_err(|_| failed("too long for a WAV file".into()))?;
    file.set_len(data_at as u64 + data).map_err(|e| failed(e.to_string()))?;
    for (offset, value) in [(4, riff), (data_at as u64 - 4, data as u32)] {
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.write_all(&value.to_le_bytes()))
            .map_err(|e| failed(e.to_string()))?;
    }
    file.sync_all().map_err(|e| failed(e.to_string()))?;
    Ok(Duration::from_micros(data / frame_bytes * 1_000_000 / u64::from(rate)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PT: u8 = 0;

    fn frame_of(sample: i16) -> Vec<u8> {
        let mut bytes = Vec::new();
        G711::Ulaw.encode(&[sample; 160], &mut bytes);
        bytes
    }

    fn decoded(sample: i16) -> i16 {
        let mut out = Vec::new();
        G711::Ulaw.decode(&frame_of(sample)[..1], &mut out);
        out[0]
    }

    fn recorder(dir: &Path, max: Duration) -> CallRecorder {
        let mut recorder = CallRecorder::create(&dir.join("call.wav"), G711::Ulaw, PT, max).unwrap();
        recorder.start_at(1_000_000);
        recorder
    }

    fn frames(path: &Path) -> (hound::WavSpec, Vec<[i16; 2]>) {
        let mut reader = hound::WavReader::open(path).unwrap();
        let spec = reader.spec();
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        (spec, samples.chunks(2).map(|c| [c[0], c[1]]).collect())
    }

    /// `count` packets of `sample` every 20 ms from `first_ms` (after the
    /// origin), each `jitter_ms` late on odd packets.
    fn stream(r: &mut CallRecorder, side: Side, sample: i16, first_ms: u64, count: u64, jitter_ms: u64) {
        for n in 0..count {
            let late = if n % 2 == 1 { jitter_ms } else { 0 };
            r.on_audio(
                side,
                1_000_000 + (first_ms + n * 20 + late) * 1000,
                PT,
                &frame_of(sample),
            );
        }
    }

    #[test]
    fn both_sides_land_in_their_channel_at_their_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = recorder(dir.path(), Duration::from_secs(60));
        // The caller speaks for a second; the operator answers from 0.5 s to 1.5 s.
        for n in 0..75u64 {
            if n < 50 {
                r.on_audio(Side::Said, 1_000_000 + n * 20_000, PT, &frame_of(1000));
            }
            if n >= 25 {
                r.on_audio(Side::Heard, 1_000_000 + n * 20_000, PT, &frame_of(-2000));
            }
        }
        let recording = r.finish().unwrap();
        assert_eq!(recording.duration, Duration::from_millis(1500));
        let (spec, frames) = frames(&recording.path);
        assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (2, 8000, 16));
        assert_eq!(frames.len(), 12_000);
        let (said, heard) = (decoded(1000), decoded(-2000));
        assert!(frames[..8000].iter().all(|f| f[0] == said));
        assert!(frames[8000..].iter().all(|f| f[0] == 0));
        assert!(frames[..4000].iter().all(|f| f[1] == 0));
        assert!(frames[4000..].iter().all(|f| f[1] == heard));
    }

    #[test]
    fn jitter_keeps_a_stream_whole_and_a_pause_becomes_silence() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = recorder(dir.path(), Duration::from_secs(60));
        stream(&mut r, Side::Said, 1000, 0, 25, 15);
        // A pause of 0.5 s, then half a second more.
        stream(&mut r, Side::Said, 1000, 1000, 25, 0);
        let recording = r.finish().unwrap();
        let (_, frames) = frames(&recording.path);
        let said = decoded(1000);
        assert!(frames[..4000].iter().all(|f| f[0] == said), "no gap from jitter");
        assert!(frames[4000..8000].iter().all(|f| f[0] == 0), "the pause is silence");
        assert!(frames[8000..12_000].iter().all(|f| f[0] == said));
        assert_eq!(frames.len(), 12_000);
    }

    #[test]
    fn a_burst_far_ahead_of_the_clock_is_cut_and_a_long_call_stays_small_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = recorder(dir.path(), Duration::from_secs(600));
        // 200 packets (4 s of audio) arrive at once: 200 ms of them fit ahead.
        for _ in 0..200 {
            r.on_audio(Side::Heard, 1_000_000, PT, &frame_of(500));
        }
        assert!(r.pending.len() as u64 <= MAX_AHEAD + 160, "{}", r.pending.len());
        // Five minutes of both sides: pending stays within the horizon.
        let mut most = 0;
        for n in 0..15_000u64 {
            r.on_audio(Side::Said, 2_000_000 + n * 20_000, PT, &frame_of(100));
            r.on_audio(Side::Heard, 2_000_000 + n * 20_000, PT, &frame_of(200));
            most = most.max(r.pending.len());
        }
        assert!(most as u64 <= HORIZON + SLACK + 320, "{most}");
        let recording = r.finish().unwrap();
        assert_eq!(recording.duration, Duration::from_secs(301));
    }

    #[test]
    fn the_length_is_capped_and_other_payload_types_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = recorder(dir.path(), Duration::from_millis(500));
        for n in 0..50u64 {
            r.on_audio(Side::Said, 1_000_000 + n * 20_000, 101, &[1, 0x80, 0, 160]);
            r.on_audio(Side::Said, 1_000_000 + n * 20_000, PT, &frame_of(1000));
        }
        assert!(r.is_done());
        let recording = r.finish().unwrap();
        assert_eq!(recording.duration, Duration::from_millis(500));
        let (_, frames) = frames(&recording.path);
        assert!(frames.iter().all(|f| f[0] == decoded(1000)));
    }

    #[test]
    fn a_paused_recording_keeps_time_with_silence() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = recorder(dir.path(), Duration::from_secs(60));
        stream(&mut r, Side::Said, 1000, 0, 25, 0);
        r.set_paused(true);
        stream(&mut r, Side::Said, 1000, 500, 25, 0);
        r.set_paused(false);
        stream(&mut r, Side::Said, 1000, 1000, 25, 0);
        let (_, frames) = frames(&r.finish().unwrap().path);
        assert_eq!(frames.len(), 12_000);
        assert!(frames[4000..8000].iter().all(|f| f[0] == 0), "the pause is silence");
        assert!(
            frames[..4000]
                .iter()
                .chain(&frames[8000..])
                .all(|f| f[0] == decoded(1000))
        );
    }

    #[test]
    fn a_recording_cut_off_by_a_crash_is_repaired_to_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = recorder(dir.path(), Duration::from_secs(60));
        stream(&mut r, Side::Said, 1000, 0, 100, 0);
        let path = r.finish().unwrap().path;
        // As a killed daemon leaves it: sizes of an empty file, and half a
        // frame written at the end.
        let mut bytes = std::fs::read(&path).unwrap();
        let data_at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
        bytes[4..8].copy_from_slice(&36u32.to_le_bytes());
        bytes[data_at - 4..data_at].copy_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&[1, 2]);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(repair_wav(&path).unwrap(), Duration::from_millis(2000));
        let (spec, frames) = frames(&path);
        assert_eq!((spec.channels, frames.len()), (2, 16_000));
        assert!(frames.iter().all(|f| f[0] == decoded(1000)));
        let garbage = dir.path().join("garbage.wav");
        std::fs::write(&garbage, b"not a wav at all").unwrap();
        assert!(repair_wav(&garbage).is_err());
    }

    #[test]
    fn a_path_that_cannot_be_written_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let error = CallRecorder::create(
            &dir.path().join("missing/call.wav"),
            G711::Ulaw,
            PT,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(error, MediaError::Record { .. }), "{error}");
    }
}
