//! Turns the bytes of one message into a checked `Request` or `Response`.
//!
//! Strict where RFC 3261/4475 says a message is invalid (request line, scalar
//! ranges, duplicated single-value headers, bad name-addrs, Content-Length),
//! liberal where the RFC asks for it (folding, compact names, odd but legal
//! tokens). A broken request becomes a `Rejection` carrying what is needed to
//! answer it. A response keeps what a client transaction and a dialog need;
//! a broken one is dropped.

use super::headers::{Header, Headers, canonical_name, is_token};
use super::name_addr::{NameAddr, parse_name_addr};
use super::uri::{Uri, parse_uri};
use super::via::{Via, parse_via};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub uri_text: String,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
    /// The topmost Via element.
    pub via: Via,
    pub from: NameAddr,
    pub to: NameAddr,
    pub call_id: String,
    pub cseq: u32,
    pub max_forwards: Option<u32>,
    /// The `Expires` header, if any.
    pub expires: Option<u32>,
    /// Bytes on the wire (for size limits and logs).
    pub size: usize,
}

/// What a client transaction needs of a response.
#[derive(Clone, Debug)]
pub struct Response {
    pub code: u16,
    pub branch: Option<String>,
    pub cseq_method: String,
    /// What a dialog needs (answers to our INVITEs): Call-ID, the To
    /// header as sent (with the peer's tag), the Contact URI, the body.
    pub call_id: String,
    pub to: String,
    pub contact: Option<String>,
    /// The Record-Route elements as received (a 2xx's: the dialog's route
    /// set, reversed).
    pub record_route: Vec<String>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug)]
pub enum Message {
    Request(Box<Request>),
    Response(Response),
}

/// A request that cannot be processed, with the status to answer it with.
#[derive(Clone, Debug)]
pub struct Rejection {
    pub status: u16,
    pub reason: String,
    /// The headers as far as they could be read: a reply copies Via, From, To, Call-ID, CSeq.
    pub headers: Headers,
}

#[derive(Clone, Debug)]
pub enum ParseError {
    /// Answer with `status` (if the headers allow a reply at all).
    Reject(Rejection),
    /// Nothing can be answered: drop silently (logged by the caller).
    Drop(String),
}

const SINGLE_VALUED: [&str; 8] = [
    "from",
    "to",
    "call-id",
    "cseq",
    "max-forwards",
    "content-length",
    "content-type",
    "expires",
];
const REQUIRED: [&str; 5] = ["via", "from", "to", "call-id", "cseq"];
const MAX_CSEQ: u64 = (1 << 31) - 1;

