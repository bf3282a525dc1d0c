//! Disputes and screening rounds (矛盾纠纷排查): the disputes in the viewer's scope with their
//! risk, mediation and due date, and the current screening round of the viewer's jurisdiction
//! with each unit below it (submitted, nothing found, missing). Read-only: recording goes
//! through the API (`/api/v1/disputes`); this page's data comes from the application's reads
//! (`yingji_app::disputes::current_round` and `list`), with the same permission checks.

use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use yingji_app::disputes::{self, DisputeQuery};
use yingji_domain::dispute::Risk;

use super::{Chrome, OrPage, PageOut, Viewer, hm, render};
use crate::AppState;
use crate::error::ApiError;

pub struct DisputeLine {
    pub title: String,
    pub area: String,
    pub nature: String,
    pub risk: String,
    pub risk_id: &'static str,
    pub status: String,
    pub mediator: String,
    pub due_on: String,
    pub registered: String,
    pub reported_upward: bool,
    pub parties: usize,
}

pub struct UnitLine {
    pub name: String,
    pub state: String,
    pub state_id: String,
    pub found: String,
}

#[derive(Template)]
#[template(path = "disputes.html")]
pub struct DisputesPage {
    pub p: Chrome,
    pub disputes: Vec<DisputeLine>,
    /// (cadence, key, missing)
    pub round: Option<(String, String, usize)>,
    pub round_key: String,
    pub units: Vec<UnitLine>,
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> impl IntoResponse {
    PageOut(build(&state, &v).await.or_page(v.lang).map(|p| render(&p)))
}

fn risk_id(r: Risk) -> &'static str {
    match r {
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "high",
        Risk::Major => "major",
    }
}

async fn build(state: &AppState, v: &Viewer) -> Result<DisputesPage, ApiError> {
    let l = v.lang;
    // Today's round of the viewer's jurisdiction (this checks the permission to view
    // disputes), and the disputes in the viewer's scope, through the same reads as the API.
    let current = disputes::current_round(state, &v.actor).await?;
    let list = disputes::list(
        state,
        &v.actor,
        &DisputeQuery {
            limit: Some(200),
            ..Default::default()
        },
    )
    .await?;
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    let disputes = list
        .items
        .iter()
        .map(|d| DisputeLine {
            title: d.title.clone(),
            area: d.area.clone(),
            nature: d.nature.clone(),
            risk: l.tk("risk", risk_id(d.risk)),
            risk_id: risk_id(d.risk),
            status: l.tk("dispute_status", d.status.as_str()),
            mediator: d.mediator_unit.clone().unwrap_or_default(),
            due_on: d.due_on.map(|x| x.to_string()).unwrap_or_default(),
            registered: hm(d.registered_at, &tz),
            reported_upward: d.reported_upward.is_some(),
            parties: d.parties.len(),
        })
        .collect();
    let mut round = None;
    let mut units = Vec::new();
    if let Some(view) = current.round {
        for u in &view.units {
            units.push(UnitLine {
                name: u.unit_name.clone(),
                state: l.tk("round_state", u.state.as_str()),
                found: u.disputes_found.map(|n| n.to_string()).unwrap_or_default(),
                state_id: u.state.as_str().to_string(),
            });
        }
        round = Some((l.tk("cadence", &view.cadence), view.round_key, view.missing));
    }
    let mut p = Chrome::new(v, "disputes", l.t("disputes.title").to_string());
    p.live = "*".into();
    Ok(DisputesPage {
        p,
        disputes,
        round,
        round_key: current.round_key,
        units,
    })
}
