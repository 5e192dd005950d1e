//! Applies one authenticated REGISTER to the bindings (RFC 3261 §10.3 steps
//! 6–8): `Contact: *` with `Expires: 0` removes all, each contact's expiry
//! comes from its `expires` parameter or the Expires header or the default,
//! too short is 423, too long is shortened, `0` removes.

use super::bindings::{Binding, Bindings};
use crate::sip::transport::Path;
use crate::sip::wire::Request;
use crate::sip::wire::name_addr::parse_name_addr;
use crate::sip::wire::uri::Uri;

#[derive(Clone, Copy, Debug)]
pub struct RegisterPolicy {
    pub min_expires: u32,
    pub max_expires: u32,
    pub default_expires: u32,
    pub max_contacts: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// 200 with these Contact values (all current bindings); `changed` if
    /// anything was added or removed (not just refreshed).
    Done { contacts: Vec<String>, changed: bool },
    /// 423 with this Min-Expires.
    TooBrief { min: u32 },
    /// 400 for this reason.
    Bad(&'static str),
    /// 500: an older request of the same Call-ID (RFC 3261 §10.3 step 7).
    OutOfOrder,
    /// 403: more contacts than allowed.
    TooMany,
}

struct Wanted {
    uri: String,
    params: String,
    expires: u32,
}

pub fn apply(
    bindings: &mut Bindings,
    operator: &str,
    request: &Request,
    path: Path,
    now: u64,
    policy: RegisterPolicy,
) -> RegisterOutcome {
    let elements: Vec<&str> = request.headers.elements("contact").collect();
    if elements.contains(&"*") {
        if elements.len() != 1 || request.expires != Some(0) {
            return RegisterOutcome::Bad("Contact: * needs Expires: 0 and no other contact");
        }
        let changed = !bindings.of(operator).is_empty();
        bindings.clear(operator);
        return RegisterOutcome::Done {
            contacts: Vec::new(),
            changed,
        };
    }
    let mut wanted = Vec::new();
    for element in elements {
        let Ok(contact) = parse_name_addr(element) else {
            return RegisterOutcome::Bad("bad Contact");
        };
        if !matches!(contact.uri, Uri::Sip(_)) {
            return RegisterOutcome::Bad("Contact is not a SIP URI");
        }
        let expires = contact
            .param("expires")
            .flatten()
            .and_then(|v| v.parse::<u64>().ok())
            .map(|v| v.min(u32::MAX as u64) as u32)
            .or(request.expires)
            .unwrap_or(policy.default_expires);
        if expires != 0 && expires < policy.min_expires {
            return RegisterOutcome::TooBrief {
                min: policy.min_expires,
            };
        }
        let params: String = contact
            .params
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("expires"))
            .map(|(name, value)| match value {
                Some(v) => format!(";{name}={v}"),
                None => format!(";{name}"),
            })
            .collect();
        wanted.push(Wanted {
            uri: contact.uri_text,
            params,
            expires: expires.min(policy.max_expires),
        });
    }
    let existing = bindings.of(operator);
    for w in &wanted {
        if let Some(old) = existing.iter().find(|b| b.uri == w.uri)
            && old.call_id == request.call_id
            && old.cseq >= request.cseq
        {
            return RegisterOutcome::OutOfOrder;
        }
    }
    let added = wanted
        .iter()
        .filter(|w| w.expires > 0 && !existing.iter().any(|b| b.uri == w.uri))
        .count();
    let removed = wanted
        .iter()
        .filter(|w| w.expires == 0 && existing.iter().any(|b| b.uri == w.uri))
        .count();
    if existing.len() + added - removed > policy.max_contacts as usize {
        return RegisterOutcome::TooMany;
    }
    for w in wanted {
        if w.expires == 0 {
            bindings.remove(operator, &w.uri);
        } else {
            bindings.upsert(
                operator,
                Binding {
                    uri: w.uri,
                    params: w.params,
                    expires_at: now + w.expires as u64,
                    call_id: request.call_id.clone(),
                    cseq: request.cseq,
                    path,
                    alive: true,
                },
            );
        }
    }
    RegisterOutcome::Done {
        contacts: current_contacts(bindings, operator, now),
        changed: added + removed > 0,
    }
}

