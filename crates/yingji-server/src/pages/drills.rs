//! Drills in the console (演练): the drills owed by the plans of the viewer's area this period,
//! the drills run, a start form (a drill script typed, pasted or loaded from a file, checked
//! like a plan: its problems shown with line and column), and each drill's page — its injects
//! as they played, stopping it, and its evaluation (the times against the plan's limits, the
//! corrective actions with owners and deadlines).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::drills::{
    self as app_drills, DrillDuty, EvaluateDrill, EvaluateRequest, StartDrill, StartRequest,
    StopDrill,
};
use yingji_app::incidents::CorrectiveActionRequest;
use yingji_domain::drill::{Drill, Outcome, Status};

use super::{Chrome, Lang, OrPage, PageOut, Posted, Viewer, hm, may, render, see_other};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

pub struct DrillLine {
    pub id: String,
    pub title: String,
    pub plan: String,
    pub status: &'static str,
    pub status_label: String,
    pub started: String,
    pub incident_id: String,
    pub played: usize,
    pub injects: usize,
}

pub struct DutyLine {
    pub plan: String,
    pub jurisdiction: String,
    pub period: String,
    pub status: String,
    pub status_label: String,
    pub drill_id: Option<String>,
    /// The plan version that fulfilled a revision duty ("v2").
    pub version: Option<String>,
}

/// A script's problem, as the start form shows it.
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "drills.html")]
pub struct DrillsPage {
    pub p: Chrome,
    pub duties: Vec<DutyLine>,
    pub drills: Vec<DrillLine>,
    pub may_start: bool,
    /// (plan id, title) of the plans a drill may exercise here, and the one the script is for.
    pub plans: Vec<(String, String)>,
    pub plan: String,
    pub script: String,
    pub problems: Vec<Problem>,
    pub error: String,
}

fn duration(s: Option<i64>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s < 3600 => format!("{}′{:02}″", s / 60, s % 60),
        Some(s) => format!("{}h{:02}′", s / 3600, (s % 3600) / 60),
    }
}

fn line(l: &Lang, d: &Drill) -> DrillLine {
    let tz = yingji_app::statistics::zone();
    DrillLine {
        id: d.id.to_string(),
        title: d.script.title.clone(),
        plan: d.plan_id.clone(),
        status: d.status.as_str(),
        status_label: l.tk("drill_status", d.status.as_str()),
        started: format!("{} · {}", d.started_by.name, hm(d.started_at, &tz)),
        incident_id: d.incident_id.to_string(),
        played: d
            .injects
            .iter()
            .filter(|i| i.outcome != Outcome::Pending)
            .count(),
        injects: d.injects.len(),
    }
}

pub(crate) fn duty_line(l: &Lang, d: &DrillDuty) -> DutyLine {
    DutyLine {
        plan: d.plan_title.clone(),
        jurisdiction: d.jurisdiction.clone(),
        period: format!(
            "{} — {} ({})",
            d.period_start,
            d.period_end,
            l.tk("drill_every", &d.every)
        ),
        status: d.status.clone(),
        status_label: l.tk(
            if d.duty == "revision" {
                "revision_duty"
            } else {
                "drill_duty"
            },
            &d.status,
        ),
        drill_id: d.drill_id.map(|i| i.to_string()),
        version: d.plan_version.map(|v| format!("v{v}")),
    }
}

