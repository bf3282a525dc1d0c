//! The incident lifecycle (WF-01 … WF-06): report → verify → assess → warn / activate → updates,
//! re-grading, escalation, coercive steps (a request naming the approver, approved or refused by
//! that person alone; a consultation first where the plan names one) → end → aftermath (commitments,
//! written replies) → after-action review → close. `decide` checks a command against the state and
//! the plan and returns events; `apply` folds an event into the state. Both are pure.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yingji_plan::classify::{Input, classify};
use yingji_plan::model::{COMMAND_ID, OFFICE_ID, Plan, ReportDue, ReportKind};
use yingji_plan::response::{effective, next_follow_up_at, report_due_at, tasks_of};

use crate::{ActorRef, PersonRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// 苗头: a report of something that may happen.
    EarlySign,
    /// An actual gathering or event.
    Event,
    /// The linked record a lower jurisdiction's escalation creates for this office.
    Escalation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = IncidentStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Reported,
    Verified,
    /// Verification found nothing (or a false report): terminal.
    Unfounded,
    Active,
    Ended,
    Reviewed,
    Closed,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 7] = [
        Status::Reported,
        Status::Verified,
        Status::Active,
        Status::Ended,
        Status::Reviewed,
        Status::Closed,
        Status::Unfounded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Verified => "verified",
            Status::Unfounded => "unfounded",
            Status::Active => "active",
            Status::Ended => "ended",
            Status::Reviewed => "reviewed",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "reported" => Status::Reported,
            "verified" => Status::Verified,
            "unfounded" => Status::Unfounded,
            "active" => Status::Active,
            "ended" => Status::Ended,
            "reviewed" => Status::Reviewed,
            "closed" => Status::Closed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct LevelRef {
    pub id: String,
    pub name: String,
    pub colour: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Proposal {
    /// The level the plan proposes, or None with the reason.
    pub level: Option<LevelRef>,
    pub rule: Option<String>,
    /// Which of the level's `when` rules matched (for saying it in words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    pub judgement: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Open,
    Acknowledged,
    Started,
    Done,
    Cancelled,
    /// Closed without being done when the response ended or the report proved unfounded
    /// (with a [`CloseReason`]).
    Closed,
}

/// Why a task or call was closed without being done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The response ended (or the report proved unfounded): the work is no longer needed.
    NotNeeded,
    /// The work goes on outside this response (handed over to a unit or a case).
    HandedOver,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::NotNeeded => "not_needed",
            CloseReason::HandedOver => "handed_over",
        }
    }
    pub fn parse(s: &str) -> Option<CloseReason> {
        Some(match s {
            "not_needed" => CloseReason::NotNeeded,
            "handed_over" => CloseReason::HandedOver,
            _ => return None,
        })
    }
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Acknowledged => "acknowledged",
            TaskState::Started => "started",
            TaskState::Done => "done",
            TaskState::Cancelled => "cancelled",
            TaskState::Closed => "closed",
        }
    }
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskState::Done | TaskState::Cancelled | TaskState::Closed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: Uuid,
    pub group: String,
    pub group_name: String,
    pub title: String,
    /// The plan's time limit, as written.
    pub within: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub due_at: Timestamp,
    /// The post whose holders are assigned.
    pub post: Option<String>,
    pub assignees: Vec<PersonRef>,
    pub state: TaskState,
    pub overdue: bool,
    pub first_response: bool,
    /// The level whose activation created the task.
    pub level: Option<String>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<ActorRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub started_at: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub done_at: Option<Timestamp>,
    pub drill: bool,
    /// Why the task was closed without being done (state `closed`).
    #[serde(default)]
    pub closed_reason: Option<CloseReason>,
    /// A duty of the plan's aftermath, created when the response ended.
    #[serde(default)]
    pub aftermath: bool,
    /// When the acknowledgement was signed by someone who is not an assignee: the assignees
    /// it was signed for.
    #[serde(default)]
    pub acknowledged_for: Vec<PersonRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    /// 承诺事项: a promise made to petitioners.
    Commitment,
    /// 书面答复: a written reply owed.
    Reply,
}

impl ObligationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationKind::Commitment => "commitment",
            ObligationKind::Reply => "reply",
        }
    }
}

/// A commitment or a written reply owed, tracked to its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Obligation {
    pub id: Uuid,
    pub kind: ObligationKind,
    /// What was promised, or to whom the reply is owed and on what.
    pub text: String,
    pub owner: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub due_at: Timestamp,
    pub done: bool,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub done_at: Option<Timestamp>,
    /// For replies: how it was sent (letter, in person…), and a summary.
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub overdue: bool,
    pub drill: bool,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// The kind of a report owed upward: 首报, 续报 or 终报.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum UpwardKind {
    First,
    FollowUp,
    Final,
}

impl UpwardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpwardKind::First => "first",
            UpwardKind::FollowUp => "follow-up",
            UpwardKind::Final => "final",
        }
    }

    fn of(k: ReportKind) -> UpwardKind {
        match k {
            ReportKind::First => UpwardKind::First,
            ReportKind::FollowUp => UpwardKind::FollowUp,
            ReportKind::Final => UpwardKind::Final,
        }
    }
}

/// A report owed upward (首报/续报/终报) under the level in force: an obligation with a
/// deadline, submitted by the holders of its responsible posts (or the level's commanders)
/// with the plan's fields, and delivered to its recipient office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct UpwardReport {
    pub id: Uuid,
    pub kind: UpwardKind,
    /// The follow-up's number (续报 1, 2, …); 1 for the others.
    pub seq: u32,
    /// The recipient, as the plan names it.
    pub to: String,
    /// Who sends it, as the plan writes it (a group, `command`, `office`, a post; none: the
    /// office).
    pub by: Option<String>,
    /// The responsible posts `by` resolves to (a group's lead, the level's commanders, the
    /// office head, the post itself).
    pub posts: Vec<String>,
    /// The commander posts of the level, who may also submit it.
    pub commanders: Vec<String>,
    /// The level whose response owes it.
    pub level: String,
    /// The plan's limit, as written.
    pub within: String,
    /// For follow-ups: the cadence after each submission, as written.
    pub every: Option<String>,
    /// The plan's `deliver_to` (`parent`, `command` or a post); none: the parent where there
    /// is one, else the command.
    pub deliver_to: Option<String>,
    /// None for a final report until the response ends (its limit counts from the end).
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub due_at: Option<Timestamp>,
    /// What the report must contain (the plan's `fields`).
    pub fields: Vec<String>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub submitted_at: Option<Timestamp>,
    pub submitted_by: Option<ActorRef>,
    /// The fields' values as submitted.
    pub values: BTreeMap<String, String>,
    /// Free text submitted with the fields.
    pub text: Option<String>,
    pub late: bool,
    /// No longer owed (a follow-up not yet due when the response ended or the final report
    /// was submitted).
    pub closed: bool,
}

impl UpwardReport {
    /// Still to be submitted.
    pub fn is_open(&self) -> bool {
        self.submitted_at.is_none() && !self.closed
    }
}

/// One entry of the things heard and done on site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Note {
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub by: ActorRef,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: Option<String>,
}

/// Where a coercive-step request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CoerciveState {
    /// Requested; the named approver has not decided.
    Pending,
    /// The named approver approved it, with their own sign-in.
    Approved,
    /// The named approver refused it.
    Refused,
    /// Recorded before requests needed the approver's own decision: the approver was named by
    /// the person who recorded it and never signed.
    #[default]
    Unconfirmed,
}

impl CoerciveState {
    pub fn as_str(self) -> &'static str {
        match self {
            CoerciveState::Pending => "pending",
            CoerciveState::Approved => "approved",
            CoerciveState::Refused => "refused",
            CoerciveState::Unconfirmed => "unconfirmed",
        }
    }
}

/// A coercive step requested by one person (`recorded_by`, at `at`) and decided by the approver
/// it names (`decided_by`, at `decided_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CoerciveStepRecord {
    /// The request's id (nil for records made before requests).
    #[serde(default)]
    pub id: Uuid,
    pub step: String,
    pub name: String,
    pub approver_post: String,
    pub approver: PersonRef,
    pub reason: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// Who requested it.
    pub recorded_by: ActorRef,
    #[serde(default)]
    pub state: CoerciveState,
    #[serde(default)]
    pub decided_by: Option<ActorRef>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<Timestamp>,
    /// Why it was refused (or a note on the approval).
    #[serde(default)]
    pub decision_reason: Option<String>,
    /// The consultation (会商) the plan required before the request.
    #[serde(default)]
    pub consultation_id: Option<Uuid>,
}

/// A consultation (会商) held before a coercive step: who took part and what they concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ConsultationRecord {
    pub id: Uuid,
    /// The coercive step it was held about.
    pub step: String,
    pub participants: Vec<String>,
    pub conclusion: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub recorded_by: ActorRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct RegradeProposal {
    pub from: Option<String>,
    pub to: LevelRef,
    pub rule: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// A plan revision: the plan and the version that answers a corrective action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct PlanRevision {
    pub plan_id: String,
    pub version: i64,
}

/// 整改措施: a corrective action of the review, owned by a person or a post, tracked to its
/// deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CorrectiveAction {
    #[serde(default)]
    pub id: Uuid,
    pub title: String,
    /// The owner's name (the person's, or the post's as the plan names it).
    pub owner: String,
    #[serde(default)]
    pub owner_person: Option<PersonRef>,
    /// The owning post of the incident's plan.
    #[serde(default)]
    pub owner_post: Option<String>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub due_at: Option<Timestamp>,
    #[serde(default)]
    pub done: bool,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    #[serde(default)]
    pub done_at: Option<Timestamp>,
    #[serde(default)]
    pub overdue: bool,
    /// The plan revision that answers it.
    #[serde(default)]
    pub plan_revision: Option<PlanRevision>,
}

