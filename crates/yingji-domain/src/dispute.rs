//! Dispute screening and resolution (矛盾纠纷排查化解, WF-09), pure.
//!
//! Screening rounds are monthly by default and daily inside a special period; every unit below
//! the screening jurisdiction submits its findings for the round, or a nil submission. A dispute is
//! registered with its parties (names and roles only), nature, area and risk; assigned for
//! mediation; its result and follow-up visit recorded; major ones are reported upward.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ActorRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Monthly,
    Daily,
}

/// The round a day belongs to: `2026-03` (monthly) or `2026-08-12` (daily, in a special
/// period).
pub fn round_key(d: Date, in_special_period: bool) -> (Cadence, String) {
    if in_special_period {
        (Cadence::Daily, d.to_string())
    } else {
        (
            Cadence::Monthly,
            format!("{:04}-{:02}", d.year(), d.month()),
        )
    }
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
    /// 重大疑难: to be reported upward.
    Major,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    /// e.g. 申请方, 被申请方.
    pub role: String,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = DisputeStatus))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Registered,
    Mediating,
    Resolved,
    Unresolved,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Registered => "registered",
            Status::Mediating => "mediating",
            Status::Resolved => "resolved",
            Status::Unresolved => "unresolved",
            Status::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDispute {
    pub jurisdiction_id: Uuid,
    pub round_id: Option<Uuid>,
    pub title: String,
    pub parties: Vec<Party>,
    /// 性质, e.g. 婚姻家庭, 邻里, 土地, 劳资.
    pub nature: String,
    /// Where (village, street, site).
    pub area: String,
    pub risk: Risk,
    pub summary: String,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub round_id: Option<Uuid>,
    pub title: String,
    pub parties: Vec<Party>,
    pub nature: String,
    pub area: String,
    pub risk: Risk,
    pub summary: String,
    pub status: Status,
    #[cfg_attr(feature = "schema", schema(value_type = String))]
    pub registered_at: Timestamp,
    pub mediator_unit: Option<String>,
    /// YYYY-MM-DD.
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>))]
    pub due_on: Option<Date>,
    pub result: Option<String>,
    /// `[time, note]` pairs.
    #[cfg_attr(feature = "schema", schema(value_type = Vec<Vec<String>>))]
    pub follow_ups: Vec<(Timestamp, String)>,
    /// `[time, reason]` once reported upward.
    #[cfg_attr(feature = "schema", schema(value_type = Option<Vec<String>>))]
    pub reported_upward: Option<(Timestamp, String)>,
    #[cfg_attr(feature = "schema", schema(value_type = String))]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Registered { dispute: NewDispute },
    Assigned { unit: String, due_on: Option<Date> },
    ResultRecorded { resolved: bool, result: String },
    FollowedUp { note: String },
    ReportedUpward { reason: String },
    Closed,
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Registered { .. } => "dispute_registered",
            Event::Assigned { .. } => "dispute_assigned",
            Event::ResultRecorded { .. } => "dispute_result",
            Event::FollowedUp { .. } => "dispute_followed_up",
            Event::ReportedUpward { .. } => "dispute_reported_upward",
            Event::Closed => "dispute_closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisputeError {
    #[error("`{0}` is required")]
    Missing(&'static str),
    #[error("a dispute in state `{0}` cannot {1}")]
    Illegal(&'static str, &'static str),
    #[error("only major disputes (重大疑难) are reported upward")]
    NotMajor,
    #[error("the dispute was already reported upward")]
    AlreadyReported,
}

impl DisputeError {
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            DisputeError::Missing(_) => crate::error::ErrorCode::MissingField,
            DisputeError::Illegal(..) => crate::error::ErrorCode::IllegalTransition,
            DisputeError::NotMajor => crate::error::ErrorCode::NotMajor,
            DisputeError::AlreadyReported => crate::error::ErrorCode::AlreadyReported,
        }
    }
}

pub enum Command {
    Register(NewDispute),
    Assign { unit: String, due_on: Option<Date> },
    Result { resolved: bool, result: String },
    FollowUp { note: String },
    ReportUpward { reason: String },
    Close,
}

