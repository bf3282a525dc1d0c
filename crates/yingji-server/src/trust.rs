//! Trust (issue 7): roles and permissions per jurisdiction subtree, sign-in with sessions,
//! API tokens, lockout, password change, disabling users, role grants, and logged reveals of
//! personal data. One place decides what an actor may do: [`AppState::require`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{KeyInit, OsRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_store::{PersonRow, Row, Stmt, StoreError, Val, WriteSet, args, fmt_ts};

use crate::AppState;
use crate::auth::{Actor, SESSION_COOKIE, token_hash};
use crate::error::{ApiError, JsonBody};
use crate::write::{Item, append};

/// What an actor may do. Roles are sets of these (configurable); a role is granted in a
/// jurisdiction and applies to it and everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewIncidents,
    ReportIncident,
    UpdateIncident,
    /// Verify, assess, warn, activate, escalate, re-grade, record obligations.
    HandleIncident,
    EndResponse,
    RecordCoerciveStep,
    ReviewIncident,
    WorkTasks,
    ViewPlans,
    UploadPlans,
    ViewDirectory,
    ManageDirectory,
    ManageUsers,
    RevealPersonalData,
    ReadAudit,
    /// Read petition cases, their timelines and statistics (personal data masked).
    ViewCases,
    /// Register a petition case.
    RegisterCase,
    /// Work a case: classify, propose, route, assign a leader, ask for an extension, reply,
    /// follow up, link.
    HandleCase,
    /// Sign an approval of the proposal or decide an extension. The domain also requires the
    /// post the rules name (or, for a referred case, the referring body).
    ApproveCase,
    /// Read screening rounds and disputes.
    ViewDisputes,
    /// Open screening rounds, submit for a unit, register and work disputes.
    ScreenDisputes,
    /// Read the scheduled-report board.
    ViewReports,
    /// Submit a scheduled report (the plan must also name the submitter's post or unit).
    SubmitReports,
    /// Read calls, deliveries, rosters, who holds a post, gaps and other people's channels.
    ViewCalls,
    /// Retry dead deliveries, set duty rosters and other people's channels.
    ManageNotifications,
}

impl Permission {
    pub const ALL: &[Permission] = &[
        Permission::ViewIncidents,
        Permission::ReportIncident,
        Permission::UpdateIncident,
        Permission::HandleIncident,
        Permission::EndResponse,
        Permission::RecordCoerciveStep,
        Permission::ReviewIncident,
        Permission::WorkTasks,
        Permission::ViewPlans,
        Permission::UploadPlans,
        Permission::ViewDirectory,
        Permission::ManageDirectory,
        Permission::ManageUsers,
        Permission::RevealPersonalData,
        Permission::ReadAudit,
        Permission::ViewCases,
        Permission::RegisterCase,
        Permission::HandleCase,
        Permission::ApproveCase,
        Permission::ViewDisputes,
        Permission::ScreenDisputes,
        Permission::ViewReports,
        Permission::SubmitReports,
        Permission::ViewCalls,
        Permission::ManageNotifications,
    ];

