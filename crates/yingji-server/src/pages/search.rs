//! The search page: one box over incidents, cases and disputes in the viewer's area (the
//! application's `search::search`, the same read as `GET /api/v1/search`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{Chrome, OrPage, PageOut, Viewer, render};
use crate::AppState;
use crate::error::ApiError;

pub struct HitLine {
    pub kind: String,
    pub kind_label: String,
    pub href: String,
    pub title: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub p: Chrome,
    pub q: String,
    pub hits: Vec<HitLine>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(sq): Query<SearchQuery>,
) -> impl IntoResponse {
    let l = v.lang;
    let q =
        sq.q.unwrap_or_default()
            .trim()
            .chars()
            .take(200)
            .collect::<String>();
    let built = async {
        let hits = if q.is_empty() {
            Vec::new()
        } else {
            yingji_app::search::search(&state, &v.actor, &q).await?
        };
        let hits = hits
            .into_iter()
            .map(|h| {
                let (href, group) = match h.kind.as_str() {
                    "case" => (format!("/cases/{}", h.id), "case_status"),
                    "dispute" => (format!("/disputes/{}", h.id), "dispute_status"),
                    _ => (format!("/incidents/{}", h.id), "status"),
                };
                HitLine {
                    kind_label: l.tk("search_kind", &h.kind),
                    status: l.tk(group, &h.status),
                    kind: h.kind,
                    href,
                    title: h.title,
                }
            })
            .collect();
        let mut p = Chrome::new(&v, "", l.t("search.title").to_string());
        p.search = q.clone();
        Ok::<_, ApiError>(SearchPage {
            p,
            q: q.clone(),
            hits,
        })
    };
    PageOut(built.await.or_page(l).map(|p| render(&p)))
}
