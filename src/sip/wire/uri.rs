//! URIs as they appear in a Request-Line, From, To and Contact: a strict
//! reading of RFC 3261 §19.1 for `sip:`/`sips:`, and the scheme alone for the
//! rest (which acdd answers with 416 where a SIP URI is needed).

/// A parsed URI. `Other` keeps only the scheme of a non-SIP URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    Other { scheme: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    pub secure: bool,
    /// As written, escapes kept.
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
    /// Everything after `?`, as written.
    pub headers: Option<String>,
}

impl SipUri {
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The user part with `%XX` escapes decoded (lossy for non-UTF-8).
    pub fn user_unescaped(&self) -> Option<String> {
        self.user.as_deref().map(unescape)
    }
}

pub fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Characters a URI may never hold unescaped.
fn forbidden(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"')
}

fn escapes_are_valid(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if i + 2 >= bytes.len() {
                return false;
            }
            if hex(bytes[i + 1]).is_none() || hex(bytes[i + 2]).is_none() {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

pub fn parse_uri(text: &str) -> Result<Uri, &'static str> {
    if text.is_empty() {
        return Err("empty URI");
    }
    if text.chars().any(forbidden) {
        return Err("URI holds whitespace, control characters or <>\"");
    }
    let colon = text.find(':').ok_or("URI has no scheme")?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err("URI scheme is not a scheme");
    }
    let rest = &text[colon + 1..];
    if rest.is_empty() {
        return Err("URI has nothing after its scheme");
    }
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "sip" => false,
        "sips" => true,
        _ => {
            return Ok(Uri::Other {
                scheme: scheme.to_ascii_lowercase(),
            });
        }
    };
    parse_sip(secure, rest).map(Uri::Sip)
}

fn parse_sip(secure: bool, rest: &str) -> Result<SipUri, &'static str> {
    if !escapes_are_valid(rest) {
        return Err("bad %-escape in URI");
    }
    let (user, host_part) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (user, _password) = match user {
        Some("") => return Err("empty user part"),
        Some(u) => match u.find(':') {
            Some(c) => (Some(&u[..c]), Some(&u[c + 1..])),
            None => (Some(u), None),
        },
        None => (None, None),
    };
    let (before_headers, headers) = match host_part.find('?') {
        Some(q) => (&host_part[..q], Some(host_part[q + 1..].to_string())),
        None => (host_part, None),
    };
    let mut pieces = before_headers.split(';');
    let hostport = pieces.next().unwrap_or("");
    let (host, port) = split_hostport(hostport)?;
    let mut params = Vec::new();
    for piece in pieces {
        let (name, value) = match piece.find('=') {
            Some(eq) => (&piece[..eq], Some(piece[eq + 1..].to_string())),
            None => (piece, None),
        };
        if name.is_empty() {
            return Err("empty URI parameter");
        }
        params.push((name.to_string(), value));
    }
    Ok(SipUri {
        secure,
        user: user.map(str::to_string),
        host,
        port,
        params,
        headers,
    })
}

/// `host[:port]` with an IPv6 reference in brackets.
pub fn split_hostport(hostport: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let close = inner.find(']').ok_or("unclosed IPv6 reference")?;
        let address = &inner[..close];
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("bad IPv6 address");
        }
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("junk after IPv6 reference"),
        };
        (format!("[{address}]"), port)
    } else {
        match hostport.rfind(':') {
            Some(c) => (hostport[..c].to_string(), Some(&hostport[c + 1..])),
            None => (hostport.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err("URI has no host");
    }
    if !host.starts_with('[') && !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return Err("bad host name");
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| "port out of range")?)
        }
        Some(_) => return Err("bad port"),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(text: &str) -> SipUri {
        match parse_uri(text) {
            Ok(Uri::Sip(uri)) => uri,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn user_parts_may_hold_semicolons_and_question_marks() {
        let uri = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(uri.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(uri.host, "example.com");
        let uri = sip(
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
        );
        assert_eq!(uri.host, "example.com");
        assert!(uri.headers.is_none());
    }

    #[test]
    fn headers_params_ports_and_ipv6() {
        let uri = sip("sip:user@example.com?Route=%3Csip:example.com%3E");
        assert_eq!(uri.headers.as_deref(), Some("Route=%3Csip:example.com%3E"));
        let uri = sip("sips:[2001:db8::10]:5061;transport=tcp;lr");
        assert!(uri.secure);
        assert_eq!(uri.host, "[2001:db8::10]");
        assert_eq!(uri.port, Some(5061));
        assert_eq!(uri.param("lr"), Some(None));
        assert_eq!(uri.param("transport"), Some(Some("tcp")));
    }

    #[test]
    fn bad_uris_are_refused() {
        for text in [
            "<sip:user@example.com>",
            "sip:user@example.com; lr",
            "sip:",
            "sip:@x",
            "sip:a@b:99999",
            "sip:a%zz@b",
            "sip:a@b;;x",
        ] {
            assert!(parse_uri(text).is_err(), "{text} accepted");
        }
        assert_eq!(
            parse_uri("nobarsip:x"),
            Ok(Uri::Other {
                scheme: "nobarsip".into()
            })
        );
        assert_eq!(unescape("null-%00-null"), "null-\0-null");
    }
}
