//! Registered contacts per operator, with expiry and liveness (from qualify).
//! Pure state: times are Unix seconds passed in.

use std::collections::BTreeMap;

use crate::sip::transport::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI exactly as registered.
    pub uri: String,
    /// Contact parameters other than `expires`, as `;name=value...`.
    pub params: String,
    pub expires_at: u64,
    pub call_id: String,
    pub cseq: u32,
    /// Where the REGISTER came from; requests to the contact go there.
    pub path: Path,
    /// False after the contact stopped answering OPTIONS.
    pub alive: bool,
}

#[derive(Default)]
pub struct Bindings {
    by_operator: BTreeMap<String, Vec<Binding>>,
}

impl Bindings {
    pub fn of(&self, operator: &str) -> &[Binding] {
        self.by_operator.get(operator).map_or(&[], Vec::as_slice)
    }

    pub fn operators(&self) -> impl Iterator<Item = (&String, &Vec<Binding>)> {
        self.by_operator.iter()
    }

    /// Contacts registered, over all operators.
    pub fn count(&self) -> usize {
        self.by_operator.values().map(Vec::len).sum()
    }

    /// Adds or refreshes the binding for `binding.uri`.
    pub fn upsert(&mut self, operator: &str, binding: Binding) {
        let list = self.by_operator.entry(operator.to_string()).or_default();
        match list.iter_mut().find(|b| b.uri == binding.uri) {
            Some(existing) => *existing = binding,
            None => list.push(binding),
        }
    }

    pub fn remove(&mut self, operator: &str, uri: &str) {
        if let Some(list) = self.by_operator.get_mut(operator) {
            list.retain(|b| b.uri != uri);
            if list.is_empty() {
                self.by_operator.remove(operator);
            }
        }
    }

    pub fn clear(&mut self, operator: &str) {
        self.by_operator.remove(operator);
    }

    /// Drops bindings expired at `now`; returns the operators that lost some.
    pub fn expire(&mut self, now: u64) -> Vec<String> {
        let mut changed = Vec::new();
        self.by_operator.retain(|operator, list| {
            let before = list.len();
            list.retain(|b| b.expires_at > now);
            if list.len() != before {
                changed.push(operator.clone());
            }
            !list.is_empty()
        });
        changed
    }

    /// Marks one contact alive or dead; true if that changed anything.
    pub fn set_alive(&mut self, operator: &str, uri: &str, alive: bool) -> bool {
        let Some(binding) = self
            .by_operator
            .get_mut(operator)
            .and_then(|list| list.iter_mut().find(|b| b.uri == uri))
        else {
            return false;
        };
        let changed = binding.alive != alive;
        binding.alive = alive;
        changed
    }

    /// Some registered contact that answers.
    pub fn reachable(&self, operator: &str) -> bool {
        self.of(operator).iter().any(|b| b.alive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(uri: &str, expires_at: u64) -> Binding {
        Binding {
            uri: uri.into(),
            params: String::new(),
            expires_at,
            call_id: "c".into(),
            cseq: 1,
            path: Path::Udp {
                socket: 0,
                peer: "127.0.0.1:5070".parse().unwrap(),
            },
            alive: true,
        }
    }

    #[test]
    fn several_contacts_expire_and_die_separately() {
        let mut b = Bindings::default();
        b.upsert("alice", binding("sip:alice@127.0.0.1:5070", 100));
        b.upsert("alice", binding("sip:alice@127.0.0.1:5072", 200));
        b.upsert("alice", binding("sip:alice@127.0.0.1:5070", 150));
        assert_eq!(b.of("alice").len(), 2);
        assert!(b.set_alive("alice", "sip:alice@127.0.0.1:5070", false));
        assert!(b.reachable("alice"));
        assert!(b.set_alive("alice", "sip:alice@127.0.0.1:5072", false));
        assert!(!b.reachable("alice"));
        assert_eq!(b.expire(160), vec!["alice".to_string()]);
        assert_eq!(b.of("alice").len(), 1);
        assert!(b.expire(160).is_empty());
        b.clear("alice");
        assert!(b.of("alice").is_empty());
    }
}
