//! Server-side digest authentication (RFC 3261 §22, RFC 7616, RFC 8760):
//! hashing, the Authorization header, signed expiring nonces, nonce-count
//! replay protection and failed-attempt throttling per source.

pub mod authorization;
pub mod digest;
pub mod nonce;
pub mod nonce_counts;
pub mod throttle;
pub mod verifier;
