//! The SQLite writer: one dedicated thread owning one rusqlite connection, committing whatever
//! writes are waiting in one transaction (group commit); when one write fails, the batch is run
//! again with each write in its own savepoint so that it fails alone. Statements are prepared once and
//! cached; the thread runs them without a round trip per statement (sqlx's SQLite driver hands
//! every statement to a worker thread and back, which cost more than SQLite itself under load).

use std::path::Path;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::merge;
use crate::rows::{Stmt, Val};
use crate::{Conflict, Result, StoreError};

/// Most writes one SQLite transaction takes at once.
const MAX_BATCH: usize = 256;

/// SQLite's limit on bound values per statement (`SQLITE_MAX_VARIABLE_NUMBER`, 32766 since 3.32).
const MAX_PARAMS: usize = 32_766;

/// WAL size (in frames of one page) beyond which the writer finishes a checkpoint itself between
/// two batches. A checkpoint running beside a busy writer never copies the very last frames, and
/// the WAL can only start over once every frame has been copied, so without this it would grow
/// for as long as writes keep coming.
const WAL_RESTART_FRAMES: i64 = 4_096;

/// How long the checkpointer waits after a checkpoint before the next, so that one checkpoint
/// copies the pages of many batches (the last pages of each table and index change in every
/// batch) rather than the same pages again and again.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

pub(crate) struct Job {
    /// The write set's statements, in order (built by the caller with `rows::statements`).
    pub stmts: Vec<Stmt>,
    pub reply: oneshot::Sender<Result<()>>,
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        // SQLite keeps ids, times, dates and JSON as text and flags as 0/1.
        Ok(match self {
            Val::Null(_) => ToSqlOutput::Owned(Value::Null),
            Val::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Val::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
            Val::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            Val::Uuid(u) => ToSqlOutput::Owned(Value::Text(u.to_string())),
            Val::Text(t) | Val::Timestamp(t) | Val::Date(t) | Val::Json(t) => {
                ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes()))
            }
        })
    }
}

fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("sqlite: {e}"))
}

fn open(path: &Path) -> Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| opening(path, e))
}

fn opening(path: &Path, e: impl std::fmt::Display) -> StoreError {
    other(format!("opening {}: {e}", path.display()))
}

/// Applies every connection's settings ([`crate::SQLITE_PRAGMAS`]) and this connection's own.
fn settings(conn: &Connection, own: &[&str]) -> Result<()> {
    for p in crate::SQLITE_PRAGMAS.iter().chain(own) {
        conn.execute_batch(p).map_err(other)?;
    }
    Ok(())
}

/// Opens the writer connection on the (already migrated) database file and starts the writer
/// and checkpointer threads.
pub(crate) fn spawn(path: &Path) -> Result<mpsc::Sender<Job>> {
    spawn_with(path, WAL_RESTART_FRAMES, CHECKPOINT_PAUSE)
}

fn spawn_with(
    path: &Path,
    restart_frames: i64,
    pause: std::time::Duration,
) -> Result<mpsc::Sender<Job>> {
    let conn = open(path)?;
    // Every connection's settings (see SQLITE_PRAGMAS), and the writer's own: statement
    // journals (only used when a batch is run again write by write) stay in memory. The writer
    // does not checkpoint after its commits: the checkpointer thread does, so that copying WAL
    // pages into the database file does not hold up the commits waiting behind it.
    settings(
        &conn,
        &[
            "PRAGMA temp_store = MEMORY",
            "PRAGMA cache_size = -65536",
            "PRAGMA wal_autocheckpoint = 0",
        ],
    )?;
    conn.set_prepared_statement_cache_capacity(512);
    let checkpoints = spawn_checkpointer(path, restart_frames, pause)?;
    let (tx, rx) = mpsc::channel(4096);
    std::thread::Builder::new()
        .name("yingji-sqlite-writer".into())
        .spawn(move || run(conn, rx, checkpoints))
        .map_err(other)?;
    Ok(tx)
}