/// Durations measured from the event log, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Measured {
    pub report_to_verify_s: Option<i64>,
    /// Report → the level decided (graded).
    #[serde(default)]
    pub report_to_assess_s: Option<i64>,
    /// The level decided → the response activated.
    #[serde(default)]
    pub assess_to_activate_s: Option<i64>,
    pub verify_to_activate_s: Option<i64>,
    pub report_to_activate_s: Option<i64>,
    /// Activation → the first acknowledgement of a call or a task of the response.
    #[serde(default)]
    pub activate_to_first_ack_s: Option<i64>,
    pub activate_to_end_s: Option<i64>,
    pub report_to_end_s: Option<i64>,
    pub tasks: Vec<TaskTiming>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TaskTiming {
    pub task_id: Uuid,
    pub title: String,
    pub group: String,
    pub to_ack_s: Option<i64>,
    pub to_done_s: Option<i64>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Review {
    pub measured: Measured,
    pub summary: String,
    pub lessons: Vec<String>,
    pub corrective_actions: Vec<CorrectiveAction>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// The incident as its events have made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub plan_version: i64,
    pub kind: IncidentKind,
    pub drill: bool,
    pub status: Status,
    pub title: String,
    #[cfg_attr(feature = "schema", schema(value_type = Object))]
    pub fields: BTreeMap<String, serde_json::Value>,
    pub headcount: u32,
    pub venue: Option<String>,
    pub behaviours: Vec<String>,
    pub location: Option<String>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub reported_at: Timestamp,
    pub reported_by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub verified_at: Option<Timestamp>,
    pub proposal: Option<Proposal>,
    pub level: Option<LevelRef>,
    pub warning: Option<LevelRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub warning_issued_at: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub activated_at: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub ended_at: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub closed_at: Option<Timestamp>,
    pub tasks: Vec<Task>,
    pub obligations: Vec<Obligation>,
    pub grievances: Vec<Note>,
    pub care: Vec<Note>,
    pub conversations: Vec<Note>,
    pub attachments: Vec<Attachment>,
    #[cfg_attr(feature = "schema", schema(value_type = Vec<(String, u32)>))]
    pub headcount_history: Vec<(Timestamp, u32)>,
    pub coercive_steps: Vec<CoerciveStepRecord>,
    /// Consultations (会商) recorded before coercive steps.
    #[serde(default)]
    pub consultations: Vec<ConsultationRecord>,
    pub regrade: Option<RegradeProposal>,
    pub parent_incident: Option<Uuid>,
    /// For an escalation record: the lower jurisdiction's incident.
    pub source_incident: Option<Uuid>,
    /// For an escalation record: the lower jurisdiction's incident as it last stood (its
    /// status, level and facts follow the source's updates, re-grading and end).
    #[serde(default)]
    pub source: Option<SourceState>,
    pub review: Option<Review>,
    /// When the after-action review is due (the plan's `review_within` from the end).
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    #[serde(default)]
    pub review_due_at: Option<Timestamp>,
    #[serde(default)]
    pub review_overdue: bool,
    /// The reports owed upward (首报/续报/终报) under the levels activated.
    #[serde(default)]
    pub upward_reports: Vec<UpwardReport>,
    /// The documents issued from the record, oldest first.
    #[serde(default)]
    pub documents: Vec<crate::document::IssuedDocument>,
}

/// The lower jurisdiction's incident as its linked record in the parent shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SourceState {
    pub status: Status,
    pub level: Option<LevelRef>,
    pub headcount: u32,
    pub behaviours: Vec<String>,
    pub location: Option<String>,
    /// When the source last changed.
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

impl SourceState {
    /// The state of an incident as its linked record in the parent shows it.
    pub fn of(inc: &Incident, at: Timestamp) -> SourceState {
        SourceState {
            status: inc.status,
            level: inc.level.clone(),
            headcount: inc.headcount,
            behaviours: inc.behaviours.clone(),
            location: inc.location.clone(),
            at,
        }
    }

    /// The same state, whenever it was seen.
    fn same(&self, other: &SourceState) -> bool {
        SourceState {
            at: other.at,
            ..self.clone()
        } == *other
    }
}

/// A new report, as the intake form gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub plan_version: i64,
    pub kind: IncidentKind,
    pub drill: bool,
    pub title: String,
    pub headcount: u32,
    pub venue: Option<String>,
    pub behaviours: Vec<String>,
    pub location: Option<String>,
    /// The plan's intake fields by id.
    pub fields: BTreeMap<String, serde_json::Value>,
    pub source_incident: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub headcount: Option<u32>,
    pub behaviours: Option<Vec<String>>,
    pub location: Option<String>,
    pub grievances: Vec<String>,
    pub care: Vec<String>,
    pub conversations: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    Acknowledge,
    Start,
    Done,
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Report(NewReport),
    Verify {
        note: Option<String>,
    },
    MarkUnfounded {
        reason: String,
    },
    /// A person decides the level; None accepts the plan's proposal.
    Assess {
        level: Option<String>,
        reason: Option<String>,
    },
    IssueWarning {
        level: Option<String>,
    },
    LiftWarning {
        reason: String,
    },
    /// Activates the response for a level (default: the assessed level).
    Activate {
        level: Option<String>,
    },
    Update(Update),
    AcceptRegrade,
    DeclineRegrade {
        reason: String,
    },
    /// Records the escalation; the store creates the parent's linked record in the same
    /// transaction.
    Escalate {
        parent_incident: Uuid,
        parent_jurisdiction: Uuid,
        note: Option<String>,
    },
    /// A request for a coercive step, naming the person who must approve it (never the
    /// requester).
    RequestCoerciveStep {
        id: Uuid,
        step: String,
        approver: PersonRef,
        reason: String,
    },
    /// The named approver's decision on a request (only they may make it).
    DecideCoerciveStep {
        id: Uuid,
        approve: bool,
        reason: Option<String>,
    },
    /// A consultation (会商) about a coercive step: participants and conclusion.
    RecordConsultation {
        id: Uuid,
        step: String,
        participants: Vec<String>,
        conclusion: String,
    },
    /// Ends the response: its open tasks are closed with `open_tasks`, the plan's aftermath
    /// duties become tasks and the review falls due.
    EndResponse {
        reason: String,
        open_tasks: CloseReason,
    },
    /// A commitment or reply; without `due_at` it is due within the plan's `reply_within`.
    AddObligation {
        id: Uuid,
        kind: ObligationKind,
        text: String,
        owner: String,
        due_at: Option<Timestamp>,
    },
    FulfilObligation {
        id: Uuid,
        channel: Option<String>,
        outcome: Option<String>,
    },
    Review {
        summary: String,
        lessons: Vec<String>,
        corrective_actions: Vec<CorrectiveAction>,
        /// The times measured from the event log (else from the state).
        measured: Option<Measured>,
    },
    /// A corrective action is done.
    CorrectiveActionDone {
        id: Uuid,
    },
    /// Links a corrective action to the plan revision that answers it.
    LinkCorrectiveAction {
        id: Uuid,
        revision: PlanRevision,
    },
    Close,
    Task {
        id: Uuid,
        action: TaskAction,
        reason: Option<String>,
    },
    /// The linked record in the parent follows its source (escalation records only).
    FollowSource {
        source: SourceState,
    },
    /// A report owed upward, submitted with the plan's fields and free text.
    SubmitUpwardReport {
        id: Uuid,
        values: BTreeMap<String, String>,
        text: Option<String>,
    },
    /// A document issued from the record (rendered by the caller; the record keeps its hash).
    IssueDocument {
        document: crate::document::IssuedDocument,
    },
    /// Marks what has fallen due.
    Tick,
}

impl Command {
    /// The name used in errors: "cannot <action> an incident that is <status>".
    pub fn action(&self) -> &'static str {
        match self {
            Command::Report(_) => "report",
            Command::Verify { .. } => "verify",
            Command::MarkUnfounded { .. } => "mark unfounded",
            Command::Assess { .. } => "assess",
            Command::IssueWarning { .. } => "issue a warning for",
            Command::LiftWarning { .. } => "lift the warning of",
            Command::Activate { .. } => "activate",
            Command::Update(_) => "update",
            Command::AcceptRegrade => "accept a re-grade of",
            Command::DeclineRegrade { .. } => "decline a re-grade of",
            Command::Escalate { .. } => "escalate",
            Command::RequestCoerciveStep { .. } => "request a coercive step for",
            Command::DecideCoerciveStep { .. } => "decide a coercive step of",
            Command::RecordConsultation { .. } => "record a consultation for",
            Command::EndResponse { .. } => "end the response to",
            Command::AddObligation { .. } => "add a commitment or reply to",
            Command::FulfilObligation { .. } => "fulfil a commitment or reply of",
            Command::Review { .. } => "review",
            Command::CorrectiveActionDone { .. } => "finish a corrective action of",
            Command::LinkCorrectiveAction { .. } => "link a corrective action of",
            Command::Close => "close",
            Command::IssueDocument { .. } => "issue a document for",
            Command::Task { .. } => "change a task of",
            Command::SubmitUpwardReport { .. } => "submit a report upward for",
            Command::Tick => "tick",
            Command::FollowSource { .. } => "follow the source of",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Reported {
        report: NewReport,
        first_response: Vec<Task>,
    },
    Verified {
        note: Option<String>,
    },
    MarkedUnfounded {
        reason: String,
    },
    LevelProposed {
        proposal: Proposal,
    },
    Assessed {
        level: LevelRef,
        proposed: Option<String>,
        reason: Option<String>,
    },
    WarningIssued {
        level: LevelRef,
    },
    WarningLifted {
        reason: String,
    },
    Activated {
        level: LevelRef,
        tasks: Vec<Task>,
        parent_called: bool,
    },
    Updated {
        update: Update,
    },
    RegradeProposed {
        proposal: RegradeProposal,
    },
    RegradeAccepted {
        level: LevelRef,
        tasks: Vec<Task>,
    },
    RegradeDeclined {
        reason: String,
    },
    EscalatedToParent {
        parent_incident: Uuid,
        parent_jurisdiction: Uuid,
        note: Option<String>,
    },
    /// The source incident of a linked record changed (its facts, level or status).
    SourceFollowed {
        source: SourceState,
    },
    /// A step recorded before requests needed the approver's own decision (old logs only).
    CoerciveStepRecorded {
        record: CoerciveStepRecord,
    },
    CoerciveStepRequested {
        record: CoerciveStepRecord,
    },
    CoerciveStepApproved {
        id: Uuid,
        reason: Option<String>,
    },
    CoerciveStepRefused {
        id: Uuid,
        reason: String,
    },
    ConsultationRecorded {
        record: ConsultationRecord,
    },
    ResponseEnded {
        reason: String,
        /// The plan's aftermath duties, as tasks.
        #[serde(default)]
        aftermath: Vec<Task>,
        #[serde(default)]
        review_due_at: Option<Timestamp>,
    },
    ObligationAdded {
        obligation: Obligation,
    },
    ObligationFulfilled {
        id: Uuid,
        channel: Option<String>,
        outcome: Option<String>,
    },
    Reviewed {
        review: Review,
    },
    Closed,
    TaskAcknowledged {
        id: Uuid,
        /// The assignees it was signed for, when the signer is not one of them.
        #[serde(default)]
        on_behalf_of: Vec<PersonRef>,
    },
    TaskStarted {
        id: Uuid,
    },
    TaskDone {
        id: Uuid,
    },
    TaskCancelled {
        id: Uuid,
        reason: Option<String>,
    },
    TaskOverdue {
        id: Uuid,
        due_at: Timestamp,
    },
    ObligationOverdue {
        id: Uuid,
        due_at: Timestamp,
    },
    /// A task closed without being done (the response ended, the report proved unfounded).
    TaskClosed {
        id: Uuid,
        reason: CloseReason,
    },
    ReviewOverdue {
        due_at: Timestamp,
    },
    CorrectiveActionDone {
        id: Uuid,
    },
    CorrectiveActionLinked {
        id: Uuid,
        revision: PlanRevision,
    },
    CorrectiveActionOverdue {
        id: Uuid,
        due_at: Timestamp,
    },
    /// The reports a level's response owes upward (at activation, or the new ones of a level
    /// a re-grade moves to while the response is active).
    UpwardReportsOwed {
        reports: Vec<UpwardReport>,
    },
    /// A report owed upward submitted; for a follow-up with a cadence while the response is
    /// active, the next one owed.
    UpwardReportSubmitted {
        id: Uuid,
        values: BTreeMap<String, String>,
        text: Option<String>,
        next: Option<UpwardReport>,
    },
    /// A report owed upward past its deadline (once).
    UpwardReportLate {
        id: Uuid,
        due_at: Timestamp,
    },
    /// A final report falls due (the response ended).
    UpwardReportDue {
        id: Uuid,
        due_at: Timestamp,
    },
    /// A report no longer owed (a follow-up not yet due when the response ended, or any open
    /// follow-up once the final report is in).
    UpwardReportClosed {
        id: Uuid,
    },
    DocumentIssued {
        document: crate::document::IssuedDocument,
    },
}

impl Event {
    /// The stable event type name stored in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Reported { .. } => "reported",
            Event::Verified { .. } => "verified",
            Event::MarkedUnfounded { .. } => "marked_unfounded",
            Event::LevelProposed { .. } => "level_proposed",
            Event::Assessed { .. } => "assessed",
            Event::WarningIssued { .. } => "warning_issued",
            Event::WarningLifted { .. } => "warning_lifted",
            Event::Activated { .. } => "activated",
            Event::Updated { .. } => "updated",
            Event::RegradeProposed { .. } => "regrade_proposed",
            Event::RegradeAccepted { .. } => "regrade_accepted",
            Event::RegradeDeclined { .. } => "regrade_declined",
            Event::EscalatedToParent { .. } => "escalated_to_parent",
            Event::SourceFollowed { .. } => "source_followed",
            Event::CoerciveStepRecorded { .. } => "coercive_step_recorded",
            Event::CoerciveStepRequested { .. } => "coercive_step_requested",
            Event::CoerciveStepApproved { .. } => "coercive_step_approved",
            Event::CoerciveStepRefused { .. } => "coercive_step_refused",
            Event::ConsultationRecorded { .. } => "consultation_recorded",
            Event::ResponseEnded { .. } => "response_ended",
            Event::ObligationAdded { .. } => "obligation_added",
            Event::ObligationFulfilled { .. } => "obligation_fulfilled",
            Event::Reviewed { .. } => "reviewed",
            Event::Closed => "closed",
            Event::DocumentIssued { .. } => "document_issued",
            Event::TaskAcknowledged { .. } => "task_acknowledged",
            Event::TaskStarted { .. } => "task_started",
            Event::TaskDone { .. } => "task_done",
            Event::TaskCancelled { .. } => "task_cancelled",
            Event::TaskOverdue { .. } => "task_overdue",
            Event::ObligationOverdue { .. } => "obligation_overdue",
            Event::TaskClosed { .. } => "task_closed",
            Event::ReviewOverdue { .. } => "review_overdue",
            Event::CorrectiveActionDone { .. } => "corrective_action_done",
            Event::CorrectiveActionLinked { .. } => "corrective_action_linked",
            Event::CorrectiveActionOverdue { .. } => "corrective_action_overdue",
            Event::UpwardReportsOwed { .. } => "upward_reports_owed",
            Event::UpwardReportSubmitted { .. } => "upward_report_submitted",
            Event::UpwardReportLate { .. } => "upward_report_late",
            Event::UpwardReportDue { .. } => "upward_report_due",
            Event::UpwardReportClosed { .. } => "upward_report_closed",
        }
    }
}

