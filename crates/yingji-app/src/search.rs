//! The search box: incidents, petition cases and disputes in the actor's area that hold every
//! term of a query (case number, title, grievance, petitioners' names, place), newest first,
//! each only where the actor may view its kind. Terms: `yingji_domain::search::terms`; the
//! index is written with each record (migration 0015).

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

/// The query's terms, the most selective first (longer words, then pairs, single characters
/// last): the store scans the first and checks the others.
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
