//! Accounts (issue 7): authenticating a request, password sign-in with failure counting and
//! lockout, sign-out, password change, API tokens, setting a person's sign-in, disabling and
//! enabling, role grants. Every change is a command on the person's stream (one event with
//! its rows, so the audit log and live pages see it); the reads check their permission here.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{KeyInit, OsRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_store::{AccountWrite, PersonRow, Row, WriteSet, fmt_ts};

use crate::actor::token_hash;
use crate::command::{Authorized, Command, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

// ---------------------------------------------------------------------------------------------
// Secrets

/// 32 random bytes as hex.
pub fn random_token() -> String {
    hex::encode(ChaCha20Poly1305::generate_key(&mut OsRng))
}

/// An argon2 hash of a password (deliberately slow: run it off the async threads).
pub fn hash_password(pw: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
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
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)
}

fn check_password(app: &App, pw: &str) -> Result<(), AppError> {
    let n = pw.chars().count();
    if n < app.trust.min_password_length || n > 256 {
        return Err(AppError::new(
            ErrorCode::WeakPassword,
            format!(
                "a password needs {}–256 characters",
                app.trust.min_password_length
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// What a request presents to say who it is.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// An API token, or a person's development token (`Authorization: Bearer …`).
    Bearer(&'a str),
    /// A password session's token (the session cookie). `csrf` is the CSRF token sent with a
    /// request that may change something (None for reads, which need none).
    Session {
        token: &'a str,
        csrf: Option<&'a str>,
    },
}

fn unauthenticated(m: &str) -> AppError {
    AppError::new(ErrorCode::Unauthenticated, m)
}

/// The actor a credential stands for: an unknown token, an ended session, a missing or wrong
/// CSRF token and a disabled account are refused.
pub async fn authenticate(app: &App, cred: Credential<'_>) -> Result<Actor, AppError> {
    match cred {
        Credential::Bearer(token) => Actor::from_token(app, token)
            .await?
            .ok_or_else(|| unauthenticated("the token is not known")),
        Credential::Session { token, csrf } => {
            let h = token_hash(token);
            let s = app
                .store
                .session(&h)
                .await?
                .filter(|s| s.expires_ms > app.clock.now().as_millisecond())
                .ok_or_else(|| unauthenticated("the session has ended; sign in again"))?;
            // Anything that may change state needs the session's CSRF token as well: a
            // cross-site form can send the cookie (SameSite aside) but cannot read the token.
            if let Some(sent) = csrf
                && (sent.is_empty() || token_hash(sent) != s.csrf_hash)
            {
                return Err(AppError::new(
                    ErrorCode::CsrfFailed,
                    "send the session's CSRF token in the X-CSRF-Token header",
                ));
            }
            Actor::load(app, s.person_id, Some(h)).await
        }
    }
}

/// The login of a person's password sign-in, when they have one (the console's sign-in page
/// offers it for the demo people).
pub async fn password_login(app: &App, person_id: Uuid) -> Result<Option<String>, AppError> {
    Ok(app
        .store
        .account(person_id)
        .await?
        .filter(|a| a.password_hash.is_some())
        .map(|a| a.login))
}

// ---------------------------------------------------------------------------------------------
// The person's stream

/// A write set with one event appended to a person's stream (from its current head) and
/// `rows`. A concurrent write to the stream makes the commit a retryable conflict; the
/// command runner then runs the command again on fresh state.
pub(crate) async fn person_event(
    app: &App,
    actor: &ActorRef,
    person: &PersonRow,
    kind: &str,
    payload: &Value,
    reason: Option<String>,
    rows: Vec<Row>,
) -> Result<WriteSet, AppError> {
    let head = app.store.stream_head(person.id).await?;
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
        app.clock.now(),
        vec![Item::new(kind, payload, reason)],
    );
    ws.rows.extend(rows);
    Ok(ws)
}

/// The person an actor's own command is about (their own account), with the proof that a
/// person may act on their own account.
async fn own_person(app: &App, actor: &Actor) -> Result<(PersonRow, Authorized), AppError> {
    let person = app
        .store
        .person(actor.person_id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    let auth = app.authorize_own(actor, &actor.scope_path);
    Ok((person, auth))
}

/// A person the actor may manage: visible (else 404) and `p` allowed in their jurisdiction
/// (else 403).
pub(crate) async fn managed_person(
    app: &App,
    actor: &Actor,
    id: Uuid,
    p: Permission,
) -> Result<(PersonRow, Authorized), AppError> {
    let person = app
        .store
        .person(id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    let j = app
        .store
        .jurisdiction(person.jurisdiction_id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    let auth = app.authorize(actor, p, &j.path, "person")?;
    Ok((person, auth))
}

/// What commands that answer nothing (HTTP 204) answer, should anything ask.
fn no_body() -> JsonText {
    JsonText("{}".into())
}

// ---------------------------------------------------------------------------------------------
// Sign-in

/// `POST /session`, and the console's sign-in form.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub login: String,
    pub password: String,
}

/// A role held in a jurisdiction's subtree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleRef {
    pub role: String,
    pub jurisdiction_id: Uuid,
}

/// A jurisdiction as the signed-in actor's summary names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JurisdictionBrief {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

/// Who signed in: their jurisdiction, roles and the permissions they hold there.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedInActor {
    pub person_id: Uuid,
    pub name: String,
    pub jurisdiction: JurisdictionBrief,
    pub roles: Vec<RoleRef>,
    pub permissions: Vec<String>,
}

/// What `POST /session` answers (the session itself travels in the HttpOnly cookie).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignInResponse {
    pub actor: SignedInActor,
    /// Send it in `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    pub expires_at: String,
}

/// The roles an actor holds, as the API lists them.
pub fn roles_of(actor: &Actor) -> Vec<RoleRef> {
    actor
        .grants
        .iter()
        .map(|g| RoleRef {
            role: g.role.clone(),
            jurisdiction_id: g.jurisdiction_id,
        })
        .collect()
}

/// A new password session: its token (for the cookie, never stored in clear) and the answer.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub expires_ms: i64,
    pub response: SignInResponse,
}

/// What one sign-in attempt decided: a session, or a refusal whose failure is recorded (the
/// lockout counts it), so the refusal is written before it is answered.
#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn(NewSession),
    Refused(AppError),
}

impl SignInOutcome {
    /// The answer of a sign-in command (the API's JSON).
    fn answer(&self) -> JsonText {
        match self {
            SignInOutcome::SignedIn(s) => {
                JsonText(serde_json::to_string(&s.response).expect("serialises"))
            }
            SignInOutcome::Refused(e) => JsonText::from(e.body()),
        }
    }

    /// The session a sign-in opened, or why not (a sign-in is never replayed).
    fn session(out: Option<SignInOutcome>) -> Result<NewSession, AppError> {
        match out {
            Some(SignInOutcome::SignedIn(s)) => Ok(s),
            Some(SignInOutcome::Refused(e)) => Err(e),
            None => Err(AppError::internal("a sign-in was replayed")),
        }
    }
}

/// Password sign-in: argon2, failures counted per login, lockout after `max_failures` within
/// the window (even the right password is refused then), disabled accounts refused; a session
/// row and a `signed_in` event on success. Run as yingji itself ([`sign_in`]): the password
/// is what proves who is asking.
pub struct SignIn(pub SignInRequest);

impl Command for SignIn {
    type Output = SignInOutcome;

    fn kind(&self) -> &'static str {
        "account.sign-in"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<SignInOutcome>, AppError> {
        let req = &self.0;
        let login = req.login.trim().to_lowercase();
        if login.is_empty() || login.chars().count() > 100 || req.password.len() > 1024 {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "login (1–100 characters) and password are required",
            ));
        }
        let now = app.clock.now();
        let now_ms = now.as_millisecond();
        let cfg = app.trust.clone();
        if let Some(last) = app.store.last_sign_in_failure(&login).await?
            && now_ms < last + cfg.lockout_seconds * 1000
        {
            let n = app
                .store
                .sign_in_failures(&login, last - cfg.failure_window_seconds * 1000)
                .await?;
            if n >= cfg.max_failures {
                let retry = (last + cfg.lockout_seconds * 1000 - now_ms).div_euclid(1000) + 1;
                return Err(AppError::new(
                    ErrorCode::SignInLocked,
                    format!("too many wrong passwords; retry in {retry} s"),
                )
                .details(json!({ "retry_after_s": retry })));
            }
        }
        let account = app.store.account_by_login(&login).await?;
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
            ws.rows.push(Row::Account(AccountWrite::SignInFailure {
                id: Uuid::now_v7(),
                login,
                at_ms: now_ms,
            }));
            let refused = AppError::new(ErrorCode::InvalidCredentials, "wrong login or password");
            return Ok(Decided::new(
                app.authorize_own(actor, "/"),
                ws,
                SignInOutcome::Refused(refused),
            ));
        };
        if account.disabled {
            return Err(AppError::new(
                ErrorCode::AccountDisabled,
                "this account has been disabled",
            ));
        }
        let rows = vec![Row::Account(AccountWrite::ClearSignInFailures {
            login: login.clone(),
            older_than_ms: now_ms - 86_400_000,
        })];
        open_session(
            app,
            account.person_id,
            json!({ "login": login, "via": "password" }),
            rows,
        )
        .await
    }

    fn respond(&self, out: &SignInOutcome) -> JsonText {
        out.answer()
    }
}

