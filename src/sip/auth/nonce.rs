//! Nonces that need no table: `<issued>.<serial>.<hmac>`, the HMAC-SHA256 of
//! issue time and serial under a secret made at process start. A nonce we
//! did not sign is forged; one older than the lifetime is stale (RFC 7616 §3.3).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::digest::to_hex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceStatus {
    /// Ours and fresh; it was issued at this Unix second.
    Fresh { issued: u64 },
    /// Ours but too old: challenge again with `stale=true`.
    Stale,
    /// Not ours (or from before a restart).
    Forged,
}

pub struct NonceSigner {
    secret: [u8; 32],
    lifetime: u64,
    serial: u64,
}

/// 32 random bytes from the kernel.
pub fn random_secret() -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut secret)?;
    Ok(secret)
}

impl NonceSigner {
    pub fn new(secret: [u8; 32], lifetime_seconds: u64) -> NonceSigner {
        NonceSigner {
            secret,
            lifetime: lifetime_seconds,
            serial: 0,
        }
    }

    pub fn set_lifetime(&mut self, seconds: u64) {
        self.lifetime = seconds;
    }

    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    fn signature(&self, body: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(body.as_bytes());
        to_hex(&mac.finalize().into_bytes()[..16])
    }

    pub fn issue(&mut self, now: u64) -> String {
        self.serial += 1;
        let body = format!("{now:x}.{:x}", self.serial);
        let signature = self.signature(&body);
        format!("{body}.{signature}")
    }

    pub fn check(&self, nonce: &str, now: u64) -> NonceStatus {
        let Some((body, signature)) = nonce.rsplit_once('.') else {
            return NonceStatus::Forged;
        };
        let expected = self.signature(body);
        let same = expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return NonceStatus::Forged;
        }
        let Some(issued) = body.split('.').next().and_then(|t| u64::from_str_radix(t, 16).ok()) else {
            return NonceStatus::Forged;
        };
        if issued > now + 5 {
            return NonceStatus::Forged;
        }
        if now.saturating_sub(issued) > self.lifetime {
            NonceStatus::Stale
        } else {
            NonceStatus::Fresh { issued }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_stale_and_forged() {
        let mut signer = NonceSigner::new([7; 32], 30);
        let nonce = signer.issue(1000);
        assert_eq!(signer.check(&nonce, 1010), NonceStatus::Fresh { issued: 1000 });
        assert_eq!(signer.check(&nonce, 1031), NonceStatus::Stale);
        assert_ne!(signer.issue(1000), nonce, "every nonce is unique");
        let tampered = nonce.replacen("3e8", "3e9", 1);
        assert_eq!(signer.check(&tampered, 1010), NonceStatus::Forged);
        let other = NonceSigner::new([8; 32], 30);
        assert_eq!(other.check(&nonce, 1010), NonceStatus::Forged);
        assert_eq!(signer.check("garbage", 1010), NonceStatus::Forged);
    }
}
