//! The PostgreSQL writer: group commit with one statement per table.
//!
//! Writes that arrive while a batch is being committed wait and go together in the next
//! transaction. Their statements are merged: the same `INSERT INTO t (…) VALUES (?, …)` from
//! many writes becomes one `INSERT … SELECT … FROM json_populate_recordset(NULL::t, ?)` whose
//! one parameter is a JSON array of the rows, so a batch of 64 reports costs one round trip per
//! table and one commit instead of six round trips and a commit each. (An `INSERT` whose
//! `VALUES` are not all bare placeholders falls back to multi-row `VALUES` statements of 64, 16,
//! 4 or 1 rows.) Each write's own statement order is kept (a statement joins an earlier
//! statement's group only if nothing of its write ran after that group). If the merged batch
//! fails for any reason — a stream version check, a unique key, a duplicate row inside one
//! upsert — it is rolled back and every write is retried alone in its own transaction, so each
//! gets its own exact answer. A write is answered only after the transaction holding it has
//! committed.
//!
//! [`WRITERS`] such tasks share the queue: while one batch waits for its commit (a network round
//! trip and PostgreSQL's WAL flush), the next batch is already being sent on another
//! connection. Concurrent batches are safe for the same reason several `serve` instances are:
//! every write carries its own version checks and unique keys, and a batch that loses a race
//! (or a deadlock) falls back to retrying its writes one by one. The writers run on a thread
//! and runtime of their own, with their own connections (see [`spawn`]).

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use tokio::sync::{mpsc, oneshot};

use crate::merge;
use crate::rows::{Stmt, Val, apply_statements};
use crate::sqlite_writer::Job;
use crate::{Backend, Result, StoreError};

/// Most writes one transaction takes at once.
const MAX_BATCH: usize = 256;
/// PostgreSQL's limit on bind parameters per statement.
const MAX_PARAMS: usize = 65_535;

/// Writer tasks (and so connections) committing batches concurrently.
const WRITERS: usize = 2;

/// Starts the writers on a thread of their own with its own single-threaded runtime and its own
/// connections. On the server's runtime every round trip of a batch woke the writer behind
/// dozens of request tasks in the run queue; a batch of eight statements then spent most of its
/// time waiting to be polled, not in PostgreSQL. Returns once the connections are open.
pub(crate) fn spawn(opts: AnyConnectOptions) -> Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel(4096);
    let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
    std::thread::Builder::new()
        .name("yingji-pg-writer".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(StoreError::Other(e.into())));
                    return;
                }
            };
            rt.block_on(async move {
                let pool = match AnyPoolOptions::new()
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // Incident bodies and event payloads are large enough to be
                            // compressed; lz4 (PostgreSQL 14+, when built with it) costs a
                            // fraction of the default pglz's CPU. Older servers keep pglz.
                            if let Err(e) = sqlx::Executor::execute(
                                &mut *conn,
                                "SET default_toast_compression = 'lz4'",
                            )
                            .await
                            {
                                tracing::debug!(error = %e, "lz4 compression unavailable; using the default");
                            }
                            Ok(())
                        })
                    })
                    .max_connections(WRITERS as u32)
                    .min_connections(WRITERS as u32)
                    .connect_with(opts)
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StoreError::Other(anyhow::anyhow!(
                            "connecting the writer: {e}"
                        ))));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let tasks: Vec<_> = (0..WRITERS)
                    .map(|_| tokio::spawn(run(pool.clone(), rx.clone())))
                    .collect();
                for t in tasks {
                    let _ = t.await;
                }
            });
        })
        .map_err(|e| StoreError::Other(anyhow::anyhow!("starting the writer thread: {e}")))?;
    ready_rx
        .recv()
        .map_err(|_| StoreError::Other(anyhow::anyhow!("the writer thread stopped")))??;
    Ok(tx)
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
        let ready: Vec<(oneshot::Sender<Result<()>>, Vec<Stmt>)> =
            batch.into_iter().map(|j| (j.reply, j.stmts)).collect();
        if ready.len() > 1 {
            let all: Vec<&[Stmt]> = ready.iter().map(|(_, s)| s.as_slice()).collect();
            match merged(&pool, &all).await {
                Ok(()) => {
                    for (reply, _) in ready {
                        let _ = reply.send(Ok(()));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "merged batch failed; retrying each write alone")
                }
            }
        }
        for (reply, stmts) in ready {
            let _ = reply.send(alone(&pool, &stmts).await);
        }
    }
}