/// Contact header values listing every binding with its remaining time.
pub fn current_contacts(bindings: &Bindings, operator: &str, now: u64) -> Vec<String> {
    bindings
        .of(operator)
        .iter()
        .map(|b| format!("<{}>{};expires={}", b.uri, b.params, b.expires_at.saturating_sub(now)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::{Message, parse_message};

    const POLICY: RegisterPolicy = RegisterPolicy {
        min_expires: 60,
        max_expires: 3600,
        default_expires: 600,
        max_contacts: 2,
    };

    fn register(contacts: &str, expires: Option<u32>, cseq: u32) -> Request {
        let mut text = format!(
            "REGISTER sip:acdd SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{cseq}\r\nFrom: <sip:alice@acdd>;tag=1\r\n\
             To: <sip:alice@acdd>\r\nCall-ID: reg1\r\nCSeq: {cseq} REGISTER\r\n"
        );
        if !contacts.is_empty() {
            text.push_str(&format!("Contact: {contacts}\r\n"));
        }
        if let Some(e) = expires {
            text.push_str(&format!("Expires: {e}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        match parse_message(text.as_bytes(), 9999) {
            Ok(Message::Request(r)) => *r,
            other => panic!("{other:?}"),
        }
    }

    fn path() -> Path {
        Path::Udp {
            socket: 0,
            peer: "127.0.0.1:5070".parse().unwrap(),
        }
    }

    #[test]
    fn register_refresh_query_and_unregister() {
        let mut b = Bindings::default();
        let r = register("<sip:alice@127.0.0.1:5070>;unknownparam", Some(120), 1);
        let RegisterOutcome::Done { contacts, changed } = apply(&mut b, "alice", &r, path(), 1000, POLICY) else {
            panic!()
        };
        assert!(changed);
        assert_eq!(
            contacts,
            vec!["<sip:alice@127.0.0.1:5070>;unknownparam;expires=120".to_string()]
        );
        let r = register("<sip:alice@127.0.0.1:5070>;expires=99999", None, 2);
        let RegisterOutcome::Done { contacts, changed } = apply(&mut b, "alice", &r, path(), 1010, POLICY) else {
            panic!()
        };
        assert!(!changed, "a refresh changes nothing");
        assert_eq!(contacts, vec!["<sip:alice@127.0.0.1:5070>;expires=3600".to_string()]);
        assert_eq!(
            apply(&mut b, "alice", &register("", None, 3), path(), 1010, POLICY),
            RegisterOutcome::Done {
                contacts,
                changed: false
            }
        );
        assert_eq!(
            apply(
                &mut b,
                "alice",
                &register("<sip:alice@127.0.0.1:5070>", None, 2),
                path(),
                1010,
                POLICY
            ),
            RegisterOutcome::OutOfOrder
        );
        let r = register("<sip:alice@127.0.0.1:5070>", Some(0), 4);
        assert_eq!(
            apply(&mut b, "alice", &r, path(), 1020, POLICY),
            RegisterOutcome::Done {
                contacts: vec![],
                changed: true
            }
        );
    }

    #[test]
    fn limits_and_wildcard() {
        let mut b = Bindings::default();
        let brief = register("<sip:alice@127.0.0.1:5070>", Some(30), 1);
        assert_eq!(
            apply(&mut b, "alice", &brief, path(), 0, POLICY),
            RegisterOutcome::TooBrief { min: 60 }
        );
        let three = register("<sip:a@h1>, <sip:a@h2>, <sip:a@h3>", None, 2);
        assert_eq!(
            apply(&mut b, "alice", &three, path(), 0, POLICY),
            RegisterOutcome::TooMany
        );
        let two = register("<sip:a@h1>, <sip:a@h2>", None, 3);
        assert!(matches!(
            apply(&mut b, "alice", &two, path(), 0, POLICY),
            RegisterOutcome::Done { changed: true, .. }
        ));
        assert_eq!(b.of("alice").len(), 2);
        let star_without_zero = register("*", Some(60), 4);
        assert!(matches!(
            apply(&mut b, "alice", &star_without_zero, path(), 0, POLICY),
            RegisterOutcome::Bad(_)
        ));
        let star = register("*", Some(0), 5);
        assert!(matches!(
            apply(&mut b, "alice", &star, path(), 0, POLICY),
            RegisterOutcome::Done { changed: true, .. }
        ));
        assert!(b.of("alice").is_empty());
    }
}
