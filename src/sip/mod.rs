//! The SIP layer: transports, transactions, registrar with digest auth,
//! trunks and the front door that screens every request.
//!
//! It turns SIP into engine events (`PhoneReachable`) and hands calls from
//! trunks to the telephony layer through `calls::IncomingCalls`; it never
//! decides routing. rsipstack is used inside `wire/` only: no other module
//! of acdd names its types.

pub mod auth;
pub mod wire;

pub use auth::digest::DigestAlgorithm;
pub use cidr::Cidr;

pub mod cidr;
