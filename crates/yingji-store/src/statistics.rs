//! Reads for the statistics workbooks: incident counts in a subtree over a time range.

use sqlx::Row;
use uuid::Uuid;

use crate::rows::{subtree_range, uuid_col};
use crate::{Result, RoundRow, Store, Val};

/// Incidents counted in one group: level (None before assessment), the hour they were reported
/// in (`YYYY-MM-DDTHH`, UTC, so that the caller can place it in a local month), the
/// jurisdiction path, the kind and the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentCount {
    pub level: Option<String>,
    pub hour: String,
    pub jurisdiction_path: String,
    pub kind: String,
    pub status: String,
    pub count: i64,
}

impl Store {
    /// Incidents (drills left out) reported in `[from, to)` (timestamps as the store writes
    /// them) in the subtree at `scope_path`, counted per level, hour, jurisdiction, kind and
    /// status. One grouped scan: the rows it answers are bounded by the groups, not the
    /// incidents.
    pub async fn incident_counts(
        &self,
        scope_path: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<IncidentCount>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT level, substr(yj_text(reported_at), 1, 13), jurisdiction_path, kind, status, CAST(COUNT(*) AS BIGINT) \
                 FROM incidents WHERE drill = ? AND jurisdiction_path >= ? AND jurisdiction_path < ? \
                 AND reported_at >= ? AND reported_at < ? \
                 GROUP BY level, substr(yj_text(reported_at), 1, 13), jurisdiction_path, kind, status",
                &[
                    Val::Bool(false),
                    Val::from(lo),
                    Val::from(hi),
                    Val::Timestamp(from.to_string()),
                    Val::Timestamp(to.to_string()),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentCount {
                    level: r.try_get(0)?,
                    hour: r.try_get(1)?,
                    jurisdiction_path: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    status: r.try_get(4)?,
                    count: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The screening rounds opened in `[from, to)` in the subtree at `scope_path`, oldest
    /// first.
    pub async fn rounds_opened(
        &self,
        scope_path: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<RoundRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT yj_text(id), yj_text(jurisdiction_id), jurisdiction_path, cadence, round_key, yj_text(opened_at) \
                 FROM screening_rounds WHERE jurisdiction_path >= ? AND jurisdiction_path < ? \
                 AND opened_at >= ? AND opened_at < ? ORDER BY opened_at, round_key",
                &[
                    Val::from(lo),
                    Val::from(hi),
                    Val::Timestamp(from.to_string()),
                    Val::Timestamp(to.to_string()),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RoundRow {
                    id: uuid_col(r, 0)?,
                    jurisdiction_id: uuid_col(r, 1)?,
                    jurisdiction_path: r.try_get(2)?,
                    cadence: r.try_get(3)?,
                    round_key: r.try_get(4)?,
                    opened_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// A release with its stream head.
    pub async fn get_release(&self, id: Uuid) -> Result<Option<crate::StreamRecord>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(r.id), yj_text(r.jurisdiction_id), r.jurisdiction_path, s.version, s.head_hash, yj_text(r.body) FROM releases r JOIN streams s ON s.id = r.id WHERE r.id = ?",
                &[Val::Uuid(id)],
            )
            .await?;
        row.map(|r| {
            Ok(crate::StreamRecord {
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

    /// The releases of a subtree (their bodies), newest first.
    pub async fn list_releases(&self, scope_path: &str, limit: i64) -> Result<Vec<String>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT yj_text(body) FROM releases WHERE jurisdiction_path >= ? AND jurisdiction_path < ? ORDER BY id DESC LIMIT ?",
                &[Val::from(lo), Val::from(hi), Val::Int(limit)],
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The published releases of every jurisdiction (their bodies), newest first: what the
    /// public page and the CAP feed show.
    pub async fn published_releases(&self, limit: i64) -> Result<Vec<String>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(body) FROM releases WHERE published_at IS NOT NULL ORDER BY published_at DESC, id DESC LIMIT ?",
                &[Val::Int(limit)],
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
