//! Reaching people: the calls of an incident, the in-app inbox and its acknowledgement, the
//! deliveries (and an operator's retry of a dead letter), inbound SMS replies, the signed
//! acknowledgement links, people's channels (SMS numbers sealed), duty rosters, who holds a
//! post at a moment, and the gaps in a plan's posts. Commands run through [`App::execute`];
//! the reads check the same permissions for the API, the console and the CLI.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use yingji_domain::PersonRef;
use yingji_domain::callout::{Call, Recipient};
use yingji_domain::roster::{self, PostHolders, Resolved, Roster};
use yingji_notify::channels::{CHANNELS, hmac_hex};
use yingji_notify::outbound::DestinationError;
use yingji_store::notify::{Delivery, DeliveryFilter};
use yingji_store::{
    DeliveryWrite, DirectoryWrite, JurisdictionRow, PersonRow, PlanRow, Row, WriteSet, fmt_ts,
};

use crate::calls::{
    AcknowledgeCall, Acknowledged, holidays, load_callout, resolve_post, roster_of,
};
use crate::command::{Authorized, Command, Decided};
use crate::sealer::{PREFIX, UNREADABLE, mask_email, mask_phone};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission, phone_aad};

fn json_text<T: Serialize>(v: &T) -> JsonText {
    JsonText(serde_json::to_string(v).expect("answers serialise"))
}

/// An RFC 3339 time, or `invalid_time` naming the field.
fn parse_time(s: &str, field: &str) -> Result<Timestamp, AppError> {
    s.parse::<Timestamp>()
        .map_err(|e| AppError::field(ErrorCode::InvalidTime, field, format!("{field}: {e}")))
}

/// The jurisdiction a path ends with (`/<root>/…/<id>/`).
fn jurisdiction_of(path: &str) -> Result<Uuid, AppError> {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| AppError::internal(format!("not a jurisdiction path: {path}")))
}

// ---------------------------------------------------------------------------------------------
// Calls and acknowledgements
// ---------------------------------------------------------------------------------------------

/// One call with its recipients, whether it is answered and when it next escalates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallView {
    #[serde(flatten)]
    pub call: Call,
    pub answered: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due: Option<Timestamp>,
}

/// Every call of an incident.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentCalls {
    pub items: Vec<CallView>,
    pub drill: bool,
}

/// The calls of an incident the actor may see (`view_calls`).
pub async fn incident_calls(
    app: &App,
    actor: &Actor,
    incident_id: Uuid,
) -> Result<IncidentCalls, AppError> {
    let rec = app
        .store
        .get_incident(incident_id)
        .await?
        .filter(|r| actor.sees(&r.jurisdiction_path))
        .ok_or_else(|| AppError::not_found("incident"))?;
    app.require(
        actor,
        Permission::ViewCalls,
        &rec.jurisdiction_path,
        "incident",
    )?;
    let (c, _, _) = load_callout(app, rec.id).await?;
    Ok(IncidentCalls {
        items: c
            .calls
            .iter()
            .map(|call| CallView {
                answered: call.answered(),
                next_due: call.next_due(),
                call: call.clone(),
            })
            .collect(),
        drill: c.drill,
    })
}

/// The answer to an acknowledgement (a repeat changes nothing: `new` is false).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AckAnswer {
    pub call_id: Uuid,
    /// Always true: the call is acknowledged (now or before).
    pub acknowledged: bool,
    /// Whether this acknowledgement was the first.
    pub new: bool,
    /// Whether the call is answered (null when the call is not found in the callout).
    pub answered: Option<bool>,
}

impl AckAnswer {
    pub fn of(a: &Acknowledged, call_id: Uuid) -> AckAnswer {
        AckAnswer {
            call_id,
            acknowledged: true,
            new: a.new,
            answered: a.callout.call(call_id).map(|c| c.answered()),
        }
    }
}

/// A call acknowledged from the in-app inbox: the message names the call.
pub struct AcknowledgeMessage(pub Uuid);

/// The call a message asked about, and the acknowledgement.
#[derive(Debug, Clone)]
pub struct MessageAcknowledged {
    pub call_id: Uuid,
    pub ack: Acknowledged,
}

impl Command for AcknowledgeMessage {
    type Output = MessageAcknowledged;

