//! Reaching people over HTTP: thin adapters to `yingji_app::notify` — calls and
//! acknowledgements (API, in-app, signed link page, inbound SMS replies), the in-app inbox (with
//! live push), deliveries and dead letters, people's channels, duty rosters,
//! `resolve(post, at)` and the gap query.

use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use yingji_app::calls::AcknowledgeCall;
use yingji_app::notify::{
    self, AckAnswer, AcknowledgeMessage, ChannelsRequest, DeliveryList, DeliveryQuery, GapQuery,
    Gaps, Inbox, InboxPush, IncidentCalls, PersonChannels, Resolution, ResolveQuery, Retried,
    RetryDelivery, RosterList, SetChannels, SetRoster, SmsAnswer, SmsReply,
};
use yingji_app::{ErrorBody, ErrorCode};
use yingji_domain::roster::Roster;

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::pages::UiLang;
use crate::pages::i18n::Lang;
use crate::{AppState, json_response, run_api};

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

/// Runs a command that takes no body (no Idempotency-Key: repeating it changes nothing or is
/// refused) and answers its JSON.
async fn run_plain<C: yingji_app::Command>(
    state: &AppState,
    actor: &Actor,
    cmd: C,
) -> Result<Response, ApiError> {
    let out = state.execute(actor, None, &cmd).await?;
    let status = StatusCode::from_u16(out.status()).unwrap_or(StatusCode::OK);
    Ok(json_response(status, out.into_body()))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/calls", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "every call of the incident with its recipients, who acknowledged when and by which channel, and escalation state", body = IncidentCalls)))]
pub async fn incident_calls(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<IncidentCalls>, ApiError> {
    Ok(axum::Json(
        notify::incident_calls(&state, &actor, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/calls/{id}/ack", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the caller's acknowledgement of a call (a repeat changes nothing: `new` is false)", body = AckAnswer),
        (status = 404, description = "not_found, unknown_call: no such call", body = ErrorBody)))]
pub async fn ack_call(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let cmd = AcknowledgeCall {
        call_id: id.into(),
        channel: "api".into(),
    };
    run_plain(&state, &actor, cmd).await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxQuery {
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/inbox", tag = "notify", params(InboxQuery),
    responses((status = 200, description = "the caller's in-app messages, newest first", body = Inbox)))]
pub async fn inbox(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<InboxQuery>,
) -> Result<axum::Json<Inbox>, ApiError> {
    Ok(axum::Json(notify::inbox(&state, &actor, q.limit).await?))
}

/// Server-sent events: each new in-app message of the caller, as it is written.
pub async fn inbox_stream(State(state): State<AppState>, actor: Actor) -> impl IntoResponse {
    let rx = state.notify.inbox.subscribe();
    let me = actor.person_id;
    let guard = crate::streams::Guard::new(state, actor);
    let stream = futures_util::stream::unfold((rx, guard), move |(mut rx, mut guard)| async move {
        loop {
            let got = tokio::select! {
                got = rx.recv() => got,
                _ = tokio::time::sleep_until(guard.due()) => {
                    if !guard.still_valid().await {
                        return None;
                    }
                    continue;
                }
                _ = guard.stopping() => return None,
            };
            match got {
                Ok(d) => {
                    let Some(m) = InboxPush::for_person(&d, me) else {
                        continue;
                    };
                    // Nothing more for a session signed out or an account disabled since.
                    if !guard.still_valid().await {
                        return None;
                    }
                    let data = serde_json::to_string(&m).expect("messages serialise");
                    let ev = SseEvent::default().event("message").data(data);
                    return Some((Ok::<_, Infallible>(ev), (rx, guard)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[utoipa::path(post, path = "/api/v1/inbox/{id}/ack", tag = "notify",
    params(("id" = Uuid, Path, description = "an in-app message id")),
    responses((status = 200, description = "acknowledged from the in-app button", body = AckAnswer)))]
pub async fn ack_inbox(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    run_plain(&state, &actor, AcknowledgeMessage(id)).await
}

#[utoipa::path(get, path = "/api/v1/deliveries", tag = "notify", params(DeliveryQuery),
    responses((status = 200, description = "messages per channel in the caller's scope, with attempts, last error and state (dead letters: `state=dead`)", body = DeliveryList)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(notify::deliveries(&state, &actor, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "a dead letter back in the queue", body = Retried),
        (status = 409, description = "delivery_not_dead", body = ErrorBody)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    run_plain(&state, &actor, RetryDelivery(id)).await
}

#[utoipa::path(post, path = "/api/v1/sms/inbound", tag = "notify", request_body = SmsReply,
    security(()),
    responses((status = 200, description = "a reply \"1\" or \"收到\" acknowledges every call still open for the sender; `X-Yingji-Signature` must be hex HMAC-SHA256 of the body with the inbound secret", body = SmsAnswer),
        (status = 401, description = "bad_signature", body = ErrorBody)))]
pub async fn sms_inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<SmsAnswer>, ApiError> {
    let signature = headers
        .get("x-yingji-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    notify::verify_inbound(&state, &body, signature)?;
    let reply: SmsReply = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::MalformedJson, e.to_string()))?;
    Ok(axum::Json(notify::sms_reply(&state, &reply).await?))
}

/// The page behind a signed link (and its answers), in the reader's language (the catalogue's
/// `ack.*`), styled by the console's stylesheet: no inline style or script, so the security
/// policy (`default-src 'self'`) lets it render as designed.
#[derive(askama::Template)]
#[template(path = "ack.html")]
struct AckPage {
    l: &'static Lang,
    title: String,
    heading: String,
    drill: bool,
    lines: Vec<String>,
    items: Vec<String>,
    form: bool,
}

impl AckPage {
    fn plain(l: &'static Lang, title: &str, heading: &str, lines: Vec<String>) -> AckPage {
        AckPage {
            l,
            title: l.t(title).to_string(),
            heading: l.t(heading).to_string(),
            drill: false,
            lines,
            items: Vec::new(),
            form: false,
        }
    }

    fn answer(self, status: StatusCode) -> Response {
        let mut r = crate::pages::render(&self);
        if r.status() == StatusCode::OK {
            *r.status_mut() = status;
        }
        r
    }
}

fn invalid_link(l: &'static Lang, what: &str) -> Response {
    AckPage::plain(l, "ack.invalid_title", what, Vec::new()).answer(StatusCode::NOT_FOUND)
}

/// The page behind a signed link: shows the call and a button; opening it changes nothing.
pub async fn ack_page(
    State(state): State<AppState>,
    UiLang(l): UiLang,
    Path(token): Path<String>,
) -> Response {
    if state.notify.keys().verify(&token).is_none() {
        return invalid_link(l, "ack.invalid");
    }
    let Ok(Some(c)) = notify::linked_call(&state, &token).await else {
        return invalid_link(l, "ack.no_call");
    };
    let mut lines = vec![
        l.f1("ack.greeting", &c.recipient.person.name),
        format!(
            "{}{}",
            c.call.post_name.as_deref().unwrap_or(""),
            c.call.subject
        ),
    ];
    if let Some(at) = c.recipient.acked_at {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
        lines.push(l.f1("ack.acked_at", at.to_zoned(tz).strftime("%Y-%m-%d %H:%M")));
    }
    AckPage {
        l,
        title: l.t("ack.title").to_string(),
        heading: l.t("ack.heading").to_string(),
        drill: c.drill,
        lines,
        items: c.call.lines.clone(),
        form: c.recipient.acked_at.is_none(),
    }
    .answer(StatusCode::OK)
}

/// The POST from the page: acknowledges, by link.
pub async fn ack_link(
    State(state): State<AppState>,
    UiLang(l): UiLang,
    Path(token): Path<String>,
) -> Response {
    match notify::acknowledge_link(&state, &token).await {
        Ok(None) => invalid_link(l, "ack.invalid"),
        Ok(Some(_)) => AckPage::plain(
            l,
            "ack.done_title",
            "ack.done",
            vec![l.t("ack.thanks").to_string()],
        )
        .answer(StatusCode::OK),
        Err(e) => AckPage::plain(
            l,
            "ack.failed_title",
            "ack.failed_title",
            vec![e.message.clone()],
        )
        .answer(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)),
    }
}

#[utoipa::path(put, path = "/api/v1/people/{id}/channels", tag = "notify",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ChannelsRequest,
    responses((status = 200, description = "the person's channels, replaced", body = PersonChannels)))]
pub async fn put_channels(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<ChannelsRequest>,
) -> Result<Response, ApiError> {
    let cmd = SetChannels {
        person_id: id,
        request: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/people/{id}/channels", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the person's channels", body = PersonChannels)))]
pub async fn get_channels(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PersonChannels>, ApiError> {
    Ok(axum::Json(notify::channels(&state, &actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/jurisdictions/{id}/rosters/{post}", tag = "notify",
    params(("id" = Uuid, Path), ("post" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Roster, description = "a duty roster: time_zone, shifts [{id,name,start,end}], start_date, rotation [{person_id,name}], holiday_rotation, overrides [{from,until,person,reason}], swaps [{a:{date,shift},b:{date,shift}}]"),
    responses((status = 200, description = "the roster, stored", body = Roster)))]
pub async fn put_roster(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, post)): Path<(Uuid, String)>,
    body: JsonBody<Roster>,
) -> Result<Response, ApiError> {
    let cmd = SetRoster {
        jurisdiction_id: id,
        post,
        roster: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/rosters", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the jurisdiction's duty rosters", body = RosterList)))]
pub async fn list_rosters(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RosterList>, ApiError> {
    Ok(axum::Json(notify::rosters(&state, &actor, id).await?))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/resolve", tag = "notify",
    params(("id" = Uuid, Path), ResolveQuery),
    responses((status = 200, description = "who holds the post at that moment, and how (rotation, holiday, swap, override, holder, deputy)", body = Resolution),
        (status = 422, description = "invalid_time: `at` is not an RFC 3339 time", body = ErrorBody)))]
pub async fn resolve_post(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ResolveQuery>,
) -> Result<axum::Json<Resolution>, ApiError> {
    Ok(axum::Json(notify::resolve(&state, &actor, id, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/gaps", tag = "notify",
    params(("id" = Uuid, Path), GapQuery),
    responses((status = 200, description = "posts the plan needs that nobody holds, with the periods", body = Gaps),
        (status = 422, description = "invalid_time: `from` or `to` is not an RFC 3339 time", body = ErrorBody)))]
pub async fn gaps(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<GapQuery>,
) -> Result<axum::Json<Gaps>, ApiError> {
    Ok(axum::Json(notify::gaps(&state, &actor, id, &q).await?))
}
