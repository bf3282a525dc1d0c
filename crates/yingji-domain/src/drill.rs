//! Drills (演练): an exercise of a plan, run as a drill incident on the same engine, with a
//! script of timed injects played against it, and an evaluation of the times measured against
//! the plan's limits. Every step is an event of the drill's stream; the drill incident has its
//! own stream, as any incident.
//!
//! The engine decides *whether* an inject is due and in which order; what an inject does to the
//! incident is decided by the incident's own rules (the application plays it as an incident
//! command and records here whether it applied).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yingji_plan::drill::{DrillScript, InjectAction};

use crate::ActorRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = DrillStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Started; injects still to play.
    Running,
    /// Every inject played (or the drill stopped); the evaluation is owed.
    Ended,
    /// Evaluated.
    Evaluated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Ended => "ended",
            Status::Evaluated => "evaluated",
        }
    }
}

/// What became of one inject of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not yet due.
    Pending,
    /// Applied to the drill incident.
    Played,
    /// Due, but the incident's rules refused it (the reason says why).
    Skipped,
    /// Never played: the drill was stopped first.
    NotPlayed,
}

/// One inject as the drill has played it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct InjectState {
    /// Its position in the script (0-based).
    pub index: usize,
    /// `headcount`, `behaviours`, `location`, `message` or `end`.
    pub kind: String,
    /// A sentence saying what it does, as written in the script.
    pub summary: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub due_at: Timestamp,
    pub outcome: Outcome,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub played_at: Option<Timestamp>,
    /// Why it was skipped.
    pub reason: Option<String>,
}

/// One time measured in the drill against the plan's limit for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Measure {
    /// What was measured (a task's title, a report upward, the activation…).
    pub what: String,
    /// The plan's limit in seconds, where the plan sets one.
    pub limit_s: Option<i64>,
    /// The time taken in seconds; None when it never happened.
    pub measured_s: Option<i64>,
    /// Whether the limit was kept (None without a limit).
    pub met: Option<bool>,
}

/// The evaluation: the measured times and the evaluators' conclusion. The corrective actions
/// are the drill incident's review's (owners, deadlines, overdue marking, the plan revision
/// that answers each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Evaluation {
    pub measures: Vec<Measure>,
    pub summary: String,
    pub by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Drill {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub plan_version: i64,
    /// The script it runs (as started: from a file or the console's form).
    #[cfg_attr(feature = "schema", schema(value_type = Object))]
    pub script: DrillScript,
    /// The drill incident the injects are played against.
    pub incident_id: Uuid,
    pub status: Status,
    pub started_by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub started_at: Timestamp,
    pub injects: Vec<InjectState>,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub ended_at: Option<Timestamp>,
    /// Why it was stopped before its last inject.
    pub stopped: Option<String>,
    pub evaluation: Option<Evaluation>,
}

impl Drill {
    /// The next inject to play, if the drill is running.
    pub fn next(&self) -> Option<&InjectState> {
        if self.status != Status::Running {
            return None;
        }
        self.injects.iter().find(|i| i.outcome == Outcome::Pending)
    }

    /// When the ticker must next look at the drill: its next inject's time.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.next().map(|i| i.due_at)
    }
}

/// A sentence for an inject of the script, in the script's own words.
pub fn summary(a: &InjectAction) -> String {
    match a {
        InjectAction::Headcount { headcount } => format!("现场人数变为 {headcount} 人"),
        InjectAction::Behaviours { behaviours } => format!("现场出现：{}", behaviours.join("、")),
        InjectAction::Location { location } => format!("地点变为：{location}"),
        InjectAction::Message { text, to } => match to {
            Some(t) => format!("致 {t}：{text}"),
            None => text.clone(),
        },
        InjectAction::End => "结束应急响应".to_string(),
    }
}

