//! Reaching people over HTTP: calls and acknowledgements (API, in-app, signed link page, inbound
//! SMS replies), the in-app inbox (with live push), deliveries and dead letters, people's
//! channels, duty rosters, `resolve(post, at)` and the gap query.

use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use yingji_domain::PersonRef;
use yingji_domain::roster::{self, PostHolders, Roster};
use yingji_notify::channels::{CHANNELS, hmac_hex};
use yingji_store::notify::{DeliveryFilter, delivery_retry};
use yingji_store::{Row, Stmt, Val, WriteSet, args};

use crate::AppState;
use crate::auth::Actor;
use crate::calls;
use crate::error::{ApiError, JsonBody};
use crate::trust::Permission;
use crate::write::{Item, append};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/calls", get(incident_calls))
        .route("/calls/{id}/ack", post(ack_call))
        .route("/inbox", get(inbox))
        .route("/inbox/stream", get(inbox_stream))
        .route("/inbox/{id}/ack", post(ack_inbox))
        .route("/deliveries", get(list_deliveries))
        .route("/deliveries/{id}/retry", post(retry_delivery))
        .route("/sms/inbound", post(sms_inbound))
        .route("/people/{id}/channels", put(put_channels).get(get_channels))
        .route("/jurisdictions/{id}/rosters", get(list_rosters))
        .route("/jurisdictions/{id}/rosters/{post}", put(put_roster))
        .route("/jurisdictions/{id}/resolve", get(resolve_post))
        .route("/jurisdictions/{id}/gaps", get(gaps))
}

/// The acknowledgement page behind signed links (no bearer token: the link is the credential).
pub fn page_routes() -> Router<AppState> {
    Router::new().route("/ack/{token}", get(ack_page).post(ack_link))
}

fn person_ref(a: &Actor) -> PersonRef {
    PersonRef {
        person_id: a.person_id,
        name: a.name.clone(),
    }
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/calls", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "every call of the incident with its recipients, who acknowledged when and by which channel, and escalation state", body = Object)))]
pub async fn incident_calls(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let rec = state
        .store
        .get_incident(id)
        .await?
        .filter(|r| actor.sees(&r.jurisdiction_path))
        .ok_or_else(|| ApiError::not_found("incident"))?;
    state.require(
        &actor,
        Permission::ViewCalls,
        &rec.jurisdiction_path,
        "incident",
    )?;
    let (c, _, _) = calls::load_callout(&state, rec.id).await?;
    let items: Vec<Value> = c
        .calls
        .iter()
        .map(|call| {
            let mut v = serde_json::to_value(call).expect("call serialises");
            v["answered"] = json!(call.answered());
            v["next_due"] = json!(call.next_due());
            v
        })
        .collect();
    Ok(axum::Json(json!({ "items": items, "drill": c.drill })))
}

fn ack_json(callout: &yingji_domain::callout::Callout, call: Uuid, new: bool) -> Value {
    let c = callout.call(call);
    json!({
        "call_id": call,
        "acknowledged": true,
        "new": new,
        "answered": c.map(|c| c.answered()),
    })
}

#[utoipa::path(post, path = "/api/v1/calls/{id}/ack", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the caller's acknowledgement of a call (a repeat changes nothing: `new` is false)", body = Object),
        (status = 404, description = "no such call for this person")))]
