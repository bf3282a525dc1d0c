//! The channels: what a message looks like on each, and sending it once. Every send carries the
//! delivery's id as the message id, so a provider that deduplicates recognises a retry.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::catalogue::{fill, word};
use yingji_store::notify::Delivery;

use crate::config::{NotifyConfig, SmsConfig, SmtpConfig};
use crate::outbound::{DestinationError, GuardedResolver, refused_in};

/// The header every HTTP send carries with the message (delivery) id.
pub const MESSAGE_ID_HEADER: &str = "X-Yingji-Message-Id";

/// Channels a person can have besides the inbox.
pub const CHANNELS: &[&str] = &["webhook", "wecom", "dingtalk", "feishu", "email", "sms"];

/// Why a send failed; `permanent` failures are dead-lettered at once.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl SendError {
    fn retry(m: impl Into<String>) -> SendError {
        SendError {
            message: m.into(),
            permanent: false,
        }
    }
    pub(crate) fn fatal(m: impl Into<String>) -> SendError {
        SendError {
            message: m.into(),
            permanent: true,
        }
    }
}

/// The text of a message as every text channel shows it, in the notice language `lang`.
pub fn full_text(d: &Delivery, lang: &str) -> String {
    let mut s = format!("{}\n{}", d.subject, d.body);
    if let Some(u) = &d.ack_url {
        s.push('\n');
        s.push_str(&fill(
            &word(lang, "message", "ack_link"),
            &[("url", u.clone())],
        ));
    }
    s
}

/// The text of a robot message: [`full_text`] and a last line with the message id, which the
/// robots' formats have no field for.
pub fn robot_text(d: &Delivery, lang: &str) -> String {
    format!(
        "{}\n{}",
        full_text(d, lang),
        fill(
            &word(lang, "message", "id_line"),
            &[("id", d.id.to_string())]
        )
    )
}

/// Builds a robot message for WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书) group robots;
/// `mention` is the recipient's phone, when known.
pub fn robot_body(channel: &str, text: &str, mention: Option<&str>) -> Value {
    match channel {
        "wecom" => json!({
            "msgtype": "text",
            "text": { "content": text, "mentioned_mobile_list": mention.into_iter().collect::<Vec<_>>() },
        }),
        "dingtalk" => json!({
            "msgtype": "text",
            "text": { "content": text },
            "at": { "atMobiles": mention.into_iter().collect::<Vec<_>>(), "isAtAll": false },
        }),
        _ => json!({ "msg_type": "text", "content": { "text": text } }),
    }
}

/// The generic webhook's JSON.
pub fn webhook_body(d: &Delivery) -> Value {
    json!({
        "message_id": d.id,
        "incident_id": d.incident_id,
        "call_id": d.call_id,
        "person_id": d.person_id,
        "subject": d.subject,
        "text": d.body,
        "ack_url": d.ack_url,
        "drill": d.drill,
    })
}

