//! Who is asking. Every request carries an actor: a bearer token that names a person, whose
//! jurisdiction bounds what they may see (their subtree). Tokens are stored as SHA-256 hashes.
//! Sign-in with passwords, sessions and roles build on this (see docs/ARCHITECTURE.md).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yingji_domain::ActorRef;

use crate::AppState;
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Actor {
    pub person_id: Uuid,
    pub name: String,
    pub jurisdiction_id: Uuid,
    /// The path of the actor's jurisdiction: everything below it is in scope.
    pub scope_path: String,
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
}

pub fn token_hash(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    format!("{:x}", h.finalize())
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauth = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauth("send `Authorization: Bearer <token>`"))?
            .to_str()
            .map_err(|_| unauth("the Authorization header is not valid text"))?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauth("send `Authorization: Bearer <token>`"))?;
        Actor::from_token(state, token)
            .await?
            .ok_or_else(|| unauth("the token is not known"))
    }
}

impl Actor {
    /// The one place a credential becomes an actor: the API's bearer token and the console's
    /// session cookie both come here (password sign-in will issue such tokens).
    pub async fn from_token(state: &AppState, token: &str) -> Result<Option<Actor>, ApiError> {
        let Some(person) = state.store.person_by_token(&token_hash(token)).await? else {
            return Ok(None);
        };
        let j = state
            .store
            .jurisdiction(person.jurisdiction_id)
            .await?
            .ok_or_else(|| ApiError::internal("a person's jurisdiction is missing"))?;
        Ok(Some(Actor {
            person_id: person.id,
            name: person.name,
            jurisdiction_id: j.id,
            scope_path: j.path,
        }))
    }
}
