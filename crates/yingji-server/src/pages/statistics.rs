//! The statistics page (统计): the petition case statistics and the incident statistics of a
//! period in a jurisdiction, as tables and server-rendered bar charts, with the same figures to
//! download as .xlsx or CSV (`/api/v1/statistics/…`, the same reads). Nothing on it counts
//! petitioners or scores a unit on petitions prevented (design/product.md).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::statistics::{self, PeriodQuery};
use yingji_docs::xlsx::Cell;

use super::{Chrome, OrPage, PageOut, Viewer, area_options, chart, may, render};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;
use crate::exports::{self, CASE_BY};

#[derive(Debug, Default, Deserialize)]
pub struct StatsParams {
    pub year: Option<i16>,
    /// 1–4, or empty for the year.
    pub quarter: Option<String>,
    pub jurisdiction: Option<String>,
    /// The case grouping shown (the workbook has them all).
    pub by: Option<String>,
}

/// A table as the page shows it: header cells and rows of text (numbers formatted).
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn table(rows: Vec<Vec<Cell>>) -> Table {
    let text = |c: &Cell| match c {
        Cell::Empty => "—".to_string(),
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Number(f) => format!("{:.1}%", f * 100.0),
    };
    let mut it = rows.into_iter();
    Table {
        header: it.next().unwrap_or_default().iter().map(text).collect(),
        rows: it.map(|r| r.iter().map(text).collect()).collect(),
    }
}

#[derive(Template)]
#[template(path = "statistics.html")]
pub struct StatsPage {
    pub p: Chrome,
    pub year: i16,
    pub years: Vec<i16>,
    pub quarter: u8,
    pub by: String,
    pub bys: Vec<(&'static str, String)>,
    pub areas: Vec<(String, String, bool)>,
    /// The query string of the downloads (period and jurisdiction).
    pub query: String,
    pub cases: Option<Table>,
    pub case_chart: String,
    pub incidents: Option<Table>,
    pub incident_chart: String,
    pub screening: Option<Table>,
    pub screening_chart: String,
    pub reports: Option<Table>,
    pub period: String,
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<StatsParams>,
) -> impl IntoResponse {
    let built = async {
        let l = v.lang;
        let this_year = state.clock.now().to_zoned(statistics::zone()).year();
        let year = q.year.unwrap_or(this_year);
        let quarter = q
            .quarter
            .as_deref()
            .and_then(|s| s.parse::<u8>().ok())
            .filter(|n| (1..=4).contains(n));
        let chosen = q
            .jurisdiction
            .as_deref()
            .and_then(|s| Uuid::parse_str(s).ok());
        let areas = area_options(&state, &v, chosen).await?;
        // Only a jurisdiction offered (in the viewer's area) is taken.
        let jurisdiction_id =
            chosen.filter(|c| areas.iter().any(|(id, _, _)| *id == c.to_string()));
        let by =
            q.by.clone()
                .filter(|b| CASE_BY.contains(&b.as_str()))
                .unwrap_or_else(|| "jurisdiction".into());
        let period = PeriodQuery {
            jurisdiction_id,
            year,
            quarter,
        };
        period.days()?;
        let path = match jurisdiction_id {
            Some(j) => {
                state
                    .scoped_jurisdiction(&v.actor, j, "jurisdiction")
                    .await?
                    .path
            }
            None => v.actor.scope_path.clone(),
        };
        let (cases, case_chart) = if may(&state, &v, Permission::ViewCases, &path) {
            // Only the grouping shown is read (the workbook reads them all).
            let shown = Some(
                yingji_app::cases::stats(
                    &state,
                    &v.actor,
                    &yingji_app::cases::StatsQuery {
                        jurisdiction_id,
                        year,
                        quarter,
                        by: Some(by.clone()),
                    },
                )
                .await?,
            );
            match shown {
                Some(s) => {
                    let rows = exports::case_rows(l, &s);
                    let groups: Vec<(String, Vec<i64>)> = rows
                        .iter()
                        .skip(1)
                        .zip(&s.items)
                        .map(|(r, it)| {
                            let label = match &r[0] {
                                Cell::Text(t) => t.clone(),
                                _ => String::new(),
                            };
                            (label, vec![it.received, it.on_time])
                        })
                        .collect();
                    let chart = chart::bars(
                        l.t("stats.chart_cases"),
                        &[l.t("stats.received"), l.t("stats.on_time")],
                        &groups,
                    );
                    (Some(table(rows)), chart)
                }
                None => (None, String::new()),
            }
        } else {
            (None, String::new())
        };
        let (incidents, incident_chart) = if may(&state, &v, Permission::ViewIncidents, &path) {
            let s = statistics::incidents(&state, &v.actor, &period).await?;
            let groups: Vec<(String, Vec<i64>)> = s
                .by_month
                .iter()
                .map(|g| (g.key.clone(), vec![g.reported, g.responded]))
                .collect();
            let chart = chart::bars(
                l.t("stats.chart_incidents"),
                &[l.t("stats.reported"), l.t("stats.responded")],
                &groups,
            );
            (Some(table(exports::incident_rows(l, &s, "month"))), chart)
        } else {
            (None, String::new())
        };
        let (screening, screening_chart) = if may(&state, &v, Permission::ViewDisputes, &path) {
            let s = statistics::screening(&state, &v.actor, &period).await?;
            let groups: Vec<(String, Vec<i64>)> = s
                .rounds
                .iter()
                .map(|r| {
                    (
                        format!("{} · {}", r.jurisdiction_name, r.round_key),
                        vec![r.returned, r.missing],
                    )
                })
                .collect();
            let chart = chart::bars(
                l.t("stats.chart_screening"),
                &[l.t("stats.returned"), l.t("stats.missing")],
                &groups,
            );
            (Some(table(exports::screening_rows(l, &s))), chart)
        } else {
            (None, String::new())
        };
        let reports = if may(&state, &v, Permission::ViewReports, &path) {
            let s = statistics::reports(&state, &v.actor, &period).await?;
            Some(table(exports::report_rows(l, &s)))
        } else {
            None
        };
        let mut query = format!("year={year}");
        if let Some(qn) = quarter {
            query.push_str(&format!("&quarter={qn}"));
        }
        if let Some(j) = jurisdiction_id {
            query.push_str(&format!("&jurisdiction_id={j}"));
        }
        query.push_str(&format!("&lang={}", l.code));
        let period_label = match quarter {
            Some(qn) => l.f2("stats.period_quarter", year, qn),
            None => l.f1("stats.period_year", year),
        };
        Ok::<_, ApiError>(StatsPage {
            p: Chrome::new(&v, "statistics", l.t("stats.title").to_string()),
            year,
            years: (this_year - 4..=this_year).rev().collect(),
            quarter: quarter.unwrap_or(0),
            bys: CASE_BY
                .iter()
                .map(|b| (*b, l.t(&format!("stats.by_{b}")).to_string()))
                .collect(),
            by,
            areas,
            query,
            cases,
            case_chart,
            incidents,
            incident_chart,
            screening,
            screening_chart,
            reports,
            period: period_label,
        })
    };
    PageOut(built.await.or_page(v.lang).map(|p| render(&p)))
}
