//! What leaders and meetings ask for, tracked to an answer: a leader's instruction (领导批示)
//! on an incident or a case — who gave it, when, its text, what it requires by when — answered
//! by a response; a coordination meeting (协调会) with its participants, minutes and decisions,
//! each decision a follow-up with an owner and a deadline. What is not answered by its deadline
//! turns overdue (the ticker), once.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ActorRef;

/// A follow-up: something owed by someone by a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct FollowUp {
    pub id: Uuid,
    /// What is owed.
    pub text: String,
    /// Who owes it: a post of the record's plan, or a unit or person as written.
    pub owner: String,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub due_at: Option<Timestamp>,
    /// The answer, once given.
    pub answer: Option<String>,
    pub answered_by: Option<ActorRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub answered_at: Option<Timestamp>,
    pub overdue: bool,
}

impl FollowUp {
    pub fn open(&self) -> bool {
        self.answered_at.is_none()
    }
}

/// `instruction` (批示) or `meeting` (协调会).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = DirectiveKind))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Instruction,
    Meeting,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instruction => "instruction",
            Kind::Meeting => "meeting",
        }
    }
}

/// An instruction or a meeting, with what it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = Directive))]
pub struct Directive {
    pub id: Uuid,
    pub kind: Kind,
    pub jurisdiction_id: Uuid,
    /// `incident` or `case`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// An instruction: the leader's name and post as written; a meeting: its title.
    pub title: String,
    /// An instruction: its text; a meeting: the minutes.
    pub text: String,
    /// A meeting's participants.
    pub participants: Vec<String>,
    /// When it was given or held.
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub given_at: Timestamp,
    /// What it requires (an instruction: one; a meeting: its decisions).
    pub follow_ups: Vec<FollowUp>,
    pub recorded_by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub recorded_at: Timestamp,
}

impl Directive {
    /// When the ticker must next look: the earliest deadline still open and not yet overdue.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.follow_ups
            .iter()
            .filter(|f| f.open() && !f.overdue)
            .filter_map(|f| f.due_at)
            .min()
    }

    /// Whether everything it asks for is answered.
    pub fn answered(&self) -> bool {
        self.follow_ups.iter().all(|f| !f.open())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDirective {
    pub id: Uuid,
    pub kind: Kind,
    pub jurisdiction_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub title: String,
    pub text: String,
    pub participants: Vec<String>,
    pub given_at: Timestamp,
    pub follow_ups: Vec<FollowUp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Box<NewDirective>),
    /// Answers one follow-up.
    Answer {
        follow_up: Uuid,
        answer: String,
    },
    /// Marks what is past its deadline (the ticker).
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Recorded { directive: Box<NewDirective> },
    Answered { follow_up: Uuid, answer: String },
    FollowUpOverdue { follow_up: Uuid },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Recorded { directive } => match directive.kind {
                Kind::Instruction => "instruction_recorded",
                Kind::Meeting => "meeting_recorded",
            },
            Event::Answered { .. } => "follow_up_answered",
            Event::FollowUpOverdue { .. } => "follow_up_overdue",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowUpError {
    #[error("`{0}` is required")]
    Missing(&'static str),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("no such follow-up")]
    Unknown,
    #[error("it is answered already")]
    Answered,
}

impl FollowUpError {
    pub fn code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode as C;
        match self {
            FollowUpError::Missing(_) => C::MissingField,
            FollowUpError::Invalid(_) => C::InvalidField,
            FollowUpError::Unknown => C::NotFound,
            FollowUpError::Answered => C::AlreadyFulfilled,
        }
    }
}

/// Decides a command at `now` (None before it is recorded).
pub fn decide(
    d: Option<&Directive>,
    cmd: &Command,
    now: Timestamp,
) -> Result<Vec<Event>, FollowUpError> {
    match (d, cmd) {
        (None, Command::Record(n)) => {
            if n.title.trim().is_empty() {
                return Err(FollowUpError::Missing("title"));
            }
            if n.text.trim().is_empty() {
                return Err(FollowUpError::Missing("text"));
            }
            if n.kind == Kind::Instruction && n.follow_ups.len() != 1 {
                return Err(FollowUpError::Invalid(
                    "an instruction requires one thing (what it asks for, by when)",
                ));
            }
            if n.follow_ups.iter().any(|f| f.text.trim().is_empty()) {
                return Err(FollowUpError::Missing("requires"));
            }
            if n.follow_ups
                .iter()
                .any(|f| f.due_at.is_some_and(|d| d <= n.given_at))
            {
                return Err(FollowUpError::Invalid(
                    "a deadline must come after the instruction or meeting",
                ));
            }
            Ok(vec![Event::Recorded {
                directive: n.clone(),
            }])
        }
        (Some(_), Command::Record(_)) => Err(FollowUpError::Invalid("recorded already")),
        (None, _) => Err(FollowUpError::Missing("directive")),
        (Some(d), Command::Answer { follow_up, answer }) => {
            let f = d
                .follow_ups
                .iter()
                .find(|f| f.id == *follow_up)
                .ok_or(FollowUpError::Unknown)?;
            if !f.open() {
                return Err(FollowUpError::Answered);
            }
            if answer.trim().is_empty() {
                return Err(FollowUpError::Missing("answer"));
            }
            Ok(vec![Event::Answered {
                follow_up: *follow_up,
                answer: answer.clone(),
            }])
        }
        (Some(d), Command::Tick) => Ok(d
            .follow_ups
            .iter()
            .filter(|f| f.open() && !f.overdue && f.due_at.is_some_and(|due| due <= now))
            .map(|f| Event::FollowUpOverdue { follow_up: f.id })
            .collect()),
    }
}

/// Applies an event (`at` and `actor` from its envelope).
pub fn apply(
    d: Option<Directive>,
    e: &Event,
    at: Timestamp,
    actor: &ActorRef,
) -> Option<Directive> {
    if let Event::Recorded { directive: n } = e {
        return Some(Directive {
            id: n.id,
            kind: n.kind,
            jurisdiction_id: n.jurisdiction_id,
            subject_kind: n.subject_kind.clone(),
            subject_id: n.subject_id,
            title: n.title.clone(),
            text: n.text.clone(),
            participants: n.participants.clone(),
            given_at: n.given_at,
            follow_ups: n.follow_ups.clone(),
            recorded_by: actor.clone(),
            recorded_at: at,
        });
    }
    let mut d = d?;
    match e {
        Event::Recorded { .. } => {}
        Event::Answered { follow_up, answer } => {
            if let Some(f) = d.follow_ups.iter_mut().find(|f| f.id == *follow_up) {
                f.answer = Some(answer.clone());
                f.answered_by = Some(actor.clone());
                f.answered_at = Some(at);
            }
        }
        Event::FollowUpOverdue { follow_up } => {
            if let Some(f) = d.follow_ups.iter_mut().find(|f| f.id == *follow_up) {
                f.overdue = true;
            }
        }
    }
    Some(d)
}
