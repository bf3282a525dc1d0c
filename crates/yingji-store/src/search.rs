//! The search index (migration 0015): one row per term of a record (an incident, a case, a
//! dispute) with the record's jurisdiction path, written in the same transaction as the record.
//! A search finds the records in a subtree that hold every term of the query, newest first.

use std::collections::BTreeSet;

use sqlx::Row as _;
use uuid::Uuid;

use crate::rows::{Row, Stmt, uuid_col};
use crate::{Backend, Result, Store, Val, subtree_range};

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
    /// (kind, id).
    ///
    /// Each term's rows in the subtree are counted first, up to [`SMALL_AREA`] and no further
    /// than the rarest term so far (an index range); a term with none there ends the search.
    /// The rarest term drives: when the subtree holds few of its rows they are read through
    /// `(term, jurisdiction_path, subject_id)`, newest first, and the other terms checked a
    /// batch of records at a time until a page is full; when it holds many, the term's rows
    /// are walked newest first by `(term, subject_id)` (the table's own key on SQLite, a
    /// covering index on PostgreSQL), the other terms checked per record, until a page is
    /// found.
    pub async fn search(
        &self,
        scope_path: &str,
        terms: &[String],
        limit: i64,
    ) -> Result<Vec<(String, Uuid)>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let (lo, hi) = subtree_range(scope_path);
        let sqlite = self.backend() == Backend::Sqlite;
        let mut counted: Vec<(i64, &String)> = Vec::with_capacity(terms.len());
        // A term is counted only as far as the rarest so far (it cannot drive otherwise).
        let mut cap = SMALL_AREA;
        for t in terms {
            let n: i64 = self
                .fetch_one(
                    &format!(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM search_terms {} WHERE term = ? AND jurisdiction_path >= ? AND jurisdiction_path < ? LIMIT ?) c",
                        if sqlite { "INDEXED BY search_terms_scope" } else { "" }
                    ),
                    &[
                        t.clone().into(),
                        lo.clone().into(),
                        hi.clone().into(),
                        (cap + 1).into(),
                    ],
                )
                .await?
                .try_get(0)?;
            if n == 0 {
                return Ok(Vec::new());
            }
            cap = cap.min(n);
            counted.push((n, t));
        }
        counted.sort_by_key(|(n, _)| *n);
        let (n, first) = counted[0];
        let rest: Vec<&String> = counted[1..].iter().map(|(_, t)| *t).collect();
        if n > SMALL_AREA {
            return self.walk(first, &rest, lo, hi, limit).await;
        }
        // Few rows: all of the driver's records in the area, newest first…
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT subject_kind, yj_text(subject_id) FROM search_terms {} WHERE term = ? AND jurisdiction_path >= ? AND jurisdiction_path < ? ORDER BY subject_id DESC",
                    if sqlite { "INDEXED BY search_terms_scope" } else { "" }
                ),
                &[first.clone().into(), lo.into(), hi.into()],
            )
            .await?;
        let candidates: Vec<(String, Uuid)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, uuid_col(r, 1)?)))
            .collect::<Result<_>>()?;
        // …then the other terms checked a batch at a time, newest first, until a page is full
        // (a common second word settles in the first batch).
        let limit = usize::try_from(limit).unwrap_or(0);
        let mut out = Vec::new();
        let mut size = 64;
        let mut at = 0;
        while at < candidates.len() && out.len() < limit {
            let batch = &candidates[at..(at + size).min(candidates.len())];
            at += batch.len();
            size = (size * 2).min(1000);
            let mut keep: Vec<bool> = vec![true; batch.len()];
            for t in &rest {
                let held = self.holding(t, batch).await?;
                for (k, c) in keep.iter_mut().zip(batch) {
                    *k = *k && held.contains(c);
                }
            }
            out.extend(
                batch
                    .iter()
                    .zip(keep)
                    .filter(|(_, k)| *k)
                    .map(|(c, _)| c.clone()),
            );
        }
        out.truncate(limit);
        Ok(out)
    }

    /// Which of `records` hold `term`.
    async fn holding(
        &self,
        term: &str,
        records: &[(String, Uuid)],
    ) -> Result<std::collections::HashSet<(String, Uuid)>> {
        let mut sql = String::from(
            "SELECT subject_kind, yj_text(subject_id) FROM search_terms WHERE term = ? AND subject_id IN (",
        );
        let mut args: Vec<Val> = Vec::with_capacity(records.len() + 1);
        args.push(term.into());
        for (i, (_, id)) in records.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push((*id).into());
        }
        sql.push(')');
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, uuid_col(r, 1)?)))
            .collect()
    }

    /// Many rows: the driver's records walked newest first by `(term, subject_id)` until a
    /// page holds the other terms too.
    async fn walk(
        &self,
        first: &str,
        rest: &[&String],
        lo: String,
        hi: String,
        limit: i64,
    ) -> Result<Vec<(String, Uuid)>> {
        let sqlite = self.backend() == Backend::Sqlite;
        // The path is compared as an expression so that no planner takes the range index
        // (and a sort of the many rows) over the newest-first walk.
        let mut sql = format!(
            "SELECT t0.subject_kind, yj_text(t0.subject_id) FROM search_terms t0 {} WHERE t0.term = ? AND (t0.jurisdiction_path || '') >= ? AND (t0.jurisdiction_path || '') < ?",
            // SQLite: the table itself, keyed (term, subject_id, …).
            if sqlite { "NOT INDEXED" } else { "" }
        );
        let mut args: Vec<Val> = vec![first.into(), lo.into(), hi.into()];
        for t in rest {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM search_terms t1 WHERE t1.term = ? AND t1.subject_kind = t0.subject_kind AND t1.subject_id = t0.subject_id)",
            );
            args.push((*t).clone().into());
        }
        sql.push_str(" ORDER BY t0.subject_id DESC LIMIT ?");
        args.push(limit.into());
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, uuid_col(r, 1)?)))
            .collect()
    }
}

/// Up to this many rows of a term in the searched subtree, they are read and sorted; above
/// it, the term's rows are walked newest first (see [`Store::search`]).
pub const SMALL_AREA: i64 = 4000;
