//! The search index (migration 0015): one row per term of a record (an incident, a case, a
//! dispute) with the record's jurisdiction path. A record's terms are written with it into
//! `search_pending` (migration 0021) and moved into the index many records at a time.
//! A search finds the records in a subtree that hold every term of the query, newest first.

use std::collections::BTreeSet;

use sqlx::Row as _;
use uuid::Uuid;

use crate::rows::{Row, Stmt, uuid_col};
use crate::{Backend, Result, Store, Val, subtree_range};

/// A record's terms, to be found by the search box: one row waiting in `search_pending`
/// (migration 0021), written with the record; the indexer ([`Store::index_pending`]) moves
/// them into `search_terms` many records at a time, and a search reads the waiting rows of
/// its subtree too. None when the record has no term. Written again for the same record, the
/// terms already indexed are kept.
pub fn index_row(
    kind: &'static str,
    id: Uuid,
    path: &str,
    terms: &BTreeSet<String>,
) -> Option<Row> {
    if terms.is_empty() {
        return None;
    }
    let joined = terms
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    Some(Row::Sql(Stmt::new(
        "INSERT INTO search_pending (subject_kind, subject_id, jurisdiction_path, terms) VALUES (?, ?, ?, ?)"
            .to_string(),
        vec![
            Val::Text(kind.to_string()),
            Val::Uuid(id),
            Val::Text(path.to_string()),
            Val::Text(joined),
        ],
    )))
}

/// A record's terms written straight into `search_terms`, not through `search_pending` (the
/// reindex of a database from before migration 0015, which indexes many records a write):
/// one statement per [`TERMS_PER_STATEMENT`] terms, none when the record has no term.
pub fn indexed_now(kind: &str, id: Uuid, path: &str, terms: &BTreeSet<String>) -> Vec<Row> {
    let rows: Vec<(&str, &str, Uuid, &str)> =
        terms.iter().map(|t| (t.as_str(), kind, id, path)).collect();
    term_rows(&rows)
}

/// `INSERT … ON CONFLICT DO NOTHING` statements for (term, kind, id, path) rows, at most
/// [`TERMS_PER_STATEMENT`] rows each.
fn term_rows(rows: &[(&str, &str, Uuid, &str)]) -> Vec<Row> {
    rows.chunks(TERMS_PER_STATEMENT)
        .map(|chunk| {
            let mut sql = String::from(
                "INSERT INTO search_terms (term, subject_kind, subject_id, jurisdiction_path) VALUES ",
            );
            let mut args = Vec::with_capacity(chunk.len() * 4);
            for (i, (t, kind, id, path)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str("(?, ?, ?, ?)");
                args.push(Val::Text((*t).to_string()));
                args.push(Val::Text((*kind).to_string()));
                args.push(Val::Uuid(*id));
                args.push(Val::Text((*path).to_string()));
            }
            sql.push_str(" ON CONFLICT DO NOTHING");
            Row::Sql(Stmt::new(sql, args))
        })
        .collect()
}

/// Rows of one `INSERT` into `search_terms` (four values each: well under either backend's
/// limit on bound values).
const TERMS_PER_STATEMENT: usize = 1000;

/// Records the indexer moves per transaction at most.
pub const INDEX_BATCH: i64 = 2000;

impl Store {
    /// Whether the search index has no term at all.
    pub async fn search_index_is_empty(&self) -> Result<bool> {
        Ok(self
            .fetch_optional(
                "SELECT 1 FROM search_terms UNION ALL SELECT 1 FROM search_pending LIMIT 1",
                &[],
            )
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
    ///
    /// The records still waiting for the indexer (`search_pending`) are matched too, so a
    /// record is found as soon as it is written.
    pub async fn search(
        &self,
        scope_path: &str,
        terms: &[String],
        limit: i64,
    ) -> Result<Vec<(String, Uuid)>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = self.search_indexed(scope_path, terms, limit).await?;
        let waiting = self.search_waiting(scope_path, terms).await?;
        if !waiting.is_empty() {
            out.extend(waiting);
            out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            out.dedup();
            out.truncate(usize::try_from(limit).unwrap_or(0));
        }
        Ok(out)
    }

    /// The records waiting for the indexer in the subtree at `scope_path` holding every one
    /// of `terms` (the indexer keeps few rows waiting: they are read and checked here).
    async fn search_waiting(
        &self,
        scope_path: &str,
        terms: &[String],
    ) -> Result<Vec<(String, Uuid)>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT subject_kind, yj_text(subject_id), terms FROM search_pending WHERE jurisdiction_path >= ? AND jurisdiction_path < ?",
                &[lo.into(), hi.into()],
            )
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let held: String = r.try_get(2)?;
            let held: std::collections::HashSet<&str> = held.split('\n').collect();
            if terms.iter().all(|t| held.contains(t.as_str())) {
                out.push((r.try_get::<String, _>(0)?, uuid_col(r, 1)?));
            }
        }
        Ok(out)
    }

    /// Moves up to `max` waiting records' terms into `search_terms`, oldest first, in one
    /// transaction (each term's index page written once for the whole batch). Answers how
    /// many records it moved. Safe to run in several processes at once: a term already there
    /// is kept, and only the rows read are removed.
    pub async fn index_pending(&self, max: i64) -> Result<usize> {
        let rows = self
            .fetch_all(
                "SELECT seq, subject_kind, yj_text(subject_id), jurisdiction_path, terms FROM search_pending ORDER BY seq LIMIT ?",
                &[max.into()],
            )
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut seqs: Vec<i64> = Vec::with_capacity(rows.len());
        let mut records: Vec<(String, Uuid, String, String)> = Vec::with_capacity(rows.len());
        for r in &rows {
            seqs.push(r.try_get(0)?);
            records.push((r.try_get(1)?, uuid_col(r, 2)?, r.try_get(3)?, r.try_get(4)?));
        }
        // In the index's own order, so that each page is visited once.
        let mut terms: Vec<(&str, &str, Uuid, &str)> = records
            .iter()
            .flat_map(|(kind, id, path, held)| {
                held.split('\n')
                    .filter(|t| !t.is_empty())
                    .map(move |t| (t, kind.as_str(), *id, path.as_str()))
            })
            .collect();
        terms.sort_unstable();
        terms.dedup();
        let mut ws = crate::WriteSet::default();
        ws.rows.extend(term_rows(&terms));
        for chunk in seqs.chunks(TERMS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(", ");
            ws.rows.push(Row::Sql(Stmt::new(
                format!("DELETE FROM search_pending WHERE seq IN ({marks})"),
                chunk.iter().map(|s| Val::from(*s)).collect(),
            )));
        }
        self.commit(ws).await?;
        Ok(records.len())
    }

    /// The search over the index itself (see [`Store::search`]).
    async fn search_indexed(
        &self,
        scope_path: &str,
        terms: &[String],
        limit: i64,
    ) -> Result<Vec<(String, Uuid)>> {
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