/// Why a command was refused. Each variant has a stable code for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("cannot {action} an incident that is {status}")]
    IllegalTransition {
        action: &'static str,
        status: &'static str,
    },
    #[error("the plan requires the intake field `{field}` ({label})")]
    MissingIntakeField { field: String, label: String },
    #[error("`{field}` is not an intake field of this plan")]
    UnknownIntakeField { field: String },
    #[error("intake field `{field}` must be {expected}")]
    InvalidIntakeField {
        field: String,
        expected: &'static str,
    },
    #[error("level `{level}` is not a level of this plan")]
    UnknownLevel { level: String },
    #[error("no level to activate: {reason}")]
    NoLevel { reason: String },
    #[error("{what} `{value}` is not defined by this plan")]
    NotInPlan { what: &'static str, value: String },
    #[error("coercive step `{step}` is not provided at level {level}")]
    UnknownCoerciveStep { step: String, level: String },
    #[error("{person} does not hold the post {post} that must approve `{step}`")]
    WrongApprover {
        step: String,
        post: String,
        person: String,
    },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the requester of a coercive step cannot be its approver")]
    SelfApproval,
    #[error("only {approver}, the approver named by the request, may decide it")]
    NotTheApprover { approver: String },
    #[error("coercive-step request {id} is not part of this incident")]
    UnknownCoerciveRequest { id: Uuid },
    #[error("the coercive-step request is already {state}")]
    CoerciveAlreadyDecided { state: &'static str },
    #[error("the plan requires a consultation before `{step}` ({consultation}); record it first")]
    ConsultationRequired { step: String, consultation: String },
    #[error("there is no re-grade proposal to decide")]
    NoRegradePending,
    #[error("task {id} is not part of this incident")]
    UnknownTask { id: Uuid },
    #[error("cannot {action} a task that is {state}")]
    IllegalTaskTransition {
        action: &'static str,
        state: &'static str,
    },
    #[error("commitment or reply {id} is not part of this incident")]
    UnknownObligation { id: Uuid },
    #[error("commitment or reply {id} is already fulfilled")]
    AlreadyFulfilled { id: Uuid },
    #[error("the deadline {due_at} is not after now ({now})")]
    DeadlineInPast { due_at: Timestamp, now: Timestamp },
    #[error("the incident has already been escalated")]
    AlreadyEscalated,
    #[error("tasks still open: {count}; finish or cancel them before the review")]
    OpenTasks { count: usize },
    #[error("commitments or replies still owed: {count}; fulfil them before closing")]
    OpenObligations { count: usize },
    #[error("there is no warning to lift")]
    NoWarning,
    #[error("a written reply is recorded with the channel it was sent by")]
    ChannelRequired,
    #[error("corrective action {id} is not part of this incident's review")]
    UnknownCorrectiveAction { id: Uuid },
    #[error("corrective action {id} is already done")]
    CorrectiveActionAlreadyDone { id: Uuid },
    #[error("a deadline is required: give `due_at`, or set the plan's `reply_within`")]
    DeadlineRequired,
    #[error("report {id} is not owed upward by this incident")]
    UnknownUpwardReport { id: Uuid },
    #[error("this report was already submitted")]
    UpwardReportSubmitted,
    #[error("this report is no longer owed (closed)")]
    UpwardReportClosed,
    #[error("the report must give `{field}`")]
    MissingReportField { field: String },
    #[error("`{field}` is not a field of this report")]
    UnknownReportField { field: String },
    #[error("{0}")]
    Invalid(String),
}

impl IncidentError {
    /// Stable snake_case code for the API error envelope.
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            IncidentError::IllegalTransition { .. } => crate::error::ErrorCode::IllegalTransition,
            IncidentError::MissingIntakeField { .. } => crate::error::ErrorCode::MissingIntakeField,
            IncidentError::UnknownIntakeField { .. } => crate::error::ErrorCode::UnknownIntakeField,
            IncidentError::InvalidIntakeField { .. } => crate::error::ErrorCode::InvalidIntakeField,
            IncidentError::UnknownLevel { .. } => crate::error::ErrorCode::UnknownLevel,
            IncidentError::NoLevel { .. } => crate::error::ErrorCode::NoLevel,
            IncidentError::NotInPlan { .. } => crate::error::ErrorCode::NotInPlan,
            IncidentError::UnknownCoerciveStep { .. } => {
                crate::error::ErrorCode::UnknownCoerciveStep
            }
            IncidentError::WrongApprover { .. } => crate::error::ErrorCode::WrongApprover,
            IncidentError::ReasonRequired => crate::error::ErrorCode::ReasonRequired,
            IncidentError::SelfApproval => crate::error::ErrorCode::SelfApproval,
            IncidentError::NotTheApprover { .. } => crate::error::ErrorCode::NotTheApprover,
            IncidentError::UnknownCoerciveRequest { .. } => {
                crate::error::ErrorCode::UnknownCoerciveRequest
            }
            IncidentError::CoerciveAlreadyDecided { .. } => {
                crate::error::ErrorCode::CoerciveAlreadyDecided
            }
            IncidentError::ConsultationRequired { .. } => {
                crate::error::ErrorCode::ConsultationRequired
            }
            IncidentError::NoRegradePending => crate::error::ErrorCode::NoRegradePending,
            IncidentError::UnknownTask { .. } => crate::error::ErrorCode::UnknownTask,
            IncidentError::IllegalTaskTransition { .. } => {
                crate::error::ErrorCode::IllegalTaskTransition
            }
            IncidentError::UnknownObligation { .. } => crate::error::ErrorCode::UnknownObligation,
            IncidentError::AlreadyFulfilled { .. } => crate::error::ErrorCode::AlreadyFulfilled,
            IncidentError::DeadlineInPast { .. } => crate::error::ErrorCode::DeadlineInPast,
            IncidentError::AlreadyEscalated => crate::error::ErrorCode::AlreadyEscalated,
            IncidentError::OpenTasks { .. } => crate::error::ErrorCode::OpenTasks,
            IncidentError::OpenObligations { .. } => crate::error::ErrorCode::OpenObligations,
            IncidentError::NoWarning => crate::error::ErrorCode::NoWarning,
            IncidentError::ChannelRequired => crate::error::ErrorCode::ChannelRequired,
            IncidentError::UnknownCorrectiveAction { .. } => {
                crate::error::ErrorCode::UnknownCorrectiveAction
            }
            IncidentError::CorrectiveActionAlreadyDone { .. } => {
                crate::error::ErrorCode::AlreadyFulfilled
            }
            IncidentError::DeadlineRequired => crate::error::ErrorCode::MissingField,
            IncidentError::UnknownUpwardReport { .. } => {
                crate::error::ErrorCode::UnknownUpwardReport
            }
            IncidentError::UpwardReportSubmitted | IncidentError::UpwardReportClosed => {
                crate::error::ErrorCode::AlreadySubmitted
            }
            IncidentError::MissingReportField { .. } => crate::error::ErrorCode::MissingField,
            IncidentError::UnknownReportField { .. } => crate::error::ErrorCode::InvalidField,
            IncidentError::Invalid(_) => crate::error::ErrorCode::Invalid,
        }
    }
}

