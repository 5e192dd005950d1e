//! Header fields of a received message: names folded to one canonical,
//! lowercase, long form (compact forms expanded), values kept as received.

/// One header field line (after unfolding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Lowercase long form, e.g. `call-id` for `i`.
    pub name: String,
    pub value: String,
}

/// The header fields of a message, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of `name` (lowercase long form).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|h| h.name == name).map(|h| h.value.as_str())
    }

    /// Every header line named `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |h| h.name == name).map(|h| h.value.as_str())
    }

    pub fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|h| h.name == name).count()
    }

    /// Every comma-separated element of every `name` line, in order
    /// (commas inside quotes and `<>` do not split).
    pub fn elements<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.all(name).flat_map(split_list)
    }
}

/// The long form of a header name, lowercase.
pub fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let long = match lower.as_str() {
        "i" => "call-id",
        "m" => "contact",
        "e" => "content-encoding",
        "l" => "content-length",
        "c" => "content-type",
        "f" => "from",
        "s" => "subject",
        "k" => "supported",
        "t" => "to",
        "v" => "via",
        "o" => "event",
        "u" => "allow-events",
        "r" => "refer-to",
        "b" => "referred-by",
        "x" => "session-expires",
        _ => return lower,
    };
    long.to_string()
}

/// Splits a header value at top-level commas; elements are trimmed and may be empty.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            ',' if !in_quotes && !in_angle => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts
}

/// RFC 3261 `token` characters.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_names_expand() {
        assert_eq!(canonical_name("i"), "call-id");
        assert_eq!(canonical_name("V"), "via");
        assert_eq!(canonical_name("Content-Length"), "content-length");
    }

    #[test]
    fn lists_split_outside_quotes_and_angles() {
        assert_eq!(
            split_list(r#""a, b" <sip:x@y;p=1,2>;q=1 , <sip:z@w>"#),
            vec![r#""a, b" <sip:x@y;p=1,2>;q=1"#, "<sip:z@w>"]
        );
        assert_eq!(split_list("a;;,;,,"), vec!["a;;", ";", "", ""]);
    }
}
