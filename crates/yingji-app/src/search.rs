//! The search box: incidents, petition cases and disputes in the actor's area that hold every
//! term of a query (case number, title, grievance, petitioners' names, place), newest first,
//! each only where the actor may view its kind. Terms: `yingji_domain::search::terms`; the
//! index is written with each record (migrations 0015, 0016).

use std::cmp::Reverse;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Actor, App, AppError, Permission};

/// One record found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    /// `incident`, `case` or `dispute`.
    pub kind: String,
    pub id: Uuid,
    /// The case number and title, or the title.
    pub title: String,
    /// The record's status (its id, e.g. `active`, `replied`, `mediating`).
    pub status: String,
}

/// At most this many records answer a search.
pub const LIMIT: i64 = 50;

/// The query's terms, longer words first, then pairs, single characters last (a long query
/// keeps its most telling terms); the store drives the search by the rarest of them in the
/// area.
pub fn query_terms(q: &str) -> Vec<String> {
    let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
    let mut t: Vec<String> = yingji_domain::search::terms(&q).into_iter().collect();
    t.sort_by_key(|x| (x.chars().count() == 1, Reverse(x.chars().count())));
    t.truncate(MAX_QUERY_TERMS);
    t
}

/// A query is read up to this many characters…
pub const MAX_QUERY_CHARS: usize = 200;
/// …and matched on at most this many of its terms (the most selective).
pub const MAX_QUERY_TERMS: usize = 12;

/// The records in the actor's area holding every term of `q`, newest first, that the actor
/// may view.
pub async fn search(app: &App, actor: &Actor, q: &str) -> Result<Vec<Hit>, AppError> {
    let terms = query_terms(q);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (kind, id) in app.store.search(&actor.scope_path, &terms, LIMIT).await? {
        let hit = match kind.as_str() {
            "case" => {
                let Some(r) = app.store.case_summary(id).await? else {
                    continue;
                };
                let Some(j) = app.store.jurisdiction(r.jurisdiction_id).await? else {
                    continue;
                };
                if !actor.sees(&j.path) || !actor.may(app, Permission::ViewCases, &j.path) {
                    continue;
                }
                Hit {
                    kind,
                    id,
                    title: format!("{} {}", r.case_number, r.title),
                    status: r.status,
                }
            }
            "incident" => {
                let Some(r) = app.store.get_incident(id).await? else {
                    continue;
                };
                if !actor.sees(&r.jurisdiction_path)
                    || !actor.may(app, Permission::ViewIncidents, &r.jurisdiction_path)
                {
                    continue;
                }
                let v: serde_json::Value =
                    serde_json::from_str(&r.body).map_err(AppError::internal)?;
                Hit {
                    kind,
                    id,
                    title: v["title"].as_str().unwrap_or_default().to_string(),
                    status: v["status"].as_str().unwrap_or_default().to_string(),
                }
            }
            "dispute" => {
                let Some(r) = app.store.get_dispute(id).await? else {
                    continue;
                };
                if !actor.sees(&r.jurisdiction_path)
                    || !actor.may(app, Permission::ViewDisputes, &r.jurisdiction_path)
                {
                    continue;
                }
                let v: serde_json::Value =
                    serde_json::from_str(&r.body).map_err(AppError::internal)?;
                Hit {
                    kind,
                    id,
                    title: v["title"].as_str().unwrap_or_default().to_string(),
                    status: v["status"].as_str().unwrap_or_default().to_string(),
                }
            }
            _ => continue,
        };
        out.push(hit);
    }
    Ok(out)
}