/// A new session for a person whose credential checked out: the session row (token and CSRF
/// token stored hashed), a `signed_in` event saying how (`via`), and the answer.
async fn open_session(
    app: &App,
    person_id: Uuid,
    via: serde_json::Value,
    mut rows: Vec<Row>,
) -> Result<Decided<SignInOutcome>, AppError> {
    let now = app.clock.now();
    let now_ms = now.as_millisecond();
    let person = app
        .store
        .person(person_id)
        .await?
        .ok_or_else(|| AppError::internal("account without person"))?;
    let signed_in = Actor::load(app, person.id, None).await?;
    let j = app
        .store
        .jurisdiction(signed_in.jurisdiction_id)
        .await?
        .ok_or_else(|| AppError::not_found("jurisdiction"))?;
    let auth = app.authorize_own(&signed_in, &j.path);
    let token = random_token();
    let csrf = random_token();
    let expires_ms = now_ms + app.trust.session_hours * 3_600_000;
    rows.insert(
        0,
        Row::Account(AccountWrite::Session {
            token_hash: token_hash(&token),
            person_id: person.id,
            csrf_hash: token_hash(&csrf),
            created_at: fmt_ts(now),
            expires_ms,
        }),
    );
    let ws = person_event(
        app,
        &signed_in.as_ref(),
        &person,
        "signed_in",
        &via,
        None,
        rows,
    )
    .await?;
    let expires_at =
        fmt_ts(jiff::Timestamp::from_millisecond(expires_ms).map_err(AppError::internal)?);
    let response = SignInResponse {
        actor: SignedInActor {
            person_id: signed_in.person_id,
            name: signed_in.name.clone(),
            jurisdiction: JurisdictionBrief {
                id: j.id,
                name: j.name,
                kind: j.kind,
            },
            roles: roles_of(&signed_in),
            permissions: app.permissions_at(&signed_in, &signed_in.scope_path),
        },
        csrf_token: csrf,
        expires_at,
    };
    Ok(Decided::new(
        auth,
        ws,
        SignInOutcome::SignedIn(NewSession {
            token,
            expires_ms,
            response,
        }),
    ))
}