    pub fn id(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Sign-in and role configuration (`serve --trust FILE`, JSON; every key optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// Wrong passwords within `failure_window_seconds` that lock a login…
    pub max_failures: i64,
    pub failure_window_seconds: i64,
    /// …for this long after the last of them (even the right password is refused).
    pub lockout_seconds: i64,
    pub session_hours: i64,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookie: bool,
    pub min_password_length: usize,
    /// How long petitioners' contact, address and ID number are kept after a case is no longer
    /// open (replied or closed), in days; `yingji purge` erases them after that.
    pub retention_days: i64,
    /// Role id → permissions.
    pub roles: BTreeMap<String, BTreeSet<Permission>>,
}

impl Default for TrustConfig {
    fn default() -> Self {
        use Permission::*;
        let view = [
            ViewIncidents,
            ViewPlans,
            ViewDirectory,
            ViewCases,
            ViewDisputes,
            ViewReports,
            ViewCalls,
        ];
        let role = |extra: &[Permission]| -> BTreeSet<Permission> {
            view.iter().chain(extra).copied().collect()
        };
        let mut roles = BTreeMap::new();
        roles.insert(
            "duty_officer".into(),
            role(&[
                ReportIncident,
                UpdateIncident,
                HandleIncident,
                WorkTasks,
                RegisterCase,
                HandleCase,
                ApproveCase,
                ScreenDisputes,
                SubmitReports,
                ManageNotifications,
            ]),
        );
        roles.insert(
            "commander".into(),
            role(&[
                ReportIncident,
                UpdateIncident,
                HandleIncident,
                EndResponse,
                RecordCoerciveStep,
                ReviewIncident,
                WorkTasks,
                RevealPersonalData,
                HandleCase,
                ApproveCase,
                ScreenDisputes,
                SubmitReports,
                ManageNotifications,
            ]),
        );
        roles.insert(
            "group_member".into(),
            role(&[UpdateIncident, WorkTasks, SubmitReports]),
        );
        roles.insert(
            "petition_clerk".into(),
            role(&[
                ReportIncident,
                RevealPersonalData,
                RegisterCase,
                HandleCase,
                ApproveCase,
                ScreenDisputes,
                SubmitReports,
            ]),
        );
        roles.insert("approver".into(), role(&[RecordCoerciveStep, ApproveCase]));
        roles.insert("plan_author".into(), role(&[UploadPlans]));
        roles.insert("auditor".into(), role(&[ReadAudit]));
        roles.insert(
            "administrator".into(),
            Permission::ALL.iter().copied().collect(),
        );
        TrustConfig {
            max_failures: 5,
            failure_window_seconds: 60,
            lockout_seconds: 15 * 60,
            session_hours: 12,
            secure_cookie: false,
            min_password_length: 10,
            retention_days: 3 * 365,
            roles,
        }
    }
}

impl TrustConfig {
    pub fn from_json(text: &str) -> anyhow::Result<TrustConfig> {
        let cfg: TrustConfig = serde_json::from_str(text)?;
        if cfg.max_failures < 1 || cfg.failure_window_seconds < 1 || cfg.session_hours < 1 {
            anyhow::bail!(
                "max_failures, failure_window_seconds and session_hours must be positive"
            );
        }
        if !(0..=36_500).contains(&cfg.retention_days) {
            anyhow::bail!("retention_days must be from 0 to 36500");
        }
        Ok(cfg)
    }

    pub fn role_allows(&self, role: &str, p: Permission) -> bool {
        self.roles.get(role).is_some_and(|ps| ps.contains(&p))
    }
}

pub fn forbidden(p: Permission) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "you do not hold a role with the permission `{}` in this jurisdiction",
            p.id()
        ),
    )
    .details(json!({ "permission": p.id() }))
}

impl AppState {
    /// The one permission check: a jurisdiction outside the actor's subtree is "not found"
    /// (its existence does not leak); inside it, no role allowing `p` there is "forbidden".
    pub fn require(
        &self,
        actor: &Actor,
        p: Permission,
        jurisdiction_path: &str,
        what: &str,
    ) -> Result<(), ApiError> {
        if !actor.sees(jurisdiction_path) {
            return Err(ApiError::not_found(what));
        }
        if actor.may(self, p, jurisdiction_path) {
            Ok(())
        } else {
            Err(forbidden(p))
        }
    }

    /// The permissions an actor holds in their own jurisdiction (for `GET /me`).
    pub fn permissions_at(&self, actor: &Actor, path: &str) -> Vec<String> {
        Permission::ALL
            .iter()
            .filter(|p| actor.may(self, **p, path))
            .map(|p| p.id())
            .collect()
    }
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    hex::encode(ChaCha20Poly1305::generate_key(&mut OsRng))
}