fn nonempty(s: &str, f: &'static str) -> Result<(), DisputeError> {
    if s.trim().is_empty() {
        Err(DisputeError::Missing(f))
    } else {
        Ok(())
    }
}

pub fn decide(d: Option<&Dispute>, cmd: &Command) -> Result<Vec<Event>, DisputeError> {
    use Status::*;
    let Some(d) = d else {
        let Command::Register(n) = cmd else {
            return Err(DisputeError::Illegal("none", "act before registration"));
        };
        nonempty(&n.title, "title")?;
        nonempty(&n.nature, "nature")?;
        nonempty(&n.area, "area")?;
        if n.parties.is_empty() || n.parties.iter().any(|p| p.name.trim().is_empty()) {
            return Err(DisputeError::Missing("parties"));
        }
        return Ok(vec![Event::Registered { dispute: n.clone() }]);
    };
    let s = d.status;
    Ok(vec![match cmd {
        Command::Register(_) => {
            return Err(DisputeError::Illegal(s.as_str(), "be registered twice"));
        }
        Command::Assign { unit, due_on } => {
            if !matches!(s, Registered | Mediating | Unresolved) {
                return Err(DisputeError::Illegal(s.as_str(), "be assigned"));
            }
            nonempty(unit, "unit")?;
            Event::Assigned {
                unit: unit.clone(),
                due_on: *due_on,
            }
        }
        Command::Result { resolved, result } => {
            if s != Mediating {
                return Err(DisputeError::Illegal(s.as_str(), "take a result"));
            }
            nonempty(result, "result")?;
            Event::ResultRecorded {
                resolved: *resolved,
                result: result.clone(),
            }
        }
        Command::FollowUp { note } => {
            if !matches!(s, Resolved | Unresolved) {
                return Err(DisputeError::Illegal(s.as_str(), "be followed up"));
            }
            nonempty(note, "note")?;
            Event::FollowedUp { note: note.clone() }
        }
        Command::ReportUpward { reason } => {
            if d.risk != Risk::Major {
                return Err(DisputeError::NotMajor);
            }
            if d.reported_upward.is_some() {
                return Err(DisputeError::AlreadyReported);
            }
            nonempty(reason, "reason")?;
            Event::ReportedUpward {
                reason: reason.clone(),
            }
        }
        Command::Close => {
            if !matches!(s, Resolved | Unresolved) {
                return Err(DisputeError::Illegal(s.as_str(), "be closed"));
            }
            Event::Closed
        }
    }])
}

pub fn apply(
    d: Option<Dispute>,
    id: Uuid,
    e: &Event,
    at: Timestamp,
    _: &ActorRef,
) -> Option<Dispute> {
    if let Event::Registered { dispute: n } = e {
        return Some(Dispute {
            id,
            jurisdiction_id: n.jurisdiction_id,
            round_id: n.round_id,
            title: n.title.clone(),
            parties: n.parties.clone(),
            nature: n.nature.clone(),
            area: n.area.clone(),
            risk: n.risk,
            summary: n.summary.clone(),
            status: Status::Registered,
            registered_at: at,
            mediator_unit: None,
            due_on: None,
            result: None,
            follow_ups: vec![],
            reported_upward: None,
            updated_at: at,
        });
    }
    let mut d = d?;
    d.updated_at = at;
    match e {
        Event::Registered { .. } => {}
        Event::Assigned { unit, due_on } => {
            d.mediator_unit = Some(unit.clone());
            d.due_on = *due_on;
            d.status = Status::Mediating;
        }
        Event::ResultRecorded { resolved, result } => {
            d.result = Some(result.clone());
            d.status = if *resolved {
                Status::Resolved
            } else {
                Status::Unresolved
            };
        }
        Event::FollowedUp { note } => d.follow_ups.push((at, note.clone())),
        Event::ReportedUpward { reason } => d.reported_upward = Some((at, reason.clone())),
        Event::Closed => d.status = Status::Closed,
    }
    Some(d)
}