/// The console's token sign-in (the demo tokens, a person's API token): the token proves who
/// is asking once, and the browser gets a session like a password sign-in's — never the token
/// itself in a cookie — which sign-out revokes and which expires.
pub struct TokenSignIn(pub String);

impl Command for TokenSignIn {
    type Output = SignInOutcome;

    fn kind(&self) -> &'static str {
        "account.token-sign-in"
    }

    async fn run(&self, app: &App, _actor: &Actor) -> Result<Decided<SignInOutcome>, AppError> {
        let Some(who) = Actor::from_token(app, &self.0).await? else {
            return Err(AppError::new(
                ErrorCode::Unauthenticated,
                "the token is not known",
            ));
        };
        open_session(app, who.person_id, json!({ "via": "token" }), Vec::new()).await
    }

    fn respond(&self, out: &SignInOutcome) -> JsonText {
        out.answer()
    }
}

/// Signs in with a token (the console's token form): a new session, or why not.
pub async fn sign_in_with_token(app: &App, token: &str) -> Result<NewSession, AppError> {
    let out = app
        .execute(&Actor::system(), None, &TokenSignIn(token.to_string()))
        .await?;
    SignInOutcome::session(out.output())
}

/// Signs in with a login and password (the API and the console): the session, or why not.
/// A wrong password is recorded before it is answered.
pub async fn sign_in(app: &App, req: SignInRequest) -> Result<NewSession, AppError> {
    let login = req.login.trim().to_lowercase();
    let _turn = app.sign_in_turn(&login).await;
    let out = app.execute(&Actor::system(), None, &SignIn(req)).await?;
    SignInOutcome::session(out.output())
}

