//! Disputes and screening rounds (矛盾纠纷排查): the disputes in the viewer's scope with their
//! risk, mediation and due date, and the current screening round of the viewer's jurisdiction
//! with each unit below it (submitted, nothing found, missing); and, when the jurisdiction above
//! has a round open today, the viewer's own unit's return to it (a nil return in one tap, or
//! the number of disputes found and a note), through the same command as
//! `POST /api/v1/disputes/rounds/{id}/submissions`. The page's data comes from the
//! application's reads (`yingji_app::disputes::current_round`, `owed_return` and `list`), with
//! the same permission checks.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::disputes::{self, DisputeQuery, RoundSubmissionRequest, SubmitReturn};
use yingji_domain::dispute::Risk;

use super::{Chrome, OrPage, PageOut, Posted, Viewer, hm, render, see_other};
use crate::AppState;
use crate::error::ApiError;

pub struct DisputeLine {
    pub id: String,
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

/// The viewer's unit's return to the round of the jurisdiction above (owed or sent).
pub struct ReturnForm {
    pub round_id: String,
    pub round_key: String,
    pub cadence: String,
    pub parent: String,
    pub unit_id: String,
    pub unit: String,
    /// `missing`, `nil` or `submitted`.
    pub state: &'static str,
    pub state_label: String,
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
    pub owed: Option<ReturnForm>,
    /// The viewer may register a dispute in their jurisdiction (`screen_disputes`).
    pub can_register: bool,
    /// Today's round of the viewer's jurisdiction, to file a new dispute under.
    pub round_id: Option<String>,
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
    let tz = super::local_tz(state, v).await?;
    let disputes = list
        .items
        .iter()
        .map(|d| DisputeLine {
            id: d.id.to_string(),
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
    let round_id = current.round.as_ref().map(|r| r.id.to_string());
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
    let owed = disputes::owed_return(state, &v.actor).await?.map(|o| {
        let mine = o.round.units.iter().find(|u| u.unit_id == o.unit_id);
        let st = mine.map_or("missing", |u| u.state.as_str());
        ReturnForm {
            round_id: o.round.id.to_string(),
            round_key: o.round.round_key.clone(),
            cadence: l.tk("cadence", &o.round.cadence),
            parent: o.parent_name,
            unit_id: o.unit_id.to_string(),
            unit: o.unit_name,
            state: st,
            state_label: l.tk("round_state", st),
            found: mine
                .and_then(|u| u.disputes_found)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    });
    let mut p = Chrome::new(v, "disputes", l.t("disputes.title").to_string());
    p.live = "*".into();
    Ok(DisputesPage {
        p,
        disputes,
        round,
        round_key: current.round_key,
        units,
        owed,
        can_register: super::may(
            state,
            v,
            yingji_app::Permission::ScreenDisputes,
            &v.actor.scope_path,
        ),
        round_id,
    })
}

/// POST /disputes/new: a dispute found in the viewer's jurisdiction (parties one per line,
/// "name：role"), through the same command as `POST /api/v1/disputes`.
pub async fn register(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let run = async {
        let risk = match f.get("risk").as_deref() {
            Some("low") => Risk::Low,
            Some("high") => Risk::High,
            Some("major") => Risk::Major,
            _ => Risk::Medium,
        };
        let parties = f
            .get("parties")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|line| {
                let (name, role) = line
                    .split_once(['：', ':'])
                    .map_or((line, ""), |(a, b)| (a.trim(), b.trim()));
                yingji_domain::dispute::Party {
                    name: name.to_string(),
                    role: role.to_string(),
                }
            })
            .collect();
        let cmd = disputes::RegisterDispute(disputes::NewDisputeRequest {
            jurisdiction_id: v.actor.jurisdiction_id,
            round_id: f.get("round_id").and_then(|r| Uuid::parse_str(&r).ok()),
            title: f.get("title").unwrap_or_default(),
            parties,
            nature: f.get("nature").unwrap_or_default(),
            area: f.get("area").unwrap_or_default(),
            risk,
            summary: f.get("summary").unwrap_or_default(),
        });
        let out = state.execute(&v.actor, None, &cmd).await?;
        let body: serde_json::Value =
            serde_json::from_str(&out.body().0).map_err(ApiError::internal)?;
        Ok::<_, ApiError>(body["id"].as_str().unwrap_or_default().to_string())
    };
    match run.await {
        Ok(id) => see_other(&format!("/disputes/{id}")),
        Err(e) => PageOut(Err((e.into(), v.lang))).into_response(),
    }
}

/// What the dispute page offers: each action the domain would take now, for someone who may
/// screen disputes there.
#[derive(Default)]
pub struct DisputeAllowed {
    pub assign: bool,
    pub result: bool,
    pub follow_up: bool,
    pub report_upward: bool,
    pub close: bool,
}

#[derive(Template)]
#[template(path = "dispute.html")]
pub struct DisputePage {
    pub p: Chrome,
    pub id: String,
    pub d: yingji_domain::dispute::Dispute,
    pub risk: String,
    pub risk_id: &'static str,
    pub status: String,
    pub registered: String,
    pub follow_ups: Vec<(String, String)>,
    pub reported: Option<(String, String)>,
    pub timeline: Vec<super::EventView>,
    pub allowed: DisputeAllowed,
    pub today: String,
    /// The dispute's files (letters, agreements, photos) and the upload, for those who may
    /// screen disputes here.
    pub files: super::attachments::FilesView,
}

/// GET /disputes/{id}: one dispute, its record and the actions the viewer may take.
pub async fn dispute_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<Uuid>,
) -> impl IntoResponse {
    PageOut(
        dispute_build(&state, &v, id)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

async fn dispute_build(state: &AppState, v: &Viewer, id: Uuid) -> Result<DisputePage, ApiError> {
    use disputes::DisputeAction as A;
    let l = v.lang;
    let d = disputes::dispute(state, &v.actor, id).await?;
    let tz = super::local_tz(state, v).await?;
    let path = state
        .store
        .jurisdiction(d.jurisdiction_id)
        .await?
        .map(|j| j.path)
        .unwrap_or_default();
    let may = super::may(state, v, yingji_app::Permission::ScreenDisputes, &path);
    let x = || "x".to_string();
    let allowed = DisputeAllowed {
        assign: may
            && A::Assign {
                unit: x(),
                due_on: None,
            }
            .fits(&d),
        result: may
            && A::Result {
                resolved: true,
                result: x(),
            }
            .fits(&d),
        follow_up: may && A::FollowUp { note: x() }.fits(&d),
        report_upward: may && A::ReportUpward { reason: x() }.fits(&d),
        close: may && A::Close.fits(&d),
    };
    let timeline = super::timeline(state, l, id, "dispute_event", &tz).await?;
    let files = super::attachments::FilesView::load(state, v, l, "dispute", id, may).await?;
    let p = Chrome::new(v, "disputes", d.title.clone());
    Ok(DisputePage {
        p,
        id: id.to_string(),
        risk: l.tk("risk", risk_id(d.risk)),
        risk_id: risk_id(d.risk),
        status: l.tk("dispute_status", d.status.as_str()),
        registered: hm(d.registered_at, &tz),
        follow_ups: d
            .follow_ups
            .iter()
            .map(|(t, n)| (hm(*t, &tz), n.clone()))
            .collect(),
        reported: d
            .reported_upward
            .as_ref()
            .map(|(t, r)| (hm(*t, &tz), r.clone())),
        timeline,
        allowed,
        today: state.clock.now().to_zoned(tz).date().to_string(),
        files,
        d,
    })
}

/// POST /disputes/{id}/do/{action}: the same command as `POST /api/v1/disputes/{id}/{action}`.
pub async fn dispute_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let req = disputes::DisputeActionRequest {
        unit: f.get("unit"),
        due_on: f.get("due_on"),
        resolved: f.get("resolved").map(|r| r == "yes"),
        result: f.get("result"),
        note: f.get("note"),
        reason: f.get("reason"),
    };
    let run = async {
        let action = disputes::DisputeAction::parse(&action, &req)?;
        let cmd = disputes::OnDispute {
            id: id.into(),
            action,
        };
        state.execute(&v.actor, None, &cmd).await?;
        Ok::<(), ApiError>(())
    };
    match run.await {
        Ok(()) => see_other(&format!("/disputes/{id}")),
        Err(e) => PageOut(Err((e.into(), v.lang))).into_response(),
    }
}

/// POST /disputes/rounds/{id}/return: the viewer's unit's return (`nil=yes` for a nil return,
/// else `disputes_found` and `note`).
pub async fn submit_return(
    State(state): State<AppState>,
    Path(round_id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let nil = f.get("nil").as_deref() == Some("yes");
    let found = match f.get("disputes_found") {
        None => Ok(0),
        Some(n) => n.parse::<u32>().map_err(|_| {
            ApiError::new(
                yingji_app::ErrorCode::InvalidField,
                "`disputes_found` must be a whole number",
            )
        }),
    };
    let unit_id = f.get("unit_id").and_then(|u| u.parse::<Uuid>().ok());
    let run = async {
        let found = found?;
        let unit_id = unit_id.ok_or_else(|| {
            ApiError::new(yingji_app::ErrorCode::InvalidField, "`unit_id` is missing")
        })?;
        let cmd = SubmitReturn {
            round_id,
            req: RoundSubmissionRequest {
                unit_id,
                nil,
                disputes_found: if nil { 0 } else { found },
                note: f.get("note"),
            },
        };
        state
            .execute(&v.actor, None, &cmd)
            .await
            .map_err(ApiError::from)
    };
    match run.await {
        Ok(_) => see_other("/disputes"),
        Err(e) => PageOut(Err((e.into(), v.lang))).into_response(),
    }
}
