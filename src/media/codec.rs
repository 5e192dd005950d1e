//! Codecs by name: the RTP payload formats acdd understands (RFC 3551 static
//! types, `rtpmap` for dynamic ones) and G.711 µ-law/A-law conversion for
//! playout and recording. Other codecs are only relayed, never decoded.

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};

pub const PT_PCMU: u8 = 0;
pub const PT_PCMA: u8 = 8;
/// The payload type acdd offers for `telephone-event` when it picks one.
pub const PT_TELEPHONE_EVENT: u8 = 101;
/// G.711 sample rate and the samples in one 20 ms packet.
pub const G711_RATE: u32 = 8000;
pub const FRAME_SAMPLES: usize = 160;

/// One payload format of an `m=` line: its number on that leg and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub pt: u8,
    pub name: String,
    pub clock_rate: u32,
    /// Encoding parameters (channels for audio), as written after the clock rate.
    pub channels: Option<String>,
    /// The `a=fmtp` parameters for this payload type, passed through as is.
    pub fmtp: Option<String>,
}

impl Format {
    pub fn new(pt: u8, name: &str, clock_rate: u32) -> Format {
        Format {
            pt,
            name: name.to_string(),
            clock_rate,
            channels: None,
            fmtp: None,
        }
    }

    pub fn pcmu() -> Format {
        Format::new(PT_PCMU, "PCMU", G711_RATE)
    }

    pub fn pcma() -> Format {
        Format::new(PT_PCMA, "PCMA", G711_RATE)
    }

    pub fn telephone_event(pt: u8, clock_rate: u32) -> Format {
        let mut format = Format::new(pt, "telephone-event", clock_rate);
        format.fmtp = Some("0-16".to_string());
        format
    }

    /// The format RFC 3551 assigns to a static payload type, if any.
    pub fn from_static(pt: u8) -> Option<Format> {
        let (name, rate) = match pt {
            0 => ("PCMU", 8000),
            3 => ("GSM", 8000),
            4 => ("G723", 8000),
            5 => ("DVI4", 8000),
            6 => ("DVI4", 16000),
            7 => ("LPC", 8000),
            8 => ("PCMA", 8000),
            9 => ("G722", 8000),
            10 | 11 => ("L16", 44100),
            12 => ("QCELP", 8000),
            13 => ("CN", 8000),
            15 => ("G728", 8000),
            18 => ("G729", 8000),
            _ => return None,
        };
        Some(Format::new(pt, name, rate))
    }

    /// Same codec, whatever payload type number each side gave it.
    pub fn same_codec(&self, other: &Format) -> bool {
        fn channels(f: &Format) -> &str {
            f.channels.as_deref().unwrap_or("1")
        }
        self.name.eq_ignore_ascii_case(&other.name)
            && self.clock_rate == other.clock_rate
            && channels(self) == channels(other)
    }

    pub fn is_telephone_event(&self) -> bool {
        self.name.eq_ignore_ascii_case("telephone-event")
    }

    /// The G.711 law of this format, if it is PCMU or PCMA at 8 kHz.
    pub fn g711(&self) -> Option<G711> {
        if self.clock_rate != G711_RATE || self.channels.as_deref().is_some_and(|c| c != "1") {
            return None;
        }
        if self.name.eq_ignore_ascii_case("PCMU") {
            Some(G711::Ulaw)
        } else if self.name.eq_ignore_ascii_case("PCMA") {
            Some(G711::Alaw)
        } else {
            None
        }
    }

    /// `NAME/rate[/channels]`, for messages.
    pub fn describe(&self) -> String {
        match &self.channels {
            Some(channels) => format!("{}/{}/{}", self.name, self.clock_rate, channels),
            None => format!("{}/{}", self.name, self.clock_rate),
        }
    }
}

/// The two G.711 laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum G711 {
    Ulaw,
    Alaw,
}

impl G711 {
    /// Appends one byte per sample.
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        match self {
            G711::Ulaw => out.extend(pcm.iter().map(|&s| encode_ulaw(s))),
            G711::Alaw => out.extend(pcm.iter().map(|&s| encode_alaw(s))),
        }
    }

    /// Appends one sample per byte.
    pub fn decode(self, bytes: &[u8], out: &mut Vec<i16>) {
        match self {
            G711::Ulaw => out.extend(bytes.iter().map(|&b| decode_ulaw(b))),
            G711::Alaw => out.extend(bytes.iter().map(|&b| decode_alaw(b))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            G711::Ulaw => "PCMU",
            G711::Alaw => "PCMA",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_round_trip_keeps_samples_within_the_law_step() {
        let pcm: Vec<i16> = (-32768i32..=32767).step_by(97).map(|s| s as i16).collect();
        for law in [G711::Ulaw, G711::Alaw] {
            let mut bytes = Vec::new();
            law.encode(&pcm, &mut bytes);
            assert_eq!(bytes.len(), pcm.len());
            let mut back = Vec::new();
            law.decode(&bytes, &mut back);
            for (&a, &b) in pcm.iter().zip(&back) {
                let error = (i32::from(a) - i32::from(b)).abs();
                // Logarithmic quantisation: the step grows with the magnitude
                // (at most 1/16 of it, plus the smallest step near zero).
                let bound = i32::from(a).abs() / 16 + 40;
                assert!(error <= bound, "{law:?}: {a} came back as {b}");
            }
            // Decoding then encoding is exact for every code word... except
            // µ-law's two zero code words, which both decode to 0.
            let all: Vec<u8> = (0..=255).collect();
            let mut decoded = Vec::new();
            law.decode(&all, &mut decoded);
            let mut again = Vec::new();
            law.encode(&decoded, &mut again);
            let mismatches = all.iter().zip(&again).filter(|(a, b)| a != b).count();
            assert!(mismatches <= 1, "{law:?}: {mismatches} code words changed");
        }
    }

    #[test]
    fn ulaw_and_alaw_silence_code_words() {
        let mut bytes = Vec::new();
        G711::Ulaw.encode(&[0], &mut bytes);
        G711::Alaw.encode(&[0], &mut bytes);
        assert_eq!(bytes, vec![0xFF, 0xD5]);
    }

    #[test]
    fn formats_compare_by_codec_not_number() {
        let mut a = Format::new(96, "opus", 48000);
        a.channels = Some("2".into());
        let mut b = Format::new(111, "OPUS", 48000);
        b.channels = Some("2".into());
        assert!(a.same_codec(&b));
        assert!(!a.same_codec(&Format::new(111, "opus", 48000)));
        assert!(Format::pcmu().same_codec(&Format::from_static(0).unwrap()));
        assert_eq!(Format::from_static(8).unwrap().g711(), Some(G711::Alaw));
        assert_eq!(Format::from_static(9).unwrap().g711(), None);
        assert_eq!(Format::new(100, "PCMU", 16000).g711(), None);
    }
}
