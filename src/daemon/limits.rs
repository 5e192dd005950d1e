//! The open-files limit. acdd holds two sockets per RTP port pair (kept
//! open between calls), besides SIP, HTTP, LMTP and storage; a shell's
//! usual soft limit of 1,024 is too low for a real port range. At start the
//! soft limit is raised to the hard one (the systemd unit sets 65,536), and
//! what is left after a reserve for everything else bounds the RTP pairs
//! kept open.

use rustix::process::{Resource, getrlimit, setrlimit};

/// Descriptors kept for everything but RTP: SIP and HTTP connections,
/// LMTP, the database, the event log.
const RESERVED: u64 = 1024;

/// Raises the soft open-files limit to the hard one; returns the soft limit
/// in force afterwards (`None`: unlimited).
pub fn raise_open_files() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => return limit.maximum,
            Err(error) => tracing::warn!(%error, "cannot raise the open-files limit"),
        }
    }
    limit.current
}

/// How many RTP port pairs (two sockets each) may be open at once within
/// `limit` open files.
pub fn rtp_pairs_within(limit: Option<u64>) -> usize {
    match limit {
        None => usize::MAX,
        Some(limit) => usize::try_from(limit.saturating_sub(RESERVED) / 2).unwrap_or(usize::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_comes_off_before_halving() {
        assert_eq!(rtp_pairs_within(Some(65_536)), 32_256);
        assert_eq!(rtp_pairs_within(Some(1024)), 0);
        assert_eq!(rtp_pairs_within(Some(100)), 0);
        assert_eq!(rtp_pairs_within(None), usize::MAX);
    }
}
