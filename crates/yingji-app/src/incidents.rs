//! Incidents and their tasks: the typed inputs (the API's JSON and the console's forms both
//! become these, through the same validation) and the commands that run them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::incident::{
    Attachment, CloseReason, Command, CorrectiveAction, Ctx, Event, Incident, IncidentKind,
    NewReport, ObligationKind, PlanRevision, Proposal, TaskAction, TaskState, Update, apply,
    decide, measure_log, propose,
};
use yingji_domain::values::{IncidentId, TaskId};
use yingji_domain::{ActorRef, PersonRef};
use yingji_store::{IncidentRecord, IncidentSummary, JurisdictionRow, TaskRow, WriteSet};

use crate::command::{Authorized, Command as AppCommand, Decided};
use crate::write::incident_events;
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// The largest headcount a report may give (a bound so that nothing sized by it can explode).
pub const MAX_HEADCOUNT: u32 = 1_000_000;

/// A report of an early sign or an actual event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentRequest {
    pub jurisdiction_id: Uuid,
    /// The plan id; its newest version is used and the incident is pinned to it.
    pub plan_id: String,
    /// `early_sign` (苗头) or `event`.
    pub kind: String,
    pub title: String,
    pub headcount: u32,
    pub venue: Option<String>,
    #[serde(default)]
    pub behaviours: Vec<String>,
    pub location: Option<String>,
    /// The plan's intake fields by id.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub drill: bool,
}

/// The body of a lifecycle command. Which keys apply depends on the action (see the API doc).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub note: Option<String>,
    pub reason: Option<String>,
    pub level: Option<String>,
    /// For `end`: how the response's open tasks and calls are closed, `not_needed` (the
    /// default) or `handed_over`.
    pub open_tasks: Option<String>,
    // updates
    pub headcount: Option<u32>,
    pub behaviours: Option<Vec<String>>,
    pub location: Option<String>,
    #[serde(default)]
    pub grievances: Vec<String>,
    #[serde(default)]
    pub care: Vec<String>,
    #[serde(default)]
    pub conversations: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentRequest>,
    // coercive steps (a request names the approver) and consultations (会商)
    pub step: Option<String>,
    pub approver_id: Option<Uuid>,
    #[serde(default)]
    pub participants: Vec<String>,
    pub conclusion: Option<String>,
    // obligations
    /// `commitment` or `reply`.
    pub kind: Option<String>,
    pub text: Option<String>,
    pub owner: Option<String>,
    /// RFC 3339.
    pub due_at: Option<String>,
    // review
    pub summary: Option<String>,
    #[serde(default)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveActionRequest>,
    // fulfil
    pub channel: Option<String>,
    pub outcome: Option<String>,
    // a corrective action's link to the plan revision that answers it
    pub plan_id: Option<String>,
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: Option<String>,
}

/// A corrective action of a review: owned by a person or by a post of the incident's plan
/// (exactly one), with a deadline.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectiveActionRequest {
    pub title: String,
    pub owner_person_id: Option<Uuid>,
    pub owner_post: Option<String>,
    /// RFC 3339.
    pub due_at: Option<String>,
}

/// A report owed upward (首报/续报/终报), as submitted: every field the plan names for it with
/// its value, and free text.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpwardReportRequest {
    /// Each field of the report (as the plan names it) with its value; every one is required.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Anything else to report (required when the plan names no fields).
    pub text: Option<String>,
}

/// A corrective action as validated, before its owner is looked up.
#[derive(Debug, Clone)]
pub struct CorrectiveInput {
    pub title: String,
    pub owner_person_id: Option<Uuid>,
    pub owner_post: Option<String>,
    pub due_at: Timestamp,
}

/// An RFC 3339 time, or `invalid_time` naming the field.
pub fn parse_ts(s: &str, field: &str) -> Result<Timestamp, AppError> {
    s.parse::<Timestamp>().map_err(|_| {
        AppError::field(
            ErrorCode::InvalidTime,
            field,
            format!("`{field}` must be an RFC 3339 time such as 2026-03-02T10:00:00+08:00"),
        )
    })
}

/// A required, non-blank text field.
pub fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, AppError> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| AppError::missing(field))
}