    fn kind(&self) -> &'static str {
        "message.acknowledge"
    }

    async fn run(
        &self,
        app: &App,
        actor: &Actor,
    ) -> Result<Decided<MessageAcknowledged>, AppError> {
        // Only the person's own in-app messages; anyone else's is as if there were none.
        let d = app
            .store
            .delivery(self.0)
            .await?
            .filter(|d| d.person_id == Some(actor.person_id) && d.channel == "inapp")
            .ok_or_else(|| AppError::not_found("message"))?;
        let call_id = d.call_id.ok_or_else(|| {
            AppError::new(
                ErrorCode::NothingToAcknowledge,
                "this message asks for no acknowledgement",
            )
        })?;
        let cmd = AcknowledgeCall {
            call_id: call_id.into(),
            channel: "inapp".into(),
        };
        Ok(cmd
            .run(app, actor)
            .await?
            .map(|ack| MessageAcknowledged { call_id, ack }))
    }

    fn respond(&self, out: &MessageAcknowledged) -> JsonText {
        json_text(&AckAnswer::of(&out.ack, out.call_id))
    }
}

/// Runs an acknowledgement as `actor` (no Idempotency-Key: a repeat changes nothing).
async fn acknowledge(
    app: &App,
    actor: &Actor,
    call_id: Uuid,
    channel: &str,
) -> Result<Acknowledged, AppError> {
    let cmd = AcknowledgeCall {
        call_id: call_id.into(),
        channel: channel.to_string(),
    };
    app.execute(actor, None, &cmd)
        .await?
        .output()
        .ok_or_else(|| AppError::internal("an acknowledgement was replayed"))
}

// ---------------------------------------------------------------------------------------------
// Inbox
// ---------------------------------------------------------------------------------------------

/// An in-app message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxMessage {
    pub id: Uuid,
    pub incident_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub subject: String,
    pub text: String,
    pub drill: bool,
    pub created_at: String,
    /// True when the message asks for nothing or its call is acknowledged.
    pub acknowledged: bool,
}

/// The caller's in-app messages, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Inbox {
    pub items: Vec<InboxMessage>,
}

/// A new in-app message as the live stream pushes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxPush {
    pub id: Uuid,
    pub incident_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub subject: String,
    pub text: String,
    pub drill: bool,
}

impl InboxPush {
    /// The message, if it is the in-app message of `person`.
    pub fn for_person(d: &Delivery, person: Uuid) -> Option<InboxPush> {
        (d.person_id == Some(person)).then(|| InboxPush {
            id: d.id,
            incident_id: d.incident_id,
            call_id: d.call_id,
            subject: d.subject.clone(),
            text: d.body.clone(),
            drill: d.drill,
        })
    }
}

/// The actor's own in-app messages (no role is needed to read one's own inbox).
pub async fn inbox(app: &App, actor: &Actor, limit: Option<i64>) -> Result<Inbox, AppError> {
    let items = app
        .store
        .inbox(actor.person_id, limit.unwrap_or(50))
        .await?;
    let open: HashSet<Uuid> = if items.iter().any(|d| d.call_id.is_some()) {
        app.store
            .open_calls_of(actor.person_id)
            .await?
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    } else {
        HashSet::new()
    };
    Ok(Inbox {
        items: items
            .into_iter()
            .map(|d| InboxMessage {
                acknowledged: d.call_id.is_none_or(|c| !open.contains(&c)),
                id: d.id,
                incident_id: d.incident_id,
                call_id: d.call_id,
                subject: d.subject,
                text: d.body,
                drill: d.drill,
                created_at: d.created_at,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------------------------

/// Which deliveries to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// pending, sending, sent or dead
    pub state: Option<String>,
    pub incident_id: Option<Uuid>,
    pub channel: Option<String>,
    /// the `next` cursor of the previous page
    pub before: Option<Uuid>,
    /// 1–1000, default 100
    pub limit: Option<i64>,
}

/// One message on one channel. The address is shown in full only to its recipient (masked for
/// everyone else), and the signed acknowledgement link only to its recipient (None for others).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub outbox_id: Uuid,
    pub incident_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub jurisdiction_path: String,
    pub person_id: Option<Uuid>,
    pub channel: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub ack_url: Option<String>,
    pub drill: bool,
    /// pending, sending, sent or dead
    pub state: String,
    pub attempts: i64,
    pub next_at_ms: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub created_at: String,
}

/// Deliveries in the caller's scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryView>,
    /// The cursor of the next page (`before=`), null on the last.
    pub next: Option<Uuid>,
}

/// The deliveries in the actor's scope (`view_calls`), addresses as shown.
pub async fn deliveries(
    app: &App,
    actor: &Actor,
    q: &DeliveryQuery,
) -> Result<DeliveryList, AppError> {
    if let Some(s) = &q.state
        && !["pending", "sending", "sent", "dead"].contains(&s.as_str())
    {
        return Err(AppError::new(
            ErrorCode::InvalidState,
            "state is one of pending, sending, sent, dead",
        ));
    }
    app.require(
        actor,
        Permission::ViewCalls,
        &actor.scope_path,
        "deliveries",
    )?;
    let before = match q.before {
        None => None,
        Some(id) => Some((
            app.store.delivery_created_at(id).await?.ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidQuery,
                    "`before` must be the `next` cursor of an earlier page",
                )
            })?,
            id,
        )),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let f = DeliveryFilter {
        scope_path: actor.scope_path.clone(),
        state: q.state.clone(),
        incident_id: q.incident_id,
        channel: q.channel.clone(),
        before,
        limit: limit + 1,
    };
    let mut items = app.store.list_deliveries(&f).await?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|d| d.id)
    } else {
        None
    };
    Ok(DeliveryList {
        next,
        items: items
            .into_iter()
            .map(|d| DeliveryView {
                address: read_address(
                    app,
                    d.person_id,
                    &d.channel,
                    &d.address,
                    d.person_id == Some(actor.person_id),
                ),
                // The signed link acknowledges in its recipient's name: only they see it.
                ack_url: d.ack_url.filter(|_| d.person_id == Some(actor.person_id)),
                id: d.id,
                outbox_id: d.outbox_id,
                incident_id: d.incident_id,
                call_id: d.call_id,
                jurisdiction_path: d.jurisdiction_path,
                person_id: d.person_id,
                channel: d.channel,
                subject: d.subject,
                body: d.body,
                drill: d.drill,
                state: d.state,
                attempts: d.attempts,
                next_at_ms: d.next_at_ms,
                last_error: d.last_error,
                sent_at: d.sent_at,
                created_at: d.created_at,
            })
            .collect(),
    })
}

