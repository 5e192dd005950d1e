//! The CRM: customers and their identities, leads and deals, the responsible
//! operator, activity history, callback tasks, conversations with messages,
//! and the durable log of requests the engine must not lose. `Store` is the
//! trait; `sql::SqlStore` implements it for SQLite and PostgreSQL. The
//! `recorder` writes down what the engine decided. No routing happens here.

pub mod identity;
mod migrations;
pub mod model;
pub mod recorder;
pub mod sql;
pub mod store;

pub use migrations::Dialect;
pub use model::*;
pub use store::{CustomerKey, Store, StoreError};

/// The wall clock in the CRM's unit (milliseconds since the Unix epoch).
pub fn now_millis() -> Millis {
    crate::daemon::engine_task::now().as_millis() as Millis
}