/// What `decide` needs besides the state: the plan the incident is pinned to, the time, who
/// acts, who holds each post right now, and an id source.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub actor: &'a ActorRef,
    pub plan: &'a Plan,
    pub holders: &'a (dyn Fn(&str) -> Vec<PersonRef> + Sync),
    pub new_id: &'a (dyn Fn() -> Uuid + Sync),
}

type R = Result<Vec<Event>, IncidentError>;

/// The coercive step `step` of the incident's level (inherited steps included).
fn coercive_step<'p>(
    inc: &Incident,
    ctx: &Ctx<'p>,
    step: &str,
) -> Result<&'p yingji_plan::model::CoerciveStep, IncidentError> {
    let level = inc.level.as_ref().map(|l| l.id.clone()).unwrap_or_default();
    let i = ctx
        .plan
        .level_index(&level)
        .ok_or(IncidentError::UnknownLevel {
            level: level.clone(),
        })?;
    effective(ctx.plan, i)
        .coercive_steps
        .into_iter()
        .find(|c| c.step.value == step)
        .ok_or(IncidentError::UnknownCoerciveStep {
            step: step.to_string(),
            level,
        })
}

fn illegal(cmd: &Command, s: Status) -> IncidentError {
    IncidentError::IllegalTransition {
        action: cmd.action(),
        status: s.as_str(),
    }
}

fn level_ref(plan: &Plan, id: &str) -> Option<LevelRef> {
    plan.level(id).map(|l| LevelRef {
        id: l.id.value.clone(),
        name: l.name.clone(),
        colour: l.colour.map(|c| c.as_str().to_string()),
    })
}

/// The plan's proposal for the current facts.
pub fn propose(
    plan: &Plan,
    headcount: u32,
    venue: Option<&str>,
    behaviours: &[String],
) -> Proposal {
    let input = Input {
        headcount,
        venue,
        behaviours,
    };
    match classify(plan, &input) {
        Ok(g) => {
            let l = &plan.levels[g.level];
            Proposal {
                level: level_ref(plan, &l.id.value),
                rule: Some(l.when[g.rule].to_string()),
                rule_index: Some(g.rule),
                judgement: l.judgement.clone(),
                reason: None,
            }
        }
        Err(e) => Proposal {
            level: None,
            rule: None,
            rule_index: None,
            judgement: None,
            reason: Some(e.to_string()),
        },
    }
}

/// The post whose holders do a group's task: the group's lead, else the office head, else the
/// command's lead.
fn task_post(plan: &Plan, group: &str) -> Option<String> {
    yingji_plan::response::task_post(plan, group)
}

fn make_task(
    ctx: &Ctx<'_>,
    t: &yingji_plan::model::TaskTemplate,
    level: Option<&str>,
    first_response: bool,
    drill: bool,
) -> Task {
    let start = ctx.now.to_zoned(ctx.plan.time.tz.clone());
    let (due, _) = t.within.value.deadline(&start, ctx.plan.time.day);
    let post = task_post(ctx.plan, &t.group.value);
    let assignees = post
        .as_deref()
        .map(|p| (ctx.holders)(p))
        .unwrap_or_default();
    Task {
        id: (ctx.new_id)(),
        group: t.group.value.clone(),
        group_name: ctx
            .plan
            .name_of(&t.group.value)
            .unwrap_or(&t.group.value)
            .to_string(),
        title: t.title.clone(),
        within: t.within.value.to_string(),
        due_at: due.timestamp(),
        post,
        assignees,
        state: TaskState::Open,
        overdue: false,
        first_response,
        level: level.map(str::to_string),
        created_at: ctx.now,
        acknowledged_at: None,
        acknowledged_by: None,
        started_at: None,
        done_at: None,
        drill,
        closed_reason: None,
        aftermath: false,
        acknowledged_for: vec![],
    }
}

/// When the after-action review is due if the response ends now (the plan's `review_within`).
pub fn review_due(plan: &Plan, now: Timestamp) -> Option<Timestamp> {
    let w = plan.aftermath.review_within.as_ref()?;
    let start = now.to_zoned(plan.time.tz.clone());
    Some(w.value.deadline(&start, plan.time.day).0.timestamp())
}

/// The post whose holders do an aftermath duty: the owner when it is a post, else the owning
/// group's (or the office's, the command's) post.
fn duty_post(plan: &Plan, owner: &str) -> Option<String> {
    if plan.post(owner).is_some() {
        return Some(owner.to_string());
    }
    task_post(plan, owner)
}

/// The plan's aftermath duties as tasks, due within the duty's own limit or, without one, by
/// the review's deadline. A duty with neither has no deadline and is left out (`plan check`
/// reports it as not acted on).
pub fn aftermath_tasks(
    plan: &Plan,
    now: Timestamp,
    holders: &dyn Fn(&str) -> Vec<PersonRef>,
    new_id: &dyn Fn() -> Uuid,
    drill: bool,
) -> Vec<Task> {
    let start = now.to_zoned(plan.time.tz.clone());
    let review = review_due(plan, now);
    plan.aftermath
        .duties
        .iter()
        .filter_map(|d| {
            let (due, within) = match &d.within {
                Some(w) => (
                    w.value.deadline(&start, plan.time.day).0.timestamp(),
                    w.value.to_string(),
                ),
                None => (
                    review?,
                    plan.aftermath
                        .review_within
                        .as_ref()
                        .map(|w| w.value.to_string())
                        .unwrap_or_default(),
                ),
            };
            let owner = d
                .owner
                .as_ref()
                .map_or(OFFICE_ID, |o| o.value.as_str())
                .to_string();
            let post = duty_post(plan, &owner);
            let assignees = post.as_deref().map(holders).unwrap_or_default();
            Some(Task {
                id: new_id(),
                group_name: plan.name_of(&owner).unwrap_or(&owner).to_string(),
                group: owner,
                title: d.title.clone(),
                within,
                due_at: due,
                post,
                assignees,
                state: TaskState::Open,
                overdue: false,
                first_response: false,
                level: None,
                created_at: now,
                acknowledged_at: None,
                acknowledged_by: None,
                started_at: None,
                done_at: None,
                drill,
                closed_reason: None,
                aftermath: true,
                acknowledged_for: vec![],
            })
        })
        .collect()
}

/// Closes every task not finished, with a reason (never as done).
fn close_open(inc: &Incident, reason: CloseReason) -> Vec<Event> {
    inc.tasks
        .iter()
        .filter(|t| !t.state.is_finished())
        .map(|t| Event::TaskClosed { id: t.id, reason })
        .collect()
}

/// Tasks a level's response generates, leaving out those the incident already has.
fn response_tasks(ctx: &Ctx<'_>, inc: Option<&Incident>, level: &str, drill: bool) -> Vec<Task> {
    let Some(i) = ctx.plan.level_index(level) else {
        return vec![];
    };
    let resp = effective(ctx.plan, i);
    tasks_of(ctx.plan, &resp)
        .into_iter()
        .filter(|t| {
            !inc.is_some_and(|inc| {
                inc.tasks
                    .iter()
                    .any(|x| !x.first_response && x.group == t.group.value && x.title == t.title)
            })
        })
        .map(|t| make_task(ctx, t, Some(level), false, drill))
        .collect()
}

fn validate_fields(plan: &Plan, r: &NewReport) -> Result<(), IncidentError> {
    use yingji_plan::model::FieldKind;
    for (k, v) in &r.fields {
        let Some(f) = plan.intake.iter().find(|f| f.id.value == *k) else {
            return Err(IncidentError::UnknownIntakeField { field: k.clone() });
        };
        let ok = match f.kind {
            FieldKind::Integer | FieldKind::Headcount => v.as_u64().is_some(),
            FieldKind::Behaviours => v
                .as_array()
                .is_some_and(|a| a.iter().all(|x| x.is_string())),
            FieldKind::Choice => v.as_str().is_some_and(|s| f.options.iter().any(|o| o == s)),
            _ => v.is_string(),
        };
        if !ok {
            let expected = match f.kind {
                FieldKind::Integer | FieldKind::Headcount => "a whole number",
                FieldKind::Behaviours => "a list of behaviour ids",
                FieldKind::Choice => "one of the field's options",
                _ => "text",
            };
            return Err(IncidentError::InvalidIntakeField {
                field: k.clone(),
                expected,
            });
        }
    }
    for f in plan.intake.iter().filter(|f| f.required) {
        use yingji_plan::model::FieldKind::*;
        // Headcount, venue and behaviours are first-class report fields.
        let given = match f.kind {
            Headcount => true,
            Venue => r.venue.is_some() || r.fields.contains_key(&f.id.value),
            Behaviours => true,
            _ => r
                .fields
                .get(&f.id.value)
                .is_some_and(|v| !(v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))),
        };
        if !given {
            return Err(IncidentError::MissingIntakeField {
                field: f.id.value.clone(),
                label: f.label.clone(),
            });
        }
    }
    if let Some(v) = &r.venue
        && !plan.venues.iter().any(|x| x.id.value == *v)
    {
        return Err(IncidentError::NotInPlan {
            what: "venue",
            value: v.clone(),
        });
    }
    for b in &r.behaviours {
        if !plan.behaviours.iter().any(|x| x.id.value == *b) {
            return Err(IncidentError::NotInPlan {
                what: "behaviour",
                value: b.clone(),
            });
        }
    }
    Ok(())
}

/// The posts responsible for a report owed upward: `by` resolved (a group → its lead, else its
/// first member; `command` → the level's commanders; `office` or none → the office head; a
/// member unit → its head; a post → that post).
pub fn report_posts(plan: &Plan, by: Option<&str>, commanders: &[String]) -> Vec<String> {
    let office_head = || {
        plan.office
            .as_ref()
            .and_then(|o| o.head.as_ref())
            .map(|h| h.value.clone())
            .into_iter()
            .collect::<Vec<_>>()
    };
    match by {
        None | Some(OFFICE_ID) => office_head(),
        Some(COMMAND_ID) => commanders.to_vec(),
        Some(p) if plan.post(p).is_some() => vec![p.to_string()],
        Some(g) if plan.group(g).is_some() => task_post(plan, g).into_iter().collect(),
        Some(u) => plan
            .member_units
            .iter()
            .find(|x| x.id.value == u)
            .and_then(|x| x.head.as_ref())
            .map(|h| h.value.clone())
            .into_iter()
            .collect(),
    }
}