/// Parses one message. `bytes` is a whole datagram, or one frame cut from a
/// stream by `framing::next_frame`; without a Content-Length the body is the
/// rest of the bytes. Messages over `max_size` are refused with 513.
pub fn parse_message(bytes: &[u8], max_size: usize) -> Result<Message, ParseError> {
    let (head, after_head) = match find(bytes, b"\r\n\r\n") {
        Some(end) => (&bytes[..end], Some(&bytes[end + 4..])),
        None => (bytes, None),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start_line = lines.next().unwrap_or("");
    if start_line.starts_with("SIP/") {
        return parse_response(start_line, lines, after_head)
            .map(Message::Response)
            .map_err(|why| ParseError::Drop(format!("response dropped: {why}")));
    }
    let (headers, header_problem) = read_headers(lines);
    let reject = |status: u16, reason: String, headers: &Headers| {
        Err(ParseError::Reject(Rejection {
            status,
            reason,
            headers: headers.clone(),
        }))
    };
    if headers.count("via") == 0 {
        return Err(ParseError::Drop("request without Via".into()));
    }
    if bytes.len() > max_size {
        return reject(513, "Message Too Large".into(), &headers);
    }
    let (method, uri_text, version) = match split_request_line(start_line) {
        Ok(parts) => parts,
        Err(why) => return reject(400, why.into(), &headers),
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        let number = version
            .get(..4)
            .filter(|prefix| prefix.eq_ignore_ascii_case("SIP/"))
            .and_then(|_| version.get(4..))
            .unwrap_or("");
        let looks_like_version = number.split('.').count() == 2
            && number
                .split('.')
                .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if looks_like_version {
            return reject(505, "Version Not Supported".into(), &headers);
        }
        return reject(400, "Bad SIP version".into(), &headers);
    }
    if let Some(problem) = header_problem {
        return reject(400, problem, &headers);
    }
    let uri = match parse_uri(uri_text) {
        Ok(Uri::Sip(sip)) if sip.headers.is_some() => {
            return reject(400, "Request-URI must not carry headers".into(), &headers);
        }
        Ok(uri) => uri,
        Err(why) => return reject(400, format!("Bad Request-URI: {why}"), &headers),
    };
    for name in REQUIRED {
        if headers.count(name) == 0 {
            return reject(400, format!("Missing {name} header"), &headers);
        }
    }
    for name in SINGLE_VALUED {
        if headers.count(name) > 1 {
            return reject(400, format!("Multiple {name} headers"), &headers);
        }
    }
    let body = match body(&headers, after_head) {
        Ok(body) => body,
        Err(why) => return reject(400, why.into(), &headers),
    };
    match checked_fields(method, &headers) {
        Ok(fields) => Ok(Message::Request(Box::new(Request {
            method: method.to_string(),
            uri_text: uri_text.to_string(),
            uri,
            body,
            via: fields.via,
            from: fields.from,
            to: fields.to,
            call_id: fields.call_id,
            cseq: fields.cseq,
            max_forwards: fields.max_forwards,
            expires: fields.expires,
            size: bytes.len(),
            headers,
        }))),
        Err(why) => reject(400, why, &headers),
    }
}

/// `SIP/2.0 SP 3DIGIT SP Reason-Phrase`, then the headers a client
/// transaction (top Via branch, CSeq method) and a dialog (Call-ID, To,
/// Contact, body) need.
fn parse_response<'a>(
    status_line: &str,
    lines: impl Iterator<Item = &'a str>,
    after_head: Option<&[u8]>,
) -> Result<Response, String> {
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(format!("version {version:.20}"));
    }
    let code_text = parts.next().unwrap_or("");
    let code = match (code_text.len(), parse_number(code_text, 699)) {
        (3, Some(code)) if code >= 100 => code as u16,
        _ => return Err(format!("status code {code_text:.20}")),
    };
    let (headers, problem) = read_headers(lines);
    if let Some(problem) = problem {
        return Err(problem);
    }
    let via = headers.elements("via").next().ok_or("no Via")?;
    let branch = parse_via(via)
        .map_err(|why| format!("Bad Via: {why}"))?
        .branch()
        .map(str::to_string);
    let mut cseq = headers.get("cseq").unwrap_or("").split_whitespace();
    cseq.next()
        .and_then(|n| parse_number(n, MAX_CSEQ))
        .ok_or("Bad CSeq number")?;
    let cseq_method = cseq.next().filter(|m| is_token(m)).ok_or("CSeq without method")?;
    if cseq.next().is_some() {
        return Err("Bad CSeq".into());
    }
    Ok(Response {
        code,
        branch,
        cseq_method: cseq_method.to_string(),
        call_id: headers.get("call-id").unwrap_or("").to_string(),
        to: headers.get("to").unwrap_or("").to_string(),
        contact: headers
            .elements("contact")
            .next()
            .and_then(|c| parse_name_addr(c).ok())
            .map(|c| c.uri_text),
        record_route: headers.elements("record-route").map(str::to_string).collect(),
        body: body(&headers, after_head)?,
    })
}

/// The header fields of a message head, read leniently: enough to address
/// a reply to a message that is refused before it is parsed (513 on TCP).
pub fn head_headers(head: &[u8]) -> Headers {
    let head = String::from_utf8_lossy(head);
    let lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).skip(1);
    read_headers(lines).0
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Unfolds continuation lines; returns the headers and the first problem seen.
fn read_headers<'a>(lines: impl Iterator<Item = &'a str>) -> (Headers, Option<String>) {
    let mut headers: Vec<Header> = Vec::new();
    let mut problem = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some(last) => {
                    last.value.push(' ');
                    last.value.push_str(line.trim());
                }
                None => problem = problem.or(Some("continuation line before any header".into())),
            }
            continue;
        }
        let Some(colon) = line.find(':') else {
            problem = problem.or(Some(format!("header line without a colon: {:.40}", line)));
            continue;
        };
        let name = line[..colon].trim_end();
        if !is_token(name) {
            problem = problem.or(Some(format!("bad header name {:.40}", name)));
            continue;
        }
        headers.push(Header {
            name: canonical_name(name),
            value: line[colon + 1..].trim().to_string(),
        });
    }
    for header in &mut headers {
        let trimmed = header.value.trim();
        if trimmed.len() != header.value.len() {
            header.value = trimmed.to_string();
        }
    }
    (Headers(headers), problem)
}

