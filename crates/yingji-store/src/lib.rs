//! yingji-store: durable storage for the event log, the projections (query tables) and the
//! outbox, on SQLite (embedded default) or PostgreSQL.
//!
//! A write is a [`WriteSet`]: events with their hashes, the stream heads they advance (optimistic
//! concurrency), the projection rows they change, outbox rows and the idempotency record — all
//! committed in one transaction, and acknowledged only once that transaction is durable.
//!
//! On SQLite every write goes through one writer thread (rusqlite, cached prepared statements)
//! that commits whatever writes are waiting in one transaction (group commit), each inside its own
//! savepoint so that one failing write does not take the others with it (`sqlite_writer.rs`).
//! On PostgreSQL a writer task also groups waiting writes into one transaction, merging their
//! inserts into multi-row statements, and retries each write alone if the group fails
//! (`pg_writer.rs`). Reads go through the sqlx pool; directory rows are cached (`cache.rs`).

mod audit;
mod backup;
pub mod burst;
pub mod bus;
mod cache;
mod cases;
mod gauges;
pub mod leader;
mod merge;
pub mod notify;
mod pg_writer;
pub mod progress;
mod records;
mod rows;
pub mod search;
mod sql;
mod sqlite_writer;
mod statistics;
mod trust;
mod writes;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Row as _};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use yingji_domain::audit::{EventEnvelope, StoredEvent};

pub use audit::{AuditKeys, CheckpointInfo, IncidentColumns, SigCheck, VerifyReport};
pub use backup::{BackupSummary, FORMAT as BACKUP_FORMAT};
pub use cases::*;
pub use gauges::Gauges;
pub use records::RecordRow;
pub use rows::*;
pub use statistics::IncidentCount;
pub use trust::*;
pub use writes::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A concurrent write got there first, or a unique key or optimistic check refused the
    /// write; which one is a closed set (never matched by name).
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// The storage cannot serve now (every connection busy, the disk full, the database
    /// refusing connections): the request may be retried later; nothing was written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The schema lacks migrations this binary needs (opened without migrating).
    #[error("{0}")]
    SchemaBehind(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Whether an error's text says the storage cannot serve now rather than that the request is
/// wrong: a full disk (SQLite `SQLITE_FULL`, PostgreSQL class 53 — insufficient resources),
/// a database refusing connections (57P03), an exhausted or closed pool.
pub fn is_unavailable_text(t: &str) -> bool {
    const SIGNS: &[&str] = &[
        "database or disk is full",
        "No space left on device",
        "no space left on device",
        "SQLSTATE 53",
        "could not extend file",
        "too many clients",
        "the database system is starting up",
        "the database system is shutting down",
        "pool timed out",
        "attempted to acquire a connection on a closed pool",
    ];
    SIGNS.iter().any(|s| t.contains(s))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict(Conflict::of_constraint(db.constraint().unwrap_or("")));
        }
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        if let sqlx::Error::Database(db) = &e
            && db
                .code()
                .is_some_and(|c| c.starts_with("53") || c == "57P03" || c == "13")
        {
            return StoreError::Unavailable(e.to_string());
        }
        if matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
            || is_unavailable_text(&e.to_string())
        {
            return StoreError::Unavailable(e.to_string());
        }
        StoreError::Other(anyhow::Error::new(e))
    }
}

/// Why a write was refused without being an error of the database itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// The stream advanced since it was read (retry: reload and decide again).
    StreamVersion,
    /// A new stream's id is already taken (retry as for `StreamVersion`).
    StreamExists,
    /// A request with the same Idempotency-Key committed first (answer as it did).
    Idempotency,
    /// The case number was allocated concurrently (retry).
    CaseNumber,
    /// A scheduled report or screening return for this slot is already in.
    AlreadySubmitted,
    /// A screening round for this period already exists.
    RoundExists,
    /// The person was removed or disabled meanwhile.
    PersonGone,
    /// The login is taken.
    LoginTaken,
    /// The token is taken.
    TokenTaken,
    /// The delivery is no longer dead (someone retried it first).
    DeliveryNotDead,
    /// Any other unique key.
    Unique,
    /// A statement affected a different number of rows than it required.
    RowCount,
}

