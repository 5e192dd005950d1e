//! The LMTP conversation (RFC 2033) without sockets: which reply each
//! command line gets, what the DATA lines add up to, and when a message is
//! complete and must be delivered to its recipients. `lmtp.rs` reads the
//! lines, asks the mailbox check and the drain state, writes the replies and
//! does the deliveries; this file decides. The `lmtp_session` fuzz target
//! drives it with arbitrary lines.

/// Longest command line read.
pub const MAX_COMMAND: u64 = 2048;
/// Longest line inside DATA.
pub const MAX_DATA_LINE: u64 = 64 * 1024;
/// Recipients per message.
pub const MAX_RECIPIENTS: usize = 100;

/// One line from the client, as the reader saw it.
pub enum Input<'a> {
    /// A whole line, with its line end.
    Line(&'a [u8]),
    /// A line longer than the limit (its rest was skipped).
    TooLong,
}

/// What the session does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this reply line (without CRLF).
    Reply(String),
    /// Send this reply and close the connection.
    Close(String),
    /// Nothing to send (a DATA line was taken).
    Continue,
    /// The message is complete: deliver it to each recipient and send one
    /// reply for each, in order. `too_big` means every reply is 552.
    Deliver(Delivery),
}

#[derive(Debug, PartialEq, Eq)]
pub struct Delivery {
    pub from: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
    pub too_big: bool,
}

/// What the dialogue needs to know of the daemon.
pub trait Policy {
    /// Mail for this address is taken (a configured mailbox).
    fn is_mailbox(&self, address: &str) -> bool;
    /// The daemon is stopping: no new mail.
    fn draining(&self) -> bool;
}

/// The state of one LMTP session.
pub struct Dialogue {
    max_bytes: usize,
    greeted: bool,
    from: Option<String>,
    recipients: Vec<String>,
    /// `Some` between 354 and the final dot: the bytes so far, and whether
    /// they passed the limit.
    data: Option<(Vec<u8>, bool)>,
}

/// The greeting sent when a client connects.
pub const GREETING: &str = "220 acdd LMTP ready";

/// The 552 text for a message over `max_bytes`.
pub fn too_big_reply(max_bytes: usize) -> String {
    format!("552 5.3.4 message larger than the limit of {max_bytes} bytes")
}

/// The address inside `<...>` after a `FROM:` / `TO:` keyword, and the rest.
fn path_argument<'a>(argument: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((&rest[..end], rest[end + 1..].trim()))
}

fn reply(text: impl Into<String>) -> Step {
    Step::Reply(text.into())
}

impl Dialogue {
    pub fn new(max_bytes: usize) -> Dialogue {
        Dialogue {
            max_bytes,
            greeted: false,
            from: None,
            recipients: Vec::new(),
            data: None,
        }
    }

    /// The size limit this session announced.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Whether the next line is message content (after 354), which may be
    /// longer than a command.
    pub fn in_data(&self) -> bool {
        self.data.is_some()
    }

    /// The longest line the reader should take next.
    pub fn line_limit(&self) -> u64 {
        if self.in_data() { MAX_DATA_LINE } else { MAX_COMMAND }
    }

    fn reset(&mut self) {
        self.from = None;
        self.recipients.clear();
        self.data = None;
    }

    /// The step for one line from the client.
    pub fn input(&mut self, input: Input<'_>, policy: &dyn Policy) -> Step {
        if self.data.is_some() {
            return self.data_line(input);
        }
        let line = match input {
            Input::TooLong => return reply("500 5.5.2 line too long"),
            Input::Line(line) => String::from_utf8_lossy(line).trim_end().to_string(),
        };
        let (verb, argument) = line.split_once(' ').unwrap_or((&line, ""));
        let argument = argument.trim();
        match verb.to_ascii_uppercase().as_str() {
            "LHLO" if argument.is_empty() => reply("501 5.5.4 LHLO needs a host name"),
            "LHLO" => {
                self.reset();
                self.greeted = true;
                reply(format!(
                    "250-acdd\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE {}",
                    self.max_bytes
                ))
            }
            "HELO" | "EHLO" => reply("500 5.5.1 this is LMTP: say LHLO"),
            // 421 closes the session; the MTA keeps the mail and retries.
            "MAIL" if policy.draining() => Step::Close("421 4.3.2 acdd is stopping, try later".into()),
            "MAIL" => self.mail(argument),
            "RCPT" => self.rcpt(argument, policy),
            "DATA" => self.start_data(),
            "RSET" => {
                self.reset();
                reply("250 2.0.0 reset")
            }
            "NOOP" => reply("250 2.0.0 ok"),
            "VRFY" => reply("252 2.5.0 cannot verify, send the mail"),
            "QUIT" => Step::Close("221 2.0.0 bye".into()),
            _ => reply("500 5.5.1 unknown command"),
        }
    }

