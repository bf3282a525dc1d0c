//! Calls to people and their acknowledgements, with escalation: when a response is activated,
//! each post it needs is *called*; every recipient acknowledges personally (by link, API, in-app
//! or SMS reply); an escalation policy says what happens when nobody (or not everybody)
//! acknowledges in time — the deputy, the post above, the parent jurisdiction's office — and how
//! often unacknowledged recipients are called again. Pure: `decide`/`apply`/`tick` like
//! `incident.rs`; one callout stream per incident, shown in the incident's timeline.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PersonRef;
use crate::incident::CloseReason;

/// Where an escalation step goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The deputies of the called post.
    Deputy,
    /// The post above the called one (the plan's `above`, else the level's commander).
    Above,
    /// A named post of the plan, in the same jurisdiction.
    Post { post: String },
    /// The office of the parent jurisdiction (the holders of `post` there).
    ParentOffice { post: String },
}

impl Target {
    pub fn as_str(&self) -> &'static str {
        match self {
            Target::Deputy => "deputy",
            Target::Above => "above",
            Target::Post { .. } => "post",
            Target::ParentOffice { .. } => "parent_office",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Step {
    /// From the moment of the call.
    pub after_minutes: i64,
    pub to: Target,
}

/// An escalation policy as the plan gives it for a level.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Policy {
    pub steps: Vec<Step>,
    /// Every recipient must acknowledge personally; otherwise one acknowledgement answers the
    /// call.
    pub every_recipient: bool,
    /// Call unacknowledged recipients again this often…
    pub repeat_every_minutes: Option<i64>,
    /// …at most this many times.
    pub repeat_times: u32,
}

/// A person called, and whether and how they acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Recipient {
    pub person: PersonRef,
    /// `holder`, `deputy`, `above`, `post`, `parent_office`.
    pub reached_as: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub called_at: Timestamp,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub acked_at: Option<Timestamp>,
    pub ack_channel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Call {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    /// The post called (None for a call to named people).
    pub post: Option<String>,
    pub post_name: Option<String>,
    pub level: Option<String>,
    /// What the call is about, as the message says it.
    pub subject: String,
    pub lines: Vec<String>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub placed_at: Timestamp,
    pub recipients: Vec<Recipient>,
    pub policy: Policy,
    /// The next escalation step to take.
    pub next_step: usize,
    pub repeats_done: u32,
    pub closed: bool,
    /// Why an unanswered call was closed (the response ended, the report proved unfounded).
    #[serde(default)]
    pub closed_reason: Option<CloseReason>,
}

impl Call {
    /// Answered: one acknowledgement, or (every-recipient mode) all of the original recipients.
    pub fn answered(&self) -> bool {
        if self.policy.every_recipient {
            let original: Vec<&Recipient> = self
                .recipients
                .iter()
                .filter(|r| r.reached_as == "holder")
                .collect();
            if original.is_empty() {
                self.recipients.iter().any(|r| r.acked_at.is_some())
            } else {
                original.iter().all(|r| r.acked_at.is_some())
            }
        } else {
            self.recipients.iter().any(|r| r.acked_at.is_some())
        }
    }

    fn step_due(&self) -> Option<Timestamp> {
        let s = self.policy.steps.get(self.next_step)?;
        self.placed_at
            .checked_add(SignedDuration::from_mins(s.after_minutes))
            .ok()
    }

    fn repeat_due(&self) -> Option<Timestamp> {
        let every = self.policy.repeat_every_minutes?;
        if every <= 0 || self.repeats_done >= self.policy.repeat_times {
            return None;
        }
        self.placed_at
            .checked_add(SignedDuration::from_mins(
                every * i64::from(self.repeats_done + 1),
            ))
            .ok()
    }

    /// When something is next due for this call.
    pub fn next_due(&self) -> Option<Timestamp> {
        if self.closed || self.answered() {
            return None;
        }
        match (self.step_due(), self.repeat_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn unacked(&self) -> Vec<PersonRef> {
        self.recipients
            .iter()
            .filter(|r| r.acked_at.is_none())
            .map(|r| r.person.clone())
            .collect()
    }
}

/// All calls of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Callout {
    pub incident_id: Uuid,
    pub drill: bool,
    pub calls: Vec<Call>,
}

impl Callout {
    pub fn call(&self, id: Uuid) -> Option<&Call> {
        self.calls.iter().find(|c| c.id == id)
    }