/// Ends the actor's password session (nothing to do for a token).
pub struct SignOut;

impl Command for SignOut {
    type Output = ();

    fn kind(&self) -> &'static str {
        "account.sign-out"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<()>, AppError> {
        let (person, auth) = own_person(app, actor).await?;
        let Some(h) = &actor.session else {
            return Ok(Decided::nothing(auth, ()));
        };
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            "signed_out",
            &json!({}),
            None,
            vec![Row::Account(AccountWrite::RevokeSession {
                token_hash: h.clone(),
            })],
        )
        .await?;
        Ok(Decided::new(auth, ws, ()))
    }

    fn respond(&self, _: &()) -> JsonText {
        no_body()
    }
}

// ---------------------------------------------------------------------------------------------
// The actor's own password and tokens

/// `POST /me/password`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the actor's own password; every other session of theirs is signed out.
pub struct ChangePassword(pub ChangePasswordRequest);

impl Command for ChangePassword {
    type Output = ();

    fn kind(&self) -> &'static str {
        "account.password"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<()>, AppError> {
        let req = &self.0;
        let account = app
            .store
            .account(actor.person_id)
            .await?
            .filter(|a| a.password_hash.is_some())
            .ok_or_else(|| AppError::not_found("password sign-in for this person"))?;
        let stored = account.password_hash.clone().unwrap_or_default();
        let cur = req.current_password.clone();
        if !blocking(move || verify_password(&cur, &stored)).await? {
            return Err(AppError::new(
                ErrorCode::WrongPassword,
                "the current password is wrong",
            ));
        }
        check_password(app, &req.new_password)?;
        let new = req.new_password.clone();
        let hash = blocking(move || hash_password(&new)).await??;
        let (person, auth) = own_person(app, actor).await?;
        let rows = vec![
            Row::Account(AccountWrite::Password {
                person_id: actor.person_id,
                password_hash: hash,
                at: fmt_ts(app.clock.now()),
            }),
            Row::Account(AccountWrite::RevokeOtherSessions {
                person_id: actor.person_id,
                keep_token_hash: actor.session.clone().unwrap_or_default(),
            }),
        ];
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            "password_changed",
            &json!({}),
            None,
            rows,
        )
        .await?;
        Ok(Decided::new(auth, ws, ()))
    }

    fn respond(&self, _: &()) -> JsonText {
        no_body()
    }
}

/// `POST /me/tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for (an integration's name).
    pub name: String,
}

/// A new API token: the secret is shown only in this answer (never stored in clear, never
/// kept as an idempotent answer).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewTokenResponse {
    pub id: Uuid,
    pub name: String,
    pub token: String,
    pub created_at: String,
}

/// Creates an API token for the actor themselves.
pub struct CreateToken(pub NewTokenRequest);

impl Command for CreateToken {
    type Output = NewTokenResponse;

    fn kind(&self) -> &'static str {
        "token.create"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<NewTokenResponse>, AppError> {
        let name = self.0.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::new(
                ErrorCode::InvalidName,
                "a name of 1–100 characters is required",
            ));
        }
        let (person, auth) = own_person(app, actor).await?;
        let id = Uuid::now_v7();
        let token = format!("yj_{}", random_token());
        let created_at = fmt_ts(app.clock.now());
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            "api_token_created",
            &json!({ "id": id, "name": name }),
            None,
            vec![Row::Account(AccountWrite::ApiToken {
                id,
                person_id: person.id,
                name: name.clone(),
                token_hash: token_hash(&token),
                created_at: created_at.clone(),
            })],
        )
        .await?;
        Ok(Decided::new(
            auth,
            ws,
            NewTokenResponse {
                id,
                name,
                token,
                created_at,
            },
        ))
    }

    fn respond(&self, out: &NewTokenResponse) -> JsonText {
        JsonText(serde_json::to_string(out).expect("serialises"))
    }
}

/// Revokes one of the actor's own API tokens (someone else's is "not found").
pub struct RevokeToken(pub Uuid);

impl Command for RevokeToken {
    type Output = ();

