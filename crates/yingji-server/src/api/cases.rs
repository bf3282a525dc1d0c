//! Petition cases (信访事项) under `/api/v1/cases`: registration with a case number, the
//! approval chain, routing, the statutory clock with one approved extension, supervision driven by
//! the ticker, reply and follow-up, links, and statistics. The handlers turn requests into the
//! application's typed inputs (`yingji_app::cases`) and run them on the command path.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;
use yingji_app::cases::{
    self as app_cases, CaseAction, CaseActionRequest, CaseList, CaseListQuery, CaseRevealRequest,
    CaseStats, CaseTimeline, CaseView, NewCaseRequest, OnCase, RegisterCase, RevealPetitioner,
    RevealView, StatsQuery,
};
use yingji_app::{ErrorBody, ErrorCode};

pub use yingji_app::cases::{rekey_petitioners, tick_cases};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list_cases).post(create_case))
        .route("/cases/stats", get(case_stats))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/timeline", get(case_timeline))
        .route("/cases/{id}/reveal", post(reveal_petitioner))
        .route("/cases/{id}/{action}", post(case_action))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body = NewCaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry return the first response instead of registering twice")),
    responses((status = 201, description = "the case as registered, with its number and due date", body = CaseView),
              (status = 422, description = "missing or invalid field (single_one_petitioner: a single petition names one petitioner)", body = ErrorBody)))]
pub async fn create_case(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewCaseRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        RegisterCase(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/{action}", tag = "cases",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "classify, propose, approve, route, lead, extension-request, extension-decision, reply, follow-up, link"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = CaseActionRequest,
    responses((status = 200, description = "the case after the command", body = CaseView),
              (status = 403, description = "wrong_approver: the actor does not hold the post the rules name", body = ErrorBody),
              (status = 409, description = "illegal_transition, extension_after_due, extension_already_used, not_approved…", body = ErrorBody),
              (status = 422, description = "extension_too_long, missing_field, unknown_topic…", body = ErrorBody)))]
pub async fn case_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    body: JsonBody<CaseActionRequest>,
) -> Result<Response, ApiError> {
    let action = CaseAction::parse(&action, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnCase {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let (c, _) = app_cases::load(&state, &actor, id).await?;
    Ok(axum::Json(CaseView::of(&c)))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/timeline", tag = "cases",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "every event of the case, oldest first, with its hash", body = CaseTimeline)))]
pub async fn case_timeline(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<CaseTimeline>, ApiError> {
    Ok(axum::Json(app_cases::timeline(&state, &actor, id).await?))
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below"),
           ("status" = Option<String>, Query, description = "registered, proposed, approved, handling, replied, closed"),
           ("due_within_days" = Option<i64>, Query, description = "open cases due from now to now + N days, soonest first"),
           ("overdue" = Option<bool>, Query, description = "open cases past their due time, longest overdue first"),
           ("supervised" = Option<bool>, Query, description = "cases under supervision (督办): the upper office's view"),
           ("before" = Option<Uuid>, Query, description = "the `next` cursor (newest-first lists only)"),
           ("limit" = Option<i64>, Query, description = "1–200, default 50")),
    responses((status = 200, description = "{items, next}", body = CaseList)))]
pub async fn list_cases(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<CaseListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<CaseList>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(app_cases::list(&state, &actor, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/stats", tag = "cases",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below"),
           ("year" = i32, Query), ("quarter" = Option<u8>, Query, description = "1–4; omit for the year"),
           ("by" = Option<String>, Query, description = "department, category, channel, jurisdiction or total")),
    responses((status = 200, description = "received, replied, on time, overdue, extended and satisfaction per group, by quarter of acceptance", body = CaseStats)))]
pub async fn case_stats(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<CaseStats>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(app_cases::stats(&state, &actor, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/reveal", tag = "cases",
    params(("id" = Uuid, Path)), request_body = CaseRevealRequest,
    responses((status = 200, description = "the full value; the read is logged with who and why (never the value)", body = RevealView),
              (status = 403, description = "forbidden: no reveal_personal_data role here", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "reason_required, invalid_field, unknown_petitioner", body = ErrorBody)))]
pub async fn reveal_petitioner(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<CaseRevealRequest>,
) -> Result<axum::Json<RevealView>, ApiError> {
    // No Idempotency-Key: the answer holds the value and is never stored.
    let cmd = RevealPetitioner {
        id,
        req: body.value,
    };
    let out = state
        .execute(&actor, None, &cmd)
        .await?
        .output()
        .ok_or_else(|| ApiError::internal("a reveal was replayed"))?;
    Ok(axum::Json(out))
}