pub async fn ack_call(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let (c, new) = calls::acknowledge(&state, id, &person_ref(&actor), "api").await?;
    Ok(axum::Json(ack_json(&c, id, new)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxQuery {
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/inbox", tag = "notify", params(InboxQuery),
    responses((status = 200, description = "the caller's in-app messages, newest first", body = Object)))]
pub async fn inbox(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<InboxQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let items = state
        .store
        .inbox(actor.person_id, q.limit.unwrap_or(50))
        .await?;
    let mut out = Vec::new();
    for d in items {
        let acked = match d.call_id {
            Some(c) => !state
                .store
                .open_calls_of(actor.person_id)
                .await?
                .iter()
                .any(|(_, x)| *x == c),
            None => true,
        };
        out.push(json!({
            "id": d.id, "incident_id": d.incident_id, "call_id": d.call_id,
            "subject": d.subject, "text": d.body, "drill": d.drill,
            "created_at": d.created_at, "acknowledged": acked,
        }));
    }
    Ok(axum::Json(json!({ "items": out })))
}

/// Server-sent events: each new in-app message of the caller, as it is written.
pub async fn inbox_stream(State(state): State<AppState>, actor: Actor) -> impl IntoResponse {
    let rx = state.notify.inbox.subscribe();
    let me = actor.person_id;
    let stream = futures_util::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(d) if d.person_id == Some(me) => {
                    let data = json!({
                        "id": d.id, "incident_id": d.incident_id, "call_id": d.call_id,
                        "subject": d.subject, "text": d.body, "drill": d.drill,
                    });
                    let ev = SseEvent::default().event("message").data(data.to_string());
                    return Some((Ok::<_, Infallible>(ev), rx));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[utoipa::path(post, path = "/api/v1/inbox/{id}/ack", tag = "notify",
    params(("id" = Uuid, Path, description = "an in-app message id")),
    responses((status = 200, description = "acknowledged from the in-app button", body = Object)))]
pub async fn ack_inbox(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let d = state
        .store
        .delivery(id)
        .await?
        .filter(|d| d.person_id == Some(actor.person_id) && d.channel == "inapp")
        .ok_or_else(|| ApiError::not_found("message"))?;
    let call = d.call_id.ok_or_else(|| {
        ApiError::unprocessable(
            "nothing_to_acknowledge",
            "this message asks for no acknowledgement",
        )
    })?;
    let (c, new) = calls::acknowledge(&state, call, &person_ref(&actor), "inapp").await?;
    Ok(axum::Json(ack_json(&c, call, new)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// pending, sending, sent or dead
    pub state: Option<String>,
    pub incident_id: Option<Uuid>,
    pub channel: Option<String>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/deliveries", tag = "notify", params(DeliveryQuery),
    responses((status = 200, description = "messages per channel in the caller's scope, with attempts, last error and state (dead letters: `state=dead`); `counts` per state", body = Object)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<DeliveryQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    if let Some(s) = &q.state
        && !["pending", "sending", "sent", "dead"].contains(&s.as_str())
    {
        return Err(ApiError::bad_request(
            "invalid_state",
            "state is one of pending, sending, sent, dead",
        ));
    }
    state.require(
        &actor,
        Permission::ViewCalls,
        &actor.scope_path.clone(),
        "deliveries",
    )?;
    let f = DeliveryFilter {
        scope_path: actor.scope_path.clone(),
        state: q.state.clone(),
        incident_id: q.incident_id,
        channel: q.channel.clone(),
        limit: q.limit.unwrap_or(100),
    };
    let mut items = state.store.list_deliveries(&f).await?;
    for d in &mut items {
        d.address = read_address(&state, d.person_id, &d.channel, &d.address);
    }
    Ok(axum::Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "a dead letter back in the queue", body = Object),
        (status = 409, description = "the delivery is not dead")))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let d = state
        .store
        .delivery(id)
        .await?
        .filter(|d| actor.sees(&d.jurisdiction_path))
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    state.require(
        &actor,
        Permission::ManageNotifications,
        &d.jurisdiction_path,
        "delivery",
    )?;
    let mut ws = WriteSet::default();
    ws.rows.push(Row::Sql(delivery_retry(
        id,
        state.clock.now().as_millisecond(),
    )));
    state.store.commit(ws).await.map_err(|e| match e {
        yingji_store::StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "delivery_not_dead",
            "only a dead delivery can be retried",
        ),
        e => e.into(),
    })?;
    state.notify.wake.notify_one();
    Ok(axum::Json(json!({ "id": id, "state": "pending" })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SmsReply {
    /// The sender's phone number.
    pub from: String,
    pub text: String,
}

/// Replies that acknowledge.
fn is_ack_reply(t: &str) -> bool {
    let t = t.trim().trim_end_matches(['。', '.', '!', '！']);
    matches!(
        t,
        "1" | "１" | "收到" | "已收到" | "确认" | "好" | "ok" | "OK"
    )
}

#[utoipa::path(post, path = "/api/v1/sms/inbound", tag = "notify", request_body = SmsReply,
    security(()),
    responses((status = 200, description = "a reply \"1\" or \"收到\" acknowledges every call still open for the sender; `X-Yingji-Signature` must be hex HMAC-SHA256 of the body with the inbound secret", body = Object),
        (status = 401, description = "bad signature")))]
pub async fn sms_inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    let cfg = state.notify.config();
    let secret = cfg
        .sms
        .as_ref()
        .map(|s| s.inbound_secret.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| cfg.secret.clone());
    let want = hmac_hex(secret.as_bytes(), &body);
    let got = headers
        .get("x-yingji-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if got.len() != want.len() || !got.eq_ignore_ascii_case(&want) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the reply is not signed with the inbound secret",
        ));
    }
    let reply: SmsReply = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
    if !is_ack_reply(&reply.text) {
        return Ok(axum::Json(
            json!({ "acknowledged": false, "reason": "not an acknowledgement" }),
        ));
    }
    let from = reply.from.trim();
    let mut found = state.store.person_by_phone(from).await?;
    if found.is_none() {
        // Directory phones are sealed with a random nonce: open and compare.
        for (id, name, stored) in state.store.people_phones().await? {
            if stored.starts_with(crate::sealer::PREFIX)
                && state
                    .sealer
                    .open(&stored, &crate::directory::phone_aad(id))
                    .is_ok_and(|p| p.trim() == from)
            {
                found = Some((id, name));
                break;
            }
        }
    }
    let Some((pid, name)) = found else {
        return Ok(axum::Json(
            json!({ "acknowledged": false, "reason": "unknown number" }),
        ));
    };
    // The reply confirms what reached that phone: every call still open for the person.
    let open = state.store.open_calls_of(pid).await?;
    if open.is_empty() {
        return Ok(axum::Json(
            json!({ "acknowledged": false, "reason": "no open call" }),
        ));
    }
    let me = PersonRef {
        person_id: pid,
        name,
    };
    let mut calls_acked = Vec::new();
    for (_, call) in open {
        let (_, new) = calls::acknowledge(&state, call, &me, "sms").await?;
        if new {
            calls_acked.push(call);
        }
    }
    Ok(axum::Json(
        json!({ "acknowledged": true, "new": !calls_acked.is_empty(), "calls": calls_acked }),
    ))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.6}}button{{font-size:1.2rem;padding:.6rem 1.6rem}}</style></head><body>{body}</body></html>"
    ))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page behind a signed link: shows the call and a button; opening it changes nothing.
