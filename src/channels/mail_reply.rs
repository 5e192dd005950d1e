//! Operator replies to mail: a stored reply becomes an RFC 5322 message from
//! the mailbox to the customer, in the thread (In-Reply-To / References), and
//! goes out through the mailbox's `reply_relay`. Its Message-ID is remembered
//! so that the customer's answer finds the thread again.

use crate::crm::{Conversation, Message};

use super::{ChannelContext, smtp};

/// Sends a stored reply. `Ok(false)`: the mailbox has no relay; the reply is only stored.
pub async fn deliver(ctx: &ChannelContext, conversation: &Conversation, message: &Message) -> Result<bool, String> {
    let relay = ctx
        .config
        .load()
        .routes
        .mail
        .iter()
        .find(|r| r.mailbox.get_ref().eq_ignore_ascii_case(&conversation.origin))
        .and_then(|r| r.reply_relay);
    let Some(relay) = relay else { return Ok(false) };
    let thread = ctx.store.thread_ids(conversation.id).await.map_err(|e| e.to_string())?;
    let from = one_line(&conversation.origin);
    let to = one_line(&conversation.external_id);
    let domain = from.split('@').nth(1).unwrap_or("acdd.invalid");
    let message_id = format!("acdd.{}.{}@{domain}", conversation.id, message.id);
    let subject = match conversation.subject.as_deref().map(one_line) {
        Some(s) if s.to_ascii_lowercase().starts_with("re:") => s,
        Some(s) => format!("Re: {s}"),
        None => "Re: your message".to_string(),
    };
    let mut text = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{message_id}>\r\n",
        encode_header(&subject),
        rfc5322_date(message.at)
    );
    if let Some(last) = thread.last() {
        let references: Vec<String> = thread.iter().map(|id| format!("<{}>", one_line(id))).collect();
        text.push_str(&format!(
            "In-Reply-To: <{}>\r\nReferences: {}\r\n",
            one_line(last),
            references.join(" ")
        ));
    }
    text.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    text.push_str(&message.body);
    smtp::send(relay, &from, &to, &text).await?;
    ctx.store
        .remember_mail_id(conversation.id, message_id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}

/// A header value that cannot break out of its header.
fn one_line(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// RFC 2047 for non-ASCII header text.
fn encode_header(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    format!("=?utf-8?B?{}?=", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Sun, 29 Nov 2026 12:00:00 +0000` for milliseconds since the epoch.
fn rfc5322_date(millis: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = millis.div_euclid(1000);
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc5322() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(1_795_954_128_297), "Sun, 29 Nov 2026 12:08:48 +0000");
        assert_eq!(rfc5322_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn headers_stay_on_one_line_and_non_ascii_is_encoded() {
        assert_eq!(one_line("a\r\nBcc: x@y"), "aBcc: x@y");
        assert_eq!(encode_header("Re: Grüße"), "=?utf-8?B?UmU6IEdyw7zDn2U=?=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
