//! The plan registry over HTTP: thin adapters to `yingji_app::plans` — upload (checked with the
//! same diagnostics as `plan check`), versions, and reading a plan back.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use yingji_app::ErrorBody;
use yingji_app::plans::{self, PlanList, PlanVersion, UploadPlan, UploadPlanRequest};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

#[utoipa::path(post, path = "/api/v1/plans", tag = "plans",
    request_body = UploadPlanRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "a new version was stored", body = PlanVersion),
              (status = 200, description = "the text equals the newest version; nothing stored", body = PlanVersion),
              (status = 422, description = "plan_check_failed, with the diagnostics (file:line:col) in details; the file is checked together with the stored plans, as `yingji plan check` checks a directory (P0301: parent not found)", body = ErrorBody)))]
pub async fn upload_plan(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<UploadPlanRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        UploadPlan(body.value),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "plans",
    responses((status = 200, description = "{items}: every version of the plans in the actor's subtree", body = PlanList)))]
pub async fn list_plans(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<PlanList>, ApiError> {
    Ok(axum::Json(plans::list(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/plans/{plan_id}", tag = "plans",
    params(("plan_id" = String, Path)),
    responses((status = 200, description = "the newest version with its source and its standing (in force, scheduled)", body = PlanVersion), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(state): State<AppState>,
    actor: Actor,
    Path(plan_id): Path<String>,
) -> Result<axum::Json<PlanVersion>, ApiError> {
    let row = plans::latest(&state, &actor, &plan_id).await?;
    Ok(axum::Json(PlanVersion::now(&state, &row, true).await?))
}

#[utoipa::path(get, path = "/api/v1/plans/{plan_id}/versions/{version}", tag = "plans",
    params(("plan_id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, description = "the version with its source", body = PlanVersion), (status = 404, body = ErrorBody)))]
pub async fn get_plan_version(
    State(state): State<AppState>,
    actor: Actor,
    Path((plan_id, version)): Path<(String, i64)>,
) -> Result<axum::Json<PlanVersion>, ApiError> {
    let row = plans::version(&state, &actor, &plan_id, version).await?;
    Ok(axum::Json(PlanVersion::now(&state, &row, true).await?))
}
