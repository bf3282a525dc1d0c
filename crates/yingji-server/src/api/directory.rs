//! Directory routes: jurisdictions, people and who holds which post. Thin adapters from HTTP to
//! the application's directory commands and reads (`yingji_app::directory`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::directory::{
    self, AssignHolderRequest, ChangeHolder, CreateJurisdiction, CreatePerson, HolderChange,
    HolderList, Jurisdiction, JurisdictionList, Me, NewJurisdictionRequest, NewPersonRequest,
    Person, PersonList,
};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

pub use yingji_app::directory::{JURISDICTION_KINDS, open_phone, rekey_phones};
pub use yingji_app::phone_aad;

#[utoipa::path(get, path = "/api/v1/me", tag = "directory",
    responses((status = 200, description = "the signed-in actor and their jurisdiction", body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, actor: Actor) -> Result<axum::Json<Me>, ApiError> {
    Ok(axum::Json(directory::me(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions", tag = "directory",
    responses((status = 200, description = "the actor's jurisdiction and everything below it", body = JurisdictionList)))]
pub async fn list_jurisdictions(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<JurisdictionList>, ApiError> {
    Ok(axum::Json(directory::jurisdictions(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}", tag = "directory",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Jurisdiction), (status = 404, body = ErrorBody)))]
pub async fn get_jurisdiction(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Jurisdiction>, ApiError> {
    Ok(axum::Json(
        directory::jurisdiction(&state, &actor, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/jurisdictions", tag = "directory",
    request_body = NewJurisdictionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Jurisdiction), (status = 404, description = "parent not found", body = ErrorBody)))]
pub async fn create_jurisdiction(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewJurisdictionRequest>,
) -> Result<Response, ApiError> {
    let cmd = CreateJurisdiction::from(body.value);
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/people", tag = "directory",
    responses((status = 200, description = "people in the actor's subtree, phones masked", body = PersonList)))]
pub async fn list_people(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<PersonList>, ApiError> {
    Ok(axum::Json(directory::people(&state, &actor).await?))
}

#[utoipa::path(post, path = "/api/v1/people", tag = "directory",
    request_body = NewPersonRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Person), (status = 404, body = ErrorBody)))]
pub async fn create_person(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewPersonRequest>,
) -> Result<Response, ApiError> {
    let cmd = CreatePerson::from(body.value);
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/holders", tag = "directory",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "who holds which post now", body = HolderList)))]
pub async fn list_holders(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<HolderList>, ApiError> {
    Ok(axum::Json(directory::holders(&state, &actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/jurisdictions/{id}/holders", tag = "directory",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AssignHolderRequest,
    responses((status = 201, body = HolderChange), (status = 404, body = ErrorBody)))]
pub async fn assign_holder(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<AssignHolderRequest>,
) -> Result<Response, ApiError> {
    let cmd = ChangeHolder::assign(id, body.value);
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}

#[utoipa::path(post, path = "/api/v1/jurisdictions/{id}/holders/remove", tag = "directory",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AssignHolderRequest,
    responses((status = 200, description = "the post is no longer held by the person", body = HolderChange),
              (status = 404, description = "the person does not hold the post", body = ErrorBody)))]
pub async fn remove_holder(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<AssignHolderRequest>,
) -> Result<Response, ApiError> {
    let cmd = ChangeHolder::remove(id, body.value);
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}
