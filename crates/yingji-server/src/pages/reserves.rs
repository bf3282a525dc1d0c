//! Reserves in the console (应急保障): the items of the viewer's area with their stock (those
//! below their minimum marked), what incidents hold of them, a form for a new item and, on
//! each item, a movement form (in, out, issued to an open incident, returned from one) and
//! its history.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::reserves::{
    self as app_reserves, CreateItem, MoveItem, MoveRequest, NewItemRequest,
};
use yingji_domain::reserve::{Item, MovementKind};

use super::{Chrome, Lang, OrPage, PageOut, Posted, Viewer, hm, may, render, see_other};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

pub struct ItemLine {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub quantity: i64,
    pub minimum: i64,
    pub unit: String,
    pub location: String,
    pub custodian: String,
    pub low: bool,
    /// (incident id, title, quantity) held now.
    pub issued: Vec<(String, String, i64)>,
    pub may_move: bool,
}

pub struct HistoryLine {
    pub at: String,
    pub kind: String,
    pub quantity: i64,
    pub after: i64,
    pub by: String,
    pub note: String,
    pub incident: Option<String>,
}

#[derive(Template)]
#[template(path = "reserves.html")]
pub struct ReservesPage {
    pub p: Chrome,
    pub items: Vec<ItemLine>,
    pub may_create: bool,
    /// (incident id, title) of the open incidents an item may be issued to.
    pub incidents: Vec<(String, String)>,
    /// The item whose history is shown (`?item=`), with its lines.
    pub history: Option<(String, Vec<HistoryLine>)>,
    /// (id, name, leader, members, readiness, readiness label, note, may change)
    pub teams: Vec<TeamLine>,
    pub lines: Vec<BudgetView>,
    /// (plan id, title) a budget line may be for.
    pub plans: Vec<(String, String)>,
}

pub struct TeamLine {
    pub id: String,
    pub name: String,
    pub leader: String,
    pub members: String,
    pub readiness: String,
    pub readiness_label: String,
    pub note: String,
    pub may_change: bool,
}

pub struct BudgetView {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub amount: String,
    pub spent: String,
    pub left: String,
    pub may_spend: bool,
}

/// Fen as yuan with two decimals.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

fn movement_label(l: &Lang, k: MovementKind) -> String {
    l.tk("reserve_movement", k.as_str())
}

