//! The wire format: reading and checking received messages (requests and the
//! responses to ours), framing streams, writing responses and route sets, and (through
//! rsipstack) building our own OPTIONS. Nothing here does I/O or keeps state.

pub mod framing;
pub mod headers;
pub mod name_addr;
pub mod outgoing;
pub mod parse;
pub mod response;
pub mod route;
pub mod uri;
pub mod via;

pub use framing::{Frame, next_frame};
pub use headers::Headers;
pub use parse::{Message, ParseError, Rejection, Request, Response, parse_message};
pub use response::{ResponseBuilder, reason_phrase};
