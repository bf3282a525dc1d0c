//! Reads for sign-in, sessions, API tokens and role grants (issue 7). Writes are typed
//! (`Row::Account(AccountWrite::…)`, in `writes/accounts.rs`).

use sqlx::Row as _;
use uuid::Uuid;

use crate::{Result, Store, parse_uuid};

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub person_id: Uuid,
    pub login: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
}

/// A role held in a jurisdiction's subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub person_id: Uuid,
    pub role: String,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub person_id: Uuid,
    pub csrf_hash: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone)]
pub struct ApiTokenRow {
    pub id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    pub created_at: String,
    pub revoked: bool,
}

fn account_from(r: &sqlx::any::AnyRow) -> Result<AccountRow> {
    Ok(AccountRow {
        person_id: parse_uuid(&r.try_get::<String, _>(0)?)?,
        login: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        disabled: r.try_get::<i64, _>(3)? != 0,
    })
}

impl Store {
    pub async fn account_by_login(&self, login: &str) -> Result<Option<AccountRow>> {
        let row =
            sqlx::query(&self.q(
                "SELECT person_id, login, password_hash, disabled FROM accounts WHERE login = ?",
            ))
            .bind(login.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| account_from(&r)).transpose()
    }

    /// Cached (see `cache.rs`): every authenticated request reads it.
    pub async fn account(&self, person_id: Uuid) -> Result<Option<AccountRow>> {
        self.cached(&self.inner.accounts, person_id, || {
            self.account_uncached(person_id)
        })
        .await
    }

    async fn account_uncached(&self, person_id: Uuid) -> Result<Option<AccountRow>> {
        let row = sqlx::query(&self.q(
            "SELECT person_id, login, password_hash, disabled FROM accounts WHERE person_id = ?",
        ))
        .bind(person_id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| account_from(&r)).transpose()
    }

    /// A live (not revoked) session by the hash of its token.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(&self.q(
            "SELECT person_id, csrf_hash, expires_ms FROM sessions WHERE token_hash = ? AND revoked = 0",
        ))
        .bind(token_hash.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SessionRow {
                person_id: parse_uuid(&r.try_get::<String, _>(0)?)?,
                csrf_hash: r.try_get(1)?,
                expires_ms: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// The person an API token (not revoked) belongs to, by the token's hash.
    /// Cached (see `cache.rs`), including "no such token" (the development tokens of people
    /// are looked up next).
    pub async fn api_token_person(&self, token_hash: &str) -> Result<Option<Uuid>> {
        self.cached(&self.inner.api_tokens, token_hash.to_string(), || {
            self.api_token_person_uncached(token_hash)
        })
        .await
    }

    async fn api_token_person_uncached(&self, token_hash: &str) -> Result<Option<Uuid>> {
        let row = sqlx::query(
            &self.q("SELECT person_id FROM api_tokens WHERE token_hash = ? AND revoked = 0"),
        )
        .bind(token_hash.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| parse_uuid(&r.try_get::<String, _>(0)?))
            .transpose()
    }

    pub async fn api_tokens(&self, person_id: Uuid) -> Result<Vec<ApiTokenRow>> {
        let rows = sqlx::query(&self.q(
            "SELECT id, person_id, name, created_at, revoked FROM api_tokens WHERE person_id = ? ORDER BY id",
        ))
        .bind(person_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenRow {
                    id: parse_uuid(&r.try_get::<String, _>(0)?)?,
                    person_id: parse_uuid(&r.try_get::<String, _>(1)?)?,
                    name: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    revoked: r.try_get::<i64, _>(4)? != 0,
                })
            })
            .collect()
    }

    /// How many failed sign-ins a login has had at or after `since_ms`.
    pub async fn sign_in_failures(&self, login: &str, since_ms: i64) -> Result<i64> {
        let r = sqlx::query(
            &self.q("SELECT COUNT(*) FROM sign_in_failures WHERE login = ? AND at_ms >= ?"),
        )
        .bind(login.to_string())
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }

    /// The time of the newest failed sign-in of a login.
    pub async fn last_sign_in_failure(&self, login: &str) -> Result<Option<i64>> {
        let r = sqlx::query(&self.q("SELECT MAX(at_ms) FROM sign_in_failures WHERE login = ?"))
            .bind(login.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get::<Option<i64>, _>(0)?)
    }

    /// Every role a person holds, with the path of the jurisdiction it is held in.
    /// Cached (see `cache.rs`).
    pub async fn grants(&self, person_id: Uuid) -> Result<Vec<GrantRow>> {
        self.cached(&self.inner.grants, person_id, || {
            self.grants_uncached(person_id)
        })
        .await
    }

    async fn grants_uncached(&self, person_id: Uuid) -> Result<Vec<GrantRow>> {
        let rows = sqlx::query(&self.q(
            "SELECT person_id, role, jurisdiction_id, jurisdiction_path FROM role_grants WHERE person_id = ? ORDER BY jurisdiction_path, role",
        ))
        .bind(person_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GrantRow {
                    person_id: parse_uuid(&r.try_get::<String, _>(0)?)?,
                    role: r.try_get(1)?,
                    jurisdiction_id: parse_uuid(&r.try_get::<String, _>(2)?)?,
                    jurisdiction_path: r.try_get(3)?,
                })
            })
            .collect()
    }
}
