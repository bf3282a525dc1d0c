//! The SQLite writer: one dedicated thread owning one rusqlite connection, committing whatever
//! writes are waiting in one transaction (group commit), each write inside its own savepoint so
//! that one failing write does not take the others with it. Statements are prepared once and
//! cached; the thread runs them without a round trip per statement (sqlx's SQLite driver hands
//! every statement to a worker thread and back, which cost more than SQLite itself under load).

use std::path::Path;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::rows::{Stmt, Val};
use crate::{Result, StoreError};

/// Most writes one SQLite transaction takes at once.
const MAX_BATCH: usize = 256;

pub(crate) struct Job {
    /// The write set's statements, in order (built by the caller with `rows::statements`).
    pub stmts: Vec<Stmt>,
    pub reply: oneshot::Sender<Result<()>>,
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Null | Val::NullInt | Val::NullReal => ToSqlOutput::Owned(Value::Null),
            Val::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Val::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            Val::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("sqlite: {e}"))
}

/// Opens the writer connection on the (already migrated) database file and starts the thread.
pub(crate) fn spawn(path: &Path) -> Result<mpsc::Sender<Job>> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| {
        other(format!(
            "opening the writer connection to {}: {e}",
            path.display()
        ))
    })?;
    // WAL lets readers run while the writer writes; synchronous=FULL makes every commit durable
    // before it returns (NORMAL in WAL mode may lose the last commits on power loss).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
    )
    .map_err(other)?;
    conn.set_prepared_statement_cache_capacity(512);
    let (tx, rx) = mpsc::channel(4096);
    std::thread::Builder::new()
        .name("yingji-sqlite-writer".into())
        .spawn(move || run(conn, rx))
        .map_err(other)?;
    Ok(tx)
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        match run_batch(&conn, &batch) {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let _ = conn.execute_batch("ROLLBACK");
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Other(anyhow::anyhow!(
                        "the transaction could not be committed: {e}"
                    ))));
                }
            }
        }
    }
}

fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn run_batch(conn: &Connection, batch: &[Job]) -> rusqlite::Result<Vec<Result<()>>> {
    control(conn, "BEGIN IMMEDIATE")?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        control(conn, "SAVEPOINT w")?;
        match job.stmts.iter().try_for_each(|st| exec(conn, st)) {
            Ok(()) => {
                control(conn, "RELEASE w")?;
                results.push(Ok(()));
            }
            Err(e) => {
                control(conn, "ROLLBACK TO w")?;
                control(conn, "RELEASE w")?;
                results.push(Err(e));
            }
        }
    }
    control(conn, "COMMIT")?;
    Ok(results)
}

fn exec(conn: &Connection, st: &Stmt) -> Result<()> {
    let mut prepared = conn.prepare_cached(&st.sql).map_err(other)?;
    match prepared.execute(rusqlite::params_from_iter(st.args.iter())) {
        Ok(n) => st.check_rows(n as u64),
        Err(rusqlite::Error::SqliteFailure(f, msg))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            // "UNIQUE constraint failed: people.token_hash" names the columns.
            let named = msg
                .as_deref()
                .and_then(|m| m.split_once(": ").map(|(_, cols)| cols.to_string()))
                .unwrap_or_else(|| "unique".into());
            Err(StoreError::Conflict {
                constraint: st.unique.map_or(named, str::to_string),
            })
        }
        Err(e) => Err(other(e)),
    }
}