impl Conflict {
    /// Whether the command should be decided again on fresh state.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Conflict::StreamVersion | Conflict::StreamExists | Conflict::CaseNumber
        )
    }

    /// A database constraint's (or SQLite's column list's) name as a conflict.
    pub(crate) fn of_constraint(name: &str) -> Conflict {
        if name.contains("token") {
            Conflict::TokenTaken
        } else if name.contains("idempotency") {
            Conflict::Idempotency
        } else if name.contains("login") {
            Conflict::LoginTaken
        } else {
            Conflict::Unique
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Without migrating: the database must hold every migration of this binary (newer ones
/// than it knows are fine: see [`PoolSettings::migrate`]).
async fn schema_is_current(
    pool: &AnyPool,
    migrator: &sqlx::migrate::Migrator,
    location: &str,
) -> Result<()> {
    let applied: Vec<i64> =
        sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let missing: Vec<String> = migrator
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| format!("{:04} {}", m.version, m.description))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::SchemaBehind(format!(
            "the schema of {location} lacks {} migration(s) this binary needs ({}): run `yingji migrate` first (--no-migrate does not migrate)",
            missing.len(),
            missing.join(", ")
        )))
    }
}

/// The read pool of a PostgreSQL database (the writers hold two connections more, and the
/// change bus one). Several processes share one database's `max_connections` (100 by
/// default), so the default is small.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// An idle connection is closed after this long.
    pub idle_timeout: Duration,
    /// Migrate the schema at open (the default). Without it the schema must already hold
    /// every migration this binary knows (`yingji migrate` is the deploy step); one that
    /// holds newer ones is accepted, so that the processes still running an older binary
    /// keep working while a newer one rolls out (migrations only add).
    pub migrate: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            idle_timeout: Duration::from_secs(60),
            migrate: true,
        }
    }
}

/// The store handle; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: AnyPool,
    writer: mpsc::Sender<Job>,
    location: String,
    generation: std::sync::atomic::AtomicU64,
    people: cache::Ttl<String, Option<PersonRow>>,
    people_by_id: cache::Ttl<Uuid, Option<PersonRow>>,
    jurisdictions: cache::Ttl<Uuid, Option<JurisdictionRow>>,
    plans: cache::Ttl<String, Option<PlanRow>>,
    holders: cache::Ttl<Uuid, Vec<(String, Uuid, String, bool)>>,
    accounts: cache::Ttl<Uuid, Option<trust::AccountRow>>,
    api_tokens: cache::Ttl<String, Option<Uuid>>,
    grants: cache::Ttl<Uuid, Vec<trust::GrantRow>>,
    rosters: cache::Ttl<Uuid, Vec<(String, String)>>,
    /// The keys that sign stream heads and checkpoints (`audit.rs`), set by the application.
    audit_keys: std::sync::RwLock<Option<Arc<audit::AuditKeys>>>,
    /// Where long operations report how far they are (`progress.rs`).
    progress: std::sync::RwLock<Option<progress::ProgressFn>>,
    /// This process's id on the change bus (`bus.rs`).
    process: Uuid,
    /// What other processes committed, as heard on the bus.
    bus: tokio::sync::broadcast::Sender<bus::BusMessage>,
    /// Where the bus listens (PostgreSQL only).
    bus_url: Option<String>,
}

use sqlite_writer::Job;

impl Store {
    /// Opens (creating if needed) the SQLite database in `dir` and migrates it.
    pub async fn open_sqlite(dir: &Path) -> Result<Store> {
        Self::open_sqlite_with(dir, &PoolSettings::default()).await
    }