/// Fills an SMS template.
pub fn fill_template(cfg: &SmsConfig, phone: &str, text: &str, id: &str, ts: i64) -> String {
    let json = cfg.content_type.contains("json");
    let esc = |s: &str| -> String {
        if json {
            let q = serde_json::to_string(s).unwrap_or_default();
            q[1..q.len() - 1].to_string()
        } else {
            form_encode(s)
        }
    };
    cfg.body_template
        .replace("{{phone}}", &esc(phone))
        .replace("{{text}}", &esc(text))
        .replace("{{message_id}}", &esc(id))
        .replace("{{timestamp}}", &ts.to_string())
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Hex HMAC-SHA256.
pub fn hmac_hex(secret: &[u8], data: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    m.update(data);
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends deliveries; holds the HTTP clients and the SMTP transport.
pub struct Sender {
    /// For the endpoints of the configuration (the SMS gateway): the operator's own.
    http: reqwest::Client,
    /// For people's own destinations (webhooks, robots): restricted addresses refused at
    /// connect time ([`GuardedResolver`]), no redirects, no proxy from the environment.
    outbound: reqwest::Client,
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, lettre::message::Mailbox)>,
    cfg: NotifyConfig,
}

fn smtp_transport(
    c: &SmtpConfig,
) -> anyhow::Result<(AsyncSmtpTransport<Tokio1Executor>, lettre::message::Mailbox)> {
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host).port(c.port);
    b = match c.tls.as_str() {
        "none" => b.tls(Tls::None),
        "tls" => b.tls(Tls::Wrapper(TlsParameters::new(c.host.clone())?)),
        _ => b.tls(Tls::Required(TlsParameters::new(c.host.clone())?)),
    };
    if let (Some(u), Some(p)) = (&c.username, &c.password) {
        b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
            u.clone(),
            p.clone(),
        ));
    }
    b = b.timeout(Some(Duration::from_secs(20)));
    let from = c
        .from
        .parse()
        .map_err(|e| anyhow::anyhow!("smtp.from `{}`: {e}", c.from))?;
    Ok((b.build(), from))
}

impl Sender {
    pub fn new(cfg: NotifyConfig) -> anyhow::Result<Sender> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(64)
            .build()?;
        let outbound = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(64)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::new(
                cfg.allow_destinations.clone(),
            ))))
            .build()?;
        let smtp = cfg.smtp.as_ref().map(smtp_transport).transpose()?;
        Ok(Sender {
            http,
            outbound,
            smtp,
            cfg,
        })
    }

    /// A person's own destination, checked before sending: an IP literal is connected to
    /// without a resolver, and the allow-list may have changed since the address was saved.
    fn destination(&self, address: &str) -> Result<reqwest::Url, SendError> {
        self.cfg
            .allow_destinations
            .check_before_send(address)
            .map_err(|e| match e {
                DestinationError::Invalid(m) => SendError::fatal(format!("invalid address {m}")),
                DestinationError::NotAllowed(r) => SendError::fatal(r.to_string()),
            })
    }

    /// Whether a channel can be used with this configuration.
    pub fn has(&self, channel: &str) -> bool {
        match channel {
            "inapp" | "webhook" | "wecom" | "dingtalk" | "feishu" => true,
            "email" => self.smtp.is_some(),
            "sms" => self.cfg.sms.is_some(),
            _ => false,
        }
    }

    /// Sends one delivery once. `phone` is the recipient's phone for robot mentions.
    pub async fn send(&self, d: &Delivery, phone: Option<&str>) -> Result<(), SendError> {
        let timeout = Duration::from_millis(self.cfg.limits(&d.channel).timeout_ms);
        match d.channel.as_str() {
            "inapp" => Ok(()),
            "webhook" => {
                let url = self.destination(&d.address)?;
                let mut req = self
                    .outbound
                    .post(url)
                    .timeout(timeout)
                    .header("Idempotency-Key", d.id.to_string())
                    .header(MESSAGE_ID_HEADER, d.id.to_string())
                    .json(&webhook_body(d));
                for (k, v) in &self.cfg.webhook_headers {
                    req = req.header(k, v);
                }
                check_http(req.send().await, None, true).await
            }
            "wecom" | "dingtalk" | "feishu" => {
                let url = self.destination(&d.address)?;
                let body = robot_body(&d.channel, &robot_text(d, &self.cfg.language), phone);
                let req = self
                    .outbound
                    .post(url)
                    .timeout(timeout)
                    .header(MESSAGE_ID_HEADER, d.id.to_string())
                    .json(&body);
                let code_key = if d.channel == "feishu" {
                    "code"
                } else {
                    "errcode"
                };
                check_http(req.send().await, Some(code_key), true).await
            }
            "sms" => {
                let cfg = self
                    .cfg
                    .sms
                    .as_ref()
                    .ok_or_else(|| SendError::fatal("no SMS gateway configured"))?;
                let ts = jiff::Timestamp::now().as_second();
                let body = fill_template(
                    cfg,
                    &d.address,
                    &full_text(d, &self.cfg.language),
                    &d.id.to_string(),
                    ts,
                );
                let method = reqwest::Method::from_bytes(cfg.method.as_bytes())
                    .map_err(|_| SendError::fatal("sms.method is not an HTTP method"))?;
                let mut req = self
                    .http
                    .request(method, &cfg.url)
                    .timeout(timeout)
                    .header("Content-Type", &cfg.content_type)
                    .header(&cfg.id_header, d.id.to_string());
                if !cfg.id_header.eq_ignore_ascii_case(MESSAGE_ID_HEADER) {
                    req = req.header(MESSAGE_ID_HEADER, d.id.to_string());
                }
                for (k, v) in &cfg.headers {
                    req = req.header(k, v);
                }
                if let Some(s) = &cfg.sign_secret {
                    let sig = hmac_hex(s.as_bytes(), format!("{ts}\n{body}").as_bytes());
                    req = req
                        .header(&cfg.sign_header, sig)
                        .header(&cfg.timestamp_header, ts.to_string());
                }
                check_http(req.body(body).send().await, None, false).await
            }
            "email" => {
                let (t, from) = self
                    .smtp
                    .as_ref()
                    .ok_or_else(|| SendError::fatal("no SMTP server configured"))?;
                let to = d
                    .address
                    .parse()
                    .map_err(|e| SendError::fatal(format!("address `{}`: {e}", d.address)))?;
                let msg = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&d.subject)
                    .message_id(Some(format!("<{}@yingji>", d.id)))
                    .header(ContentType::TEXT_PLAIN)
                    .body(full_text(d, &self.cfg.language))
                    .map_err(|e| SendError::fatal(format!("building the e-mail: {e}")))?;
                match tokio::time::timeout(timeout, t.send(msg)).await {
                    Err(_) => Err(SendError::retry("SMTP timed out")),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) if e.is_permanent() => {
                        Err(SendError::fatal(format!("SMTP refused: {e}")))
                    }
                    Ok(Err(e)) => Err(SendError::retry(format!("SMTP: {e}"))),
                }
            }
            other => Err(SendError::fatal(format!("unknown channel `{other}`"))),
        }
    }
}

