//! TCP and TLS: accepts connections (TLS: completes the handshake first);
//! one task per connection frames the byte stream into messages for the core
//! and writes what the core sends back. A message
//! left incomplete for `PARTIAL_TIMEOUT`, or a connection with no traffic
//! either way for `IDLE_TIMEOUT`, closes the connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use super::{ConnectionId, Inbound, Path, Write};
use crate::sip::wire::{Frame, next_frame};

const PARTIAL_TIMEOUT: Duration = Duration::from_secs(5);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longer than the default qualify interval, so a registered phone's
/// connection stays up on OPTIONS alone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("binding SIP TCP to {address}"))
}

/// Accepts connections; with `tls`, each is a TLS connection once its handshake completes.
pub fn spawn_listener(
    listener: TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    core: mpsc::Sender<Inbound>,
    max_size: usize,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let connection = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
                    let core = core.clone();
                    match &acceptor {
                        None => {
                            tokio::spawn(serve(stream, peer, connection, false, core, max_size));
                        }
                        Some(acceptor) => {
                            let handshake = acceptor.accept(stream);
                            tokio::spawn(async move {
                                match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                                    Ok(Ok(stream)) => serve(stream, peer, connection, true, core, max_size).await,
                                    Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                                }
                            });
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "SIP TCP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
}

async fn serve<S>(
    stream: S,
    peer: SocketAddr,
    connection: ConnectionId,
    tls: bool,
    core: mpsc::Sender<Inbound>,
    max: usize,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (writer, mut writes) = mpsc::unbounded_channel();
    if core.send(Inbound::Connected { connection, writer }).await.is_err() {
        return;
    }
    let path = Path::Tcp { connection, peer, tls };
    let (mut reader, mut write_half) = tokio::io::split(stream);
    let mut buffer: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16384];
    let mut reading = true;
    loop {
        let partial = !buffer.is_empty();
        tokio::select! {
            read = reader.read(&mut chunk), if reading => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buffer.extend_from_slice(&chunk[..n]);
                    match frame_all(&mut buffer, path, &core, max).await {
                        Stream::Open => {}
                        Stream::CoreCloses => reading = false,
                        Stream::CloseNow => break,
                    }
                }
            },
            write = writes.recv() => match write {
                Some(Write::Bytes(bytes)) => {
                    if write_half.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Write::Close) | None => break,
            },
            _ = tokio::time::sleep(PARTIAL_TIMEOUT), if partial && reading => {
                tracing::debug!(%peer, "incomplete SIP message on TCP timed out; closing");
                break;
            }
            _ = tokio::time::sleep(IDLE_TIMEOUT), if !partial => {
                tracing::debug!(%peer, "idle SIP connection closed");
                break;
            }
        }
    }
    let _ = write_half.shutdown().await;
    let _ = core.send(Inbound::Closed { connection }).await;
}

enum Stream {
    Open,
    /// The core got an unframable message; it answers and then closes.
    CoreCloses,
    CloseNow,
}

/// Hands every complete message in `buffer` to the core.
async fn frame_all(buffer: &mut Vec<u8>, path: Path, core: &mpsc::Sender<Inbound>, max: usize) -> Stream {
    loop {
        match next_frame(buffer, max) {
            Frame::KeepAlive(n) => {
                buffer.drain(..n);
            }
            Frame::Complete(n) => {
                let bytes: Vec<u8> = buffer.drain(..n).collect();
                let _ = core.send(Inbound::Message { bytes, path }).await;
            }
            Frame::Incomplete => return Stream::Open,
            Frame::Unframable { head_len, too_large } => {
                let head = buffer[..head_len].to_vec();
                buffer.clear();
                let _ = core.send(Inbound::Unframable { head, path, too_large }).await;
                return Stream::CoreCloses;
            }
            Frame::Overflow => {
                tracing::debug!(peer = %path.peer(), "SIP headers on TCP exceed the size limit; closing");
                return Stream::CloseNow;
            }
        }
    }
}
