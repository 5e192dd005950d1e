//! The SIP layer: transports, transactions, registrar with digest auth,
//! trunks and the front door that screens every request.
//!
//! It turns SIP into engine events (`PhoneReachable`) and hands calls to the
//! telephony layer through `calls::IncomingCalls`; it never decides routing.
//! rsipstack is used inside `wire/` only: no other module names its types.

pub mod auth;
pub mod calls;
pub mod cidr;
mod core;
pub mod flood;
pub mod reachability;
pub mod registrar;
pub mod service;
pub mod settings;
pub mod stats;
pub mod transaction;
pub mod transport;
pub mod trunk;
pub mod wire;

pub use auth::digest::DigestAlgorithm;
pub use calls::{
    CallCommand, CallControl, CallUpdate, CallVerdict, Caller, DialTarget, IncomingCall, IncomingCalls, LegEvent,
    NoTelephony, ReofferDialog,
};
pub use cidr::Cidr;
#[doc(hidden)]
pub use core::harness::{CoreHarness, Heard};
pub use service::SipService;
pub use settings::SipSettings;
