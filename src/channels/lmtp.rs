//! The LMTP listener (RFC 2033) through which Postfix or Exim deliver mail
//! (`lmtp:inet:HOST:PORT`): LHLO, MAIL, RCPT, DATA with one reply per
//! recipient, RSET, NOOP, QUIT. Unknown mailbox → 550, too large → 552.
//! Each accepted recipient's copy is stored before its 250 is sent. While the
//! daemon stops, new connections and new mails get 421 (the MTA retries).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::{ChannelContext, ChannelError, mail};

/// Longest command line we read.
const MAX_COMMAND: u64 = 2048;
/// Recipients per message.
const MAX_RECIPIENTS: usize = 100;
/// Simultaneous sessions.
const MAX_SESSIONS: usize = 64;
/// A client silent this long is dropped.
const IDLE: Duration = Duration::from_secs(300);

/// Serves LMTP on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, ctx: ChannelContext) {
    let sessions = Arc::new(Semaphore::new(MAX_SESSIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "LMTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = sessions.clone().try_acquire_owned() else {
            let mut stream = stream;
            let _ = stream.write_all(b"421 4.3.2 too many connections, try later\r\n").await;
            continue;
        };
        if ctx.drain.is_draining() {
            let mut stream = stream;
            let _ = stream.write_all(b"421 4.3.2 acdd is stopping, try later\r\n").await;
            continue;
        }
        let ctx = ctx.clone();
        tokio::spawn(async move {
            if let Err(error) = Session::new(stream, ctx).run().await {
                tracing::debug!(%peer, %error, "LMTP session ended");
            }
            drop(permit);
        });
    }
}

struct Session {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    ctx: ChannelContext,
    max_bytes: usize,
    greeted: bool,
    from: Option<String>,
    recipients: Vec<String>,
}

/// A line read, or why not.
enum Line {
    Text(Vec<u8>),
    TooLong,
    Closed,
}

async fn read_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, max: u64) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let read = tokio::time::timeout(IDLE, (&mut *reader).take(max).read_until(b'\n', &mut line))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    if read == 0 {
        return Ok(Line::Closed);
    }
    if !line.ends_with(b"\n") {
        // Skip the rest of the over-long line.
        let mut rest = Vec::new();
        reader.read_until(b'\n', &mut rest).await?;
        return Ok(Line::TooLong);
    }
    Ok(Line::Text(line))
}

/// The address inside `<...>` after a `FROM:` / `TO:` keyword, and the rest.
fn path_argument<'a>(argument: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let upper = argument.to_ascii_uppercase();
    if !upper.starts_with(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((&rest[..end], rest[end + 1..].trim()))
}