/// A non-blank text of at most `max` characters.
fn text_field(v: &str, field: &str, max: usize) -> Result<(), AppError> {
    if v.trim().is_empty() {
        return Err(AppError::missing(field));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// What a command on an incident does.
#[derive(Debug, Clone)]
pub enum IncidentAction {
    /// A lifecycle command the domain decides as it is.
    Decide(Command),
    /// Escalation to the parent jurisdiction (its linked record is created in the same write).
    Escalate { note: Option<String> },
    /// A request for a coercive step, naming the person who must approve it.
    CoerciveStep {
        id: Uuid,
        step: String,
        approver_id: Uuid,
        reason: String,
    },
    /// The after-action review, its corrective actions' owners to be looked up and its times
    /// to be measured from the event log.
    Review {
        summary: String,
        lessons: Vec<String>,
        corrective_actions: Vec<CorrectiveInput>,
    },
}

/// The actions of `POST /incidents/{id}/corrective-actions/{cid}/{action}`.
pub const CORRECTIVE_ACTIONS: &[&str] = &["done", "link"];

/// The action names of `POST /incidents/{id}/{action}` (and the console's forms).
pub const ACTIONS: &[&str] = &[
    "verify",
    "unfounded",
    "assess",
    "warning",
    "lift-warning",
    "activate",
    "updates",
    "escalate",
    "coercive-steps",
    "consultations",
    "end",
    "obligations",
    "review",
    "close",
    "regrade-accept",
    "regrade-decline",
];

impl IncidentAction {
    /// The typed action for an action name and its request body: the one validation both the
    /// API and the console use. An unknown name is "not found".
    pub fn parse(action: &str, req: &ActionRequest) -> Result<IncidentAction, AppError> {
        // Personal numbers typed into free text are masked (`redact`).
        let mut req = req.clone();
        for t in [
            &mut req.note,
            &mut req.reason,
            &mut req.location,
            &mut req.conclusion,
            &mut req.text,
            &mut req.summary,
            &mut req.outcome,
        ] {
            crate::redact::opt(t);
        }
        for v in [
            &mut req.grievances,
            &mut req.care,
            &mut req.conversations,
            &mut req.lessons,
        ] {
            crate::redact::all(v);
        }
        let req = &req;
        if let Some(n) = &req.note {
            text_field_opt(n, "note", 4000)?;
        }
        if let Some(r) = &req.reason {
            text_field_opt(r, "reason", 2000)?;
        }
        if req.headcount.is_some_and(|h| h > MAX_HEADCOUNT) {
            return Err(AppError::invalid(
                "headcount",
                format!("at most {MAX_HEADCOUNT}"),
            ));
        }
        let cmd = match action {
            "verify" => Command::Verify {
                note: req.note.clone(),
            },
            "unfounded" => Command::MarkUnfounded {
                reason: required(&req.reason, "reason")?.to_string(),
            },
            "assess" => Command::Assess {
                level: req.level.clone(),
                reason: req.reason.clone(),
            },
            "warning" => Command::IssueWarning {
                level: req.level.clone(),
            },
            "lift-warning" => Command::LiftWarning {
                reason: required(&req.reason, "reason")?.to_string(),
            },
            "activate" => Command::Activate {
                level: req.level.clone(),
            },
            "updates" => Command::Update(Update {
                headcount: req.headcount,
                behaviours: req.behaviours.clone(),
                location: req.location.clone(),
                grievances: req.grievances.clone(),
                care: req.care.clone(),
                conversations: req.conversations.clone(),
                attachments: req
                    .attachments
                    .iter()
                    .map(|a| Attachment {
                        name: a.name.clone(),
                        media_type: a.media_type.clone(),
                        size: a.size,
                        sha256: a.sha256.clone(),
                    })
                    .collect(),
                note: req.note.clone(),
            }),
            "end" => Command::EndResponse {
                reason: required(&req.reason, "reason")?.to_string(),
                open_tasks: match req.open_tasks.as_deref() {
                    None | Some("") => CloseReason::NotNeeded,
                    Some(r) => CloseReason::parse(r).ok_or_else(|| {
                        AppError::invalid("open_tasks", "`not_needed` or `handed_over`")
                    })?,
                },
            },
            "obligations" => {
                let kind = match required(&req.kind, "kind")? {
                    "commitment" => ObligationKind::Commitment,
                    "reply" => ObligationKind::Reply,
                    other => {
                        return Err(AppError::field(
                            ErrorCode::InvalidKind,
                            "kind",
                            format!("`{other}` is not commitment or reply"),
                        ));
                    }
                };
                Command::AddObligation {
                    id: Uuid::now_v7(),
                    kind,
                    text: required(&req.text, "text")?.to_string(),
                    owner: required(&req.owner, "owner")?.to_string(),
                    // Without a deadline, the plan's `reply_within` gives it.
                    due_at: req
                        .due_at
                        .as_deref()
                        .filter(|d| !d.trim().is_empty())
                        .map(|d| parse_ts(d, "due_at"))
                        .transpose()?,
                }
            }
            "review" => {
                let mut corrective_actions = Vec::new();
                for c in &req.corrective_actions {
                    text_field(&c.title, "title", 500)?;
                    let post = c.owner_post.clone().filter(|p| !p.trim().is_empty());
                    if post.is_some() == c.owner_person_id.is_some() {
                        return Err(AppError::invalid(
                            "owner_post",
                            "a corrective action is owned by a person (`owner_person_id`) or a post (`owner_post`)",
                        ));
                    }
                    corrective_actions.push(CorrectiveInput {
                        title: c.title.clone(),
                        owner_person_id: c.owner_person_id,
                        owner_post: post,
                        due_at: parse_ts(required(&c.due_at, "due_at")?, "due_at")?,
                    });
                }
                return Ok(IncidentAction::Review {
                    summary: required(&req.summary, "summary")?.to_string(),
                    lessons: req.lessons.clone(),
                    corrective_actions,
                });
            }
            "close" => Command::Close,
            "regrade-accept" => Command::AcceptRegrade,
            "regrade-decline" => Command::DeclineRegrade {
                reason: required(&req.reason, "reason")?.to_string(),
            },
            "escalate" => {
                return Ok(IncidentAction::Escalate {
                    note: req.note.clone(),
                });
            }
            "consultations" => Command::RecordConsultation {
                id: Uuid::now_v7(),
                step: required(&req.step, "step")?.to_string(),
                participants: req.participants.clone(),
                conclusion: required(&req.conclusion, "conclusion")?.to_string(),
            },
            "coercive-steps" => {
                let approver_id = req
                    .approver_id
                    .ok_or_else(|| AppError::missing("approver_id"))?;
                return Ok(IncidentAction::CoerciveStep {
                    id: Uuid::now_v7(),
                    step: required(&req.step, "step")?.to_string(),
                    approver_id,
                    reason: req.reason.clone().unwrap_or_default(),
                });
            }
            _ => return Err(AppError::not_found("action")),
        };
        Ok(IncidentAction::Decide(cmd))
    }

    /// The named approver's decision on a coercive-step request: `approve` or `refuse` (a
    /// refusal needs a `reason`); anything else is "not found".
    pub fn decide_coercive(
        request: Uuid,
        decision: &str,
        req: &ActionRequest,
    ) -> Result<IncidentAction, AppError> {
        let approve = match decision {
            "approve" => true,
            "refuse" => false,
            _ => return Err(AppError::not_found("decision")),
        };
        if let Some(r) = &req.reason {
            text_field_opt(r, "reason", 2000)?;
        }
        Ok(IncidentAction::Decide(Command::DecideCoerciveStep {
            id: request,
            approve,
            reason: req.reason.clone(),
        }))
    }

    /// An action on a corrective action of the review: `done`, or `link` to the plan
    /// revision (`plan_id`, `version`) that answers it. Anything else is "not found".
    pub fn corrective(
        id: Uuid,
        action: &str,
        req: &ActionRequest,
    ) -> Result<IncidentAction, AppError> {
        Ok(IncidentAction::Decide(match action {
            "done" => Command::CorrectiveActionDone { id },
            "link" => Command::LinkCorrectiveAction {
                id,
                revision: PlanRevision {
                    plan_id: required(&req.plan_id, "plan_id")?.to_string(),
                    version: req.version.ok_or_else(|| AppError::missing("version"))?,
                },
            },
            _ => return Err(AppError::not_found("action")),
        }))
    }

    /// Submitting a report owed upward (`POST /incidents/{id}/upward-reports/{rid}/submit`, the
    /// room's form).
    pub fn submit_report(
        report: Uuid,
        req: &UpwardReportRequest,
    ) -> Result<IncidentAction, AppError> {
        for (k, v) in &req.values {
            text_field_opt(k, "values", 200)?;
            text_field_opt(v, k, 4000)?;
        }
        if let Some(t) = &req.text {
            text_field_opt(t, "text", 8000)?;
        }
        Ok(IncidentAction::Decide(Command::SubmitUpwardReport {
            id: report,
            values: req.values.clone(),
            text: req.text.clone(),
        }))
    }

    /// Fulfilling a commitment or reply.
    pub fn fulfil(obligation: Uuid, req: &ActionRequest) -> IncidentAction {
        IncidentAction::Decide(Command::FulfilObligation {
            id: obligation,
            channel: req.channel.clone(),
            outcome: req.outcome.clone(),
        })
    }

    /// The command kind (`incident.<action>`, or `task.<action>`).
    pub fn kind(&self) -> &'static str {
        match self {
            IncidentAction::Escalate { .. } => "incident.escalate",
            IncidentAction::CoerciveStep { .. } => "incident.coercive-steps",
            IncidentAction::Review { .. } => "incident.review",
            IncidentAction::Decide(cmd) => match cmd {
                Command::Report(_) => "incident.report",
                Command::Verify { .. } => "incident.verify",
                Command::MarkUnfounded { .. } => "incident.unfounded",
                Command::Assess { .. } => "incident.assess",
                Command::IssueWarning { .. } => "incident.warning",
                Command::LiftWarning { .. } => "incident.lift-warning",
                Command::Activate { .. } => "incident.activate",
                Command::Update(_) => "incident.updates",
                Command::AcceptRegrade => "incident.regrade-accept",
                Command::DeclineRegrade { .. } => "incident.regrade-decline",
                Command::Escalate { .. } => "incident.escalate",
                Command::RequestCoerciveStep { .. } => "incident.coercive-steps",
                Command::DecideCoerciveStep { approve: true, .. } => "incident.coercive-approve",
                Command::DecideCoerciveStep { approve: false, .. } => "incident.coercive-refuse",
                Command::RecordConsultation { .. } => "incident.consultations",
                Command::EndResponse { .. } => "incident.end",
                Command::AddObligation { .. } => "incident.obligations",
                Command::FulfilObligation { .. } => "incident.fulfil",
                Command::Review { .. } => "incident.review",
                Command::CorrectiveActionDone { .. } => "incident.corrective-done",
                Command::LinkCorrectiveAction { .. } => "incident.corrective-link",
                Command::Close => "incident.close",
                Command::SubmitUpwardReport { .. } => "incident.upward-report",
                Command::Task { action, .. } => task_kind(*action),
                Command::Tick => "incident.tick",
                Command::IssueDocument { .. } => "incident.document",
                // Written only inside the source's own command (never an action of its own).
                Command::FollowSource { .. } => "incident.follow-source",
            },
        }
    }

    /// The permission the action needs in the incident's jurisdiction.
    pub fn permission(&self) -> Permission {
        match self {
            IncidentAction::Decide(cmd) => command_permission(cmd),
            IncidentAction::Escalate { .. } => Permission::HandleIncident,
            IncidentAction::CoerciveStep { .. } => Permission::RecordCoerciveStep,
            IncidentAction::Review { .. } => Permission::ReviewIncident,
        }
    }
}

fn text_field_opt(v: &str, field: &str, max: usize) -> Result<(), AppError> {
    if v.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// The permission a domain command needs.
pub fn command_permission(cmd: &Command) -> Permission {
    match cmd {
        Command::Report(_) => Permission::ReportIncident,
        Command::Update(_) => Permission::UpdateIncident,
        Command::EndResponse { .. } => Permission::EndResponse,
        Command::RequestCoerciveStep { .. } | Command::DecideCoerciveStep { .. } => {
            Permission::RecordCoerciveStep
        }
        Command::Review { .. } | Command::Close | Command::LinkCorrectiveAction { .. } => {
            Permission::ReviewIncident
        }
        Command::Task { .. } => Permission::WorkTasks,
        Command::SubmitUpwardReport { .. } => Permission::SubmitReports,
        _ => Permission::HandleIncident,
    }
}

/// An incident as stored and its JSON text (the answer, serialised once).
#[derive(Debug, Clone)]
pub struct IncidentOut {
    pub incident: Incident,
    pub body: JsonText,
}

/// An incident as the API answers it: the same JSON text as its stored row.
pub fn incident_json(inc: &Incident) -> JsonText {
    JsonText(serde_json::to_string(inc).expect("incident serialises"))
}

/// An incident the actor may see (else 404) and act on with `perm` (else 403).
pub async fn load(
    app: &App,
    actor: &Actor,
    id: Uuid,
    perm: Permission,
) -> Result<(Incident, IncidentRecord), AppError> {
    let rec = app
        .store
        .get_incident(id)
        .await?
        .ok_or_else(|| AppError::not_found("incident"))?;
    app.require(actor, perm, &rec.jurisdiction_path, "incident")?;
    let inc: Incident = serde_json::from_str(&rec.body).map_err(AppError::internal)?;
    Ok((inc, rec))
}

/// The plan an incident reported now runs under: owned by its jurisdiction or one above it,
/// in the version in force by the app clock (`crate::plans::in_force`: a version takes effect
/// on its `effective_on` day in the plan's time zone).
pub async fn plan_for(
    app: &App,
    jurisdiction_path: &str,
    plan_id: &str,
) -> Result<yingji_store::PlanRow, AppError> {
    let latest = app.store.plan_latest(plan_id).await?.ok_or_else(|| {
        AppError::field(
            ErrorCode::UnknownPlan,
            "plan_id",
            format!("plan `{plan_id}` is not loaded"),
        )
    })?;
    let row = crate::plans::in_force(app, plan_id, app.clock.now())
        .await?
        .ok_or_else(|| {
            AppError::field(
                ErrorCode::PlanNotInForce,
                "plan_id",
                format!(
                    "no version of plan `{plan_id}` is in force yet (version {} takes effect later)",
                    latest.version
                ),
            )
        })?;
    let owner = app
        .store
        .jurisdiction(row.jurisdiction_id)
        .await?
        .ok_or_else(|| AppError::internal("plan owner missing"))?;
    if !jurisdiction_path.starts_with(&owner.path) {
        return Err(AppError::field(
            ErrorCode::PlanNotApplicable,
            "plan_id",
            format!(
                "plan `{plan_id}` belongs to {}, which is not this jurisdiction or above it",
                owner.name
            ),
        ));
    }
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// One incident of a list: its row, without the body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentListItem {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub plan_version: i64,
    #[schema(value_type = IncidentKind)]
    pub kind: String,
    #[schema(value_type = yingji_domain::incident::Status)]
    pub status: String,
    /// The level's id, once one is assessed.
    pub level: Option<String>,
    pub drill: bool,
    pub headcount: i64,
    pub title: String,
    #[schema(format = DateTime)]
    pub reported_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&IncidentSummary> for IncidentListItem {
    fn from(r: &IncidentSummary) -> Self {
        IncidentListItem {
            id: r.id,
            jurisdiction_id: r.jurisdiction_id,
            plan_id: r.plan_id.clone(),
            plan_version: r.plan_version,
            kind: r.kind.clone(),
            status: r.status.clone(),
            level: r.level.clone(),
            drill: r.drill,
            headcount: r.headcount,
            title: r.title.clone(),
            reported_at: r.reported_at.clone(),
            updated_at: r.updated_at.clone(),
        }
    }
}

/// A page of incidents, newest first; `next` is the cursor of the next page (`before=`), null on
/// the last.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentList {
    pub items: Vec<IncidentListItem>,
    pub next: Option<Uuid>,
}

/// One event of an incident's timeline (its own events and its callout's), with its place in
/// the hash chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentTimelineEvent {
    pub id: Uuid,
    pub stream_id: Uuid,
    /// `incident` or `callout`.
    pub stream_kind: String,
    pub jurisdiction_id: Uuid,
    pub seq: i64,
    #[schema(format = DateTime)]
    pub at: String,
    /// The event type, e.g. `verified`, `task_acknowledged`, `call_placed`.
    pub kind: String,
    pub reason: Option<String>,
    pub actor: ActorRef,
    /// The event as recorded (its `type` and fields).
    #[schema(value_type = Object)]
    pub payload: Value,
    pub hash: String,
    pub prev_hash: String,
}

/// Every event of an incident, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentTimeline {
    pub items: Vec<IncidentTimelineEvent>,
}