/// A dead letter put back in the queue (`manage_notifications`); anything not dead is
/// `delivery_not_dead`. Who put it back, and when, is a `delivery_retried` event in the
/// delivery's own stream (kind `delivery`, in the delivery's jurisdiction): the audit trail of
/// the action, and what tells live pages in scope that the delivery moved.
pub struct RetryDelivery(pub Uuid);

/// A delivery back in the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Retried {
    pub id: Uuid,
    /// Always `pending`.
    pub state: String,
}

impl Command for RetryDelivery {
    type Output = Retried;

    fn kind(&self) -> &'static str {
        "delivery.retry"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Retried>, AppError> {
        let d = app
            .store
            .delivery(self.0)
            .await?
            .filter(|d| actor.sees(&d.jurisdiction_path))
            .ok_or_else(|| AppError::not_found("delivery"))?;
        let auth = app.authorize(
            actor,
            Permission::ManageNotifications,
            &d.jurisdiction_path,
            "delivery",
        )?;
        if d.state != "dead" {
            return Err(AppError::new(
                ErrorCode::DeliveryNotDead,
                "only a dead delivery can be retried",
            ));
        }
        let jurisdiction_id = jurisdiction_of(&d.jurisdiction_path)?;
        let (version, hash) = app
            .store
            .stream_head(d.id)
            .await?
            .map_or((0, None), |(v, h)| (v, Some(h)));
        let now = app.clock.now();
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            d.id,
            "delivery",
            jurisdiction_id,
            version,
            hash.as_deref(),
            &actor.as_ref(),
            now,
            vec![Item::new(
                "delivery_retried",
                &json!({
                    "id": d.id,
                    "channel": d.channel,
                    "person_id": d.person_id,
                    "incident_id": d.incident_id,
                    "call_id": d.call_id,
                    "attempts": d.attempts,
                    "last_error": d.last_error,
                }),
                None,
            )],
        );
        // The write checks again that it is still dead (a concurrent retry is refused).
        ws.rows.push(Row::Delivery(DeliveryWrite::Retry {
            id: d.id,
            now_ms: now.as_millisecond(),
        }));
        Ok(Decided::new(
            auth,
            ws,
            Retried {
                id: d.id,
                state: "pending".into(),
            },
        ))
    }

    fn respond(&self, out: &Retried) -> JsonText {
        json_text(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Inbound SMS replies
// ---------------------------------------------------------------------------------------------

/// An SMS reply as the gateway forwards it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SmsReply {
    /// The sender's phone number.
    pub from: String,
    pub text: String,
}

/// What a reply did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmsAnswer {
    pub acknowledged: bool,
    /// Why nothing was acknowledged: `not an acknowledgement`, `unknown number`, `no open
    /// call`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether any acknowledgement was new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
    /// The calls newly acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<Vec<Uuid>>,
}