    pub fn next_due(&self) -> Option<Timestamp> {
        self.calls.iter().filter_map(Call::next_due).min()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A post (or named people) was called.
    CallPlaced { call: Call, drill: bool },
    /// One recipient acknowledged, by a channel.
    CallAcknowledged {
        call_id: Uuid,
        person: PersonRef,
        channel: String,
        at: Timestamp,
        /// Who signed, when not the person called (a task acknowledged on their behalf).
        #[serde(default)]
        by: Option<PersonRef>,
    },
    /// Nobody (or not everybody) acknowledged in time: the call went further.
    CallEscalated {
        call_id: Uuid,
        step: usize,
        target: String,
        after_minutes: i64,
        recipients: Vec<PersonRef>,
        /// Set when the step found nobody to call (a roster gap).
        gap: Option<String>,
    },
    /// Unacknowledged recipients were called again.
    CallRepeated {
        call_id: Uuid,
        repeat: u32,
        recipients: Vec<PersonRef>,
    },
    /// The response ended (or the report proved unfounded): no more escalation.
    CallsClosed {
        #[serde(default)]
        reason: Option<CloseReason>,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::CallPlaced { .. } => "call_placed",
            Event::CallAcknowledged { .. } => "call_acknowledged",
            Event::CallEscalated { .. } => "call_escalated",
            Event::CallRepeated { .. } => "call_repeated",
            Event::CallsClosed { .. } => "calls_closed",
        }
    }

    /// The people this event must reach (the outbox rows it gives), with the call.
    pub fn to_notify<'a>(&'a self, state: &'a Callout) -> Option<(&'a Call, Vec<PersonRef>)> {
        match self {
            Event::CallPlaced { call, .. } => Some((
                call,
                call.recipients.iter().map(|r| r.person.clone()).collect(),
            )),
            Event::CallEscalated {
                call_id,
                recipients,
                ..
            }
            | Event::CallRepeated {
                call_id,
                recipients,
                ..
            } => state.call(*call_id).map(|c| (c, recipients.clone())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalloutError {
    #[error("no such call")]
    UnknownCall,
    #[error("this person was not called by this call")]
    NotARecipient,
    #[error("already acknowledged")]
    AlreadyAcknowledged,
}

impl CalloutError {
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            CalloutError::UnknownCall => crate::error::ErrorCode::UnknownCall,
            CalloutError::NotARecipient => crate::error::ErrorCode::NotARecipient,
            CalloutError::AlreadyAcknowledged => crate::error::ErrorCode::AlreadyAcknowledged,
        }
    }
}

/// An acknowledgement by `person` through `channel`. Acknowledging twice is refused with
/// `AlreadyAcknowledged` (the API answers it as a success that changed nothing).
pub fn acknowledge(
    state: &Callout,
    call_id: Uuid,
    person: &PersonRef,
    channel: &str,
    now: Timestamp,
) -> Result<Event, CalloutError> {
    let call = state.call(call_id).ok_or(CalloutError::UnknownCall)?;
    let r = call
        .recipients
        .iter()
        .find(|r| r.person.person_id == person.person_id)
        .ok_or(CalloutError::NotARecipient)?;
    if r.acked_at.is_some() {
        return Err(CalloutError::AlreadyAcknowledged);
    }
    Ok(Event::CallAcknowledged {
        call_id,
        person: r.person.clone(),
        channel: channel.to_string(),
        at: now,
        by: None,
    })
}

/// What falls due at `now`: escalation steps whose delay has passed without an answer, and
/// repeats. `resolve` finds the people a step reaches for a call.
pub fn tick(
    state: &Callout,
    now: Timestamp,
    resolve: &dyn Fn(&Call, &Target) -> Vec<PersonRef>,
) -> Vec<Event> {
    let mut out = Vec::new();
    for call in &state.calls {
        if call.closed || call.answered() {
            continue;
        }
        let mut next_step = call.next_step;
        while let Some(step) = call.policy.steps.get(next_step) {
            let due = call
                .placed_at
                .checked_add(SignedDuration::from_mins(step.after_minutes));
            if !due.is_ok_and(|d| d <= now) {
                break;
            }
            let found = resolve(call, &step.to);
            let fresh: Vec<PersonRef> = found
                .into_iter()
                .filter(|p| {
                    !call
                        .recipients
                        .iter()
                        .any(|r| r.person.person_id == p.person_id)
                })
                .collect();
            out.push(Event::CallEscalated {
                call_id: call.id,
                step: next_step,
                target: step.to.as_str().to_string(),
                after_minutes: step.after_minutes,
                gap: fresh
                    .is_empty()
                    .then(|| format!("{}：无可通知的人员", target_label(&step.to))),
                recipients: fresh,
            });
            next_step += 1;
        }
        if let Some(every) = call.policy.repeat_every_minutes
            && every > 0
        {
            let mut done = call.repeats_done;
            while done < call.policy.repeat_times {
                let due = call
                    .placed_at
                    .checked_add(SignedDuration::from_mins(every * i64::from(done + 1)));
                if !due.is_ok_and(|d| d <= now) {
                    break;
                }
                done += 1;
                let unacked = call.unacked();
                if !unacked.is_empty() {
                    out.push(Event::CallRepeated {
                        call_id: call.id,
                        repeat: done,
                        recipients: unacked,
                    });
                }
            }
        }
    }
    out
}

/// The Chinese name of a step's target, for the timeline.
pub fn target_label(t: &Target) -> &'static str {
    match t {
        Target::Deputy => "副职/AB角",
        Target::Above => "上一级职务",
        Target::Post { .. } => "指定职务",
        Target::ParentOffice { .. } => "上级办公室",
    }
}

/// Applies an event.
pub fn apply(mut state: Callout, e: &Event) -> Callout {
    match e {
        Event::CallPlaced { call, drill } => {
            state.drill = *drill;
            state.calls.push(call.clone());
        }
        Event::CallAcknowledged {
            call_id,
            person,
            channel,
            at,
            ..
        } => {
            if let Some(c) = state.calls.iter_mut().find(|c| c.id == *call_id)
                && let Some(r) = c
                    .recipients
                    .iter_mut()
                    .find(|r| r.person.person_id == person.person_id)
            {
                r.acked_at = Some(*at);
                r.ack_channel = Some(channel.clone());
            }
        }
        Event::CallEscalated {
            call_id,
            step,
            target,
            after_minutes,
            recipients,
            ..
        } => {
            if let Some(c) = state.calls.iter_mut().find(|c| c.id == *call_id) {
                c.next_step = step + 1;
                let at = c
                    .placed_at
                    .checked_add(SignedDuration::from_mins(*after_minutes))
                    .unwrap_or(c.placed_at);
                for p in recipients {
                    c.recipients.push(Recipient {
                        person: p.clone(),
                        reached_as: target.clone(),
                        called_at: at,
                        acked_at: None,
                        ack_channel: None,
                    });
                }
            }
        }
        Event::CallRepeated {
            call_id, repeat, ..
        } => {
            if let Some(c) = state.calls.iter_mut().find(|c| c.id == *call_id) {
                c.repeats_done = *repeat;
            }
        }
        Event::CallsClosed { reason } => {
            for c in &mut state.calls {
                if !c.closed && !c.answered() {
                    c.closed_reason = *reason;
                }
                c.closed = true;
            }
        }
    }
    state
}

/// The id of an incident's callout stream.
pub fn stream_id(incident_id: Uuid) -> Uuid {
    Uuid::new_v5(&incident_id, b"callout")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u128, name: &str) -> PersonRef {
        PersonRef {
            person_id: Uuid::from_u128(n),
            name: name.into(),
        }
    }

