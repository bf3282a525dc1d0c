//! Information release (WF-13, 信息发布): a text for the public drafted, approved by the person
//! the draft names (never its drafter), and only then published — to the CAP feed and the public
//! page. Every step is an event of the release's stream.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ActorRef, PersonRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = ReleaseStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Approved,
    Rejected,
    Published,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Published => "published",
        }
    }
}

/// What a release is: a warning (预警信息) or other information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    Warning,
    Information,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Release {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub incident_id: Option<Uuid>,
    pub kind: ReleaseKind,
    pub title: String,
    pub text: String,
    /// Who it is for, as written (e.g. 社会公众, 临溪市市民).
    pub audience: String,
    /// The area it concerns, as written.
    pub area: String,
    pub status: Status,
    pub drafted_by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub drafted_at: Timestamp,
    /// The person who must approve it (named by the drafter; never the drafter).
    pub approver: PersonRef,
    pub approved_by: Option<ActorRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub approved_at: Option<Timestamp>,
    pub decision_note: Option<String>,
    pub published_by: Option<ActorRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub published_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub incident_id: Option<Uuid>,
    pub kind: ReleaseKind,
    pub title: String,
    pub text: String,
    pub audience: String,
    pub area: String,
    pub approver: PersonRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Draft(Draft),
    Approve { note: Option<String> },
    Reject { reason: String },
    Publish,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Drafted { draft: Draft },
    Approved { note: Option<String> },
    Rejected { reason: String },
    Published,
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Drafted { .. } => "release_drafted",
            Event::Approved { .. } => "release_approved",
            Event::Rejected { .. } => "release_rejected",
            Event::Published => "release_published",
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Event::Rejected { reason } => Some(reason.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("`{0}` is required")]
    Missing(&'static str),
    #[error("the drafter cannot approve their own release: name another person")]
    SelfApproval,
    #[error("only {0}, whom the draft names, may decide on it")]
    WrongApprover(String),
    #[error("a release in state `{status}` cannot {action}")]
    Illegal {
        status: &'static str,
        action: &'static str,
    },
    #[error("a release is published only after its approval")]
    NotApproved,
}

impl ReleaseError {
    pub fn code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode as C;
        match self {
            ReleaseError::Missing(_) => C::MissingField,
            ReleaseError::SelfApproval => C::SelfApproval,
            ReleaseError::WrongApprover(_) => C::WrongApprover,
            ReleaseError::Illegal { .. } => C::IllegalTransition,
            ReleaseError::NotApproved => C::NotApproved,
        }
    }
}

/// Decides a command on a release (None before it is drafted).
pub fn decide(
    r: Option<&Release>,
    cmd: &Command,
    actor: &ActorRef,
) -> Result<Vec<Event>, ReleaseError> {
    let illegal = |r: &Release, action| ReleaseError::Illegal {
        status: r.status.as_str(),
        action,
    };
    match (r, cmd) {
        (None, Command::Draft(d)) => {
            if d.title.trim().is_empty() {
                return Err(ReleaseError::Missing("title"));
            }
            if d.text.trim().is_empty() {
                return Err(ReleaseError::Missing("text"));
            }
            if d.approver.person_id == actor.person_id {
                return Err(ReleaseError::SelfApproval);
            }
            Ok(vec![Event::Drafted { draft: d.clone() }])
        }
        (Some(r), Command::Draft(_)) => Err(illegal(r, "be drafted again")),
        (None, _) => Err(ReleaseError::Missing("release")),
        (Some(r), Command::Approve { note }) => {
            if r.status != Status::Draft {
                return Err(illegal(r, "be approved"));
            }
            if actor.person_id != r.approver.person_id {
                return Err(ReleaseError::WrongApprover(r.approver.name.clone()));
            }
            Ok(vec![Event::Approved { note: note.clone() }])
        }
        (Some(r), Command::Reject { reason }) => {
            if r.status != Status::Draft {
                return Err(illegal(r, "be rejected"));
            }
            if actor.person_id != r.approver.person_id {
                return Err(ReleaseError::WrongApprover(r.approver.name.clone()));
            }
            if reason.trim().is_empty() {
                return Err(ReleaseError::Missing("reason"));
            }
            Ok(vec![Event::Rejected {
                reason: reason.clone(),
            }])
        }
        (Some(r), Command::Publish) => match r.status {
            Status::Approved => Ok(vec![Event::Published]),
            Status::Draft => Err(ReleaseError::NotApproved),
            _ => Err(illegal(r, "be published")),
        },
    }
}