impl SmsAnswer {
    fn not(reason: &str) -> SmsAnswer {
        SmsAnswer {
            acknowledged: false,
            reason: Some(reason.into()),
            new: None,
            calls: None,
        }
    }
}

/// Checks that an inbound reply is signed (hex HMAC-SHA256 of the body) with the inbound
/// secret (the SMS gateway's, else the notifier's secret).
pub fn verify_inbound(app: &App, body: &[u8], signature: &str) -> Result<(), AppError> {
    let cfg = app.notify.config();
    let secret = cfg
        .sms
        .as_ref()
        .map(|s| s.inbound_secret.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| cfg.secret.clone());
    let want = hmac_hex(secret.as_bytes(), body);
    if signature.len() != want.len() || !signature.eq_ignore_ascii_case(&want) {
        return Err(AppError::new(
            ErrorCode::BadSignature,
            "the reply is not signed with the inbound secret",
        ));
    }
    Ok(())
}

/// Replies that acknowledge.
pub fn is_ack_reply(t: &str) -> bool {
    let t = t.trim().trim_end_matches(['。', '.', '!', '！']);
    matches!(
        t,
        "1" | "１" | "收到" | "已收到" | "确认" | "好" | "ok" | "OK"
    )
}

/// The person whose directory phone or SMS channel is `phone`.
async fn person_by_phone(app: &App, phone: &str) -> Result<Option<Uuid>, AppError> {
    if let Some((id, _)) = app.store.person_by_phone(phone).await? {
        return Ok(Some(id));
    }
    // Phones are sealed with a random nonce: open and compare.
    for (id, _, stored) in app.store.people_phones().await? {
        if stored.starts_with(PREFIX)
            && app
                .sealer
                .open(&stored, &phone_aad(id))
                .is_ok_and(|p| p.trim() == phone)
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// A verified reply: "1" or "收到" from a known phone acknowledges, as that person, every
/// call still open for them (the reply confirms what reached that phone).
pub async fn sms_reply(app: &App, reply: &SmsReply) -> Result<SmsAnswer, AppError> {
    if !is_ack_reply(&reply.text) {
        return Ok(SmsAnswer::not("not an acknowledgement"));
    }
    let Some(pid) = person_by_phone(app, reply.from.trim()).await? else {
        return Ok(SmsAnswer::not("unknown number"));
    };
    let open = app.store.open_calls_of(pid).await?;
    if open.is_empty() {
        return Ok(SmsAnswer::not("no open call"));
    }
    let me = Actor::load(app, pid, None).await?;
    let mut calls = Vec::new();
    for (_, call) in open {
        if acknowledge(app, &me, call, "sms").await?.new {
            calls.push(call);
        }
    }
    Ok(SmsAnswer {
        acknowledged: true,
        reason: None,
        new: Some(!calls.is_empty()),
        calls: Some(calls),
    })
}

// ---------------------------------------------------------------------------------------------
// Signed acknowledgement links
// ---------------------------------------------------------------------------------------------

/// What the page behind a signed link shows.
#[derive(Debug, Clone)]
pub struct LinkedCall {
    pub call: Call,
    pub recipient: Recipient,
    pub drill: bool,
}

/// The call a signed link is for, with the person it was sent to; `None` when the link is
/// broken or names no such call or recipient. Opening it changes nothing.
pub async fn linked_call(app: &App, token: &str) -> Result<Option<LinkedCall>, AppError> {
    let Some((call_id, person)) = app.notify.keys().verify(token) else {
        return Ok(None);
    };
    let Some(incident) = app.store.call_incident(call_id).await? else {
        return Ok(None);
    };
    let (c, _, _) = load_callout(app, incident).await?;
    let Some(call) = c.call(call_id) else {
        return Ok(None);
    };
    let Some(r) = call
        .recipients
        .iter()
        .find(|r| r.person.person_id == person)
    else {
        return Ok(None);
    };
    Ok(Some(LinkedCall {
        recipient: r.clone(),
        call: call.clone(),
        drill: c.drill,
    }))
}

/// Acknowledges by signed link, as the person it was sent to; `None` when the link is broken.
pub async fn acknowledge_link(app: &App, token: &str) -> Result<Option<Acknowledged>, AppError> {
    let Some((call_id, person)) = app.notify.keys().verify(token) else {
        return Ok(None);
    };
    let me = Actor::load(app, person, None).await?;
    acknowledge(app, &me, call_id, "link").await.map(Some)
}

// ---------------------------------------------------------------------------------------------
// People's channels
// ---------------------------------------------------------------------------------------------

/// One channel of a person.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelEntry {
    /// webhook, wecom, dingtalk, feishu, email or sms
    pub channel: String,
    /// A URL (webhook and robots), an e-mail address, or a phone number.
    pub address: String,
}

/// A person's channels, replacing the ones they had.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelsRequest {
    pub channels: Vec<ChannelEntry>,
}