pub fn hash_password(pw: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// The documented password of every demo account (demo data only).
pub const DEMO_PASSWORD: &str = "yingji-demo-2026";

/// One argon2 hash of the demo password per process (hashing is deliberately slow).
pub fn demo_password_hash() -> String {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password(DEMO_PASSWORD).expect("hashing works"))
        .clone()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

/// Appends one event to a person's stream together with `rows`, retrying when a concurrent
/// write advanced the stream first.
pub async fn person_event(
    st: &AppState,
    actor: &ActorRef,
    person: &PersonRow,
    kind: &str,
    payload: &Value,
    reason: Option<String>,
    rows: Vec<Row>,
) -> Result<(), ApiError> {
    for _ in 0..8 {
        let head = st.store.stream_head(person.id).await?;
        let (version, hash) = head.map_or((0, None), |(v, h)| (v, Some(h)));
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            person.id,
            "person",
            person.jurisdiction_id,
            version,
            hash.as_deref(),
            actor,
            st.clock.now(),
            vec![Item::new(kind, payload, reason.clone())],
        );
        ws.rows.extend(rows.iter().cloned());
        match st.store.commit(ws).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict(c)) if c.is_retryable() => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "the account is changing too fast; retry",
    ))
}

fn check_password(st: &AppState, pw: &str) -> Result<(), ApiError> {
    let n = pw.chars().count();
    if n < st.trust.min_password_length || n > 256 {
        return Err(ApiError::unprocessable(
            "weak_password",
            format!(
                "a password needs {}–256 characters",
                st.trust.min_password_length
            ),
        ));
    }
    Ok(())
}

async fn me_json(st: &AppState, actor: &Actor) -> Result<Value, ApiError> {
    let j = st
        .store
        .jurisdiction(actor.jurisdiction_id)
        .await?
        .ok_or_else(|| ApiError::not_found("jurisdiction"))?;
    Ok(json!({
        "person_id": actor.person_id,
        "name": actor.name,
        "jurisdiction": { "id": j.id, "name": j.name, "kind": j.kind },
        "roles": actor.grants.iter().map(|g| json!({"role": g.role, "jurisdiction_id": g.jurisdiction_id})).collect::<Vec<_>>(),
        "permissions": st.permissions_at(actor, &actor.scope_path),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub login: String,
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/session", tag = "sign-in", request_body = SignInRequest, security(()),
    responses((status = 200, description = "signed in: {actor, csrf_token, expires_at}; sets the HttpOnly session cookie", body = Object),
              (status = 401, description = "invalid_credentials or account_disabled", body = Object),
              (status = 429, description = "sign_in_locked: too many wrong passwords", body = Object)))]
pub async fn sign_in(
    State(st): State<AppState>,
    body: JsonBody<SignInRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let login = req.login.trim().to_lowercase();
    if login.is_empty() || login.chars().count() > 100 || req.password.len() > 1024 {
        return Err(ApiError::bad_request(
            "invalid_request",
            "login (1–100 characters) and password are required",
        ));
    }
    let now = st.clock.now();
    let now_ms = now.as_millisecond();
    let cfg = st.trust.clone();
    if let Some(last) = st.store.last_sign_in_failure(&login).await?
        && now_ms < last + cfg.lockout_seconds * 1000
    {
        let n = st
            .store
            .sign_in_failures(&login, last - cfg.failure_window_seconds * 1000)
            .await?;
        if n >= cfg.max_failures {
            let retry = (last + cfg.lockout_seconds * 1000 - now_ms).div_euclid(1000) + 1;
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "sign_in_locked",
                format!("too many wrong passwords; retry in {retry} s"),
            )
            .details(json!({ "retry_after_s": retry })));
        }
    }
    let account = st.store.account_by_login(&login).await?;
    let stored = account
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(demo_password_hash);
    let has_hash = account.as_ref().is_some_and(|a| a.password_hash.is_some());
    let pw = req.password.clone();
    // Unknown logins cost the same argon2 work, so timing does not tell which exist.
    let ok = blocking(move || verify_password(&pw, &stored)).await? && has_hash;
    let Some(account) = account.filter(|_| ok) else {
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Sql(Stmt::new(
            "INSERT INTO sign_in_failures (id, login, at_ms) VALUES (?, ?, ?)",
            args![Uuid::now_v7(), &login, now_ms],
        )));
        st.store.commit(ws).await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong login or password",
        ));
    };
    if account.disabled {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "account_disabled",
            "this account has been disabled",
        ));
    }
    let person = st
        .store
        .person(account.person_id)
        .await?
        .ok_or_else(|| ApiError::internal("account without person"))?;
    let token = random_token();
    let csrf = random_token();
    let expires = now_ms + cfg.session_hours * 3_600_000;
    let rows = vec![
        Row::Sql(Stmt::new(
            "INSERT INTO sessions (token_hash, person_id, csrf_hash, created_at, expires_ms, revoked) VALUES (?, ?, ?, ?, ?, FALSE)",
            args![
                token_hash(&token),
                person.id,
                token_hash(&csrf),
                now,
                expires
            ],
        )),
        Row::Sql(Stmt::new(
            "DELETE FROM sign_in_failures WHERE login = ? OR at_ms < ?",
            args![&login, now_ms - 86_400_000],
        )),
    ];
    let actor_ref = ActorRef {
        person_id: person.id,
        name: person.name.clone(),
    };
    person_event(
        &st,
        &actor_ref,
        &person,
        "signed_in",
        &json!({ "login": login, "via": "password" }),
        None,
        rows,
    )
    .await?;
    let actor = Actor {
        person_id: person.id,
        name: person.name.clone(),
        jurisdiction_id: person.jurisdiction_id,
        scope_path: st
            .store
            .jurisdiction(person.jurisdiction_id)
            .await?
            .map(|j| j.path)
            .unwrap_or_default(),
        grants: st.store.grants(person.id).await?,
        session: None,
    };
    let body = json!({
        "actor": me_json(&st, &actor).await?,
        "csrf_token": csrf,
        "expires_at": fmt_ts(jiff::Timestamp::from_millisecond(expires).map_err(ApiError::internal)?),
    });
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        cfg.session_hours * 3600,
        if cfg.secure_cookie { "; Secure" } else { "" }
    );
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "sign-in",
    responses((status = 204, description = "signed out; the session is revoked")))]
