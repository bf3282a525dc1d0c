//! Petition cases (信访事项) as a pure state machine: `decide` a command against the case →
//! events → `apply`; `tick` marks what has fallen due (overdue, the supervision steps).
//!
//! Life of a case: registered (统一编号, the clock starts at acceptance) → classified → proposed
//! (拟办意见) → approved along the configured chain → routed (自办 / 交办 / 转办 / 转交) → handling →
//! replied (书面答复, with date and channel) → closed after the follow-up visit (回访). One extension
//! of at most `extension.max_days`, approved by the post the rules name. Nothing here registers
//! or tracks petitioners: a case keeps only what a reply needs (name, contact, address).

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{Calendar, DayUnit, PeriodEnd, PeriodRules};
use crate::{ActorRef, PersonRef};

// ---------------------------------------------------------------------------------------------
// Configuration (per jurisdiction; see docs/cases.md and config/cases.toml)

/// A clock length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ClockRule {
    pub days: u32,
    #[serde(default)]
    pub unit: DayUnit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtensionRule {
    /// The longest extension (004-C: 30 days).
    pub max_days: u32,
    pub unit: DayUnit,
    /// The post that approves extensions of the jurisdiction's own cases (分管领导).
    /// Extensions of cases referred by another body are approved by that body.
    pub approver_post: String,
}

impl Default for ExtensionRule {
    fn default() -> Self {
        ExtensionRule {
            max_days: 30,
            unit: DayUnit::Calendar,
            approver_post: "petition-deputy".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum SupervisionKind {
    /// 催办通知.
    Chase,
    /// The handling unit is asked to report (要求说明情况).
    ReportDemanded,
    /// 联合调查.
    JointInvestigation,
}

impl SupervisionKind {
    pub fn label(self) -> &'static str {
        match self {
            SupervisionKind::Chase => "催办",
            SupervisionKind::ReportDemanded => "要求书面报告",
            SupervisionKind::JointInvestigation => "联合调查",
        }
    }
}

/// A supervision step `offset_days` after the due time (negative: before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionRule {
    pub step: SupervisionKind,
    pub offset_days: i32,
}

/// The case rules of one jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseSettings {
    /// Case-number pattern: `{code}` (jurisdiction code), `{year}`, `{seq}` or `{seq:N}`
    /// (zero-padded to N digits), `{channel}` (first letter: L letter, P phone, O online, F fax,
    /// V visit).
    pub case_number: String,
    pub time_zone: String,
    /// The default clock (004-C: 60 days from acceptance).
    pub clock: ClockRule,
    /// Clocks by case type (e.g. `collective`, `referred`), overriding `clock`.
    pub case_types: BTreeMap<String, ClockRule>,
    pub period: PeriodRules,
    pub extension: ExtensionRule,
    pub topics: Vec<String>,
    /// Posts that approve the 拟办意见, in order (e.g. 分管领导 → 秘书长).
    pub approval_chain: Vec<String>,
    pub supervision: Vec<SupervisionRule>,
    /// How many days before registration a petition may have been received without a reason
    /// for the late registration (an older `received_at` needs `backdate_reason`).
    pub max_backdate_days: u32,
}

impl Default for CaseSettings {
    fn default() -> Self {
        CaseSettings {
            case_number: "{code}-{year}-{seq:6}".into(),
            max_backdate_days: 30,
            time_zone: "Asia/Shanghai".into(),
            clock: ClockRule {
                days: 60,
                unit: DayUnit::Calendar,
            },
            case_types: BTreeMap::new(),
            period: PeriodRules::default(),
            extension: ExtensionRule::default(),
            topics: vec![
                "城乡建设".into(),
                "劳动社保".into(),
                "农村农业".into(),
                "国土资源".into(),
                "涉法涉诉".into(),
                "其他".into(),
            ],
            approval_chain: vec!["petition-deputy".into(), "secretary-general".into()],
            supervision: vec![
                SupervisionRule {
                    step: SupervisionKind::Chase,
                    offset_days: -5,
                },
                SupervisionRule {
                    step: SupervisionKind::ReportDemanded,
                    offset_days: 0,
                },
                SupervisionRule {
                    step: SupervisionKind::JointInvestigation,
                    offset_days: 10,
                },
            ],
        }
    }
}

/// The longest clock or extension a configuration may set (ten years).
pub const MAX_DAYS: u32 = 3650;
/// The widest zero-padded sequence number `{seq:N}`.
pub const MAX_SEQ_WIDTH: usize = 20;

impl CaseSettings {
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    pub fn clock_for(&self, case_type: &str) -> ClockRule {
        self.case_types
            .get(case_type)
            .copied()
            .unwrap_or(self.clock)
    }