async fn line(state: &AppState, v: &Viewer, i: &Item) -> Result<ItemLine, ApiError> {
    let l = v.lang;
    let path = state
        .store
        .jurisdiction(i.jurisdiction_id)
        .await?
        .map(|j| j.path)
        .unwrap_or_default();
    let custodian = match &i.custodian_post {
        Some(p) => p.clone(),
        None => l.t("reserves.office").to_string(),
    };
    Ok(ItemLine {
        id: i.id.to_string(),
        kind: l.tk("reserve_kind", i.kind.as_str()),
        name: i.name.clone(),
        quantity: i.quantity,
        minimum: i.minimum,
        unit: i.unit.clone(),
        location: i.location.clone(),
        custodian,
        low: i.below_minimum,
        issued: i
            .issued
            .iter()
            .map(|x| {
                (
                    x.incident_id.to_string(),
                    x.incident_title.clone(),
                    x.quantity,
                )
            })
            .collect(),
        may_move: may(state, v, Permission::HandleIncident, &path),
    })
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReservesQuery {
    pub item: Option<Uuid>,
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    axum::extract::Query(q): axum::extract::Query<ReservesQuery>,
) -> impl IntoResponse {
    let built = async {
        let l = v.lang;
        let mut items = vec![];
        for i in app_reserves::list(&state, &v.actor).await? {
            items.push(line(&state, &v, &i).await?);
        }
        let may_create = may(&state, &v, Permission::HandleIncident, &v.actor.scope_path);
        let incidents = if may_create || items.iter().any(|i| i.may_move) {
            let filter = yingji_store::IncidentFilter {
                scope_path: v.actor.scope_path.clone(),
                limit: 200,
                ..Default::default()
            };
            state
                .store
                .list_incidents(&filter)
                .await?
                .into_iter()
                .filter(|r| !["closed", "unfounded"].contains(&r.status.as_str()))
                .map(|r| (r.id.to_string(), r.title))
                .collect()
        } else {
            vec![]
        };
        let tz = yingji_app::statistics::zone();
        let history = match q.item {
            Some(id) => {
                let view = app_reserves::get(&state, &v.actor, id).await?;
                Some((
                    view.item.name.clone(),
                    view.movements
                        .iter()
                        .map(|m| HistoryLine {
                            at: hm(m.at, &tz),
                            kind: movement_label(l, m.kind),
                            quantity: m.quantity,
                            after: m.quantity_after,
                            by: m.by.clone(),
                            note: m.note.clone().unwrap_or_default(),
                            incident: m.incident_id.map(|i| i.to_string()),
                        })
                        .collect(),
                ))
            }
            None => None,
        };
        let mut teams = vec![];
        for t in yingji_app::resources::teams(&state, &v.actor).await? {
            let path = state
                .store
                .jurisdiction(t.jurisdiction_id)
                .await?
                .map(|j| j.path)
                .unwrap_or_default();
            teams.push(TeamLine {
                id: t.id.to_string(),
                name: t.name,
                leader: t.leader,
                members: t.members.join("、"),
                readiness_label: l.tk("team_readiness", &t.readiness),
                readiness: t.readiness,
                note: t.note.unwrap_or_default(),
                may_change: may(&state, &v, Permission::HandleIncident, &path),
            });
        }
        let mut lines = vec![];
        for b in yingji_app::resources::budget_lines(&state, &v.actor).await? {
            let path = state
                .store
                .jurisdiction(b.jurisdiction_id)
                .await?
                .map(|j| j.path)
                .unwrap_or_default();
            lines.push(BudgetView {
                id: b.id.to_string(),
                name: b.name,
                plan: b.plan_id,
                amount: yuan(b.amount_fen),
                spent: yuan(b.spent_fen),
                left: yuan(b.amount_fen - b.spent_fen),
                may_spend: may(&state, &v, Permission::HandleIncident, &path),
            });
        }
        let plans = if may_create {
            super::intake::usable_plans(&state, &v).await?
        } else {
            vec![]
        };
        let mut p = Chrome::new(&v, "reserves", l.t("reserves.title").to_string());
        p.live = "*".into();
        Ok::<_, ApiError>(ReservesPage {
            p,
            items,
            may_create,
            incidents,
            history,
            teams,
            lines,
            plans,
        })
    };
    PageOut(built.await.or_page(v.lang).map(|p| render(&p)))
}

fn fail(e: ApiError, l: &'static Lang) -> Response {
    PageOut(Err((e.into(), l))).into_response()
}

fn number(f: &super::Form, k: &str) -> i64 {
    f.get(k).and_then(|x| x.trim().parse().ok()).unwrap_or(0)
}

/// POST /reserves/new: a new item.
pub async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let req = NewItemRequest {
        jurisdiction_id: None,
        kind: f.get("kind"),
        name: f.get("name").unwrap_or_default(),
        unit: f.get("unit").unwrap_or_default(),
        quantity: number(&f, "quantity"),
        minimum: number(&f, "minimum"),
        location: f.get("location").unwrap_or_default(),
        custodian_post: f.get("custodian_post"),
    };
    match state.execute(&v.actor, None, &CreateItem(req)).await {
        Ok(_) => see_other("/reserves"),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /reserves/{id}/move: a movement.
pub async fn movement(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let req = MoveRequest {
        kind: f.get("kind").unwrap_or_default(),
        quantity: number(&f, "quantity"),
        incident_id: f
            .get("incident_id")
            .filter(|x| !x.is_empty())
            .and_then(|x| Uuid::parse_str(&x).ok()),
        note: f.get("note"),
    };
    match state
        .execute(&v.actor, None, &MoveItem { id, request: req })
        .await
    {
        Ok(_) => see_other(&format!("/reserves?item={id}")),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /teams/new.
pub async fn team_create(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let req = yingji_app::resources::TeamRequest {
        jurisdiction_id: None,
        name: f.get("name").unwrap_or_default(),
        leader: f.get("leader").unwrap_or_default(),
        members: f
            .get("members")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect(),
        readiness: f.get("readiness"),
    };
    match state
        .execute(&v.actor, None, &yingji_app::resources::CreateTeam(req))
        .await
    {
        Ok(_) => see_other("/reserves#teams"),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /teams/{id}/readiness.
pub async fn team_readiness(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let cmd = yingji_app::resources::SetReadiness {
        id,
        request: yingji_app::resources::ReadinessRequest {
            readiness: f.get("readiness").unwrap_or_default(),
            note: f.get("note"),
        },
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => see_other("/reserves#teams"),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// Yuan typed in a form (`1234.5`) as fen.
fn fen(s: &str) -> i64 {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac: String = frac.chars().chain("00".chars()).take(2).collect();
    match (whole.parse::<i64>(), frac.parse::<i64>()) {
        (Ok(w), Ok(f)) if w >= 0 => w.saturating_mul(100).saturating_add(f),
        _ => -1,
    }
}

/// POST /budget/new.
pub async fn budget_create(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let req = yingji_app::resources::BudgetRequest {
        jurisdiction_id: None,
        plan_id: f.get("plan_id").unwrap_or_default(),
        name: f.get("name").unwrap_or_default(),
        amount_fen: fen(&f.get("amount").unwrap_or_default()),
    };
    match state
        .execute(&v.actor, None, &yingji_app::resources::CreateBudget(req))
        .await
    {
        Ok(_) => see_other("/reserves#funds"),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /budget/{id}/spend.
pub async fn budget_spend(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let Some(incident_id) = f.get("incident_id").and_then(|x| Uuid::parse_str(&x).ok()) else {
        return fail(
            ApiError::new(
                yingji_app::ErrorCode::MissingField,
                "`incident_id` is required",
            ),
            v.lang,
        );
    };
    let cmd = yingji_app::resources::Spend {
        id,
        request: yingji_app::resources::SpendRequest {
            incident_id,
            amount_fen: fen(&f.get("amount").unwrap_or_default()),
            note: f.get("note"),
        },
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => see_other("/reserves#funds"),
        Err(e) => fail(e.into(), v.lang),
    }
}
