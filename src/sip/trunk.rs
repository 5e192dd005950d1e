//! Recognises trunks by source address (credentials are checked by the
//! digest verifier, which knows trunk accounts as `Principal::Trunk`).

use std::net::IpAddr;

use super::cidr::Cidr;

pub struct Trunks {
    by_source: Vec<(String, Vec<Cidr>)>,
}

impl Trunks {
    pub fn new(by_source: Vec<(String, Vec<Cidr>)>) -> Trunks {
        Trunks { by_source }
    }

    /// The trunk whose sources contain `address`, first match wins.
    pub fn by_source(&self, address: IpAddr) -> Option<&str> {
        self.by_source
            .iter()
            .find(|(_, sources)| sources.iter().any(|s| s.contains(address)))
            .map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_trunk() {
        let trunks = Trunks::new(vec![
            ("carrier".into(), vec!["192.0.2.0/24".parse().unwrap()]),
            ("pbx".into(), vec!["192.0.2.7".parse().unwrap(), "::1".parse().unwrap()]),
        ]);
        assert_eq!(trunks.by_source("192.0.2.7".parse().unwrap()), Some("carrier"));
        assert_eq!(trunks.by_source("::1".parse().unwrap()), Some("pbx"));
        assert_eq!(trunks.by_source("198.51.100.1".parse().unwrap()), None);
    }
}