    fn mail(&mut self, argument: &str) -> Step {
        if !self.greeted {
            return reply("503 5.5.1 say LHLO first");
        }
        if self.from.is_some() {
            return reply("503 5.5.1 sender already given");
        }
        let Some((from, parameters)) = path_argument(argument, "FROM:") else {
            return reply("501 5.5.4 syntax: MAIL FROM:<address>");
        };
        let declared = parameters
            .split_whitespace()
            .find_map(|p| p.to_ascii_uppercase().strip_prefix("SIZE=").map(str::to_string))
            .and_then(|n| n.parse::<usize>().ok());
        if declared.is_some_and(|size| size > self.max_bytes) {
            return reply(too_big_reply(self.max_bytes));
        }
        self.from = Some(from.to_string());
        reply("250 2.1.0 sender ok")
    }

    fn rcpt(&mut self, argument: &str, policy: &dyn Policy) -> Step {
        if self.from.is_none() {
            return reply("503 5.5.1 MAIL first");
        }
        let Some((to, _)) = path_argument(argument, "TO:") else {
            return reply("501 5.5.4 syntax: RCPT TO:<address>");
        };
        if self.recipients.len() >= MAX_RECIPIENTS {
            return reply("452 4.5.3 too many recipients");
        }
        if !policy.is_mailbox(to) {
            return reply("550 5.1.1 no such mailbox here");
        }
        self.recipients.push(to.to_string());
        reply("250 2.1.5 recipient ok")
    }

    fn start_data(&mut self) -> Step {
        if self.from.is_none() || self.recipients.is_empty() {
            return reply("503 5.5.1 no valid recipients");
        }
        self.data = Some((Vec::new(), false));
        reply("354 end data with <CRLF>.<CRLF>")
    }

