//! Trust routes (issue 7): sign-in and sign-out, password change, API tokens, accounts,
//! disabling, role grants, and the audit chain's check. Thin adapters from HTTP to the
//! application's account commands and reads (`yingji_app::accounts`, `yingji_app::trust`);
//! the one permission check is `App::require` there.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::accounts::{
    self, ChangeGrant, ChangePassword, ChangePasswordRequest, CreateToken, GrantList, GrantRequest,
    NewSession, NewTokenRequest, NewTokenResponse, ReasonRequest, RevokeToken, SetAccount,
    SetAccountRequest, SetDisabled, SignInRequest, SignInResponse, SignOut, TokenList,
};
use yingji_app::directory::{RevealPhone, RevealRequest, RevealResponse};
use yingji_app::trust::AuditReport;

use crate::auth::{Actor, SESSION_COOKIE};
use crate::error::{ApiError, JsonBody};
use crate::{AppState, JsonText, json_response};

pub use yingji_app::accounts::{DEMO_PASSWORD, demo_password_hash, hash_password, random_token};
pub use yingji_app::trust::{TrustConfig, log_disclosure};
pub use yingji_domain::policy::Permission;

/// The `Set-Cookie` value that carries a new password session.
pub fn session_cookie(st: &AppState, s: &NewSession) -> Result<HeaderValue, ApiError> {
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        s.token,
        st.trust.session_hours * 3600,
        if st.trust.secure_cookie {
            "; Secure"
        } else {
            ""
        }
    );
    HeaderValue::from_str(&cookie).map_err(ApiError::internal)
}

/// The `Set-Cookie` value that ends the session cookie in the browser.
pub const CLEAR_SESSION_COOKIE: &str =
    "yingji_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// Runs a command that answers nothing (204). These commands take no Idempotency-Key: running
/// one again changes nothing more.
async fn no_content<C: yingji_app::Command>(
    st: &AppState,
    actor: &Actor,
    cmd: C,
) -> Result<Response, ApiError> {
    st.execute(actor, None, &cmd).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn json_of<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    json_response(
        status,
        JsonText(serde_json::to_string(v).expect("serialises")),
    )
}

#[utoipa::path(post, path = "/api/v1/session", tag = "sign-in", request_body = SignInRequest, security(()),
    responses((status = 200, description = "signed in; sets the HttpOnly session cookie", body = SignInResponse),
              (status = 401, description = "invalid_credentials or account_disabled", body = ErrorBody),
              (status = 429, description = "sign_in_locked: too many wrong passwords", body = ErrorBody)))]
pub async fn sign_in(
    State(st): State<AppState>,
    body: JsonBody<SignInRequest>,
) -> Result<Response, ApiError> {
    let s = accounts::sign_in(&st, body.value).await?;
    let mut resp = json_of(StatusCode::OK, &s.response);
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&st, &s)?);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "sign-in",
    responses((status = 204, description = "signed out; the session is revoked")))]
pub async fn sign_out(State(st): State<AppState>, actor: Actor) -> Result<Response, ApiError> {
    let mut resp = no_content(&st, &actor, SignOut).await?;
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(CLEAR_SESSION_COOKIE),
    );
    Ok(resp)
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "sign-in", request_body = ChangePasswordRequest,
    responses((status = 204, description = "changed; every other session is signed out"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    actor: Actor,
    body: JsonBody<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    no_content(&st, &actor, ChangePassword(body.value)).await
}

#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "sign-in", request_body = NewTokenRequest,
    responses((status = 201, description = "the token is shown only now", body = NewTokenResponse)))]
pub async fn create_token(
    State(st): State<AppState>,
    actor: Actor,
    body: JsonBody<NewTokenRequest>,
) -> Result<Response, ApiError> {
    // No Idempotency-Key: the answer holds the secret, which is never stored.
    let out = st.execute(&actor, None, &CreateToken(body.value)).await?;
    let mut resp = json_response(StatusCode::CREATED, out.into_body());
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "sign-in",
    responses((status = 200, description = "the actor's API tokens, without the secrets", body = TokenList)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<TokenList>, ApiError> {
    Ok(axum::Json(accounts::tokens(&st, &actor).await?))
}

#[utoipa::path(post, path = "/api/v1/me/tokens/{id}/revoke", tag = "sign-in", params(("id" = Uuid, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    no_content(&st, &actor, RevokeToken(id)).await
}

#[utoipa::path(post, path = "/api/v1/people/{id}/account", tag = "users", params(("id" = Uuid, Path)), request_body = SetAccountRequest,
    responses((status = 204, description = "the person can sign in with this login and password"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_account(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<SetAccountRequest>,
) -> Result<Response, ApiError> {
    no_content(&st, &actor, SetAccount::new(id, body.value)).await
}

#[utoipa::path(post, path = "/api/v1/people/{id}/{switch}", tag = "users",
    params(("id" = Uuid, Path), ("switch" = String, Path, description = "disable or enable")), request_body = ReasonRequest,
    responses((status = 204, description = "done; a disabled person's sessions and tokens stop working at once"), (status = 403, body = ErrorBody)))]
pub async fn set_disabled(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, switch)): Path<(Uuid, String)>,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    no_content(&st, &actor, SetDisabled::parse(id, &switch, body.value)?).await
}

