//! acdd: an automatic call distributor for SIP, with the same routing engine
//! serving chat, mail and form requests. See ARCHITECTURE.md.

pub mod api;
pub mod channels;
pub mod config;
pub mod crm;
pub mod daemon;
pub mod engine;
pub mod eventlog;
pub mod media;
pub mod metrics;
pub mod sip;
pub mod telephony;
