//! Cuts messages out of a stream (TCP): headers up to the empty line, then
//! exactly Content-Length bytes of body (RFC 3261 §18.3).

/// What the front of a stream buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// CRLFs between messages (keep-alives): skip this many bytes.
    KeepAlive(usize),
    /// A whole message of this many bytes.
    Complete(usize),
    /// Wait for more bytes.
    Incomplete,
    /// The headers end at this offset, but the message cannot be framed
    /// (bad or repeated Content-Length) or is larger than allowed: answer from
    /// the headers, then close the connection.
    Unframable { head_len: usize, too_large: bool },
    /// No end of headers within the size limit: close the connection.
    Overflow,
}

pub fn next_frame(buffer: &[u8], max_size: usize) -> Frame {
    let blanks = buffer.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
    if blanks > 0 {
        return Frame::KeepAlive(blanks);
    }
    let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buffer.len() > max_size {
            Frame::Overflow
        } else {
            Frame::Incomplete
        };
    };
    let head_len = head_end + 4;
    let head = String::from_utf8_lossy(&buffer[..head_end]);
    let mut lengths = head.split("\r\n").skip(1).filter_map(|line| {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l")).then(|| value.trim())
    });
    let body_len = match (lengths.next(), lengths.next()) {
        (None, _) => 0,
        (Some(value), None) if !value.is_empty() && value.len() <= 9 && value.chars().all(|c| c.is_ascii_digit()) => {
            value.parse::<usize>().unwrap_or(usize::MAX)
        }
        _ => {
            return Frame::Unframable {
                head_len,
                too_large: false,
            };
        }
    };
    let total = head_len.saturating_add(body_len);
    if total > max_size {
        return Frame::Unframable {
            head_len,
            too_large: true,
        };
    }
    if buffer.len() < total {
        Frame::Incomplete
    } else {
        Frame::Complete(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_by_content_length() {
        let one = b"OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc";
        assert_eq!(next_frame(one, 1000), Frame::Complete(one.len()));
        assert_eq!(next_frame(&one[..one.len() - 1], 1000), Frame::Incomplete);
        assert_eq!(next_frame(b"\r\n\r\nX", 1000), Frame::KeepAlive(4));
        let negative = b"X\r\nContent-Length: -999\r\n\r\n";
        assert_eq!(
            next_frame(negative, 1000),
            Frame::Unframable {
                head_len: negative.len(),
                too_large: false
            }
        );
        let twice = b"X\r\nContent-Length: 1\r\nl: 1\r\n\r\nab";
        assert!(matches!(
            next_frame(twice, 1000),
            Frame::Unframable { too_large: false, .. }
        ));
        let big = b"X\r\nContent-Length: 5000\r\n\r\n";
        assert!(matches!(
            next_frame(big, 1000),
            Frame::Unframable { too_large: true, .. }
        ));
        assert_eq!(next_frame(&[b'a'; 2000], 1000), Frame::Overflow);
    }
}