/// The commander posts of a level (inherited through `extends`).
fn commander_posts(plan: &Plan, level: &str) -> Vec<String> {
    plan.level_index(level)
        .map(|i| {
            effective(plan, i)
                .commander
                .iter()
                .map(|p| p.value.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn same_report(r: &UpwardReport, d: &ReportDue) -> bool {
    r.kind == UpwardKind::of(d.kind) && r.to == d.to
}

/// The plan's entry a report owed upward comes from (its level's, inherited included).
fn plan_report<'p>(plan: &'p Plan, r: &UpwardReport) -> Option<&'p ReportDue> {
    let i = plan.level_index(&r.level)?;
    effective(plan, i)
        .reports
        .into_iter()
        .find(|d| same_report(r, d))
}

fn upward_report(
    ctx: &Ctx<'_>,
    d: &ReportDue,
    level: &str,
    seq: u32,
    due_at: Option<Timestamp>,
) -> UpwardReport {
    let commanders = commander_posts(ctx.plan, level);
    let by = d.by.as_ref().map(|b| b.value.clone());
    UpwardReport {
        id: (ctx.new_id)(),
        kind: UpwardKind::of(d.kind),
        seq,
        to: d.to.clone(),
        posts: report_posts(ctx.plan, by.as_deref(), &commanders),
        by,
        commanders,
        level: level.to_string(),
        within: d.within.value.to_string(),
        every: d.every.as_ref().map(|e| e.value.to_string()),
        deliver_to: d.deliver_to.as_ref().map(|x| x.value.clone()),
        due_at,
        fields: d.fields.clone(),
        created_at: ctx.now,
        submitted_at: None,
        submitted_by: None,
        values: BTreeMap::new(),
        text: None,
        late: false,
        closed: false,
    }
}

/// The reports a level's response owes upward from now, leaving out those already owed (the
/// same kind to the same recipient). First and follow-up reports are due within their limits
/// from now (as `plan simulate` computes them); a final report falls due when the response
/// ends.
fn owed_reports(ctx: &Ctx<'_>, inc: &Incident, level: &str) -> Vec<UpwardReport> {
    let Some(i) = ctx.plan.level_index(level) else {
        return vec![];
    };
    let start = ctx.now.to_zoned(ctx.plan.time.tz.clone());
    let mut out: Vec<UpwardReport> = Vec::new();
    for d in effective(ctx.plan, i).reports {
        if inc
            .upward_reports
            .iter()
            .chain(&out)
            .any(|r| same_report(r, d))
        {
            continue;
        }
        let due =
            (d.kind != ReportKind::Final).then(|| report_due_at(ctx.plan, d, &start).timestamp());
        out.push(upward_report(ctx, d, level, 1, due));
    }
    out
}

/// What ending the response does to the reports owed upward: each final report falls due
/// within its limit from the end; follow-ups not yet due are no longer needed.
fn reports_at_end(ctx: &Ctx<'_>, inc: &Incident) -> Vec<Event> {
    let end = ctx.now.to_zoned(ctx.plan.time.tz.clone());
    let mut out = Vec::new();
    for r in inc.upward_reports.iter().filter(|r| r.is_open()) {
        match r.kind {
            UpwardKind::Final if r.due_at.is_none() => {
                if let Some(d) = plan_report(ctx.plan, r) {
                    out.push(Event::UpwardReportDue {
                        id: r.id,
                        due_at: report_due_at(ctx.plan, d, &end).timestamp(),
                    });
                }
            }
            UpwardKind::FollowUp if r.due_at.is_none_or(|d| d > ctx.now) => {
                out.push(Event::UpwardReportClosed { id: r.id });
            }
            _ => {}
        }
    }
    out
}

/// A report owed upward submitted: every field of the plan given, in a status where it is
/// owed (a final report once the response has ended).
fn submit_report(
    inc: &Incident,
    ctx: &Ctx<'_>,
    id: Uuid,
    values: &BTreeMap<String, String>,
    text: &Option<String>,
) -> R {
    let cmd = Command::SubmitUpwardReport {
        id,
        values: values.clone(),
        text: text.clone(),
    };
    let r = inc
        .upward_reports
        .iter()
        .find(|r| r.id == id)
        .ok_or(IncidentError::UnknownUpwardReport { id })?;
    if r.submitted_at.is_some() {
        return Err(IncidentError::UpwardReportSubmitted);
    }
    if r.closed {
        return Err(IncidentError::UpwardReportClosed);
    }
    let s = inc.status;
    let owed = match r.kind {
        UpwardKind::Final => matches!(s, Status::Ended | Status::Reviewed) && r.due_at.is_some(),
        _ => matches!(s, Status::Active | Status::Ended | Status::Reviewed),
    };
    if !owed {
        return Err(illegal(&cmd, s));
    }
    if let Some(k) = values.keys().find(|k| !r.fields.contains(k)) {
        return Err(IncidentError::UnknownReportField { field: k.clone() });
    }
    let mut given = BTreeMap::new();
    for f in &r.fields {
        let v = values.get(f).map(|v| v.trim()).unwrap_or_default();
        if v.is_empty() {
            return Err(IncidentError::MissingReportField { field: f.clone() });
        }
        given.insert(f.clone(), v.to_string());
    }
    let text = text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if r.fields.is_empty() && text.is_none() {
        return Err(IncidentError::MissingReportField {
            field: "text".into(),
        });
    }
    let final_in = inc
        .upward_reports
        .iter()
        .any(|x| x.kind == UpwardKind::Final && x.submitted_at.is_some());
    // The cadence: the next follow-up is due `every` after this one, while the response runs
    // and no final report is in.
    let next = (r.kind == UpwardKind::FollowUp && s == Status::Active && !final_in)
        .then(|| plan_report(ctx.plan, r))
        .flatten()
        .and_then(|d| {
            let at = ctx.now.to_zoned(ctx.plan.time.tz.clone());
            let due = next_follow_up_at(ctx.plan, d, &at)?.timestamp();
            Some(upward_report(ctx, d, &r.level, r.seq + 1, Some(due)))
        });
    let mut out = vec![Event::UpwardReportSubmitted {
        id,
        values: given,
        text,
        next,
    }];
    // The final report stops the follow-ups.
    if r.kind == UpwardKind::Final {
        out.extend(
            inc.upward_reports
                .iter()
                .filter(|x| x.kind == UpwardKind::FollowUp && x.is_open())
                .map(|x| Event::UpwardReportClosed { id: x.id }),
        );
    }
    Ok(out)
}

/// Decides what a command does to an incident (None before its report).
pub fn decide(state: Option<&Incident>, cmd: &Command, ctx: &Ctx<'_>) -> R {
    let Some(inc) = state else {
        let Command::Report(r) = cmd else {
            return Err(IncidentError::Invalid(
                "the incident does not exist yet".into(),
            ));
        };
        if r.kind != IncidentKind::Escalation {
            validate_fields(ctx.plan, r)?;
        }
        if r.title.trim().is_empty() {
            return Err(IncidentError::Invalid("a report needs a title".into()));
        }
        let first_response = if r.kind == IncidentKind::Event {
            ctx.plan
                .first_response
                .iter()
                .map(|t| make_task(ctx, t, None, true, r.drill))
                .collect()
        } else {
            vec![]
        };
        let proposal = propose(ctx.plan, r.headcount, r.venue.as_deref(), &r.behaviours);
        return Ok(vec![
            Event::Reported {
                report: r.clone(),
                first_response,
            },
            Event::LevelProposed { proposal },
        ]);
    };
    let s = inc.status;
    let terminal = matches!(s, Status::Unfounded | Status::Closed);
    match cmd {
        Command::Report(_) => Err(illegal(cmd, s)),
        Command::Verify { note } => {
            if s != Status::Reported {
                return Err(illegal(cmd, s));
            }
            Ok(vec![Event::Verified { note: note.clone() }])
        }
        Command::MarkUnfounded { reason } => {
            if !matches!(s, Status::Reported | Status::Verified) {
                return Err(illegal(cmd, s));
            }
            if reason.trim().is_empty() {
                return Err(IncidentError::ReasonRequired);
            }
            let mut out = vec![Event::MarkedUnfounded {
                reason: reason.clone(),
            }];
            out.extend(close_open(inc, CloseReason::NotNeeded));
            Ok(out)
        }
        Command::Assess { level, reason } => {
            if !matches!(s, Status::Verified) {
                return Err(illegal(cmd, s));
            }
            let proposal = propose(
                ctx.plan,
                inc.headcount,
                inc.venue.as_deref(),
                &inc.behaviours,
            );
            let chosen = match level {
                Some(l) => level_ref(ctx.plan, l)
                    .ok_or_else(|| IncidentError::UnknownLevel { level: l.clone() })?,
                None => proposal
                    .level
                    .clone()
                    .ok_or_else(|| IncidentError::NoLevel {
                        reason: proposal
                            .reason
                            .clone()
                            .unwrap_or_else(|| "the plan proposes none; choose one".into()),
                    })?,
            };
            let overrides = proposal.level.as_ref().is_some_and(|p| p.id != chosen.id);
            if overrides && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(IncidentError::ReasonRequired);
            }
            Ok(vec![
                Event::LevelProposed {
                    proposal: proposal.clone(),
                },
                Event::Assessed {
                    level: chosen,
                    proposed: proposal.level.map(|l| l.id),
                    reason: reason.clone(),
                },
            ])
        }
        Command::IssueWarning { level } => {
            if !matches!(s, Status::Verified | Status::Active) {
                return Err(illegal(cmd, s));
            }
            let id = level
                .clone()
                .or_else(|| inc.level.as_ref().map(|l| l.id.clone()))
                .or_else(|| {
                    inc.proposal
                        .as_ref()
                        .and_then(|p| p.level.as_ref().map(|l| l.id.clone()))
                })
                .ok_or(IncidentError::NoLevel {
                    reason: "assess the incident or name a level".into(),
                })?;
            let level =
                level_ref(ctx.plan, &id).ok_or(IncidentError::UnknownLevel { level: id })?;
            Ok(vec![Event::WarningIssued { level }])
        }
        Command::LiftWarning { reason } => {
            if terminal {
                return Err(illegal(cmd, s));
            }
            if inc.warning.is_none() {
                return Err(IncidentError::NoWarning);
            }
            if reason.trim().is_empty() {
                return Err(IncidentError::ReasonRequired);
            }
            Ok(vec![Event::WarningLifted {
                reason: reason.clone(),
            }])
        }
        Command::Activate { level } => {
            if s != Status::Verified {
                return Err(illegal(cmd, s));
            }
            let id = level
                .clone()
                .or_else(|| inc.level.as_ref().map(|l| l.id.clone()))
                .ok_or(IncidentError::NoLevel {
                    reason: "assess the incident first, or name the level".into(),
                })?;
            let lr = level_ref(ctx.plan, &id)
                .ok_or(IncidentError::UnknownLevel { level: id.clone() })?;
            let i = ctx.plan.level_index(&id).expect("level exists");
            let parent_called = effective(ctx.plan, i).parent_called;
            let tasks = response_tasks(ctx, Some(inc), &id, inc.drill);
            let reports = owed_reports(ctx, inc, &id);
            let mut out = vec![Event::Activated {
                level: lr,
                tasks,
                parent_called,
            }];
            if !reports.is_empty() {
                out.push(Event::UpwardReportsOwed { reports });
            }
            Ok(out)
        }
        Command::Update(u) => {
            if terminal {
                return Err(illegal(cmd, s));
            }
            if let Some(b) = &u.behaviours {
                for x in b {
                    if !ctx.plan.behaviours.iter().any(|y| y.id.value == *x) {
                        return Err(IncidentError::NotInPlan {
                            what: "behaviour",
                            value: x.clone(),
                        });
                    }
                }
            }
            let mut events = vec![Event::Updated { update: u.clone() }];
            // A change of the facts that moves the plan's proposal proposes re-grading.
            let headcount = u.headcount.unwrap_or(inc.headcount);
            let behaviours = u
                .behaviours
                .clone()
                .unwrap_or_else(|| inc.behaviours.clone());
            if (u.headcount.is_some() || u.behaviours.is_some())
                && matches!(s, Status::Verified | Status::Active)
            {
                let p = propose(ctx.plan, headcount, inc.venue.as_deref(), &behaviours);
                if let Some(pl) = p.level {
                    let current = inc.level.as_ref().map(|l| l.id.as_str());
                    let pending = inc.regrade.as_ref().map(|r| r.to.id.as_str());
                    if current != Some(pl.id.as_str())
                        && pending != Some(pl.id.as_str())
                        && current.is_some()
                    {
                        events.push(Event::RegradeProposed {
                            proposal: RegradeProposal {
                                from: current.map(str::to_string),
                                to: pl,
                                rule: p.rule.unwrap_or_default(),
                                at: ctx.now,
                            },
                        });
                    }
                }
            }
            Ok(events)
        }
        Command::AcceptRegrade => {
            let Some(r) = &inc.regrade else {
                return Err(IncidentError::NoRegradePending);
            };
            if terminal {
                return Err(illegal(cmd, s));
            }
            let (tasks, reports) = if s == Status::Active {
                (
                    response_tasks(ctx, Some(inc), &r.to.id, inc.drill),
                    owed_reports(ctx, inc, &r.to.id),
                )
            } else {
                (vec![], vec![])
            };
            let mut out = vec![Event::RegradeAccepted {
                level: r.to.clone(),
                tasks,
            }];
            if !reports.is_empty() {
                out.push(Event::UpwardReportsOwed { reports });
            }
            Ok(out)
        }
        Command::DeclineRegrade { reason } => {
            if inc.regrade.is_none() {
                return Err(IncidentError::NoRegradePending);
            }
            if reason.trim().is_empty() {
                return Err(IncidentError::ReasonRequired);
            }
            Ok(vec![Event::RegradeDeclined {
                reason: reason.clone(),
            }])
        }
        Command::Escalate {
            parent_incident,
            parent_jurisdiction,
            note,
        } => {
            if !matches!(s, Status::Verified | Status::Active) {
                return Err(illegal(cmd, s));
            }
            if inc.parent_incident.is_some() {
                return Err(IncidentError::AlreadyEscalated);
            }
            Ok(vec![Event::EscalatedToParent {
                parent_incident: *parent_incident,
                parent_jurisdiction: *parent_jurisdiction,
                note: note.clone(),
            }])
        }
        Command::RequestCoerciveStep {
            id,
            step,
            approver,
            reason,
        } => {
            if s != Status::Active {
                return Err(illegal(cmd, s));
            }
            let cs = coercive_step(inc, ctx, step)?;
            if reason.trim().is_empty() {
                return Err(IncidentError::ReasonRequired);
            }
            let post = &cs.approver.value;
            if !(ctx.holders)(post)
                .iter()
                .any(|p| p.person_id == approver.person_id)
            {
                return Err(IncidentError::WrongApprover {
                    step: step.clone(),
                    post: ctx.plan.name_of(post).unwrap_or(post).to_string(),
                    person: approver.name.clone(),
                });
            }
            if approver.person_id == ctx.actor.person_id {
                return Err(IncidentError::SelfApproval);
            }
            let consultation_id = inc
                .consultations
                .iter()
                .rev()
                .find(|c| c.step == *step)
                .map(|c| c.id);
            if let Some(required) = &cs.consultation
                && consultation_id.is_none()
            {
                return Err(IncidentError::ConsultationRequired {
                    step: step.clone(),
                    consultation: required.value.clone(),
                });
            }
            Ok(vec![Event::CoerciveStepRequested {
                record: CoerciveStepRecord {
                    id: *id,
                    step: step.clone(),
                    name: cs.name.clone(),
                    approver_post: post.clone(),
                    approver: approver.clone(),
                    reason: reason.clone(),
                    at: ctx.now,
                    recorded_by: ctx.actor.clone(),
                    state: CoerciveState::Pending,
                    decided_by: None,
                    decided_at: None,
                    decision_reason: None,
                    consultation_id,
                },
            }])
        }
        Command::DecideCoerciveStep {
            id,
            approve,
            reason,
        } => {
            if s != Status::Active {
                return Err(illegal(cmd, s));
            }
            let r = inc
                .coercive_steps
                .iter()
                .find(|r| r.id == *id && !id.is_nil())
                .ok_or(IncidentError::UnknownCoerciveRequest { id: *id })?;
            // Only the person the request names; never the requester.
            if ctx.actor.person_id != r.approver.person_id
                || ctx.actor.person_id == r.recorded_by.person_id
            {
                return Err(IncidentError::NotTheApprover {
                    approver: r.approver.name.clone(),
                });
            }
            if r.state != CoerciveState::Pending {
                return Err(IncidentError::CoerciveAlreadyDecided {
                    state: r.state.as_str(),
                });
            }
            let reason = reason.clone().filter(|r| !r.trim().is_empty());
            if *approve {
                Ok(vec![Event::CoerciveStepApproved { id: *id, reason }])
            } else {
                let reason = reason.ok_or(IncidentError::ReasonRequired)?;
                Ok(vec![Event::CoerciveStepRefused { id: *id, reason }])
            }
        }
        Command::RecordConsultation {
            id,
            step,
            participants,
            conclusion,
        } => {
            if s != Status::Active {
                return Err(illegal(cmd, s));
            }
            coercive_step(inc, ctx, step)?;
            let participants: Vec<String> = participants
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            if participants.is_empty() {
                return Err(IncidentError::Invalid(
                    "a consultation names its participants".into(),
                ));
            }
            if conclusion.trim().is_empty() {
                return Err(IncidentError::Invalid(
                    "a consultation records its conclusion".into(),
                ));
            }
            Ok(vec![Event::ConsultationRecorded {
                record: ConsultationRecord {
                    id: *id,
                    step: step.clone(),
                    participants,
                    conclusion: conclusion.clone(),
                    at: ctx.now,
                    recorded_by: ctx.actor.clone(),
                },
            }])
        }
        Command::EndResponse { reason, open_tasks } => {
            // A linked record the parent never ran a response for is ended by the parent's
            // own decision: no aftermath, no review.
            let linked = inc.kind == IncidentKind::Escalation
                && inc.activated_at.is_none()
                && matches!(s, Status::Reported | Status::Verified);
            if s != Status::Active && !linked {
                return Err(illegal(cmd, s));
            }
            if reason.trim().is_empty() {
                return Err(IncidentError::ReasonRequired);
            }
            let mut out = close_open(inc, *open_tasks);
            if linked {
                out.push(Event::ResponseEnded {
                    reason: reason.clone(),
                    aftermath: vec![],
                    review_due_at: None,
                });
                return Ok(out);
            }
            out.push(Event::ResponseEnded {
                reason: reason.clone(),
                aftermath: aftermath_tasks(ctx.plan, ctx.now, ctx.holders, ctx.new_id, inc.drill),
                review_due_at: review_due(ctx.plan, ctx.now),
            });
            out.extend(reports_at_end(ctx, inc));
            Ok(out)
        }
        Command::AddObligation {
            id,
            kind,
            text,
            owner,
            due_at,
        } => {
            if terminal || s == Status::Reported {
                return Err(illegal(cmd, s));
            }
            if text.trim().is_empty() || owner.trim().is_empty() {
                return Err(IncidentError::Invalid(
                    "a commitment or reply needs its text and an owner".into(),
                ));
            }
            let due_at = match due_at {
                Some(d) => *d,
                // The plan's default time for what is owed to petitioners.
                None => {
                    let w = ctx
                        .plan
                        .aftermath
                        .reply_within
                        .as_ref()
                        .ok_or(IncidentError::DeadlineRequired)?;
                    let start = ctx.now.to_zoned(ctx.plan.time.tz.clone());
                    w.value.deadline(&start, ctx.plan.time.day).0.timestamp()
                }
            };
            if due_at <= ctx.now {
                return Err(IncidentError::DeadlineInPast {
                    due_at,
                    now: ctx.now,
                });
            }
            Ok(vec![Event::ObligationAdded {
                obligation: Obligation {
                    id: *id,
                    kind: *kind,
                    text: text.clone(),
                    owner: owner.clone(),
                    due_at,
                    done: false,
                    done_at: None,
                    channel: None,
                    outcome: None,
                    overdue: false,
                    drill: inc.drill,
                    created_at: ctx.now,
                },
            }])
        }
        Command::FulfilObligation {
            id,
            channel,
            outcome,
        } => {
            let Some(o) = inc.obligations.iter().find(|o| o.id == *id) else {
                return Err(IncidentError::UnknownObligation { id: *id });
            };
            if o.done {
                return Err(IncidentError::AlreadyFulfilled { id: *id });
            }
            if o.kind == ObligationKind::Reply
                && channel.as_deref().is_none_or(|c| c.trim().is_empty())
            {
                return Err(IncidentError::ChannelRequired);
            }
            Ok(vec![Event::ObligationFulfilled {
                id: *id,
                channel: channel.clone(),
                outcome: outcome.clone(),
            }])
        }
        Command::Review {
            summary,
            lessons,
            corrective_actions,
            measured,
        } => {
            // The review is due once the response has ended; the aftermath's tasks may still
            // be open (they are tracked to their own deadlines).
            if s != Status::Ended {
                return Err(illegal(cmd, s));
            }
            let mut actions = Vec::new();
            for c in corrective_actions {
                if c.title.trim().is_empty() || c.owner.trim().is_empty() {
                    return Err(IncidentError::Invalid(
                        "a corrective action needs its title and an owner".into(),
                    ));
                }
                if let Some(p) = &c.owner_post
                    && ctx.plan.post(p).is_none()
                {
                    return Err(IncidentError::NotInPlan {
                        what: "post",
                        value: p.clone(),
                    });
                }
                if let Some(d) = c.due_at
                    && d <= ctx.now
                {
                    return Err(IncidentError::DeadlineInPast {
                        due_at: d,
                        now: ctx.now,
                    });
                }
                actions.push(CorrectiveAction {
                    id: if c.id.is_nil() { (ctx.new_id)() } else { c.id },
                    done: false,
                    done_at: None,
                    overdue: false,
                    plan_revision: None,
                    ..c.clone()
                });
            }
            Ok(vec![Event::Reviewed {
                review: Review {
                    measured: measured.clone().unwrap_or_else(|| measure(inc)),
                    summary: summary.clone(),
                    lessons: lessons.clone(),
                    corrective_actions: actions,
                    at: ctx.now,
                },
            }])
        }
        Command::CorrectiveActionDone { id } => {
            let c = corrective(inc, *id)?;
            if c.done {
                return Err(IncidentError::CorrectiveActionAlreadyDone { id: *id });
            }
            Ok(vec![Event::CorrectiveActionDone { id: *id }])
        }
        Command::LinkCorrectiveAction { id, revision } => {
            let c = corrective(inc, *id)?;
            if c.plan_revision.as_ref() == Some(revision) {
                return Ok(vec![]);
            }
            if revision.plan_id.trim().is_empty() || revision.version < 1 {
                return Err(IncidentError::Invalid(
                    "a plan revision is a plan id and a version".into(),
                ));
            }
            Ok(vec![Event::CorrectiveActionLinked {
                id: *id,
                revision: revision.clone(),
            }])
        }
        Command::IssueDocument { document } => {
            // Any record may be written up, in any state (a final report follows the close).
            Ok(vec![Event::DocumentIssued {
                document: document.clone(),
            }])
        }
        Command::Close => {
            match s {
                Status::Reviewed => {}
                // A report that never needed a response can be closed after verification.
                Status::Verified if inc.activated_at.is_none() => {}
                // A linked record ended without a response of its own needs no review.
                Status::Ended
                    if inc.kind == IncidentKind::Escalation && inc.activated_at.is_none() => {}
                _ => return Err(illegal(cmd, s)),
            }
            let open = inc.tasks.iter().filter(|t| !t.state.is_finished()).count();
            if open > 0 {
                return Err(IncidentError::OpenTasks { count: open });
            }
            // Commitments and replies owed outlive the response: they are tracked to their
            // deadlines, so the record stays open until each is fulfilled.
            let owed = inc.obligations.iter().filter(|o| !o.done).count();
            if owed > 0 {
                return Err(IncidentError::OpenObligations { count: owed });
            }
            Ok(vec![Event::Closed])
        }
        Command::Task { id, action, reason } => {
            let Some(t) = inc.tasks.iter().find(|t| t.id == *id) else {
                return Err(IncidentError::UnknownTask { id: *id });
            };
            if terminal {
                return Err(illegal(cmd, s));
            }
            let ts = t.state;
            let bad = |a: &'static str| IncidentError::IllegalTaskTransition {
                action: a,
                state: ts.as_str(),
            };
            match action {
                TaskAction::Acknowledge => {
                    if ts != TaskState::Open {
                        return Err(bad("acknowledge"));
                    }
                    // Signed by someone else than the assignees: recorded as for them.
                    let own = t.assignees.is_empty()
                        || t.assignees
                            .iter()
                            .any(|a| a.person_id == ctx.actor.person_id);
                    Ok(vec![Event::TaskAcknowledged {
                        id: *id,
                        on_behalf_of: if own { vec![] } else { t.assignees.clone() },
                    }])
                }
                TaskAction::Start => {
                    if !matches!(ts, TaskState::Open | TaskState::Acknowledged) {
                        return Err(bad("start"));
                    }
                    Ok(vec![Event::TaskStarted { id: *id }])
                }
                TaskAction::Done => {
                    if ts.is_finished() {
                        return Err(bad("finish"));
                    }
                    Ok(vec![Event::TaskDone { id: *id }])
                }
                TaskAction::Cancel => {
                    if ts.is_finished() {
                        return Err(bad("cancel"));
                    }
                    if reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                        return Err(IncidentError::ReasonRequired);
                    }
                    Ok(vec![Event::TaskCancelled {
                        id: *id,
                        reason: reason.clone(),
                    }])
                }
            }
        }
        Command::SubmitUpwardReport { id, values, text } => {
            submit_report(inc, ctx, *id, values, text)
        }
        Command::Tick => Ok(tick(inc, ctx.now)),
        Command::FollowSource { source } => {
            if inc.kind != IncidentKind::Escalation {
                return Err(illegal(cmd, s));
            }
            // A closed record no longer follows; nothing changed: nothing to record.
            if terminal || inc.source.as_ref().is_some_and(|x| x.same(source)) {
                return Ok(vec![]);
            }
            Ok(vec![Event::SourceFollowed {
                source: source.clone(),
            }])
        }
    }
}

