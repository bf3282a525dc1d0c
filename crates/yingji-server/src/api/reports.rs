//! Scheduled reports (定时报告, 零报告) under `/api/v1/reports`: thin adapters from HTTP to the
//! application's report commands and reads (`yingji_app::reports`).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use yingji_app::reports::{self, ReportSubmissionRequest, SubmitReport};
use yingji_app::{ErrorBody, ErrorCode};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/board", get(report_board))
        .route("/reports/submissions", post(submit_report))
        .route("/search", get(search))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// What to look for: a case number, a name, words of a title or grievance, a place.
    q: String,
}

/// What `GET /search` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub items: Vec<yingji_app::search::Hit>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "reports", params(SearchQuery),
    responses((status = 200, description = "incidents, cases and disputes in the caller's area holding every term of `q` (Chinese matched by pairs of characters), newest first, at most 50, each only where the caller may view its kind", body = SearchResults),
              (status = 400, description = "invalid_query: no `q`", body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<SearchResults>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let items = yingji_app::search::search(&state, &actor, &q.q).await?;
    Ok(axum::Json(SearchResults { items }))
}

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    plan_id: String,
    /// YYYY-MM-DD in the plan's zone; default today.
    date: Option<String>,
    /// Only the late ones.
    late: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/reports/board", tag = "reports",
    params(("plan_id" = String, Query), ("date" = Option<String>, Query, description = "YYYY-MM-DD in the plan's zone; default today"),
           ("late" = Option<bool>, Query, description = "only rows whose state is `late`")),
    responses((status = 200, description = "every report slot of the day × owing party: submitted, nil, submitted_late, pending or late", body = yingji_app::reports::Board),
              (status = 404, body = ErrorBody)))]
pub async fn report_board(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<reports::Board>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let board = reports::board_view(
        &state,
        &actor,
        &q.plan_id,
        q.date.as_deref(),
        q.late == Some(true),
    )
    .await?;
    Ok(axum::Json(board))
}

#[utoipa::path(post, path = "/api/v1/reports/submissions", tag = "reports",
    request_body = ReportSubmissionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the submission as recorded", body = yingji_app::reports::ReportSubmitted),
              (status = 409, description = "already_submitted", body = ErrorBody),
              (status = 422, description = "unknown_slot, not_owed, nil_not_allowed, missing_field", body = ErrorBody)))]
pub async fn submit_report(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<ReportSubmissionRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        SubmitReport(body.value),
    )
    .await
}
