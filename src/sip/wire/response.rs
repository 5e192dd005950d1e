//! Builds responses to received requests (RFC 3261 §8.2.6): Via, From, To,
//! Call-ID and CSeq copied from the request, a To tag added, then our headers.

use std::fmt::Write as _;

use super::headers::Headers;
use super::name_addr::parse_name_addr;

pub struct ResponseBuilder {
    text: String,
    body: Vec<u8>,
    content_type: Option<String>,
}

/// The standard reason phrase of the codes acdd sends.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "Unknown",
    }
}

impl ResponseBuilder {
    /// A response to a request with these headers; `to_tag` is added to To
    /// when the request's To has no tag and `code > 100`.
    pub fn new(request: &Headers, code: u16, reason: &str, to_tag: &str) -> ResponseBuilder {
        let mut text = String::with_capacity(512);
        let _ = write!(text, "SIP/2.0 {code} ");
        text.extend(reason.chars().filter(|c| !c.is_control()));
        text.push_str("\r\n");
        for via in request.all("via") {
            push_header(&mut text, "Via", via);
        }
        if let Some(from) = request.get("from") {
            push_header(&mut text, "From", from);
        }
        if let Some(to) = request.get("to") {
            push_header(&mut text, "To", to);
            let add_tag = code != 100 && parse_name_addr(to).is_ok_and(|n| n.tag().is_none());
            if add_tag {
                text.truncate(text.len() - 2);
                text.push_str(";tag=");
                text.push_str(to_tag);
                text.push_str("\r\n");
            }
        }
        if let Some(call_id) = request.get("call-id") {
            push_header(&mut text, "Call-ID", call_id);
        }
        if let Some(cseq) = request.get("cseq") {
            push_header(&mut text, "CSeq", cseq);
        }
        text.push_str("Server: acdd\r\n");
        ResponseBuilder {
            text,
            body: Vec::new(),
            content_type: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        push_header(&mut self.text, name, value);
        self
    }

    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.content_type = Some(content_type.to_string());
        self.body = body;
        self
    }

    pub fn build(self) -> Vec<u8> {
        let mut text = self.text;
        // One growth at most: the last headers and the body.
        text.reserve(64 + self.content_type.as_ref().map_or(0, String::len) + self.body.len());
        if let Some(content_type) = &self.content_type {
            push_header(&mut text, "Content-Type", content_type);
        }
        let _ = write!(text, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// `Name: value` and the line's end.
fn push_header(text: &mut String, name: &str, value: &str) {
    text.push_str(name);
    text.push_str(": ");
    text.push_str(value);
    text.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::headers::Header;

    #[test]
    fn copies_the_dialog_headers_and_tags_to() {
        let headers = Headers(vec![
            Header {
                name: "via".into(),
                value: "SIP/2.0/UDP a;branch=z9hG4bK1".into(),
            },
            Header {
                name: "via".into(),
                value: "SIP/2.0/UDP b;branch=z9hG4bK2".into(),
            },
            Header {
                name: "from".into(),
                value: "<sip:a@b>;tag=9".into(),
            },
            Header {
                name: "to".into(),
                value: "<sip:c@d>".into(),
            },
            Header {
                name: "call-id".into(),
                value: "id1".into(),
            },
            Header {
                name: "cseq".into(),
                value: "4 OPTIONS".into(),
            },
        ]);
        let text = String::from_utf8(
            ResponseBuilder::new(&headers, 200, "OK", "t1")
                .header("Allow", "INVITE")
                .build(),
        )
        .unwrap();
        assert!(text.starts_with(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
        ));
        assert!(text.contains("To: <sip:c@d>;tag=t1\r\n"));
        assert!(text.contains("CSeq: 4 OPTIONS\r\n"));
        assert!(text.ends_with("Allow: INVITE\r\nContent-Length: 0\r\n\r\n"));
    }
}