pub async fn ack_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some((call, person)) = state.notify.keys().verify(&token) else {
        return (
            StatusCode::NOT_FOUND,
            page("链接无效", "<h1>链接无效或已损坏</h1>"),
        )
            .into_response();
    };
    let Ok(Some(iid)) = state.store.call_incident(call).await else {
        return (
            StatusCode::NOT_FOUND,
            page("链接无效", "<h1>没有这次通知</h1>"),
        )
            .into_response();
    };
    let Ok((c, _, _)) = calls::load_callout(&state, iid).await else {
        return (
            StatusCode::NOT_FOUND,
            page("链接无效", "<h1>没有这次通知</h1>"),
        )
            .into_response();
    };
    let Some(call) = c.call(call) else {
        return (
            StatusCode::NOT_FOUND,
            page("链接无效", "<h1>没有这次通知</h1>"),
        )
            .into_response();
    };
    let Some(r) = call
        .recipients
        .iter()
        .find(|r| r.person.person_id == person)
    else {
        return (
            StatusCode::NOT_FOUND,
            page("链接无效", "<h1>没有这次通知</h1>"),
        )
            .into_response();
    };
    let drill = if c.drill { "【演练】" } else { "" };
    let lines: String = call
        .lines
        .iter()
        .map(|l| format!("<li>{}</li>", esc(l)))
        .collect();
    let action = match r.acked_at {
        Some(at) => format!(
            "<p>您已于 {} 确认收到。</p>",
            at.to_zoned(
                jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
            )
            .strftime("%Y-%m-%d %H:%M")
        ),
        None => "<form method=\"post\"><button type=\"submit\">确认收到</button></form>".into(),
    };
    page(
        "确认收到",
        &format!(
            "<h1>{drill}确认收到通知</h1><p>{}，您好。</p><p>{}{}</p><ul>{lines}</ul>{action}",
            esc(&r.person.name),
            esc(call.post_name.as_deref().unwrap_or("")),
            esc(&call.subject),
        ),
    )
    .into_response()
}