impl Session {
    fn new(stream: TcpStream, ctx: ChannelContext) -> Session {
        let max_bytes = ctx.config.load().limits.mail_bytes;
        let (read, write) = stream.into_split();
        Session {
            reader: BufReader::new(read),
            writer: write,
            ctx,
            max_bytes,
            greeted: false,
            from: None,
            recipients: Vec::new(),
        }
    }

    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        self.writer.write_all(text.as_bytes()).await?;
        self.writer.write_all(b"\r\n").await
    }

    fn reset(&mut self) {
        self.from = None;
        self.recipients.clear();
    }

    async fn run(mut self) -> std::io::Result<()> {
        self.reply("220 acdd LMTP ready").await?;
        loop {
            let line = match read_line(&mut self.reader, MAX_COMMAND).await? {
                Line::Closed => return Ok(()),
                Line::TooLong => {
                    self.reply("500 5.5.2 line too long").await?;
                    continue;
                }
                Line::Text(line) => line,
            };
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            let (verb, argument) = line.split_once(' ').unwrap_or((&line, ""));
            let argument = argument.trim();
            match verb.to_ascii_uppercase().as_str() {
                "LHLO" if argument.is_empty() => self.reply("501 5.5.4 LHLO needs a host name").await?,
                "LHLO" => {
                    self.reset();
                    self.greeted = true;
                    let size = format!(
                        "250-acdd\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE {}",
                        self.max_bytes
                    );
                    self.reply(&size).await?;
                }
                "HELO" | "EHLO" => self.reply("500 5.5.1 this is LMTP: say LHLO").await?,
                "MAIL" if self.ctx.drain.is_draining() => {
                    // 421 closes the session; the MTA keeps the mail and retries.
                    self.reply("421 4.3.2 acdd is stopping, try later").await?;
                    return Ok(());
                }
                "MAIL" => self.mail(argument).await?,
                "RCPT" => self.rcpt(argument).await?,
                "DATA" => self.data().await?,
                "RSET" => {
                    self.reset();
                    self.reply("250 2.0.0 reset").await?;
                }
                "NOOP" => self.reply("250 2.0.0 ok").await?,
                "VRFY" => self.reply("252 2.5.0 cannot verify, send the mail").await?,
                "QUIT" => {
                    self.reply("221 2.0.0 bye").await?;
                    return Ok(());
                }
                _ => self.reply("500 5.5.1 unknown command").await?,
            }
        }
    }

    async fn mail(&mut self, argument: &str) -> std::io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 say LHLO first").await;
        }
        if self.from.is_some() {
            return self.reply("503 5.5.1 sender already given").await;
        }
        let Some((from, parameters)) = path_argument(argument, "FROM:") else {
            return self.reply("501 5.5.4 syntax: MAIL FROM:<address>").await;
        };
        let declared = parameters
            .split_whitespace()
            .find_map(|p| p.to_ascii_uppercase().strip_prefix("SIZE=").map(str::to_string))
            .and_then(|n| n.parse::<usize>().ok());
        if declared.is_some_and(|size| size > self.max_bytes) {
            let text = format!("552 5.3.4 message larger than the limit of {} bytes", self.max_bytes);
            return self.reply(&text).await;
        }
        self.from = Some(from.to_string());
        self.reply("250 2.1.0 sender ok").await
    }

    async fn rcpt(&mut self, argument: &str) -> std::io::Result<()> {
        if self.from.is_none() {
            return self.reply("503 5.5.1 MAIL first").await;
        }
        let Some((to, _)) = path_argument(argument, "TO:") else {
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>").await;
        };
        if self.recipients.len() >= MAX_RECIPIENTS {
            return self.reply("452 4.5.3 too many recipients").await;
        }
        if !mail::is_mailbox(&self.ctx, to) {
            return self.reply("550 5.1.1 no such mailbox here").await;
        }
        self.recipients.push(to.to_string());
        self.reply("250 2.1.5 recipient ok").await
    }

    async fn data(&mut self) -> std::io::Result<()> {
        if self.from.is_none() || self.recipients.is_empty() {
            return self.reply("503 5.5.1 no valid recipients").await;
        }
        self.reply("354 end data with <CRLF>.<CRLF>").await?;
        let mut data = Vec::new();
        let mut too_big = false;
        loop {
            let line = match read_line(&mut self.reader, 64 * 1024).await? {
                Line::Closed => return Ok(()),
                Line::TooLong => {
                    too_big = true;
                    continue;
                }
                Line::Text(line) => line,
            };
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            if data.len() + unstuffed.len() > self.max_bytes {
                too_big = true;
                data.clear();
            }
            if !too_big {
                data.extend_from_slice(unstuffed);
            }
        }
        let from = self.from.clone().unwrap_or_default();
        let recipients = std::mem::take(&mut self.recipients);
        self.reset();
        for recipient in recipients {
            let answer = if too_big {
                format!("552 5.3.4 message larger than the limit of {} bytes", self.max_bytes)
            } else {
                match mail::deliver(&self.ctx, &recipient, &from, &data).await {
                    Ok(()) => format!("250 2.0.0 <{recipient}> delivered"),
                    Err(ChannelError::Invalid(problems)) => {
                        let named: Vec<String> =
                            problems.iter().map(|p| format!("{} {}", p.field, p.problem)).collect();
                        format!("554 5.6.0 <{recipient}> refused: {}", named.join(", "))
                    }
                    Err(ChannelError::UnknownRoute { .. }) => format!("550 5.1.1 <{recipient}> no such mailbox here"),
                    Err(error) => {
                        tracing::error!(%error, %recipient, "storing a mail failed");
                        format!("451 4.3.0 <{recipient}> not stored, try again later")
                    }
                }
            };
            self.reply(&answer).await?;
        }
        Ok(())
    }
}