/// Applies an event.
pub fn apply(r: Option<Release>, e: &Event, at: Timestamp, actor: &ActorRef) -> Option<Release> {
    if let Event::Drafted { draft: d } = e {
        return Some(Release {
            id: d.id,
            jurisdiction_id: d.jurisdiction_id,
            incident_id: d.incident_id,
            kind: d.kind,
            title: d.title.clone(),
            text: d.text.clone(),
            audience: d.audience.clone(),
            area: d.area.clone(),
            status: Status::Draft,
            drafted_by: actor.clone(),
            drafted_at: at,
            approver: d.approver.clone(),
            approved_by: None,
            approved_at: None,
            decision_note: None,
            published_by: None,
            published_at: None,
        });
    }
    let mut r = r?;
    match e {
        Event::Drafted { .. } => {}
        Event::Approved { note } => {
            r.status = Status::Approved;
            r.approved_by = Some(actor.clone());
            r.approved_at = Some(at);
            r.decision_note = note.clone();
        }
        Event::Rejected { reason } => {
            r.status = Status::Rejected;
            r.approved_by = Some(actor.clone());
            r.approved_at = Some(at);
            r.decision_note = Some(reason.clone());
        }
        Event::Published => {
            r.status = Status::Published;
            r.published_by = Some(actor.clone());
            r.published_at = Some(at);
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(n: u128, name: &str) -> ActorRef {
        ActorRef {
            person_id: Uuid::from_u128(n),
            name: name.into(),
        }
    }

    fn draft() -> Draft {
        Draft {
            id: Uuid::from_u128(9),
            jurisdiction_id: Uuid::from_u128(1),
            incident_id: None,
            kind: ReleaseKind::Warning,
            title: "暴雨预警".into(),
            text: "请市民减少外出".into(),
            audience: "社会公众".into(),
            area: "临溪市".into(),
            approver: PersonRef {
                person_id: Uuid::from_u128(3),
                name: "审批人".into(),
            },
        }
    }

    #[test]
    fn nothing_is_published_without_the_named_approver_s_approval() {
        let (drafter, approver, other) = (who(2, "起草人"), who(3, "审批人"), who(4, "他人"));
        let at = Timestamp::UNIX_EPOCH;
        let e = decide(None, &Command::Draft(draft()), &drafter).unwrap();
        let r = apply(None, &e[0], at, &drafter).unwrap();
        assert_eq!(
            decide(Some(&r), &Command::Publish, &drafter),
            Err(ReleaseError::NotApproved)
        );
        assert!(matches!(
            decide(Some(&r), &Command::Approve { note: None }, &other),
            Err(ReleaseError::WrongApprover(_))
        ));
        let e = decide(Some(&r), &Command::Approve { note: None }, &approver).unwrap();
        let r = apply(Some(r), &e[0], at, &approver).unwrap();
        let e = decide(Some(&r), &Command::Publish, &drafter).unwrap();
        let r = apply(Some(r), &e[0], at, &drafter).unwrap();
        assert_eq!(r.status, Status::Published);
        assert!(decide(Some(&r), &Command::Publish, &drafter).is_err());
        // The drafter cannot name themself.
        let mut d = draft();
        d.approver.person_id = drafter.person_id;
        assert_eq!(
            decide(None, &Command::Draft(d), &drafter),
            Err(ReleaseError::SelfApproval)
        );
    }
}
