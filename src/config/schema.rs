//! The configuration file's shape (TOML, serde). Unknown keys are rejected.
//!
//! Names that validation may need to point at are `Spanned`, so an error can
//! say `file:line:column`. Defaults live here, next to the fields.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use toml::Spanned;

use crate::engine::Channel;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: Listen,
    #[serde(default)]
    pub storage: Storage,
    #[serde(default)]
    pub admin: Admin,
    #[serde(default)]
    pub operators: Vec<Operator>,
    #[serde(default)]
    pub queues: Vec<Queue>,
    #[serde(default)]
    pub routes: Routes,
    #[serde(default)]
    pub sip: Sip,
    #[serde(default)]
    pub trunks: Vec<Trunk>,
    #[serde(default)]
    pub crm: Crm,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub shutdown: Shutdown,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shutdown {
    /// On SIGTERM, calls in progress get this long to finish.
    #[serde(default = "default_grace")]
    pub grace_seconds: u64,
}

fn default_grace() -> u64 {
    60
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            grace_seconds: default_grace(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    pub sip_udp: Option<SocketAddr>,
    pub sip_tcp: Option<SocketAddr>,
    /// SIP over TLS; needs `[sip] tls_certificate` and `tls_key`.
    pub sip_tls: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub lmtp: Option<SocketAddr>,
    /// RTP port range, e.g. `[20000, 20999]`.
    #[serde(default = "default_rtp_ports")]
    pub rtp_ports: Spanned<[u16; 2]>,
}

fn default_rtp_ports() -> Spanned<[u16; 2]> {
    Spanned::new(0..0, [20000, 20999])
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// SQLite database file; used unless `postgres` is set.
    #[serde(default = "default_sqlite")]
    pub sqlite: PathBuf,
    /// PostgreSQL URL, e.g. `postgres://acdd@localhost/acdd`.
    pub postgres: Option<String>,
    /// Every engine input and output, as JSON lines (`acdd replay` reads it).
    #[serde(default = "default_event_log")]
    pub event_log: PathBuf,
    /// Where voicemail recordings go; default `voicemail/` beside `sqlite`.
    pub voicemail_dir: Option<PathBuf>,
    /// Where recordings of conversations go (queues with `record_calls`);
    /// default `recordings/` beside `sqlite`.
    pub recordings_dir: Option<PathBuf>,
    /// Recordings of conversations older than this many days are deleted
    /// (looked at hourly); absent: kept until someone deletes them.
    pub recordings_keep_days: Option<Spanned<u32>>,
    /// The same for voicemail.
    pub voicemail_keep_days: Option<Spanned<u32>>,
}

impl Storage {
    /// The folder of voicemail recordings (`voicemail_dir`, else
    /// `voicemail/` in the directory of the SQLite file).
    pub fn voicemail_dir(&self) -> PathBuf {
        match &self.voicemail_dir {
            Some(dir) => dir.clone(),
            None => self
                .sqlite
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default()
                .join("voicemail"),
        }
    }

    /// The folder of conversation recordings (`recordings_dir`, else
    /// `recordings/` in the directory of the SQLite file).
    pub fn recordings_dir(&self) -> PathBuf {
        match &self.recordings_dir {
            Some(dir) => dir.clone(),
            None => self
                .sqlite
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default()
                .join("recordings"),
        }
    }
}

fn default_event_log() -> PathBuf {
    PathBuf::from("./data/events.jsonl")
}

fn default_sqlite() -> PathBuf {
    PathBuf::from("./data/acdd.db")
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            sqlite: default_sqlite(),
            postgres: None,
            event_log: default_event_log(),
            voicemail_dir: None,
            recordings_dir: None,
            recordings_keep_days: None,
            voicemail_keep_days: None,
        }
    }
}

/// CRM settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crm {
    /// Country (ISO 3166 code, e.g. `DE`) assumed for phone numbers written
    /// without `+`; absent: only international numbers are recognised.
    pub phone_region: Option<Spanned<String>>,
}

/// Size limits on what channels accept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest HTTP request body (chat webhooks, forms, API calls); larger → 413.
    #[serde(default = "default_http_body_bytes")]
    pub http_body_bytes: usize,
    /// Largest mail accepted over LMTP; larger → 552.
    #[serde(default = "default_mail_bytes")]
    pub mail_bytes: usize,
}

