//! Notification configuration: a TOML file (`serve --notify-config`), every key optional. With
//! no file the in-app inbox works and webhook/robot channels work for people who have them;
//! SMTP and the SMS gateway need their sections.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::outbound::AllowList;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// The address people open acknowledgement links at, e.g. `https://yingji.example.gov.cn`.
    /// Empty (the default): the server's own address, `--public-url` or else `--listen`.
    pub base_url: String,
    /// Key for signing acknowledgement links and verifying inbound SMS webhooks. The server
    /// generates and keeps one in its data directory when this is empty.
    pub secret: String,
    /// How often the worker looks for work when nothing woke it (ms).
    pub poll_ms: u64,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: i64,
    /// Backoff after the first failure (ms), doubling each attempt up to `backoff_max_ms`.
    pub backoff_ms: i64,
    pub backoff_max_ms: i64,
    /// How long a claimed delivery is held before another worker may retry it (ms).
    pub lease_ms: i64,
    /// Deliveries claimed per round.
    pub batch: i64,
    /// Per-channel rate limits and timeouts, keyed by channel name.
    pub channels: BTreeMap<String, ChannelLimits>,
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsConfig>,
    /// Extra headers on generic webhook posts (e.g. a bearer token of the receiving system).
    pub webhook_headers: BTreeMap<String, String>,
    /// Exceptions for people's own destinations (webhook and robot URLs), which by default may
    /// not reach loopback, private, link-local, metadata and other non-public addresses:
    /// networks in CIDR form (`10.1.0.0/16`, `127.0.0.1/32`, `::1/128`) and host names, for
    /// the operator's own gateways. The SMS gateway and the SMTP server of this file are the
    /// operator's and need no entry. See [`crate::outbound`].
    pub allow_destinations: AllowList,
    /// Deprecated: extra holidays for duty rosters' holiday rotation (YYYY-MM-DD), added to the
    /// public holidays of the working-day calendar (`--calendars`, docs/calendars.md), which
    /// rosters use like cases do. Put national and local holidays in a calendar file instead.
    pub holidays: Vec<jiff::civil::Date>,
    /// The language notices are written in for people who have not chosen one (`zh-CN`, the
    /// default, or `en`).
    pub language: String,
    /// Where a published information release is posted (the operator's own systems: a public
    /// website's intake, a media platform's gateway): generic webhooks, each receiving the
    /// release's headline, text and the address of its CAP alert. Checked like people's own
    /// webhook URLs (`allow_destinations` for an internal address). Default: none.
    pub release_webhooks: Vec<String>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            base_url: String::new(),
            secret: String::new(),
            poll_ms: 500,
            max_attempts: 8,
            backoff_ms: 2_000,
            backoff_max_ms: 10 * 60_000,
            lease_ms: 60_000,
            batch: 256,
            channels: BTreeMap::new(),
            smtp: None,
            sms: None,
            webhook_headers: BTreeMap::new(),
            allow_destinations: AllowList::default(),
            holidays: vec![],
            language: crate::catalogue::DEFAULT_LANGUAGE.into(),
            release_webhooks: vec![],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelLimits {
    /// Messages per second on this channel (0: unlimited).
    pub per_second: f64,
    /// How many may go at once above the steady rate.
    pub burst: u32,
    /// Concurrent requests.
    pub concurrency: usize,
    pub timeout_ms: u64,
}

impl Default for ChannelLimits {
    fn default() -> Self {
        ChannelLimits {
            per_second: 0.0,
            burst: 20,
            concurrency: 64,
            timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// `none` (plain, for a relay on the local network), `starttls` or `tls`.
    #[serde(default = "smtp_tls")]
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `应急值班室 <duty@example.gov.cn>`
    pub from: String,
}

fn smtp_port() -> u16 {
    587
}
fn smtp_tls() -> String {
    "starttls".into()
}

/// An SMS gateway over HTTP: the body is the template with `{{phone}}`, `{{text}}`,
/// `{{message_id}}` and `{{timestamp}}` replaced (JSON-escaped when the content type is JSON,
/// URL-encoded for a form). With `sign_secret`, `sign_header` carries hex HMAC-SHA256 of
/// `timestamp + "\n" + body`, and `timestamp_header` the Unix time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub url: String,
    #[serde(default = "post")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "json_ct")]
    pub content_type: String,
    #[serde(default = "sms_template")]
    pub body_template: String,
    pub sign_secret: Option<String>,
    #[serde(default = "sign_header")]
    pub sign_header: String,
    #[serde(default = "ts_header")]
    pub timestamp_header: String,
    /// The header that carries the message id (providers that deduplicate read it).
    #[serde(default = "idem_header")]
    pub id_header: String,
    /// The secret an inbound reply webhook must present (`X-Yingji-Signature`: hex
    /// HMAC-SHA256 of the body). Empty: the server's own secret.
    #[serde(default)]
    pub inbound_secret: String,
}

fn post() -> String {
    "POST".into()
}
fn json_ct() -> String {
    "application/json".into()
}
fn sms_template() -> String {
    r#"{"to":"{{phone}}","text":"{{text}}","id":"{{message_id}}"}"#.into()
}
fn sign_header() -> String {
    "X-Signature".into()
}
fn ts_header() -> String {
    "X-Timestamp".into()
}
fn idem_header() -> String {
    "Idempotency-Key".into()
}

impl NotifyConfig {
    pub fn from_toml(s: &str) -> Result<NotifyConfig, String> {
        toml::from_str(s).map_err(|e| e.to_string())
    }

    pub fn limits(&self, channel: &str) -> ChannelLimits {
        self.channels.get(channel).cloned().unwrap_or_default()
    }

    /// Backoff before attempt `attempts + 1`.
    pub fn backoff(&self, attempts: i64) -> i64 {
        let shift = (attempts - 1).clamp(0, 30) as u32;
        self.backoff_ms
            .saturating_mul(1i64 << shift)
            .min(self.backoff_max_ms)
    }
}