    fn kind(&self) -> &'static str {
        "token.revoke"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<()>, AppError> {
        let id = self.0;
        let tokens = app.store.api_tokens(actor.person_id).await?;
        let t = tokens
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| AppError::not_found("token"))?;
        let (person, auth) = own_person(app, actor).await?;
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            "api_token_revoked",
            &json!({ "id": id, "name": t.name }),
            None,
            vec![Row::Account(AccountWrite::RevokeApiToken {
                id,
                person_id: actor.person_id,
            })],
        )
        .await?;
        Ok(Decided::new(auth, ws, ()))
    }

    fn respond(&self, _: &()) -> JsonText {
        no_body()
    }
}

/// One of the actor's API tokens, without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenItem {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub revoked: bool,
}

/// What `GET /me/tokens` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenItem>,
}

/// The actor's own API tokens.
pub async fn tokens(app: &App, actor: &Actor) -> Result<TokenList, AppError> {
    let items = app
        .store
        .api_tokens(actor.person_id)
        .await?
        .into_iter()
        .map(|t| TokenItem {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            revoked: t.revoked,
        })
        .collect();
    Ok(TokenList { items })
}

// ---------------------------------------------------------------------------------------------
// Managing people's sign-in and roles

/// `POST /people/{id}/account`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAccountRequest {
    pub login: String,
    pub password: String,
}

/// Gives a person a password sign-in (or a new login and password); their sessions end.
/// Needs `manage_users` in the person's jurisdiction.
pub struct SetAccount {
    pub person_id: Uuid,
    pub req: SetAccountRequest,
    /// The demo's accounts share the documented demo password, hashed once per process.
    demo: bool,
}

impl SetAccount {
    pub fn new(person_id: Uuid, req: SetAccountRequest) -> Self {
        SetAccount {
            person_id,
            req,
            demo: false,
        }
    }

    /// A sign-in with the documented demo password (demo data only).
    pub fn demo(person_id: Uuid, login: &str) -> Self {
        SetAccount {
            person_id,
            req: SetAccountRequest {
                login: login.into(),
                password: DEMO_PASSWORD.into(),
            },
            demo: true,
        }
    }
}

impl Command for SetAccount {
    type Output = ();

    fn kind(&self) -> &'static str {
        "account.set"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<()>, AppError> {
        let (person, auth) =
            managed_person(app, actor, self.person_id, Permission::ManageUsers).await?;
        let login = self.req.login.trim().to_lowercase();
        if login.is_empty()
            || login.chars().count() > 100
            || !login
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.@".contains(c))
        {
            return Err(AppError::new(
                ErrorCode::InvalidLogin,
                "a login of 1–100 letters, digits, - _ . @ is required",
            ));
        }
        check_password(app, &self.req.password)?;
        if app
            .store
            .account_by_login(&login)
            .await?
            .is_some_and(|a| a.person_id != person.id)
        {
            return Err(AppError::new(
                ErrorCode::LoginTaken,
                "this login is already taken",
            ));
        }
        let hash = if self.demo {
            demo_password_hash()
        } else {
            let pw = self.req.password.clone();
            blocking(move || hash_password(&pw)).await??
        };
        let rows = vec![
            Row::Account(AccountWrite::Account {
                person_id: person.id,
                login: login.clone(),
                password_hash: hash,
                at: fmt_ts(app.clock.now()),
            }),
            Row::Account(AccountWrite::RevokeSessions {
                person_id: person.id,
            }),
        ];
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            "account_set",
            &json!({ "login": login }),
            None,
            rows,
        )
        .await?;
        Ok(Decided::new(auth, ws, ()))
    }

    fn respond(&self, _: &()) -> JsonText {
        no_body()
    }
}

/// `POST /people/{id}/disable` and `/enable`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Disables or enables a person: a disabled person's sessions and tokens stop working at
/// once. Needs `manage_users` in the person's jurisdiction and a reason; no one disables
/// themselves.
pub struct SetDisabled {
    pub person_id: Uuid,
    pub disable: bool,
    pub reason: String,
}

impl SetDisabled {
    /// `disable` or `enable`; anything else is "not found".
    pub fn parse(person_id: Uuid, switch: &str, req: ReasonRequest) -> Result<Self, AppError> {
        let disable = match switch {
            "disable" => true,
            "enable" => false,
            _ => return Err(AppError::not_found("route")),
        };
        Ok(SetDisabled {
            person_id,
            disable,
            reason: req.reason,
        })
    }
}

impl Command for SetDisabled {
    type Output = ();