/// A drill as started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub plan_version: i64,
    pub script: DrillScript,
    pub incident_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start(Box<Start>),
    /// The next inject was played (`skipped`: the incident's rules refused it, and why).
    Play {
        index: usize,
        skipped: Option<String>,
    },
    /// Stops the drill before its last inject.
    Stop {
        reason: String,
    },
    /// Records the evaluation.
    Evaluate {
        measures: Vec<Measure>,
        summary: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Started {
        start: Box<Start>,
    },
    InjectPlayed {
        index: usize,
    },
    InjectSkipped {
        index: usize,
        reason: String,
    },
    Ended,
    Stopped {
        reason: String,
    },
    Evaluated {
        measures: Vec<Measure>,
        summary: String,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Started { .. } => "drill_started",
            Event::InjectPlayed { .. } => "inject_played",
            Event::InjectSkipped { .. } => "inject_skipped",
            Event::Ended => "drill_ended",
            Event::Stopped { .. } => "drill_stopped",
            Event::Evaluated { .. } => "drill_evaluated",
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Event::InjectSkipped { reason, .. } | Event::Stopped { reason } => Some(reason.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrillError {
    #[error("`{0}` is required")]
    Missing(&'static str),
    #[error("a drill script needs at least one inject")]
    NoInjects,
    #[error("a drill in state `{status}` cannot {action}")]
    Illegal {
        status: &'static str,
        action: &'static str,
    },
    #[error("inject {index} is not the next one due")]
    NotDue { index: usize },
}

impl DrillError {
    pub fn code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode as C;
        match self {
            DrillError::Missing(_) => C::MissingField,
            DrillError::NoInjects => C::InvalidField,
            DrillError::Illegal { .. } | DrillError::NotDue { .. } => C::IllegalTransition,
        }
    }
}

/// Decides a command on a drill (None before it starts) at `now`.
pub fn decide(d: Option<&Drill>, cmd: &Command, now: Timestamp) -> Result<Vec<Event>, DrillError> {
    let illegal = |d: &Drill, action| DrillError::Illegal {
        status: d.status.as_str(),
        action,
    };
    match (d, cmd) {
        (None, Command::Start(s)) => {
            if s.script.title.trim().is_empty() {
                return Err(DrillError::Missing("title"));
            }
            if s.script.injects.is_empty() {
                return Err(DrillError::NoInjects);
            }
            Ok(vec![Event::Started { start: s.clone() }])
        }
        (Some(d), Command::Start(_)) => Err(illegal(d, "start again")),
        (None, _) => Err(DrillError::Missing("drill")),
        (Some(d), Command::Play { index, skipped }) => {
            let Some(next) = d.next() else {
                return Err(illegal(d, "play an inject"));
            };
            if next.index != *index || next.due_at > now {
                return Err(DrillError::NotDue { index: *index });
            }
            let mut events = vec![match skipped {
                Some(reason) => Event::InjectSkipped {
                    index: *index,
                    reason: reason.clone(),
                },
                None => Event::InjectPlayed { index: *index },
            }];
            let last = index + 1 >= d.injects.len();
            let ends = skipped.is_none() && next.kind == "end";
            if last || ends {
                events.push(Event::Ended);
            }
            Ok(events)
        }
        (Some(d), Command::Stop { reason }) => {
            if d.status != Status::Running {
                return Err(illegal(d, "be stopped"));
            }
            if reason.trim().is_empty() {
                return Err(DrillError::Missing("reason"));
            }
            Ok(vec![Event::Stopped {
                reason: reason.clone(),
            }])
        }
        (Some(d), Command::Evaluate { measures, summary }) => {
            if d.status != Status::Ended {
                return Err(illegal(d, "be evaluated"));
            }
            if summary.trim().is_empty() {
                return Err(DrillError::Missing("summary"));
            }
            Ok(vec![Event::Evaluated {
                measures: measures.clone(),
                summary: summary.clone(),
            }])
        }
    }
}

/// Applies an event (`at` and `actor` from its envelope).
pub fn apply(d: Option<Drill>, e: &Event, at: Timestamp, actor: &ActorRef) -> Option<Drill> {
    if let Event::Started { start: s } = e {
        let injects = s
            .script
            .injects
            .iter()
            .enumerate()
            .map(|(index, i)| InjectState {
                index,
                kind: i.action.kind().to_string(),
                summary: i.note.clone().unwrap_or_else(|| summary(&i.action)),
                due_at: at
                    .checked_add(SignedDuration::from_secs(
                        i64::try_from(i.at_secs).unwrap_or(i64::MAX),
                    ))
                    .unwrap_or(at),
                outcome: Outcome::Pending,
                played_at: None,
                reason: None,
            })
            .collect();
        return Some(Drill {
            id: s.id,
            jurisdiction_id: s.jurisdiction_id,
            plan_id: s.plan_id.clone(),
            plan_version: s.plan_version,
            script: s.script.clone(),
            incident_id: s.incident_id,
            status: Status::Running,
            started_by: actor.clone(),
            started_at: at,
            injects,
            ended_at: None,
            stopped: None,
            evaluation: None,
        });
    }
    let mut d = d?;
    match e {
        Event::Started { .. } => {}
        Event::InjectPlayed { index } => {
            if let Some(i) = d.injects.get_mut(*index) {
                i.outcome = Outcome::Played;
                i.played_at = Some(at);
            }
        }
        Event::InjectSkipped { index, reason } => {
            if let Some(i) = d.injects.get_mut(*index) {
                i.outcome = Outcome::Skipped;
                i.played_at = Some(at);
                i.reason = Some(reason.clone());
            }
        }
        Event::Ended | Event::Stopped { .. } => {
            d.status = Status::Ended;
            d.ended_at = Some(at);
            if let Event::Stopped { reason } = e {
                d.stopped = Some(reason.clone());
            }
            for i in &mut d.injects {
                if i.outcome == Outcome::Pending {
                    i.outcome = Outcome::NotPlayed;
                }
            }
        }
        Event::Evaluated { measures, summary } => {
            d.status = Status::Evaluated;
            d.evaluation = Some(Evaluation {
                measures: measures.clone(),
                summary: summary.clone(),
                by: actor.clone(),
                at,
            });
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yingji_plan::drill::{DrillReport, Inject};

    fn actor() -> ActorRef {
        ActorRef {
            person_id: Uuid::nil(),
            name: "演练导调".into(),
        }
    }

    fn start(injects: Vec<Inject>) -> Start {
        Start {
            id: Uuid::now_v7(),
            jurisdiction_id: Uuid::now_v7(),
            plan_id: "p".into(),
            plan_version: 1,
            script: DrillScript {
                title: "演练".into(),
                plan: "p".into(),
                scenario: "情景".into(),
                level: None,
                participants: vec![],
                observers: vec![],
                report: DrillReport {
                    title: "演练：聚集".into(),
                    headcount: 40,
                    venue: None,
                    location: None,
                    behaviours: vec![],
                },
                injects,
            },
            incident_id: Uuid::now_v7(),
        }
    }

    fn inject(at_secs: u64, action: InjectAction) -> Inject {
        Inject {
            at_secs,
            note: None,
            action,
        }
    }

    fn run(d: Option<Drill>, cmd: &Command, now: Timestamp) -> Result<Drill, DrillError> {
        let events = decide(d.as_ref(), cmd, now)?;
        Ok(events
            .iter()
            .fold(d, |d, e| apply(d, e, now, &actor()))
            .expect("a drill"))
    }

    #[test]
    fn injects_play_in_order_when_due_and_the_last_ends_the_drill() {
        let t0: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let s = start(vec![
            inject(600, InjectAction::Headcount { headcount: 300 }),
            inject(1500, InjectAction::End),
        ]);
        let d = run(None, &Command::Start(Box::new(s)), t0).unwrap();
        assert_eq!(d.next_due(), Some(t0 + SignedDuration::from_mins(10)));
        // Not yet due, and not out of order.
        let early = t0 + SignedDuration::from_mins(9);
        let play0 = Command::Play {
            index: 0,
            skipped: None,
        };
        assert!(decide(Some(&d), &play0, early).is_err());
        let t10 = t0 + SignedDuration::from_mins(10);
        let play1 = Command::Play {
            index: 1,
            skipped: None,
        };
        assert!(decide(Some(&d), &play1, t10).is_err());
        let d = run(Some(d), &play0, t10).unwrap();
        assert_eq!(d.injects[0].outcome, Outcome::Played);
        assert_eq!(d.status, Status::Running);
        let t25 = t0 + SignedDuration::from_mins(25);
        let d = run(Some(d), &play1, t25).unwrap();
        assert_eq!(d.status, Status::Ended);
        assert_eq!(d.next_due(), None);
        // Evaluated once, after the end.
        let eval = Command::Evaluate {
            measures: vec![],
            summary: "总体顺利".into(),
        };
        let d = run(Some(d), &eval, t25).unwrap();
        assert_eq!(d.status, Status::Evaluated);
        assert!(decide(Some(&d), &eval, t25).is_err());
    }

    #[test]
    fn a_stopped_drill_marks_the_rest_not_played() {
        let t0: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let s = start(vec![
            inject(600, InjectAction::Headcount { headcount: 300 }),
            inject(1500, InjectAction::End),
        ]);
        let d = run(None, &Command::Start(Box::new(s)), t0).unwrap();
        let d = run(
            Some(d),
            &Command::Stop {
                reason: "真实警情".into(),
            },
            t0,
        )
        .unwrap();
        assert_eq!(d.status, Status::Ended);
        assert!(d.injects.iter().all(|i| i.outcome == Outcome::NotPlayed));
    }
}
