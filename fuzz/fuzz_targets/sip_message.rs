//! Any bytes as a SIP datagram or TCP stream: framing and parsing never
//! panic, and a frame never claims more bytes than it was given.
#![no_main]

use acdd::sip::wire::{Frame, next_frame, parse_message};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 65_535;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data, MAX);
    let mut rest = data;
    while !rest.is_empty() {
        match next_frame(rest, MAX) {
            Frame::KeepAlive(n) | Frame::Complete(n) => {
                assert!(n > 0 && n <= rest.len(), "frame of {n} bytes out of {}", rest.len());
                let _ = parse_message(&rest[..n], MAX);
                rest = &rest[n..];
            }
            _ => break,
        }
    }
});