    fn kind(&self) -> &'static str {
        if self.disable {
            "account.disable"
        } else {
            "account.enable"
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<()>, AppError> {
        let (person, auth) =
            managed_person(app, actor, self.person_id, Permission::ManageUsers).await?;
        if self.disable && person.id == actor.person_id {
            return Err(AppError::new(
                ErrorCode::CannotDisableSelf,
                "you cannot disable your own account",
            ));
        }
        let reason = self.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(AppError::missing("reason"));
        }
        let mut rows = vec![Row::Account(AccountWrite::Disabled {
            person_id: person.id,
            disabled: self.disable,
            at: fmt_ts(app.clock.now()),
        })];
        if self.disable {
            rows.push(Row::Account(AccountWrite::RevokeSessions {
                person_id: person.id,
            }));
        }
        let kind = if self.disable {
            "account_disabled"
        } else {
            "account_enabled"
        };
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            kind,
            &json!({}),
            Some(reason),
            rows,
        )
        .await?;
        Ok(Decided::new(auth, ws, ()))
    }

    fn respond(&self, _: &()) -> JsonText {
        no_body()
    }
}

/// `POST /people/{id}/grants/add` and `/remove`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// A configured role id (duty_officer, commander, group_member, petition_clerk, approver,
    /// plan_author, auditor, administrator by default).
    pub role: String,
    /// The jurisdiction whose subtree the role applies to.
    pub jurisdiction_id: Uuid,
}

/// Grants or takes back a role in a jurisdiction's subtree: the person must be visible to the
/// actor (`view_directory`), and the actor needs `manage_users` in that jurisdiction.
pub struct ChangeGrant {
    pub person_id: Uuid,
    pub add: bool,
    pub req: GrantRequest,
}

impl ChangeGrant {
    pub fn grant(person_id: Uuid, role: &str, jurisdiction_id: Uuid) -> Self {
        ChangeGrant {
            person_id,
            add: true,
            req: GrantRequest {
                role: role.into(),
                jurisdiction_id,
            },
        }
    }

    /// `add` or `remove`; anything else is "not found".
    pub fn parse(person_id: Uuid, op: &str, req: GrantRequest) -> Result<Self, AppError> {
        let add = match op {
            "add" => true,
            "remove" => false,
            _ => return Err(AppError::not_found("route")),
        };
        Ok(ChangeGrant {
            person_id,
            add,
            req,
        })
    }
}

impl Command for ChangeGrant {
    type Output = ();

    fn kind(&self) -> &'static str {
        if self.add {
            "grant.add"
        } else {
            "grant.remove"
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<()>, AppError> {
        let req = &self.req;
        let (person, _) =
            managed_person(app, actor, self.person_id, Permission::ViewDirectory).await?;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::ManageUsers, &j.path, "jurisdiction")?;
        if !app.trust.roles.contains_key(&req.role) {
            return Err(AppError::new(
                ErrorCode::UnknownRole,
                format!(
                    "`{}` is not a role; the roles are {}",
                    req.role,
                    app.trust
                        .roles
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let row = if self.add {
            AccountWrite::Grant {
                person_id: person.id,
                role: req.role.clone(),
                jurisdiction_id: j.id,
                jurisdiction_path: j.path.clone(),
                granted_at: fmt_ts(app.clock.now()),
            }
        } else {
            AccountWrite::RevokeGrant {
                person_id: person.id,
                role: req.role.clone(),
                jurisdiction_id: j.id,
            }
        };
        let kind = if self.add {
            "role_granted"
        } else {
            "role_revoked"
        };
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            kind,
            &json!({ "role": req.role, "jurisdiction_id": j.id }),
            None,
            vec![Row::Account(row)],
        )
        .await?;
        Ok(Decided::new(auth, ws, ()))
    }

    fn respond(&self, _: &()) -> JsonText {
        no_body()
    }
}

/// What `GET /people/{id}/grants` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantList {
    pub items: Vec<RoleRef>,
}

/// A person's roles, for someone who may see the person (`view_directory`).
pub async fn grants(app: &App, actor: &Actor, person_id: Uuid) -> Result<GrantList, AppError> {
    let (person, _) = managed_person(app, actor, person_id, Permission::ViewDirectory).await?;
    let items = app
        .store
        .grants(person.id)
        .await?
        .into_iter()
        .map(|g| RoleRef {
            role: g.role,
            jurisdiction_id: g.jurisdiction_id,
        })
        .collect();
    Ok(GrantList { items })
}
