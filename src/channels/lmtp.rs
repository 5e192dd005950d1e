//! The LMTP listener (RFC 2033) through which Postfix or Exim deliver mail
//! (`lmtp:inet:HOST:PORT`): LHLO, MAIL, RCPT, DATA with one reply per
//! recipient, RSET, NOOP, QUIT. Unknown mailbox → 550, too large → 552.
//! Each accepted recipient's copy is stored before its 250 is sent. While the
//! daemon stops, new connections and new mails get 421 (the MTA retries).
//! This file holds the sockets; `lmtp_dialogue.rs` decides every reply.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::lmtp_dialogue::{Delivery, Dialogue, GREETING, Input, Policy, Step, too_big_reply};
use super::{ChannelContext, ChannelError, mail};

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
    dialogue: Dialogue,
}

/// The daemon as the dialogue sees it.
struct Daemon<'a>(&'a ChannelContext);

impl Policy for Daemon<'_> {
    fn is_mailbox(&self, address: &str) -> bool {
        mail::is_mailbox(self.0, address)
    }
    fn draining(&self) -> bool {
        self.0.drain.is_draining()
    }
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

impl Session {
    fn new(stream: TcpStream, ctx: ChannelContext) -> Session {
        let max_bytes = ctx.config.load().limits.mail_bytes;
        let (read, write) = stream.into_split();
        Session {
            reader: BufReader::new(read),
            writer: write,
            ctx,
            dialogue: Dialogue::new(max_bytes),
        }
    }

    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        self.writer.write_all(text.as_bytes()).await?;
        self.writer.write_all(b"\r\n").await
    }

    async fn run(mut self) -> std::io::Result<()> {
        self.reply(GREETING).await?;
        loop {
            let line = read_line(&mut self.reader, self.dialogue.line_limit()).await?;
            let step = match &line {
                Line::Closed => return Ok(()),
                Line::TooLong => self.dialogue.input(Input::TooLong, &Daemon(&self.ctx)),
                Line::Text(text) => self.dialogue.input(Input::Line(text), &Daemon(&self.ctx)),
            };
            match step {
                Step::Continue => {}
                Step::Reply(text) => self.reply(&text).await?,
                Step::Close(text) => {
                    self.reply(&text).await?;
                    return Ok(());
                }
                Step::Deliver(delivery) => self.deliver(delivery).await?,
            }
        }
    }

    /// One reply per recipient (RFC 2033 §4.2), each after its copy is stored.
    async fn deliver(&mut self, delivery: Delivery) -> std::io::Result<()> {
        let max_bytes = self.dialogue.max_bytes();
        for recipient in &delivery.recipients {
            let answer = if delivery.too_big {
                too_big_reply(max_bytes)
            } else {
                match mail::deliver(&self.ctx, recipient, &delivery.from, &delivery.data).await {
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