/// The writer's side of the checkpointer: a nudge after each commit, and the checkpointer's
/// request that the writer finish a checkpoint itself (see [`WAL_RESTART_FRAMES`]).
struct Checkpoints {
    nudge: std::sync::mpsc::SyncSender<()>,
    finish: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Copies committed WAL pages into the database file, and syncs that file, on a thread and
/// connection of its own. It sleeps until the writer commits, and ends when the writer does.
fn spawn_checkpointer(
    path: &Path,
    restart_frames: i64,
    pause: std::time::Duration,
) -> Result<Checkpoints> {
    let conn = open(path)?;
    settings(&conn, &["PRAGMA wal_autocheckpoint = 0"])?;
    let db_file = std::fs::File::open(path).map_err(|e| opening(path, e))?;
    let (nudge, rx) = std::sync::mpsc::sync_channel::<()>(1);
    let finish = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = finish.clone();
    std::thread::Builder::new()
        .name("yingji-sqlite-checkpoint".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                match checkpoint(&conn) {
                    Ok((log, _)) if log > restart_frames => {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
                // A checkpoint syncs the database file only if, when it ends, no commit has
                // been added to the WAL since it began. Under load only the writer's own
                // checkpoint gets there, and its sync then had to write every page copied since
                // the last restart (10-30 ms, with every commit waiting). So the copied pages
                // go to disk here, beside the writer, and the writer's sync finds little left.
                // (The pragma's answer cannot tell whether SQLite synced: it compares with the
                // WAL's end as it was when the checkpoint began.)
                if let Err(e) = db_file.sync_data() {
                    tracing::warn!(error = %e, "syncing the database file failed");
                }
                std::thread::sleep(pause);
            }
        })
        .map_err(other)?;
    Ok(Checkpoints { nudge, finish })
}

/// A passive checkpoint (never waits for readers or the writer): the WAL's frames, and how many
/// of them are now in the database file.
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, checkpoints: Checkpoints) {
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
                let _ = checkpoints.nudge.try_send(());
                if checkpoints
                    .finish
                    .load(std::sync::atomic::Ordering::Relaxed)
                {
                    // Most frames are already copied, so this is short; once every frame is in
                    // the database file, the next transaction starts the WAL over.
                    match checkpoint(&conn) {
                        Ok((log, done)) if log == done => checkpoints
                            .finish
                            .store(false, std::sync::atomic::Ordering::Relaxed),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    }
                }
            }
            Err(e) => {
                if let Some(folded) = crate::burst::log_once(&e.to_string()) {
                    tracing::error!(error = %e, folded, "group commit failed");
                }
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

/// Commits a batch in one transaction. The batch first runs without savepoints: a savepoint makes
/// SQLite copy every page a write touches into a statement journal before changing it, which
/// under load cost the writer about a third of its time. Writes rarely fail, so only when one
/// does is the transaction rolled back and the batch run again with each write in its own
/// savepoint, so that the failing write fails alone and the others commit.
fn run_batch(conn: &Connection, batch: &[Job]) -> rusqlite::Result<Vec<Result<()>>> {
    control(conn, "BEGIN IMMEDIATE")?;
    let failure = if let [job] = batch {
        job.stmts.iter().try_for_each(|st| exec(conn, st)).err()
    } else {
        let writes: Vec<&[Stmt]> = batch.iter().map(|j| j.stmts.as_slice()).collect();
        merged(conn, &writes).err()
    };
    let Some(e) = failure else {
        control(conn, "COMMIT")?;
        return Ok(batch.iter().map(|_| Ok(())).collect());
    };
    // Some errors (a full disk, say) end the transaction themselves.
    if !conn.is_autocommit() {
        control(conn, "ROLLBACK")?;
    }
    if batch.len() == 1 {
        return Ok(vec![Err(e)]);
    }
    run_isolated(conn, batch)
}

/// Runs the statements of many writes with the same `INSERT`s merged into multi-row statements
/// (see [`merge`]): fewer statements to step through for the same rows.
fn merged(conn: &Connection, writes: &[&[Stmt]]) -> Result<()> {
    for g in merge::groups(writes) {
        let Some(template) = g.template.filter(|_| g.rows.len() > 1) else {
            exec(conn, g.first)?;
            continue;
        };
        for (sql, rows) in merge::values_chunks(&g, template, MAX_PARAMS) {
            let mut prepared = conn.prepare_cached(&sql).map_err(other)?;
            prepared
                .execute(rusqlite::params_from_iter(
                    rows.iter().flat_map(|r| r.iter()),
                ))
                .map_err(|e| failed(g.first, e))?;
        }
    }
    Ok(())
}

/// Runs a batch with each write in its own savepoint: a failing write is rolled back alone.
fn run_isolated(conn: &Connection, batch: &[Job]) -> rusqlite::Result<Vec<Result<()>>> {
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
        Err(e) => Err(failed(st, e)),
    }
}

/// A statement's error: a unique key names its constraint (or the statement's own name for it).
fn failed(st: &Stmt, e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            // "UNIQUE constraint failed: people.token_hash" names the columns.
            let named = msg
                .as_deref()
                .and_then(|m| m.split_once(": ").map(|(_, cols)| cols))
                .unwrap_or("");
            StoreError::Conflict(st.unique.unwrap_or_else(|| Conflict::of_constraint(named)))
        }
        e => other(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{Stmt, Val};

    fn insert(v: String) -> Stmt {
        Stmt::new("INSERT INTO t (v) VALUES (?)", vec![Val::Text(v)])
    }

    /// Under a steady stream of writes the WAL is copied into the database file beside the
    /// writer and starts over once it passes the restart size: it does not grow with the data.
    #[test]
    fn the_wal_stays_bounded_under_steady_writes() {
        let dir = std::env::temp_dir().join(format!("yingji-wal-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT NOT NULL);")
            .unwrap();
        let restart = 64; // frames of 4 KiB
        let tx = spawn_with(&path, restart, std::time::Duration::from_millis(1)).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let writes = 4000;
        rt.block_on(async {
            // Eight writes in flight at all times, so the writer never waits for work.
            let mut pending = std::collections::VecDeque::new();
            for i in 0..writes {
                let (reply, rx) = tokio::sync::oneshot::channel();
                let stmts = vec![insert(format!("{i:05}{}", "x".repeat(4000)))];
                tx.send(Job { stmts, reply }).await.unwrap();
                pending.push_back(rx);
                if pending.len() == 8 {
                    pending.pop_front().unwrap().await.unwrap().unwrap();
                }
            }
            for rx in pending {
                rx.await.unwrap().unwrap();
            }
        });
        drop(tx);
        let wal = std::fs::metadata(dir.join("t.db-wal")).map_or(0, |m| m.len());
        let written = writes as u64 * 4005;
        // One frame is a 24-byte header and a 4 KiB page; a write is one page and a bit.
        let bound = 16 * restart as u64 * (4096 + 24);
        assert!(
            wal < bound && written > 3 * bound,
            "WAL {wal} bytes after {written} bytes written (bound {bound})"
        );
        let n: i64 = setup
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, writes);
        drop(setup);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
