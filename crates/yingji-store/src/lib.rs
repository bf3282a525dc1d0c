//! yingji-store: durable storage for the event log, the projections (query tables) and the
//! outbox, on SQLite (embedded default) or PostgreSQL.
//!
//! A write is a [`WriteSet`]: events with their hashes, the stream heads they advance (optimistic
//! concurrency), the projection rows they change, outbox rows and the idempotency record — all
//! committed in one transaction, and acknowledged only once that transaction is durable.
//!
//! On SQLite every write goes through one writer task that commits whatever writes are waiting in
//! one transaction (group commit), each inside its own savepoint so that one failing write does
//! not take the others with it. On PostgreSQL each write is its own transaction; the server
//! group-commits the WAL itself.

pub mod notify;
mod rows;
mod sql;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Row as _};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use yingji_domain::audit::{EventEnvelope, StoredEvent};

pub use rows::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A concurrent write got there first (stream version, duplicate id, idempotency key).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict {
                constraint: db.constraint().unwrap_or("unique").to_string(),
            };
        }
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        StoreError::Other(anyhow::Error::new(e))
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

/// The store handle; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: AnyPool,
    writer: Option<mpsc::Sender<Job>>,
    location: String,
}

struct Job {
    ws: WriteSet,
    reply: oneshot::Sender<Result<()>>,
}

/// Most writes one SQLite transaction takes at once.
const MAX_BATCH: usize = 256;

impl Store {
    /// Opens (creating if needed) the SQLite database in `dir` and migrates it.
    pub async fn open_sqlite(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Other(anyhow::anyhow!(
                "creating data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join("yingji.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(&url, Backend::Sqlite, path.display().to_string()).await
    }

    /// Opens `postgres://…` or `sqlite://…` and migrates it.
    pub async fn open_url(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open(url, Backend::Postgres, redact(url)).await
        } else if let Some(rest) = url.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or(rest).to_string();
            Self::open(url, Backend::Sqlite, path).await
        } else {
            Err(StoreError::Other(anyhow::anyhow!(
                "unsupported database URL `{}`: use postgres://… or sqlite://…",
                redact(url)
            )))
        }
    }

    async fn open(url: &str, backend: Backend, location: String) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let opts: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("database URL: {e}")))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 32 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlite_pragmas(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts.clone())
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("connecting to {location}: {e}")))?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&pool).await,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&pool).await,
        }
        .map_err(|e| StoreError::Other(anyhow::anyhow!("migrating {location}: {e}")))?;
        let writer = if backend == Backend::Sqlite {
            let mut conn = AnyConnection::connect_with(&opts)
                .await
                .map_err(|e| StoreError::Other(anyhow::anyhow!("writer connection: {e}")))?;
            sqlite_pragmas(&mut conn).await?;
            let (tx, rx) = mpsc::channel(4096);
            tokio::spawn(writer_loop(conn, rx));
            Some(tx)
        } else {
            None
        };
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                pool,
                writer,
                location,
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

    /// The SQL text for this backend (`?` placeholders become `$n` on PostgreSQL).
    pub(crate) fn q(&self, s: &str) -> String {
        sql::placeholders(self.inner.backend, s)
    }

    /// Commits a write set durably. Returns only after the transaction is committed.
    pub async fn commit(&self, ws: WriteSet) -> Result<()> {
        match &self.inner.writer {
            Some(tx) => {
                let (reply, rx) = oneshot::channel();
                tx.send(Job { ws, reply })
                    .await
                    .map_err(|_| StoreError::Other(anyhow::anyhow!("the writer has stopped")))?;
                rx.await
                    .map_err(|_| StoreError::Other(anyhow::anyhow!("the writer has stopped")))?
            }
            None => {
                let mut tx = self.inner.pool.begin().await?;
                rows::apply(self.inner.backend, &mut tx, &ws).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// The events of one stream in order.
    pub async fn stream_events(&self, stream_id: Uuid) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(&self.q(
            "SELECT id, stream_id, stream_seq, stream_kind, jurisdiction_id, at, actor_id, actor_name, kind, reason, payload, prev_hash, hash FROM events WHERE stream_id = ? ORDER BY stream_seq",
        ))
        .bind(stream_id.to_string())
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Every stream with its recorded head, for verification.
    pub async fn streams(&self) -> Result<Vec<(Uuid, String, i64, String)>> {
        let rows = sqlx::query("SELECT id, kind, version, head_hash FROM streams ORDER BY id")
            .fetch_all(&self.inner.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_uuid(&r.try_get::<String, _>(0)?)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                ))
            })
            .collect()
    }

    /// A stream's version and head hash (None when the stream does not exist).
    pub async fn stream_head(&self, id: Uuid) -> Result<Option<(i64, String)>> {
        let row = sqlx::query(&self.q("SELECT version, head_hash FROM streams WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.inner.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// Verifies every stream's chain; returns the first broken link found in each broken stream.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        for (id, kind, _version, head) in self.streams().await? {
            let events = self.stream_events(id).await?;
            report.streams += 1;
            report.events += events.len();
            if let Err(b) = yingji_domain::audit::verify_stream(&events, Some(&head)) {
                report.broken.push((id, kind, b));
            }
        }
        // Events whose stream has no head at all (a stream row deleted).
        let orphans = sqlx::query(
            "SELECT DISTINCT stream_id FROM events WHERE stream_id NOT IN (SELECT id FROM streams)",
        )
        .fetch_all(&self.inner.pool)
        .await?;
        for r in orphans {
            let id = parse_uuid(&r.try_get::<String, _>(0)?)?;
            report.broken.push((
                id,
                "unknown".into(),
                yingji_domain::audit::Broken::HeadMismatch {
                    head_hash: String::new(),
                    last_hash: String::new(),
                },
            ));
        }
        Ok(report)
    }
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub streams: usize,
    pub events: usize,
    pub broken: Vec<(Uuid, String, yingji_domain::audit::Broken)>,
}