    fn data_line(&mut self, input: Input<'_>) -> Step {
        let Some((data, too_big)) = self.data.as_mut() else {
            return Step::Continue;
        };
        let line = match input {
            Input::TooLong => {
                *too_big = true;
                return Step::Continue;
            }
            Input::Line(line) => line,
        };
        if line == b".\r\n" || line == b".\n" {
            let (data, too_big) = self.data.take().unwrap_or_default();
            let delivery = Delivery {
                from: self.from.take().unwrap_or_default(),
                recipients: std::mem::take(&mut self.recipients),
                data,
                too_big,
            };
            self.reset();
            return Step::Deliver(delivery);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(line);
        if data.len() + unstuffed.len() > self.max_bytes {
            *too_big = true;
            data.clear();
        }
        if !*too_big {
            data.extend_from_slice(unstuffed);
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Desk {
        draining: bool,
    }

    impl Policy for Desk {
        fn is_mailbox(&self, address: &str) -> bool {
            address.eq_ignore_ascii_case("support@example.com")
        }
        fn draining(&self) -> bool {
            self.draining
        }
    }

    fn say(dialogue: &mut Dialogue, line: &str) -> Step {
        dialogue.input(Input::Line(line.as_bytes()), &Desk { draining: false })
    }

    fn code(step: &Step) -> &str {
        match step {
            Step::Reply(text) | Step::Close(text) => &text[..3],
            _ => "",
        }
    }

    #[test]
    fn a_whole_delivery_unstuffs_dots_and_names_every_recipient() {
        let mut d = Dialogue::new(1000);
        assert_eq!(code(&say(&mut d, "LHLO mx\r\n")), "250");
        assert_eq!(code(&say(&mut d, "MAIL FROM:<a@b.c> SIZE=10\r\n")), "250");
        assert_eq!(code(&say(&mut d, "RCPT TO:<support@example.com>\r\n")), "250");
        assert_eq!(code(&say(&mut d, "RCPT TO:<nobody@example.com>\r\n")), "550");
        assert_eq!(code(&say(&mut d, "rcpt to:<SUPPORT@example.com>\r\n")), "250");
        assert_eq!(code(&say(&mut d, "DATA\r\n")), "354");
        assert!(d.in_data());
        assert_eq!(say(&mut d, "Subject: hi\r\n"), Step::Continue);
        assert_eq!(say(&mut d, "..dot\r\n"), Step::Continue);
        let Step::Deliver(delivery) = say(&mut d, ".\r\n") else {
            panic!("no delivery");
        };
        assert_eq!(delivery.from, "a@b.c");
        assert_eq!(delivery.recipients, ["support@example.com", "SUPPORT@example.com"]);
        assert_eq!(delivery.data, b"Subject: hi\r\n.dot\r\n");
        assert!(!delivery.too_big);
        assert!(!d.in_data());
        // The next transaction starts afresh.
        assert_eq!(code(&say(&mut d, "RCPT TO:<support@example.com>\r\n")), "503");
    }

    #[test]
    fn order_and_syntax_are_enforced() {
        let mut d = Dialogue::new(1000);
        assert_eq!(code(&say(&mut d, "MAIL FROM:<a@b.c>\r\n")), "503");
        assert_eq!(code(&say(&mut d, "EHLO mx\r\n")), "500");
        assert_eq!(code(&say(&mut d, "LHLO\r\n")), "501");
        assert_eq!(code(&say(&mut d, "LHLO mx\r\n")), "250");
        assert_eq!(code(&say(&mut d, "DATA\r\n")), "503");
        assert_eq!(code(&say(&mut d, "MAIL FROM:a@b.c\r\n")), "501");
        assert_eq!(code(&say(&mut d, "MAIL FROM:<a@b.c>\r\n")), "250");
        assert_eq!(code(&say(&mut d, "MAIL FROM:<a@b.c>\r\n")), "503");
        assert_eq!(code(&say(&mut d, "DATA\r\n")), "503");
        assert_eq!(code(&say(&mut d, "RSET\r\n")), "250");
        assert_eq!(code(&say(&mut d, "FROB\r\n")), "500");
        assert_eq!(
            d.input(Input::TooLong, &Desk { draining: false }),
            reply("500 5.5.2 line too long")
        );
        assert_eq!(code(&say(&mut d, "QUIT\r\n")), "221");
    }

    #[test]
    fn a_message_over_the_limit_is_refused_whole() {
        let mut d = Dialogue::new(10);
        say(&mut d, "LHLO mx\r\n");
        assert_eq!(code(&say(&mut d, "MAIL FROM:<a@b.c> SIZE=11\r\n")), "552");
        say(&mut d, "MAIL FROM:<a@b.c>\r\n");
        say(&mut d, "RCPT TO:<support@example.com>\r\n");
        say(&mut d, "DATA\r\n");
        say(&mut d, "0123456789ab\r\n");
        say(&mut d, "c\r\n");
        let Step::Deliver(delivery) = say(&mut d, ".\r\n") else {
            panic!("no delivery");
        };
        assert!(delivery.too_big);
        assert!(delivery.data.is_empty());
    }

    #[test]
    fn a_stopping_daemon_takes_no_new_mail() {
        let mut d = Dialogue::new(10);
        say(&mut d, "LHLO mx\r\n");
        let step = d.input(Input::Line(b"MAIL FROM:<a@b.c>\r\n"), &Desk { draining: true });
        assert!(matches!(step, Step::Close(text) if text.starts_with("421")));
    }

    #[test]
    fn a_keyword_cut_inside_a_character_is_a_syntax_error() {
        let mut d = Dialogue::new(10);
        say(&mut d, "LHLO mx\r\n");
        assert_eq!(code(&say(&mut d, "MAIL FRé\r\n")), "501");
    }
}
