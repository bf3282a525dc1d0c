//! Reserves (应急保障): a jurisdiction's items with their stock, movements (in, out, issued to
//! an incident, returned) and what an incident was issued.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::reserves::{
    self as app_reserves, CreateItem, ItemView, MoveItem, MoveRequest, MovementLine, NewItemRequest,
};
use yingji_domain::reserve::Item;

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reserves", get(list_reserves).post(create_reserve))
        .route("/reserves/{id}", get(get_reserve))
        .route("/reserves/{id}/movements", post(move_reserve))
        .route("/incidents/{id}/reserves", get(incident_reserves))
}

#[utoipa::path(post, path = "/api/v1/reserves", tag = "reserves",
    request_body = NewItemRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the item", body = Item),
              (status = 422, description = "missing_field, invalid_field, invalid_kind, invalid_post", body = ErrorBody)))]
pub async fn create_reserve(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewItemRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        CreateItem(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/reserves/{id}/movements", tag = "reserves",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MoveRequest,
    responses((status = 200, description = "the item after the movement; stock taken below its minimum tells the custodian's post", body = Item),
              (status = 404, description = "the item or the incident is not in the caller's area", body = ErrorBody),
              (status = 409, description = "insufficient_stock", body = ErrorBody),
              (status = 422, description = "missing_field (an issue's incident), invalid_field (quantity, a return beyond what the incident holds), invalid_kind", body = ErrorBody)))]
pub async fn move_reserve(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<MoveRequest>,
) -> Result<Response, ApiError> {
    let cmd = MoveItem {
        id,
        request: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/reserves", tag = "reserves",
    responses((status = 200, description = "the items of the caller's area, newest first (at most 1,000)", body = Vec<Item>)))]
pub async fn list_reserves(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<Item>>, ApiError> {
    Ok(axum::Json(app_reserves::list(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/reserves/{id}", tag = "reserves",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the item with its movements, newest first", body = ItemView), (status = 404, body = ErrorBody)))]
pub async fn get_reserve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ItemView>, ApiError> {
    Ok(axum::Json(app_reserves::get(&state, &actor, id).await?))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/reserves", tag = "reserves",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "what was issued to the incident and returned, oldest first", body = Vec<MovementLine>), (status = 404, body = ErrorBody)))]
pub async fn incident_reserves(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<MovementLine>>, ApiError> {
    Ok(axum::Json(
        app_reserves::of_incident(&state, &actor, id).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Teams and funds

use yingji_app::resources::{
    self as app_resources, BudgetLine, BudgetRequest, CreateBudget, CreateTeam, ReadinessRequest,
    SetReadiness, Spend, SpendRequest, Spending, Team, TeamRequest,
};

pub fn resource_routes() -> Router<AppState> {
    Router::new()
        .route("/teams", get(list_teams).post(create_team))
        .route("/teams/{id}/readiness", post(set_readiness))
        .route(
            "/budget-lines",
            get(list_budget_lines).post(create_budget_line),
        )
        .route("/budget-lines/{id}/spending", post(spend))
        .route("/incidents/{id}/spending", get(incident_spending))
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "reserves",
    request_body = TeamRequest, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Team),
              (status = 422, description = "missing_field, invalid_field, invalid_kind (readiness)", body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<TeamRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        CreateTeam(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/teams/{id}/readiness", tag = "reserves",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReadinessRequest,
    responses((status = 200, body = Team), (status = 404, body = ErrorBody),
              (status = 422, description = "invalid_kind: ready, standby or unavailable", body = ErrorBody)))]
pub async fn set_readiness(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<ReadinessRequest>,
) -> Result<Response, ApiError> {
    let cmd = SetReadiness {
        id,
        request: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "reserves",
    responses((status = 200, description = "the teams of the caller's area", body = Vec<Team>)))]
pub async fn list_teams(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<Team>>, ApiError> {
    Ok(axum::Json(app_resources::teams(&state, &actor).await?))
}

#[utoipa::path(post, path = "/api/v1/budget-lines", tag = "reserves",
    request_body = BudgetRequest, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = BudgetLine),
              (status = 422, description = "missing_field, invalid_field (amount in fen), unknown_plan, plan_not_applicable, plan_not_in_force", body = ErrorBody)))]
pub async fn create_budget_line(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<BudgetRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        CreateBudget(body.value),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/budget-lines/{id}/spending", tag = "reserves",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = SpendRequest,
    responses((status = 200, description = "the line after the spending", body = BudgetLine),
              (status = 404, body = ErrorBody),
              (status = 409, description = "insufficient_stock: more than the line has left", body = ErrorBody),
              (status = 422, description = "invalid_field", body = ErrorBody)))]
pub async fn spend(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<SpendRequest>,
) -> Result<Response, ApiError> {
    let cmd = Spend {
        id,
        request: body.value,
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/budget-lines", tag = "reserves",
    responses((status = 200, description = "the budget lines of the caller's area", body = Vec<BudgetLine>)))]
pub async fn list_budget_lines(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Vec<BudgetLine>>, ApiError> {
    Ok(axum::Json(
        app_resources::budget_lines(&state, &actor).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/spending", tag = "reserves",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "what was spent on the incident, oldest first", body = Vec<Spending>),
              (status = 404, body = ErrorBody)))]
pub async fn incident_spending(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<Spending>>, ApiError> {
    Ok(axum::Json(
        app_resources::spending_of(&state, &actor, id).await?,
    ))
}
