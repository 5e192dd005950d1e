//! Mixing for calls with more than two parties (a supervisor listening,
//! whispering or joining): each leg that feeds a mix has a short sample
//! queue of its decoded audio, and every 20 ms the session task takes one
//! frame from each queue and adds up, per listener, the frames of the legs
//! it hears. Pure: no sockets, no clock.

use std::collections::VecDeque;

use super::codec::FRAME_SAMPLES;

/// Audio beyond this (in samples) is dropped oldest first: a sender
/// ahead of the mix does not build up delay.
const MOST_QUEUED: usize = 5 * FRAME_SAMPLES;
/// Frames a queue holds before it gives any (and again after running
/// dry), so that packets arriving around a tick do not leave gaps.
const PRIMED_AT: usize = 2 * FRAME_SAMPLES;

/// One leg's decoded audio waiting for the mix.
#[derive(Debug, Default)]
pub struct MixInput {
    samples: VecDeque<i16>,
    primed: bool,
}

impl MixInput {
    /// Adds a packet's decoded samples.
    pub fn push(&mut self, samples: &[i16]) {
        self.samples.extend(samples);
        let excess = self.samples.len().saturating_sub(MOST_QUEUED);
        self.samples.drain(..excess);
        if self.samples.len() >= PRIMED_AT {
            self.primed = true;
        }
    }

    /// The next 20 ms frame into `frame` (silence where there is none);
    /// false if the leg gave nothing this time.
    pub fn take_frame(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        if !self.primed || self.samples.is_empty() {
            self.primed = false;
            frame.fill(0);
            return false;
        }
        let available = self.samples.len().min(FRAME_SAMPLES);
        for (slot, sample) in frame.iter_mut().zip(self.samples.drain(..available)) {
            *slot = sample;
        }
        frame[available..].fill(0);
        true
    }
}

/// Adds `frame` to `sum`, clipping at the limits of 16 bits.
pub fn add_frame(sum: &mut [i16; FRAME_SAMPLES], frame: &[i16; FRAME_SAMPLES]) {
    for (total, sample) in sum.iter_mut().zip(frame) {
        *total = total.saturating_add(*sample);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(sample: i16) -> Vec<i16> {
        vec![sample; FRAME_SAMPLES]
    }

    #[test]
    fn a_queue_gives_nothing_until_primed_then_frame_by_frame() {
        let mut input = MixInput::default();
        let mut frame = [7; FRAME_SAMPLES];
        input.push(&frame_of(100));
        assert!(!input.take_frame(&mut frame), "one frame is not enough to start");
        assert_eq!(frame, [0; FRAME_SAMPLES]);
        input.push(&frame_of(200));
        assert!(input.take_frame(&mut frame));
        assert_eq!(frame, [100; FRAME_SAMPLES]);
        assert!(input.take_frame(&mut frame));
        assert_eq!(frame, [200; FRAME_SAMPLES]);
        // Dry: silence, and it primes again before giving more.
        assert!(!input.take_frame(&mut frame));
        input.push(&frame_of(300));
        assert!(!input.take_frame(&mut frame));
    }

    #[test]
    fn a_sender_ahead_of_the_mix_loses_its_oldest_audio() {
        let mut input = MixInput::default();
        for n in 0..20 {
            input.push(&frame_of(n));
        }
        let mut frame = [0; FRAME_SAMPLES];
        assert!(input.take_frame(&mut frame));
        assert_eq!(frame[0], 15, "only the last five frames are kept");
    }

    #[test]
    fn a_short_packet_gives_a_partly_silent_frame() {
        let mut input = MixInput::default();
        input.push(&vec![50; 400]);
        let mut frame = [0; FRAME_SAMPLES];
        assert!(input.take_frame(&mut frame));
        assert!(input.take_frame(&mut frame));
        assert!(input.take_frame(&mut frame));
        assert_eq!(&frame[..80], &[50; 80]);
        assert_eq!(&frame[80..], &[0; 80]);
    }

    #[test]
    fn frames_add_up_and_clip() {
        let mut sum = [30_000; FRAME_SAMPLES];
        add_frame(&mut sum, &[5_000; FRAME_SAMPLES]);
        assert_eq!(sum, [i16::MAX; FRAME_SAMPLES]);
        let mut sum = [-100; FRAME_SAMPLES];
        add_frame(&mut sum, &[300; FRAME_SAMPLES]);
        assert_eq!(sum, [200; FRAME_SAMPLES]);
    }
}
