//! Generated call-progress tones (ringback), 8 kHz PCM16, as a pure function
//! of the sample index: the same tone at the same position always gives the
//! same samples, and the cadence (on/off) follows from the index alone.

use super::codec::G711_RATE;

/// A tone: up to two frequencies mixed, switched on and off by a cadence.
#[derive(Clone, Debug, PartialEq)]
pub struct Tone {
    pub frequencies: Vec<f32>,
    pub on_ms: u32,
    pub off_ms: u32,
    /// Peak amplitude of the mix, 0..=32767.
    pub amplitude: i16,
}

impl Tone {
    /// European ringback (ETSI): 425 Hz, 1 s on, 4 s off.
    pub fn europe() -> Tone {
        Tone {
            frequencies: vec![425.0],
            on_ms: 1000,
            off_ms: 4000,
            amplitude: 8000,
        }
    }

    /// North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
    pub fn north_america() -> Tone {
        Tone {
            frequencies: vec![440.0, 480.0],
            on_ms: 2000,
            off_ms: 4000,
            amplitude: 8000,
        }
    }

    fn period_samples(&self) -> u64 {
        u64::from(self.on_ms + self.off_ms) * u64::from(G711_RATE) / 1000
    }

    fn on_samples(&self) -> u64 {
        u64::from(self.on_ms) * u64::from(G711_RATE) / 1000
    }

    /// The sample at absolute index `n` (8 kHz).
    pub fn sample(&self, n: u64) -> i16 {
        let period = self.period_samples().max(1);
        if n % period >= self.on_samples() || self.frequencies.is_empty() {
            return 0;
        }
        let t = n as f64 / f64::from(G711_RATE);
        let per_tone = f64::from(self.amplitude) / self.frequencies.len() as f64;
        let mix: f64 = self
            .frequencies
            .iter()
            .map(|&f| (2.0 * std::f64::consts::PI * f64::from(f) * t).sin() * per_tone)
            .sum();
        mix.round().clamp(-32768.0, 32767.0) as i16
    }

    /// Fills `out` with the samples from index `start` on.
    pub fn fill(&self, start: u64, out: &mut [i16]) {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = self.sample(start + i as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts sign changes: twice the frequency per second of signal.
    fn zero_crossings(samples: &[i16]) -> usize {
        samples.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn europe_ringback_is_425_hz_for_one_second_then_four_silent() {
        let tone = Tone::europe();
        let mut second = vec![0i16; 8000];
        tone.fill(0, &mut second);
        let crossings = zero_crossings(&second);
        assert!(
            (845..=855).contains(&crossings),
            "{crossings} crossings in the on second"
        );
        let peak = second.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((7900..=8000).contains(&peak), "peak {peak}");
        let mut silent = vec![1i16; 4 * 8000];
        tone.fill(8000, &mut silent);
        assert!(silent.iter().all(|&s| s == 0));
        // The cadence repeats every 5 s.
        let mut again = vec![0i16; 8000];
        tone.fill(5 * 8000, &mut again);
        assert_eq!(zero_crossings(&again), crossings);
    }

    #[test]
    fn north_american_ringback_mixes_two_tones_for_two_seconds() {
        let tone = Tone::north_america();
        let mut on = vec![0i16; 16000];
        tone.fill(0, &mut on);
        assert!(on[1..].iter().filter(|&&s| s != 0).count() > 15000);
        // 440 + 480 Hz beat at 40 Hz: the envelope drops to zero every 25 ms
        // (80 times in 2 s) and peaks at the full amplitude between.
        let quiet = on
            .chunks(8)
            .filter(|c| c.iter().all(|s| s.unsigned_abs() < 1000))
            .count();
        assert!((75..=100).contains(&quiet), "{quiet} quiet 1 ms windows");
        let peak = on.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak > 7800, "peak {peak}");
        let mut off = vec![1i16; 8000];
        tone.fill(16000, &mut off);
        assert!(off.iter().all(|&s| s == 0));
    }
}
