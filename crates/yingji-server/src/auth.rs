//! Who is asking. Every request carries an actor, authenticated (by the application,
//! `yingji_app::accounts::authenticate`) from one of:
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
use axum::http::Method;
use axum::http::request::Parts;
use uuid::Uuid;
use yingji_app::ErrorCode;
use yingji_app::accounts::{Credential, authenticate};

use crate::AppState;
use crate::error::ApiError;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "yingji_session";

/// The authenticated actor of an HTTP request (the application's [`yingji_app::Actor`]).
#[derive(Debug, Clone)]
pub struct Actor(pub yingji_app::Actor);

impl std::ops::Deref for Actor {
    type Target = yingji_app::Actor;
    fn deref(&self) -> &yingji_app::Actor {
        &self.0
    }
}

pub use yingji_app::actor::token_hash;

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
    ApiError::new(ErrorCode::Unauthenticated, m)
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let cred = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => {
                let header = header
                    .to_str()
                    .map_err(|_| unauth("the Authorization header is not valid text"))?;
                let token = header
                    .strip_prefix("Bearer ")
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| unauth("send `Authorization: Bearer <token>`"))?;
                Credential::Bearer(token)
            }
            None => {
                let token = cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()).ok_or_else(
                    || unauth("sign in (POST /api/v1/session) or send `Authorization: Bearer <token>`"),
                )?;
                // Anything that may change state needs the session's CSRF token as well.
                let csrf = (!matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS))
                    .then(|| {
                        parts
                            .headers
                            .get("x-csrf-token")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                    });
                Credential::Session { token, csrf }
            }
        };
        Ok(Actor(authenticate(state, cred).await?))
    }
}

impl Actor {
    /// The one place a bearer credential (an API token or a person's development token) becomes
    /// an actor; the console's token sign-in comes here too.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Option<Actor>, ApiError> {
        Ok(yingji_app::Actor::from_token(state, token)
            .await?
            .map(Actor))
    }

    /// The actor of a live password session, by the session token's hash.
    pub async fn from_session(state: &AppState, hash: &str) -> Result<Option<Actor>, ApiError> {
        Ok(yingji_app::Actor::from_session(state, hash)
            .await?
            .map(Actor))
    }

    /// The actor for a person: refused if the account is disabled; with their grants.
    pub async fn load(
        state: &AppState,
        person_id: Uuid,
        session: Option<String>,
    ) -> Result<Actor, ApiError> {
        Ok(Actor(
            yingji_app::Actor::load(state, person_id, session).await?,
        ))
    }
}