impl ChannelEntry {
    /// A known channel with an address of its kind.
    pub fn validate(&self) -> Result<(), AppError> {
        if !CHANNELS.contains(&self.channel.as_str()) {
            return Err(AppError::new(
                ErrorCode::UnknownChannel,
                format!(
                    "`{}` is not a channel: use {}",
                    self.channel,
                    CHANNELS.join(", ")
                ),
            ));
        }
        let a = self.address.trim();
        let ok = match self.channel.as_str() {
            "email" => a.contains('@') && !a.contains(' '),
            "sms" => yingji_domain::values::Phone::try_from(a).is_ok(),
            _ => a.starts_with("https://") || a.starts_with("http://"),
        };
        if !ok || a.len() > 2000 {
            return Err(AppError::new(
                ErrorCode::InvalidAddress,
                format!("`{a}` is not a valid address for {}", self.channel),
            ));
        }
        Ok(())
    }
}

/// A webhook or robot URL that outbound messages may reach: not an IP literal in a restricted
/// range (loopback, private, link-local, metadata…) nor a name of the server itself, unless the
/// notification configuration's `allow_destinations` allows it. Names are checked again on what
/// they resolve to when a message is sent (`yingji_notify::outbound`).
fn allowed_destination(app: &App, c: &ChannelEntry) -> Result<(), AppError> {
    if !URL_CHANNELS.contains(&c.channel.as_str()) {
        return Ok(());
    }
    let address = c.address.trim();
    match app
        .notify
        .config()
        .allow_destinations
        .check_url(address)
    {
        Ok(_) => Ok(()),
        Err(DestinationError::Invalid(why)) => Err(AppError::new(
            ErrorCode::InvalidAddress,
            format!("`{address}` is not a valid address for {}: {why}", c.channel),
        )),
        Err(DestinationError::NotAllowed(r)) => Err(AppError::new(
            ErrorCode::DestinationNotAllowed,
            format!(
                "`{address}` is not an allowed destination: {} is {}; messages go only to public addresses and to those the operator allows (allow_destinations)",
                r.host, r.why
            ),
        )
        .details(json!({ "address": address, "host": r.host, "reason": r.why }))),
    }
}

/// The channels whose address is a URL a person sets.
const URL_CHANNELS: &[&str] = &["webhook", "wecom", "dingtalk", "feishu"];

/// A channel as shown: in full to its person (a phone number masked), masked for everyone else.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelView {
    pub channel: String,
    pub address: String,
}

/// A person's channels.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonChannels {
    pub person_id: Uuid,
    pub channels: Vec<ChannelView>,
}

/// A person in the actor's scope on whom the actor may do `p` (their own channels need no
/// role; `None`: only the scope is checked). Answers the proof for the person's jurisdiction.
async fn scoped_person(
    app: &App,
    actor: &Actor,
    id: Uuid,
    p: Option<Permission>,
) -> Result<(PersonRow, Authorized), AppError> {
    let person = app
        .store
        .person(id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    let j = app
        .scoped_jurisdiction(actor, person.jurisdiction_id, "person")
        .await?;
    let auth = match p {
        Some(p) if person.id != actor.person_id => app.authorize(actor, p, &j.path, "person")?,
        _ => app.authorize_own(actor, &j.path),
    };
    Ok((person, auth))
}

/// A channel address as stored: every address (a phone number, an e-mail address, a webhook or
/// group-robot URL, whose path is the robot's key) sealed, bound to its person.
fn stored_address(app: &App, person: Uuid, _channel: &str, address: &str) -> String {
    app.sealer.seal(address, &phone_aad(person))
}

/// A channel address as shown to someone: in full to the person it belongs to (a phone number
/// always masked); masked for everyone else (a phone number's middle digits, an e-mail's local part, a URL's path and
/// query, which hold a robot's key or a webhook's secret).
fn shown_address(channel: &str, plain: &str, own: bool) -> String {
    // A phone number is masked even for its owner, as the directory's phone is (revealing it
    // is a logged act).
    if own && channel != "sms" {
        return plain.to_string();
    }
    match channel {
        "sms" => mask_phone(plain),
        "email" => mask_email(plain),
        _ => match plain.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = host.rsplit('@').next().unwrap_or(host);
                format!("{scheme}://{host}/***")
            }
            None => "***".into(),
        },
    }
}