/// An incident's timeline, for an actor who may see the incident: its own events and its
/// callout's (calls, acknowledgements, escalations), in time order.
pub async fn timeline(app: &App, actor: &Actor, id: Uuid) -> Result<IncidentTimeline, AppError> {
    load(app, actor, id, Permission::ViewIncidents).await?;
    let mut events = app.store.stream_events(id).await?;
    events.extend(
        app.store
            .stream_events(yingji_domain::callout::stream_id(id))
            .await?,
    );
    events.sort_by(|a, b| a.envelope.at.cmp(&b.envelope.at));
    let items = events
        .into_iter()
        .map(|e| {
            let v = e.envelope;
            IncidentTimelineEvent {
                id: v.id,
                stream_id: v.stream_id,
                stream_kind: v.stream_kind,
                jurisdiction_id: v.jurisdiction_id,
                seq: v.stream_seq,
                at: v.at,
                kind: v.kind,
                reason: v.reason,
                actor: ActorRef {
                    person_id: v.actor_id,
                    name: v.actor_name,
                },
                payload: crate::subjects::masked_json(
                    serde_json::from_str(&v.payload).unwrap_or(Value::Null),
                    PERSONAL_MASK,
                ),
                hash: e.hash,
                prev_hash: v.prev_hash,
            }
        })
        .collect();
    Ok(IncidentTimeline { items })
}

