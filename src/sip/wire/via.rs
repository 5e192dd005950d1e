//! One Via header element: protocol, transport, sent-by and parameters
//! (RFC 3261 §20.42). Transactions are keyed on its `branch`.

use super::headers::{is_token, is_token_char};
use super::name_addr::parse_params;
use super::uri::split_hostport;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    pub transport: String,
    /// `host[:port]` as written.
    pub sent_by: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
}

/// RFC 3261's magic cookie: branches that start with it are unique per transaction.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

impl Via {
    pub fn branch(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("branch"))
            .and_then(|(_, v)| v.as_deref())
    }

    /// The branch when it is RFC 3261 compliant (magic cookie and more).
    pub fn rfc3261_branch(&self) -> Option<&str> {
        self.branch()
            .filter(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }
}

pub fn parse_via(text: &str) -> Result<Via, &'static str> {
    let mut rest = text.trim();
    let mut protocol = Vec::new();
    for i in 0..3 {
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let part = &rest[..end];
        if !is_token(part) {
            return Err("bad Via protocol");
        }
        protocol.push(part);
        rest = rest[end..].trim_start();
        if i < 2 {
            rest = rest.strip_prefix('/').ok_or("bad Via protocol")?.trim_start();
        }
    }
    if !protocol[0].eq_ignore_ascii_case("SIP") {
        return Err("Via protocol is not SIP");
    }
    let end = rest.find([';', ' ', '\t']).unwrap_or(rest.len());
    let sent_by = &rest[..end];
    let (host, port) = split_hostport(sent_by)?;
    let params = parse_params(&rest[end..])?;
    Ok(Via {
        transport: protocol[2].to_ascii_uppercase(),
        sent_by: sent_by.to_string(),
        host,
        port,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spaced_and_plain_vias() {
        let via = parse_via("SIP  /   2.0 /  UDP  192.0.2.1:5060 ; branch = z9hG4bKa ; rport").unwrap();
        assert_eq!(via.transport, "UDP");
        assert_eq!(via.port, Some(5060));
        assert_eq!(via.branch(), Some("z9hG4bKa"));
        let via = parse_via("SIP/2.0/TCP [2001:db8::9:1];branch=z9hG4bKas3-111").unwrap();
        assert_eq!(via.host, "[2001:db8::9:1]");
        assert!(parse_via("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert_eq!(
            parse_via("SIP/2.0/UDP h;branch=z9hG4bK").unwrap().rfc3261_branch(),
            None
        );
    }
}
