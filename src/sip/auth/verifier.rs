//! Decides whether a request carries valid digest credentials: builds the
//! challenges, checks realm, nonce (signature, age), qop, nonce-count and
//! response. Unknown users are checked against a dummy secret and get the
//! same answers as known ones, so nobody can probe which users exist.

use std::collections::HashMap;

use super::authorization::parse_authorization;
use super::digest::{Challenge, DigestAlgorithm, expected_response, ha1};
use super::nonce::{NonceSigner, NonceStatus};
use super::nonce_counts::NonceCounts;

/// Who a set of credentials belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Operator(String),
    Trunk(String),
}

/// HA1 per algorithm for one user.
#[derive(Clone, Debug, Default)]
pub struct Secret {
    ha1: HashMap<DigestAlgorithm, String>,
}

impl Secret {
    pub fn from_password(username: &str, realm: &str, password: &str) -> Secret {
        let ha1 = [
            DigestAlgorithm::Md5,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha512_256,
        ]
        .into_iter()
        .map(|a| (a, ha1(a, username, realm, password)))
        .collect();
        Secret { ha1 }
    }

    pub fn from_ha1(md5: Option<&str>, sha256: Option<&str>) -> Secret {
        let mut ha1 = HashMap::new();
        if let Some(h) = md5 {
            ha1.insert(DigestAlgorithm::Md5, h.to_ascii_lowercase());
        }
        if let Some(h) = sha256 {
            ha1.insert(DigestAlgorithm::Sha256, h.to_ascii_lowercase());
        }
        Secret { ha1 }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Authenticated(Principal),
    /// No usable credentials yet: send a challenge (`stale` for an old nonce).
    Challenge {
        stale: bool,
    },
    /// Wrong credentials, an unknown user, or a replay: counts as a failure.
    Failed {
        username: String,
        why: &'static str,
    },
}

pub struct DigestVerifier {
    realm: String,
    algorithms: Vec<DigestAlgorithm>,
    signer: NonceSigner,
    counts: NonceCounts,
    accounts: HashMap<String, (Principal, Secret)>,
    dummy: Secret,
}

impl DigestVerifier {
    pub fn new(realm: String, algorithms: Vec<DigestAlgorithm>, signer: NonceSigner) -> DigestVerifier {
        let dummy = Secret::from_password("nobody", &realm, "no password at all");
        DigestVerifier {
            realm,
            algorithms,
            signer,
            counts: NonceCounts::default(),
            accounts: HashMap::new(),
            dummy,
        }
    }

    /// New realm, algorithms, nonce lifetime and no accounts; issued nonces
    /// and their counts stay valid.
    pub fn reconfigure(&mut self, realm: String, algorithms: Vec<DigestAlgorithm>, nonce_lifetime: u64) {
        self.dummy = Secret::from_password("nobody", &realm, "no password at all");
        self.realm = realm;
        self.algorithms = algorithms;
        self.signer.set_lifetime(nonce_lifetime);
        self.accounts.clear();
    }

    pub fn add_account(&mut self, username: &str, principal: Principal, secret: Secret) {
        self.accounts.insert(username.to_lowercase(), (principal, secret));
    }

    /// `WWW-Authenticate` values, one per offered algorithm, most preferred first.
    pub fn challenges(&mut self, now: u64, stale: bool) -> Vec<String> {
        let nonce = self.signer.issue(now);
        self.algorithms
            .iter()
            .map(|a| {
                format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{}",
                    self.realm,
                    a.name(),
                    if stale { ", stale=true" } else { "" }
                )
            })
            .collect()
    }

