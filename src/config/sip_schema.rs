//! The `[sip]` section (registrar, digest, qualify, front-door limits) and
//! `[[trunks]]` (who may send calls without registering). Shape only; checks
//! live in `sip_checks.rs`.

use serde::Deserialize;
use std::path::PathBuf;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sip {
    /// Digest realm; `sip_ha1` values are hashed with it.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Digest algorithms offered, one challenge each, most preferred first:
    /// "SHA-256", "SHA-512-256", "MD5". The default is MD5 alone because
    /// common phones fail on any other challenge (baresip 1.0 refuses the
    /// whole 401 when one challenge is SHA-256; SIPp 3.6 answers only the first).
    #[serde(default = "default_algorithms")]
    pub algorithms: Spanned<Vec<String>>,
    /// How long a nonce is good for; older ones get `401 stale=true`.
    #[serde(default = "default_nonce_seconds")]
    pub nonce_lifetime_seconds: Spanned<u32>,
    /// Shorter registrations get `423 Interval Too Brief`.
    #[serde(default = "default_min_expires")]
    pub min_expires_seconds: Spanned<u32>,
    /// Longer registrations are shortened to this.
    #[serde(default = "default_max_expires")]
    pub max_expires_seconds: Spanned<u32>,
    /// Used when a REGISTER names no expiry.
    #[serde(default = "default_expires")]
    pub default_expires_seconds: Spanned<u32>,
    /// At most this many contacts per operator.
    #[serde(default = "default_max_contacts")]
    pub max_contacts_per_operator: Spanned<u32>,
    /// Registered contacts are sent OPTIONS this often (0: never).
    #[serde(default = "default_qualify_interval")]
    pub qualify_interval_seconds: Spanned<u32>,
    /// A contact that does not answer an OPTIONS within this long is dead.
    #[serde(default = "default_qualify_timeout")]
    pub qualify_timeout_seconds: Spanned<u32>,
    /// Failed authentications allowed per source address ...
    #[serde(default = "default_auth_failures")]
    pub auth_failures_allowed: Spanned<u32>,
    /// ... within this window; more get the source banned ...
    #[serde(default = "default_auth_window")]
    pub auth_failure_window_seconds: Spanned<u32>,
    /// ... for this long.
    #[serde(default = "default_ban")]
    pub auth_ban_seconds: Spanned<u32>,
    /// Messages per second accepted from one source address (twice that in
    /// a burst); more are dropped and logged. Trunk sources are exempt. 0: no limit.
    #[serde(default = "default_flood")]
    pub requests_per_second_per_source: Spanned<u32>,
    /// Larger messages get `513 Message Too Large`.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: Spanned<u32>,
    /// PEM certificate chain and private key for `listen.sip_tls`.
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Where registrations are kept across restarts. Default: `registrations.tsv`
    /// beside `[storage] sqlite`.
    pub registrations_file: Option<PathBuf>,
    /// Where calls to outside numbers go (missed-call `forward`, transfers
    /// to a number no queue or operator has): `"IP:PORT"` of a SIP gateway
    /// or trunk reached over UDP. Absent: acdd dials nothing outside.
    pub outbound_gateway: Option<Spanned<String>>,
    /// How long a call through the outbound gateway may ring before it
    /// counts as failed.
    #[serde(default = "default_outbound_ring")]
    pub outbound_ring_seconds: Spanned<u32>,
    /// The number operators' own calls outside show (the From's user part);
    /// absent: the calling operator's extension.
    pub outbound_caller_id: Option<Spanned<String>>,
}

impl Default for Sip {
    fn default() -> Self {
        Sip {
            realm: default_realm(),
            algorithms: default_algorithms(),
            nonce_lifetime_seconds: default_nonce_seconds(),
            min_expires_seconds: default_min_expires(),
            max_expires_seconds: default_max_expires(),
            default_expires_seconds: default_expires(),
            max_contacts_per_operator: default_max_contacts(),
            qualify_interval_seconds: default_qualify_interval(),
            qualify_timeout_seconds: default_qualify_timeout(),
            auth_failures_allowed: default_auth_failures(),
            auth_failure_window_seconds: default_auth_window(),
            auth_ban_seconds: default_ban(),
            requests_per_second_per_source: default_flood(),
            max_message_bytes: default_max_message(),
            tls_certificate: None,
            tls_key: None,
            registrations_file: None,
            outbound_gateway: None,
            outbound_ring_seconds: default_outbound_ring(),
            outbound_caller_id: None,
        }
    }
}

fn default_realm() -> String {
    "acdd".into()
}
fn default_algorithms() -> Spanned<Vec<String>> {
    Spanned::new(0..0, vec!["MD5".into()])
}
fn number(value: u32) -> Spanned<u32> {
    Spanned::new(0..0, value)
}
fn default_nonce_seconds() -> Spanned<u32> {
    number(300)
}
fn default_min_expires() -> Spanned<u32> {
    number(60)
}
fn default_max_expires() -> Spanned<u32> {
    number(3600)
}
fn default_expires() -> Spanned<u32> {
    number(3600)
}
fn default_max_contacts() -> Spanned<u32> {
    number(10)
}
fn default_qualify_interval() -> Spanned<u32> {
    number(30)
}
fn default_qualify_timeout() -> Spanned<u32> {
    number(5)
}
fn default_auth_failures() -> Spanned<u32> {
    number(10)
}
fn default_auth_window() -> Spanned<u32> {
    number(60)
}
fn default_ban() -> Spanned<u32> {
    number(300)
}
fn default_flood() -> Spanned<u32> {
    number(500)
}
fn default_outbound_ring() -> Spanned<u32> {
    number(30)
}
fn default_max_message() -> Spanned<u32> {
    number(16384)
}

/// A carrier or PBX that sends calls: recognised by source address and/or
/// digest credentials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    pub name: Spanned<String>,
    /// Addresses or CIDR blocks, e.g. `"192.0.2.10"`, `"198.51.100.0/24"`, `"::1"`.
    #[serde(default)]
    pub sources: Vec<Spanned<String>>,
    /// Digest credentials the trunk authenticates INVITEs with.
    pub username: Option<Spanned<String>>,
    pub password: Option<String>,
}
