//! The search index (migration 0015): one row per term of a record (an incident, a case, a
//! dispute) with the record's jurisdiction path, written in the same transaction as the record.
//! A search finds the records in a subtree that hold every term of the query, newest first.

use std::collections::BTreeSet;

use sqlx::Row as _;
use uuid::Uuid;

use crate::rows::{Row, Stmt, uuid_col};
use crate::{Result, Store, Val, subtree_range};

/// The rows of one record's terms (none when it has no term). Written again for the same
/// record, the terms already there are kept.
pub fn index_row(
    kind: &'static str,
    id: Uuid,
    path: &str,
    terms: &BTreeSet<String>,
) -> Option<Row> {
    if terms.is_empty() {
        return None;
    }
    let mut sql = String::from(
        "INSERT INTO search_terms (term, subject_kind, subject_id, jurisdiction_path) VALUES ",
    );
    let mut args = Vec::with_capacity(terms.len() * 4);
    for (i, t) in terms.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?)");
        args.push(Val::Text(t.clone()));
        args.push(Val::Text(kind.to_string()));
        args.push(Val::Uuid(id));
        args.push(Val::Text(path.to_string()));
    }
    sql.push_str(" ON CONFLICT DO NOTHING");
    Some(Row::Sql(Stmt::new(sql, args)))
}

impl Store {
    /// Whether the search index has no term at all.
    pub async fn search_index_is_empty(&self) -> Result<bool> {
        Ok(self
            .fetch_optional("SELECT 1 FROM search_terms LIMIT 1", &[])
            .await?
            .is_none())
    }

    /// The records in the subtree at `scope_path` holding every one of `terms`, newest first:
    /// (kind, id). The first term drives the scan (callers put the most selective first).
    pub async fn search(
        &self,
        scope_path: &str,
        terms: &[String],
        limit: i64,
    ) -> Result<Vec<(String, Uuid)>> {
        let Some((first, rest)) = terms.split_first() else {
            return Ok(Vec::new());
        };
        let (lo, hi) = subtree_range(scope_path);
        let mut sql = String::from(
            "SELECT t0.subject_kind, yj_text(t0.subject_id) FROM search_terms t0 WHERE t0.term = ? AND t0.jurisdiction_path >= ? AND t0.jurisdiction_path < ?",
        );
        let mut args: Vec<Val> = vec![first.clone().into(), lo.into(), hi.into()];
        for t in rest {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM search_terms t1 WHERE t1.term = ? AND t1.subject_kind = t0.subject_kind AND t1.subject_id = t0.subject_id)",
            );
            args.push(t.clone().into());
        }
        sql.push_str(" ORDER BY t0.subject_id DESC LIMIT ?");
        args.push(limit.into());
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, uuid_col(r, 1)?)))
            .collect()
    }
}