    /// [`Store::open_sqlite`] with these settings (whether to migrate).
    pub async fn open_sqlite_with(dir: &Path, settings: &PoolSettings) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Other(anyhow::anyhow!(
                "creating data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join("yingji.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(&url, Backend::Sqlite, path.display().to_string(), settings).await
    }

    /// Opens `postgres://…` or `sqlite://…` and migrates it.
    pub async fn open_url(url: &str) -> Result<Store> {
        Self::open_url_with(url, &PoolSettings::default()).await
    }

    /// [`Store::open_url`] with these pool settings (PostgreSQL).
    pub async fn open_url_with(url: &str, pool: &PoolSettings) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let location = redact(url);
            // Named in pg_stat_activity, unless the URL names it otherwise.
            let url = if url.contains("application_name=") {
                url.to_string()
            } else {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}application_name=yingji")
            };
            Self::open(&url, Backend::Postgres, location, pool).await
        } else if let Some(rest) = url.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or(rest).to_string();
            Self::open(url, Backend::Sqlite, path, pool).await
        } else {
            Err(StoreError::Other(anyhow::anyhow!(
                "unsupported database URL `{}`: use postgres://… or sqlite://…",
                redact(url)
            )))
        }
    }

    async fn open(
        url: &str,
        backend: Backend,
        location: String,
        settings: &PoolSettings,
    ) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let opts: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("database URL: {e}")))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite {
                8
            } else {
                settings.max_connections.max(1)
            })
            .min_connections(0)
            // Idle connections are closed, so that many processes on one database do not
            // hold its connections while they have nothing to do.
            .idle_timeout(settings.idle_timeout)
            // A request waits at most this long for a connection, then answers 503 with
            // Retry-After instead of holding the client.
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlite_pragmas(conn).await?;
                    } else {
                        // Statements are prepared with bound parameters; PostgreSQL's generic
                        // plan for them cannot see the values (a subtree's path range, a search
                        // term's frequency) and then scans every row where the value would use
                        // an index (issue 20: 560 ms against 0.2 ms). Plan each execution.
                        sqlx::Executor::execute(
                            &mut *conn,
                            "SET plan_cache_mode = force_custom_plan",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts.clone())
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("connecting to {location}: {e}")))?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        if settings.migrate {
            migrator
                .run(&pool)
                .await
                .map_err(|e| StoreError::Other(anyhow::anyhow!("migrating {location}: {e}")))?;
        } else {
            schema_is_current(&pool, migrator, &location).await?;
        }
        let writer = if backend == Backend::Sqlite {
            sqlite_writer::spawn(Path::new(&location))?
        } else {
            pg_writer::spawn(opts.clone())?
        };
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                pool,
                writer,
                location,
                generation: std::sync::atomic::AtomicU64::new(0),
                people: cache::Ttl::new(),
                people_by_id: cache::Ttl::new(),
                jurisdictions: cache::Ttl::new(),
                plans: cache::Ttl::new(),
                holders: cache::Ttl::new(),
                accounts: cache::Ttl::new(),
                api_tokens: cache::Ttl::new(),
                grants: cache::Ttl::new(),
                rosters: cache::Ttl::new(),
                audit_keys: std::sync::RwLock::new(None),
                progress: std::sync::RwLock::new(None),
                process: Uuid::now_v7(),
                bus: tokio::sync::broadcast::channel(4096).0,
                bus_url: (backend == Backend::Postgres).then(|| url.to_string()),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Where the data lives (a path, or a URL without its password).
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Commits a write set durably. Returns only after the transaction is committed.
    pub async fn commit(&self, mut ws: WriteSet) -> Result<()> {
        let directory = cache::touches_directory(&ws);
        // Other processes hear of it in the same transaction (`bus.rs`).
        let mut notices = std::mem::take(&mut ws.bus);
        if directory {
            notices.push(bus::BusMessage::Directory);
        }
        let publish = self.bus_statements(notices);
        ws.rows.extend(publish);
        let r = self.commit_inner(ws).await;
        if directory {
            self.invalidate();
        }
        r
    }

    /// Drops every cached directory row (after a write that may have changed one).
    pub fn invalidate(&self) {
        let i = &self.inner;
        i.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        i.people.clear();
        i.people_by_id.clear();
        i.jurisdictions.clear();
        i.plans.clear();
        i.holders.clear();
        i.accounts.clear();
        i.api_tokens.clear();
        i.grants.clear();
        i.rosters.clear();
    }

    /// Reads through `cache`: a fresh entry is answered from memory; otherwise `load` runs and
    /// its answer (an absent row too) is kept unless a directory write happened meanwhile.
    pub(crate) async fn cached<K, V, F, Fut>(
        &self,
        cache: &cache::Ttl<K, V>,
        k: K,
        load: F,
    ) -> Result<V>
    where
        K: Eq + std::hash::Hash,
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V>>,
    {
        if let Some(v) = cache.get(&k) {
            return Ok(v);
        }
        let generation = self.generation();
        let v = load().await?;
        cache.put(k, v.clone(), generation, &self.inner.generation);
        Ok(v)
    }

    fn generation(&self) -> u64 {
        self.inner
            .generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    async fn commit_inner(&self, ws: WriteSet) -> Result<()> {
        // The statements are built here, on the request's task, so that the single writer
        // only executes them. They take the write set's values without copying them.
        let stmts = rows::statements(ws, self.audit_keys().as_deref())?;
        let (reply, rx) = oneshot::channel();
        self.inner
            .writer
            .send(Job { stmts, reply })
            .await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the writer has stopped")))?;
        rx.await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the writer has stopped")))?
    }

    /// The events of one stream in order.
    pub async fn stream_events(&self, stream_id: Uuid) -> Result<Vec<StoredEvent>> {
        let rows = self.fetch_all(
            "SELECT yj_text(id), yj_text(stream_id), stream_seq, stream_kind, yj_text(jurisdiction_id), at, yj_text(actor_id), actor_name, kind, reason, payload, prev_hash, hash FROM events WHERE stream_id = ? ORDER BY stream_seq",
            &vals![stream_id],
        )
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The newest disclosures (reveals of personal data) recorded in a subtree, newest first.
    pub async fn disclosures(&self, scope_path: &str, limit: i64) -> Result<Vec<StoredEvent>> {
        let (lo, hi) = rows::subtree_range(scope_path);
        let rows = self.fetch_all(
            "SELECT yj_text(e.id), yj_text(e.stream_id), e.stream_seq, e.stream_kind, yj_text(e.jurisdiction_id), e.at, yj_text(e.actor_id), e.actor_name, e.kind, e.reason, e.payload, e.prev_hash, e.hash FROM events e JOIN jurisdictions j ON j.id = e.jurisdiction_id WHERE e.stream_kind = 'disclosure' AND j.path >= ? AND j.path < ? ORDER BY e.seq DESC LIMIT ?",
            &vals![lo, hi, limit.clamp(1, 1000)],
        )
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// A stream's version and head hash (None when the stream does not exist).
    pub async fn stream_head(&self, id: Uuid) -> Result<Option<(i64, String)>> {
        let row = self
            .fetch_optional(
                "SELECT version, head_hash FROM streams WHERE id = ?",
                &vals![id],
            )
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }
}

/// The settings of every SQLite connection, the readers' and the writer's. WAL lets readers run
/// while the writer writes; synchronous=FULL makes every commit durable before it returns
/// (NORMAL in WAL mode may lose the last commits on power loss). secure_delete overwrites
/// deleted and replaced content with zeros, so that an erased value is not left in a free page or
/// the free space of a page (`yingji purge`).
pub(crate) const SQLITE_PRAGMAS: [&str; 5] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
];

async fn sqlite_pragmas(conn: &mut AnyConnection) -> std::result::Result<(), sqlx::Error> {
    for p in SQLITE_PRAGMAS {
        sqlx::query(p).execute(&mut *conn).await?;
    }
    Ok(())
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s)
        .map_err(|e| StoreError::Other(anyhow::anyhow!("bad uuid `{s}` in the database: {e}")))
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<StoredEvent> {
    event_from_row_at(r, 0)
}

/// An event read as its thirteen columns (id, stream id, seq, stream kind, jurisdiction, time,
/// actor id and name, kind, reason, payload, previous hash, hash) from column `at` on.
pub(crate) fn event_from_row_at(r: &sqlx::any::AnyRow, at: usize) -> Result<StoredEvent> {
    Ok(StoredEvent {
        envelope: EventEnvelope {
            id: parse_uuid(&r.try_get::<String, _>(at)?)?,
            stream_id: parse_uuid(&r.try_get::<String, _>(at + 1)?)?,
            stream_seq: r.try_get(at + 2)?,
            stream_kind: r.try_get(at + 3)?,
            jurisdiction_id: parse_uuid(&r.try_get::<String, _>(at + 4)?)?,
            at: r.try_get(at + 5)?,
            actor_id: parse_uuid(&r.try_get::<String, _>(at + 6)?)?,
            actor_name: r.try_get(at + 7)?,
            kind: r.try_get(at + 8)?,
            reason: r.try_get(at + 9)?,
            payload: r.try_get(at + 10)?,
            prev_hash: r.try_get(at + 11)?,
        },
        hash: r.try_get(at + 12)?,
    })
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Timestamps are stored as fixed-width UTC text, so that text order is time order.
pub fn fmt_ts(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