    pub fn verify(&mut self, method: &str, authorization: Option<&str>, now: u64) -> Verdict {
        let Some(credentials) = authorization.and_then(parse_authorization) else {
            return Verdict::Challenge { stale: false };
        };
        if credentials.realm != self.realm {
            return Verdict::Challenge { stale: false };
        }
        let algorithm = match credentials.algorithm.as_deref() {
            None => DigestAlgorithm::Md5,
            Some(name) => match DigestAlgorithm::from_name(name) {
                Some(a) => a,
                None => return Verdict::Challenge { stale: false },
            },
        };
        if !self.algorithms.contains(&algorithm) {
            return Verdict::Challenge { stale: false };
        }
        let issued = match self.signer.check(&credentials.nonce, now) {
            NonceStatus::Fresh { issued } => issued,
            NonceStatus::Stale => return Verdict::Challenge { stale: true },
            NonceStatus::Forged => return Verdict::Challenge { stale: false },
        };
        let failed = |why| Verdict::Failed {
            username: credentials.username.clone(),
            why,
        };
        let (Some(qop), Some(nc_text), Some(cnonce)) = (&credentials.qop, &credentials.nc, &credentials.cnonce) else {
            return failed("no qop=auth");
        };
        if !qop.eq_ignore_ascii_case("auth") {
            return failed("qop is not auth");
        }
        let Ok(nc) = u32::from_str_radix(nc_text, 16) else {
            return failed("bad nonce-count");
        };
        let account = self.accounts.get(&credentials.username.to_lowercase());
        let secret = account.map(|(_, s)| s).unwrap_or(&self.dummy);
        let Some(ha1) = secret.ha1.get(&algorithm) else {
            return failed("no secret for this algorithm");
        };
        let expected = expected_response(
            algorithm,
            ha1,
            &Challenge {
                method,
                uri: &credentials.uri,
                nonce: &credentials.nonce,
                qop_auth: Some((nc_text, cnonce)),
            },
        );
        let matches = expected.len() == credentials.response.len()
            && expected
                .bytes()
                .zip(credentials.response.to_ascii_lowercase().bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        let Some((principal, _)) = account.filter(|_| matches) else {
            return failed("wrong credentials");
        };
        let principal = principal.clone();
        if !self
            .counts
            .accept(&credentials.nonce, nc, issued + self.signer.lifetime())
        {
            return failed("replayed nonce-count");
        }
        Verdict::Authenticated(principal)
    }

    pub fn prune(&mut self, now: u64) {
        self.counts.prune(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> DigestVerifier {
        let mut v = DigestVerifier::new(
            "acdd".into(),
            vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5],
            NonceSigner::new([1; 32], 60),
        );
        v.add_account(
            "alice",
            Principal::Operator("alice".into()),
            Secret::from_password("alice", "acdd", "pw"),
        );
        v
    }

    fn nonce_of(challenge: &str) -> String {
        challenge
            .split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    }

    fn authorization(algorithm: DigestAlgorithm, user: &str, password: &str, nonce: &str, nc: &str) -> String {
        let ha1 = ha1(algorithm, user, "acdd", password);
        let response = expected_response(
            algorithm,
            &ha1,
            &Challenge {
                method: "REGISTER",
                uri: "sip:acdd",
                nonce,
                qop_auth: Some((nc, "cn")),
            },
        );
        format!(
            "Digest username=\"{user}\", realm=\"acdd\", nonce=\"{nonce}\", uri=\"sip:acdd\", response=\"{response}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"cn\"",
            algorithm.name()
        )
    }

    #[test]
    fn sha256_and_md5_logins_replays_and_staleness() {
        let mut v = verifier();
        assert_eq!(v.verify("REGISTER", None, 100), Verdict::Challenge { stale: false });
        let challenges = v.challenges(100, false);
        assert!(challenges[0].contains("algorithm=SHA-256") && challenges[1].contains("algorithm=MD5"));
        let nonce = nonce_of(&challenges[0]);
        let sha = authorization(DigestAlgorithm::Sha256, "alice", "pw", &nonce, "00000001");
        assert_eq!(
            v.verify("REGISTER", Some(&sha), 101),
            Verdict::Authenticated(Principal::Operator("alice".into()))
        );
        assert!(matches!(
            v.verify("REGISTER", Some(&sha), 102),
            Verdict::Failed {
                why: "replayed nonce-count",
                ..
            }
        ));
        let md5 = authorization(DigestAlgorithm::Md5, "alice", "pw", &nonce, "00000002");
        assert_eq!(
            v.verify("REGISTER", Some(&md5), 102),
            Verdict::Authenticated(Principal::Operator("alice".into()))
        );
        assert_eq!(
            v.verify("REGISTER", Some(&md5), 200),
            Verdict::Challenge { stale: true }
        );
        assert!(v.challenges(200, true)[0].ends_with("stale=true"));
    }

    #[test]
    fn wrong_password_and_unknown_user_look_the_same() {
        let mut v = verifier();
        let nonce = nonce_of(&v.challenges(100, false)[0]);
        let wrong = authorization(DigestAlgorithm::Md5, "alice", "nope", &nonce, "00000001");
        let unknown = authorization(DigestAlgorithm::Md5, "mallory", "pw", &nonce, "00000001");
        assert!(matches!(
            v.verify("REGISTER", Some(&wrong), 101),
            Verdict::Failed {
                why: "wrong credentials",
                ..
            }
        ));
        assert!(matches!(
            v.verify("REGISTER", Some(&unknown), 101),
            Verdict::Failed {
                why: "wrong credentials",
                ..
            }
        ));
        let forged = authorization(DigestAlgorithm::Md5, "alice", "pw", "1.2.3", "00000001");
        assert_eq!(
            v.verify("REGISTER", Some(&forged), 101),
            Verdict::Challenge { stale: false }
        );
    }
}
