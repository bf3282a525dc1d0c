//! Reads of the records of the rest of the plan (migration 0025): one table, a kind per sort of
//! record (drills, reserve items and movements, instructions, meetings, commendation and
//! accountability, attachments).

use sqlx::Row;
use uuid::Uuid;

use crate::rows::{subtree_range, uuid_col, vals};
use crate::{Result, Store, StreamRecord, Val};

/// A record's row.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub subject_id: Option<Uuid>,
    pub status: String,
    pub body: String,
}

const COLUMNS: &str = "yj_text(id), yj_text(jurisdiction_id), jurisdiction_path, yj_text(subject_id), status, yj_text(body)";

fn record_row(r: &sqlx::any::AnyRow) -> Result<RecordRow> {
    let subject: Option<String> = r.try_get(3)?;
    Ok(RecordRow {
        id: uuid_col(r, 0)?,
        jurisdiction_id: uuid_col(r, 1)?,
        jurisdiction_path: r.try_get(2)?,
        subject_id: subject.and_then(|s| s.parse().ok()),
        status: r.try_get(4)?,
        body: r.try_get(5)?,
    })
}

impl Store {
    /// A record of `kind` with its stream's head (version 0 and no head for a record without a
    /// stream of its own, such as a reserve movement).
    pub async fn get_record(&self, kind: &str, id: Uuid) -> Result<Option<StreamRecord>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(r.id), yj_text(r.jurisdiction_id), r.jurisdiction_path, COALESCE(s.version, 0), COALESCE(s.head_hash, ''), yj_text(r.body) FROM records r LEFT JOIN streams s ON s.id = r.id WHERE r.id = ? AND r.kind = ?",
                &vals![id, kind],
            )
            .await?;
        row.map(|r| {
            Ok(StreamRecord {
                id: uuid_col(&r, 0)?,
                jurisdiction_id: uuid_col(&r, 1)?,
                jurisdiction_path: r.try_get(2)?,
                version: r.try_get(3)?,
                head_hash: r.try_get(4)?,
                body: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// The records of `kind` in a subtree, newest first (at most `limit`).
    pub async fn list_records(
        &self,
        kind: &str,
        scope_path: &str,
        limit: i64,
    ) -> Result<Vec<RecordRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                &format!("SELECT {COLUMNS} FROM records WHERE kind = ? AND jurisdiction_path >= ? AND jurisdiction_path < ? ORDER BY id DESC LIMIT ?"),
                &[Val::from(kind), Val::from(lo), Val::from(hi), Val::Int(limit)],
            )
            .await?;
        rows.iter().map(record_row).collect()
    }

    /// The records of `kind` about one subject (an incident, a case, an item…), oldest first.
    pub async fn records_of(&self, subject_id: Uuid, kind: &str) -> Result<Vec<RecordRow>> {
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {COLUMNS} FROM records WHERE subject_id = ? AND kind = ? ORDER BY id"
                ),
                &vals![subject_id, kind],
            )
            .await?;
        rows.iter().map(record_row).collect()
    }

    /// Records of `kind` with something falling due at or before `now` (a `fmt_ts` time).
    pub async fn due_records(&self, kind: &str, now: &str, limit: i64) -> Result<Vec<Uuid>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(id) FROM records WHERE kind = ? AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
                &[Val::from(kind), Val::ts(now), Val::Int(limit)],
            )
            .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    /// An attachment's bytes kept in the database (base64, sealed when personal).
    pub async fn attachment_blob(&self, id: Uuid) -> Result<Option<String>> {
        let row = self
            .fetch_optional("SELECT data FROM attachment_blobs WHERE id = ?", &vals![id])
            .await?;
        row.map(|r| Ok(r.try_get(0)?)).transpose()
    }
}