#[utoipa::path(get, path = "/api/v1/people/{id}/grants", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the person's roles", body = GrantList)))]
pub async fn list_grants(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<GrantList>, ApiError> {
    Ok(axum::Json(accounts::grants(&st, &actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/grants/{op}", tag = "users",
    params(("id" = Uuid, Path), ("op" = String, Path, description = "add or remove")), request_body = GrantRequest,
    responses((status = 204, description = "done"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_grant(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, op)): Path<(Uuid, String)>,
    body: JsonBody<GrantRequest>,
) -> Result<Response, ApiError> {
    no_content(&st, &actor, ChangeGrant::parse(id, &op, body.value)?).await
}

#[utoipa::path(post, path = "/api/v1/people/{id}/reveal", tag = "directory", params(("id" = Uuid, Path)), request_body = RevealRequest,
    responses((status = 200, description = "the read is logged with who and why", body = RevealResponse),
              (status = 403, body = ErrorBody), (status = 422, description = "reason_required", body = ErrorBody)))]
pub async fn reveal(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<RevealRequest>,
) -> Result<Response, ApiError> {
    // No Idempotency-Key: the answer holds the value in clear, which is never stored.
    let cmd = RevealPhone {
        person_id: id,
        req: body.value,
    };
    let out = st.execute(&actor, None, &cmd).await?;
    Ok(json_response(StatusCode::OK, out.into_body()))
}

/// What `GET /audit/verify` checks besides the record itself.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct VerifyQuery {
    /// Also rebuild every projection row of the subtree from its events and list each
    /// difference (slower: one read per stream).
    #[serde(default)]
    pub projections: bool,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", params(VerifyQuery),
    responses((status = 200, description = "the record of the caller's subtree checked: hash chains, signed heads and checkpoints (and projections when asked)", body = AuditReport), (status = 403, body = ErrorBody)))]
pub async fn audit_verify(
    State(st): State<AppState>,
    actor: Actor,
    q: Result<axum::extract::Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<AuditReport>, ApiError> {
    let axum::extract::Query(q) =
        q.map_err(|e| ApiError::new(yingji_app::ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(
        yingji_app::trust::verify_audit(&st, &actor, q.projections).await?,
    ))
}

/// How many disclosures to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct DisclosureQuery {
    /// At most this many, newest first (1–1000; default 100).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit/disclosures", tag = "audit", params(DisclosureQuery),
    responses((status = 200, description = "who read personal data in clear in the caller's subtree, newest first", body = yingji_app::trust::DisclosureList), (status = 403, body = ErrorBody)))]
pub async fn audit_disclosures(
    State(st): State<AppState>,
    actor: Actor,
    axum::extract::Query(q): axum::extract::Query<DisclosureQuery>,
) -> Result<axum::Json<yingji_app::trust::DisclosureList>, ApiError> {
    Ok(axum::Json(
        yingji_app::trust::disclosures(&st, &actor, q.limit).await?,
    ))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/session", post(sign_in).delete(sign_out))
        .route("/me/password", post(change_password))
        .route("/me/tokens", get(list_tokens).post(create_token))
        .route("/me/tokens/{id}/revoke", post(revoke_token))
        .route("/people/{id}/account", post(set_account))
        .route("/people/{id}/reveal", post(reveal))
        .route("/people/{id}/grants", get(list_grants))
        .route("/people/{id}/grants/{op}", post(change_grant))
        .route("/people/{id}/{switch}", post(set_disabled))
        .route("/audit/verify", get(audit_verify))
        .route("/audit/disclosures", get(audit_disclosures))
}
