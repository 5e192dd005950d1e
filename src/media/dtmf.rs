//! Keys a caller presses, from RFC 4733 telephone-event packets: an event
//! is sent as several packets with the same RTP timestamp (the last ones
//! with the end bit, repeated); `DigitWatch` reports each event once, at its
//! first packet. Pure: the session task feeds it packets of a watched leg.

use tokio::sync::mpsc;

/// The key of a telephone-event payload (event code in its first byte):
/// `0`–`9`, `*`, `#`, `A`–`D`; `None` for other events or a short payload.
pub fn event_key(payload: &[u8]) -> Option<char> {
    if payload.len() < 4 {
        return None;
    }
    match payload[0] {
        code @ 0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        code @ 12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// Reports a watched leg's keys, once per event.
#[derive(Debug)]
pub(crate) struct DigitWatch {
    keys: mpsc::UnboundedSender<char>,
    /// The RTP timestamp of the last event reported.
    last: Option<u32>,
}

impl DigitWatch {
    pub(crate) fn new(keys: mpsc::UnboundedSender<char>) -> DigitWatch {
        DigitWatch { keys, last: None }
    }

    /// A telephone-event packet with RTP timestamp `ts`.
    pub(crate) fn on_event(&mut self, ts: u32, payload: &[u8]) {
        let Some(key) = event_key(payload) else { return };
        if self.last == Some(ts) {
            return;
        }
        self.last = Some(ts);
        let _ = self.keys.send(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_one_key_however_many_packets_carry_it() {
        let (keys, mut pressed) = mpsc::unbounded_channel();
        let mut watch = DigitWatch::new(keys);
        // '1' in three packets (the last two with the end bit), then '#'.
        for (ts, payload) in [
            (800, [1, 10, 0, 160]),
            (800, [1, 0x8a, 1, 64]),
            (800, [1, 0x8a, 1, 64]),
            (1600, [11, 10, 0, 160]),
            (1600, [11, 0x8a, 1, 64]),
        ] {
            watch.on_event(ts, &payload);
        }
        watch.on_event(2400, &[200, 0, 0, 0]);
        watch.on_event(3200, &[5]);
        assert_eq!(pressed.try_recv().ok(), Some('1'));
        assert_eq!(pressed.try_recv().ok(), Some('#'));
        assert!(
            pressed.try_recv().is_err(),
            "other events and short payloads are no keys"
        );
        assert_eq!(event_key(&[10, 0, 0, 0]), Some('*'));
        assert_eq!(event_key(&[15, 0, 0, 0]), Some('D'));
    }
}
