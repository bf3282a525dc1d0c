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
use yingji_domain::incident::{
    CloseReason, Command, Incident, ObligationKind, PlanRevision, TaskAction, Update, UpwardKind,
};

use super::desk::kind_str;
use super::i18n::Lang;
use super::{
    Chrome, Form, OrPage, PageOut, Posted, Viewer, chart, error_text, hm, may, render, see_other,
};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;
use yingji_app::incidents::{ActionRequest, Checker, IncidentAction, OnIncident, OnTask, load};

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
    pub aftermath: bool,
    /// Why it was closed without being done.
    pub closed_as: Option<String>,
    /// (action, label)
    pub actions: Vec<(&'static str, String)>,
    /// The task may be cancelled (with a reason).
    pub can_cancel: bool,
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

/// A report owed upward (首报/续报/终报) as the room shows it.
pub struct UpwardView {
    pub id: String,
    /// 首报, 续报 n, 终报
    pub kind: String,
    pub to: String,
    /// The responsible posts' names.
    pub by: String,
    pub due: String,
    pub late: bool,
    /// "submitted by … at …"
    pub submitted: Option<String>,
    pub closed: bool,
    /// (field, value) as submitted
    pub values: Vec<(String, String)>,
    pub text: String,
    /// The plan's fields: one input each in the form.
    pub fields: Vec<String>,
    /// The viewer may submit it now (the command would accept it).
    pub can_submit: bool,
}

pub struct CorrectiveView {
    pub id: String,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub done: bool,
    /// "Answered by plan … v…"
    pub revision: Option<String>,
    pub can_done: bool,
    pub can_link: bool,
}

/// The saved review, as the people who may see the incident see it.
pub struct ReviewView {
    pub at: String,
    pub summary: String,
    pub lessons: Vec<String>,
    /// (label, duration)
    pub measured: Vec<(String, String)>,
    pub corrective: Vec<CorrectiveView>,
}

pub struct NoteView {
    pub at: String,
    pub by: String,
    pub text: String,
}

/// A coercive-step request as the room shows it: who asked, whom it names, and where it stands.
pub struct CoerciveView {
    pub id: String,
    pub name: String,
    /// pending, approved, refused, unconfirmed
    pub state: &'static str,
    pub state_label: String,
    pub requested: String,
    pub approver: String,
    pub decided: String,
    pub reason: String,
    pub decision_reason: String,
    /// The viewer is the named approver and may decide now.
    pub can_decide: bool,
}

pub struct ConsultationView {
    pub step: String,
    pub participants: String,
    pub conclusion: String,
    pub recorded: String,
}

pub struct EventView {
    pub at: String,
    pub kind: String,
    /// What the event was about, in words: the task it concerns, an update's note and
    /// headcount, a verification's note.
    pub detail: String,
    pub by: String,
    pub reason: String,
}

/// The words a timeline entry adds to its kind (empty: none).
fn event_detail(l: &Lang, inc: &Incident, kind: &str, payload: &str) -> String {
    let Ok(p) = serde_json::from_str::<serde_json::Value>(payload) else {
        return String::new();
    };
    let id = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<uuid::Uuid>().ok());
    match kind {
        k if k.starts_with("task_") => id(&p["id"])
            .and_then(|t| inc.tasks.iter().find(|x| x.id == t))
            .map(|t| t.title.clone())
            .unwrap_or_default(),
        "obligation_overdue" => id(&p["id"])
            .and_then(|o| inc.obligations.iter().find(|x| x.id == o))
            .map(|o| o.text.clone())
            .unwrap_or_default(),
        "updated" => {
            let u = &p["update"];
            let mut parts = Vec::new();
            if let Some(h) = u["headcount"].as_u64() {
                parts.push(l.f1("room.event_headcount", h));
            }
            if let Some(n) = u["note"].as_str().filter(|n| !n.is_empty()) {
                parts.push(n.to_string());
            }
            parts.join(l.t("sep.clause"))
        }
        "verified" => p["note"].as_str().unwrap_or_default().to_string(),
        _ => String::new(),
    }
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
    /// Request a coercive step (some step of the level, naming someone else).
    pub coercive: bool,
    /// Record a consultation (会商) about a coercive step.
    pub consultation: bool,
    /// Report the incident to the parent jurisdiction (上报).
    pub escalate: bool,
    /// Lift the warning in force, with a reason.
    pub lift_warning: bool,
    /// Activation is of the plan's most severe level: the form asks for a confirmation.
    pub confirm_activation: bool,
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
            || self.escalate
            || self.lift_warning
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
    pub upward: Vec<UpwardView>,
    pub grievances: Vec<NoteView>,
    pub care: Vec<NoteView>,
    pub conversations: Vec<NoteView>,
    pub regrade: Option<(String, String, String)>,
    pub chart: String,
    pub timeline: Vec<EventView>,
    pub allowed: Allowed,
    pub coercive: Vec<CoerciveView>,
    pub consultations: Vec<ConsultationView>,
    /// The coercive steps of the level: (step id, label with its approver post and any
    /// consultation the plan requires first).
    pub coercive_steps: Vec<(String, String)>,
    /// Whom a request may name: (person id, name and post), the viewer left out.
    pub approvers: Vec<(String, String)>,
    /// (level id, name) for the assess form.
    pub levels: Vec<(String, String)>,
    pub due_default: String,
    pub error: Option<String>,
    pub plan_link: String,
    pub review: Option<ReviewView>,
    /// (when, overdue) while the review is owed.
    pub review_due: Option<(String, bool)>,
    /// (`post:<id>` or `person:<id>`, name) for a corrective action's owner: the plan's posts,
    /// then the people holding them in the incident's jurisdiction.
    pub owners: Vec<(String, String)>,
    /// The linked records up and down the tree: (label, link, text).
    pub linked: Vec<(String, String, String)>,
    pub docs: super::documents::DocsView,
    /// Reserves issued to it and returned: (item, movement, quantity, unit, when, by, item id).
    pub reserves: Vec<(String, String, i64, String, String, String, String)>,
    /// Spending on it: (budget line, yuan, when, by, note).
    pub spending: Vec<(String, String, String, String, String)>,
    pub files: super::attachments::FilesView,
    pub fu: super::followups::FollowUpsView,
    pub reps: super::representatives::RepsView,
}

