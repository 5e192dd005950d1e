//! The channel and API suite: the real `acdd` binary over real HTTP, SSE and
//! LMTP, every scenario once on SQLite and once on PostgreSQL.

mod harness;

mod availability;
mod chat_routing;
mod forms;
mod limits;
mod mail;
mod metrics;
mod missed;
mod recovery;
mod security;
