//! The PostgreSQL writer: group commit with multi-row statements.
//!
//! Writes that arrive while a batch is being committed wait and go together in the next
//! transaction. Their statements are merged: the same `INSERT … VALUES (…)` from many writes
//! becomes one statement with many rows, so a batch of 64 reports costs a handful of round
//! trips and one commit instead of six round trips and a commit each. Each write's own statement
//! order is kept (a statement joins an earlier statement's group only if nothing of its write
//! ran after that group). If the merged batch fails for any reason — a stream version check, a
//! unique key, a duplicate row inside one upsert — it is rolled back and every write is retried
//! alone in its own transaction, so each gets its own exact answer. A write is answered only
//! after the transaction holding it has committed.
//!
//! [`WRITERS`] such tasks share the queue: while one batch waits for its commit (a network round
//! trip and PostgreSQL's WAL flush), the next batch is already being sent on another
//! connection. Concurrent batches are safe for the same reason several `serve` instances are:
//! every write carries its own version checks and unique keys, and a batch that loses a race
//! (or a deadlock) falls back to retrying its writes one by one.

use std::collections::HashMap;

use sqlx::AnyPool;
use tokio::sync::mpsc;

use crate::rows::{Stmt, Val, apply_statements, statements};
use crate::sqlite_writer::Job;
use crate::{Backend, Result, StoreError};

/// Most writes one transaction takes at once.
const MAX_BATCH: usize = 256;
/// Rows per merged statement come in these sizes only, so that the server-side prepared
/// statements stay few (a statement per size and shape).
const CHUNKS: [usize; 4] = [64, 16, 4, 1];
/// PostgreSQL's limit on bind parameters per statement.
const MAX_PARAMS: usize = 65_535;

/// Writer tasks (and so connections) committing batches concurrently.
const WRITERS: usize = 2;

pub(crate) fn spawn(pool: AnyPool) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(4096);
    let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..WRITERS {
        tokio::spawn(run(pool.clone(), rx.clone()));
    }
    tx
}

/// The next batch: the first waiting write and whatever else is queued behind it.
async fn next_batch(rx: &tokio::sync::Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
    let mut rx = rx.lock().await;
    let first = rx.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn run(pool: AnyPool, rx: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    while let Some(batch) = next_batch(&rx).await {
        let mut ready = Vec::with_capacity(batch.len());
        for job in batch {
            match statements(&job.ws) {
                Ok(s) => ready.push((job, s)),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        if ready.len() > 1 {
            let all: Vec<&[Stmt]> = ready.iter().map(|(_, s)| s.as_slice()).collect();
            match merged(&pool, &all).await {
                Ok(()) => {
                    for (job, _) in ready {
                        let _ = job.reply.send(Ok(()));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "merged batch failed; retrying each write alone")
                }
            }
        }
        for (job, stmts) in ready {
            let _ = job.reply.send(alone(&pool, &stmts).await);
        }
    }
}

async fn alone(pool: &AnyPool, stmts: &[Stmt]) -> Result<()> {
    let mut tx = pool.begin().await?;
    apply_statements(Backend::Postgres, &mut tx, stmts).await?;
    tx.commit().await?;
    Ok(())
}

/// `INSERT INTO … VALUES (…) [suffix]` without a row-count check can take many rows.
fn values_split(st: &Stmt) -> Option<(usize, usize)> {
    if st.expect_rows.is_some() || !st.sql.trim_start().starts_with("INSERT INTO") {
        return None;
    }
    let open = st.sql.find(" VALUES (")? + " VALUES ".len();
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, c) in st.sql[open..].char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some((open, open + i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

struct Group<'a> {
    first: &'a Stmt,
    rows: Vec<&'a [Val]>,
    template: Option<(usize, usize)>,
}

async fn merged(pool: &AnyPool, writes: &[&[Stmt]]) -> Result<()> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    // The latest group of each mergeable SQL text.
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for stmts in writes {
        // Where this write's previous statement went: its next one may not run earlier.
        let mut floor = 0usize;
        for st in stmts.iter() {
            let tpl = values_split(st);
            let target = match tpl {
                Some(_) => latest.get(st.sql.as_ref()).copied().filter(|&g| g >= floor),
                None => None,
            };
            let g = match target {
                Some(g) => {
                    groups[g].rows.push(&st.args);
                    g
                }
                None => {
                    groups.push(Group {
                        first: st,
                        rows: vec![&st.args],
                        template: tpl,
                    });
                    let g = groups.len() - 1;
                    if tpl.is_some() {
                        latest.insert(&st.sql, g);
                    }
                    g
                }
            };
            floor = g;
        }
    }
    let mut tx = pool.begin().await?;
    for g in &groups {
        match g.template {
            None => {
                // Row-count checks and unique-conflict names live on unmergeable statements,
                // which run as they are.
                apply_statements(Backend::Postgres, &mut tx, std::slice::from_ref(g.first)).await?;
            }
            Some((open, close)) => {
                let per_row = g.rows[0].len().max(1);
                let mut rest = g.rows.as_slice();
                while !rest.is_empty() {
                    let size = CHUNKS
                        .iter()
                        .copied()
                        .find(|&c| c <= rest.len() && c * per_row <= MAX_PARAMS)
                        .unwrap_or(1);
                    let (now, later) = rest.split_at(size);
                    rest = later;
                    let sql0: &str = &g.first.sql;
                    let tuple = &sql0[open..close];
                    let mut sql = String::with_capacity(sql0.len() + (tuple.len() + 2) * size);
                    sql.push_str(&sql0[..open]);
                    for i in 0..size {
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(tuple);
                    }
                    sql.push_str(&sql0[close..]);
                    let st = Stmt::new(sql, now.iter().flat_map(|r| r.iter().cloned()).collect());
                    apply_statements(Backend::Postgres, &mut tx, std::slice::from_ref(&st)).await?;
                }
            }
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