/// The level the incident's pinned plan proposes now, with the rule that matched.
pub async fn proposal(app: &App, actor: &Actor, id: Uuid) -> Result<Proposal, AppError> {
    let (inc, _) = load(app, actor, id, Permission::ViewIncidents).await?;
    let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
    Ok(propose(
        &plan,
        inc.headcount,
        inc.venue.as_deref(),
        &inc.behaviours,
    ))
}

/// One task of a list, with its incident's title.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskListItem {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub incident_title: String,
    pub group: String,
    pub title: String,
    #[schema(value_type = TaskState)]
    pub state: String,
    #[schema(format = DateTime)]
    pub due_at: String,
    pub overdue: bool,
    pub drill: bool,
    /// The assignees' person ids.
    pub assignees: Vec<Uuid>,
}

impl TaskListItem {
    pub fn of(t: TaskRow, incident_title: String) -> TaskListItem {
        TaskListItem {
            id: t.id,
            incident_id: t.incident_id,
            incident_title,
            group: t.group,
            title: t.title,
            state: t.state,
            due_at: t.due_at,
            overdue: t.overdue,
            drill: t.drill,
            assignees: t.assignees,
        }
    }
}

/// Tasks in the actor's scope, soonest due first (then by id); `next` is the cursor of the
/// next page (`after=`), null on the last.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskListItem>,
    pub next: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Commands

/// Records a new report in a jurisdiction (`POST /incidents`, the console's intake, the demo).
pub struct ReportIncident(pub NewIncidentRequest);

impl AppCommand for ReportIncident {
    type Output = IncidentOut;

    fn kind(&self) -> &'static str {
        "incident.report"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<IncidentOut>, AppError> {
        let req = &self.0;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::ReportIncident, &j.path, "jurisdiction")?;
        let kind = match req.kind.as_str() {
            "early_sign" => IncidentKind::EarlySign,
            "event" => IncidentKind::Event,
            other => {
                return Err(AppError::field(
                    ErrorCode::InvalidKind,
                    "kind",
                    format!("`{other}` is not a report kind; use early_sign or event"),
                ));
            }
        };
        text_field(&req.title, "title", 200)?;
        if req.headcount > MAX_HEADCOUNT {
            return Err(AppError::invalid(
                "headcount",
                format!("at most {MAX_HEADCOUNT}"),
            ));
        }
        let (ws, out) = report_writes(app, &actor.as_ref(), &j, req, kind).await?;
        Ok(Decided::new(auth, ws, out))
    }

    fn respond(&self, out: &IncidentOut) -> JsonText {
        out.body.clone()
    }
}

/// What an incident shows, to everyone, in place of the value of an intake field its plan
/// marks `personal`.
pub const PERSONAL_MASK: &str = "****";

