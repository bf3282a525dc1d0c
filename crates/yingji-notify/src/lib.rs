//! yingji-notify: reaching people. The channels (generic JSON webhook; WeCom, DingTalk and
//! Feishu group robots; e-mail over SMTP; SMS through a configurable HTTP gateway; the in-app
//! inbox), the outbox worker that delivers at least once with a per-message id, backoff,
//! dead letters and per-channel rate limits, and signed acknowledgement links.

pub mod ack;
pub mod catalogue;
pub mod channels;
pub mod config;
pub mod outbound;
pub mod worker;

pub use ack::AckKeys;
pub use config::NotifyConfig;
pub use worker::{AddressOpener, DirectAddress, Intent, Round, UNDELIVERABLE, Worker};

/// Every message of a drill starts with this mark.
pub const DRILL_MARK: &str = "【演练】";

/// Prefixes the drill mark when the incident is a drill (once).
pub fn mark_drill(text: &str, drill: bool) -> String {
    if drill && !text.starts_with(DRILL_MARK) {
        format!("{DRILL_MARK}{text}")
    } else {
        text.to_string()
    }
}
