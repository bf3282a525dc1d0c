//! Leader instructions and coordination meetings tracked to an answer; commendation and
//! accountability records.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::followups::{
    self as app_followups, AnswerRequest, DirectiveRequest, OnDirective, RecordDirective,
    RecordSanction, Sanction, SanctionRequest,
};
use yingji_domain::error::ErrorCode;
use yingji_domain::followup::Directive;

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/directives", get(list_directives).post(record_directive))
        .route("/directives/{id}/answers", post(answer_directive))
        .route("/sanctions", get(list_sanctions).post(record_sanction))
}

/// Which record's instructions, meetings or sanctions to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubjectQuery {
    /// `incident`, `case` (or `drill`, sanctions only).
    pub subject_kind: String,
    pub subject_id: Uuid,
}

#[utoipa::path(post, path = "/api/v1/directives", tag = "directives",
    request_body = DirectiveRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the instruction (one requirement) or meeting (its decisions), each follow-up tracked to its deadline", body = Directive),
              (status = 404, body = ErrorBody),
              (status = 422, description = "missing_field, invalid_field (also a text asking for a measure out of scope), invalid_kind, invalid_time", body = ErrorBody)))]
pub async fn record_directive(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<DirectiveRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        RecordDirective(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/directives/{id}/answers", tag = "directives",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AnswerRequest,
    responses((status = 200, body = Directive),
              (status = 404, body = ErrorBody),
              (status = 409, description = "already_fulfilled", body = ErrorBody),
              (status = 422, description = "missing_field", body = ErrorBody)))]
pub async fn answer_directive(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<AnswerRequest>,
) -> Result<Response, ApiError> {
    let cmd = OnDirective {
        id,
        answer: Some(body.value),
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/directives", tag = "directives",
    params(SubjectQuery),
    responses((status = 200, description = "the record's instructions and meetings, oldest first", body = Vec<Directive>),
              (status = 404, body = ErrorBody),
              (status = 422, description = "invalid_kind", body = ErrorBody)))]
pub async fn list_directives(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<SubjectQuery>, QueryRejection>,
) -> Result<axum::Json<Vec<Directive>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(
        app_followups::of_subject(&state, &actor, &q.subject_kind, q.subject_id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sanctions", tag = "directives",
    request_body = SanctionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the commendation or accountability record", body = Sanction),
              (status = 403, description = "forbidden: reviewers only", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "missing_field, invalid_field, invalid_kind, invalid_time", body = ErrorBody)))]
pub async fn record_sanction(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<SanctionRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        RecordSanction(body.value),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/sanctions", tag = "directives",
    params(SubjectQuery),
    responses((status = 200, description = "the record's commendation and accountability records (reviewers and auditors)", body = Vec<Sanction>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "invalid_kind", body = ErrorBody)))]
pub async fn list_sanctions(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<SubjectQuery>, QueryRejection>,
) -> Result<axum::Json<Vec<Sanction>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(
        app_followups::sanctions_of(&state, &actor, &q.subject_kind, q.subject_id).await?,
    ))
}
