//! Information release (WF-13): drafts, the named approver's decision, publication; and what is
//! public without a credential — the published releases as a page (`/public/releases`), an Atom
//! feed of CAP 1.2 alerts (`/cap/feed.atom`) and each alert (`/cap/releases/{id}.xml`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::releases::{
    self as app_releases, DecisionRequest, DraftRelease, DraftRequest, OnRelease, ReleaseAction,
};
use yingji_domain::release::Release;

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/releases", get(list_releases).post(draft_release))
        .route("/releases/{id}", get(get_release))
        .route("/releases/{id}/{action}", post(release_action))
}

/// The routes anyone may read (no credential): published releases only.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/cap/feed.atom", get(cap_feed))
        .route("/cap/releases/{file}", get(cap_alert))
}

#[utoipa::path(post, path = "/api/v1/releases", tag = "releases",
    request_body = DraftRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the draft, waiting for the named approver", body = Release),
              (status = 422, description = "missing_field, invalid_field, unknown_person, self_approval (the drafter named themself)", body = ErrorBody)))]
pub async fn draft_release(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<DraftRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        DraftRelease(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/releases/{id}/{action}", tag = "releases",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "approve, reject (note: why), publish"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = DecisionRequest,
    responses((status = 200, description = "the release after the command", body = Release),
              (status = 403, description = "wrong_approver: only the person the draft names decides", body = ErrorBody),
              (status = 409, description = "not_approved (publishing before the approval), illegal_transition", body = ErrorBody),
              (status = 422, description = "missing_field (a rejection's note)", body = ErrorBody)))]
pub async fn release_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    body: JsonBody<DecisionRequest>,
) -> Result<Response, ApiError> {
    let action = ReleaseAction::parse(&action, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnRelease { id, action },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/releases", tag = "releases",
    responses((status = 200, description = "the releases in the caller's area, newest first (at most 200)", body = Vec<Release>)))]
pub async fn list_releases(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<Release>>, ApiError> {
    Ok(axum::Json(app_releases::list(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "releases",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Release), (status = 404, body = ErrorBody)))]
pub async fn get_release(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Release>, ApiError> {
    Ok(axum::Json(app_releases::get(&state, &actor, id).await?))
}

/// The deployment's public address (the notification configuration's base URL) and the
/// sender name of its alerts (that address's host).
pub fn base_and_sender(state: &AppState) -> (String, String) {
    let base = state
        .notify
        .config()
        .base_url
        .trim_end_matches('/')
        .to_string();
    let sender = base
        .split("://")
        .nth(1)
        .unwrap_or(&base)
        .split(['/', ':'])
        .next()
        .unwrap_or("yingji")
        .to_string();
    (base, sender)
}

fn xml(media: &'static str, body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    r
}

/// GET /cap/feed.atom: the published releases (newest 50) as an Atom index of CAP alerts.
pub async fn cap_feed(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (base, sender) = base_and_sender(&state);
    let list = app_releases::published(&state, 50).await?;
    Ok(xml(
        "application/atom+xml; charset=utf-8",
        app_releases::cap_feed(&list, &base, &sender),
    ))
}

/// GET /cap/releases/{id}.xml: one published release as a CAP 1.2 alert.
pub async fn cap_alert(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let id = file
        .strip_suffix(".xml")
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::not_found("release"))?;
    let r = app_releases::published_one(&state, id).await?;
    let (_, sender) = base_and_sender(&state);
    Ok(xml(
        "application/cap+xml; charset=utf-8",
        app_releases::cap_alert(&r, &sender),
    ))
}
