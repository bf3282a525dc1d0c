//! Who is asking. Every request carries an actor, authenticated by one of:
//! - `Authorization: Bearer <token>`: an API token (created via `POST /api/v1/me/tokens`, stored
//!   as a SHA-256 hash; the demo tokens are API tokens too);
//! - the `yingji_session` cookie set by `POST /api/v1/session` (HttpOnly, SameSite=Strict),
//!   stored hashed; requests that change anything must also send the session's CSRF token in
//!   `X-CSRF-Token`.
//!
//! A disabled account is refused at once, whatever it authenticates with. The actor's
//! jurisdiction bounds what they may see (their subtree: anything else is 404); the roles they
//! hold per jurisdiction subtree decide what they may do there (see `trust.rs`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_store::GrantRow;

use crate::AppState;
use crate::error::ApiError;
use crate::trust::Permission;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "yingji_session";

#[derive(Debug, Clone)]
pub struct Actor {
    pub person_id: Uuid,
    pub name: String,
    pub jurisdiction_id: Uuid,
    /// The path of the actor's jurisdiction: everything below it is in scope.
    pub scope_path: String,
    /// The roles the actor holds, each in a jurisdiction subtree.
    pub grants: Vec<GrantRow>,
    /// The hash of the session token, when the actor signed in with a session cookie.
    pub session: Option<String>,
}

impl Actor {
    pub fn as_ref(&self) -> ActorRef {
        ActorRef {
            person_id: self.person_id,
            name: self.name.clone(),
        }
    }

    /// Whether a record in the jurisdiction with this path is visible to the actor.
    pub fn sees(&self, path: &str) -> bool {
        path.starts_with(&self.scope_path)
    }

    /// Whether one of the actor's roles allows `p` in the jurisdiction with this path.
    pub fn may(&self, state: &AppState, p: Permission, path: &str) -> bool {
        self.grants
            .iter()
            .any(|g| path.starts_with(&g.jurisdiction_path) && state.trust.role_allows(&g.role, p))
    }
}

pub fn token_hash(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    format!("{:x}", h.finalize())
}

/// The value of one cookie in the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn unauth(m: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m)
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (person_id, session) = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => {
                let header = header
                    .to_str()
                    .map_err(|_| unauth("the Authorization header is not valid text"))?;
                let token = header
                    .strip_prefix("Bearer ")
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| unauth("send `Authorization: Bearer <token>`"))?;
                let h = token_hash(token);
                let id = match state.store.api_token_person(&h).await? {
                    Some(id) => id,
                    None => {
                        state
                            .store
                            .person_by_token(&h)
                            .await?
                            .ok_or_else(|| unauth("the token is not known"))?
                            .id
                    }
                };
                (id, None)
            }
            None => {
                let token = cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()).ok_or_else(
                    || unauth("sign in (POST /api/v1/session) or send `Authorization: Bearer <token>`"),
                )?;
                let h = token_hash(token);
                let s = state
                    .store
                    .session(&h)
                    .await?
                    .filter(|s| s.expires_ms > state.clock.now().as_millisecond())
                    .ok_or_else(|| unauth("the session has ended; sign in again"))?;
                // Anything that may change state needs the session's CSRF token as well: a
                // cross-site form can send the cookie (SameSite aside) but cannot read the token.
                if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                    let sent = parts
                        .headers
                        .get("x-csrf-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if sent.is_empty() || token_hash(sent) != s.csrf_hash {
                        return Err(ApiError::new(
                            StatusCode::FORBIDDEN,
                            "csrf_failed",
                            "send the session's CSRF token in the X-CSRF-Token header",
                        ));
                    }
                }
                (s.person_id, Some(h))
            }
        };
        Actor::load(state, person_id, session).await
    }
}

impl Actor {
    /// The one place a bearer credential (an API token or a person's development token) becomes
    /// an actor; the console's token sign-in comes here too.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Option<Actor>, ApiError> {
        let h = token_hash(token);
        let id = match state.store.api_token_person(&h).await? {
            Some(id) => id,
            None => match state.store.person_by_token(&h).await? {
                Some(p) => p.id,
                None => return Ok(None),
            },
        };
        Actor::load(state, id, None).await.map(Some)
    }

    /// The actor for a person: refused if the account is disabled; with their grants.
    pub async fn load(
        state: &AppState,
        person_id: Uuid,
        session: Option<String>,
    ) -> Result<Actor, ApiError> {
        if state
            .store
            .account(person_id)
            .await?
            .is_some_and(|a| a.disabled)
        {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "account_disabled",
                "this account has been disabled",
            ));
        }
        let person = state
            .store
            .person(person_id)
            .await?
            .ok_or_else(|| unauth("the account no longer exists"))?;
        let j = state
            .store
            .jurisdiction(person.jurisdiction_id)
            .await?
            .ok_or_else(|| ApiError::internal("a person's jurisdiction is missing"))?;
        let grants = state.store.grants(person.id).await?;
        Ok(Actor {
            person_id: person.id,
            name: person.name,
            jurisdiction_id: j.id,
            scope_path: j.path,
            grants,
            session,
        })
    }
}