/// The POST from the page: acknowledges, by link.
pub async fn ack_link(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some((call, person)) = state.notify.keys().verify(&token) else {
        return (
            StatusCode::NOT_FOUND,
            page("链接无效", "<h1>链接无效或已损坏</h1>"),
        )
            .into_response();
    };
    let name = match state.store.person(person).await {
        Ok(Some(p)) => p.name,
        _ => String::new(),
    };
    match calls::acknowledge(
        &state,
        call,
        &PersonRef {
            person_id: person,
            name,
        },
        "link",
    )
    .await
    {
        Ok(_) => page("已确认", "<h1>已确认收到</h1><p>谢谢，确认已记录。</p>").into_response(),
        Err(e) => (
            e.status,
            page(
                "无法确认",
                &format!("<h1>无法确认</h1><p>{}</p>", esc(&e.message)),
            ),
        )
            .into_response(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelEntry {
    /// webhook, wecom, dingtalk, feishu, email or sms
    pub channel: String,
    /// A URL (webhook and robots), an e-mail address, or a phone number.
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelsRequest {
    pub channels: Vec<ChannelEntry>,
}

/// A person in the actor's scope on whom the actor may do `p` (a person's own channels need
/// no role).
async fn scoped_person(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    p: Option<Permission>,
) -> Result<yingji_store::PersonRow, ApiError> {
    let person = state
        .store
        .person(id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let j = state
        .scoped_jurisdiction(actor, person.jurisdiction_id, "person")
        .await?;
    if let Some(p) = p
        && person.id != actor.person_id
    {
        state.require(actor, p, &j.path, "person")?;
    }
    Ok(person)
}

fn validate_channel(c: &ChannelEntry) -> Result<(), ApiError> {
    if !CHANNELS.contains(&c.channel.as_str()) {
        return Err(ApiError::unprocessable(
            "unknown_channel",
            format!(
                "`{}` is not a channel: use {}",
                c.channel,
                CHANNELS.join(", ")
            ),
        ));
    }
    let a = c.address.trim();
    let ok = match c.channel.as_str() {
        "email" => a.contains('@') && !a.contains(' '),
        "sms" => {
            a.len() >= 5
                && a.chars()
                    .all(|x| x.is_ascii_digit() || x == '+' || x == '-')
        }
        _ => a.starts_with("https://") || a.starts_with("http://"),
    };
    if !ok || a.len() > 2000 {
        return Err(ApiError::unprocessable(
            "invalid_address",
            format!("`{a}` is not a valid address for {}", c.channel),
        ));
    }
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/people/{id}/channels", tag = "notify",
    params(("id" = Uuid, Path)), request_body = ChannelsRequest,
    responses((status = 200, description = "the person's channels, replaced", body = Object)))]
pub async fn put_channels(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<ChannelsRequest>,
) -> Result<axum::Json<Value>, ApiError> {
    let p = scoped_person(&state, &actor, id, Some(Permission::ManageNotifications)).await?;
    for c in &body.value.channels {
        validate_channel(c)?;
    }
    let now = state.clock.now();
    // A phone number (sms) is personal data: sealed at rest like the directory phone, masked
    // in the answer and in the event.
    let list: Vec<Value> = body
        .value
        .channels
        .iter()
        .map(|c| json!({"channel": c.channel, "address": shown_address(&c.channel, c.address.trim())}))
        .collect();
    let mut ws = WriteSet::default();
    let head = state.store.stream_head(p.id).await?;
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
            &json!({ "channels": list }),
            None,
        )],
    );
    ws.rows.push(Row::Sql(Stmt::new(
        "DELETE FROM person_channels WHERE person_id = ?",
        args![p.id],
    )));
    for c in &body.value.channels {
        ws.rows.push(Row::Sql(Stmt::new(
            "INSERT INTO person_channels (person_id, channel, address) VALUES (?, ?, ?) ON CONFLICT (person_id, channel) DO UPDATE SET address = excluded.address",
            args![p.id, &c.channel, stored_address(&state, p.id, &c.channel, c.address.trim())],
        )));
    }
    state.store.commit(ws).await?;
    Ok(axum::Json(json!({ "person_id": p.id, "channels": list })))
}

/// A channel address as stored: SMS numbers sealed for the person's phone place.
fn stored_address(state: &AppState, person: Uuid, channel: &str, address: &str) -> String {
    if channel == "sms" {
        state
            .sealer
            .seal(address, &crate::directory::phone_aad(person))
    } else {
        address.to_string()
    }
}

/// A channel address as shown: SMS numbers masked.
fn shown_address(channel: &str, plain: &str) -> String {
    if channel == "sms" {
        crate::sealer::mask_phone(plain)
    } else {
        plain.to_string()
    }
}

/// An address read back from storage (a channel row or a delivery), as shown: sealed values
/// opened and masked.
fn read_address(state: &AppState, person: Option<Uuid>, channel: &str, stored: &str) -> String {
    if !stored.starts_with(crate::sealer::PREFIX) {
        return shown_address(channel, stored);
    }
    person
        .and_then(|p| {
            state
                .sealer
                .open(stored, &crate::directory::phone_aad(p))
                .ok()
        })
        .map(|plain| crate::sealer::mask_phone(&plain))
        .unwrap_or_else(|| crate::sealer::UNREADABLE.to_string())
}

#[utoipa::path(get, path = "/api/v1/people/{id}/channels", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the person's channels", body = Object)))]
pub async fn get_channels(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let p = scoped_person(&state, &actor, id, Some(Permission::ViewCalls)).await?;
    let list: Vec<Value> = state
        .store
        .person_channels(p.id)
        .await?
        .into_iter()
        .map(|(c, a)| json!({"channel": c, "address": read_address(&state, Some(p.id), &c, &a)}))
        .collect();
    Ok(axum::Json(json!({ "person_id": p.id, "channels": list })))
}

#[utoipa::path(put, path = "/api/v1/jurisdictions/{id}/rosters/{post}", tag = "notify",
    params(("id" = Uuid, Path), ("post" = String, Path)),
    request_body(content = Object, description = "a duty roster: time_zone, shifts [{id,name,start,end}], start_date, rotation [{person_id,name}], holiday_rotation, overrides [{from,until,person,reason}], swaps [{a:{date,shift},b:{date,shift}}]"),
    responses((status = 200, description = "the roster, stored", body = Object)))]