/// The place a personal intake value is sealed for in the incident's `reported` event.
pub fn field_aad(incident_id: Uuid, field: &str) -> String {
    format!("events.reported.fields.{field}:{incident_id}")
}

/// The values of intake fields the plan marks `personal`: sealed with the incident's own key
/// (created here) in its `reported` event, and masked in the incident itself (its row and every
/// answer), so that `yingji purge` erases them by destroying the key.
fn seal_personal_fields(
    ws: &mut WriteSet,
    app: &App,
    intake: &[yingji_plan::model::IntakeField],
    mut events: Vec<Event>,
    mut inc: Incident,
    now: Timestamp,
) -> (Vec<Event>, Incident) {
    let personal: Vec<String> = intake
        .iter()
        .filter(|f| f.personal)
        .map(|f| f.id.value.clone())
        .filter(|id| {
            inc.fields
                .get(id)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
        })
        .collect();
    if personal.is_empty() {
        return (events, inc);
    }
    let key = crate::subjects::SubjectKey::create(ws, &app.sealer, "incident", inc.id, now);
    for e in events.iter_mut() {
        if let Event::Reported { report, .. } = e {
            for f in &personal {
                if let Some(Value::String(v)) = report.fields.get_mut(f) {
                    *v = key.seal(v, &field_aad(inc.id, f));
                }
            }
        }
    }
    for f in personal {
        inc.fields.insert(f, json!(PERSONAL_MASK));
    }
    (events, inc)
}

async fn report_writes(
    app: &App,
    actor: &ActorRef,
    j: &JurisdictionRow,
    req: &NewIncidentRequest,
    kind: IncidentKind,
) -> Result<(WriteSet, IncidentOut), AppError> {
    let plan_row = plan_for(app, &j.path, &req.plan_id).await?;
    let plan = app.plan(&plan_row.plan_id, plan_row.version).await?;
    let holders = app.holders(j.id).await?;
    let now = app.clock.now();
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let ctx = Ctx {
        now,
        actor,
        plan: &plan,
        holders: &lookup,
        new_id: &Uuid::now_v7,
    };
    let report = NewReport {
        id: Uuid::now_v7(),
        jurisdiction_id: j.id,
        plan_id: plan_row.plan_id.clone(),
        plan_version: plan_row.version,
        kind,
        drill: req.drill,
        // Personal numbers typed into free text are masked (`redact`); the values of fields
        // the plan marks personal are kept whole, sealed with the incident's key below.
        title: crate::redact::text(&req.title),
        headcount: req.headcount,
        venue: req.venue.clone(),
        behaviours: req.behaviours.clone(),
        location: req.location.as_deref().map(crate::redact::text),
        fields: req
            .fields
            .iter()
            .map(|(k, v)| {
                let personal = plan.intake.iter().any(|f| f.personal && f.id.value == *k);
                let v = match v {
                    Value::String(t) if !personal => Value::String(crate::redact::text(t)),
                    v => v.clone(),
                };
                (k.clone(), v)
            })
            .collect(),
        source_incident: None,
    };
    let events = decide(None, &Command::Report(report), &ctx)?;
    let mut inc = None;
    for e in &events {
        inc = apply(inc, e, now, actor);
    }
    let inc = inc.ok_or_else(|| AppError::internal("a report created no incident"))?;
    let mut ws = WriteSet::default();
    let (events, inc) = seal_personal_fields(&mut ws, app, &plan.intake, events, inc, now);
    let body = incident_events(&mut ws, &inc, &j.path, 0, None, actor, now, &events);
    // The search box finds a report by its title, place and the intake's text (fields the plan
    // marks personal are sealed and left out).
    let mut text = format!("{} {}", inc.title, inc.location.clone().unwrap_or_default());
    for v in inc.fields.values() {
        if let Some(t) = v.as_str().filter(|t| *t != PERSONAL_MASK) {
            text.push(' ');
            text.push_str(t);
        }
    }
    ws.rows.extend(yingji_store::search::index_row(
        "incident",
        inc.id,
        &j.path,
        &yingji_domain::search::terms(&text),
    ));
    Ok((
        ws,
        IncidentOut {
            incident: inc,
            body,
        },
    ))
}

/// A command on one incident.
pub struct OnIncident {
    pub id: IncidentId,
    pub action: IncidentAction,
}

impl AppCommand for OnIncident {
    type Output = IncidentOut;

    fn kind(&self) -> &'static str {
        self.action.kind()
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<IncidentOut>, AppError> {
        let rec = app
            .store
            .get_incident(self.id.0)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?;
        let auth = app.authorize(
            actor,
            self.action.permission(),
            &rec.jurisdiction_path,
            "incident",
        )?;
        decide_on(app, actor, auth, rec, &self.action).await
    }

    fn respond(&self, out: &IncidentOut) -> JsonText {
        out.body.clone()
    }
}

/// The command kind of a task action.
fn task_kind(a: TaskAction) -> &'static str {
    match a {
        TaskAction::Acknowledge => "task.acknowledge",
        TaskAction::Start => "task.start",
        TaskAction::Done => "task.done",
        TaskAction::Cancel => "task.cancel",
    }
}

/// A command on one task (its incident is found from the task).
pub struct OnTask {
    pub task_id: TaskId,
    pub action: TaskAction,
    pub reason: Option<String>,
}

/// The action names of `POST /tasks/{id}/{action}`: what [`OnTask::parse_action`] accepts.
pub const TASK_ACTIONS: &[&str] = &["acknowledge", "start", "done", "cancel"];

/// The decisions of `POST /incidents/{id}/regrade/{decision}`.
pub const REGRADE_DECISIONS: &[&str] = &["accept", "decline"];

impl OnTask {
    /// `acknowledge`, `start`, `done` or `cancel`; anything else is "not found".
    pub fn parse_action(action: &str) -> Result<TaskAction, AppError> {
        Ok(match action {
            "acknowledge" => TaskAction::Acknowledge,
            "start" => TaskAction::Start,
            "done" => TaskAction::Done,
            "cancel" => TaskAction::Cancel,
            _ => return Err(AppError::not_found("action")),
        })
    }
}

impl AppCommand for OnTask {
    type Output = IncidentOut;