fn default_http_body_bytes() -> usize {
    1024 * 1024
}
fn default_mail_bytes() -> usize {
    10 * 1024 * 1024
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            http_body_bytes: default_http_body_bytes(),
            mail_bytes: default_mail_bytes(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Bearer token for the admin API; no token means no admin API.
    pub token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub extension: Option<Spanned<String>>,
    pub sip_username: Option<Spanned<String>>,
    pub sip_password: Option<String>,
    /// MD5 HA1 (`md5(username:realm:password)`) instead of the password.
    pub sip_ha1: Option<String>,
    /// SHA-256 HA1 (`sha256(username:realm:password)`), beside `sip_ha1` when SHA-256 digests are offered.
    pub sip_ha1_sha256: Option<String>,
    pub api_token: Option<Spanned<String>>,
    #[serde(default)]
    pub capacity: Capacity,
    /// An operator on a call gets no chats, mails or forms meanwhile.
    #[serde(default = "yes")]
    pub phone_blocks_others: bool,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    #[serde(default = "one")]
    pub phone: Spanned<u32>,
    #[serde(default = "three")]
    pub chat: Spanned<u32>,
    /// Absent: no limit.
    pub mail: Option<Spanned<u32>>,
    /// Absent: no limit.
    pub form: Option<Spanned<u32>>,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            phone: one(),
            chat: three(),
            mail: None,
            form: None,
        }
    }
}

fn yes() -> bool {
    true
}
fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}
fn three() -> Spanned<u32> {
    Spanned::new(0..0, 3)
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    InOrder,
    Evenly,
    All,
    LongestIdle,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LimitCounts {
    Open,
    Unanswered,
    Answered,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// 180 Ringing until an operator answers: the caller's side plays ringback.
    Ringback,
    /// 183 Session Progress with acdd's SDP and a generated ringback tone
    /// (`ringback_tone`) as early media; 200 with the same SDP when an
    /// operator answers.
    Tone,
    /// Answer at once and play `music_file`.
    Music,
}

/// The cadence and frequencies of a generated ringback tone.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RingbackTone {
    /// 425 Hz, 1 s on, 4 s off (ETSI).
    #[default]
    Europe,
    /// 440 + 480 Hz, 2 s on, 4 s off.
    NorthAmerica,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissedKind {
    /// Answer, play `greeting`, record up to `max_seconds`.
    Voicemail,
    /// Call `to` (a number or SIP URI) through the outbound gateway.
    Forward,
    /// Overflow into `queue`, keeping the waiting time.
    Queue,
    /// Play `announcement` if given, then hang up.
    Hangup,
}

/// What happens to a request nobody took, e.g.
/// `missed = { action = "queue", queue = "sales" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Missed {
    pub action: MissedKind,
    pub to: Option<Spanned<String>>,
    pub queue: Option<Spanned<String>>,
    /// Longest voicemail recording.
    #[serde(default = "default_voicemail_seconds")]
    pub max_seconds: u32,
    /// `voicemail`: played (WAV, G.711 or 16-bit PCM at 8 kHz) before recording.
    pub greeting: Option<PathBuf>,
    /// `hangup`: played (same formats) before the BYE; the caller is answered for it.
    pub announcement: Option<PathBuf>,
}

fn default_voicemail_seconds() -> u32 {
    120
}

