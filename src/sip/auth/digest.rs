//! Digest hashing: HA1, HA2 and the expected `response` for MD5, SHA-256 and
//! SHA-512-256, with and without `qop=auth`.

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
    Sha512_256,
}

impl DigestAlgorithm {
    /// Reads `MD5`, `SHA-256`, `SHA-512-256` (case-insensitive).
    pub fn from_name(name: &str) -> Option<DigestAlgorithm> {
        match name.trim().to_ascii_uppercase().as_str() {
            "MD5" => Some(DigestAlgorithm::Md5),
            "SHA-256" => Some(DigestAlgorithm::Sha256),
            "SHA-512-256" => Some(DigestAlgorithm::Sha512_256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha512_256 => "SHA-512-256",
        }
    }

    /// Lowercase hex of the hash of `data`.
    pub fn hex(self, data: &str) -> String {
        match self {
            DigestAlgorithm::Md5 => to_hex(&Md5::digest(data.as_bytes())),
            DigestAlgorithm::Sha256 => to_hex(&Sha256::digest(data.as_bytes())),
            DigestAlgorithm::Sha512_256 => to_hex(&Sha512_256::digest(data.as_bytes())),
        }
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// `H(username:realm:password)`.
pub fn ha1(algorithm: DigestAlgorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hex(&format!("{username}:{realm}:{password}"))
}

/// What the client proved knowledge of, besides HA1.
pub struct Challenge<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub nonce: &'a str,
    /// `Some((nc, cnonce))` with `qop=auth`; `None` for RFC 2069 style.
    pub qop_auth: Option<(&'a str, &'a str)>,
}

/// The `response` value a client knowing `ha1` must send.
pub fn expected_response(algorithm: DigestAlgorithm, ha1: &str, challenge: &Challenge) -> String {
    let ha2 = algorithm.hex(&format!("{}:{}", challenge.method, challenge.uri));
    match challenge.qop_auth {
        Some((nc, cnonce)) => algorithm.hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", challenge.nonce)),
        None => algorithm.hex(&format!("{ha1}:{}:{ha2}", challenge.nonce)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5.
    #[test]
    fn rfc2617_md5_vector() {
        let ha1 = ha1(DigestAlgorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
        let response = expected_response(
            DigestAlgorithm::Md5,
            &ha1,
            &Challenge {
                method: "GET",
                uri: "/dir/index.html",
                nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                qop_auth: Some(("00000001", "0a4f113b")),
            },
        );
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }

    /// RFC 7616 §3.9.1, both algorithms.
    #[test]
    fn rfc7616_md5_and_sha256_vectors() {
        let challenge = Challenge {
            method: "GET",
            uri: "/dir/index.html",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            qop_auth: Some(("00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")),
        };
        let md5 = ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(
            expected_response(DigestAlgorithm::Md5, &md5, &challenge),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        let sha = ha1(
            DigestAlgorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(
            expected_response(DigestAlgorithm::Sha256, &sha, &challenge),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn algorithm_names_round_trip() {
        for algorithm in [
            DigestAlgorithm::Md5,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha512_256,
        ] {
            assert_eq!(DigestAlgorithm::from_name(algorithm.name()), Some(algorithm));
        }
        assert_eq!(DigestAlgorithm::from_name("sha-256"), Some(DigestAlgorithm::Sha256));
        assert_eq!(DigestAlgorithm::from_name("MD5-sess"), None);
        assert_eq!(DigestAlgorithm::Sha512_256.hex("").len(), 64);
    }
}