    fn kind(&self) -> &'static str {
        task_kind(self.action)
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<IncidentOut>, AppError> {
        let incident = app
            .store
            .task_incident(self.task_id.0)
            .await?
            .ok_or_else(|| AppError::not_found("task"))?;
        OnIncident {
            id: incident.into(),
            action: IncidentAction::Decide(Command::Task {
                id: self.task_id.0,
                action: self.action,
                reason: self.reason.clone(),
            }),
        }
        .run(app, actor)
        .await
    }

    fn respond(&self, out: &IncidentOut) -> JsonText {
        out.body.clone()
    }
}

/// Marks what has fallen due in one incident (the ticker, as the system).
pub struct TickIncident(pub IncidentId);

impl AppCommand for TickIncident {
    type Output = bool;

    fn kind(&self) -> &'static str {
        "incident.tick"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<bool>, AppError> {
        let Some(rec) = app.store.get_incident(self.0.0).await? else {
            return Err(AppError::not_found("incident"));
        };
        let auth = app.authorize(
            actor,
            Permission::HandleIncident,
            &rec.jurisdiction_path,
            "incident",
        )?;
        let d = decide_on(
            app,
            actor,
            auth.clone(),
            rec,
            &IncidentAction::Decide(Command::Tick),
        )
        .await?;
        let changed = !d.is_empty();
        Ok(d.map(|_| changed))
    }

    fn respond(&self, out: &bool) -> JsonText {
        JsonText(json!({ "changed": out }).to_string())
    }
}

/// Whether the actor holds one of these posts (principal or deputy) in the jurisdiction.
async fn holds_any(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Uuid,
    posts: &[String],
) -> Result<bool, AppError> {
    Ok(app
        .store
        .holders_in(jurisdiction_id)
        .await?
        .iter()
        .any(|(post, person, _, _)| *person == actor.person_id && posts.contains(post)))
}

/// Ending a response is an approval: where the plan names the commander's posts for the
/// incident's level, only a holder of one of them (principal or deputy, in the incident's
/// jurisdiction) may end it.
pub async fn may_end(app: &App, actor: &Actor, inc: &Incident) -> Result<(), AppError> {
    if actor.is_system() {
        return Ok(());
    }
    // A linked record the parent ran no response for: the parent's own approver (whoever may
    // end responses there) ends it; the source's commander posts are not the parent's.
    if inc.kind == yingji_domain::incident::IncidentKind::Escalation && inc.activated_at.is_none() {
        return Ok(());
    }
    let Some(level) = &inc.level else {
        return Ok(());
    };
    let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
    let Some(i) = plan.level_index(&level.id) else {
        return Ok(());
    };
    let posts: Vec<String> = yingji_plan::response::effective(&plan, i)
        .commander
        .iter()
        .map(|p| p.value.clone())
        .collect();
    if posts.is_empty() {
        return Ok(());
    }
    if holds_any(app, actor, inc.jurisdiction_id, &posts).await? {
        return Ok(());
    }
    let names: Vec<&str> = posts.iter().map(|p| plan.name_of(p).unwrap_or(p)).collect();
    Err(AppError::new(
        ErrorCode::WrongApprover,
        format!(
            "a level {} response is ended only by the commander post the plan names ({})",
            level.name,
            names.join(", ")
        ),
    )
    .details(json!({ "posts": posts })))
}

/// A report owed upward is submitted by the holders (principal or deputy, in the incident's
/// jurisdiction) of its responsible posts or of the level's commander posts; when it names
/// neither, by anyone who may submit reports there.
pub async fn may_submit(
    app: &App,
    actor: &Actor,
    inc: &Incident,
    id: Uuid,
) -> Result<(), AppError> {
    let Some(r) = inc.upward_reports.iter().find(|r| r.id == id) else {
        return Ok(()); // the domain refuses it
    };
    let posts: Vec<String> = r.posts.iter().chain(&r.commanders).cloned().collect();
    if posts.is_empty() {
        return Ok(());
    }
    if holds_any(app, actor, inc.jurisdiction_id, &posts).await? {
        return Ok(());
    }
    let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
    let names: Vec<&str> = posts.iter().map(|p| plan.name_of(p).unwrap_or(p)).collect();
    Err(AppError::new(
        ErrorCode::NotReportOwner,
        format!(
            "this report is submitted by the posts responsible for it or the level's commander ({})",
            names.join(", ")
        ),
    )
    .details(json!({ "posts": posts })))
}

/// The domain command an action becomes for this incident and actor (with the checks that
/// need storage: who may end a response, the parent to escalate to, the approver), and the
/// parent's new record for an escalation.
async fn prepare(
    app: &App,
    actor: &Actor,
    inc: &Incident,
    action: &IncidentAction,
) -> Result<(Command, Option<(Uuid, JurisdictionRow)>), AppError> {
    Ok(match action {
        IncidentAction::Decide(cmd) => {
            if matches!(cmd, Command::EndResponse { .. }) {
                may_end(app, actor, inc).await?;
            }
            if let Command::SubmitUpwardReport { id, .. } = cmd {
                may_submit(app, actor, inc, *id).await?;
            }
            if let Command::LinkCorrectiveAction { revision, .. } = cmd {
                // The plan revision must exist and be one the actor may see.
                let row = app
                    .store
                    .plan_version(&revision.plan_id, revision.version)
                    .await?;
                crate::plans::visible(app, actor, row).await?;
            }
            (cmd.clone(), None)
        }
        IncidentAction::Escalate { note } => {
            let j = app
                .store
                .jurisdiction(inc.jurisdiction_id)
                .await?
                .ok_or_else(|| AppError::internal("jurisdiction missing"))?;
            let parent_id = j.parent_id.ok_or_else(|| {
                AppError::new(
                    ErrorCode::NoParent,
                    format!("{} has no parent jurisdiction", j.name),
                )
            })?;
            let pj = app
                .store
                .jurisdiction(parent_id)
                .await?
                .ok_or_else(|| AppError::internal("parent jurisdiction missing"))?;
            let parent_incident = Uuid::now_v7();
            (
                Command::Escalate {
                    parent_incident,
                    parent_jurisdiction: parent_id,
                    note: note.clone(),
                },
                Some((parent_incident, pj)),
            )
        }
        IncidentAction::CoerciveStep {
            id,
            step,
            approver_id,
            reason,
        } => {
            let approver = app.store.person(*approver_id).await?.ok_or_else(|| {
                AppError::field(
                    ErrorCode::UnknownPerson,
                    "approver_id",
                    "the approver is not a known person",
                )
            })?;
            (
                Command::RequestCoerciveStep {
                    id: *id,
                    step: step.clone(),
                    approver: PersonRef {
                        person_id: approver.id,
                        name: approver.name.clone(),
                    },
                    reason: reason.clone(),
                },
                None,
            )
        }
        IncidentAction::Review {
            summary,
            lessons,
            corrective_actions,
        } => {
            let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
            let mut actions = Vec::new();
            for c in corrective_actions {
                let (owner, owner_person) = match (c.owner_person_id, &c.owner_post) {
                    (Some(pid), _) => {
                        let p = app.store.person(pid).await?.ok_or_else(|| {
                            AppError::field(
                                ErrorCode::UnknownPerson,
                                "owner_person_id",
                                "the owner is not a known person",
                            )
                        })?;
                        (
                            p.name.clone(),
                            Some(PersonRef {
                                person_id: p.id,
                                name: p.name.clone(),
                            }),
                        )
                    }
                    (None, Some(post)) => (plan.name_of(post).unwrap_or(post).to_string(), None),
                    (None, None) => return Err(AppError::missing("owner_post")),
                };
                actions.push(CorrectiveAction {
                    id: Uuid::now_v7(),
                    title: c.title.clone(),
                    owner,
                    owner_person,
                    owner_post: c.owner_post.clone(),
                    due_at: Some(c.due_at),
                    done: false,
                    done_at: None,
                    overdue: false,
                    plan_revision: None,
                });
            }
            (
                Command::Review {
                    summary: summary.clone(),
                    lessons: lessons.clone(),
                    corrective_actions: actions,
                    measured: Some(measured_times(app, inc).await?),
                },
                None,
            )
        }
    })
}

