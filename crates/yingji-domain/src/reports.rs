//! Scheduled reports (定时报告, 零报告) from a plan's `[[schedules]]`: which report slots fall on a
//! day, who owes each, and the board of who has submitted, submitted nil, is still within time, or
//! is late. Pure: the server resolves the owing parties and loads the submissions.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::Serialize;
use yingji_plan::Plan;
use yingji_plan::model::{Recurrence, Schedule};

/// One report due at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub schedule_id: String,
    pub schedule_name: String,
    pub due_at: Timestamp,
    pub nil_allowed: bool,
    /// The `from` ids of the schedule (posts, units, groups).
    #[serde(skip)]
    pub from: Vec<String>,
}

fn times_on(rec: &Recurrence, d: Date) -> Vec<Time> {
    match rec {
        Recurrence::Daily(ts) => ts.clone(),
        Recurrence::Weekly(w, ts) if d.weekday() == *w => ts.clone(),
        Recurrence::Monthly(day, ts) => {
            let last = d.last_of_month().day();
            if d.day() == (*day).min(last) {
                ts.clone()
            } else {
                vec![]
            }
        }
        Recurrence::Weekly(..) => vec![],
    }
}

fn active(plan: &Plan, s: &Schedule, d: Date) -> bool {
    match &s.period {
        None => true,
        Some(p) => plan
            .special_periods
            .iter()
            .find(|sp| sp.id.value == p.value)
            .is_some_and(|sp| sp.contains(d)),
    }
}

/// The report slots of a plan on a (local) day, in time order.
pub fn slots_on(plan: &Plan, d: Date) -> Vec<Slot> {
    let tz: &TimeZone = &plan.time.tz;
    let mut out = vec![];
    for s in &plan.schedules {
        if !active(plan, s, d) {
            continue;
        }
        for t in times_on(&s.recurrence, d) {
            let Ok(z) = d.to_datetime(t).to_zoned(tz.clone()) else {
                continue;
            };
            out.push(Slot {
                schedule_id: s.id.value.clone(),
                schedule_name: s.name.clone(),
                due_at: z.timestamp(),
                nil_allowed: s.nil_allowed,
                from: s.from.iter().map(|f| f.value.clone()).collect(),
            });
        }
    }
    out.sort_by(|a, b| (a.due_at, &a.schedule_id).cmp(&(b.due_at, &b.schedule_id)));
    out
}

/// Someone who owes a report: a post in one jurisdiction, or a member unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub key: String,
    pub name: String,
}

/// A submission as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub schedule_id: String,
    pub due_at: Timestamp,
    pub party: String,
    pub nil: bool,
    pub at: Timestamp,
    /// What was reported (empty for a nil report).
    pub content: String,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardState {
    /// Submitted in time.
    Submitted,
    /// "Nothing to report", in time (零报告).
    Nil,
    /// Submitted, but after the due time.
    SubmittedLate,
    /// Not yet submitted; the due time has not passed.
    Pending,
    /// Not submitted and the due time has passed.
    Late,
}

#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardRow {
    pub schedule_id: String,
    pub schedule_name: String,
    #[cfg_attr(feature = "schema", schema(value_type = String))]
    pub due_at: Timestamp,
    pub party: String,
    pub party_name: String,
    pub state: BoardState,
    pub nil: bool,
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>))]
    pub submitted_at: Option<Timestamp>,
    /// What was reported, once submitted (empty for a nil report).
    pub content: Option<String>,
}

/// The board: every slot × owing party, with its state at `now`.
pub fn board(
    slots: &[Slot],
    parties: &dyn Fn(&Slot) -> Vec<Party>,
    submissions: &[Submitted],
    now: Timestamp,
) -> Vec<BoardRow> {
    let mut rows = vec![];
    for s in slots {
        for p in parties(s) {
            let sub = submissions.iter().find(|x| {
                x.schedule_id == s.schedule_id && x.due_at == s.due_at && x.party == p.key
            });
            let state = match sub {
                Some(x) if x.at > s.due_at => BoardState::SubmittedLate,
                Some(x) if x.nil => BoardState::Nil,
                Some(_) => BoardState::Submitted,
                None if now > s.due_at => BoardState::Late,
                None => BoardState::Pending,
            };
            rows.push(BoardRow {
                schedule_id: s.schedule_id.clone(),
                schedule_name: s.schedule_name.clone(),
                due_at: s.due_at,
                party: p.key.clone(),
                party_name: p.name.clone(),
                state,
                nil: sub.is_some_and(|x| x.nil),
                submitted_at: sub.map(|x| x.at),
                content: sub.map(|x| x.content.clone()),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(h: &str) -> Slot {
        Slot {
            schedule_id: "daily".into(),
            schedule_name: "零报告".into(),
            due_at: h.parse().unwrap(),
            nil_allowed: true,
            from: vec!["v".into()],
        }
    }

    #[test]
    fn exactly_the_silent_unit_is_late() {
        let s = slot("2026-08-12T07:00:00Z");
        let parties = |_: &Slot| {
            ["a", "b", "c"]
                .iter()
                .map(|k| Party {
                    key: k.to_string(),
                    name: k.to_uppercase(),
                })
                .collect()
        };
        let sub = |p: &str, nil: bool, at: &str| Submitted {
            content: String::new(),
            schedule_id: "daily".into(),
            due_at: s.due_at,
            party: p.into(),
            nil,
            at: at.parse().unwrap(),
        };
        let subs = vec![
            sub("a", false, "2026-08-12T06:30:00Z"),
            sub("b", true, "2026-08-12T06:40:00Z"),
        ];
        let before = board(
            std::slice::from_ref(&s),
            &parties,
            &subs,
            "2026-08-12T06:59:00Z".parse().unwrap(),
        );
        assert!(before.iter().all(|r| r.state != BoardState::Late));
        let after = board(
            &[s],
            &parties,
            &subs,
            "2026-08-12T07:01:00Z".parse().unwrap(),
        );
        let states: Vec<_> = after.iter().map(|r| (r.party.as_str(), r.state)).collect();
        assert_eq!(
            states,
            vec![
                ("a", BoardState::Submitted),
                ("b", BoardState::Nil),
                ("c", BoardState::Late)
            ]
        );
    }
}
