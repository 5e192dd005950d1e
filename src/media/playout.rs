//! What acdd plays to a leg, cut into 20 ms G.711 frames: music on hold
//! (looped), announcements and greetings (once, then done), a generated
//! ringback tone (looped). Pure: the session task paces the frames with its
//! timer and puts them into the leg's continuous stream (`rewrite.rs`).

use super::codec::{FRAME_SAMPLES, G711};
use super::prompt::Prompt;
use super::tone::Tone;

/// A source of audio for [`MediaSession::play`](super::MediaSession::play).
#[derive(Clone, Debug)]
pub enum PlaySource {
    /// Loops until replaced (music on hold).
    Music(Prompt),
    /// Plays once, then the play is `Finished` (greeting, announcement).
    Announcement(Prompt),
    /// A generated tone, looped until replaced (ringback in early media).
    Ringback(Tone),
}

/// How a play ended; the telephony layer waits for `Finished` after an
/// announcement before it records or hangs up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayEnd {
    /// An announcement played to its end.
    Finished,
    /// Another play, a bridge or `silence` took the leg over.
    Replaced,
    /// The leg or the session ended.
    Stopped,
}

/// A play in progress: the position in its source and its own RTP numbering
/// (which the leg's `OutStream` then maps into the leg's stream).
#[derive(Debug)]
pub struct Playout {
    source: PlaySource,
    id: u64,
    position: u64,
    seq: u16,
    ts: u32,
    pcm: [i16; FRAME_SAMPLES],
}

impl Playout {
    pub fn new(source: PlaySource, id: u64) -> Playout {
        Playout {
            source,
            id,
            position: 0,
            seq: 0,
            ts: 0,
            pcm: [0; FRAME_SAMPLES],
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next frame's PCM, or `None` once an announcement has ended.
    pub fn next_pcm(&mut self) -> Option<&[i16; FRAME_SAMPLES]> {
        match &self.source {
            PlaySource::Ringback(tone) => tone.fill(self.position, &mut self.pcm),
            PlaySource::Music(prompt) => {
                let samples = prompt.samples();
                let len = samples.len() as u64;
                for (i, slot) in self.pcm.iter_mut().enumerate() {
                    *slot = samples[((self.position + i as u64) % len) as usize];
                }
            }
            PlaySource::Announcement(prompt) => {
                let samples = prompt.samples();
                let start = self.position as usize;
                if start >= samples.len() {
                    return None;
                }
                let end = (start + FRAME_SAMPLES).min(samples.len());
                self.pcm = [0; FRAME_SAMPLES];
                self.pcm[..end - start].copy_from_slice(&samples[start..end]);
            }
        }
        self.position += FRAME_SAMPLES as u64;
        Some(&self.pcm)
    }

    /// The next frame encoded into `payload` (cleared first), with this
    /// play's own sequence number and timestamp; `None` when it has ended.
    pub fn next_frame(&mut self, law: G711, payload: &mut Vec<u8>) -> Option<(u16, u32)> {
        let pcm = self.next_pcm()?;
        payload.clear();
        law.encode(pcm, payload);
        let numbers = (self.seq, self.ts);
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME_SAMPLES as u32);
        Some(numbers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn music_loops_across_frame_edges() {
        let prompt = Prompt::from_pcm((0..250).collect());
        let mut play = Playout::new(PlaySource::Music(prompt), 1);
        let first = *play.next_pcm().unwrap();
        assert_eq!(first[0], 0);
        assert_eq!(first[159], 159);
        let second = *play.next_pcm().unwrap();
        assert_eq!(second[89], 249);
        assert_eq!(second[90], 0, "wraps to the start");
        assert_eq!(second[159], 69);
    }

    #[test]
    fn an_announcement_ends_after_its_last_partial_frame() {
        let prompt = Prompt::from_pcm(vec![1000; 400]);
        let mut play = Playout::new(PlaySource::Announcement(prompt), 1);
        let mut payload = Vec::new();
        assert_eq!(play.next_frame(G711::Ulaw, &mut payload), Some((0, 0)));
        assert_eq!(payload.len(), 160);
        assert_eq!(play.next_frame(G711::Ulaw, &mut payload), Some((1, 160)));
        assert_eq!(play.next_frame(G711::Ulaw, &mut payload), Some((2, 320)));
        // 400 = 160 + 160 + 80: the last frame is padded with silence.
        assert_eq!(payload[79], payload[0]);
        assert_eq!(payload[80], 0xFF, "µ-law silence");
        assert_eq!(play.next_frame(G711::Ulaw, &mut payload), None);
    }

    #[test]
    fn ringback_frames_encode_the_tone() {
        let mut play = Playout::new(PlaySource::Ringback(Tone::europe()), 1);
        let mut payload = Vec::new();
        play.next_frame(G711::Alaw, &mut payload).unwrap();
        let mut decoded = Vec::new();
        G711::Alaw.decode(&payload, &mut decoded);
        let mut expected = [0i16; 160];
        Tone::europe().fill(0, &mut expected);
        for (a, b) in decoded.iter().zip(expected) {
            assert!((a - b).abs() <= b.abs() / 16 + 16, "{a} vs {b}");
        }
    }
}