/// The review's times, measured from the incident's event log and its calls'
/// acknowledgements.
pub async fn measured_times(
    app: &App,
    inc: &Incident,
) -> Result<yingji_domain::incident::Measured, AppError> {
    let log: Vec<(Timestamp, Event)> = app
        .store
        .stream_events(inc.id)
        .await?
        .into_iter()
        .filter_map(|e| {
            let at = e.envelope.at.parse::<Timestamp>().ok()?;
            let ev = serde_json::from_str::<Event>(&e.envelope.payload).ok()?;
            Some((at, ev))
        })
        .collect();
    let (callout, _, _) = crate::calls::load_callout(app, inc.id).await?;
    let acks: Vec<Timestamp> = callout
        .calls
        .iter()
        .flat_map(|c| c.recipients.iter().filter_map(|r| r.acked_at))
        .collect();
    Ok(measure_log(inc, &log, &acks))
}

/// Decides an action against the stored incident and builds its writes: the incident's
/// events and rows, the calls its events cause, and (for an escalation) the parent's record.
async fn decide_on(
    app: &App,
    actor: &Actor,
    auth: Authorized,
    mut rec: IncidentRecord,
    action: &IncidentAction,
) -> Result<Decided<IncidentOut>, AppError> {
    // Decided on the incident rebuilt from its events, not on its projection row (which
    // someone with the database could edit); the write expects the stream as read.
    let rebuilt = crate::replay::incident(app, rec.id)
        .await?
        .ok_or_else(|| AppError::not_found("incident"))?;
    rec.version = rebuilt.version;
    rec.head_hash = rebuilt.head_hash.unwrap_or_default();
    let inc = rebuilt.state;
    let actor_ref = actor.as_ref();
    let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
    let now = app.clock.now();
    let (cmd, mut parent) = prepare(app, actor, &inc, action).await?;
    let holders = app.holders(inc.jurisdiction_id).await?;
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let ctx = Ctx {
        now,
        actor: &actor_ref,
        plan: &plan,
        holders: &lookup,
        new_id: &Uuid::now_v7,
    };
    let mut events = decide(Some(&inc), &cmd, &ctx)?;
    let explicit = parent.is_some();
    // A level whose plan calls the parent escalates in the same write (once).
    if parent.is_none() && inc.parent_incident.is_none() && calls_parent(&inc, &plan, &events) {
        let j = app.store.jurisdiction(inc.jurisdiction_id).await?;
        if let Some(pid) = j.and_then(|j| j.parent_id)
            && let Some(pj) = app.store.jurisdiction(pid).await?
        {
            let mut tmp = Some(inc.clone());
            for e in &events {
                tmp = apply(tmp, e, now, &actor_ref);
            }
            let tmp = tmp.ok_or_else(|| AppError::internal("an incident stopped being one"))?;
            let parent_incident = Uuid::now_v7();
            events.extend(decide(
                Some(&tmp),
                &Command::Escalate {
                    parent_incident,
                    parent_jurisdiction: pj.id,
                    note: None,
                },
                &ctx,
            )?);
            parent = Some((parent_incident, pj));
        }
    }
    if events.is_empty() {
        let body = incident_json(&inc);
        return Ok(Decided::nothing(
            auth,
            IncidentOut {
                incident: inc,
                body,
            },
        ));
    }
    let mut after = Some(inc);
    for e in &events {
        after = apply(after, e, now, &actor_ref);
    }
    let after = after.ok_or_else(|| AppError::internal("an incident stopped being one"))?;
    let mut ws = WriteSet::default();
    let body = incident_events(
        &mut ws,
        &after,
        &rec.jurisdiction_path,
        rec.version,
        Some(&rec.head_hash),
        &actor_ref,
        now,
        &events,
    );
    if let Some((parent_incident, pj)) = parent {
        let title = parent_record(
            &mut ws,
            &after,
            parent_incident,
            &pj,
            &plan,
            &actor_ref,
            now,
        )?;
        let note = match action {
            IncidentAction::Escalate { note } if explicit => note.clone(),
            _ => None,
        };
        crate::calls::call_parent_office(
            app,
            &mut ws,
            &after,
            parent_incident,
            &pj,
            &title,
            &plan,
            &actor_ref,
            now,
            note.as_deref(),
        )
        .await?;
    } else if let Some(pid) = after.parent_incident {
        follow_source(app, &mut ws, &after, pid, &actor_ref, now).await?;
    }
    crate::calls::calls_for_incident(
        app,
        &mut ws,
        &after,
        &plan,
        &rec.jurisdiction_path,
        &actor_ref,
        now,
        &events,
    )
    .await?;
    Ok(Decided::new(
        auth,
        ws,
        IncidentOut {
            incident: after,
            body,
        },
    ))
}