/// A corrective action of the incident's review.
fn corrective(inc: &Incident, id: Uuid) -> Result<&CorrectiveAction, IncidentError> {
    inc.review
        .as_ref()
        .and_then(|r| r.corrective_actions.iter().find(|c| c.id == id))
        .ok_or(IncidentError::UnknownCorrectiveAction { id })
}

/// The corrective actions still to be done, with their deadlines.
fn open_corrective(inc: &Incident) -> impl Iterator<Item = (&CorrectiveAction, Timestamp)> {
    inc.review
        .iter()
        .flat_map(|r| r.corrective_actions.iter())
        .filter(|c| !c.done && !c.overdue)
        .filter_map(|c| c.due_at.map(|d| (c, d)))
}

/// What has fallen due at `now`: overdue tasks, commitments and replies, the review, and
/// corrective actions (these outlive the record's closing), each once.
pub fn tick(inc: &Incident, now: Timestamp) -> Vec<Event> {
    let mut out: Vec<Event> = open_corrective(inc)
        .filter(|(_, d)| *d < now)
        .map(|(c, d)| Event::CorrectiveActionOverdue {
            id: c.id,
            due_at: d,
        })
        .collect();
    if matches!(inc.status, Status::Unfounded | Status::Closed) {
        return out;
    }
    if inc.status == Status::Ended
        && !inc.review_overdue
        && let Some(d) = inc.review_due_at
        && d < now
    {
        out.push(Event::ReviewOverdue { due_at: d });
    }
    for t in &inc.tasks {
        if !t.overdue && !t.state.is_finished() && t.due_at < now {
            out.push(Event::TaskOverdue {
                id: t.id,
                due_at: t.due_at,
            });
        }
    }
    for o in &inc.obligations {
        if !o.overdue && !o.done && o.due_at < now {
            out.push(Event::ObligationOverdue {
                id: o.id,
                due_at: o.due_at,
            });
        }
    }
    for (r, d) in reports_pending(inc) {
        if d < now {
            out.push(Event::UpwardReportLate {
                id: r.id,
                due_at: d,
            });
        }
    }
    out
}

