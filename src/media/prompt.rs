//! Audio files to play (music on hold, greetings, announcements), loaded into
//! memory once as 8 kHz mono PCM16 and shared between sessions.
//!
//! Accepts WAV files holding 16-bit PCM (read with `hound`) or G.711 µ-law /
//! A-law (format tags 7 and 6, which `hound` does not read, so the RIFF chunks
//! are walked here). Anything else is refused with a message naming the file
//! and what was found.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::MediaError;
use super::codec::{G711, G711_RATE};

/// The longest file accepted: one hour.
const MAX_SAMPLES: usize = 3600 * G711_RATE as usize;

/// The largest file read: an hour of 16-bit samples and room for other
/// chunks. A bigger file (or a device such as `/dev/zero`) is refused
/// before it fills memory.
const MAX_FILE_BYTES: u64 = 2 * MAX_SAMPLES as u64 + (1 << 20);

/// Decoded audio, cheap to clone.
#[derive(Clone, Debug)]
pub struct Prompt {
    pcm: Arc<[i16]>,
}

impl Prompt {
    pub fn load(path: &Path) -> Result<Prompt, MediaError> {
        let fail = |reason: String| MediaError::Prompt {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = read_bounded(path).map_err(fail)?;
        let pcm = decode_wav(&bytes).map_err(fail)?;
        Ok(Prompt { pcm: pcm.into() })
    }

    /// Audio made in memory (8 kHz mono), e.g. a generated tone or tests.
    pub fn from_pcm(pcm: Vec<i16>) -> Prompt {
        Prompt { pcm: pcm.into() }
    }

    pub fn samples(&self) -> &[i16] {
        &self.pcm
    }

    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.pcm.len() as u64 * 1_000_000 / u64::from(G711_RATE))
    }
}

/// The bytes of a regular file of at most [`MAX_FILE_BYTES`]: a FIFO or a
/// device would block or never end, so only plain files are read.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes (an hour of 8 kHz audio)"));
    }
    Ok(bytes)
}

/// Decodes a WAV file's bytes to 8 kHz mono PCM16.
pub fn decode_wav(bytes: &[u8]) -> Result<Vec<i16>, String> {
    let fmt = find_format(bytes)?;
    let pcm = match fmt.tag {
        1 => read_pcm(bytes, &fmt)?,
        6 | 7 => read_g711(bytes, &fmt)?,
        tag => return Err(format!("WAV format tag {tag} is not PCM (1), A-law (6) or µ-law (7)")),
    };
    if pcm.is_empty() {
        return Err("the file holds no audio samples".into());
    }
    if pcm.len() > MAX_SAMPLES {
        return Err("the file is longer than one hour".into());
    }
    Ok(pcm)
}

struct Fmt {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

impl Fmt {
    fn check(&self, bits: u16, what: &str) -> Result<(), String> {
        if self.channels != 1 || self.rate != G711_RATE || self.bits != bits {
            return Err(format!(
                "expected {what}, 8000 Hz mono, found {} Hz, {} channel(s), {} bits",
                self.rate, self.channels, self.bits
            ));
        }
        Ok(())
    }
}

/// Walks the RIFF chunks: the `fmt ` chunk, and the `data` chunk's bytes.
fn chunks(bytes: &[u8]) -> Result<impl Iterator<Item = (&[u8], &[u8])>, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a WAV file (no RIFF/WAVE header)".into());
    }
    let mut rest = &bytes[12..];
    Ok(std::iter::from_fn(move || {
        if rest.len() < 8 {
            return None;
        }
        let id = &rest[0..4];
        let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let body = &rest[8..];
        let len = len.min(body.len());
        let chunk = (id, &body[..len]);
        let next = (len + (len & 1)).min(body.len());
        rest = &body[next..];
        Some(chunk)
    }))
}

fn find_format(bytes: &[u8]) -> Result<Fmt, String> {
    let (_, body) = chunks(bytes)?
        .find(|(id, _)| *id == b"fmt ")
        .ok_or("the WAV file has no fmt chunk")?;
    if body.len() < 16 {
        return Err("the WAV fmt chunk is truncated".into());
    }
    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
    let mut tag = u16_at(0);
    // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID.
    if tag == 0xFFFE && body.len() >= 26 {
        tag = u16_at(24);
    }
    Ok(Fmt {
        tag,
        channels: u16_at(2),
        rate: u32::from_le_bytes([body[4], body[5], body[6], body[7]]),
        bits: u16_at(14),
    })
}