/// A script to start from, for a plan: its ids filled in, the words left to write.
pub fn starter(plan_id: &str, title: &str) -> String {
    format!(
        r#"# 演练脚本（docs/drill-format.md）
[drill]
title = "{title}演练"
plan = "{plan_id}"
scenario = ""
participants = []
observers = []

[report]
title = "演练："
headcount = 50

[[injects]]
at = "10m"
kind = "headcount"
headcount = 120

[[injects]]
at = "25m"
kind = "message"
text = ""

[[injects]]
at = "60m"
kind = "end"
"#
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct DrillsQuery {
    pub plan: Option<String>,
}

async fn build(
    state: &AppState,
    v: &Viewer,
    plan: Option<String>,
    script: Option<String>,
    problems: Vec<Problem>,
    error: String,
) -> Result<DrillsPage, ApiError> {
    let l = v.lang;
    let scope = v.actor.scope_path.clone();
    let may_start = may(state, v, Permission::HandleIncident, &scope);
    let duties = app_drills::schedule(state, &v.actor)
        .await?
        .iter()
        .map(|d| duty_line(l, d))
        .collect();
    let drills = app_drills::list(state, &v.actor)
        .await?
        .iter()
        .map(|d| line(l, d))
        .collect();
    let plans = if may_start {
        super::intake::usable_plans(state, v).await?
    } else {
        vec![]
    };
    let chosen = plan
        .filter(|p| plans.iter().any(|(id, _)| id == p))
        .or_else(|| plans.first().map(|(id, _)| id.clone()))
        .unwrap_or_default();
    let title = plans
        .iter()
        .find(|(id, _)| *id == chosen)
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    let script = script.unwrap_or_else(|| starter(&chosen, &title));
    let mut p = Chrome::new(v, "drills", l.t("drills.title").to_string());
    p.live = "*".into();
    Ok(DrillsPage {
        p,
        duties,
        drills,
        may_start,
        plans,
        plan: chosen,
        script,
        problems,
        error,
    })
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<DrillsQuery>,
) -> impl IntoResponse {
    let built = build(&state, &v, q.plan, None, vec![], String::new()).await;
    PageOut(built.or_page(v.lang).map(|p| render(&p)))
}

fn fail(e: ApiError, l: &'static Lang) -> Response {
    PageOut(Err((e.into(), l))).into_response()
}

/// POST /drills/start: starts a drill from the script in the form; a script with problems
/// comes back in the form with each problem's line and column.
pub async fn start(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let script = f.get("script").unwrap_or_default();
    let req = StartRequest {
        jurisdiction_id: None,
        script: script.clone(),
        file_name: Some("drill.toml".into()),
    };
    match state.execute(&v.actor, None, &StartDrill(req)).await {
        Ok(done) => match done.output() {
            Some(d) => see_other(&format!("/drills/{}", d.id)),
            None => see_other("/drills"),
        },
        Err(e) => {
            let problems = e
                .details
                .get("diagnostics")
                .and_then(|d| d.as_array())
                .map(|a| {
                    a.iter()
                        .map(|d| Problem {
                            line: d["line"].as_u64().unwrap_or(0) as usize,
                            column: d["column"].as_u64().unwrap_or(0) as usize,
                            code: d["code"].as_str().unwrap_or("").to_string(),
                            message: d["message"].as_str().unwrap_or("").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let message = e.message.clone();
            match build(&state, &v, f.get("plan"), Some(script), problems, message).await {
                Ok(page) => {
                    let mut r = render(&page);
                    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                    r
                }
                Err(e2) => fail(e2, v.lang),
            }
        }
    }
}

pub struct InjectLine {
    pub n: usize,
    pub kind: String,
    pub summary: String,
    pub due: String,
    pub outcome: &'static str,
    pub outcome_label: String,
    pub played: String,
    pub reason: String,
}

pub struct MeasureLine {
    pub what: String,
    pub limit: String,
    pub measured: String,
    pub met: &'static str,
}

pub struct ActionLine {
    pub title: String,
    pub owner: String,
    pub due: String,
    pub state: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "drill.html")]
pub struct DrillPage {
    pub p: Chrome,
    pub d: DrillLine,
    pub scenario: String,
    pub participants: String,
    pub observers: String,
    pub injects: Vec<InjectLine>,
    pub stopped: String,
    pub may_stop: bool,
    pub may_evaluate: bool,
    pub evaluated: bool,
    pub summary: String,
    pub measures: Vec<MeasureLine>,
    pub actions: Vec<ActionLine>,
    /// (post id, name) a corrective action may be owned by: the plan's posts.
    pub posts: Vec<(String, String)>,
    pub due_default: String,
    pub files: super::attachments::FilesView,
}

pub async fn drill_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<Uuid>,
) -> impl IntoResponse {
    let built = async {
        let l = v.lang;
        let d = app_drills::get(&state, &v.actor, id).await?;
        let tz = yingji_app::statistics::zone();
        let outcome_label = |o: Outcome| {
            let k = match o {
                Outcome::Pending => "pending",
                Outcome::Played => "played",
                Outcome::Skipped => "skipped",
                Outcome::NotPlayed => "not_played",
            };
            (k, l.tk("drill_outcome", k))
        };
        let injects = d
            .injects
            .iter()
            .map(|i| {
                let (outcome, outcome_label) = outcome_label(i.outcome);
                InjectLine {
                    n: i.index + 1,
                    kind: l.tk("drill_inject", &i.kind),
                    summary: i.summary.clone(),
                    due: format!(
                        "+{} · {}",
                        duration(Some(i.due_at.duration_since(d.started_at).as_secs())),
                        hm(i.due_at, &tz)
                    ),
                    outcome,
                    outcome_label,
                    played: i.played_at.map(|t| hm(t, &tz)).unwrap_or_default(),
                    reason: i.reason.clone().unwrap_or_default(),
                }
            })
            .collect();
        // Stopping and evaluating are offered exactly when the command would be accepted.
        let may_stop = d.status == Status::Running
            && state
                .would_accept(
                    &v.actor,
                    &StopDrill {
                        id,
                        reason: "—".into(),
                    },
                )
                .await;
        let may_evaluate = d.status == Status::Ended
            && state
                .would_accept(
                    &v.actor,
                    &EvaluateDrill {
                        id,
                        request: EvaluateRequest {
                            summary: "—".into(),
                            ..Default::default()
                        },
                    },
                )
                .await;
        let (measures, summary) = match &d.evaluation {
            Some(e) => (
                e.measures
                    .iter()
                    .map(|m| MeasureLine {
                        what: m.what.clone(),
                        limit: m.limit_s.map(|s| duration(Some(s))).unwrap_or("—".into()),
                        measured: duration(m.measured_s),
                        met: match m.met {
                            Some(true) => "met",
                            Some(false) => "missed",
                            None => "none",
                        },
                    })
                    .collect(),
                format!("{} · {} · {}", e.summary, e.by.name, hm(e.at, &tz)),
            ),
            None => (vec![], String::new()),
        };
        let inc =
            yingji_app::incidents::load(&state, &v.actor, d.incident_id, Permission::ViewIncidents)
                .await
                .ok()
                .map(|(inc, _)| inc);
        let actions = inc
            .as_ref()
            .and_then(|i| i.review.as_ref())
            .map(|r| {
                r.corrective_actions
                    .iter()
                    .map(|c| ActionLine {
                        title: c.title.clone(),
                        owner: c.owner.clone(),
                        due: c.due_at.map(|t| hm(t, &tz)).unwrap_or_default(),
                        state: l
                            .t(if c.done {
                                "drills.action_done"
                            } else if c.overdue {
                                "drills.action_overdue"
                            } else {
                                "drills.action_open"
                            })
                            .to_string(),
                        overdue: c.overdue && !c.done,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let posts = if may_evaluate {
            let plan = state.plan(&d.plan_id, d.plan_version).await?;
            plan.posts
                .iter()
                .map(|p| (p.id.value.clone(), p.name.clone()))
                .collect()
        } else {
            vec![]
        };
        let due_default = state
            .clock
            .now()
            .to_zoned(tz.clone())
            .date()
            .checked_add(jiff::Span::new().days(30))
            .map(|d| d.to_string())
            .unwrap_or_default();
        let path = state
            .store
            .jurisdiction(d.jurisdiction_id)
            .await?
            .map(|j| j.path)
            .unwrap_or_default();
        let files = super::attachments::FilesView::load(
            &state,
            &v,
            l,
            "drill",
            d.id,
            may(&state, &v, Permission::HandleIncident, &path),
        )
        .await?;
        let mut p = Chrome::new(&v, "drills", d.script.title.clone());
        p.live = d.id.to_string();
        Ok::<_, ApiError>(DrillPage {
            p,
            d: line(l, &d),
            scenario: d.script.scenario.clone(),
            participants: d.script.participants.join("、"),
            observers: d.script.observers.join("、"),
            injects,
            stopped: d.stopped.clone().unwrap_or_default(),
            may_stop,
            may_evaluate,
            evaluated: d.evaluation.is_some(),
            summary,
            measures,
            actions,
            posts,
            due_default,
            files,
        })
    };
    PageOut(built.await.or_page(v.lang).map(|p| render(&p)))
}

/// POST /drills/{id}/stop.
pub async fn stop(State(state): State<AppState>, Path(id): Path<Uuid>, posted: Posted) -> Response {
    let v = posted.viewer;
    let cmd = StopDrill {
        id,
        reason: posted.form.get("reason").unwrap_or_default(),
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => see_other(&format!("/drills/{id}")),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /drills/{id}/evaluate: the summary, a lesson and a corrective action (owner post and
/// the day it is due).
pub async fn evaluate(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let mut corrective_actions = vec![];
    if let Some(title) = f.get("action_title").filter(|t| !t.trim().is_empty()) {
        let due = f.get("action_due").unwrap_or_default();
        // The day's end in the jurisdiction's time (24:00 China time).
        let due_at = format!("{due}T15:59:59Z");
        corrective_actions.push(CorrectiveActionRequest {
            title,
            owner_post: f.get("action_owner").filter(|o| !o.is_empty()),
            owner_person_id: None,
            due_at: Some(due_at),
        });
    }
    let cmd = EvaluateDrill {
        id,
        request: EvaluateRequest {
            summary: f.get("summary").unwrap_or_default(),
            lessons: f
                .get("lesson")
                .filter(|x| !x.trim().is_empty())
                .into_iter()
                .collect(),
            corrective_actions,
        },
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => see_other(&format!("/drills/{id}")),
        Err(e) => fail(e.into(), v.lang),
    }
}
