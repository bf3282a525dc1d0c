//! The incident room: facts, proposal, actions, tasks by group with deadlines and
//! acknowledgements, headcount over time (SVG), grievances, care, commitments and replies owed,
//! re-grade proposals, the timeline. An action is shown only when the domain's `decide` would
//! accept it now (the same check the API makes), so a button never leads to a refusal that the
//! page could have known. Live: it refreshes when the incident's stream moves.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use uuid::Uuid;
use yingji_app::ErrorCode;
use yingji_domain::PersonRef;
use yingji_domain::incident::{Command, Ctx, Incident, ObligationKind, TaskAction, Update, decide};
use yingji_plan::Plan;

use super::desk::kind_str;
use super::{
    Chrome, Form, OrPage, PageOut, Posted, Viewer, chart, error_text, hm, render, see_other,
};
use crate::AppState;
use crate::error::ApiError;
use crate::incidents::{load, run_scoped};
use crate::trust::Permission;

pub struct TaskView {
    pub id: String,
    pub title: String,
    pub state: String,
    pub state_id: &'static str,
    pub due: String,
    pub rel: String,
    pub overdue: bool,
    pub assignees: String,
    pub ack: Option<String>,
    pub first_response: bool,
    /// (action, label)
    pub actions: Vec<(&'static str, String)>,
}

pub struct GroupView {
    pub name: String,
    pub tasks: Vec<TaskView>,
}

pub struct ObligationView {
    pub id: String,
    pub kind: String,
    pub text: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub done: bool,
    pub done_note: String,
    pub can_fulfil: bool,
    pub needs_channel: bool,
}

pub struct NoteView {
    pub at: String,
    pub by: String,
    pub text: String,
}

pub struct EventView {
    pub at: String,
    pub kind: String,
    pub by: String,
    pub reason: String,
}

/// Which commands the page offers (each checked with `decide`).
#[derive(Default)]
pub struct Allowed {
    pub verify: bool,
    pub unfounded: bool,
    pub assess: bool,
    pub warning: bool,
    pub activate: bool,
    pub update: bool,
    pub regrade: bool,
    pub end: bool,
    pub obligation: bool,
    pub review: bool,
    pub close: bool,
}

impl Allowed {
    pub fn any(&self) -> bool {
        self.verify
            || self.unfounded
            || self.assess
            || self.warning
            || self.activate
            || self.end
            || self.review
            || self.close
    }
}

#[derive(Template)]
#[template(path = "room.html")]
pub struct RoomPage {
    pub p: Chrome,
    pub id: String,
    pub inc: Incident,
    pub status: String,
    pub kind: String,
    pub level: Option<(String, String, String)>,
    pub warning: Option<(String, String, String)>,
    pub proposal: Option<(String, String, String, String)>,
    pub proposal_reason: Option<String>,
    /// (label, value)
    pub facts: Vec<(String, String)>,
    pub groups: Vec<GroupView>,
    pub obligations: Vec<ObligationView>,
    pub grievances: Vec<NoteView>,
    pub care: Vec<NoteView>,
    pub conversations: Vec<NoteView>,
    pub regrade: Option<(String, String, String)>,
    pub chart: String,
    pub timeline: Vec<EventView>,
    pub allowed: Allowed,
    /// (level id, name) for the assess form.
    pub levels: Vec<(String, String)>,
    pub due_default: String,
    pub error: Option<String>,
    pub plan_link: String,
}

fn level_tuple(l: &yingji_domain::incident::LevelRef) -> (String, String, String) {
    (
        l.id.clone(),
        l.name.clone(),
        l.colour.clone().unwrap_or_else(|| "none".into()),
    )
}

struct Dry<'a> {
    inc: &'a Incident,
    plan: &'a Plan,
    holders: &'a std::collections::HashMap<String, Vec<PersonRef>>,
    now: Timestamp,
    actor: yingji_domain::ActorRef,
}