pub async fn put_roster(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, post)): Path<(Uuid, String)>,
    body: JsonBody<Roster>,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .scoped_jurisdiction(&actor, id, "jurisdiction")
        .await?;
    state.require(
        &actor,
        Permission::ManageNotifications,
        &j.path,
        "jurisdiction",
    )?;
    let mut r = body.value;
    r.post = post.clone();
    r.validate()
        .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    // Everyone on the roster must be someone the actor can see.
    for p in r
        .rotation
        .iter()
        .chain(&r.holiday_rotation)
        .chain(r.overrides.iter().map(|o| &o.person))
    {
        scoped_person(&state, &actor, p.person_id, None).await?;
    }
    let now = state.clock.now();
    let json_body = serde_json::to_value(&r).expect("roster serialises");
    let sid = Uuid::new_v5(&j.id, format!("roster/{post}").as_bytes());
    let head = state.store.stream_head(sid).await?;
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
        vec![Item::new("roster_set", &json_body, None)],
    );
    ws.rows.push(Row::Sql(Stmt::new(
        "INSERT INTO rosters (jurisdiction_id, post_id, body, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (jurisdiction_id, post_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        args![j.id, &post, Val::json(json_body.to_string()), now],
    )));
    state.store.commit(ws).await?;
    Ok(axum::Json(json_body))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/rosters", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the jurisdiction's duty rosters", body = Object)))]