    /// What is wrong with these settings, if anything.
    pub fn validate(&self) -> Result<(), String> {
        if TimeZone::get(&self.time_zone).is_err() {
            return Err(format!("unknown time zone `{}`", self.time_zone));
        }
        if !self.case_number.contains("{seq") {
            return Err("case_number must contain {seq} or {seq:N}".into());
        }
        if self.clock.days == 0 || self.case_types.values().any(|c| c.days == 0) {
            return Err("a clock must be at least one day".into());
        }
        // Long enough for any statute, short enough that every due date stays a real date.
        if self.clock.days > MAX_DAYS
            || self.case_types.values().any(|c| c.days > MAX_DAYS)
            || self.extension.max_days > MAX_DAYS
        {
            return Err(format!("a clock or extension is at most {MAX_DAYS} days"));
        }
        let mut rest = self.case_number.as_str();
        while let Some(i) = rest.find("{seq:") {
            rest = &rest[i + 5..];
            let w = rest.split('}').next().unwrap_or("");
            if w.parse::<usize>().map_or(true, |w| w > MAX_SEQ_WIDTH) {
                return Err(format!(
                    "{{seq:N}} needs a width N from 0 to {MAX_SEQ_WIDTH}"
                ));
            }
        }
        let mut steps: Vec<_> = self.supervision.iter().map(|s| s.step).collect();
        steps.sort();
        steps.dedup();
        if steps.len() != self.supervision.len() {
            return Err("a supervision step is listed twice".into());
        }
        Ok(())
    }

    /// The case number for sequence `seq`.
    pub fn number(&self, code: &str, year: i16, seq: i64, channel: Channel) -> String {
        let mut out = String::new();
        let mut rest = self.case_number.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let key = &rest[open + 1..open + close];
            match key {
                "code" => out.push_str(code),
                "year" => out.push_str(&year.to_string()),
                "seq" => out.push_str(&seq.to_string()),
                "channel" => out.push(channel.letter()),
                k if k.starts_with("seq:") => {
                    let w: usize = k[4..].parse().unwrap_or(0).min(MAX_SEQ_WIDTH);
                    out.push_str(&format!("{seq:0w$}"));
                }
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The case configuration file: `[defaults]` and `[jurisdictions."<code or name>"]` overrides
/// (any key of the defaults; keys not given are inherited from the defaults).
#[derive(Debug, Clone, Default)]
pub struct CaseConfig {
    pub defaults: CaseSettings,
    pub by_jurisdiction: BTreeMap<String, CaseSettings>,
}

impl CaseConfig {
    pub fn parse(src: &str) -> Result<CaseConfig, String> {
        let table: toml::Table = toml::from_str(src).map_err(|e| e.message().to_string())?;
        let mut defaults_t = toml::Table::new();
        let mut juris = toml::Table::new();
        for (k, v) in table {
            match (k.as_str(), v) {
                ("defaults", toml::Value::Table(t)) => defaults_t = t,
                ("jurisdictions", toml::Value::Table(t)) => juris = t,
                (k, _) => {
                    return Err(format!(
                        "unknown key `{k}` (use [defaults] and [jurisdictions.\"…\"])"
                    ));
                }
            }
        }
        let defaults: CaseSettings = toml::Value::Table(defaults_t.clone())
            .try_into()
            .map_err(|e: toml::de::Error| format!("[defaults]: {}", e.message()))?;
        defaults
            .validate()
            .map_err(|e| format!("[defaults]: {e}"))?;
        let mut by_jurisdiction = BTreeMap::new();
        for (name, v) in juris {
            let toml::Value::Table(over) = v else {
                return Err(format!("jurisdictions.{name} must be a table"));
            };
            let mut merged = defaults_t.clone();
            merged.extend(over);
            let s: CaseSettings =
                toml::Value::Table(merged)
                    .try_into()
                    .map_err(|e: toml::de::Error| {
                        format!("[jurisdictions.\"{name}\"]: {}", e.message())
                    })?;
            s.validate()
                .map_err(|e| format!("[jurisdictions.\"{name}\"]: {e}"))?;
            by_jurisdiction.insert(name, s);
        }
        Ok(CaseConfig {
            defaults,
            by_jurisdiction,
        })
    }

    /// The settings for a jurisdiction, given the keys (code, name) of it and its ancestors,
    /// nearest first.
    pub fn for_keys<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> &CaseSettings {
        for k in keys {
            if let Some(s) = self.by_jurisdiction.get(k) {
                return s;
            }
        }
        &self.defaults
    }
}

// ---------------------------------------------------------------------------------------------
// The case

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Channel {
    Letter,
    Phone,
    Online,
    Fax,
    Visit,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Letter => "letter",
            Channel::Phone => "phone",
            Channel::Online => "online",
            Channel::Fax => "fax",
            Channel::Visit => "visit",
        }
    }
    fn letter(self) -> char {
        match self {
            Channel::Letter => 'L',
            Channel::Phone => 'P',
            Channel::Online => 'O',
            Channel::Fax => 'F',
            Channel::Visit => 'V',
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Form {
    Single,
    Collective,
}

/// 行政 / 司法 / 其他.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Category {
    Administrative,
    Judicial,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Administrative => "administrative",
            Category::Judicial => "judicial",
            Category::Other => "other",
        }
    }
}

/// What a reply needs, nothing more: name, and optionally contact, address and the ID number
/// (where a reply or identity check needs it). The server seals contact, address and ID number
/// at rest and masks them in its output and in event payloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Petitioner {
    pub name: String,
    pub contact: Option<String>,
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = CaseStatus))]
pub enum Status {
    Registered,
    Proposed,
    Approved,
    Handling,
    Replied,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Registered => "registered",
            Status::Proposed => "proposed",
            Status::Approved => "approved",
            Status::Handling => "handling",
            Status::Replied => "replied",
            Status::Closed => "closed",
        }
    }
    pub fn open(self) -> bool {
        !matches!(self, Status::Replied | Status::Closed)
    }
}

