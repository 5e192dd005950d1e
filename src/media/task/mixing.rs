//! The session task's mixing (for a third party in a call: `Feed::Mix`):
//! which legs keep their audio for a mix, and the 20 ms ticks that take a
//! frame of each and send every listener the sum of its sources. The pure
//! parts are `media/mix.rs`.

use tokio::time::Instant;

use super::{FRAME, Feed, LegId, MAX_LAG, Task};
use crate::media::codec::FRAME_SAMPLES;
use crate::media::mix::{MixInput, add_frame};
use crate::media::rewrite::SourceKey;

impl Task {
    /// Every leg that feeds a mix keeps its audio for it, and the mix
    /// ticks while some leg hears one.
    pub(super) fn refresh_mix(&mut self) {
        let heard: Vec<LegId> = self
            .legs
            .iter()
            .filter_map(|leg| match &leg.feed {
                Feed::Mix(mix) => Some(mix.sources.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        for leg in &mut self.legs {
            match (heard.contains(&leg.id), leg.mix_input.is_some()) {
                (true, false) => leg.mix_input = Some(MixInput::default()),
                (false, true) => leg.mix_input = None,
                _ => {}
            }
        }
        let mixing = self.legs.iter().any(|leg| matches!(leg.feed, Feed::Mix(_)));
        match (mixing, self.mix_due) {
            (true, None) => self.mix_due = Some(Instant::now() + FRAME),
            (false, Some(_)) => self.mix_due = None,
            _ => {}
        }
    }

    /// The mix ticks due by `now`: a frame from every leg feeding it, and
    /// to every leg hearing it the sum of its sources.
    pub(super) fn mix_due_frames(&mut self, now: Instant) {
        while let Some(due) = self.mix_due.filter(|due| *due <= now) {
            let due = if now.duration_since(due) > MAX_LAG { now } else { due };
            self.mix_due = Some(due + FRAME);
            let at_us = self.now_us(due);
            let mut frames: Vec<(LegId, [i16; FRAME_SAMPLES])> = Vec::with_capacity(self.legs.len());
            for leg in &mut self.legs {
                if let Some(input) = &mut leg.mix_input {
                    let mut frame = [0; FRAME_SAMPLES];
                    input.take_frame(&mut frame);
                    frames.push((leg.id, frame));
                }
            }
            for leg in &mut self.legs {
                let Feed::Mix(mix) = &mut leg.feed else {
                    continue;
                };
                let mut sum = [0; FRAME_SAMPLES];
                for (source, frame) in &frames {
                    if mix.sources.contains(source) && *source != leg.id {
                        add_frame(&mut sum, frame);
                    }
                }
                self.payload.clear();
                mix.law.encode(&sum, &mut self.payload);
                let numbers = (mix.frames as u16, (mix.frames * FRAME_SAMPLES as u64) as u32);
                mix.frames += 1;
                let key = SourceKey::Playout { id: mix.id };
                leg.send_generated(key, numbers, at_us, &self.payload, &mut self.scratch[..]);
            }
        }
    }
}
