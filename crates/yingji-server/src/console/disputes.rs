//! Disputes and screening rounds (矛盾纠纷排查): the disputes in the viewer's scope with their
//! risk, mediation and due date, and the current screening round of the viewer's jurisdiction
//! with each unit below it (submitted, nothing found, missing). Read-only: recording goes
//! through the API (`/api/v1/disputes`), whose own functions build this page's data.

use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use yingji_domain::dispute::{Dispute, Risk, round_key};

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
    state.require(
        &v.actor,
        crate::trust::Permission::ViewDisputes,
        &v.actor.scope_path,
        "dispute",
    )?;
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    let rows = state
        .store
        .list_disputes(&v.actor.scope_path, None, None, 200)
        .await?;
    let mut disputes = Vec::new();
    for body in rows {
        let Ok(d) = serde_json::from_str::<Dispute>(&body) else {
            continue;
        };
        disputes.push(DisputeLine {
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
        });
    }
    let today = state.clock.now().to_zoned(tz.clone()).date();
    let special = crate::disputes::in_special_period(state, &v.actor.scope_path, today).await?;
    let (_, key) = round_key(today, special);
    let mut round = None;
    let mut units = Vec::new();
    if let Some(r) = state
        .store
        .screening_round_by_key(v.actor.jurisdiction_id, &key)
        .await?
    {
        let view = crate::disputes::round_view(state, &r).await?;
        for u in view["units"].as_array().into_iter().flatten() {
            let st = u["state"].as_str().unwrap_or("missing").to_string();
            units.push(UnitLine {
                name: u["unit_name"].as_str().unwrap_or_default().to_string(),
                state: l.tk("round_state", &st),
                found: u["disputes_found"]
                    .as_i64()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                state_id: st,
            });
        }
        round = Some((
            l.tk("cadence", &r.cadence),
            r.round_key.clone(),
            view["missing"].as_u64().unwrap_or(0) as usize,
        ));
    }
    let mut p = Chrome::new(v, "disputes", l.t("disputes.title").to_string());
    p.live = "*".into();
    Ok(DisputesPage {
        p,
        disputes,
        round,
        round_key: key,
        units,
    })
}
