//! Requests acdd sends itself (OPTIONS to qualify a contact), built and
//! serialised with rsipstack's message model. This is the one place that
//! names rsipstack's types. (Messages acdd receives, responses included,
//! are read by `parse`: RFC 4475 asks for stricter checks and for extension
//! methods rsipstack refuses, and one reader keeps a response from being
//! parsed twice.)

use rsipstack::sip::{self as rsip, Header, Method};

/// Everything that varies in an out-of-dialog OPTIONS.
pub struct OptionsRequest<'a> {
    /// The contact URI being qualified, as it was registered.
    pub target: &'a str,
    /// `UDP` or `TCP`.
    pub transport: &'a str,
    /// Our address as the peer should see it, `host:port`.
    pub local: &'a str,
    pub branch: &'a str,
    pub call_id: &'a str,
    pub from_tag: &'a str,
}

/// Serialises an OPTIONS request; `None` when rsipstack cannot read the target URI.
pub fn options(request: &OptionsRequest) -> Option<Vec<u8>> {
    let uri = rsip::Uri::try_from(request.target).ok()?;
    let headers = vec![
        Header::Via(rsip::Via::new(format!(
            "SIP/2.0/{} {};branch={};rport",
            request.transport, request.local, request.branch
        ))),
        Header::MaxForwards(rsip::MaxForwards::new("70")),
        Header::From(rsip::From::new(format!(
            "<sip:acdd@{}>;tag={}",
            request.local, request.from_tag
        ))),
        Header::To(rsip::To::new(format!("<{}>", request.target))),
        Header::CallId(rsip::CallId::new(request.call_id)),
        Header::CSeq(rsip::CSeq::new("1 OPTIONS")),
        Header::UserAgent(rsip::UserAgent::new("acdd")),
        Header::ContentLength(rsip::ContentLength::new("0")),
    ];
    let message = rsip::Request {
        method: Method::Options,
        uri,
        version: rsip::Version::V2,
        headers: headers.into(),
        body: Vec::new(),
    };
    Some(message.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::{Message, parse_message};

    #[test]
    fn an_options_request_reads_back() {
        let bytes = options(&OptionsRequest {
            target: "sip:alice@127.0.0.1:5070;transport=udp",
            transport: "UDP",
            local: "127.0.0.1:5060",
            branch: "z9hG4bKq1",
            call_id: "q1@acdd",
            from_tag: "f1",
        })
        .unwrap();
        let Ok(Message::Request(request)) = parse_message(&bytes, 65535) else {
            panic!("{}", String::from_utf8_lossy(&bytes))
        };
        assert_eq!(request.method, "OPTIONS");
        assert_eq!(request.via.branch(), Some("z9hG4bKq1"));
        assert!(
            request
                .uri_text
                .eq_ignore_ascii_case("sip:alice@127.0.0.1:5070;transport=udp")
        );
    }
}