/// `Method SP Request-URI SP SIP-Version`, single spaces, nothing else.
fn split_request_line(line: &str) -> Result<(&str, &str, &str), &'static str> {
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) || line.contains('\t') {
        return Err("Malformed Request-Line");
    }
    if !is_token(parts[0]) {
        return Err("Bad method");
    }
    Ok((parts[0], parts[1], parts[2]))
}

fn body(headers: &Headers, after_head: Option<&[u8]>) -> Result<Vec<u8>, &'static str> {
    let available = after_head.unwrap_or(&[]);
    match headers.get("content-length") {
        None => Ok(available.to_vec()),
        Some(value) => {
            let length = parse_number(value, u32::MAX as u64).ok_or("Bad Content-Length")? as usize;
            if length > available.len() {
                return Err("Content-Length larger than the message");
            }
            Ok(available[..length].to_vec())
        }
    }
}

/// Decimal digits only, at most `max`.
pub fn parse_number(text: &str, max: u64) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || text.len() > 20 || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|n| *n <= max)
}

struct Fields {
    via: Via,
    from: NameAddr,
    to: NameAddr,
    call_id: String,
    cseq: u32,
    max_forwards: Option<u32>,
    expires: Option<u32>,
}

fn checked_fields(method: &str, headers: &Headers) -> Result<Fields, String> {
    let mut vias = Vec::new();
    for element in headers.elements("via") {
        vias.push(parse_via(element).map_err(|why| format!("Bad Via: {why}"))?);
    }
    let via = vias.into_iter().next().ok_or("Missing via header")?;
    let from = parse_name_addr(headers.get("from").unwrap_or("")).map_err(|why| format!("Bad From: {why}"))?;
    let to = parse_name_addr(headers.get("to").unwrap_or("")).map_err(|why| format!("Bad To: {why}"))?;
    let call_id = headers.get("call-id").unwrap_or("").to_string();
    if call_id.is_empty() || call_id.contains(char::is_whitespace) {
        return Err("Bad Call-ID".into());
    }
    let cseq_text = headers.get("cseq").unwrap_or("");
    let mut cseq_parts = cseq_text.split_whitespace();
    let cseq = cseq_parts
        .next()
        .and_then(|n| parse_number(n, MAX_CSEQ))
        .ok_or("Bad CSeq number")? as u32;
    let cseq_method = cseq_parts.next().ok_or("CSeq without method")?;
    if cseq_parts.next().is_some() {
        return Err("Bad CSeq".into());
    }
    if cseq_method != method {
        return Err("CSeq method does not match the Request-Line".into());
    }
    let max_forwards = match headers.get("max-forwards") {
        Some(v) => Some(parse_number(v, 255).ok_or("Bad Max-Forwards")? as u32),
        None => None,
    };
    let expires = match headers.get("expires") {
        Some(v) => Some(parse_number(v, u32::MAX as u64).ok_or("Bad Expires")? as u32),
        None => None,
    };
    for element in headers.elements("contact") {
        if element == "*" {
            continue;
        }
        let contact = parse_name_addr(element).map_err(|why| format!("Bad Contact: {why}"))?;
        if let Some(value) = contact.param("expires") {
            value
                .and_then(|v| parse_number(v, u32::MAX as u64))
                .ok_or("Bad Contact expires")?;
        }
    }
    Ok(Fields {
        via,
        from,
        to,
        call_id,
        cseq,
        max_forwards,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &str = "OPTIONS sip:acdd@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
        From: <sip:a@b>;tag=1\r\nTo: <sip:acdd@127.0.0.1>\r\nCall-ID: x1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    fn rejection(text: &str) -> u16 {
        match parse_message(text.as_bytes(), 65535) {
            Err(ParseError::Reject(r)) => r.status,
            other => panic!("expected a rejection: {other:?}"),
        }
    }

    #[test]
    fn a_plain_request_parses() {
        let Ok(Message::Request(request)) = parse_message(OPTIONS.as_bytes(), 65535) else {
            panic!()
        };
        assert_eq!(request.method, "OPTIONS");
        assert_eq!(request.cseq, 1);
        assert_eq!(request.from.tag(), Some("1"));
        assert_eq!(request.via.rfc3261_branch(), Some("z9hG4bK1"));
    }

    #[test]
    fn broken_requests_get_their_status() {
        assert_eq!(rejection(&OPTIONS.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia")), 505);
        assert_eq!(rejection(&OPTIONS.replace("OPTIONS sip", "OPTIONS  sip")), 400);
        assert_eq!(rejection(&OPTIONS.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")), 400);
        assert_eq!(
            rejection(&OPTIONS.replace("Max-Forwards: 70", "Max-Forwards: 300")),
            400
        );
        assert_eq!(
            rejection(&OPTIONS.replace("Content-Length: 0", "Content-Length: -1")),
            400
        );
        assert_eq!(rejection(&OPTIONS.replace("Call-ID: x1\r\n", "")), 400);
        match parse_message(OPTIONS.as_bytes(), 100) {
            Err(ParseError::Reject(r)) => assert_eq!(r.status, 513),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn responses_with_bad_codes_are_dropped() {
        let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert!(matches!(parse_message(ok.as_bytes(), 9999), Ok(Message::Response(r)) if r.code == 200));
        let big = ok.replace("200", "4294967301");
        assert!(matches!(parse_message(big.as_bytes(), 9999), Err(ParseError::Drop(_))));
    }

    #[test]
    fn a_response_gives_its_transaction_and_dialog_parts() {
        let sdp = "v=0\r\n";
        let ok = format!(
            "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bKq1;received=127.0.0.1\r\nVia: SIP/2.0/UDP proxy;branch=z9hG4bKp\r\n\
             f: <sip:acdd@h>;tag=f1\r\nt: <sip:alice@h>;tag=x\r\ni: q1@acdd\r\nCSeq: 1 INVITE\r\n\
             m: <sip:alice@127.0.0.1:5070;transport=udp>;expires=60, <sip:other@h>\r\nl: {}\r\n\r\n{sdp}trailing",
            sdp.len()
        );
        let Ok(Message::Response(response)) = parse_message(ok.as_bytes(), 9999) else {
            panic!("not read: {ok}")
        };
        assert_eq!((response.code, response.branch.as_deref()), (200, Some("z9hG4bKq1")));
        assert_eq!(response.cseq_method, "INVITE");
        assert_eq!(
            (response.call_id.as_str(), response.to.as_str()),
            ("q1@acdd", "<sip:alice@h>;tag=x")
        );
        assert_eq!(
            response.contact.as_deref(),
            Some("sip:alice@127.0.0.1:5070;transport=udp")
        );
        assert_eq!(response.body, sdp.as_bytes(), "the body ends where Content-Length says");
        for broken in [
            "SIP/2.0 200 OK\r\n".to_string(),
            ok.replace("SIP/2.0 200", "SIP/3.0 200"),
            ok.replace("SIP/2.0 200", "SIP/2.0 99"),
            ok.replace("SIP/2.0 200", "SIP/2.0 2000"),
            ok.replace("CSeq: 1 INVITE", "CSeq: INVITE"),
            ok.replace("CSeq: 1 INVITE", "CSeq: 1 INVITE x"),
            ok.replace(&format!("l: {}", sdp.len()), "l: 999"),
            ok.replace("v: SIP/2.0/UDP h;", "v: HTTP/1.1/UDP h;")
                .replace("Via: SIP/2.0/UDP proxy;branch=z9hG4bKp\r\n", ""),
        ] {
            assert!(
                matches!(parse_message(broken.as_bytes(), 9999), Err(ParseError::Drop(_))),
                "{broken}"
            );
        }
    }
}

#[cfg(test)]
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn torture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/sip-torture/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    const SAMPLES: [&str; 9] = [
        "wsinv.dat",
        "intmeth.dat",
        "longreq.dat",
        "mpart01.dat",
        "badinv01.dat",
        "unreason.dat",
        "scalarlg.dat",
        "bcast.dat",
        "noreason.dat",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_message(&bytes, 65535);
            let _ = super::super::framing::next_frame(&bytes, 1000);
        }

        #[test]
        fn on_responses(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut bytes = b"SIP/2.0 ".to_vec();
            bytes.extend_from_slice(&tail);
            let _ = parse_message(&bytes, 65535);
        }

        #[test]
        fn on_damaged_torture_messages(
            sample in 0..SAMPLES.len(),
            damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = torture(SAMPLES[sample]);
            for (at, value) in damage {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            let _ = parse_message(&bytes, 65535);
        }
    }
}