/// Indexes every incident, case and dispute already stored (a database from before migration
/// 0015, whose records were written without their terms), a few hundred records a write,
/// straight into the index (not through `search_pending`, which a search reads whole).
/// Idempotent (terms already there are kept). `serve` runs it at start when the index is empty.
/// Answers how many records it indexed.
pub async fn reindex(app: &App) -> Result<usize, AppError> {
    use yingji_domain::search::terms;
    use yingji_store::search::indexed_now as index_row;
    use yingji_store::{CaseFilter, IncidentFilter, WriteSet};
    const PAGE: i64 = 500;
    let mut n = 0;
    // Incidents: title, place and the intake's text (personal fields are stored masked).
    let mut before = None;
    loop {
        let page = app
            .store
            .list_incidents(&IncidentFilter {
                scope_path: "/".into(),
                before,
                limit: PAGE,
                ..Default::default()
            })
            .await?;
        let mut ws = WriteSet::default();
        for s in &page {
            let Some(rec) = app.store.get_incident(s.id).await? else {
                continue;
            };
            let v: serde_json::Value =
                serde_json::from_str(&rec.body).map_err(AppError::internal)?;
            let mut text = format!(
                "{} {}",
                v["title"].as_str().unwrap_or_default(),
                v["location"].as_str().unwrap_or_default()
            );
            if let Some(fields) = v["fields"].as_object() {
                for f in fields.values().filter_map(|f| f.as_str()) {
                    if f != crate::incidents::PERSONAL_MASK {
                        text.push(' ');
                        text.push_str(f);
                    }
                }
            }
            ws.rows.extend(index_row(
                "incident",
                rec.id,
                &rec.jurisdiction_path,
                &terms(&text),
            ));
            n += 1;
        }
        app.commit(ws).await?;
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => before = Some(last.id),
            _ => break,
        }
    }
    // Cases: number, title, grievance and the petitioners' names.
    let mut names: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
    for (case_id, p) in app.store.all_case_petitioners().await? {
        names.entry(case_id).or_default().push(p.name);
    }
    let mut before = None;
    loop {
        let page = app
            .store
            .list_cases(&CaseFilter {
                scope_path: "/".into(),
                before,
                limit: PAGE,
                ..Default::default()
            })
            .await?;
        let mut ws = WriteSet::default();
        for s in &page {
            let Some(rec) = app.store.get_case(s.id).await? else {
                continue;
            };
            let v: serde_json::Value =
                serde_json::from_str(&rec.body).map_err(AppError::internal)?;
            let mut text = format!(
                "{} {} {}",
                s.case_number,
                s.title,
                v["grievance"].as_str().unwrap_or_default()
            );
            for name in names.get(&s.id).into_iter().flatten() {
                text.push(' ');
                text.push_str(name);
            }
            ws.rows.extend(index_row(
                "case",
                s.id,
                &rec.jurisdiction_path,
                &terms(&text),
            ));
            n += 1;
        }
        app.commit(ws).await?;
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => before = Some(last.id),
            _ => break,
        }
    }
    // Disputes: title, place and kind.
    let mut ws = WriteSet::default();
    for body in app
        .store
        .list_disputes("/", None, None, None, i64::MAX)
        .await?
    {
        let d: yingji_domain::dispute::Dispute =
            serde_json::from_str(&body).map_err(AppError::internal)?;
        let Some(j) = app.store.jurisdiction(d.jurisdiction_id).await? else {
            continue;
        };
        let text = format!("{} {} {}", d.title, d.area, d.nature);
        ws.rows
            .extend(index_row("dispute", d.id, &j.path, &terms(&text)));
        n += 1;
        if ws.rows.len() >= PAGE as usize {
            app.commit(std::mem::take(&mut ws)).await?;
        }
    }
    app.commit(ws).await?;
    Ok(n)
}

/// Whether the index holds nothing yet (a database from before migration 0015, or an empty
/// one).
pub async fn index_is_empty(app: &App) -> Result<bool, AppError> {
    Ok(app.store.search_index_is_empty().await?)
}

/// Moves the records waiting for the index into it, a batch per transaction, until none is
/// waiting. Answers how many it moved.
pub async fn index_pending(app: &App) -> Result<usize, AppError> {
    let mut n = 0;
    loop {
        let moved = app
            .store
            .index_pending(yingji_store::search::INDEX_BATCH)
            .await?;
        n += moved;
        if moved == 0 {
            return Ok(n);
        }
    }
}

/// The indexer: every `every`, the records written since are moved into the search index
/// together (each term's page written once for all of them; see migration 0021).
pub fn spawn_indexer(app: App, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Of the processes on one database, one indexes (`yingji_store::leader`).
        let mut leader =
            yingji_store::leader::Leader::new(app.store.clone(), yingji_store::leader::INDEXER);
        loop {
            interval.tick().await;
            if !leader.lead().await {
                continue;
            }
            if let Err(e) = index_pending(&app).await
                && let Some(folded) = yingji_store::burst::log_once(&e.to_string())
            {
                tracing::warn!(error = %e, folded, "search indexing failed");
            }
        }
    });
}
