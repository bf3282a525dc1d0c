//! Who is asking: a person with their jurisdiction (the scope of what they may see) and the
//! roles they hold per jurisdiction subtree. Adapters authenticate (an API token, a session
//! cookie, a CLI operator) and then load the actor here; the application checks every command
//! against it.

use sha2::{Digest, Sha256};
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::error::ErrorCode;
use yingji_domain::policy::{self, Permission};
use yingji_store::GrantRow;

use crate::{App, AppError};

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
    /// The hash of the bearer token, when the actor presented one (an API token or a
    /// development token): what [`Actor::still_valid`] checks again for a long stream.
    pub token: Option<String>,
    /// yingji itself (the ticker, operator commands): sees and may do everything.
    system: bool,
}

/// The SHA-256 of a bearer credential, as stored.
pub fn token_hash(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    format!("{:x}", h.finalize())
}

impl Actor {
    /// yingji itself, for what the server records on its own (what falls due, operator
    /// commands run on the server's machine).
    pub fn system() -> Actor {
        let r = crate::system_actor();
        Actor {
            person_id: r.person_id,
            name: r.name,
            jurisdiction_id: Uuid::nil(),
            scope_path: "/".into(),
            grants: Vec::new(),
            session: None,
            token: None,
            system: true,
        }
    }

    pub fn is_system(&self) -> bool {
        self.system
    }

    pub fn as_ref(&self) -> ActorRef {
        ActorRef {
            person_id: self.person_id,
            name: self.name.clone(),
        }
    }

    /// Whether a record in the jurisdiction with this path is visible to the actor.
    pub fn sees(&self, path: &str) -> bool {
        self.system || policy::in_scope(&self.scope_path, path)
    }

    /// Whether one of the actor's roles allows `p` in the jurisdiction with this path.
    pub fn may(&self, app: &App, p: Permission, path: &str) -> bool {
        self.system
            || policy::allows(
                &app.trust.roles,
                self.grants
                    .iter()
                    .map(|g| (g.role.as_str(), g.jurisdiction_path.as_str())),
                p,
                path,
            )
    }

    /// The one place a bearer credential (an API token or a person's development token)
    /// becomes an actor.
    pub async fn from_token(app: &App, token: &str) -> Result<Option<Actor>, AppError> {
        Actor::from_token_hash(app, &token_hash(token)).await
    }

    /// Whether the credential this actor came with still stands: the session is live (not
    /// signed out, revoked or expired), the token is still known, and the account is not
    /// disabled. Long-lived answers (the live streams) ask this again as they run, so a
    /// sign-out or a disabling ends them.
    pub async fn still_valid(&self, app: &App) -> bool {
        if self.system {
            return true;
        }
        let again = if let Some(h) = &self.session {
            Actor::from_session(app, h).await
        } else if let Some(h) = &self.token {
            Actor::from_token_hash(app, h).await
        } else {
            return false;
        };
        matches!(again, Ok(Some(a)) if a.person_id == self.person_id)
    }

    async fn from_token_hash(app: &App, h: &str) -> Result<Option<Actor>, AppError> {
        let id = match app.store.api_token_person(h).await? {
            Some(id) => id,
            None => match app.store.person_by_token(h).await? {
                Some(p) => p.id,
                None => return Ok(None),
            },
        };
        let mut a = Actor::load(app, id, None).await?;
        a.token = Some(h.to_string());
        Ok(Some(a))
    }

    /// The actor of a live (not revoked, not expired) password session, by the session
    /// token's hash.
    pub async fn from_session(app: &App, hash: &str) -> Result<Option<Actor>, AppError> {
        let Some(s) = app
            .store
            .session(hash)
            .await?
            .filter(|s| s.expires_ms > app.clock.now().as_millisecond())
        else {
            return Ok(None);
        };
        Actor::load(app, s.person_id, Some(hash.to_string()))
            .await
            .map(Some)
    }

    /// The actor for a person: refused if the account is disabled; with their grants.
    pub async fn load(
        app: &App,
        person_id: Uuid,
        session: Option<String>,
    ) -> Result<Actor, AppError> {
        if app
            .store
            .account(person_id)
            .await?
            .is_some_and(|a| a.disabled)
        {
            return Err(AppError::new(
                ErrorCode::AccountDisabled,
                "this account has been disabled",
            ));
        }
        let person = app.store.person(person_id).await?.ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "the account no longer exists")
        })?;
        let j = app
            .store
            .jurisdiction(person.jurisdiction_id)
            .await?
            .ok_or_else(|| AppError::internal("a person's jurisdiction is missing"))?;
        let grants = app.store.grants(person.id).await?;
        Ok(Actor {
            person_id: person.id,
            name: person.name,
            jurisdiction_id: j.id,
            scope_path: j.path,
            grants,
            session,
            token: None,
            system: false,
        })
    }
}

impl App {
    /// The one permission check: a jurisdiction outside the actor's subtree is "not found"
    /// (its existence does not leak); inside it, no role allowing `p` there is "forbidden".
    pub fn require(
        &self,
        actor: &Actor,
        p: Permission,
        jurisdiction_path: &str,
        what: &str,
    ) -> Result<(), AppError> {
        if !actor.sees(jurisdiction_path) {
            return Err(AppError::not_found(what));
        }
        if actor.may(self, p, jurisdiction_path) {
            Ok(())
        } else {
            Err(AppError::forbidden(p))
        }
    }

    /// The permissions an actor holds in a jurisdiction (for `GET /me`).
    pub fn permissions_at(&self, actor: &Actor, path: &str) -> Vec<String> {
        Permission::ALL
            .iter()
            .filter(|p| actor.may(self, **p, path))
            .map(|p| p.id())
            .collect()
    }
}