fn read_pcm(bytes: &[u8], fmt: &Fmt) -> Result<Vec<i16>, String> {
    fmt.check(16, "16-bit PCM")?;
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    reader
        .into_samples::<i16>()
        .collect::<Result<Vec<i16>, _>>()
        .map_err(|e| e.to_string())
}

fn read_g711(bytes: &[u8], fmt: &Fmt) -> Result<Vec<i16>, String> {
    fmt.check(8, "8-bit G.711")?;
    let law = if fmt.tag == 7 { G711::Ulaw } else { G711::Alaw };
    let (_, data) = chunks(bytes)?
        .find(|(id, _)| *id == b"data")
        .ok_or("the WAV file has no data chunk")?;
    let mut pcm = Vec::with_capacity(data.len());
    law.decode(data, &mut pcm);
    Ok(pcm)
}

/// Writes a G.711 WAV file (format tag 6 or 7); used by tests and tools
/// that prepare prompts for SIPp's `rtp_stream`.
pub fn write_g711_wav(path: &Path, law: G711, pcm: &[i16]) -> std::io::Result<PathBuf> {
    let mut data = Vec::with_capacity(pcm.len());
    law.encode(pcm, &mut data);
    let tag: u16 = if law == G711::Ulaw { 7 } else { 6 };
    let mut out = Vec::with_capacity(data.len() + 58);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 26 + 8 + data.len() as u32 + (data.len() as u32 & 1)).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&G711_RATE.to_le_bytes());
    out.extend_from_slice(&G711_RATE.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    std::fs::write(path, out)?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for &s in samples {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
    }

    #[test]
    fn pcm16_and_g711_files_load_to_the_same_samples() {
        let dir = tempfile::tempdir().unwrap();
        let samples: Vec<i16> = (0..801).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        let pcm_path = dir.path().join("pcm.wav");
        pcm_wav(&pcm_path, 8000, 1, &samples);
        let prompt = Prompt::load(&pcm_path).unwrap();
        assert_eq!(prompt.samples(), &samples[..]);
        assert_eq!(prompt.duration().as_millis(), 100);

        for law in [G711::Ulaw, G711::Alaw] {
            let path = write_g711_wav(&dir.path().join(format!("{law:?}.wav")), law, &samples).unwrap();
            let loaded = Prompt::load(&path).unwrap();
            let mut expected = Vec::new();
            let mut bytes = Vec::new();
            law.encode(&samples, &mut bytes);
            law.decode(&bytes, &mut expected);
            assert_eq!(loaded.samples(), &expected[..], "{law:?}");
        }
    }

    #[test]
    fn bad_files_are_refused_with_a_clear_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Prompt::load(&dir.path().join("missing.wav")).unwrap_err();
        assert!(missing.to_string().contains("missing.wav"), "{missing}");

        let text = dir.path().join("notes.wav");
        std::fs::write(&text, "this is not audio").unwrap();
        let err = Prompt::load(&text).unwrap_err().to_string();
        assert!(err.contains("not a WAV file"), "{err}");

        let stereo = dir.path().join("stereo.wav");
        pcm_wav(&stereo, 44100, 2, &[0, 0, 1, 1]);
        let err = Prompt::load(&stereo).unwrap_err().to_string();
        assert!(err.contains("found 44100 Hz, 2 channel(s)"), "{err}");

        let empty = dir.path().join("empty.wav");
        pcm_wav(&empty, 8000, 1, &[]);
        let err = Prompt::load(&empty).unwrap_err().to_string();
        assert!(err.contains("no audio samples"), "{err}");

        // A truncated header: RIFF/WAVE but the fmt chunk cut short.
        let cut = dir.path().join("cut.wav");
        std::fs::write(&cut, b"RIFF\x10\0\0\0WAVEfmt \x10\0\0\0\x01\0").unwrap();
        let err = Prompt::load(&cut).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn devices_directories_and_huge_files_are_refused_without_reading_them_whole() {
        let dir = tempfile::tempdir().unwrap();
        // /dev/zero never ends: reading it whole would fill memory.
        let err = Prompt::load(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("/dev/zero") && err.contains("not a regular file"), "{err}");
        let err = Prompt::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("regular file") || err.contains("directory"), "{err}");

        let huge = dir.path().join("huge.wav");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let err = Prompt::load(&huge).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
    }
}
