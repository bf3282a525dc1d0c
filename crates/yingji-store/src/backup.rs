//! Online backup and restore for both backends (issue 7).
//!
//! `backup` reads every table inside ONE read transaction — a snapshot: on SQLite (WAL) the
//! snapshot is fixed at the first read and the writer keeps writing meanwhile; on PostgreSQL the
//! transaction is `REPEATABLE READ READ ONLY`. So the file holds exactly the writes committed
//! before the snapshot began, while the server keeps serving. The file is JSON lines: a header
//! naming the format, the source backend and the applied migrations, then per table a line with
//! its columns followed by one line per row. It restores into either backend.
//!
//! `restore` writes a backup into an EMPTY database (migrated to the same schema) in one
//! transaction, parents before children.
//!
//! Values are written as the store reads them: ids, times (`fmt_ts` text), dates and JSON as
//! strings, flags as booleans on PostgreSQL and 0/1 on SQLite, so that a backup of either
//! backend restores into the other; `restore` gives each value its column's type.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use serde_json::{Value, json};
use sqlx::{Row as _, TypeInfo as _, ValueRef as _};

use crate::rows::bind;
use crate::sql::expand;
use crate::{Backend, Result, SqlType, Store, StoreError, Val};

pub const FORMAT: &str = "yingji-backup/1";

#[derive(Debug, Default, Clone)]
pub struct BackupSummary {
    /// Rows per table.
    pub tables: BTreeMap<String, usize>,
}

impl BackupSummary {
    pub fn rows(&self) -> usize {
        self.tables.values().sum()
    }
}

fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("{e}"))
}

/// The type the store gives a column declared as `decl` (SQLite's TEXT/INTEGER, or
/// PostgreSQL's `information_schema` names, upper-cased).
fn sql_type(decl: &str) -> SqlType {
    match decl {
        "UUID" => SqlType::Uuid,
        "DATE" => SqlType::Date,
        "JSON" | "JSONB" => SqlType::Json,
        d if d.starts_with("TIMESTAMP") => SqlType::Timestamp,
        d if d.contains("BOOL") => SqlType::Bool,
        d if d.contains("INT") => SqlType::Int,
        d if d.contains("REAL") || d.contains("DOUBLE") || d.contains("FLOAT") => SqlType::Real,
        _ => SqlType::Text,
    }
}

/// A backed-up value as a value of its column's type here: a flag from PostgreSQL becomes 0/1 on
/// SQLite and the other way round.
fn cell_val(v: &Value, ty: SqlType) -> Result<Val> {
    Ok(match (v, ty) {
        (Value::Null, t) => Val::Null(t),
        (Value::Bool(b), SqlType::Bool) => Val::Bool(*b),
        (Value::Bool(b), SqlType::Int) => Val::Int(i64::from(*b)),
        (Value::Number(n), SqlType::Bool) => Val::Bool(n.as_i64() != Some(0)),
        (Value::Number(n), SqlType::Int) => Val::Int(
            n.as_i64()
                .ok_or_else(|| other(format!("{n} is not an integer")))?,
        ),
        (Value::Number(n), SqlType::Real) => Val::Real(n.as_f64().unwrap_or(f64::NAN)),
        (Value::String(s), SqlType::Uuid) => Val::Uuid(crate::parse_uuid(s)?),
        (Value::String(s), SqlType::Timestamp) => Val::Timestamp(s.clone()),
        (Value::String(s), SqlType::Date) => Val::Date(s.clone()),
        (Value::String(s), SqlType::Json) => Val::Json(s.clone()),
        (Value::String(s), _) => Val::Text(s.clone()),
        (Value::Number(n), _) => Val::Text(n.to_string()),
        (Value::Bool(b), _) => Val::Text(b.to_string()),
        _ => return Err(other("the backup holds a nested value")),
    })
}

fn cell(r: &sqlx::any::AnyRow, i: usize) -> Result<Value> {
    let raw = r.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let ty = raw.type_info().name().to_ascii_uppercase();
    if ty.contains("INT")
        && let Ok(v) = r.try_get::<i64, _>(i)
    {
        return Ok(json!(v));
    }
    if (ty.contains("REAL") || ty.contains("DOUBLE") || ty.contains("FLOAT"))
        && let Ok(v) = r.try_get::<f64, _>(i)
    {
        return Ok(json!(v));
    }
    if ty.contains("BOOL")
        && let Ok(v) = r.try_get::<bool, _>(i)
    {
        return Ok(json!(v));
    }
    if let Ok(v) = r.try_get::<String, _>(i) {
        return Ok(json!(v));
    }
    if let Ok(v) = r.try_get::<i64, _>(i) {
        return Ok(json!(v));
    }
    if let Ok(v) = r.try_get::<f64, _>(i) {
        return Ok(json!(v));
    }
    Err(other(format!("column type {ty} cannot be backed up")))
}

