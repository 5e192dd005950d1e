//! `name-addr` / `addr-spec` with header parameters, as in From, To and
//! Contact (RFC 3261 §20.10, §25.1): display names must be quoted or tokens,
//! `<>` hold exactly a URI, parameters are never empty.

use super::headers::{is_token, is_token_char};
use super::uri::{Uri, parse_uri};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    /// The URI exactly as written between `<>` (or the addr-spec).
    pub uri_text: String,
    pub uri: Uri,
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }
}

/// The longest display name acdd writes, in characters.
const MOST_DISPLAY_CHARS: usize = 64;

/// `name` as a quoted display name (RFC 3261 §25.1 quoted-string) for a
/// header acdd writes: control characters (CR, LF…) dropped, `"` and `\`
/// escaped, at most `MOST_DISPLAY_CHARS` characters; `None` when nothing
/// printable is left. Names come from customers (chats, forms): nothing in
/// them can end the header.
pub fn quoted_display(name: &str) -> Option<String> {
    let kept: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MOST_DISPLAY_CHARS)
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut quoted = String::with_capacity(kept.len() + 2);
    quoted.push('"');
    for c in kept.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    Some(quoted)
}

/// Reads a quoted string starting at `s[0] == '"'`; returns (content, rest).
fn quoted(s: &str) -> Result<(&str, &str), &'static str> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Ok((&s[1..i], &s[i + 1..]));
        }
    }
    Err("unterminated quoted string")
}

pub fn parse_name_addr(text: &str) -> Result<NameAddr, &'static str> {
    let text = text.trim();
    let (display, after_display) = if text.starts_with('"') {
        let (content, rest) = quoted(text)?;
        let rest = rest.trim_start();
        if !rest.starts_with('<') {
            return Err("quoted display name without <URI>");
        }
        (Some(content.to_string()), rest)
    } else if let Some(open) = text.find('<') {
        let display = text[..open].trim();
        if !display.is_empty() && !display.split_whitespace().all(is_token) {
            return Err("display name is neither quoted nor tokens");
        }
        ((!display.is_empty()).then(|| display.to_string()), &text[open..])
    } else {
        (None, text)
    };
    let (uri_text, params_text) = if let Some(inner) = after_display.strip_prefix('<') {
        let close = inner.find('>').ok_or("missing '>'")?;
        (&inner[..close], &inner[close + 1..])
    } else {
        let end = after_display.find(';').unwrap_or(after_display.len());
        let uri_text = after_display[..end].trim_end();
        if uri_text.contains('?') || uri_text.contains(',') {
            return Err("a URI with '?' or ',' must be enclosed in <>");
        }
        (uri_text, &after_display[end..])
    };
    let uri = parse_uri(uri_text)?;
    let params = parse_params(params_text)?;
    Ok(NameAddr {
        display,
        uri_text: uri_text.to_string(),
        uri,
        params,
    })
}

/// `*( SEMI generic-param )` where generic-param = token [ EQUAL ( token / host / quoted-string ) ].
pub fn parse_params(text: &str) -> Result<Vec<(String, Option<String>)>, &'static str> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        rest = rest
            .strip_prefix(';')
            .ok_or("junk where a parameter should start")?
            .trim_start();
        let name_end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty() {
            return Err("empty parameter");
        }
        rest = rest[name_end..].trim_start();
        let mut value = None;
        if let Some(after_eq) = rest.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            if after_eq.starts_with('"') {
                let (content, tail) = quoted(after_eq)?;
                value = Some(format!("\"{content}\""));
                rest = tail.trim_start();
            } else {
                let end = after_eq
                    .find(|c: char| !(is_token_char(c) || matches!(c, '[' | ']' | ':')))
                    .unwrap_or(after_eq.len());
                if end == 0 {
                    return Err("empty parameter value");
                }
                value = Some(after_eq[..end].to_string());
                rest = after_eq[end..].trim_start();
            }
        }
        params.push((name.to_string(), value));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever a customer calls themselves, the From acdd writes is one
        /// header line that reads back as a name-addr with that URI and tag.
        #[test]
        fn any_name_makes_one_well_formed_from(name in "\\PC*|[\\x00-\\x7f]*") {
            if let Some(display) = quoted_display(&name) {
                let from = format!("{display} <sip:+4930@acdd>;tag=7");
                proptest::prop_assert!(!from.contains(['\r', '\n']));
                let parsed = parse_name_addr(&from).map_err(proptest::test_runner::TestCaseError::fail)?;
                proptest::prop_assert_eq!(parsed.uri_text.as_str(), "sip:+4930@acdd");
                proptest::prop_assert_eq!(parsed.tag(), Some("7"));
                proptest::prop_assert!(display.chars().count() <= 2 * MOST_DISPLAY_CHARS + 2);
            }
        }
    }

    #[test]
    fn display_names_are_quoted_and_cannot_break_the_header() {
        assert_eq!(quoted_display("Jane Doe").as_deref(), Some(r#""Jane Doe""#));
        assert_eq!(
            quoted_display("Evil\r\nVia: x \"q\" \\").as_deref(),
            Some(r#""Evil Via: x \"q\" \\""#)
        );
        assert_eq!(quoted_display("  \t\r\n "), None);
        assert_eq!(quoted_display("Jürgen Müller").as_deref(), Some(r#""Jürgen Müller""#));
        let long = quoted_display(&"x".repeat(500)).unwrap();
        assert_eq!(long.len(), 64 + 2);
        // What acdd writes parses as one name-addr (the display kept escaped).
        let written = format!("{} <sip:+4930@acdd>;tag=1", quoted_display("A \"B\" C").unwrap());
        let parsed = parse_name_addr(&written).unwrap();
        assert_eq!(parsed.display.as_deref(), Some(r#"A \"B\" C"#));
        assert_eq!(parsed.tag(), Some("1"));
    }

    #[test]
    fn accepted_forms() {
        let n = parse_name_addr(r#""caller"<sip:caller@example.com>;tag=323"#).unwrap();
        assert_eq!(n.display.as_deref(), Some("caller"));
        assert_eq!(n.tag(), Some("323"));
        let n = parse_name_addr("sip:caller@example.net;tag=134161461246").unwrap();
        assert_eq!(n.uri_text, "sip:caller@example.net");
        assert_eq!(n.tag(), Some("134161461246"));
        let n = parse_name_addr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"x\"")
            .unwrap();
        assert_eq!(n.params.len(), 1);
        let n = parse_name_addr("<sip:user@host129.example.com>;expires=280297596632815").unwrap();
        assert_eq!(n.param("expires"), Some(Some("280297596632815")));
    }

    #[test]
    fn refused_forms() {
        for text in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "\"Watson, Thomas\" < sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "\"Joe\" <sip:joe@example.org>;;;;",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
        ] {
            assert!(parse_name_addr(text).is_err(), "{text} accepted");
        }
    }
}
