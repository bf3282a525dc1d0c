//! The representatives of a gathering on an incident (群众代表): recorded, withdrawn, listed
//! (names for those who may update the incident, contacts masked) and revealed with a logged
//! reason.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::representatives::{
    self as app_reps, RecordRepresentative, Representative, RepresentativeRequest,
    RepresentativeReveal, RepresentativeRevealRequest, RevealRepresentative,
    WithdrawRepresentative, WithdrawRepresentativeRequest,
};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{id}/representatives",
            get(list_representatives).post(record_representative),
        )
        .route(
            "/incidents/{id}/representatives/{rid}/withdraw",
            post(withdraw_representative),
        )
        .route(
            "/incidents/{id}/representatives/{rid}/reveal",
            post(reveal_representative),
        )
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/representatives", tag = "incidents",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RepresentativeRequest,
    responses((status = 201, description = "the representative, the name and contact sealed with the incident's key (the contact answered masked)", body = Representative),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "illegal_transition: the incident is closed", body = ErrorBody),
              (status = 422, description = "missing_field, invalid_field (also what they speak for asking for a measure out of scope, or any field beyond name, contact and speaks_for)", body = ErrorBody)))]
pub async fn record_representative(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<RepresentativeRequest>,
) -> Result<Response, ApiError> {
    let cmd = RecordRepresentative {
        incident_id: id,
        req: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/representatives", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the incident's representatives in the order recorded: full names for those who may update the incident, masked for others; contacts masked", body = Vec<Representative>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_representatives(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<Representative>>, ApiError> {
    Ok(axum::Json(app_reps::of_incident(&state, &actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/representatives/{rid}/withdraw", tag = "incidents",
    params(("id" = Uuid, Path), ("rid" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = WithdrawRepresentativeRequest,
    responses((status = 200, description = "the representative, no longer speaking for the gathering", body = Representative),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "illegal_transition: already withdrawn", body = ErrorBody),
              (status = 422, description = "missing_field, invalid_field", body = ErrorBody)))]
pub async fn withdraw_representative(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, rid)): Path<(Uuid, Uuid)>,
    body: JsonBody<WithdrawRepresentativeRequest>,
) -> Result<Response, ApiError> {
    let cmd = WithdrawRepresentative {
        incident_id: id,
        id: rid,
        req: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/representatives/{rid}/reveal", tag = "incidents",
    params(("id" = Uuid, Path), ("rid" = Uuid, Path)),
    request_body = RepresentativeRevealRequest,
    responses((status = 200, description = "the full value; the read is logged with who and why (never the value)", body = RepresentativeReveal),
              (status = 403, description = "forbidden: no reveal_personal_data role here", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "reason_required, invalid_field", body = ErrorBody)))]
pub async fn reveal_representative(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, rid)): Path<(Uuid, Uuid)>,
    body: JsonBody<RepresentativeRevealRequest>,
) -> Result<axum::Json<RepresentativeReveal>, ApiError> {
    // No Idempotency-Key: the answer holds the value and is never stored.
    let cmd = RevealRepresentative {
        incident_id: id,
        id: rid,
        req: body.value,
    };
    let out = state
        .execute(&actor, None, &cmd)
        .await?
        .output()
        .ok_or_else(|| ApiError::internal("a reveal was replayed"))?;
    Ok(axum::Json(out))
}