/// Whether activating now would put the plan's most severe level in force (activation takes the
/// assessed level): the console then asks for a confirmation.
fn activation_is_top(
    plan: &yingji_plan::model::Plan,
    inc: &yingji_domain::incident::Incident,
) -> bool {
    match (inc.level.as_ref(), plan.levels.first()) {
        (Some(l), Some(top)) => l.id == top.id.value,
        _ => false,
    }
}

fn level_tuple(l: &yingji_domain::incident::LevelRef) -> (String, String, String) {
    (
        l.id.clone(),
        l.name.clone(),
        l.colour.clone().unwrap_or_else(|| "none".into()),
    )
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
    // What the viewer may do is what the command path would accept from them now.
    let dry = Checker::new(state, &v.actor, id).await?;
    let inc = dry.incident().clone();
    let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
    let tz: &TimeZone = &plan.time.tz;
    let now = state.clock.now();
    let x = || "x".to_string();
    let first_level = plan.levels.first().map(|lv| lv.id.value.clone());
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap_or(now);
    let ok = |cmd: Command| IncidentAction::Decide(cmd);
    let allowed = Allowed {
        verify: dry.accepts(&ok(Command::Verify { note: None })).await,
        unfounded: dry
            .accepts(&ok(Command::MarkUnfounded { reason: x() }))
            .await,
        assess: dry
            .accepts(&ok(Command::Assess {
                level: first_level.clone(),
                reason: Some(x()),
            }))
            .await,
        warning: inc.warning.is_none()
            && dry
                .accepts(&ok(Command::IssueWarning { level: None }))
                .await,
        activate: dry.accepts(&ok(Command::Activate { level: None })).await,
        update: dry.accepts(&ok(Command::Update(Update::default()))).await,
        regrade: dry.accepts(&ok(Command::AcceptRegrade)).await,
        end: dry
            .accepts(&ok(Command::EndResponse {
                reason: x(),
                open_tasks: CloseReason::NotNeeded,
            }))
            .await,
        obligation: dry
            .accepts(&ok(Command::AddObligation {
                id: Uuid::nil(),
                kind: ObligationKind::Commitment,
                text: x(),
                owner: x(),
                due_at: Some(later),
            }))
            .await,
        review: dry
            .accepts(&IncidentAction::Review {
                summary: x(),
                lessons: vec![],
                corrective_actions: vec![],
            })
            .await,
        close: dry.accepts(&ok(Command::Close)).await,
        coercive: false,
        consultation: false,
        escalate: dry.accepts(&IncidentAction::Escalate { note: None }).await,
        lift_warning: inc.warning.is_some()
            && dry.accepts(&ok(Command::LiftWarning { reason: x() })).await,
        confirm_activation: false,
    };
    let mut allowed = allowed;
    // Activating the most severe level asks the person to confirm it in the form (the level in
    // force, or the one activation would take: the assessed or proposed level).
    allowed.confirm_activation = allowed.activate && activation_is_top(&plan, &inc);
    // The level's coercive steps, and the holders of their approver posts but the viewer.
    let level_steps: Vec<yingji_plan::model::CoerciveStep> = inc
        .level
        .as_ref()
        .and_then(|lv| plan.level_index(&lv.id))
        .map(|i| {
            yingji_plan::response::effective(&plan, i)
                .coercive_steps
                .into_iter()
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let holders = state.holders(inc.jurisdiction_id).await?;
    let mut coercive_steps = Vec::new();
    let mut approvers: Vec<(String, String)> = Vec::new();
    for cs in &level_steps {
        let post = &cs.approver.value;
        let post_name = plan.name_of(post).unwrap_or(post).to_string();
        let mut label = format!(
            "{}（{}）",
            cs.name,
            l.f1("room.approved_by_post", &post_name)
        );
        if let Some(c) = &cs.consultation {
            label.push_str(&format!(" · {}", l.f1("room.consult_first", &c.value)));
        }
        coercive_steps.push((cs.step.value.clone(), label));
        for h in holders.get(post).cloned().unwrap_or_default() {
            if h.person_id == v.actor.person_id {
                continue;
            }
            let request = IncidentAction::CoerciveStep {
                id: Uuid::nil(),
                step: cs.step.value.clone(),
                approver_id: h.person_id,
                reason: x(),
            };
            if dry.accepts(&request).await {
                allowed.coercive = true;
                let id = h.person_id.to_string();
                if !approvers.iter().any(|(a, _)| *a == id) {
                    approvers.push((id, format!("{} · {}", h.name, post_name)));
                }
            }
        }
        if !allowed.consultation {
            allowed.consultation = dry
                .accepts(&ok(Command::RecordConsultation {
                    id: Uuid::nil(),
                    step: cs.step.value.clone(),
                    participants: vec![x()],
                    conclusion: x(),
                }))
                .await;
        }
    }
    let mut coercive = Vec::new();
    for r in &inc.coercive_steps {
        let can_decide = !r.id.is_nil()
            && dry
                .accepts(&ok(Command::DecideCoerciveStep {
                    id: r.id,
                    approve: true,
                    reason: None,
                }))
                .await;
        let post_name = plan
            .name_of(&r.approver_post)
            .unwrap_or(&r.approver_post)
            .to_string();
        coercive.push(CoerciveView {
            id: r.id.to_string(),
            name: r.name.clone(),
            state: r.state.as_str(),
            state_label: l.tk("coercive", r.state.as_str()),
            requested: format!("{} · {}", r.recorded_by.name, hm(r.at, tz)),
            approver: format!("{} · {}", r.approver.name, post_name),
            decided: match (&r.decided_by, r.decided_at) {
                (Some(by), Some(at)) => format!("{} · {}", by.name, hm(at, tz)),
                _ => String::new(),
            },
            reason: r.reason.clone(),
            decision_reason: r.decision_reason.clone().unwrap_or_default(),
            can_decide,
        });
    }
    let consultations = inc
        .consultations
        .iter()
        .map(|c| ConsultationView {
            step: level_steps
                .iter()
                .find(|s| s.step.value == c.step)
                .map_or(c.step.clone(), |s| s.name.clone()),
            participants: c.participants.join(l.t("sep.list")),
            conclusion: c.conclusion.clone(),
            recorded: format!("{} · {}", c.recorded_by.name, hm(c.at, tz)),
        })
        .collect();
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
        let mut actions = Vec::new();
        for (a, name) in [
            (TaskAction::Acknowledge, "acknowledge"),
            (TaskAction::Start, "start"),
            (TaskAction::Done, "done"),
        ] {
            let cmd = ok(Command::Task {
                id: t.id,
                action: a,
                reason: None,
            });
            if dry.accepts(&cmd).await {
                actions.push((name, l.tk("task_action", name)));
            }
        }
        let can_cancel = dry
            .accepts(&ok(Command::Task {
                id: t.id,
                action: TaskAction::Cancel,
                reason: Some(x()),
            }))
            .await;
        let finished = t.state.is_finished();
        let view = TaskView {
            can_cancel,
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
                .join(l.t("sep.list")),
            ack: match (&t.acknowledged_by, t.acknowledged_at) {
                (Some(by), Some(at)) => {
                    let mut a = l.f2("room.acked_by", &by.name, hm(at, tz));
                    if !t.acknowledged_for.is_empty() {
                        let names: Vec<&str> =
                            t.acknowledged_for.iter().map(|p| p.name.as_str()).collect();
                        a.push_str(&format!(
                            " · {}",
                            l.f1("room.acked_for", names.join(l.t("sep.list")))
                        ));
                    }
                    Some(a)
                }
                _ => None,
            },
            first_response: t.first_response,
            aftermath: t.aftermath,
            closed_as: t
                .closed_reason
                .map(|r| l.f1("room.closed_as", l.tk("close_reason", r.as_str()))),
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
    let mut fulfillable = Vec::new();
    for o in &inc.obligations {
        let cmd = ok(Command::FulfilObligation {
            id: o.id,
            channel: Some(x()),
            outcome: None,
        });
        if !o.done && dry.accepts(&cmd).await {
            fulfillable.push(o.id);
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
            can_fulfil: fulfillable.contains(&o.id),
            needs_channel: o.kind == ObligationKind::Reply,
        })
        .collect();
    let mut upward = Vec::new();
    for r in &inc.upward_reports {
        let can_submit = r.is_open()
            && dry
                .accepts(&ok(Command::SubmitUpwardReport {
                    id: r.id,
                    values: r.fields.iter().map(|f| (f.clone(), x())).collect(),
                    text: Some(x()),
                }))
                .await;
        let mut kind = l.tk("report_kind", r.kind.as_str());
        if r.kind == UpwardKind::FollowUp {
            kind = format!("{kind} {}", r.seq);
        }
        let names: Vec<&str> = r
            .posts
            .iter()
            .map(|p| plan.name_of(p).unwrap_or(p))
            .collect();
        upward.push(UpwardView {
            id: r.id.to_string(),
            kind,
            to: r.to.clone(),
            by: names.join(l.t("sep.list")),
            due: r
                .due_at
                .map(|d| hm(d, tz))
                .unwrap_or_else(|| l.t("room.upward_due_at_end").to_string()),
            late: r.late || (r.is_open() && r.due_at.is_some_and(|d| d < now)),
            submitted: match (&r.submitted_by, r.submitted_at) {
                (Some(by), Some(at)) => Some(l.f2("room.upward_submitted", &by.name, hm(at, tz))),
                _ => None,
            },
            closed: r.closed,
            values: r
                .fields
                .iter()
                .filter_map(|f| r.values.get(f).map(|v| (f.clone(), v.clone())))
                .collect(),
            text: r.text.clone().unwrap_or_default(),
            fields: r.fields.clone(),
            can_submit,
        });
    }
    let mut review = None;
    if let Some(r) = &inc.review {
        let dur = |s: Option<i64>| s.map(|s| l.minutes(s / 60));
        let m = &r.measured;
        let measured = [
            ("report_to_verify", m.report_to_verify_s),
            ("report_to_assess", m.report_to_assess_s),
            ("assess_to_activate", m.assess_to_activate_s),
            ("activate_to_first_ack", m.activate_to_first_ack_s),
            ("activate_to_end", m.activate_to_end_s),
            ("report_to_end", m.report_to_end_s),
        ]
        .into_iter()
        .filter_map(|(k, v)| dur(v).map(|d| (l.tk("measured", k), d)))
        .collect();
        let mut corrective = Vec::new();
        for c in &r.corrective_actions {
            let can_done = !c.done
                && dry
                    .accepts(&ok(Command::CorrectiveActionDone { id: c.id }))
                    .await;
            let can_link = dry
                .accepts(&ok(Command::LinkCorrectiveAction {
                    id: c.id,
                    revision: PlanRevision {
                        plan_id: inc.plan_id.clone(),
                        version: inc.plan_version,
                    },
                }))
                .await;
            corrective.push(CorrectiveView {
                id: c.id.to_string(),
                title: c.title.clone(),
                owner: c.owner.clone(),
                due: c.due_at.map(|d| hm(d, tz)).unwrap_or_default(),
                overdue: !c.done && (c.overdue || c.due_at.is_some_and(|d| d < now)),
                done: c.done,
                revision: c
                    .plan_revision
                    .as_ref()
                    .map(|p| l.f2("room.plan_revision", &p.plan_id, p.version)),
                can_done,
                can_link,
            });
        }
        review = Some(ReviewView {
            at: hm(r.at, tz),
            summary: r.summary.clone(),
            lessons: r.lessons.clone(),
            measured,
            corrective,
        });
    }
    let mut owners: Vec<(String, String)> = plan
        .posts
        .iter()
        .map(|p| (format!("post:{}", p.id.value), p.name.clone()))
        .collect();
    if allowed.review {
        let mut people: Vec<(String, String)> = Vec::new();
        for holders in state.holders(inc.jurisdiction_id).await?.values() {
            for h in holders {
                let v = format!("person:{}", h.person_id);
                if !people.iter().any(|(x, _)| *x == v) {
                    people.push((v, h.name.clone()));
                }
            }
        }
        people.sort_by(|a, b| a.1.cmp(&b.1));
        owners.extend(people);
    }
    let review_due = inc
        .review_due_at
        .filter(|_| inc.review.is_none())
        .map(|d| (hm(d, tz), inc.review_overdue || d < now));
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
                detail: event_detail(l, &inc, &v.kind, &v.payload),
                kind: l.tk("event", &v.kind),
                by: if v.actor_id == yingji_app::system_actor().person_id {
                    l.t("room.system").to_string()
                } else {
                    v.actor_name
                },
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
        facts.push((
            l.t("room.behaviours").to_string(),
            names.join(l.t("sep.list")),
        ));
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
    // Up the tree: the record this one was reported to; down: the one it follows.
    let mut linked = Vec::new();
    if let Some(pid) = inc.parent_incident {
        linked.push((
            l.t("room.reported_up").to_string(),
            format!("/incidents/{pid}"),
            l.t("room.parent_record").to_string(),
        ));
    }
    if let Some(sid) = inc.source_incident {
        let text = match &inc.source {
            Some(src) => {
                let mut t = l.tk("status", src.status.as_str());
                if let Some(lv) = &src.level {
                    t.push_str(&format!(" · {} {}", lv.id, lv.name));
                }
                t.push_str(&format!(
                    " · {} {} · {}",
                    l.t("room.headcount"),
                    src.headcount,
                    hm(src.at, tz)
                ));
                t
            }
            None => l.t("room.source_record").to_string(),
        };
        linked.push((
            l.t("room.source").to_string(),
            format!("/incidents/{sid}"),
            text,
        ));
    }
    let reserves = yingji_app::reserves::of_incident(state, &v.actor, inc.id)
        .await?
        .into_iter()
        .map(|m| {
            (
                m.item,
                l.tk("reserve_movement", m.kind.as_str()),
                m.quantity,
                m.unit,
                hm(m.at, tz),
                m.by,
                m.item_id.to_string(),
            )
        })
        .collect();
    let spending = yingji_app::resources::spending_of(state, &v.actor, inc.id)
        .await?
        .into_iter()
        .map(|x| {
            (
                x.line,
                super::reserves::yuan(x.amount_fen),
                hm(x.at, tz),
                x.by,
                x.note.unwrap_or_default(),
            )
        })
        .collect();
    let files = super::attachments::FilesView::load(
        state,
        v,
        l,
        "incident",
        inc.id,
        may(state, v, Permission::UpdateIncident, dry.path()),
    )
    .await?;
    let reps = super::representatives::RepsView::load(
        state,
        v,
        l,
        inc.id,
        dry.path(),
        !matches!(
            inc.status,
            yingji_domain::incident::Status::Closed | yingji_domain::incident::Status::Unfounded
        ),
    )
    .await?;
    let fu = super::followups::FollowUpsView::load(
        state,
        v,
        l,
        "incident",
        inc.id,
        dry.path(),
        Permission::UpdateIncident,
    )
    .await?;
    // A drill incident links its drill (script, injects, evaluation).
    if inc.drill
        && let Some(d) = yingji_app::drills::of_incident(state, inc.id).await?
    {
        linked.push((
            l.t("drills.mark").to_string(),
            format!("/drills/{}", d.id),
            d.script.title.clone(),
        ));
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
        // The plan's proposal matters until a level is assessed; after that the level (and a
        // re-grade proposal, shown on its own) is what stands.
        proposal: inc
            .proposal
            .as_ref()
            .filter(|_| inc.level.is_none())
            .and_then(|pr| {
                pr.level.as_ref().map(|lv| {
                    let (a, b, c) = level_tuple(lv);
                    (
                        a,
                        b,
                        c,
                        super::plain::proposal_rule(l, &plan, pr).unwrap_or_default(),
                    )
                })
            }),
        proposal_reason: inc
            .proposal
            .as_ref()
            .filter(|_| inc.level.is_none())
            .and_then(|pr| pr.level.is_none().then(|| pr.reason.clone()).flatten()),
        facts,
        linked,
        groups,
        obligations,
        upward,
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
        coercive,
        consultations,
        coercive_steps,
        approvers,
        error,
        plan_link: format!("/plans/{}?v={}", inc.plan_id, inc.plan_version),
        review,
        review_due,
        owners,
        docs: super::documents::DocsView::new(
            l,
            format!("/incidents/{id}/documents"),
            if may(state, v, Permission::HandleIncident, dry.path()) {
                yingji_app::documents::incident_kinds(&inc)
            } else {
                vec![]
            },
            &inc.documents,
        ),
        reserves,
        spending,
        files,
        fu,
        reps,
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

/// The console form of an action as the API's request body, so that both reach the same
/// validation (`IncidentAction::parse`) and the same errors.
async fn request_for(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    action: &str,
    f: &Form,
) -> Result<ActionRequest, ApiError> {
    let mut req = ActionRequest {
        note: f.get("note"),
        reason: f.get("reason"),
        level: f.get("level"),
        grievances: lines(f.get("grievances")),
        care: lines(f.get("care")),
        conversations: lines(f.get("conversations")),
        kind: f.get("kind"),
        text: f.get("text"),
        owner: f.get("owner"),
        summary: f.get("summary"),
        lessons: lines(f.get("lessons")),
        channel: f.get("channel"),
        outcome: f.get("outcome"),
        step: f.get("step"),
        participants: lines(f.get("participants")),
        conclusion: f.get("conclusion"),
        open_tasks: f.get("open_tasks"),
        plan_id: f.get("plan_id"),
        ..Default::default()
    };
    if let Some(n) = f.get("version") {
        req.version =
            Some(n.trim().parse().map_err(|_| {
                ApiError(yingji_app::AppError::invalid("version", "a whole number"))
            })?);
    }
    if let Some(h) = f.get("headcount") {
        req.headcount =
            Some(h.parse().map_err(|_| {
                ApiError(yingji_app::AppError::invalid("headcount", "a whole number"))
            })?);
    }
    if let Some(a) = f.get("approver_id") {
        req.approver_id =
            Some(Uuid::parse_str(&a).map_err(|_| {
                ApiError(yingji_app::AppError::invalid("approver_id", "a person id"))
            })?);
    }
    if action == "obligations"
        && let Some(due) = f.get("due_at")
    {
        // A `datetime-local` value, read in the plan's zone.
        let (inc, _) = load(state, &v.actor, id, Permission::ViewIncidents).await?;
        let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
        req.due_at = Some(local_time(&due, &plan.time.tz)?.to_string());
    }
    // The review form's one corrective action: a title, the owning post and the deadline.
    if action == "review"
        && let Some(title) = f.get("ca_title")
    {
        let (inc, _) = load(state, &v.actor, id, Permission::ViewIncidents).await?;
        let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
        let due = match f.get("ca_due") {
            Some(d) => Some(local_time(&d, &plan.time.tz)?.to_string()),
            None => None,
        };
        // The owner: `post:<id>` or `person:<id>`.
        let owner = f.get("ca_owner").unwrap_or_default();
        let (owner_post, owner_person_id) = match owner.split_once(':') {
            Some(("post", p)) => (Some(p.to_string()), None),
            Some(("person", p)) => (
                None,
                Some(Uuid::parse_str(p).map_err(|_| {
                    ApiError(yingji_app::AppError::invalid("ca_owner", "a person id"))
                })?),
            ),
            _ => (None, None),
        };
        req.corrective_actions
            .push(yingji_app::incidents::CorrectiveActionRequest {
                title,
                owner_person_id,
                owner_post,
                due_at: due,
            });
    }
    Ok(req)
}

async fn action_for(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    action: &str,
    f: &Form,
) -> Result<IncidentAction, ApiError> {
    let req = request_for(state, v, id, action, f).await?;
    if action == "activate" && f.get("confirm").as_deref() != Some("yes") {
        // The most severe level is activated only when the person confirms it in the form.
        let dry = Checker::new(state, &v.actor, id).await?;
        let inc = dry.incident().clone();
        let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
        if activation_is_top(&plan, &inc) {
            return Err(ApiError::new(
                ErrorCode::ConfirmationRequired,
                "activating the most severe level needs a confirmation",
            ));
        }
    }
    if action == "upward-report" {
        let rid = f
            .get("report")
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownUpwardReport, "no such report"))?;
        // One input per field of the report (`value:<field>`), and free text.
        let req = yingji_app::incidents::UpwardReportRequest {
            values: f
                .0
                .iter()
                .filter_map(|(k, v)| {
                    let field = k.strip_prefix("value:")?;
                    Some((field.to_string(), v.trim().to_string()))
                })
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            text: f.get("text"),
        };
        return Ok(IncidentAction::submit_report(rid, &req)?);
    }
    if action == "fulfil" {
        let oid = f
            .get("obligation")
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| ApiError::not_found("commitment or reply"))?;
        return Ok(IncidentAction::fulfil(oid, &req));
    }
    if let Some(decision) = action
        .strip_prefix("coercive-")
        .filter(|d| matches!(*d, "approve" | "refuse"))
    {
        let rid = f
            .get("request")
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownCoerciveRequest, "no such request"))?;
        return Ok(IncidentAction::decide_coercive(rid, decision, &req)?);
    }
    if let Some(what) = action.strip_prefix("corrective-") {
        let cid = f
            .get("corrective")
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| ApiError::not_found("corrective action"))?;
        return Ok(IncidentAction::corrective(cid, what, &req)?);
    }
    Ok(IncidentAction::parse(action, &req)?)
}

/// POST /incidents/{id}/do/{action}
pub async fn action(
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form } = posted;
    let result = match action_for(&state, &v, id, &action, &form).await {
        Ok(action) => state
            .execute(
                &v.actor,
                None,
                &OnIncident {
                    id: id.into(),
                    action,
                },
            )
            .await
            .map(|_| ())
            .map_err(ApiError::from),
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
    let action = match OnTask::parse_action(&action) {
        Ok(a) => a,
        Err(e) => return after(&state, &v, id, Err(e.into())).await,
    };
    let cmd = OnTask {
        task_id: task.into(),
        action,
        reason: posted.form.get("reason"),
    };
    let result = state
        .execute(&v.actor, None, &cmd)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
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