/// 自办 / 交办 / 转办 / 转交.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum RouteKind {
    /// Handled by this body (自办).
    InHouse,
    /// Assigned to a department of this body (交办).
    Assign,
    /// Transferred to another body (转办); the petitioner is told where it went.
    Transfer,
    /// Referred to a lower jurisdiction (转交), where it becomes a case of its own.
    Refer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Routing {
    pub kind: RouteKind,
    /// The department or body that handles it.
    pub target: String,
    pub target_jurisdiction: Option<Uuid>,
    /// The case opened in the lower jurisdiction (转交).
    pub child_case: Option<Uuid>,
    /// What the petitioner is told (转办).
    pub notice: Option<String>,
}

/// Where a case came from when another body referred it here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Origin {
    pub jurisdiction_id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum ExtensionState {
    Requested,
    Approved,
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Extension {
    pub days: u32,
    pub reason: String,
    pub requested_by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub requested_at: Timestamp,
    pub state: ExtensionState,
    pub decided_by: Option<ActorRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub due_before: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Approval {
    pub post: String,
    pub by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SupervisionRecord {
    pub step: SupervisionKind,
    pub label: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The handling unit at the time.
    pub unit: Option<String>,
    /// Supervised by hand (督办): who, and what they asked. None for a step the clock took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ActorRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Reply {
    #[cfg_attr(feature = "schema", schema(value_type = String, format = Date))]
    pub on: Date,
    /// e.g. 书面, 邮寄, 当面送达.
    pub channel: String,
    pub summary: String,
    pub on_time: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct FollowUp {
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub satisfaction: Satisfaction,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Case {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub case_number: String,
    pub status: Status,
    pub channel: Channel,
    pub form: Form,
    /// How many people (1 for a single petition).
    pub headcount: u32,
    /// The petitioner, or the representatives of a collective petition.
    pub petitioners: Vec<Petitioner>,
    pub title: String,
    pub grievance: String,
    pub case_type: String,
    pub category: Option<Category>,
    pub topic: Option<String>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub received_at: Timestamp,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = Date))]
    pub accepted_on: Date,
    pub clock: ClockRule,
    pub due: PeriodEnd,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub due_at: Timestamp,
    pub overdue: bool,
    pub extension: Option<Extension>,
    pub proposal: Option<String>,
    pub approvals: Vec<Approval>,
    pub routing: Option<Routing>,
    /// 包案领导.
    pub lead: Option<PersonRef>,
    pub origin: Option<Origin>,
    pub supervision: Vec<SupervisionRecord>,
    pub reply: Option<Reply>,
    pub follow_up: Option<FollowUp>,
    /// Earlier petitions on the same grievance (重复信访).
    pub related_cases: Vec<Uuid>,
    pub incident_id: Option<Uuid>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// The documents issued from the case (a written reply, an extension notice…).
    #[serde(default)]
    pub documents: Vec<crate::document::IssuedDocument>,
}

impl Case {
    /// The handling department or body, once routed.
    pub fn unit(&self) -> Option<&str> {
        self.routing.as_ref().map(|r| r.target.as_str())
    }

    /// When the next supervision step or the overdue mark falls due.
    pub fn next_due(&self, s: &CaseSettings) -> Option<Timestamp> {
        if !self.status.open() {
            return None;
        }
        let mut next = if self.overdue {
            None
        } else {
            Some(self.due_at)
        };
        for r in &s.supervision {
            if self.supervision.iter().any(|x| x.step == r.step) {
                continue;
            }
            let at = step_at(self.due_at, r.offset_days);
            next = Some(next.map_or(at, |n: Timestamp| n.min(at)));
        }
        next
    }
}

fn step_at(due_at: Timestamp, offset_days: i32) -> Timestamp {
    due_at
        .checked_add(SignedDuration::from_hours(i64::from(offset_days) * 24))
        .unwrap_or(due_at)
}

// ---------------------------------------------------------------------------------------------
// Commands and events

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCase {
    pub jurisdiction_id: Uuid,
    pub case_number: String,
    pub channel: Channel,
    pub form: Form,
    pub headcount: u32,
    pub petitioners: Vec<Petitioner>,
    pub title: String,
    pub grievance: String,
    pub case_type: String,
    pub received_at: Timestamp,
    pub origin: Option<Origin>,
    pub related_cases: Vec<Uuid>,
    pub incident_id: Option<Uuid>,
    /// Why a petition received long ago is registered only now (see
    /// `CaseSettings::max_backdate_days`); the registration event's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdate_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Register(Box<NewCase>),
    Classify {
        category: Category,
        topic: String,
    },
    Propose {
        text: String,
    },
    Approve {
        note: Option<String>,
    },
    Route {
        kind: RouteKind,
        target: String,
        target_jurisdiction: Option<Uuid>,
        child_case: Option<Uuid>,
        notice: Option<String>,
    },
    AssignLead {
        lead: PersonRef,
    },
    RequestExtension {
        days: u32,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        reason: Option<String>,
    },
    Reply {
        on: Date,
        channel: String,
        summary: String,
    },
    FollowUp {
        satisfaction: Satisfaction,
        note: Option<String>,
    },
    LinkCase {
        case_id: Uuid,
    },
    LinkIncident {
        incident_id: Uuid,
    },
    /// A supervision step taken by hand (督办), before or besides the clock's: chase, demand a
    /// written report, or investigate jointly, with what is asked.
    Supervise {
        step: SupervisionKind,
        note: String,
    },
    /// A document issued from the case (rendered by the caller; the case keeps its hash).
    IssueDocument {
        document: crate::document::IssuedDocument,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Registered {
        case: Box<NewCase>,
        accepted_on: Date,
        clock: ClockRule,
        due: PeriodEnd,
        due_at: Timestamp,
    },
    Classified {
        category: Category,
        topic: String,
    },
    Proposed {
        text: String,
    },
    Approved {
        post: String,
        note: Option<String>,
        /// Whether this was the last approval of the chain.
        complete: bool,
    },
    Routed {
        routing: Routing,
    },
    /// The petitioner is told where the case went (转办) or that the time was extended.
    PetitionerNotified {
        about: String,
        text: String,
    },
    LeadAssigned {
        lead: PersonRef,
    },
    ExtensionRequested {
        days: u32,
        reason: String,
    },
    ExtensionApproved {
        days: u32,
        due: PeriodEnd,
        due_at: Timestamp,
    },
    ExtensionRefused {
        reason: Option<String>,
    },
    BecameOverdue {
        due_at: Timestamp,
    },
    /// A due date computed as provisional (a year without a calendar) computed again now that
    /// the calendar covers the period: what it was and what it is.
    DueRecomputed {
        was: PeriodEnd,
        due: PeriodEnd,
        due_at: Timestamp,
    },
    Supervised {
        step: SupervisionKind,
        label: String,
        unit: Option<String>,
        /// What the supervising person asked (a step taken by hand; none from the clock).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Replied {
        reply: Reply,
    },
    FollowedUp {
        satisfaction: Satisfaction,
        note: Option<String>,
    },
    CaseLinked {
        case_id: Uuid,
    },
    IncidentLinked {
        incident_id: Uuid,
    },
    DocumentIssued {
        document: crate::document::IssuedDocument,
    },
}

impl Event {
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
            .unwrap_or_default()
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Event::Registered { case, .. } => case.backdate_reason.clone(),
            Event::ExtensionRequested { reason, .. } => Some(reason.clone()),
            Event::ExtensionRefused { reason } => reason.clone(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("a case in state `{status}` cannot {action}")]
    IllegalTransition {
        status: &'static str,
        action: &'static str,
    },
    #[error("`{field}` is required")]
    MissingField { field: &'static str },
    #[error("`{0}` is not one of the configured topics")]
    UnknownTopic(String),
    #[error("a collective petition needs at least one representative and a headcount of 2 or more")]
    CollectiveNeedsRepresentatives,
    #[error("the approval chain is complete; nothing left to approve")]
    NothingToApprove,
    #[error("{name} does not hold the post `{post}` that approves this step")]
    WrongApprover { name: String, post: String },
    #[error("the proposal must be approved along the whole chain before the case is routed")]
    NotApproved,
    #[error("an extension may be at most {max} days; {asked} were asked")]
    ExtensionTooLong { asked: u32, max: u32 },
    #[error("an extension must be at least one day")]
    ExtensionTooShort,
    #[error("the case has already had its one extension")]
    ExtensionAlreadyUsed,
    #[error("an extension must be asked before the due time ({due_at})")]
    ExtensionAfterDue { due_at: Timestamp },
    #[error("no extension request is pending")]
    NoExtensionPending,
    #[error("an extension request is already pending")]
    ExtensionPending,
    #[error("{name} is not of the body that referred this case; only it may extend the time")]
    WrongApprovingBody { name: String },
    #[error("the reply date cannot be before acceptance or in the future")]
    BadReplyDate,
    #[error("a case cannot be linked to itself")]
    SelfLink,
}

impl CaseError {
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            CaseError::IllegalTransition { .. } => crate::error::ErrorCode::IllegalTransition,
            CaseError::MissingField { .. } => crate::error::ErrorCode::MissingField,
            CaseError::UnknownTopic(_) => crate::error::ErrorCode::UnknownTopic,
            CaseError::CollectiveNeedsRepresentatives => {
                crate::error::ErrorCode::CollectiveNeedsRepresentatives
            }
            CaseError::NothingToApprove => crate::error::ErrorCode::NothingToApprove,
            CaseError::WrongApprover { .. } | CaseError::WrongApprovingBody { .. } => {
                crate::error::ErrorCode::WrongApprover
            }
            CaseError::NotApproved => crate::error::ErrorCode::NotApproved,
            CaseError::ExtensionTooLong { .. } => crate::error::ErrorCode::ExtensionTooLong,
            CaseError::ExtensionTooShort => crate::error::ErrorCode::ExtensionTooShort,
            CaseError::ExtensionAlreadyUsed => crate::error::ErrorCode::ExtensionAlreadyUsed,
            CaseError::ExtensionAfterDue { .. } => crate::error::ErrorCode::ExtensionAfterDue,
            CaseError::NoExtensionPending => crate::error::ErrorCode::NoExtensionPending,
            CaseError::ExtensionPending => crate::error::ErrorCode::ExtensionPending,
            CaseError::BadReplyDate => crate::error::ErrorCode::InvalidReplyDate,
            CaseError::SelfLink => crate::error::ErrorCode::SelfLink,
        }
    }
}

/// What a decision needs besides the case.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub actor: &'a ActorRef,
    /// The jurisdiction of the acting person.
    pub actor_jurisdiction: Uuid,
    pub settings: &'a CaseSettings,
    pub calendar: &'a Calendar,
    /// Holders of a post in the case's jurisdiction.
    pub holders: &'a (dyn Fn(&str) -> Vec<PersonRef> + Sync),
}

type R = Result<Vec<Event>, CaseError>;

fn illegal(s: Status, action: &'static str) -> CaseError {
    CaseError::IllegalTransition {
        status: s.as_str(),
        action,
    }
}

fn holds(ctx: &Ctx, post: &str) -> bool {
    (ctx.holders)(post)
        .iter()
        .any(|p| p.person_id == ctx.actor.person_id)
}

/// The due date of a case accepted on `accepted_on` under `clock`.
pub fn due_for(
    cal: &Calendar,
    s: &CaseSettings,
    accepted_on: Date,
    clock: ClockRule,
) -> (PeriodEnd, Timestamp) {
    let end = cal.period_end(accepted_on, clock.days, clock.unit, s.period);
    (end, end.ends_at(&s.tz()))
}

pub fn decide(case: Option<&Case>, cmd: &Command, ctx: &Ctx) -> R {
    let Some(c) = case else {
        let Command::Register(n) = cmd else {
            return Err(CaseError::IllegalTransition {
                status: "none",
                action: "act before registration",
            });
        };
        if n.title.trim().is_empty() {
            return Err(CaseError::MissingField { field: "title" });
        }
        if n.grievance.trim().is_empty() {
            return Err(CaseError::MissingField { field: "grievance" });
        }
        if n.petitioners.iter().any(|p| p.name.trim().is_empty()) {
            return Err(CaseError::MissingField {
                field: "petitioners.name",
            });
        }
        if n.form == Form::Collective && (n.petitioners.is_empty() || n.headcount < 2) {
            return Err(CaseError::CollectiveNeedsRepresentatives);
        }
        let tz = ctx.settings.tz();
        let accepted_on = n.received_at.to_zoned(tz).date();
        let clock = ctx.settings.clock_for(&n.case_type);
        let (due, due_at) = due_for(ctx.calendar, ctx.settings, accepted_on, clock);
        return Ok(vec![Event::Registered {
            case: n.clone(),
            accepted_on,
            clock,
            due,
            due_at,
        }]);
    };
    match cmd {
        Command::Register(_) => Err(illegal(c.status, "be registered twice")),
        Command::Classify { category, topic } => {
            if !matches!(c.status, Status::Registered | Status::Proposed) {
                return Err(illegal(c.status, "be classified"));
            }
            if !ctx.settings.topics.iter().any(|t| t == topic) {
                return Err(CaseError::UnknownTopic(topic.clone()));
            }
            Ok(vec![Event::Classified {
                category: *category,
                topic: topic.clone(),
            }])
        }
        Command::Propose { text } => {
            if c.status != Status::Registered {
                return Err(illegal(c.status, "take a proposal"));
            }
            if text.trim().is_empty() {
                return Err(CaseError::MissingField { field: "text" });
            }
            Ok(vec![Event::Proposed { text: text.clone() }])
        }
        Command::Approve { note } => {
            if c.status != Status::Proposed {
                return Err(illegal(c.status, "be approved"));
            }
            let chain = &ctx.settings.approval_chain;
            let Some(post) = chain.get(c.approvals.len()) else {
                return Err(CaseError::NothingToApprove);
            };
            if !holds(ctx, post) {
                return Err(CaseError::WrongApprover {
                    name: ctx.actor.name.clone(),
                    post: post.clone(),
                });
            }
            Ok(vec![Event::Approved {
                post: post.clone(),
                note: note.clone(),
                complete: c.approvals.len() + 1 >= chain.len(),
            }])
        }
        Command::Route {
            kind,
            target,
            target_jurisdiction,
            child_case,
            notice,
        } => {
            let approved = c.status == Status::Approved
                || (c.status == Status::Registered && ctx.settings.approval_chain.is_empty());
            if !approved {
                return if c.status == Status::Proposed || c.status == Status::Registered {
                    Err(CaseError::NotApproved)
                } else {
                    Err(illegal(c.status, "be routed"))
                };
            }
            if target.trim().is_empty() {
                return Err(CaseError::MissingField { field: "target" });
            }
            if *kind == RouteKind::Refer && target_jurisdiction.is_none() {
                return Err(CaseError::MissingField {
                    field: "target_jurisdiction_id",
                });
            }
            let mut ev = vec![Event::Routed {
                routing: Routing {
                    kind: *kind,
                    target: target.clone(),
                    target_jurisdiction: *target_jurisdiction,
                    child_case: *child_case,
                    notice: notice.clone(),
                },
            }];
            if *kind == RouteKind::Transfer {
                let text = notice
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or(CaseError::MissingField { field: "notice" })?;
                ev.push(Event::PetitionerNotified {
                    about: "transferred".into(),
                    text,
                });
            }
            Ok(ev)
        }
        Command::AssignLead { lead } => {
            if !c.status.open() {
                return Err(illegal(c.status, "get a leader"));
            }
            Ok(vec![Event::LeadAssigned { lead: lead.clone() }])
        }
        Command::RequestExtension { days, reason } => {
            if !c.status.open() {
                return Err(illegal(c.status, "be extended"));
            }
            if let Some(x) = &c.extension {
                return Err(match x.state {
                    ExtensionState::Requested => CaseError::ExtensionPending,
                    _ => CaseError::ExtensionAlreadyUsed,
                });
            }
            if reason.trim().is_empty() {
                return Err(CaseError::MissingField { field: "reason" });
            }
            if *days == 0 {
                return Err(CaseError::ExtensionTooShort);
            }
            let max = ctx.settings.extension.max_days;
            if *days > max {
                return Err(CaseError::ExtensionTooLong { asked: *days, max });
            }
            if ctx.now >= c.due_at {
                return Err(CaseError::ExtensionAfterDue { due_at: c.due_at });
            }
            Ok(vec![Event::ExtensionRequested {
                days: *days,
                reason: reason.clone(),
            }])
        }
        Command::DecideExtension { approve, reason } => {
            let Some(x) = c
                .extension
                .as_ref()
                .filter(|x| x.state == ExtensionState::Requested)
            else {
                return Err(CaseError::NoExtensionPending);
            };
            // Own cases: the post the rules name (分管领导). Referred cases: the referring body.
            match &c.origin {
                None => {
                    let post = &ctx.settings.extension.approver_post;
                    if !holds(ctx, post) {
                        return Err(CaseError::WrongApprover {
                            name: ctx.actor.name.clone(),
                            post: post.clone(),
                        });
                    }
                }
                Some(o) => {
                    if ctx.actor_jurisdiction != o.jurisdiction_id {
                        return Err(CaseError::WrongApprovingBody {
                            name: ctx.actor.name.clone(),
                        });
                    }
                }
            }
            if !approve {
                return Ok(vec![Event::ExtensionRefused {
                    reason: reason.clone(),
                }]);
            }
            if ctx.now >= c.due_at {
                return Err(CaseError::ExtensionAfterDue { due_at: c.due_at });
            }
            let tz = ctx.settings.tz();
            let from = c.due.last_day;
            let mut end = ctx.calendar.period_end(
                from,
                x.days,
                ctx.settings.extension.unit,
                PeriodRules {
                    count_first_day: false,
                    ..ctx.settings.period
                },
            );
            end.provisional |= c.due.provisional;
            let mut ev = vec![Event::ExtensionApproved {
                days: x.days,
                due: end,
                due_at: end.ends_at(&tz),
            }];
            ev.push(Event::PetitionerNotified {
                about: "extended".into(),
                text: format!("办理期限延长{}日，至{}。", x.days, end.last_day),
            });
            Ok(ev)
        }
        Command::Reply {
            on,
            channel,
            summary,
        } => {
            if !matches!(c.status, Status::Handling | Status::Approved) {
                return Err(illegal(c.status, "be replied to"));
            }
            if summary.trim().is_empty() {
                return Err(CaseError::MissingField { field: "summary" });
            }
            if channel.trim().is_empty() {
                return Err(CaseError::MissingField { field: "channel" });
            }
            let today = ctx.now.to_zoned(ctx.settings.tz()).date();
            if *on < c.accepted_on || *on > today {
                return Err(CaseError::BadReplyDate);
            }
            Ok(vec![Event::Replied {
                reply: Reply {
                    on: *on,
                    channel: channel.clone(),
                    summary: summary.clone(),
                    on_time: *on <= c.due.last_day,
                },
            }])
        }
        Command::FollowUp { satisfaction, note } => {
            if c.status != Status::Replied {
                return Err(illegal(c.status, "be followed up"));
            }
            Ok(vec![Event::FollowedUp {
                satisfaction: *satisfaction,
                note: note.clone(),
            }])
        }
        Command::IssueDocument { document } => Ok(vec![Event::DocumentIssued {
            document: document.clone(),
        }]),
        Command::LinkCase { case_id } => {
            if *case_id == c.id {
                return Err(CaseError::SelfLink);
            }
            if c.related_cases.contains(case_id) {
                return Ok(vec![]);
            }
            Ok(vec![Event::CaseLinked { case_id: *case_id }])
        }
        Command::LinkIncident { incident_id } => {
            if c.incident_id == Some(*incident_id) {
                return Ok(vec![]);
            }
            Ok(vec![Event::IncidentLinked {
                incident_id: *incident_id,
            }])
        }
        Command::Supervise { step, note } => {
            if !c.status.open() {
                return Err(illegal(c.status, "be supervised"));
            }
            if note.trim().is_empty() {
                return Err(CaseError::MissingField { field: "note" });
            }
            Ok(vec![Event::Supervised {
                step: *step,
                label: step.label().into(),
                unit: c.unit().map(str::to_string),
                note: Some(note.clone()),
            }])
        }
    }
}

/// The due date of an open case whose due date was provisional, computed again with the
/// calendar as it is now (the clock from the day of acceptance, then an approved extension):
/// an event when the answer differs or is no longer provisional, else nothing.
pub fn recompute_due(c: &Case, s: &CaseSettings, cal: &Calendar) -> Option<Event> {
    if !c.status.open() || !c.due.provisional {
        return None;
    }
    let (mut due, _) = due_for(cal, s, c.accepted_on, c.clock);
    if let Some(x) = c
        .extension
        .as_ref()
        .filter(|x| x.state == ExtensionState::Approved)
    {
        let mut end = cal.period_end(
            due.last_day,
            x.days,
            s.extension.unit,
            PeriodRules {
                count_first_day: false,
                ..s.period
            },
        );
        end.provisional |= due.provisional;
        due = end;
    }
    (due != c.due).then(|| Event::DueRecomputed {
        was: c.due,
        due,
        due_at: due.ends_at(&s.tz()),
    })
}

/// What has fallen due at `now`: the overdue mark, then each supervision step whose time has
/// come, in order, once each.
pub fn tick(c: &Case, s: &CaseSettings, now: Timestamp) -> Vec<Event> {
    let mut ev = vec![];
    if !c.status.open() {
        return ev;
    }
    if !c.overdue && now >= c.due_at {
        ev.push(Event::BecameOverdue { due_at: c.due_at });
    }
    let mut rules = s.supervision.clone();
    rules.sort_by_key(|r| (r.offset_days, r.step));
    for r in rules {
        if c.supervision.iter().any(|x| x.step == r.step) {
            continue;
        }
        if now >= step_at(c.due_at, r.offset_days) {
            ev.push(Event::Supervised {
                step: r.step,
                label: r.step.label().into(),
                unit: c.unit().map(str::to_string),
                note: None,
            });
        }
    }
    ev
}

pub fn apply(case: Option<Case>, e: &Event, at: Timestamp, actor: &ActorRef) -> Option<Case> {
    if let Event::Registered {
        case: n,
        accepted_on,
        clock,
        due,
        due_at,
    } = e
    {
        let n = n.as_ref().clone();
        return Some(Case {
            id: Uuid::nil(),
            jurisdiction_id: n.jurisdiction_id,
            case_number: n.case_number,
            status: Status::Registered,
            channel: n.channel,
            form: n.form,
            headcount: n.headcount,
            petitioners: n.petitioners,
            title: n.title,
            grievance: n.grievance,
            case_type: n.case_type,
            category: None,
            topic: None,
            received_at: n.received_at,
            accepted_on: *accepted_on,
            clock: *clock,
            due: *due,
            due_at: *due_at,
            overdue: false,
            extension: None,
            proposal: None,
            approvals: vec![],
            routing: None,
            lead: None,
            origin: n.origin,
            supervision: vec![],
            reply: None,
            follow_up: None,
            related_cases: n.related_cases,
            incident_id: n.incident_id,
            updated_at: at,
            documents: vec![],
        });
    }
    let mut c = case?;
    c.updated_at = at;
    match e {
        Event::Registered { .. } => {}
        Event::Classified { category, topic } => {
            c.category = Some(*category);
            c.topic = Some(topic.clone());
        }
        Event::Proposed { text } => {
            c.proposal = Some(text.clone());
            c.status = Status::Proposed;
        }
        Event::Approved {
            post,
            note,
            complete,
        } => {
            c.approvals.push(Approval {
                post: post.clone(),
                by: actor.clone(),
                at,
                note: note.clone(),
            });
            if *complete {
                c.status = Status::Approved;
            }
        }
        Event::Routed { routing } => {
            c.routing = Some(routing.clone());
            c.status = Status::Handling;
        }
        Event::PetitionerNotified { .. } => {}
        Event::LeadAssigned { lead } => c.lead = Some(lead.clone()),
        Event::ExtensionRequested { days, reason } => {
            c.extension = Some(Extension {
                days: *days,
                reason: reason.clone(),
                requested_by: actor.clone(),
                requested_at: at,
                state: ExtensionState::Requested,
                decided_by: None,
                decided_at: None,
                due_before: c.due_at,
            });
        }
        Event::DueRecomputed { due, due_at, .. } => {
            c.due = *due;
            c.due_at = *due_at;
            // Marked overdue by the provisional date, it is not overdue by the right one.
            c.overdue &= at >= *due_at;
        }
        Event::ExtensionApproved { due, due_at, .. } => {
            if let Some(x) = &mut c.extension {
                x.state = ExtensionState::Approved;
                x.decided_by = Some(actor.clone());
                x.decided_at = Some(at);
            }
            c.due = *due;
            c.due_at = *due_at;
        }
        Event::ExtensionRefused { .. } => {
            if let Some(x) = &mut c.extension {
                x.state = ExtensionState::Refused;
                x.decided_by = Some(actor.clone());
                x.decided_at = Some(at);
            }
        }
        Event::BecameOverdue { .. } => c.overdue = true,
        Event::Supervised {
            step,
            label,
            unit,
            note,
        } => c.supervision.push(SupervisionRecord {
            step: *step,
            label: label.clone(),
            at,
            unit: unit.clone(),
            by: note.as_ref().map(|_| actor.clone()),
            note: note.clone(),
        }),
        Event::Replied { reply } => {
            c.reply = Some(reply.clone());
            c.status = Status::Replied;
        }
        Event::FollowedUp { satisfaction, note } => {
            c.follow_up = Some(FollowUp {
                at,
                satisfaction: *satisfaction,
                note: note.clone(),
            });
            c.status = Status::Closed;
        }
        Event::CaseLinked { case_id } => c.related_cases.push(*case_id),
        Event::DocumentIssued { document } => c.documents.push(document.clone()),
        Event::IncidentLinked { incident_id } => c.incident_id = Some(*incident_id),
    }
    Some(c)
}

/// Applies a list of events; the new case gets `id`.
pub fn apply_all(
    case: Option<Case>,
    id: Uuid,
    events: &[Event],
    at: Timestamp,
    actor: &ActorRef,
) -> Option<Case> {
    let mut c = case;
    for e in events {
        c = apply(c, e, at, actor);
        if let Some(x) = &mut c
            && x.id.is_nil()
        {
            x.id = id;
        }
    }
    c
}
