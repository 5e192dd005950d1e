//! The registrar (RFC 3261 §10): who is reachable at which contacts until
//! when. `bindings` is the state, `register` applies one REGISTER to it,
//! `persist` keeps it across restarts.

pub mod bindings;
pub mod persist;
pub mod register;

pub use bindings::{Binding, Bindings};
