//! RFC 3261 §17 transactions, thin: server transactions absorb request
//! retransmissions and repeat our last response (retransmitting INVITE
//! failures over UDP until the ACK); client transactions retransmit our
//! OPTIONS over UDP and time out. Time is an input (`Instant`), no I/O here.

pub mod client;
pub mod key;
pub mod server;

use std::time::Duration;

/// RFC 3261 timer values.
pub const T1: Duration = Duration::from_millis(500);
pub const T2: Duration = Duration::from_secs(4);
/// 64·T1: how long a completed transaction is remembered over UDP.
pub const LINGER_UDP: Duration = Duration::from_secs(32);
/// Over TCP retransmissions cannot happen; a short linger absorbs duplicates anyway.
pub const LINGER_TCP: Duration = Duration::from_secs(2);