impl Dry<'_> {
    /// Whether the domain would accept the command now.
    fn ok(&self, cmd: &Command) -> bool {
        let lookup = |post: &str| self.holders.get(post).cloned().unwrap_or_default();
        let ctx = Ctx {
            now: self.now,
            actor: &self.actor,
            plan: self.plan,
            holders: &lookup,
            new_id: &Uuid::now_v7,
        };
        decide(Some(self.inc), cmd, &ctx).is_ok()
    }
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<Uuid>,
) -> impl IntoResponse {
    PageOut(
        build(&state, &v, id, None)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

async fn build(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    error: Option<String>,
) -> Result<RoomPage, ApiError> {
    let l = v.lang;
    let (inc, _) = load(state, &v.actor, id, Permission::ViewIncidents).await?;
    let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
    let tz: &TimeZone = &plan.time.tz;
    let holders = state.holders(inc.jurisdiction_id).await?;
    let now = state.clock.now();
    let dry = Dry {
        inc: &inc,
        plan: &plan,
        holders: &holders,
        now,
        actor: v.actor.as_ref(),
    };
    let x = || "x".to_string();
    let first_level = plan.levels.first().map(|lv| lv.id.value.clone());
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap_or(now);
    let allowed = Allowed {
        verify: dry.ok(&Command::Verify { note: None }),
        unfounded: dry.ok(&Command::MarkUnfounded { reason: x() }),
        assess: dry.ok(&Command::Assess {
            level: first_level.clone(),
            reason: Some(x()),
        }),
        warning: inc.warning.is_none() && dry.ok(&Command::IssueWarning { level: None }),
        activate: dry.ok(&Command::Activate { level: None }),
        update: dry.ok(&Command::Update(Update::default())),
        regrade: dry.ok(&Command::AcceptRegrade),
        end: dry.ok(&Command::EndResponse { reason: x() }),
        obligation: dry.ok(&Command::AddObligation {
            id: Uuid::nil(),
            kind: ObligationKind::Commitment,
            text: x(),
            owner: x(),
            due_at: later,
        }),
        review: dry.ok(&Command::Review {
            summary: x(),
            lessons: vec![],
            corrective_actions: vec![],
        }),
        close: dry.ok(&Command::Close),
    };
    let rel = |due: Timestamp| {
        let mins = (due.as_second() - now.as_second()) / 60;
        if due < now {
            l.f1("time.overdue_by", l.minutes(mins))
        } else {
            l.f1("time.due_in", l.minutes(mins))
        }
    };
    let mut groups: Vec<GroupView> = Vec::new();
    for t in &inc.tasks {
        let actions = [
            (TaskAction::Acknowledge, "acknowledge"),
            (TaskAction::Start, "start"),
            (TaskAction::Done, "done"),
        ]
        .into_iter()
        .filter(|(a, _)| {
            dry.ok(&Command::Task {
                id: t.id,
                action: *a,
                reason: None,
            })
        })
        .map(|(_, name)| (name, l.tk("task_action", name)))
        .collect();
        let finished = t.state.is_finished();
        let view = TaskView {
            id: t.id.to_string(),
            title: t.title.clone(),
            state: l.tk("task", t.state.as_str()),
            state_id: t.state.as_str(),
            due: hm(t.due_at, tz),
            rel: if finished {
                String::new()
            } else {
                rel(t.due_at)
            },
            overdue: t.overdue || (!finished && t.due_at < now),
            assignees: t
                .assignees
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            ack: match (&t.acknowledged_by, t.acknowledged_at) {
                (Some(by), Some(at)) => Some(l.f2("room.acked_by", &by.name, hm(at, tz))),
                _ => None,
            },
            first_response: t.first_response,
            actions,
        };
        match groups.iter_mut().find(|g| g.name == t.group_name) {
            Some(g) => g.tasks.push(view),
            None => groups.push(GroupView {
                name: t.group_name.clone(),
                tasks: vec![view],
            }),
        }
    }
    let obligations = inc
        .obligations
        .iter()
        .map(|o| ObligationView {
            id: o.id.to_string(),
            kind: l.tk("obligation", o.kind.as_str()),
            text: o.text.clone(),
            owner: o.owner.clone(),
            due: hm(o.due_at, tz),
            overdue: !o.done && (o.overdue || o.due_at < now),
            done: o.done,
            done_note: [o.channel.clone(), o.outcome.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            can_fulfil: !o.done
                && dry.ok(&Command::FulfilObligation {
                    id: o.id,
                    channel: Some(x()),
                    outcome: None,
                }),
            needs_channel: o.kind == ObligationKind::Reply,
        })
        .collect();
    let notes = |ns: &[yingji_domain::incident::Note]| -> Vec<NoteView> {
        ns.iter()
            .map(|n| NoteView {
                at: hm(n.at, tz),
                by: n.by.name.clone(),
                text: n.text.clone(),
            })
            .collect()
    };
    let timeline = state
        .store
        .stream_events(id)
        .await?
        .into_iter()
        .rev()
        .map(|e| {
            let v = e.envelope;
            EventView {
                at: v
                    .at
                    .parse::<Timestamp>()
                    .map(|t| hm(t, tz))
                    .unwrap_or(v.at.clone()),
                kind: l.tk("event", &v.kind),
                by: v.actor_name,
                reason: v.reason.unwrap_or_default(),
            }
        })
        .collect();
    let mut facts = vec![
        (l.t("room.headcount").to_string(), inc.headcount.to_string()),
        (
            l.t("room.reported").to_string(),
            format!("{} · {}", hm(inc.reported_at, tz), inc.reported_by.name),
        ),
    ];
    if let Some(loc) = &inc.location {
        facts.push((l.t("room.location").to_string(), loc.clone()));
    }
    if let Some(venue) = &inc.venue {
        let name = plan
            .venues
            .iter()
            .find(|c| c.id.value == *venue)
            .map_or(venue.clone(), |c| c.name.clone());
        facts.push((l.t("room.venue").to_string(), name));
    }
    if !inc.behaviours.is_empty() {
        let names: Vec<String> = inc
            .behaviours
            .iter()
            .map(|b| {
                plan.behaviours
                    .iter()
                    .find(|c| c.id.value == *b)
                    .map_or(b.clone(), |c| c.name.clone())
            })
            .collect();
        facts.push((l.t("room.behaviours").to_string(), names.join("、")));
    }
    for f in &plan.intake {
        if let Some(val) = inc.fields.get(&f.id.value) {
            let text = match val {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            facts.push((f.label.clone(), text));
        }
    }
    let mut p = Chrome::new(v, "", inc.title.clone());
    p.live = id.to_string();
    Ok(RoomPage {
        p,
        id: id.to_string(),
        status: l.tk("status", inc.status.as_str()),
        kind: l.tk("kind", kind_str(&inc)),
        level: inc.level.as_ref().map(level_tuple),
        warning: inc.warning.as_ref().map(level_tuple),
        proposal: inc.proposal.as_ref().and_then(|pr| {
            pr.level.as_ref().map(|lv| {
                let (a, b, c) = level_tuple(lv);
                (a, b, c, pr.rule.clone().unwrap_or_default())
            })
        }),
        proposal_reason: inc
            .proposal
            .as_ref()
            .and_then(|pr| pr.level.is_none().then(|| pr.reason.clone()).flatten()),
        facts,
        groups,
        obligations,
        grievances: notes(&inc.grievances),
        care: notes(&inc.care),
        conversations: notes(&inc.conversations),
        regrade: inc.regrade.as_ref().map(|r| {
            (
                r.from.clone().unwrap_or_default(),
                format!("{} {}", r.to.id, r.to.name),
                r.rule.clone(),
            )
        }),
        chart: chart::headcount(
            &inc.headcount_history,
            inc.ended_at.unwrap_or(now),
            tz,
            l.t("room.chart_title"),
        ),
        timeline,
        levels: plan
            .levels
            .iter()
            .map(|lv| (lv.id.value.clone(), lv.name.clone()))
            .collect(),
        due_default: later
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string(),
        allowed,
        error,
        plan_link: format!("/plans/{}?v={}", inc.plan_id, inc.plan_version),
        inc,
    })
}

/// A `datetime-local` value read in the plan's zone.
fn local_time(s: &str, tz: &TimeZone) -> Result<Timestamp, ApiError> {
    let bad = || {
        ApiError::new(ErrorCode::InvalidTime, "the time is not valid")
            .details(serde_json::json!({ "field": "due_at" }))
    };
    let dt: jiff::civil::DateTime = s.parse().map_err(|_| bad())?;
    dt.to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

fn lines(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

async fn command_for(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    action: &str,
    f: &Form,
) -> Result<Command, ApiError> {
    let need = |k: &str| {
        f.get(k).ok_or_else(|| {
            ApiError::new(ErrorCode::MissingField, format!("`{k}` is required"))
                .details(serde_json::json!({ "field": k }))
        })
    };
    Ok(match action {
        "verify" => Command::Verify {
            note: f.get("note"),
        },
        "unfounded" => Command::MarkUnfounded {
            reason: need("reason")?,
        },
        "assess" => Command::Assess {
            level: f.get("level"),
            reason: f.get("reason"),
        },
        "warning" => Command::IssueWarning { level: None },
        "activate" => Command::Activate { level: None },
        "updates" => Command::Update(Update {
            headcount: f.get("headcount").and_then(|h| h.parse().ok()),
            grievances: lines(f.get("grievances")),
            care: lines(f.get("care")),
            conversations: lines(f.get("conversations")),
            note: f.get("note"),
            ..Default::default()
        }),
        "regrade-accept" => Command::AcceptRegrade,
        "regrade-decline" => Command::DeclineRegrade {
            reason: need("reason")?,
        },
        "end" => Command::EndResponse {
            reason: need("reason")?,
        },
        "obligations" => {
            let (inc, _) = load(state, &v.actor, id, Permission::ViewIncidents).await?;
            let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
            Command::AddObligation {
                id: Uuid::now_v7(),
                kind: if f.get("kind").as_deref() == Some("reply") {
                    ObligationKind::Reply
                } else {
                    ObligationKind::Commitment
                },
                text: need("text")?,
                owner: need("owner")?,
                due_at: local_time(&need("due_at")?, &plan.time.tz)?,
            }
        }
        "fulfil" => Command::FulfilObligation {
            id: need("obligation")?
                .parse()
                .map_err(|_| ApiError::not_found("commitment or reply"))?,
            channel: f.get("channel"),
            outcome: f.get("outcome"),
        },
        "review" => Command::Review {
            summary: need("summary")?,
            lessons: lines(f.get("lessons")),
            corrective_actions: vec![],
        },
        "close" => Command::Close,
        _ => return Err(ApiError::not_found("action")),
    })
}

/// POST /incidents/{id}/do/{action}
pub async fn action(
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form } = posted;
    let result = match command_for(&state, &v, id, &action, &form).await {
        Ok(cmd) => run_scoped(&state, &v.actor, id, cmd).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, &v, id, result).await
}

/// POST /incidents/{id}/tasks/{task}/{action}
pub async fn task(
    State(state): State<AppState>,
    Path((id, task, action)): Path<(Uuid, Uuid, String)>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let action = match action.as_str() {
        "acknowledge" => TaskAction::Acknowledge,
        "start" => TaskAction::Start,
        "done" => TaskAction::Done,
        _ => return after(&state, &v, id, Err(ApiError::not_found("action"))).await,
    };
    let cmd = Command::Task {
        id: task,
        action,
        reason: posted.form.get("reason"),
    };
    let result = run_scoped(&state, &v.actor, id, cmd).await.map(|_| ());
    after(&state, &v, id, result).await
}

/// Back to the room after a command: a redirect when it was recorded, the room with the
/// reason when it was refused.
async fn after(state: &AppState, v: &Viewer, id: Uuid, r: Result<(), ApiError>) -> Response {
    match r {
        Ok(()) => see_other(&format!("/incidents/{id}")),
        Err(e) if e.code == yingji_app::ErrorCode::NotFound => {
            PageOut(Err((e.into(), v.lang))).into_response()
        }
        Err(e) => {
            let msg = error_text(v.lang, &e);
            let mut r = PageOut(
                build(state, v, id, Some(msg))
                    .await
                    .or_page(v.lang)
                    .map(|p| render(&p)),
            )
            .into_response();
            if r.status().is_success() {
                *r.status_mut() = e.status();
            }
            r
        }
    }
}