/// An address read back from storage (a channel row or a delivery), as shown to someone:
/// sealed values opened, then shown as [`shown_address`] does.
fn read_address(app: &App, person: Option<Uuid>, channel: &str, stored: &str, own: bool) -> String {
    if !stored.starts_with(PREFIX) {
        return shown_address(channel, stored, own);
    }
    person
        .and_then(|p| app.sealer.open(stored, &phone_aad(p)).ok())
        .map(|plain| shown_address(channel, &plain, own))
        .unwrap_or_else(|| UNREADABLE.to_string())
}

/// Replaces a person's channels (their own, or anyone's with `manage_notifications`). A
/// phone number is personal data: sealed at rest like the directory phone, masked in the
/// answer and in the `channels_set` event.
pub struct SetChannels {
    pub person_id: Uuid,
    pub request: ChannelsRequest,
}

impl Command for SetChannels {
    type Output = PersonChannels;

    fn kind(&self) -> &'static str {
        "person.channels"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<PersonChannels>, AppError> {
        let (p, auth) = scoped_person(
            app,
            actor,
            self.person_id,
            Some(Permission::ManageNotifications),
        )
        .await?;
        let channels = &self.request.channels;
        for c in channels {
            c.validate()?;
            allowed_destination(app, c)?;
        }
        let now = app.clock.now();
        let own = p.id == actor.person_id;
        let shown: Vec<ChannelView> = channels
            .iter()
            .map(|c| ChannelView {
                channel: c.channel.clone(),
                address: shown_address(&c.channel, c.address.trim(), own),
            })
            .collect();
        // The record keeps every address masked: events cannot be erased.
        let recorded: Vec<Value> = channels
            .iter()
            .map(|c| json!({"channel": c.channel, "address": shown_address(&c.channel, c.address.trim(), false)}))
            .collect();
        let mut ws = WriteSet::default();
        let head = app.store.stream_head(p.id).await?;
        let (v, h) = head.map_or((0, None), |(v, h)| (v, Some(h)));
        append(
            &mut ws,
            p.id,
            "person",
            p.jurisdiction_id,
            v,
            h.as_deref(),
            &actor.as_ref(),
            now,
            vec![Item::new(
                "channels_set",
                &json!({ "channels": recorded }),
                None,
            )],
        );
        ws.rows.push(Row::Directory(DirectoryWrite::Channels {
            person_id: p.id,
            channels: channels
                .iter()
                .map(|c| {
                    (
                        c.channel.clone(),
                        stored_address(app, p.id, &c.channel, c.address.trim()),
                    )
                })
                .collect(),
        }));
        Ok(Decided::new(
            auth,
            ws,
            PersonChannels {
                person_id: p.id,
                channels: shown,
            },
        ))
    }

    fn respond(&self, out: &PersonChannels) -> JsonText {
        json_text(out)
    }
}

