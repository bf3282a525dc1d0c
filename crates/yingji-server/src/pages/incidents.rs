//! The incident list (`/incidents`): every incident in the viewer's scope, newest first, closed
//! ones included, filtered by status, level, drill and period, paged by the time-ordered id.
//! The same read and the same permission (`view_incidents`) as `GET /api/v1/incidents`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Deserialize;
use uuid::Uuid;
use yingji_store::IncidentFilter;

use super::{Chrome, OrPage, PageOut, Viewer, hm, render};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

const PAGE: i64 = 50;

/// The page's filters, as the form sends them (empty means "any").
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub status: Option<String>,
    pub level: Option<String>,
    pub drill: Option<String>,
    /// Reported on or after this day (YYYY-MM-DD, the console's time zone).
    pub from: Option<String>,
    /// Reported on or before this day.
    pub to: Option<String>,
    /// One jurisdiction's subtree within the viewer's area.
    pub jurisdiction: Option<String>,
    pub before: Option<String>,
}

pub struct Line {
    pub id: String,
    pub title: String,
    pub status: String,
    pub status_id: String,
    pub level: String,
    pub headcount: i64,
    pub reported: String,
    pub drill: bool,
    pub kind: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
pub struct IncidentsPage {
    pub p: Chrome,
    pub lines: Vec<Line>,
    /// (value, label, selected)
    pub statuses: Vec<(String, String, bool)>,
    pub level: String,
    pub drill: String,
    pub from: String,
    pub to: String,
    /// (id, name, selected): the jurisdictions the list can be narrowed to.
    pub areas: Vec<(String, String, bool)>,
    /// The query string of the next (older) page, when there is one.
    pub older: Option<String>,
    pub error: Option<String>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Params>,
) -> impl IntoResponse {
    PageOut(
        build(&state, &v, &q)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

async fn build(state: &AppState, v: &Viewer, q: &Params) -> Result<IncidentsPage, ApiError> {
    let l = v.lang;
    state.require(
        &v.actor,
        Permission::ViewIncidents,
        &v.actor.scope_path,
        "incident",
    )?;
    let tz = super::local_tz(state, v).await?;
    let status = some(&q.status);
    let mut error = None;
    let status = match status {
        Some(s) if yingji_domain::incident::Status::parse(&s).is_none() => {
            error = Some(l.t("incidents.bad_status").to_string());
            None
        }
        s => s,
    };
    // A day in the console's time zone → the first instant of that day (or of the next one).
    let day = |s: &Option<String>, next: bool| -> Result<Option<String>, String> {
        let Some(s) = some(s) else { return Ok(None) };
        let d: jiff::civil::Date = s.parse().map_err(|_| l.f1("incidents.bad_day", &s))?;
        let d = if next { d.tomorrow().unwrap_or(d) } else { d };
        let t = d
            .to_zoned(tz.clone())
            .map_err(|_| l.f1("incidents.bad_day", &s))?
            .timestamp();
        Ok(Some(yingji_store::fmt_ts(t)))
    };
    let from = day(&q.from, false).unwrap_or_else(|e| {
        error = Some(e);
        None
    });
    let to = day(&q.to, true).unwrap_or_else(|e| {
        error = Some(e);
        None
    });
    let drill = match some(&q.drill).as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let before = some(&q.before).and_then(|b| b.parse::<Uuid>().ok());
    let chosen = some(&q.jurisdiction).and_then(|j| j.parse::<Uuid>().ok());
    let (scope_path, chosen) = super::area_path(state, v, chosen).await?;
    let mut rows = state
        .store
        .list_incidents(&IncidentFilter {
            scope_path,
            status: status.clone(),
            level: some(&q.level),
            drill,
            from,
            to,
            before,
            limit: PAGE + 1,
        })
        .await
        .map_err(ApiError::from)?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let query_with = |before: Uuid| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, val) in [
            ("status", &q.status),
            ("level", &q.level),
            ("drill", &q.drill),
            ("from", &q.from),
            ("to", &q.to),
            ("jurisdiction", &q.jurisdiction),
        ] {
            if let Some(val) = some(val) {
                s.append_pair(k, &val);
            }
        }
        s.append_pair("before", &before.to_string());
        s.finish()
    };
    let older = if more {
        rows.last().map(|r| query_with(r.id))
    } else {
        None
    };
    let lines = rows
        .iter()
        .map(|r| Line {
            id: r.id.to_string(),
            title: r.title.clone(),
            status: l.tk("status", &r.status),
            status_id: r.status.clone(),
            level: r.level.clone().unwrap_or_default(),
            headcount: r.headcount,
            reported: r
                .reported_at
                .parse::<Timestamp>()
                .map(|t| hm(t, &tz))
                .unwrap_or_else(|_| r.reported_at.clone()),
            drill: r.drill,
            kind: l.tk("kind", &r.kind),
        })
        .collect();
    let statuses = std::iter::once((
        String::new(),
        l.t("incidents.any_status").to_string(),
        status.is_none(),
    ))
    .chain(
        yingji_domain::incident::Status::ALL
            .iter()
            .map(|s| s.as_str())
            .map(|s| {
                (
                    s.to_string(),
                    l.tk("status", s),
                    status.as_deref() == Some(s),
                )
            }),
    )
    .collect();
    Ok(IncidentsPage {
        p: Chrome::new(v, "incidents", l.t("incidents.title").to_string()),
        lines,
        statuses,
        level: some(&q.level).unwrap_or_default(),
        drill: some(&q.drill).unwrap_or_default(),
        from: some(&q.from).unwrap_or_default(),
        to: some(&q.to).unwrap_or_default(),
        areas: super::area_options(state, v, chosen).await?,
        older,
        error,
    })
}
