//! Drills (演练): started from a script, their injects played by the ticker against the drill
//! incident, stopped, evaluated; the plans' drill duties (`[drills] every`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::drills::{
    self as app_drills, DrillDuty, EvaluateDrill, EvaluateRequest, StartDrill, StartRequest,
    StopDrill, StopRequest,
};
use yingji_domain::drill::Drill;

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/drills", get(list_drills).post(start_drill))
        .route("/drills/schedule", get(drill_schedule))
        .route("/plan-revisions/schedule", get(revision_schedule))
        .route("/drills/{id}", get(get_drill))
        .route("/drills/{id}/stop", post(stop_drill))
        .route("/drills/{id}/evaluation", post(evaluate_drill))
}

#[utoipa::path(post, path = "/api/v1/drills", tag = "drills",
    request_body = StartRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the drill, running: its drill incident reported (marked 演练) and its injects scheduled", body = Drill),
              (status = 422, description = "plan_check_failed (the script's diagnostics with file:line:col in details), unknown_plan, plan_not_in_force, plan_not_applicable, invalid_field", body = ErrorBody)))]
pub async fn start_drill(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<StartRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        StartDrill(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/drills/{id}/stop", tag = "drills",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = StopRequest,
    responses((status = 200, description = "the drill, ended; its remaining injects not played", body = Drill),
              (status = 409, description = "illegal_transition (not running)", body = ErrorBody),
              (status = 422, description = "missing_field (reason)", body = ErrorBody)))]
pub async fn stop_drill(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<StopRequest>,
) -> Result<Response, ApiError> {
    let cmd = StopDrill {
        id,
        reason: body.value.reason,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(post, path = "/api/v1/drills/{id}/evaluation", tag = "drills",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = EvaluateRequest,
    responses((status = 200, description = "the drill, evaluated: the times measured against the plan's limits; the corrective actions are on the drill incident's review", body = Drill),
              (status = 409, description = "illegal_transition (the drill has not ended, or its response has not)", body = ErrorBody),
              (status = 422, description = "missing_field, invalid_field", body = ErrorBody)))]
pub async fn evaluate_drill(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<EvaluateRequest>,
) -> Result<Response, ApiError> {
    let cmd = EvaluateDrill {
        id,
        request: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/drills", tag = "drills",
    responses((status = 200, description = "the drills in the caller's area, newest first (at most 200)", body = Vec<Drill>)))]
pub async fn list_drills(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<Drill>>, ApiError> {
    Ok(axum::Json(app_drills::list(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/drills/schedule", tag = "drills",
    responses((status = 200, description = "the drill owed by each plan in the caller's area this period (and a missed previous one)", body = Vec<DrillDuty>)))]
pub async fn drill_schedule(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<DrillDuty>>, ApiError> {
    Ok(axum::Json(app_drills::schedule(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/plan-revisions/schedule", tag = "plans",
    responses((status = 200, description = "the revision owed by each plan in the caller's area with a `[review] every` cadence this period (and a missed previous one): done once a version of the plan is loaded in the period", body = Vec<DrillDuty>)))]
pub async fn revision_schedule(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<DrillDuty>>, ApiError> {
    Ok(axum::Json(
        app_drills::revision_schedule(&state, &actor).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/drills/{id}", tag = "drills",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Drill), (status = 404, body = ErrorBody)))]
pub async fn get_drill(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Drill>, ApiError> {
    Ok(axum::Json(app_drills::get(&state, &actor, id).await?))
}