/// The reports owed upward that will be late at their deadline (open, due, not yet late).
fn reports_pending(inc: &Incident) -> impl Iterator<Item = (&UpwardReport, Timestamp)> {
    inc.upward_reports
        .iter()
        .filter(|r| r.is_open() && !r.late)
        .filter_map(|r| r.due_at.map(|d| (r, d)))
}

/// The earliest moment something of this incident falls due (for the scheduler's index).
pub fn next_due(inc: &Incident) -> Option<Timestamp> {
    let corrective = open_corrective(inc).map(|(_, d)| d).min();
    if matches!(inc.status, Status::Unfounded | Status::Closed) {
        return corrective;
    }
    let review = inc
        .review_due_at
        .filter(|_| inc.status == Status::Ended && !inc.review_overdue);
    let tasks = inc
        .tasks
        .iter()
        .filter(|t| !t.overdue && !t.state.is_finished())
        .map(|t| t.due_at);
    let obl = inc
        .obligations
        .iter()
        .filter(|o| !o.overdue && !o.done)
        .map(|o| o.due_at);
    let reports = reports_pending(inc).map(|(_, d)| d);
    tasks
        .chain(obl)
        .chain(review)
        .chain(corrective)
        .chain(reports)
        .min()
}

fn secs(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<i64> {
    Some(b?.duration_since(a?).as_secs())
}

/// The measured times for the after-action review.
pub fn measure(inc: &Incident) -> Measured {
    let first_ack = inc
        .tasks
        .iter()
        .filter(|t| !t.first_response)
        .filter_map(|t| t.acknowledged_at)
        .min();
    Measured {
        report_to_verify_s: secs(Some(inc.reported_at), inc.verified_at),
        report_to_assess_s: None,
        assess_to_activate_s: None,
        verify_to_activate_s: secs(inc.verified_at, inc.activated_at),
        report_to_activate_s: secs(Some(inc.reported_at), inc.activated_at),
        activate_to_first_ack_s: secs(inc.activated_at, first_ack),
        activate_to_end_s: secs(inc.activated_at, inc.ended_at),
        report_to_end_s: secs(Some(inc.reported_at), inc.ended_at),
        tasks: task_timings(inc),
    }
}

/// The measured times from the incident's event log (`log`: each event with its time) and the
/// times its calls were acknowledged: report → verify, report → grade (the level decided),
/// grade → activation, activation → the first acknowledgement (of a call, or of a task of the
/// response), activation → end.
pub fn measure_log(
    inc: &Incident,
    log: &[(Timestamp, Event)],
    call_acks: &[Timestamp],
) -> Measured {
    let first = |f: &dyn Fn(&Event) -> bool| log.iter().find(|(_, e)| f(e)).map(|(at, _)| *at);
    let reported = first(&|e| matches!(e, Event::Reported { .. })).or(Some(inc.reported_at));
    let verified = first(&|e| matches!(e, Event::Verified { .. }));
    let assessed = first(&|e| matches!(e, Event::Assessed { .. }));
    let activated = first(&|e| matches!(e, Event::Activated { .. }));
    let ended = first(&|e| matches!(e, Event::ResponseEnded { .. }));
    let response_task = |id: &Uuid| {
        inc.tasks
            .iter()
            .any(|t| t.id == *id && !t.first_response && !t.aftermath)
    };
    let first_ack = activated.and_then(|act| {
        log.iter()
            .filter(|(at, _)| *at >= act)
            .filter(|(_, e)| match e {
                Event::TaskAcknowledged { id, .. }
                | Event::TaskStarted { id }
                | Event::TaskDone { id } => response_task(id),
                _ => false,
            })
            .map(|(at, _)| *at)
            .chain(call_acks.iter().copied().filter(|at| *at >= act))
            .min()
    });
    Measured {
        report_to_verify_s: secs(reported, verified),
        report_to_assess_s: secs(reported, assessed),
        assess_to_activate_s: secs(assessed, activated),
        verify_to_activate_s: secs(verified, activated),
        report_to_activate_s: secs(reported, activated),
        activate_to_first_ack_s: secs(activated, first_ack),
        activate_to_end_s: secs(activated, ended),
        report_to_end_s: secs(reported, ended),
        tasks: task_timings(inc),
    }
}

fn task_timings(inc: &Incident) -> Vec<TaskTiming> {
    inc.tasks
        .iter()
        .map(|t| TaskTiming {
            task_id: t.id,
            title: t.title.clone(),
            group: t.group.clone(),
            to_ack_s: secs(Some(t.created_at), t.acknowledged_at),
            to_done_s: secs(Some(t.created_at), t.done_at),
            overdue: t.overdue,
        })
        .collect()
}

/// Folds one event into the state. `at` and `actor` come from the event's envelope.
pub fn apply(
    state: Option<Incident>,
    e: &Event,
    at: Timestamp,
    actor: &ActorRef,
) -> Option<Incident> {
    if let Event::Reported {
        report,
        first_response,
    } = e
    {
        return Some(Incident {
            id: report.id,
            jurisdiction_id: report.jurisdiction_id,
            plan_id: report.plan_id.clone(),
            plan_version: report.plan_version,
            kind: report.kind,
            drill: report.drill,
            status: Status::Reported,
            title: report.title.clone(),
            fields: report.fields.clone(),
            headcount: report.headcount,
            venue: report.venue.clone(),
            behaviours: report.behaviours.clone(),
            location: report.location.clone(),
            reported_at: at,
            reported_by: actor.clone(),
            verified_at: None,
            proposal: None,
            level: None,
            warning: None,
            warning_issued_at: None,
            activated_at: None,
            ended_at: None,
            closed_at: None,
            tasks: first_response.clone(),
            obligations: vec![],
            grievances: vec![],
            care: vec![],
            conversations: vec![],
            attachments: vec![],
            headcount_history: vec![(at, report.headcount)],
            coercive_steps: vec![],
            consultations: vec![],
            regrade: None,
            parent_incident: None,
            source_incident: report.source_incident,
            source: None,
            review: None,
            review_due_at: None,
            review_overdue: false,
            upward_reports: vec![],
            documents: vec![],
        });
    }
    let mut inc = state?;
    let task = |inc: &mut Incident, id: &Uuid| inc.tasks.iter_mut().position(|t| t.id == *id);
    match e {
        Event::Reported { .. } => {}
        Event::Verified { .. } => {
            inc.status = Status::Verified;
            inc.verified_at = Some(at);
        }
        Event::MarkedUnfounded { .. } => inc.status = Status::Unfounded,
        Event::LevelProposed { proposal } => inc.proposal = Some(proposal.clone()),
        Event::Assessed { level, .. } => inc.level = Some(level.clone()),
        Event::WarningIssued { level } => {
            inc.warning = Some(level.clone());
            inc.warning_issued_at = Some(at);
        }
        Event::WarningLifted { .. } => inc.warning = None,
        Event::Activated { level, tasks, .. } => {
            inc.status = Status::Active;
            inc.level = Some(level.clone());
            inc.activated_at = Some(at);
            inc.tasks.extend(tasks.iter().cloned());
        }
        Event::Updated { update } => {
            if let Some(h) = update.headcount {
                inc.headcount = h;
                inc.headcount_history.push((at, h));
            }
            if let Some(b) = &update.behaviours {
                inc.behaviours = b.clone();
            }
            if let Some(l) = &update.location {
                inc.location = Some(l.clone());
            }
            let note = |text: &String| Note {
                at,
                by: actor.clone(),
                text: text.clone(),
            };
            inc.grievances.extend(update.grievances.iter().map(note));
            inc.care.extend(update.care.iter().map(note));
            inc.conversations
                .extend(update.conversations.iter().map(note));
            inc.attachments.extend(update.attachments.iter().cloned());
        }
        Event::RegradeProposed { proposal } => inc.regrade = Some(proposal.clone()),
        Event::RegradeAccepted { level, tasks } => {
            inc.level = Some(level.clone());
            inc.regrade = None;
            inc.tasks.extend(tasks.iter().cloned());
        }
        Event::RegradeDeclined { .. } => inc.regrade = None,
        Event::EscalatedToParent {
            parent_incident, ..
        } => inc.parent_incident = Some(*parent_incident),
        Event::SourceFollowed { source } => {
            if inc.headcount != source.headcount {
                inc.headcount_history.push((source.at, source.headcount));
            }
            inc.headcount = source.headcount;
            inc.behaviours = source.behaviours.clone();
            if source.location.is_some() {
                inc.location = source.location.clone();
            }
            // Until the parent runs a response of its own, the record shows the source's level.
            if inc.activated_at.is_none() {
                inc.level = source.level.clone();
            }
            inc.source = Some(source.clone());
        }
        Event::CoerciveStepRecorded { record } | Event::CoerciveStepRequested { record } => {
            inc.coercive_steps.push(record.clone())
        }
        Event::CoerciveStepApproved { id, reason } => {
            if let Some(r) = inc.coercive_steps.iter_mut().find(|r| r.id == *id) {
                r.state = CoerciveState::Approved;
                r.decided_by = Some(actor.clone());
                r.decided_at = Some(at);
                r.decision_reason = reason.clone();
            }
        }
        Event::CoerciveStepRefused { id, reason } => {
            if let Some(r) = inc.coercive_steps.iter_mut().find(|r| r.id == *id) {
                r.state = CoerciveState::Refused;
                r.decided_by = Some(actor.clone());
                r.decided_at = Some(at);
                r.decision_reason = Some(reason.clone());
            }
        }
        Event::ConsultationRecorded { record } => inc.consultations.push(record.clone()),
        Event::DocumentIssued { document } => inc.documents.push(document.clone()),
        Event::ResponseEnded {
            aftermath,
            review_due_at,
            ..
        } => {
            inc.status = Status::Ended;
            inc.ended_at = Some(at);
            inc.warning = None;
            inc.regrade = None;
            inc.tasks.extend(aftermath.iter().cloned());
            inc.review_due_at = *review_due_at;
        }
        Event::ObligationAdded { obligation } => inc.obligations.push(obligation.clone()),
        Event::ObligationFulfilled {
            id,
            channel,
            outcome,
        } => {
            if let Some(o) = inc.obligations.iter_mut().find(|o| o.id == *id) {
                o.done = true;
                o.done_at = Some(at);
                o.channel = channel.clone();
                o.outcome = outcome.clone();
            }
        }
        Event::Reviewed { review } => {
            inc.status = Status::Reviewed;
            inc.review = Some(review.clone());
        }
        Event::Closed => {
            inc.status = Status::Closed;
            inc.closed_at = Some(at);
        }
        Event::TaskAcknowledged { id, on_behalf_of } => {
            if let Some(i) = task(&mut inc, id) {
                inc.tasks[i].state = TaskState::Acknowledged;
                inc.tasks[i].acknowledged_at = Some(at);
                inc.tasks[i].acknowledged_by = Some(actor.clone());
                inc.tasks[i].acknowledged_for = on_behalf_of.clone();
            }
        }
        Event::TaskStarted { id } => {
            if let Some(i) = task(&mut inc, id) {
                let t = &mut inc.tasks[i];
                if t.acknowledged_at.is_none() {
                    t.acknowledged_at = Some(at);
                    t.acknowledged_by = Some(actor.clone());
                }
                t.state = TaskState::Started;
                t.started_at = Some(at);
            }
        }
        Event::TaskDone { id } => {
            if let Some(i) = task(&mut inc, id) {
                let t = &mut inc.tasks[i];
                if t.acknowledged_at.is_none() {
                    t.acknowledged_at = Some(at);
                    t.acknowledged_by = Some(actor.clone());
                }
                t.state = TaskState::Done;
                t.done_at = Some(at);
            }
        }
        Event::TaskCancelled { id, .. } => {
            if let Some(i) = task(&mut inc, id) {
                inc.tasks[i].state = TaskState::Cancelled;
            }
        }
        Event::TaskOverdue { id, .. } => {
            if let Some(i) = task(&mut inc, id) {
                inc.tasks[i].overdue = true;
            }
        }
        Event::ObligationOverdue { id, .. } => {
            if let Some(o) = inc.obligations.iter_mut().find(|o| o.id == *id) {
                o.overdue = true;
            }
        }
        Event::TaskClosed { id, reason } => {
            if let Some(i) = task(&mut inc, id) {
                inc.tasks[i].state = TaskState::Closed;
                inc.tasks[i].closed_reason = Some(*reason);
            }
        }
        Event::ReviewOverdue { .. } => inc.review_overdue = true,
        Event::CorrectiveActionDone { id } => {
            if let Some(c) = corrective_mut(&mut inc, id) {
                c.done = true;
                c.done_at = Some(at);
            }
        }
        Event::CorrectiveActionLinked { id, revision } => {
            if let Some(c) = corrective_mut(&mut inc, id) {
                c.plan_revision = Some(revision.clone());
            }
        }
        Event::CorrectiveActionOverdue { id, .. } => {
            if let Some(c) = corrective_mut(&mut inc, id) {
                c.overdue = true;
            }
        }
        Event::UpwardReportsOwed { reports } => inc.upward_reports.extend(reports.iter().cloned()),
        Event::UpwardReportSubmitted {
            id,
            values,
            text,
            next,
        } => {
            if let Some(r) = inc.upward_reports.iter_mut().find(|r| r.id == *id) {
                r.submitted_at = Some(at);
                r.submitted_by = Some(actor.clone());
                r.values = values.clone();
                r.text = text.clone();
            }
            inc.upward_reports.extend(next.iter().cloned());
        }
        Event::UpwardReportLate { id, .. } => {
            if let Some(r) = inc.upward_reports.iter_mut().find(|r| r.id == *id) {
                r.late = true;
            }
        }
        Event::UpwardReportDue { id, due_at } => {
            if let Some(r) = inc.upward_reports.iter_mut().find(|r| r.id == *id) {
                r.due_at = Some(*due_at);
            }
        }
        Event::UpwardReportClosed { id } => {
            if let Some(r) = inc.upward_reports.iter_mut().find(|r| r.id == *id) {
                r.closed = true;
            }
        }
    }
    Some(inc)
}

fn corrective_mut<'a>(inc: &'a mut Incident, id: &Uuid) -> Option<&'a mut CorrectiveAction> {
    inc.review
        .as_mut()
        .and_then(|r| r.corrective_actions.iter_mut().find(|c| c.id == *id))
}