/// Which actions an actor may take on one incident now: the same authorisation, preparation
/// and decision as [`OnIncident`], on one snapshot, without building writes (the incident
/// room offers exactly these).
pub struct Checker<'a> {
    app: &'a App,
    actor: &'a Actor,
    rec: IncidentRecord,
    inc: Incident,
    plan: std::sync::Arc<yingji_plan::Plan>,
    holders: std::collections::HashMap<String, Vec<PersonRef>>,
}

impl<'a> Checker<'a> {
    /// A snapshot of an incident the actor may see (else "not found").
    pub async fn new(app: &'a App, actor: &'a Actor, id: Uuid) -> Result<Self, AppError> {
        let (inc, rec) = load(app, actor, id, Permission::ViewIncidents).await?;
        let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
        let holders = app.holders(inc.jurisdiction_id).await?;
        Ok(Checker {
            app,
            actor,
            rec,
            inc,
            plan,
            holders,
        })
    }

    pub fn incident(&self) -> &Incident {
        &self.inc
    }

    /// The incident's jurisdiction path.
    pub fn path(&self) -> &str {
        &self.rec.jurisdiction_path
    }

    /// Whether `OnIncident { action }` would be accepted from the actor now.
    pub async fn accepts(&self, action: &IncidentAction) -> bool {
        if self
            .app
            .require(
                self.actor,
                action.permission(),
                &self.rec.jurisdiction_path,
                "incident",
            )
            .is_err()
        {
            return false;
        }
        let Ok((cmd, _)) = prepare(self.app, self.actor, &self.inc, action).await else {
            return false;
        };
        let actor_ref = self.actor.as_ref();
        let lookup = |post: &str| self.holders.get(post).cloned().unwrap_or_default();
        let ctx = Ctx {
            now: self.app.clock.now(),
            actor: &actor_ref,
            plan: &self.plan,
            holders: &lookup,
            new_id: &Uuid::now_v7,
        };
        decide(Some(&self.inc), &cmd, &ctx).is_ok()
    }
}

/// Whether these events (of this incident) reach a level whose plan calls the parent: an
/// activation, or a re-grade accepted while the response runs.
fn calls_parent(inc: &Incident, plan: &yingji_plan::Plan, events: &[Event]) -> bool {
    events.iter().any(|e| match e {
        Event::Activated { parent_called, .. } => *parent_called,
        Event::RegradeAccepted { level, .. } => {
            inc.status == yingji_domain::incident::Status::Active
                && plan
                    .level_index(&level.id)
                    .is_some_and(|i| yingji_plan::response::effective(plan, i).parent_called)
        }
        _ => false,
    })
}

/// The parent's linked record follows its source: facts, level and status, in the same write
/// as the source's change (nothing when nothing it shows changed).
async fn follow_source(
    app: &App,
    ws: &mut WriteSet,
    source: &Incident,
    parent_incident: Uuid,
    actor: &ActorRef,
    now: Timestamp,
) -> Result<(), AppError> {
    let Some(prec) = app.store.get_incident(parent_incident).await? else {
        return Ok(());
    };
    let pinc: Incident = serde_json::from_str(&prec.body).map_err(AppError::internal)?;
    let plan = app.plan(&pinc.plan_id, pinc.plan_version).await?;
    let none = |_: &str| Vec::new();
    let ctx = Ctx {
        now,
        actor,
        plan: &plan,
        holders: &none,
        new_id: &Uuid::now_v7,
    };
    let cmd = Command::FollowSource {
        source: yingji_domain::incident::SourceState::of(source, now),
    };
    let events = decide(Some(&pinc), &cmd, &ctx)?;
    if events.is_empty() {
        return Ok(());
    }
    let mut after = Some(pinc);
    for e in &events {
        after = apply(after, e, now, actor);
    }
    let after = after.ok_or_else(|| AppError::internal("a linked record stopped being one"))?;
    incident_events(
        ws,
        &after,
        &prec.jurisdiction_path,
        prec.version,
        Some(&prec.head_hash),
        actor,
        now,
        &events,
    );
    Ok(())
}

/// The parent's record of an escalation: pinned to the same plan version, so that the
/// parent's office sees the level, the facts and the link back. Answers its title.
fn parent_record(
    ws: &mut WriteSet,
    child: &Incident,
    parent_incident: Uuid,
    parent: &JurisdictionRow,
    plan: &yingji_plan::Plan,
    actor: &ActorRef,
    now: Timestamp,
) -> Result<String, AppError> {
    let report = NewReport {
        id: parent_incident,
        jurisdiction_id: parent.id,
        plan_id: child.plan_id.clone(),
        plan_version: child.plan_version,
        kind: IncidentKind::Escalation,
        drill: child.drill,
        title: format!("【上报】{}", child.title),
        headcount: child.headcount,
        venue: child.venue.clone(),
        behaviours: child.behaviours.clone(),
        location: child.location.clone(),
        fields: child.fields.clone(),
        source_incident: Some(child.id),
    };
    let none = |_: &str| Vec::new();
    let ctx = Ctx {
        now,
        actor,
        plan,
        holders: &none,
        new_id: &Uuid::now_v7,
    };
    let mut events: Vec<Event> = decide(None, &Command::Report(report), &ctx)?;
    let mut inc = None;
    for e in &events {
        inc = apply(inc, e, now, actor);
    }
    // It shows the source as it stands (its level, status and facts).
    let follow = Command::FollowSource {
        source: yingji_domain::incident::SourceState::of(child, now),
    };
    let more = decide(inc.as_ref(), &follow, &ctx)?;
    for e in &more {
        inc = apply(inc, e, now, actor);
    }
    events.extend(more);
    let inc = inc.ok_or_else(|| AppError::internal("the parent's record was not created"))?;
    incident_events(ws, &inc, &parent.path, 0, None, actor, now, &events);
    Ok(inc.title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_action_parses() {
        for a in TASK_ACTIONS {
            assert!(OnTask::parse_action(a).is_ok(), "{a}");
        }
        let req = ActionRequest {
            reason: Some("r".into()),
            ..Default::default()
        };
        for d in REGRADE_DECISIONS {
            let a = IncidentAction::parse(&format!("regrade-{d}"), &req);
            assert!(a.is_ok(), "{d}");
        }
    }
}