pub async fn sign_out(State(st): State<AppState>, actor: Actor) -> Result<Response, ApiError> {
    if let Some(h) = &actor.session {
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Sql(Stmt::new(
            "UPDATE sessions SET revoked = TRUE WHERE token_hash = ?",
            args![h],
        )));
        st.store.commit(ws).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("yingji_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "sign-in", request_body = ChangePasswordRequest,
    responses((status = 204, description = "changed; every other session is signed out"), (status = 403, body = Object), (status = 422, body = Object)))]
pub async fn change_password(
    State(st): State<AppState>,
    actor: Actor,
    body: JsonBody<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let account = st
        .store
        .account(actor.person_id)
        .await?
        .filter(|a| a.password_hash.is_some())
        .ok_or_else(|| ApiError::not_found("password sign-in for this person"))?;
    let stored = account.password_hash.clone().unwrap_or_default();
    let cur = req.current_password.clone();
    if !blocking(move || verify_password(&cur, &stored)).await? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is wrong",
        ));
    }
    check_password(&st, &req.new_password)?;
    let new = req.new_password.clone();
    let hash = blocking(move || hash_password(&new)).await??;
    let now = st.clock.now();
    let person = st
        .store
        .person(actor.person_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let rows = vec![
        Row::Sql(Stmt::new(
            "UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE person_id = ?",
            args![hash, now, actor.person_id],
        )),
        Row::Sql(Stmt::new(
            "UPDATE sessions SET revoked = TRUE WHERE person_id = ? AND token_hash <> ?",
            args![actor.person_id, actor.session.clone().unwrap_or_default()],
        )),
    ];
    person_event(
        &st,
        &actor.as_ref(),
        &person,
        "password_changed",
        &json!({}),
        None,
        rows,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for (an integration's name).
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "sign-in", request_body = NewTokenRequest,
    responses((status = 201, description = "{id, name, token, created_at}: the token is shown only now", body = Object)))]
pub async fn create_token(
    State(st): State<AppState>,
    actor: Actor,
    body: JsonBody<NewTokenRequest>,
) -> Result<Response, ApiError> {
    let name = body.value.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "a name of 1–100 characters is required",
        ));
    }
    let person = st
        .store
        .person(actor.person_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let id = Uuid::now_v7();
    let token = format!("yj_{}", random_token());
    let now = fmt_ts(st.clock.now());
    let rows = vec![Row::Sql(Stmt::new(
        "INSERT INTO api_tokens (id, person_id, name, token_hash, created_at, revoked) VALUES (?, ?, ?, ?, ?, FALSE)",
        args![id, person.id, &name, token_hash(&token), Val::ts(&now)],
    ))];
    person_event(
        &st,
        &actor.as_ref(),
        &person,
        "api_token_created",
        &json!({ "id": id, "name": name }),
        None,
        rows,
    )
    .await?;
    let mut resp = (
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "name": name, "token": token, "created_at": now })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "sign-in",
    responses((status = 200, description = "{items}: the actor's API tokens, without the secrets", body = Object)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, ApiError> {
    let items: Vec<Value> = st
        .store
        .api_tokens(actor.person_id)
        .await?
        .into_iter()
        .map(|t| json!({ "id": t.id, "name": t.name, "created_at": t.created_at, "revoked": t.revoked }))
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/me/tokens/{id}/revoke", tag = "sign-in", params(("id" = Uuid, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = Object)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let tokens = st.store.api_tokens(actor.person_id).await?;
    let t = tokens
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::not_found("token"))?;
    let person = st
        .store
        .person(actor.person_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let rows = vec![Row::Sql(Stmt::new(
        "UPDATE api_tokens SET revoked = TRUE WHERE id = ? AND person_id = ?",
        args![id, actor.person_id],
    ))];
    person_event(
        &st,
        &actor.as_ref(),
        &person,
        "api_token_revoked",
        &json!({ "id": id, "name": t.name }),
        None,
        rows,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A person the actor may manage: visible (else 404) and `p` allowed in their jurisdiction.
async fn managed_person(
    st: &AppState,
    actor: &Actor,
    id: Uuid,
    p: Permission,
) -> Result<PersonRow, ApiError> {
    let person = st
        .store
        .person(id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let j = st
        .store
        .jurisdiction(person.jurisdiction_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    st.require(actor, p, &j.path, "person")?;
    Ok(person)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAccountRequest {
    pub login: String,
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/people/{id}/account", tag = "users", params(("id" = Uuid, Path)), request_body = SetAccountRequest,
    responses((status = 204, description = "the person can sign in with this login and password"), (status = 403, body = Object), (status = 409, body = Object)))]
pub async fn set_account(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<SetAccountRequest>,
) -> Result<Response, ApiError> {
    let person = managed_person(&st, &actor, id, Permission::ManageUsers).await?;
    let login = body.value.login.trim().to_lowercase();
    if login.is_empty()
        || login.chars().count() > 100
        || !login
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@".contains(c))
    {
        return Err(ApiError::unprocessable(
            "invalid_login",
            "a login of 1–100 letters, digits, - _ . @ is required",
        ));
    }
    check_password(&st, &body.value.password)?;
    if st
        .store
        .account_by_login(&login)
        .await?
        .is_some_and(|a| a.person_id != person.id)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "login_taken",
            "this login is already taken",
        ));
    }
    let pw = body.value.password.clone();
    let hash = blocking(move || hash_password(&pw)).await??;
    let now = fmt_ts(st.clock.now());
    let rows = vec![
        Row::Sql(
            Stmt::new(
                "INSERT INTO accounts (person_id, login, password_hash, disabled, password_changed_at, created_at) VALUES (?, ?, ?, FALSE, ?, ?) \
                 ON CONFLICT (person_id) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash, password_changed_at = excluded.password_changed_at",
                args![person.id, &login, hash, Val::ts(&now), Val::ts(&now)],
            )
            .on_unique(yingji_store::Conflict::LoginTaken),
        ),
        Row::Sql(Stmt::new(
            "UPDATE sessions SET revoked = TRUE WHERE person_id = ?",
            args![person.id],
        )),
    ];
    person_event(
        &st,
        &actor.as_ref(),
        &person,
        "account_set",
        &json!({ "login": login }),
        None,
        rows,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/people/{id}/{switch}", tag = "users",
    params(("id" = Uuid, Path), ("switch" = String, Path, description = "disable or enable")), request_body = ReasonRequest,
    responses((status = 204, description = "done; a disabled person's sessions and tokens stop working at once"), (status = 403, body = Object)))]
pub async fn set_disabled(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, switch)): Path<(Uuid, String)>,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let disable = match switch.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(ApiError::not_found("route")),
    };
    let person = managed_person(&st, &actor, id, Permission::ManageUsers).await?;
    if disable && person.id == actor.person_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_disable_self",
            "you cannot disable your own account",
        ));
    }
    let reason = body.value.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(
            ApiError::unprocessable("missing_field", "`reason` is required")
                .details(json!({"field": "reason"})),
        );
    }
    let now = fmt_ts(st.clock.now());
    let mut rows = vec![Row::Sql(Stmt::new(
        "INSERT INTO accounts (person_id, login, password_hash, disabled, password_changed_at, created_at) VALUES (?, ?, NULL, ?, NULL, ?) \
         ON CONFLICT (person_id) DO UPDATE SET disabled = excluded.disabled",
        args![person.id, person.id.to_string(), disable, Val::ts(&now)],
    ))];
    if disable {
        rows.push(Row::Sql(Stmt::new(
            "UPDATE sessions SET revoked = TRUE WHERE person_id = ?",
            args![person.id],
        )));
    }
    let kind = if disable {
        "account_disabled"
    } else {
        "account_enabled"
    };
    person_event(
        &st,
        &actor.as_ref(),
        &person,
        kind,
        &json!({}),
        Some(reason),
        rows,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// A configured role id (duty_officer, commander, group_member, petition_clerk, approver,
    /// plan_author, auditor, administrator by default).
    pub role: String,
    /// The jurisdiction whose subtree the role applies to.
    pub jurisdiction_id: Uuid,
}

