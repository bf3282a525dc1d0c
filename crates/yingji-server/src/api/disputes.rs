//! Dispute screening and resolution (矛盾纠纷排查化解) under `/api/v1/disputes`: thin adapters
//! from HTTP to the application's screening commands and reads (`yingji_app::disputes`).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::disputes::{
    self, DisputeAction, DisputeActionRequest, DisputeQuery, NewDisputeRequest, OnDispute,
    OpenRound, OpenRoundRequest, RegisterDispute, RoundSubmissionRequest, SubmitReturn,
};
use yingji_app::{ErrorBody, ErrorCode};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/disputes", get(list_disputes).post(create_dispute))
        .route("/disputes/rounds", post(open_round))
        .route("/disputes/rounds/{id}", get(get_round))
        .route("/disputes/rounds/{id}/submissions", post(submit_round))
        .route("/disputes/{id}", get(get_dispute))
        .route("/disputes/{id}/{action}", post(dispute_action))
}

#[utoipa::path(post, path = "/api/v1/disputes/rounds", tag = "disputes",
    request_body = OpenRoundRequest, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the round: monthly, or daily inside a special period", body = yingji_app::disputes::RoundOpened),
              (status = 409, description = "round_exists (details.id names it)", body = ErrorBody)))]
pub async fn open_round(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<OpenRoundRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OpenRound(body.value),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/disputes/rounds/{id}", tag = "disputes",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the round and each unit below: submitted, nil or missing", body = yingji_app::disputes::RoundView),
              (status = 404, body = ErrorBody)))]
pub async fn get_round(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<disputes::RoundView>, ApiError> {
    Ok(axum::Json(disputes::round(&state, &actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/disputes/rounds/{id}/submissions", tag = "disputes",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RoundSubmissionRequest,
    responses((status = 201, description = "the round after the submission", body = yingji_app::disputes::RoundView),
              (status = 409, description = "already_submitted", body = ErrorBody),
              (status = 422, description = "not_owed, invalid_field", body = ErrorBody)))]
pub async fn submit_round(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<RoundSubmissionRequest>,
) -> Result<Response, ApiError> {
    let cmd = SubmitReturn {
        round_id: id,
        req: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(post, path = "/api/v1/disputes", tag = "disputes",
    request_body = NewDisputeRequest, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the dispute as registered", body = yingji_domain::dispute::Dispute),
              (status = 422, description = "missing_field, unknown_round", body = ErrorBody)))]
pub async fn create_dispute(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewDisputeRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        RegisterDispute(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/disputes/{id}/{action}", tag = "disputes",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "assign, result, follow-up, report-upward, close"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = DisputeActionRequest,
    responses((status = 200, description = "the dispute after the command", body = yingji_domain::dispute::Dispute),
              (status = 409, description = "illegal_transition, already_reported", body = ErrorBody),
              (status = 422, description = "missing_field, invalid_field, not_major", body = ErrorBody)))]
pub async fn dispute_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    body: JsonBody<DisputeActionRequest>,
) -> Result<Response, ApiError> {
    let action = DisputeAction::parse(&action, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnDispute {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = yingji_domain::dispute::Dispute), (status = 404, body = ErrorBody)))]
pub async fn get_dispute(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<yingji_domain::dispute::Dispute>, ApiError> {
    Ok(axum::Json(disputes::dispute(&state, &actor, id).await?))
}

#[derive(Debug, Deserialize)]
pub struct DisputeListQuery {
    jurisdiction_id: Option<Uuid>,
    status: Option<String>,
    reported_upward: Option<bool>,
    before: Option<Uuid>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/disputes", tag = "disputes",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("status" = Option<String>, Query),
           ("reported_upward" = Option<bool>, Query, description = "major disputes reported to the level above"),
           ("before" = Option<Uuid>, Query, description = "the `next` cursor of the previous page"),
           ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "the disputes, newest first", body = yingji_app::disputes::DisputeList)))]
pub async fn list_disputes(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<DisputeListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<disputes::DisputeList>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let q = DisputeQuery {
        jurisdiction_id: q.jurisdiction_id,
        status: q.status,
        reported_upward: q.reported_upward,
        before: q.before,
        limit: q.limit,
    };
    Ok(axum::Json(disputes::list(&state, &actor, &q).await?))
}
