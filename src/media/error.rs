//! Errors of the media layer. Each variant says what went wrong in words a log
//! reader understands; `sip_status` tells the telephony layer which SIP
//! response fits (488 for SDP it cannot use, 503 when no ports are left).

use std::path::PathBuf;

use super::LegId;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no free RTP port pair left in {first}..={last}")]
    PortsExhausted { first: u16, last: u16 },
    #[error("RTP port range {first}..={last} holds no even port with its odd RTCP neighbour")]
    BadPortRange { first: u16, last: u16 },
    #[error("SDP does not parse: {0}")]
    SdpParse(String),
    #[error("SDP has no usable audio stream: {0}")]
    NoAudio(String),
    #[error("no codec in common: {0}")]
    NoCommonCodec(String),
    #[error("unknown media leg {0}")]
    UnknownLeg(LegId),
    #[error("media leg {0} has no negotiated codec yet")]
    NotNegotiated(LegId),
    #[error("playout and recording need PCMU or PCMA, leg {leg} uses {codec}")]
    NotG711 { leg: LegId, codec: String },
    #[error("audio file {path}: {reason}")]
    Prompt { path: PathBuf, reason: String },
    #[error("recording {path}: {reason}")]
    Record { path: PathBuf, reason: String },
    #[error("the media session has ended")]
    Ended,
}

impl MediaError {
    /// The SIP status code the telephony layer should answer with when this
    /// error stops it from accepting an offer.
    pub fn sip_status(&self) -> u16 {
        match self {
            MediaError::SdpParse(_) | MediaError::NoAudio(_) | MediaError::NoCommonCodec(_) => 488,
            MediaError::PortsExhausted { .. } => 503,
            _ => 500,
        }
    }
}
