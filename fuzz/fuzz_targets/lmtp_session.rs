//! Any bytes as an LMTP client's side of a session, cut into lines as the
//! listener cuts them: the dialogue never panics, every reply is a
//! three-digit code, a delivery never holds more than the size limit and
//! names only accepted mailboxes, and a QUIT or 421 ends the session.
#![no_main]

use acdd::channels::lmtp_dialogue::{Dialogue, Input, Policy, Step};
use libfuzzer_sys::fuzz_target;

const MAX_BYTES: usize = 512;

struct Desk {
    draining: bool,
}

impl Policy for Desk {
    fn is_mailbox(&self, address: &str) -> bool {
        address.to_ascii_lowercase().starts_with("support@")
    }
    fn draining(&self) -> bool {
        self.draining
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let desk = Desk {
        draining: first & 1 == 1,
    };
    let mut dialogue = Dialogue::new(MAX_BYTES);
    let mut rest = stream;
    while !rest.is_empty() {
        let limit = dialogue.line_limit() as usize;
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(rest.len());
        let line = &rest[..end];
        rest = &rest[end..];
        let input = if line.len() > limit || !line.ends_with(b"\n") {
            Input::TooLong
        } else {
            Input::Line(line)
        };
        match dialogue.input(input, &desk) {
            Step::Continue => assert!(dialogue.in_data()),
            Step::Reply(text) => {
                assert!(
                    text.len() >= 3 && text.as_bytes()[..3].iter().all(u8::is_ascii_digit),
                    "{text}"
                );
            }
            Step::Close(text) => {
                assert!(text.starts_with("221") || text.starts_with("421"), "{text}");
                return;
            }
            Step::Deliver(delivery) => {
                assert!(delivery.data.len() <= MAX_BYTES);
                assert!(!delivery.recipients.is_empty());
                assert!(delivery.recipients.iter().all(|r| desk.is_mailbox(r)));
                assert!(!dialogue.in_data());
                if !delivery.too_big {
                    let _ = mail_parser::MessageParser::default().parse(&delivery.data);
                }
            }
        }
    }
});