async fn sqlite_pragmas(conn: &mut AnyConnection) -> std::result::Result<(), sqlx::Error> {
    // WAL lets readers run while the writer writes; synchronous=FULL makes every commit durable
    // before it returns (NORMAL in WAL mode may lose the last commits on power loss).
    for p in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA busy_timeout = 10000",
        "PRAGMA foreign_keys = ON",
    ] {
        sqlx::query(p).execute(&mut *conn).await?;
    }
    Ok(())
}

async fn exec(conn: &mut AnyConnection, sql: &str) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(sql).execute(&mut *conn).await.map(|_| ())
}

async fn writer_loop(mut conn: AnyConnection, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let results = run_batch(&mut conn, &batch).await;
        match results {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let _ = exec(&mut conn, "ROLLBACK").await;
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Other(anyhow::anyhow!(
                        "the transaction could not be committed: {e}"
                    ))));
                }
            }
        }
    }
}

async fn run_batch(
    conn: &mut AnyConnection,
    batch: &[Job],
) -> std::result::Result<Vec<Result<()>>, sqlx::Error> {
    exec(conn, "BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        exec(conn, "SAVEPOINT w").await?;
        match rows::apply(Backend::Sqlite, conn, &job.ws).await {
            Ok(()) => {
                exec(conn, "RELEASE w").await?;
                results.push(Ok(()));
            }
            Err(e) => {
                exec(conn, "ROLLBACK TO w").await?;
                exec(conn, "RELEASE w").await?;
                results.push(Err(e));
            }
        }
    }
    exec(conn, "COMMIT").await?;
    Ok(results)
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s)
        .map_err(|e| StoreError::Other(anyhow::anyhow!("bad uuid `{s}` in the database: {e}")))
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<StoredEvent> {
    Ok(StoredEvent {
        envelope: EventEnvelope {
            id: parse_uuid(&r.try_get::<String, _>(0)?)?,
            stream_id: parse_uuid(&r.try_get::<String, _>(1)?)?,
            stream_seq: r.try_get(2)?,
            stream_kind: r.try_get(3)?,
            jurisdiction_id: parse_uuid(&r.try_get::<String, _>(4)?)?,
            at: r.try_get(5)?,
            actor_id: parse_uuid(&r.try_get::<String, _>(6)?)?,
            actor_name: r.try_get(7)?,
            kind: r.try_get(8)?,
            reason: r.try_get(9)?,
            payload: r.try_get(10)?,
            prev_hash: r.try_get(11)?,
        },
        hash: r.try_get(12)?,
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