async fn alone(pool: &AnyPool, stmts: &[Stmt]) -> Result<()> {
    let mut tx = pool.begin().await?;
    apply_statements(Backend::Postgres, &mut tx, stmts).await?;
    tx.commit().await?;
    Ok(())
}

/// `INSERT INTO t (c1, …, cn) VALUES (?, …, ?) [suffix]` with one bare placeholder per column:
/// the table, the column list and the suffix. Such a statement can take any number of rows as
/// one JSON parameter (see [`json_statement`]).
fn json_rows(st: &Stmt) -> Option<(&str, &str, &str)> {
    let rest = st.sql.trim_start().strip_prefix("INSERT INTO ")?;
    let (table, rest) = rest.split_once(" (")?;
    let (cols, rest) = rest.split_once(") VALUES (")?;
    let (tuple, suffix) = rest.split_once(')')?;
    let ok_table =
        !table.is_empty() && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let ncols = cols.split(',').count();
    let ok_cols = cols.split(',').all(|c| {
        !c.trim().is_empty()
            && c.trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    let ok_tuple = tuple.split(',').all(|p| p.trim() == "?") && tuple.split(',').count() == ncols;
    (ok_table && ok_cols && ok_tuple && st.args.len() == ncols && !suffix.contains('?'))
        .then_some((table, cols, suffix))
}

/// One statement for all the rows of a group: the rows go as a single JSON array, which
/// `json_populate_recordset` turns into rows of the table's own type. Text, ids, times and dates
/// travel as JSON strings (which PostgreSQL reads with the column type's own input function),
/// numbers as numbers, flags as `true`/`false`, and JSON documents as themselves (a json or
/// jsonb column takes the JSON value as it stands). One round trip and one prepared statement
/// whatever the batch size.
fn json_statement(first: &Stmt, rows: &[&[Val]]) -> Option<Stmt> {
    let (table, cols, suffix) = json_rows(first)?;
    let names: Vec<&str> = cols.split(',').map(str::trim).collect();
    let mut json = String::with_capacity(rows.len() * 256);
    json.push('[');
    for (i, row) in rows.iter().enumerate() {
        if row.len() != names.len() {
            return None;
        }
        if i > 0 {
            json.push(',');
        }
        json.push('{');
        for (k, (name, v)) in names.iter().zip(row.iter()).enumerate() {
            if k > 0 {
                json.push(',');
            }
            json.push('"');
            json.push_str(name);
            json.push_str("\":");
            match v {
                Val::Null(_) => json.push_str("null"),
                Val::Int(n) => json.push_str(&n.to_string()),
                Val::Real(f) if f.is_finite() => json.push_str(&f.to_string()),
                Val::Real(_) => return None,
                Val::Bool(b) => json.push_str(if *b { "true" } else { "false" }),
                Val::Uuid(u) => {
                    json.push('"');
                    json.push_str(
                        u.hyphenated()
                            .encode_lower(&mut uuid::Uuid::encode_buffer()),
                    );
                    json.push('"');
                }
                Val::Json(t) => json.push_str(t),
                Val::Text(t) | Val::Timestamp(t) | Val::Date(t) => {
                    json.push_str(&serde_json::to_string(t).ok()?)
                }
            }
        }
        json.push('}');
    }
    json.push(']');
    let sql = format!(
        "INSERT INTO {table} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{table}, ?::json) AS r{suffix}"
    );
    Some(Stmt {
        sql: sql.into(),
        args: vec![Val::Text(json)],
        expect_rows: None,
        conflict: first.conflict,
        unique: first.unique,
    })
}

async fn merged(pool: &AnyPool, writes: &[&[Stmt]]) -> Result<()> {
    let groups = merge::groups(writes);
    let mut tx = pool.begin().await?;
    // The writes' notices to other processes (`bus.rs`) go in one statement at the end (they
    // are delivered at commit in any case), not one round trip each.
    let mut notices: Vec<&str> = Vec::new();
    for g in &groups {
        if g.first.sql == crate::bus::NOTIFY_SQL
            && let [Val::Text(payload)] = g.first.args.as_slice()
        {
            notices.push(payload);
            continue;
        }
        match g.template {
            None => {
                // Row-count checks and unique-conflict names live on unmergeable statements,
                // which run as they are.
                apply_statements(Backend::Postgres, &mut tx, std::slice::from_ref(g.first)).await?;
            }
            Some(template) => {
                if g.rows.len() > 1
                    && let Some(st) = json_statement(g.first, &g.rows)
                {
                    apply_statements(Backend::Postgres, &mut tx, std::slice::from_ref(&st)).await?;
                    continue;
                }
                let sts = merge::values_statements(g, template, MAX_PARAMS);
                apply_statements(Backend::Postgres, &mut tx, &sts).await?;
            }
        }
    }
    if !notices.is_empty() {
        let all = serde_json::to_string(&notices).expect("texts serialise");
        let st = Stmt::new(
            format!(
                "SELECT pg_notify('{}', n) FROM json_array_elements_text(?::json) AS n",
                crate::bus::CHANNEL
            ),
            vec![Val::Text(all)],
        );
        apply_statements(Backend::Postgres, &mut tx, std::slice::from_ref(&st)).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::SqlType;

    fn st(sql: &'static str, n: usize) -> Stmt {
        Stmt::new(sql, vec![Val::Int(1); n])
    }

    #[test]
    fn only_bare_placeholder_inserts_take_the_json_form() {
        let ok = st(
            "INSERT INTO task_assignees (task_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            2,
        );
        assert_eq!(
            json_rows(&ok),
            Some((
                "task_assignees",
                "task_id, person_id",
                " ON CONFLICT DO NOTHING"
            ))
        );
        // An expression, a placeholder after VALUES, a count mismatch, or an UPDATE: no.
        for (sql, n) in [
            ("INSERT INTO t (a, b) VALUES (?, 0)", 1),
            (
                "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = ?",
                3,
            ),
            ("INSERT INTO t (a, b, c) VALUES (?, ?)", 2),
            ("UPDATE t SET a = ? WHERE b = ?", 2),
            ("INSERT INTO t (a, lower(b)) VALUES (?, ?)", 2),
        ] {
            assert_eq!(json_rows(&st(sql, n)), None, "{sql}");
        }
    }

    #[test]
    fn the_json_array_carries_every_value_by_column() {
        let first = Stmt::new("INSERT INTO t (a, b, c) VALUES (?, ?, ?)", vec![]);
        let r1 = vec![
            Val::Text("引\"号\n".into()),
            Val::Int(-7),
            Val::Null(SqlType::Text),
        ];
        let r2 = vec![
            Val::Text(String::new()),
            Val::Null(SqlType::Int),
            Val::Real(1.5),
        ];
        let stmt = json_statement(&Stmt::new(first.sql.clone(), r1.clone()), &[&r1, &r2]).unwrap();
        assert_eq!(
            stmt.sql,
            "INSERT INTO t (a, b, c) SELECT a, b, c FROM json_populate_recordset(NULL::t, ?::json) AS r"
        );
        let Val::Text(json) = &stmt.args[0] else {
            panic!("one text parameter")
        };
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"a": "引\"号\n", "b": -7, "c": null}, {"a": "", "b": null, "c": 1.5}])
        );
        // Typed values: ids and times as strings (read by the column type), flags as JSON
        // booleans, JSON documents as themselves.
        let typed = "INSERT INTO t (a, b, c, d, e) VALUES (?, ?, ?, ?, ?)";
        let row = vec![
            Val::Uuid(uuid::Uuid::from_u128(1)),
            Val::ts("2026-03-02T02:00:00.000000Z"),
            Val::Bool(true),
            Val::json(r#"{"k":[1,"二"]}"#),
            Val::Null(SqlType::Uuid),
        ];
        let stmt = json_statement(&Stmt::new(typed, row.clone()), &[&row]).unwrap();
        let Val::Text(json) = &stmt.args[0] else {
            panic!("one text parameter")
        };
        assert_eq!(
            json,
            r#"[{"a":"00000000-0000-0000-0000-000000000001","b":"2026-03-02T02:00:00.000000Z","c":true,"d":{"k":[1,"二"]},"e":null}]"#
        );
        // A non-finite number cannot travel as JSON: the group keeps the VALUES form.
        let bad = vec![Val::Real(f64::NAN), Val::Int(1), Val::Null(SqlType::Text)];
        assert!(json_statement(&Stmt::new(first.sql.clone(), bad.clone()), &[&bad]).is_none());
    }
}
