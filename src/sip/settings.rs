//! The SIP layer's view of the configuration, computed once at start: ports,
//! realm and algorithms, operator secrets (HA1 per algorithm), trunks,
//! registrar policy, timers and limits.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::auth::digest::DigestAlgorithm;
use super::auth::verifier::Secret;
use super::cidr::Cidr;
use super::registrar::register::RegisterPolicy;
use crate::config::Config;

pub struct OperatorAccount {
    pub id: String,
    pub username: String,
    pub secret: Secret,
}

pub struct TrunkSettings {
    pub name: String,
    pub sources: Vec<Cidr>,
    /// Username and its secret, for trunks that authenticate.
    pub credentials: Option<(String, Secret)>,
}

pub struct SipSettings {
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    pub tls: Option<SocketAddr>,
    /// PEM files for `tls`.
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub realm: String,
    pub algorithms: Vec<DigestAlgorithm>,
    pub nonce_lifetime: u64,
    pub policy: RegisterPolicy,
    pub qualify_interval: Option<Duration>,
    pub qualify_timeout: Duration,
    pub auth_failures: u32,
    pub auth_window: Duration,
    pub auth_ban: Duration,
    /// Messages per second per non-trunk source; 0: no limit.
    pub flood_limit: u32,
    pub max_message: usize,
    pub registrations_file: PathBuf,
    pub operators: Vec<OperatorAccount>,
    pub trunks: Vec<TrunkSettings>,
    /// Numbers with a `[[routes.phone]]` entry.
    pub routed_numbers: HashSet<String>,
}

impl SipSettings {
    pub fn from_config(config: &Config) -> SipSettings {
        let sip = &config.sip;
        let realm = sip.realm.clone();
        let operators = config
            .operators
            .iter()
            .filter_map(|o| {
                let username = o.sip_username.as_ref()?.get_ref().clone();
                let secret = match &o.sip_password {
                    Some(password) => Secret::from_password(&username, &realm, password),
                    None => Secret::from_ha1(o.sip_ha1.as_deref(), o.sip_ha1_sha256.as_deref()),
                };
                Some(OperatorAccount {
                    id: o.id.get_ref().clone(),
                    username,
                    secret,
                })
            })
            .collect();
        let trunks = config
            .trunks
            .iter()
            .map(|t| TrunkSettings {
                name: t.name.get_ref().clone(),
                sources: t.sources.iter().filter_map(|s| s.get_ref().parse().ok()).collect(),
                credentials: match (&t.username, &t.password) {
                    (Some(user), Some(password)) => Some((
                        user.get_ref().clone(),
                        Secret::from_password(user.get_ref(), &realm, password),
                    )),
                    _ => None,
                },
            })
            .collect();
        let registrations_file = sip.registrations_file.clone().unwrap_or_else(|| {
            config
                .storage
                .sqlite
                .parent()
                .map(|dir| dir.join("registrations.tsv"))
                .unwrap_or_else(|| PathBuf::from("registrations.tsv"))
        });
        let qualify = *sip.qualify_interval_seconds.get_ref();
        SipSettings {
            udp: config.listen.sip_udp,
            tcp: config.listen.sip_tcp,
            tls: config.listen.sip_tls,
            tls_certificate: sip.tls_certificate.clone(),
            tls_key: sip.tls_key.clone(),
            algorithms: sip
                .algorithms
                .get_ref()
                .iter()
                .filter_map(|a| DigestAlgorithm::from_name(a))
                .collect(),
            realm,
            nonce_lifetime: *sip.nonce_lifetime_seconds.get_ref() as u64,
            policy: RegisterPolicy {
                min_expires: *sip.min_expires_seconds.get_ref(),
                max_expires: *sip.max_expires_seconds.get_ref(),
                default_expires: *sip.default_expires_seconds.get_ref(),
                max_contacts: *sip.max_contacts_per_operator.get_ref(),
            },
            qualify_interval: (qualify > 0).then(|| Duration::from_secs(qualify as u64)),
            qualify_timeout: Duration::from_secs(*sip.qualify_timeout_seconds.get_ref() as u64),
            auth_failures: *sip.auth_failures_allowed.get_ref(),
            auth_window: Duration::from_secs(*sip.auth_failure_window_seconds.get_ref() as u64),
            auth_ban: Duration::from_secs(*sip.auth_ban_seconds.get_ref() as u64),
            flood_limit: *sip.requests_per_second_per_source.get_ref(),
            max_message: *sip.max_message_bytes.get_ref() as usize,
            registrations_file,
            operators,
            trunks,
            routed_numbers: config.routes.phone.iter().map(|r| r.number.get_ref().clone()).collect(),
        }
    }
}