pub async fn list_rosters(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .scoped_jurisdiction(&actor, id, "jurisdiction")
        .await?;
    state.require(&actor, Permission::ViewCalls, &j.path, "jurisdiction")?;
    let items: Vec<Value> = state
        .store
        .rosters_in(j.id)
        .await?
        .into_iter()
        .filter_map(|(_, b)| serde_json::from_str(&b).ok())
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ResolveQuery {
    pub post: String,
    /// RFC 3339; default now.
    pub at: Option<String>,
}

fn ts(s: &str, field: &str) -> Result<Timestamp, ApiError> {
    s.parse::<Timestamp>().map_err(|e| {
        ApiError::bad_request("invalid_time", format!("{field}: {e}"))
            .details(json!({ "field": field }))
    })
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/resolve", tag = "notify",
    params(("id" = Uuid, Path), ResolveQuery),
    responses((status = 200, description = "who holds the post at that moment, and how (rotation, holiday, swap, override, holder, deputy)", body = Object)))]
pub async fn resolve_post(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ResolveQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .scoped_jurisdiction(&actor, id, "jurisdiction")
        .await?;
    state.require(&actor, Permission::ViewCalls, &j.path, "jurisdiction")?;
    let at = match &q.at {
        Some(s) => ts(s, "at")?,
        None => state.clock.now(),
    };
    let r = calls::resolve_post(&state, j.id, &q.post, at).await?;
    Ok(axum::Json(
        json!({ "post": q.post, "at": at, "resolved": r }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GapQuery {
    pub plan: String,
    pub from: String,
    pub to: String,
    /// Sampling step in minutes (default 15).
    pub step_minutes: Option<i64>,
}

/// The posts a plan needs that nobody holds in `[from, to)`.
pub async fn plan_gaps(
    state: &AppState,
    jurisdiction_id: Uuid,
    plan_id: &str,
    from: Timestamp,
    to: Timestamp,
    step: SignedDuration,
) -> Result<Value, ApiError> {
    let row = state
        .store
        .plan_latest(plan_id)
        .await?
        .ok_or_else(|| ApiError::not_found("plan"))?;
    let plan = state.plan(&row.plan_id, row.version).await?;
    if to <= from || to.duration_since(from) > SignedDuration::from_hours(24 * 92) {
        return Err(ApiError::bad_request(
            "invalid_period",
            "`to` must be after `from`, at most 92 days later",
        ));
    }
    let cal = calls::holidays(state);
    let mut items = Vec::new();
    for p in &plan.posts {
        let mut h = PostHolders::default();
        for (person_id, name, deputy) in state.store.holders(jurisdiction_id, &p.id.value).await? {
            let x = PersonRef { person_id, name };
            if deputy {
                h.deputies.push(x);
            } else {
                h.principals.push(x);
            }
        }
        let r = calls::roster_of(state, jurisdiction_id, &p.id.value).await?;
        for g in roster::gaps(&p.id.value, &h, r.as_ref(), from, to, step, &cal) {
            items.push(
                json!({ "post": g.post, "post_name": p.name, "from": g.from, "until": g.until }),
            );
        }
    }
    Ok(
        json!({ "plan_id": row.plan_id, "plan_version": row.version, "posts_checked": plan.posts.len(), "items": items }),
    )
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/gaps", tag = "notify",
    params(("id" = Uuid, Path), GapQuery),
    responses((status = 200, description = "posts the plan needs that nobody holds, with the periods", body = Object)))]
pub async fn gaps(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<GapQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .scoped_jurisdiction(&actor, id, "jurisdiction")
        .await?;
    state.require(&actor, Permission::ViewCalls, &j.path, "jurisdiction")?;
    let step = SignedDuration::from_mins(q.step_minutes.unwrap_or(15).clamp(1, 24 * 60));
    Ok(axum::Json(
        plan_gaps(
            &state,
            j.id,
            &q.plan,
            ts(&q.from, "from")?,
            ts(&q.to, "to")?,
            step,
        )
        .await?,
    ))
}
