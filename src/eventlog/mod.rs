//! The event log: every engine input and output, appended as JSON lines,
//! and what can be done with it afterwards — replay to verify that every
//! decision comes out the same, and "what if" under another configuration.

mod figures;
mod record;
mod replay;
mod report;
mod traffic;
mod whatif;
mod writer;

pub use figures::{Figures, QueueFigures};
pub use record::Record;
pub use replay::{ReplayError, Replayed, replay};
pub use report::side_by_side;
pub use traffic::Traffic;
pub use whatif::simulate;
pub use writer::EventLog;
