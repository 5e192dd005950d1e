//! A small SMTP client for operator replies to mail: hands one message to the
//! configured relay (the local MTA, which queues, retries and delivers).
//! Plain SMTP (RFC 5321): EHLO, MAIL, RCPT, DATA with dot-stuffing, QUIT; no
//! TLS or authentication, so the relay is expected on a trusted address.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Longest wait for one reply of the relay.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

struct Relay {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Relay {
    /// Reads one (possibly multi-line) reply; fails unless its code is one of `expected`.
    async fn expect(&mut self, step: &str, expected: &[u16]) -> Result<(), String> {
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(REPLY_TIMEOUT, self.reader.read_line(&mut line))
                .await
                .map_err(|_| format!("the relay did not answer {step} in time"))?
                .map_err(|e| format!("reading the relay's answer to {step}: {e}"))?;
            if read == 0 {
                return Err(format!("the relay closed the connection at {step}"));
            }
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
            if line.as_bytes().get(3) == Some(&b'-') {
                continue;
            }
            return match code {
                Some(code) if expected.contains(&code) => Ok(()),
                _ => Err(format!("the relay refused {step}: {}", line.trim_end())),
            };
        }
    }

    async fn command(&mut self, line: &str, expected: &[u16]) -> Result<(), String> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| format!("sending {line}: {e}"))?;
        let step = line.split(':').next().unwrap_or(line).to_string();
        self.expect(&step, expected).await
    }
}

/// `message` with CRLF line ends and dot-stuffing, ending in `CRLF.CRLF`.
fn data_block(message: &str) -> String {
    let mut data = String::with_capacity(message.len() + 16);
    for line in message.replace("\r\n", "\n").split('\n') {
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
        data.push_str("\r\n");
    }
    data.push_str(".\r\n");
    data
}

/// Sends `message` (headers and body) from `from` to `to` through `relay`.
pub async fn send(relay: SocketAddr, from: &str, to: &str, message: &str) -> Result<(), String> {
    let stream = tokio::time::timeout(REPLY_TIMEOUT, TcpStream::connect(relay))
        .await
        .map_err(|_| format!("connecting to the relay {relay} timed out"))?
        .map_err(|e| format!("connecting to the relay {relay}: {e}"))?;
    let (reader, writer) = stream.into_split();
    let mut session = Relay {
        reader: BufReader::new(reader),
        writer,
    };
    session.expect("the greeting", &[220]).await?;
    session.command("EHLO acdd", &[250]).await?;
    session.command(&format!("MAIL FROM:<{from}>"), &[250]).await?;
    session.command(&format!("RCPT TO:<{to}>"), &[250, 251]).await?;
    session.command("DATA", &[354]).await?;
    session
        .writer
        .write_all(data_block(message).as_bytes())
        .await
        .map_err(|e| format!("sending the message: {e}"))?;
    session.expect("the message", &[250]).await?;
    // The relay has the message now; a failed goodbye changes nothing.
    let _ = session.command("QUIT", &[221]).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::data_block;

    #[test]
    fn lines_starting_with_a_dot_are_stuffed() {
        assert_eq!(data_block("a\n.b\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
    }
}
