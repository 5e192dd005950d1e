//! Requests acdd sends itself (OPTIONS to qualify a contact), built and
//! serialised with rsipstack's message model, and the responses they get,
//! read with rsipstack's parser. This is the one place that names
//! rsipstack's types. (Requests acdd receives are read by `parse`: RFC 4475
//! asks for stricter checks and for extension methods rsipstack refuses.)

use rsipstack::sip::{self as rsip, Header, HeadersExt, Method};

use super::parse::Response;

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

/// The parts of a response that matter to a client transaction; `Err` for
/// anything that is not a well-formed response (the caller drops it).
pub fn read_response(bytes: &[u8]) -> Result<Response, String> {
    let message = rsip::SipMessage::try_from(bytes).map_err(|e| e.to_string())?;
    let rsip::SipMessage::Response(response) = message else {
        return Err("not a response".into());
    };
    let code = response.status_code.code();
    if !(100..700).contains(&code) {
        return Err(format!("status code {code}"));
    }
    let branch = response.transaction_id().ok().flatten().map(|b| b.value().to_string());
    let cseq = response.cseq_header().map_err(|e| e.to_string())?;
    let cseq_method = cseq.method().map_err(|e| e.to_string())?.to_string();
    let (call_id, to, contact, body) = dialog_parts(bytes);
    Ok(Response {
        code,
        branch,
        cseq_method,
        call_id,
        to,
        contact,
        body,
    })
}

/// Call-ID, To, the Contact URI and the body of a response, read by line
/// (long and compact header names).
fn dialog_parts(bytes: &[u8]) -> (String, String, Option<String>, Vec<u8>) {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(at) => (&bytes[..at], bytes[at + 4..].to_vec()),
        None => (bytes, Vec::new()),
    };
    let head = String::from_utf8_lossy(head);
    let (mut call_id, mut to, mut contact) = (String::new(), String::new(), None);
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let name = name.trim();
        let is = |long: &str, short: &str| name.eq_ignore_ascii_case(long) || name.eq_ignore_ascii_case(short);
        if is("call-id", "i") {
            call_id = value.to_string();
        } else if is("to", "t") {
            to = value.to_string();
        } else if is("contact", "m") && contact.is_none() {
            contact = super::name_addr::parse_name_addr(value).ok().map(|n| n.uri_text);
        }
    }
    (call_id, to, contact, body)
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

    #[test]
    fn responses_are_read_and_broken_ones_refused() {
        let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq1;received=127.0.0.1\r\nFrom: <sip:acdd@h>;tag=f1\r\n\
                  To: <sip:alice@h>;tag=x\r\nCall-ID: q1@acdd\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let response = read_response(ok.as_bytes()).unwrap();
        assert_eq!((response.code, response.branch.as_deref()), (200, Some("z9hG4bKq1")));
        assert_eq!(response.cseq_method, "OPTIONS");
        assert!(read_response(ok.replace("200 OK", "4294967301 Huge").as_bytes()).is_err());
        assert!(read_response(b"OPTIONS sip:x SIP/2.0\r\n\r\n").is_err());
        assert!(read_response(b"SIP/2.0 200 OK\r\n").is_err());
    }
}