/// What an HTTP send's answer means. `outbound`: a person's own destination, where a refused
/// destination (found among the error's causes, from [`GuardedResolver`]) and a redirect (not
/// followed) are permanent failures.
async fn check_http(
    r: Result<reqwest::Response, reqwest::Error>,
    code_key: Option<&str>,
    outbound: bool,
) -> Result<(), SendError> {
    let resp = match r {
        Ok(resp) => resp,
        Err(e) => {
            if let Some(refused) = refused_in(&e) {
                return Err(SendError::fatal(refused.to_string()));
            }
            return Err(SendError::retry(format!("request failed: {e}")));
        }
    };
    let status = resp.status();
    if outbound && status.is_redirection() {
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect::<String>();
        return Err(SendError::fatal(format!(
            "HTTP {status}: redirects are not followed (Location: {to})"
        )));
    }
    let text = resp.text().await.unwrap_or_default();
    let short: String = text.chars().take(300).collect();
    if status.is_success() {
        if let Some(k) = code_key
            && let Ok(v) = serde_json::from_str::<Value>(&text)
            && let Some(c) = v.get(k).and_then(Value::as_i64)
            && c != 0
        {
            return Err(SendError::retry(format!("robot answered {k}={c}: {short}")));
        }
        return Ok(());
    }
    // 4xx other than 408/429 will not get better by retrying.
    let permanent = status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429;
    let e = format!("HTTP {status}: {short}");
    Err(if permanent {
        SendError::fatal(e)
    } else {
        SendError::retry(e)
    })
}