/// A person's channels (their own, or anyone's in scope with `view_calls`), as shown.
pub async fn channels(
    app: &App,
    actor: &Actor,
    person_id: Uuid,
) -> Result<PersonChannels, AppError> {
    let (p, _) = scoped_person(app, actor, person_id, Some(Permission::ViewCalls)).await?;
    Ok(PersonChannels {
        person_id: p.id,
        channels: app
            .store
            .person_channels(p.id)
            .await?
            .into_iter()
            .map(|(c, a)| ChannelView {
                address: read_address(app, Some(p.id), &c, &a, p.id == actor.person_id),
                channel: c,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Duty rosters, who holds a post, gaps
// ---------------------------------------------------------------------------------------------

/// A jurisdiction the actor may see and read calls and rosters of (`view_calls`).
async fn calls_jurisdiction(
    app: &App,
    actor: &Actor,
    id: Uuid,
) -> Result<JurisdictionRow, AppError> {
    let j = app.scoped_jurisdiction(actor, id, "jurisdiction").await?;
    app.require(actor, Permission::ViewCalls, &j.path, "jurisdiction")?;
    Ok(j)
}

/// Stores a post's duty roster in a jurisdiction (`manage_notifications`); everyone on it must
/// be someone the actor can see. Records `roster_set` in the roster's stream.
pub struct SetRoster {
    pub jurisdiction_id: Uuid,
    pub post: String,
    pub roster: Roster,
}

/// The stream of a post's duty roster in a jurisdiction.
pub fn roster_stream(jurisdiction_id: Uuid, post: &str) -> Uuid {
    Uuid::new_v5(&jurisdiction_id, format!("roster/{post}").as_bytes())
}

impl Command for SetRoster {
    type Output = Roster;

    fn kind(&self) -> &'static str {
        "roster.set"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Roster>, AppError> {
        let j = app
            .scoped_jurisdiction(actor, self.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(
            actor,
            Permission::ManageNotifications,
            &j.path,
            "jurisdiction",
        )?;
        let mut r = self.roster.clone();
        r.post = self.post.clone();
        r.validate()?;
        for p in r
            .rotation
            .iter()
            .chain(&r.holiday_rotation)
            .chain(r.overrides.iter().map(|o| &o.person))
        {
            scoped_person(app, actor, p.person_id, None).await?;
        }
        let now = app.clock.now();
        let body = serde_json::to_string(&r).expect("roster serialises");
        let sid = roster_stream(j.id, &self.post);
        let head = app.store.stream_head(sid).await?;
        let (v, h) = head.map_or((0, None), |(v, h)| (v, Some(h)));
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            sid,
            "roster",
            j.id,
            v,
            h.as_deref(),
            &actor.as_ref(),
            now,
            vec![Item::new("roster_set", &r, None)],
        );
        ws.rows.push(Row::Directory(DirectoryWrite::Roster {
            jurisdiction_id: j.id,
            post_id: self.post.clone(),
            body,
            updated_at: fmt_ts(now),
        }));
        Ok(Decided::new(auth, ws, r))
    }

    fn respond(&self, out: &Roster) -> JsonText {
        json_text(out)
    }
}

/// A jurisdiction's duty rosters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterList {
    pub items: Vec<Roster>,
}

/// The duty rosters of a jurisdiction (`view_calls`).
pub async fn rosters(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Uuid,
) -> Result<RosterList, AppError> {
    let j = calls_jurisdiction(app, actor, jurisdiction_id).await?;
    Ok(RosterList {
        items: stored_rosters(app, j.id)
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect(),
    })
}

/// The rosters of a jurisdiction by post (one that no longer reads is left out).
async fn stored_rosters(
    app: &App,
    jurisdiction_id: Uuid,
) -> Result<Vec<(String, Roster)>, AppError> {
    Ok(app
        .store
        .rosters_in(jurisdiction_id)
        .await?
        .into_iter()
        .filter_map(|(post, b)| serde_json::from_str(&b).ok().map(|r| (post, r)))
        .collect())
}

/// Which post, when.
#[derive(Debug, Clone, Deserialize, IntoParams)]
pub struct ResolveQuery {
    pub post: String,
    /// RFC 3339; default now.
    pub at: Option<String>,
}

/// Who holds a post at a moment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resolution {
    pub post: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub resolved: Resolved,
}

/// Who holds a post in a jurisdiction at a moment, and how (`view_calls`).
pub async fn resolve(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Uuid,
    q: &ResolveQuery,
) -> Result<Resolution, AppError> {
    let j = calls_jurisdiction(app, actor, jurisdiction_id).await?;
    let at = match &q.at {
        Some(s) => parse_time(s, "at")?,
        None => app.clock.now(),
    };
    Ok(Resolution {
        resolved: resolve_post(app, j.id, &q.post, at).await?,
        post: q.post.clone(),
        at,
    })
}

/// A plan and a period to look for gaps in.
#[derive(Debug, Clone, Deserialize, IntoParams)]
pub struct GapQuery {
    pub plan: String,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339.
    pub to: String,
    /// Sampling step in minutes (default 15).
    pub step_minutes: Option<i64>,
}

/// A period in which nobody holds a post.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GapItem {
    pub post: String,
    pub post_name: String,
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

/// The posts a plan needs that nobody holds, with the periods.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Gaps {
    pub plan_id: String,
    pub plan_version: i64,
    pub posts_checked: usize,
    pub items: Vec<GapItem>,
}

/// The posts a plan needs that nobody holds in a jurisdiction in the query's period
/// (`view_calls`).
pub async fn gaps(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Uuid,
    q: &GapQuery,
) -> Result<Gaps, AppError> {
    let j = calls_jurisdiction(app, actor, jurisdiction_id).await?;
    let step = SignedDuration::from_mins(q.step_minutes.unwrap_or(15).clamp(1, 24 * 60));
    let from = parse_time(&q.from, "from")?;
    let to = parse_time(&q.to, "to")?;
    gaps_in(app, &j, &q.plan, from, to, step).await
}

/// The posts a plan needs that nobody holds in a jurisdiction in `[from, to)`, sampled every
/// `step` (`view_calls`; `yingji roster gaps`).
pub async fn gaps_between(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Uuid,
    plan_id: &str,
    from: Timestamp,
    to: Timestamp,
    step: SignedDuration,
) -> Result<Gaps, AppError> {
    let j = calls_jurisdiction(app, actor, jurisdiction_id).await?;
    gaps_in(app, &j, plan_id, from, to, step).await
}

async fn gaps_in(
    app: &App,
    j: &JurisdictionRow,
    plan_id: &str,
    from: Timestamp,
    to: Timestamp,
    step: SignedDuration,
) -> Result<Gaps, AppError> {
    let row = app
        .store
        .plan_latest(plan_id)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    gaps_of(app, j.id, &row, from, to, step).await
}

async fn gaps_of(
    app: &App,
    jurisdiction_id: Uuid,
    row: &PlanRow,
    from: Timestamp,
    to: Timestamp,
    step: SignedDuration,
) -> Result<Gaps, AppError> {
    let plan = app.plan(&row.plan_id, row.version).await?;
    if to <= from || to.duration_since(from) > SignedDuration::from_hours(24 * 92) {
        return Err(AppError::new(
            ErrorCode::InvalidPeriod,
            "`to` must be after `from`, at most 92 days later",
        ));
    }
    let cal = holidays(app);
    let mut items = Vec::new();
    for p in &plan.posts {
        let mut h = PostHolders::default();
        for (person_id, name, deputy) in app.store.holders(jurisdiction_id, &p.id.value).await? {
            let x = PersonRef { person_id, name };
            if deputy {
                h.deputies.push(x);
            } else {
                h.principals.push(x);
            }
        }
        let r = roster_of(app, jurisdiction_id, &p.id.value).await?;
        for g in roster::gaps(&p.id.value, &h, r.as_ref(), from, to, step, &cal) {
            items.push(GapItem {
                post: g.post,
                post_name: p.name.clone(),
                from: g.from,
                until: g.until,
            });
        }
    }
    Ok(Gaps {
        plan_id: row.plan_id.clone(),
        plan_version: row.version,
        posts_checked: plan.posts.len(),
        items,
    })
}

/// One post of a plan and who holds it now.
#[derive(Debug, Clone)]
pub struct BoardPost {
    pub post_id: String,
    pub post_name: String,
    pub now: Resolved,
}

/// One plan the jurisdiction owns: its posts and the gaps in the period.
#[derive(Debug, Clone)]
pub struct BoardPlan {
    pub plan: std::sync::Arc<yingji_plan::Plan>,
    pub posts: Vec<BoardPost>,
    pub gaps: Gaps,
}

/// The console's roster page: for each plan the jurisdiction owns (newest version), who holds
/// each post now and the gaps until `until`; and the jurisdiction's duty rosters.
pub struct DutyBoard {
    pub jurisdiction: JurisdictionRow,
    pub plans: Vec<BoardPlan>,
    /// (post, roster)
    pub rosters: Vec<(String, Roster)>,
}

/// The duty board of a jurisdiction (`view_calls`), from now until `until`.
pub async fn duty_board(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Uuid,
    until: Timestamp,
) -> Result<DutyBoard, AppError> {
    let j = calls_jurisdiction(app, actor, jurisdiction_id).await?;
    let now = app.clock.now();
    let mut seen = HashSet::new();
    let mut plans = Vec::new();
    for row in app.store.list_plans(&j.path).await? {
        if row.jurisdiction_id != j.id || !seen.insert(row.plan_id.clone()) {
            continue; // the newest version of each plan the jurisdiction owns
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        let mut posts = Vec::new();
        for post in &plan.posts {
            posts.push(BoardPost {
                post_id: post.id.value.clone(),
                post_name: post.name.clone(),
                now: resolve_post(app, j.id, &post.id.value, now).await?,
            });
        }
        let gaps = gaps_of(app, j.id, &row, now, until, SignedDuration::from_mins(15)).await?;
        plans.push(BoardPlan { plan, posts, gaps });
    }
    Ok(DutyBoard {
        rosters: stored_rosters(app, j.id).await?,
        jurisdiction: j,
        plans,
    })
}
