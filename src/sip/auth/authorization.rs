//! Reads `Authorization: Digest ...` (RFC 7616 §3.4): comma-separated
//! `name=value` pairs, values quoted (with `\` escapes) or tokens, names in
//! any case. Ours because rsipstack 0.7.14 cannot read `algorithm=SHA-256`.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Option<String>,
    pub cnonce: Option<String>,
    pub nc: Option<String>,
    pub qop: Option<String>,
    pub opaque: Option<String>,
}

/// `None` for another scheme or a header missing a required field.
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut credentials = Credentials::default();
    let (mut username, mut realm, mut nonce, mut uri, mut response) = (None, None, None, None, None);
    for (name, value) in pairs(rest)? {
        match name.to_ascii_lowercase().as_str() {
            "username" => username = Some(value),
            "realm" => realm = Some(value),
            "nonce" => nonce = Some(value),
            "uri" => uri = Some(value),
            "response" => response = Some(value),
            "algorithm" => credentials.algorithm = Some(value),
            "cnonce" => credentials.cnonce = Some(value),
            "nc" => credentials.nc = Some(value),
            "qop" => credentials.qop = Some(value),
            "opaque" => credentials.opaque = Some(value),
            _ => {}
        }
    }
    credentials.username = username?;
    credentials.realm = realm?;
    credentials.nonce = nonce?;
    credentials.uri = uri?;
    credentials.response = response?;
    Some(credentials)
}

/// Splits `a="x, y", b=tok , c="q\"d"` into pairs; `None` on broken syntax.
fn pairs(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == ',') {
            return None;
        }
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => text.push(chars.next()?.1),
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => text.push(c),
                }
            }
            value = text;
            rest = &quoted[end? + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.push((name.to_string(), value));
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sha256_credentials() {
        let header = r#"Digest username="alice", realm="acdd",nonce="n1" , uri="sip:127.0.0.1",
            response="abc", algorithm=SHA-256, cnonce="c,1", nc=00000001, qop=auth, opaque="o\"x""#;
        let c = parse_authorization(&header.replace('\n', " ")).unwrap();
        assert_eq!(c.username, "alice");
        assert_eq!(c.algorithm.as_deref(), Some("SHA-256"));
        assert_eq!(c.cnonce.as_deref(), Some("c,1"));
        assert_eq!(c.nc.as_deref(), Some("00000001"));
        assert_eq!(c.qop.as_deref(), Some("auth"));
        assert_eq!(c.opaque.as_deref(), Some("o\"x"));
    }

    #[test]
    fn other_schemes_and_broken_headers_are_none() {
        assert_eq!(parse_authorization("NoOneKnowsThisScheme opaque-data=here"), None);
        assert_eq!(parse_authorization(r#"Digest username="a", realm="r""#), None);
        assert_eq!(parse_authorization(r#"Digest username="a"#), None);
    }
}

#[cfg(test)]
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = r#"Digest username="alice", realm="acdd", nonce="6.1.ab", uri="sip:h", response="0f", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c\"d""#;

    proptest! {
        #[test]
        fn on_any_text(text in "\\PC{0,200}") {
            let _ = parse_authorization(&text);
        }

        #[test]
        fn on_damaged_headers(at in 0..GOOD.len(), insert in "[\\x00-\\x7f\u{80}-\u{10ffff}]{0,3}", cut in 0..GOOD.len()) {
            let mut text = GOOD.to_string();
            let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text.insert_str(at, &insert);
            let cut = (0..=cut.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let _ = parse_authorization(&text[..cut]);
            let _ = parse_authorization(&text);
        }
    }
}