impl Store {
    /// The application's tables (not the migration bookkeeping), parents before children.
    pub async fn tables_in_order(&self) -> Result<Vec<String>> {
        let names: Vec<String> = match self.backend() {
            Backend::Sqlite => sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?,
            Backend::Postgres => sqlx::query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY table_name",
            )
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?,
        };
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in &names {
            let parents: Vec<String> = match self.backend() {
                Backend::Sqlite => sqlx::query("SELECT \"table\" FROM pragma_foreign_key_list(?)")
                    .bind(t.clone())
                    .fetch_all(self.pool())
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<std::result::Result<_, _>>()?,
                Backend::Postgres => sqlx::query(
                    "SELECT p.relname::text FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE c.contype = 'f' AND t.relname = $1 AND n.nspname = current_schema()",
                )
                .bind(t.clone())
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<std::result::Result<_, _>>()?,
            };
            deps.insert(t.clone(), parents.into_iter().filter(|p| p != t).collect());
        }
        // Topological order, alphabetical among equals.
        let mut out = Vec::new();
        let mut done = BTreeSet::new();
        while out.len() < names.len() {
            let next = names
                .iter()
                .find(|t| !done.contains(*t) && deps[*t].iter().all(|p| done.contains(p)))
                .or_else(|| names.iter().find(|t| !done.contains(*t)))
                .expect("a table is left")
                .clone();
            done.insert(next.clone());
            out.push(next);
        }
        Ok(out)
    }

    async fn migrations_applied(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }

    /// Writes a consistent snapshot of the whole database to `out` while the store keeps
    /// serving. The file is written next to `out` and renamed into place when complete.
    pub async fn backup(&self, out: &Path) -> Result<BackupSummary> {
        self.backup_with(out, None).await
    }

    /// [`Store::backup`], with the attachments a SQLite deployment keeps on disk
    /// (`<id>.att` files in `attachments`) written into the backup as rows of
    /// `attachment_blobs`, so one file holds everything and restores into either backend
    /// (whose downloads read a file missing on disk from `attachment_blobs`). A file is listed
    /// after the snapshot begins: every attachment the snapshot names is on disk by then (its
    /// file is synced before its record commits); one of a record committed later is carried
    /// along unnamed, which is harmless.
    pub async fn backup_with(
        &self,
        out: &Path,
        attachments: Option<&Path>,
    ) -> Result<BackupSummary> {
        let tables = self.tables_in_order().await?;
        let migrations = self.migrations_applied().await?;
        let tmp = out.with_extension("partial");
        let file = std::fs::File::create(&tmp)
            .map_err(|e| other(format!("creating {}: {e}", tmp.display())))?;
        let mut w = BufWriter::new(file);
        let mut summary = BackupSummary::default();
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let header = json!({
            "format": FORMAT,
            "backend": match self.backend() { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
            "migrations": migrations,
            "tables": tables,
        });
        let line = |w: &mut BufWriter<std::fs::File>, v: &Value| -> Result<()> {
            serde_json::to_writer(&mut *w, v).map_err(other)?;
            w.write_all(b"\n").map_err(other)
        };
        line(&mut w, &header)?;
        // Each table's rows are counted first in the same snapshot: the count goes before the
        // rows in the file, and the sum is the whole the progress report counts towards. Rows
        // are then streamed, so a table of millions never sits in memory.
        let mut counts = Vec::with_capacity(tables.len());
        for t in &tables {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{t}\""))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            counts.push(n as usize);
        }
        // The attachments on disk, by id (none of them is also a row of the table: a
        // deployment keeps its attachments in one place or the other).
        let on_disk = match attachments {
            Some(dir) => disk_attachments(dir)?,
            None => vec![],
        };
        if let Some(i) = tables.iter().position(|t| t == "attachment_blobs") {
            counts[i] += on_disk.len();
        }
        let total = counts.iter().sum::<usize>() as u64;
        let mut done = 0u64;
        self.progress("backup", 0, Some(total), "rows");
        for (t, &count) in tables.iter().zip(&counts) {
            // Table and column names come from the catalog, not from input. Typed PostgreSQL
            // columns are read as the store's text (`yj_text`, see `sql.rs`).
            let types = self.column_types(t).await?;
            let columns: Vec<&str> = types.iter().map(|(c, _)| c.as_str()).collect();
            let select = types
                .iter()
                .map(|(c, ty)| match sql_type(ty) {
                    SqlType::Uuid | SqlType::Timestamp | SqlType::Date | SqlType::Json => {
                        format!("yj_text(\"{c}\") AS \"{c}\"")
                    }
                    _ => format!("\"{c}\""),
                })
                .collect::<Vec<_>>()
                .join(", ");
            line(
                &mut w,
                &json!({ "table": t, "columns": columns, "rows": count }),
            )?;
            let sql = expand(
                self.backend(),
                &format!("SELECT {select} FROM \"{t}\""),
                &[],
            );
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut n = 0usize;
            while let Some(r) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                let vals = (0..columns.len())
                    .map(|i| cell(&r, i))
                    .collect::<Result<Vec<_>>>()?;
                line(&mut w, &Value::Array(vals))?;
                n += 1;
                done += 1;
                if done.is_multiple_of(5_000) {
                    self.progress("backup", done, Some(total), "rows");
                }
            }
            drop(rows);
            if t == "attachment_blobs" {
                for (id, path) in &on_disk {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| other(format!("reading {}: {e}", path.display())))?;
                    line(&mut w, &json!([id, text]))?;
                    n += 1;
                    done += 1;
                }
            }
            if n != count {
                // Cannot happen inside one snapshot; a file that disagrees with itself would
                // be refused at restore, so refuse to write it.
                return Err(other(format!(
                    "table {t} gave {n} rows where it counted {count}"
                )));
            }
            summary.tables.insert(t.clone(), n);
        }
        self.progress("backup", done, Some(total), "rows");
        tx.rollback().await?;
        line(&mut w, &json!({ "end": true, "rows": summary.rows() }))?;
        let file = w.into_inner().map_err(|e| other(e.error()))?;
        file.sync_all().map_err(other)?;
        drop(file);
        std::fs::rename(&tmp, out)
            .map_err(|e| other(format!("renaming into {}: {e}", out.display())))?;
        Ok(summary)
    }

    /// Each column of a table with its declared type, in the table's order.
    async fn column_types(&self, table: &str) -> Result<Vec<(String, String)>> {
        let rows = match self.backend() {
            Backend::Sqlite => {
                sqlx::query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table.to_string())
                    .fetch_all(self.pool())
                    .await?
            }
            Backend::Postgres => {
                sqlx::query(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(table.to_string())
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0)?,
                    r.try_get::<String, _>(1)?.to_ascii_uppercase(),
                ))
            })
            .collect()
    }

    /// Restores a backup file into this store, which must be empty (migrated, no rows).
    pub async fn restore(&self, file: &Path) -> Result<BackupSummary> {
        let f = std::fs::File::open(file)
            .map_err(|e| other(format!("opening {}: {e}", file.display())))?;
        let size = f.metadata().ok().map(|m| m.len());
        let mut lines = std::io::BufReader::new(f).lines();
        // Bytes read so far, and how many lines since the last progress report.
        let mut read = 0u64;
        let mut since = 0u32;
        let mut next = || -> Result<Option<Value>> {
            match lines.next() {
                None => Ok(None),
                Some(l) => {
                    let l = l.map_err(other)?;
                    read += l.len() as u64 + 1;
                    since += 1;
                    if since == 5_000 {
                        since = 0;
                        self.progress("restore", read, size, "bytes");
                    }
                    serde_json::from_str(&l)
                        .map(Some)
                        .map_err(|e| other(format!("the backup is damaged: {e}")))
                }
            }
        };
        let header = next()?.ok_or_else(|| other("the backup file is empty"))?;
        if header["format"] != FORMAT {
            return Err(other(format!(
                "not a yingji backup (format {}, expected {FORMAT})",
                header["format"]
            )));
        }
        let ours = self.migrations_applied().await?;
        let theirs: Vec<i64> =
            serde_json::from_value(header["migrations"].clone()).map_err(other)?;
        if ours != theirs {
            return Err(other(format!(
                "the backup was taken at schema migrations {theirs:?}; this database is at {ours:?}; restore with the matching yingji version"
            )));
        }
        let tables = self.tables_in_order().await?;
        for t in &tables {
            let r = sqlx::query(&format!("SELECT COUNT(*) FROM \"{t}\""))
                .fetch_one(self.pool())
                .await?;
            if r.try_get::<i64, _>(0)? != 0 {
                return Err(other(format!(
                    "the target database is not empty (table {t} has rows); restore only into an empty database"
                )));
            }
        }
        let mut summary = BackupSummary::default();
        let mut conn = self.pool().acquire().await?;
        if self.backend() == Backend::Sqlite {
            // Self-references (jurisdictions) are checked once everything is in.
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await?;
        }
        let result: Result<()> = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let mut ended = false;
            while let Some(v) = next()? {
                if v.get("end").is_some() {
                    let want = v["rows"].as_u64().unwrap_or(0) as usize;
                    if want != summary.rows() {
                        return Err(other(format!(
                            "the backup is truncated: {} rows read, {want} expected",
                            summary.rows()
                        )));
                    }
                    ended = true;
                    break;
                }
                let table = v["table"]
                    .as_str()
                    .ok_or_else(|| other("the backup is damaged: table line expected"))?
                    .to_string();
                if !tables.contains(&table) {
                    return Err(other(format!("the backup has a table `{table}` this schema lacks")));
                }
                let count = v["rows"].as_u64().unwrap_or(0) as usize;
                let columns: Vec<String> =
                    serde_json::from_value(v["columns"].clone()).map_err(other)?;
                let declared: BTreeMap<String, String> =
                    self.column_types(&table).await?.into_iter().collect();
                let types = columns
                    .iter()
                    .map(|c| match declared.get(c) {
                        Some(ty) => Ok(sql_type(ty)),
                        None => Err(other(format!("table {table} has no column `{c}` here"))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let cols = columns
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let marks = vec!["?"; columns.len()].join(", ");
                let overriding = if self.backend() == Backend::Postgres {
                    " OVERRIDING SYSTEM VALUE"
                } else {
                    ""
                };
                // Every value takes its column's type here, so the casts are the same per row.
                let typed: Vec<Val> = types.iter().map(|t| Val::Null(*t)).collect();
                let sql = expand(
                    self.backend(),
                    &format!("INSERT INTO \"{table}\" ({cols}){overriding} VALUES ({marks})"),
                    &typed,
                );
                for _ in 0..count {
                    let row = next()?.ok_or_else(|| other("the backup is truncated"))?;
                    let vals = row
                        .as_array()
                        .filter(|a| a.len() == columns.len())
                        .ok_or_else(|| other(format!("the backup is damaged in table {table}")))?
                        .iter()
                        .zip(&types)
                        .map(|(v, t)| cell_val(v, *t))
                        .collect::<Result<Vec<_>>>()?;
                    bind(sqlx::query(&sql), &vals).execute(&mut *tx).await?;
                }
                summary.tables.insert(table, count);
            }
            if !ended {
                return Err(other("the backup is truncated: no end marker"));
            }
            if self.backend() == Backend::Postgres {
                // Identity columns continue after the restored rows.
                let ids = sqlx::query(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval%')",
                )
                .fetch_all(&mut *tx)
                .await?;
                for r in ids {
                    let (t, c): (String, String) = (r.try_get(0)?, r.try_get(1)?);
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('\"{t}\"', '{c}'), COALESCE((SELECT MAX(\"{c}\") FROM \"{t}\"), 0) + 1, false)"
                    ))
                    .execute(&mut *tx)
                    .await?;
                }
            } else {
                let bad = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await?;
                if !bad.is_empty() {
                    return Err(other(format!(
                        "the backup breaks {} foreign key(s); nothing was restored",
                        bad.len()
                    )));
                }
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if self.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut *conn)
                .await?;
        }
        if result.is_ok()
            && let Some(size) = size
        {
            self.progress("restore", size, Some(size), "bytes");
        }
        result.map(|()| summary)
    }
}

/// The attachment files in `dir` (`<id>.att`), by id; none when the directory does not exist.
fn disk_attachments(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(other(format!("reading {}: {e}", dir.display()))),
    };
    let mut out = vec![];
    for e in entries {
        let path = e.map_err(other)?.path();
        let id = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".att"))
            .and_then(|n| uuid::Uuid::parse_str(n).ok());
        if let Some(id) = id {
            out.push((id.to_string(), path));
        }
    }
    out.sort();
    Ok(out)
}