    fn call(policy: Policy, at: Timestamp, people: Vec<PersonRef>) -> Call {
        Call {
            id: Uuid::from_u128(100),
            jurisdiction_id: Uuid::from_u128(200),
            post: Some("town-head".into()),
            post_name: Some("镇长".into()),
            level: Some("II".into()),
            subject: "启动响应".into(),
            lines: vec![],
            placed_at: at,
            recipients: people
                .into_iter()
                .map(|person| Recipient {
                    person,
                    reached_as: "holder".into(),
                    called_at: at,
                    acked_at: None,
                    ack_channel: None,
                })
                .collect(),
            policy,
            next_step: 0,
            repeats_done: 0,
            closed: false,
            closed_reason: None,
        }
    }

    #[test]
    fn every_recipient_mode_waits_for_all_and_repeats_to_the_silent() {
        let t0: Timestamp = "2026-10-05T01:00:00Z".parse().unwrap();
        let policy = Policy {
            steps: vec![],
            every_recipient: true,
            repeat_every_minutes: Some(3),
            repeat_times: 2,
        };
        let c = call(policy, t0, vec![p(1, "甲"), p(2, "乙")]);
        let mut s = apply(
            Callout::default(),
            &Event::CallPlaced {
                call: c,
                drill: false,
            },
        );
        let e = acknowledge(&s, Uuid::from_u128(100), &p(1, "甲"), "api", t0).unwrap();
        s = apply(s, &e);
        assert_eq!(
            acknowledge(&s, Uuid::from_u128(100), &p(1, "甲"), "sms", t0),
            Err(CalloutError::AlreadyAcknowledged)
        );
        assert!(!s.calls[0].answered());
        let at = t0.checked_add(SignedDuration::from_mins(7)).unwrap();
        let ev = tick(&s, at, &|_, _| vec![]);
        assert_eq!(ev.len(), 2, "{ev:?}");
        for e in &ev {
            let Event::CallRepeated { recipients, .. } = e else {
                panic!()
            };
            assert_eq!(recipients, &vec![p(2, "乙")]);
            s = apply(s, e);
        }
        assert!(tick(&s, at, &|_, _| vec![]).is_empty());
        let e = acknowledge(&s, Uuid::from_u128(100), &p(2, "乙"), "link", at).unwrap();
        s = apply(s, &e);
        assert!(s.calls[0].answered());
        assert_eq!(s.next_due(), None);
    }
}