fn default_missed() -> Spanned<Missed> {
    Spanned::new(
        0..0,
        Missed {
            action: MissedKind::Hangup,
            to: None,
            queue: None,
            max_seconds: default_voicemail_seconds(),
            greeting: None,
            announcement: None,
        },
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    pub name: Spanned<String>,
    pub channels: Spanned<Vec<Channel>>,
    pub operators: Vec<Spanned<String>>,
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// Chat (and transfer) offers wait this long for an accept.
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_seconds: Spanned<i64>,
    /// A phone offer rings this many times ...
    #[serde(default = "default_ring_count")]
    pub ring_count: Spanned<i64>,
    /// ... of this many seconds each.
    #[serde(default = "default_ring_interval")]
    pub ring_interval_seconds: Spanned<f64>,
    #[serde(default = "yes")]
    pub check_availability: bool,
    pub max_per_operator: Option<Spanned<i64>>,
    #[serde(default = "default_limit_counts")]
    pub limit_counts: LimitCounts,
    #[serde(default = "yes")]
    pub responsible_first: bool,
    #[serde(default = "default_responsible_wait")]
    pub responsible_wait_seconds: Spanned<i64>,
    #[serde(default = "yes")]
    pub chat_tracker: bool,
    #[serde(default)]
    pub transfer_changes_responsible: bool,
    #[serde(default)]
    pub pickup: bool,
    #[serde(default = "zero")]
    pub wrap_up_seconds: Spanned<i64>,
    /// Absent: wait until an operator takes it or the customer leaves.
    pub max_wait_seconds: Option<Spanned<i64>>,
    pub max_length: Option<Spanned<i64>>,
    #[serde(default = "default_retry")]
    pub retry_seconds: Spanned<i64>,
    /// Pause an operator who let this many offers in a row ring out (reason `no_answer`).
    pub auto_pause_after: Option<Spanned<i64>>,
    /// Service-level target for metrics and replay: answered within this long.
    #[serde(default = "default_service_level")]
    pub service_level_seconds: Spanned<i64>,
    #[serde(default = "default_hold")]
    pub hold: Hold,
    pub music_file: Option<PathBuf>,
    /// The tone of `hold = "tone"`, and of a transfer's wait.
    #[serde(default)]
    pub ringback_tone: RingbackTone,
    /// Played now and then to callers waiting with `hold = "music"` or `"tone"`.
    pub waiting_announcement: Option<Spanned<WaitingAnnouncement>>,
    /// With `hold = "music"`: the key (`0`–`9`, `*`, `#`) a waiting caller
    /// presses to hang up and be called back (a callback task).
    pub callback_key: Option<Spanned<String>>,
    /// Phone calls this queue's operators answer are recorded, what the
    /// caller says and hears, to `[storage] recordings_dir`.
    #[serde(default)]
    pub record_calls: bool,
    /// Operators who may listen to (`*81EXT`), whisper to (`*82EXT`) or
    /// join (`*83EXT`) a call this queue's operator is talking in.
    #[serde(default)]
    pub supervisors: Vec<Spanned<String>>,
    #[serde(default = "default_missed")]
    pub missed: Spanned<Missed>,
}

/// What waiting callers hear every `every_seconds`, e.g.
/// `waiting_announcement = { file = "/etc/acdd/sounds/all-busy.wav", every_seconds = 30 }`;
/// their music or tone goes on after it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitingAnnouncement {
    /// WAV, G.711 or 16-bit PCM at 8 kHz, like the other prompts.
    pub file: PathBuf,
    #[serde(default = "default_announcement_interval")]
    pub every_seconds: Spanned<i64>,
}

fn default_announcement_interval() -> Spanned<i64> {
    Spanned::new(0..0, 30)
}

fn default_mode() -> Mode {
    Mode::InOrder
}
fn default_offer_timeout() -> Spanned<i64> {
    Spanned::new(0..0, 30)
}
fn default_ring_count() -> Spanned<i64> {
    Spanned::new(0..0, 3)
}
fn default_ring_interval() -> Spanned<f64> {
    Spanned::new(0..0, 5.0)
}
fn zero() -> Spanned<i64> {
    Spanned::new(0..0, 0)
}
fn default_limit_counts() -> LimitCounts {
    LimitCounts::Open
}
fn default_responsible_wait() -> Spanned<i64> {
    Spanned::new(0..0, 20)
}
fn default_retry() -> Spanned<i64> {
    Spanned::new(0..0, 5)
}
fn default_service_level() -> Spanned<i64> {
    Spanned::new(0..0, 20)
}
fn default_hold() -> Hold {
    Hold::Ringback
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routes {
    #[serde(default)]
    pub phone: Vec<PhoneRoute>,
    #[serde(default)]
    pub chat: Vec<ChatRoute>,
    #[serde(default)]
    pub mail: Vec<MailRoute>,
    #[serde(default)]
    pub form: Vec<FormRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneRoute {
    /// The dialled number (E.164 or as the trunk sends it).
    pub number: Spanned<String>,
    pub queue: Spanned<String>,
    /// Create a lead for an unknown caller.
    #[serde(default)]
    pub create_lead: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRoute {
    /// The chat source, e.g. `livechat` or `telegram`.
    pub source: Spanned<String>,
    pub queue: Spanned<String>,
    /// Where operator replies are POSTed for this source.
    pub reply_webhook: Option<String>,
    /// Bearer token the bridge must send with each message; absent: the
    /// webhook is open (e.g. a public live-chat widget).
    pub webhook_token: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailRoute {
    pub mailbox: Spanned<String>,
    pub queue: Spanned<String>,
    /// SMTP relay (e.g. the local Postfix, `127.0.0.1:25`) through which
    /// operator replies are sent from the mailbox; absent: replies are stored only.
    pub reply_relay: Option<SocketAddr>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Creates {
    Lead,
    Deal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormRoute {
    pub form: Spanned<String>,
    pub queue: Spanned<String>,
    #[serde(default = "default_creates")]
    pub creates: Creates,
    /// Our field name (`name`, `phone`, `email`, `comment`, or any other) →
    /// the field name in the submitted form.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Our field names that must be present and non-empty.
    #[serde(default)]
    pub required: Vec<String>,
}

fn default_creates() -> Creates {
    Creates::Lead
}

pub use super::sip_schema::{Sip, Trunk};