#[utoipa::path(get, path = "/api/v1/people/{id}/grants", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, description = "{items}: the person's roles", body = Object)))]
pub async fn list_grants(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let person = managed_person(&st, &actor, id, Permission::ViewDirectory).await?;
    let items: Vec<Value> = st
        .store
        .grants(person.id)
        .await?
        .into_iter()
        .map(|g| json!({ "role": g.role, "jurisdiction_id": g.jurisdiction_id }))
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/grants/{op}", tag = "users",
    params(("id" = Uuid, Path), ("op" = String, Path, description = "add or remove")), request_body = GrantRequest,
    responses((status = 204, description = "done"), (status = 403, body = Object), (status = 422, body = Object)))]
pub async fn change_grant(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, op)): Path<(Uuid, String)>,
    body: JsonBody<GrantRequest>,
) -> Result<Response, ApiError> {
    let add = match op.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(ApiError::not_found("route")),
    };
    let req = body.value;
    let person = managed_person(&st, &actor, id, Permission::ViewDirectory).await?;
    let j = st
        .scoped_jurisdiction(&actor, req.jurisdiction_id, "jurisdiction")
        .await?;
    st.require(&actor, Permission::ManageUsers, &j.path, "jurisdiction")?;
    if !st.trust.roles.contains_key(&req.role) {
        return Err(ApiError::unprocessable(
            "unknown_role",
            format!(
                "`{}` is not a role; the roles are {}",
                req.role,
                st.trust
                    .roles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let row = if add {
        Stmt::new(
            "INSERT INTO role_grants (person_id, role, jurisdiction_id, jurisdiction_path, granted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            args![person.id, &req.role, j.id, &j.path, st.clock.now()],
        )
    } else {
        Stmt::new(
            "DELETE FROM role_grants WHERE person_id = ? AND role = ? AND jurisdiction_id = ?",
            args![person.id, &req.role, j.id],
        )
    };
    let kind = if add { "role_granted" } else { "role_revoked" };
    person_event(
        &st,
        &actor.as_ref(),
        &person,
        kind,
        &json!({ "role": req.role, "jurisdiction_id": j.id }),
        None,
        vec![Row::Sql(row)],
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Records that `actor` read an unmasked personal value, with why: an event of its own
/// ("disclosure" stream), committed before the value is returned. Reusable for any subject
/// (people now; petition cases later).
pub async fn log_disclosure(
    st: &AppState,
    actor: &Actor,
    subject_kind: &str,
    subject_id: Uuid,
    jurisdiction_id: Uuid,
    field: &str,
    reason: &str,
) -> Result<(), ApiError> {
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 500 {
        return Err(ApiError::unprocessable(
            "reason_required",
            "revealing personal data needs a reason (2–500 characters)",
        )
        .details(json!({ "field": "reason" })));
    }
    let mut ws = WriteSet::default();
    let id = Uuid::now_v7();
    append(
        &mut ws,
        id,
        "disclosure",
        jurisdiction_id,
        0,
        None,
        &actor.as_ref(),
        st.clock.now(),
        vec![Item::new(
            "personal_data_revealed",
            &json!({ "subject": subject_kind, "subject_id": subject_id, "field": field }),
            Some(reason.to_string()),
        )],
    );
    st.store.commit(ws).await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// `phone`.
    pub field: String,
    /// Why the full value is needed (recorded in the audit log).
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/people/{id}/reveal", tag = "directory", params(("id" = Uuid, Path)), request_body = RevealRequest,
    responses((status = 200, description = "{person_id, field, value}; the read is logged with who and why", body = Object),
              (status = 403, body = Object), (status = 422, description = "reason_required", body = Object)))]
pub async fn reveal(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<RevealRequest>,
) -> Result<axum::Json<Value>, ApiError> {
    let person = managed_person(&st, &actor, id, Permission::RevealPersonalData).await?;
    if body.value.field != "phone" {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "only `phone` can be revealed",
        ));
    }
    let value = match &person.phone {
        None => Value::Null,
        Some(sealed) => json!(crate::directory::open_phone(&st, &person, sealed)?),
    };
    log_disclosure(
        &st,
        &actor,
        "person",
        person.id,
        person.jurisdiction_id,
        "phone",
        &body.value.reason,
    )
    .await?;
    Ok(axum::Json(
        json!({ "person_id": person.id, "field": "phone", "value": value }),
    ))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "{streams, events, broken: [{stream_id, stream_kind, seq, event_id, problem}]}", body = Object), (status = 403, body = Object)))]
pub async fn audit_verify(
    State(st): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, ApiError> {
    st.require(
        &actor,
        Permission::ReadAudit,
        &actor.scope_path.clone(),
        "audit",
    )?;
    let r = st.store.verify().await?;
    Ok(axum::Json(json!({
        "streams": r.streams,
        "events": r.events,
        "broken": r.broken.iter().map(|(id, kind, b)| broken_json(*id, kind, b)).collect::<Vec<_>>(),
    })))
}

pub fn broken_json(stream: Uuid, kind: &str, b: &yingji_domain::audit::Broken) -> Value {
    use yingji_domain::audit::Broken;
    let (seq, event) = match b {
        Broken::HashMismatch {
            event_id,
            stream_seq,
        }
        | Broken::LinkMismatch {
            event_id,
            stream_seq,
        } => (Some(*stream_seq), Some(*event_id)),
        Broken::SeqGap { stream_seq, .. } => (Some(*stream_seq), None),
        Broken::HeadMismatch { .. } => (None, None),
    };
    json!({ "stream_id": stream, "stream_kind": kind, "seq": seq, "event_id": event, "problem": b.to_string() })
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
}
