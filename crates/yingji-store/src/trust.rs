//! Reads for sign-in, sessions, API tokens and role grants (issue 7). Writes are typed
//! (`Row::Account(AccountWrite::…)`, in `writes/accounts.rs`).

use sqlx::Row as _;
use uuid::Uuid;

use crate::rows::{bool_col, uuid_col, vals};
use crate::{Result, Store};

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
        person_id: uuid_col(r, 0)?,
        login: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        disabled: bool_col(r, 3)?,
    })
}

impl Store {
    pub async fn account_by_login(&self, login: &str) -> Result<Option<AccountRow>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(person_id), login, password_hash, disabled FROM accounts WHERE login = ?",
                &vals![login],
            )
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
        let row = self
            .fetch_optional(
                "SELECT yj_text(person_id), login, password_hash, disabled FROM accounts WHERE person_id = ?",
                &vals![person_id],
            )
            .await?;
        row.map(|r| account_from(&r)).transpose()
    }

    /// One sealed value of each place personal data is sealed in (directory phones and
    /// e-mails, channel addresses, petitioners' contacts and addresses sealed before migration
    /// 0013, the subject keys that seal them since), when there is one:
    /// what a server checks its data key against at start.
    pub async fn sealed_samples(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (col, table) in [
            ("phone", "people"),
            ("email", "people"),
            ("address", "person_channels"),
            ("petitioner_contact", "case_petitioners"),
            ("petitioner_address", "case_petitioners"),
            ("wrapped_key", "subject_keys"),
            ("value", "deployment_secrets"),
        ] {
            let sql = format!(
                "SELECT {col} FROM {table} WHERE {col} LIKE 'sealed1:%' ORDER BY {col} DESC LIMIT 1"
            );
            if let Some(r) = self.fetch_optional(&sql, &[]).await? {
                out.push(r.try_get(0)?);
            }
        }
        Ok(out)
    }

    /// Holds the database's first-start lock until the answer is dropped: on PostgreSQL a
    /// session advisory lock on a connection of its own (closed on drop, which releases it,
    /// also when the process dies); SQLite has one process. Processes starting at once on an
    /// empty database take turns, so that one of them seeds it (one root, one demo) and the
    /// others find it seeded.
    pub async fn start_lock(&self) -> Result<StartLock> {
        if self.backend() != crate::Backend::Postgres {
            return Ok(StartLock(None));
        }
        let mut conn = self.pool().acquire().await?.detach();
        sqlx::Executor::execute(&mut conn, "SELECT pg_advisory_lock(7146515291000000021)").await?;
        Ok(StartLock(Some(conn)))
    }

    /// A deployment-wide secret as stored (sealed), if one of that name was made.
    pub async fn deployment_secret(&self, name: &str) -> Result<Option<String>> {
        let row = self
            .fetch_optional(
                "SELECT value FROM deployment_secrets WHERE name = ?",
                &vals![name.to_string()],
            )
            .await?;
        row.map(|r| r.try_get(0).map_err(Into::into)).transpose()
    }

    /// Every deployment-wide secret as stored (sealed): (name, value), by name.
    pub async fn deployment_secrets(&self) -> Result<Vec<(String, String)>> {
        let rows = self
            .fetch_all(
                "SELECT name, value FROM deployment_secrets ORDER BY name",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Stores `sealed` as the deployment's secret `name` sealed again, if it is still `was`.
    pub async fn reseal_deployment_secret(
        &self,
        name: &str,
        sealed: String,
        was: &str,
    ) -> Result<()> {
        let mut ws = crate::WriteSet::default();
        ws.rows.push(crate::Row::Directory(
            crate::DirectoryWrite::SecretResealed {
                name: name.to_string(),
                sealed,
                was: was.to_string(),
            },
        ));
        self.commit(ws).await.map(|_| ())
    }

    /// Keeps `sealed` as the deployment's secret `name` unless one is there already, and
    /// answers the one stored (when processes race, the first one's, for all of them).
    pub async fn keep_deployment_secret(
        &self,
        name: &str,
        sealed: String,
        at: &str,
    ) -> Result<String> {
        if let Some(v) = self.deployment_secret(name).await? {
            return Ok(v);
        }
        let mut ws = crate::WriteSet::default();
        ws.rows
            .push(crate::Row::Directory(crate::DirectoryWrite::Secret {
                name: name.to_string(),
                sealed,
                created_at: at.to_string(),
            }));
        self.commit(ws).await?;
        self.deployment_secret(name).await?.ok_or_else(|| {
            crate::StoreError::Other(anyhow::anyhow!(
                "the deployment secret {name} was not stored"
            ))
        })
    }

    /// Whether the database answers a query now (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.fetch_optional("SELECT 1", &[]).await.map(|_| ())
    }

    /// A live (not revoked) session by the hash of its token.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(person_id), csrf_hash, expires_ms FROM sessions WHERE token_hash = ? AND revoked = FALSE",
                &vals![token_hash],
            )
            .await?;
        row.map(|r| {
            Ok(SessionRow {
                person_id: uuid_col(&r, 0)?,
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
        let row = self
            .fetch_optional(
                "SELECT yj_text(person_id) FROM api_tokens WHERE token_hash = ? AND revoked = FALSE",
                &vals![token_hash],
            )
            .await?;
        row.map(|r| uuid_col(&r, 0)).transpose()
    }

    pub async fn api_tokens(&self, person_id: Uuid) -> Result<Vec<ApiTokenRow>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(id), yj_text(person_id), name, yj_text(created_at), revoked FROM api_tokens WHERE person_id = ? ORDER BY id",
                &vals![person_id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenRow {
                    id: uuid_col(r, 0)?,
                    person_id: uuid_col(r, 1)?,
                    name: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    revoked: bool_col(r, 4)?,
                })
            })
            .collect()
    }

    /// How many failed sign-ins a login has had at or after `since_ms`.
    pub async fn sign_in_failures(&self, login: &str, since_ms: i64) -> Result<i64> {
        let r = self
            .fetch_one(
                "SELECT COUNT(*) FROM sign_in_failures WHERE login = ? AND at_ms >= ?",
                &vals![login, since_ms],
            )
            .await?;
        Ok(r.try_get(0)?)
    }

    /// The time of the newest failed sign-in of a login.
    pub async fn last_sign_in_failure(&self, login: &str) -> Result<Option<i64>> {
        let r = self
            .fetch_one(
                "SELECT MAX(at_ms) FROM sign_in_failures WHERE login = ?",
                &vals![login],
            )
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

    /// The people who hold `role` in exactly this jurisdiction (id and name), by name: the duty
    /// officers a notice to a jurisdiction's office falls back to.
    pub async fn role_holders(
        &self,
        jurisdiction_id: Uuid,
        role: &str,
    ) -> Result<Vec<(Uuid, String)>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(p.id), p.name FROM role_grants g JOIN people p ON p.id = g.person_id WHERE g.jurisdiction_id = ? AND g.role = ? ORDER BY p.name, p.id",
                &vals![jurisdiction_id, role],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?)))
            .collect()
    }

    async fn grants_uncached(&self, person_id: Uuid) -> Result<Vec<GrantRow>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(person_id), role, yj_text(jurisdiction_id), jurisdiction_path FROM role_grants WHERE person_id = ? ORDER BY jurisdiction_path, role",
                &vals![person_id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(GrantRow {
                    person_id: uuid_col(r, 0)?,
                    role: r.try_get(1)?,
                    jurisdiction_id: uuid_col(r, 2)?,
                    jurisdiction_path: r.try_get(3)?,
                })
            })
            .collect()
    }
}

/// The first-start lock ([`Store::start_lock`]); released when dropped.
pub struct StartLock(#[allow(dead_code)] Option<sqlx::AnyConnection>);
