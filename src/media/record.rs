//! Voicemail recording: the caller's G.711 decoded to 8 kHz mono PCM16 and
//! written to a WAV file (`hound`) up to a maximum length. Silence the caller
//! did not send (a timestamp jump, e.g. with voice activity detection) is
//! written as silence, up to one second per gap, so the file keeps time.
//! Pure apart from the file it writes.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::MediaError;
use super::codec::{G711, G711_RATE};

/// A finished recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub path: PathBuf,
    pub duration: Duration,
}

pub struct Recorder {
    writer: hound::WavWriter<BufWriter<File>>,
    path: PathBuf,
    law: G711,
    pt: u8,
    max_samples: u64,
    written: u64,
    next_ts: Option<u32>,
    scratch: Vec<i16>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish()
    }
}

impl Recorder {
    /// Creates the file now, so a bad path fails before the caller is told
    /// to speak. `pt` is the leg's payload type for `law`.
    pub fn create(path: &Path, law: G711, pt: u8, max: Duration) -> Result<Recorder, MediaError> {
        let writer = create_wav(path, 1)?;
        Ok(Recorder {
            writer,
            path: path.to_path_buf(),
            law,
            pt,
            max_samples: max.as_millis() as u64 * u64::from(G711_RATE) / 1000,
            written: 0,
            next_ts: None,
            scratch: Vec::with_capacity(320),
        })
    }

    pub fn is_full(&self) -> bool {
        self.written >= self.max_samples
    }

    /// Adds one RTP packet of the recorded leg; returns true once full.
    /// Other payload types (telephone-event) are skipped; late packets too.
    pub fn on_packet(&mut self, pt: u8, ts: u32, payload: &[u8]) -> Result<bool, MediaError> {
        if pt != self.pt || self.is_full() {
            return Ok(self.is_full());
        }
        if let Some(expected) = self.next_ts {
            if ts != expected && !seq_after_ts(ts, expected) {
                return Ok(false);
            }
            let gap = u64::from(ts.wrapping_sub(expected)).min(u64::from(G711_RATE));
            self.scratch.clear();
            self.scratch.resize(gap as usize, 0);
            self.write_scratch()?;
        }
        self.scratch.clear();
        self.law.decode(payload, &mut self.scratch);
        self.write_scratch()?;
        self.next_ts = Some(ts.wrapping_add(payload.len() as u32));
        Ok(self.is_full())
    }

    fn write_scratch(&mut self) -> Result<(), MediaError> {
        let room = self.max_samples.saturating_sub(self.written) as usize;
        for &sample in self.scratch.iter().take(room) {
            self.writer.write_sample(sample).map_err(|e| MediaError::Record {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        }
        self.written += self.scratch.len().min(room) as u64;
        Ok(())
    }

    /// Closes the file; the recording's length is what was written.
    pub fn finish(self) -> Result<Recording, MediaError> {
        let path = self.path;
        let duration = Duration::from_micros(self.written * 1_000_000 / u64::from(G711_RATE));
        self.writer.finalize().map_err(|e| MediaError::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Recording { path, duration })
    }
}

/// A new 8 kHz 16-bit WAV file of `channels` channels.
pub(super) fn create_wav(path: &Path, channels: u16) -> Result<hound::WavWriter<BufWriter<File>>, MediaError> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: G711_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(path, spec).map_err(|e| MediaError::Record {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Timestamp order, as for sequence numbers but on 32 bits.
fn seq_after_ts(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(law: G711, value: i16) -> Vec<u8> {
        let mut bytes = Vec::new();
        law.encode(&[value; 160], &mut bytes);
        bytes
    }

    #[test]
    fn records_decoded_audio_fills_gaps_and_stops_at_the_maximum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.wav");
        let mut rec = Recorder::create(&path, G711::Alaw, 8, Duration::from_millis(100)).unwrap();
        assert!(!rec.on_packet(8, 1000, &frame(G711::Alaw, 1000)).unwrap());
        // telephone-event is not audio.
        assert!(!rec.on_packet(101, 1160, &[1, 2, 3, 4]).unwrap());
        // Packet at 1320: 160 samples of silence before it.
        assert!(!rec.on_packet(8, 1320, &frame(G711::Alaw, -1000)).unwrap());
        // A late packet is ignored.
        assert!(!rec.on_packet(8, 1160, &frame(G711::Alaw, 5000)).unwrap());
        // 480 so far; the maximum is 800 samples.
        assert!(!rec.on_packet(8, 1480, &frame(G711::Alaw, 2000)).unwrap());
        assert!(rec.on_packet(8, 1640, &frame(G711::Alaw, 2000)).unwrap());
        let recording = rec.finish().unwrap();
        assert_eq!(recording.duration, Duration::from_millis(100));
        let mut reader = hound::WavReader::open(&recording.path).unwrap();
        assert_eq!(reader.spec().sample_rate, 8000);
        assert_eq!(reader.spec().channels, 1);
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(samples.len(), 800);
        assert!((samples[0] - 1000).abs() < 64);
        assert!(samples[160..320].iter().all(|&s| s == 0));
        assert!((samples[320] + 1000).abs() < 64);
        assert!((samples[799] - 2000).abs() < 128);
    }

    #[test]
    fn an_unwritable_path_fails_at_once() {
        let err = Recorder::create(
            Path::new("/nonexistent/dir/vm.wav"),
            G711::Ulaw,
            0,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/dir/vm.wav"), "{err}");
    }
}
