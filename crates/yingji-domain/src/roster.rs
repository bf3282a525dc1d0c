//! Who holds a post at a given moment: standing holders and deputies, duty rosters with shifts
//! and a rotation, holiday rotations, overrides and swaps. Pure: the store keeps the rosters,
//! this module answers `resolve(post, at)` and lists the gaps in a period.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::PersonRef;

/// Which days are public holidays. The working-day calendar (`calendar.rs`) implements this too;
/// rosters only need to know whether a day is a holiday.
pub trait HolidayCalendar {
    fn is_holiday(&self, d: Date) -> bool;
}

/// A plain set of holiday dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidaySet(pub BTreeSet<Date>);

impl HolidayCalendar for HolidaySet {
    fn is_holiday(&self, d: Date) -> bool {
        self.0.contains(&d)
    }
}

/// A shift of a duty roster, in the roster's zone. `end <= start` means it ends the next day
/// (a night shift).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Shift {
    pub id: String,
    pub name: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, example = "08:30"))]
    pub start: Time,
    #[cfg_attr(feature = "schema", schema(value_type = String, example = "08:30"))]
    pub end: Time,
}

/// Someone else covers a window (sickness, business trip, training).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Override {
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub until: Timestamp,
    pub person: PersonRef,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Two duties exchange their people: whoever the rotation puts on `a` does `b` and vice versa.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Swap {
    pub a: Slot,
    pub b: Slot,
}

/// One duty: a shift on a date (the date its start falls on).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Slot {
    #[cfg_attr(feature = "schema", schema(value_type = String, format = Date))]
    pub date: Date,
    pub shift: String,
}

/// A duty roster for one post: every shift of a day goes round `rotation` (one step per duty,
/// counted from `start_date`); on holidays the `holiday_rotation` goes round instead, one step per
/// holiday duty, when it is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Roster {
    /// The post (taken from the URL when stored through the API).
    #[serde(default)]
    pub post: String,
    #[serde(default = "default_zone")]
    pub time_zone: String,
    pub shifts: Vec<Shift>,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = Date))]
    pub start_date: Date,
    pub rotation: Vec<PersonRef>,
    #[serde(default)]
    pub holiday_rotation: Vec<PersonRef>,
    #[serde(default)]
    pub overrides: Vec<Override>,
    #[serde(default)]
    pub swaps: Vec<Swap>,
}

fn default_zone() -> String {
    "Asia/Shanghai".into()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    #[error("unknown time zone `{0}`")]
    Zone(String),
    #[error("a roster needs at least one shift")]
    NoShift,
    #[error("shift id `{0}` is listed twice")]
    DuplicateShift(String),
    #[error("a roster needs at least one person in `rotation`")]
    EmptyRotation,
    #[error("override ends before it starts")]
    OverrideOrder,
    #[error("swap names shift `{0}`, which the roster does not have")]
    UnknownShift(String),
}

impl RosterError {
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            RosterError::Zone(_) => crate::error::ErrorCode::InvalidTimeZone,
            RosterError::NoShift => crate::error::ErrorCode::RosterWithoutShift,
            RosterError::DuplicateShift(_) => crate::error::ErrorCode::DuplicateShift,
            RosterError::EmptyRotation => crate::error::ErrorCode::EmptyRotation,
            RosterError::OverrideOrder => crate::error::ErrorCode::OverrideOrder,
            RosterError::UnknownShift(_) => crate::error::ErrorCode::UnknownShift,
        }
    }
}

/// How a holder was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The rotation of a duty roster.
    Rotation,
    /// The holiday rotation.
    Holiday,
    /// A swap of two duties.
    Swap,
    /// An override for a window.
    Override,
    /// A standing holder of the post.
    Holder,
    /// A deputy, because no principal holds the post.
    Deputy,
}

/// Who holds a post at a moment, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Resolved {
    pub people: Vec<PersonRef>,
    pub via: Option<Via>,
    /// The duty it came from, for roster answers.
    pub slot: Option<Slot>,
}

impl Resolved {
    pub fn none() -> Resolved {
        Resolved {
            people: vec![],
            via: None,
            slot: None,
        }
    }
}

impl Roster {
    pub fn validate(&self) -> Result<(), RosterError> {
        TimeZone::get(&self.time_zone).map_err(|_| RosterError::Zone(self.time_zone.clone()))?;
        if self.shifts.is_empty() {
            return Err(RosterError::NoShift);
        }
        let mut seen = BTreeSet::new();
        for s in &self.shifts {
            if !seen.insert(&s.id) {
                return Err(RosterError::DuplicateShift(s.id.clone()));
            }
        }
        if self.rotation.is_empty() {
            return Err(RosterError::EmptyRotation);
        }
        if self.overrides.iter().any(|o| o.until <= o.from) {
            return Err(RosterError::OverrideOrder);
        }
        for sw in &self.swaps {
            for s in [&sw.a, &sw.b] {
                if !self.shifts.iter().any(|x| x.id == s.shift) {
                    return Err(RosterError::UnknownShift(s.shift.clone()));
                }
            }
        }
        Ok(())
    }

    fn tz(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    /// The duty covering `at`, if a shift does.
    pub fn slot_at(&self, at: Timestamp) -> Option<Slot> {
        let local = at.to_zoned(self.tz());
        let (d, t) = (local.date(), local.time());
        for s in &self.shifts {
            let overnight = s.end <= s.start;
            if !overnight && t >= s.start && t < s.end {
                return Some(Slot {
                    date: d,
                    shift: s.id.clone(),
                });
            }
            if overnight {
                if t >= s.start {
                    return Some(Slot {
                        date: d,
                        shift: s.id.clone(),
                    });
                }
                if t < s.end {
                    return d.yesterday().ok().map(|y| Slot {
                        date: y,
                        shift: s.id.clone(),
                    });
                }
            }
        }
        None
    }

    /// Who the rotation puts on a duty, before swaps.
    fn scheduled(&self, slot: &Slot, cal: &dyn HolidayCalendar) -> Option<(PersonRef, Via)> {
        let shift_ix = self.shifts.iter().position(|s| s.id == slot.shift)? as i64;
        let per_day = self.shifts.len() as i64;
        if cal.is_holiday(slot.date) && !self.holiday_rotation.is_empty() {
            // Count holiday duties since the start date, so that the holiday rotation goes
            // round fairly across the year.
            let mut n: i64 = 0;
            let (lo, hi) = if slot.date >= self.start_date {
                (self.start_date, slot.date)
            } else {
                (slot.date, self.start_date)
            };
            let mut d = lo;
            while d < hi {
                if cal.is_holiday(d) {
                    n += 1;
                }
                d = d.tomorrow().ok()?;
            }
            if slot.date < self.start_date {
                n = -n;
            }
            let ix = (n * per_day + shift_ix).rem_euclid(self.holiday_rotation.len() as i64);
            return Some((self.holiday_rotation[ix as usize].clone(), Via::Holiday));
        }
        let days = (slot.date - self.start_date).get_days() as i64;
        let ix = (days * per_day + shift_ix).rem_euclid(self.rotation.len() as i64);
        Some((self.rotation[ix as usize].clone(), Via::Rotation))
    }

    /// Who is on duty at `at`: an override first, then the rotation with swaps applied.
    pub fn on_duty(&self, at: Timestamp, cal: &dyn HolidayCalendar) -> Resolved {
        if let Some(o) = self
            .overrides
            .iter()
            .rev()
            .find(|o| o.from <= at && at < o.until)
        {
            return Resolved {
                people: vec![o.person.clone()],
                via: Some(Via::Override),
                slot: self.slot_at(at),
            };
        }
        let Some(slot) = self.slot_at(at) else {
            return Resolved::none();
        };
        for sw in &self.swaps {
            let other = if sw.a == slot {
                Some(&sw.b)
            } else if sw.b == slot {
                Some(&sw.a)
            } else {
                None
            };
            if let Some(other) = other
                && let Some((p, _)) = self.scheduled(other, cal)
            {
                return Resolved {
                    people: vec![p],
                    via: Some(Via::Swap),
                    slot: Some(slot),
                };
            }
        }
        match self.scheduled(&slot, cal) {
            Some((p, via)) => Resolved {
                people: vec![p],
                via: Some(via),
                slot: Some(slot),
            },
            None => Resolved::none(),
        }
    }
}

/// The standing holders of one post in one jurisdiction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostHolders {
    pub principals: Vec<PersonRef>,
    pub deputies: Vec<PersonRef>,
}

/// Who holds `post` at `at`: the duty roster when the post has one and it covers the moment,
/// else the standing principals, else the deputies.
pub fn resolve(
    holders: &PostHolders,
    roster: Option<&Roster>,
    at: Timestamp,
    cal: &dyn HolidayCalendar,
) -> Resolved {
    if let Some(r) = roster {
        let on = r.on_duty(at, cal);
        if !on.people.is_empty() {
            return on;
        }
    }
    if !holders.principals.is_empty() {
        return Resolved {
            people: holders.principals.clone(),
            via: Some(Via::Holder),
            slot: None,
        };
    }
    if !holders.deputies.is_empty() {
        return Resolved {
            people: holders.deputies.clone(),
            via: Some(Via::Deputy),
            slot: None,
        };
    }
    Resolved::none()
}

/// A stretch of time in which nobody holds a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub post: String,
    pub from: Timestamp,
    pub until: Timestamp,
}

/// The gaps of one post in `[from, until)`, sampled every `step` and merged.
pub fn gaps(
    post: &str,
    holders: &PostHolders,
    roster: Option<&Roster>,
    from: Timestamp,
    until: Timestamp,
    step: SignedDuration,
    cal: &dyn HolidayCalendar,
) -> Vec<Gap> {
    let mut out: Vec<Gap> = Vec::new();
    let mut t = from;
    let step = if step.is_positive() {
        step
    } else {
        SignedDuration::from_mins(15)
    };
    while t < until {
        let next = t.checked_add(step).unwrap_or(until).min(until);
        if resolve(holders, roster, t, cal).people.is_empty() {
            match out.last_mut() {
                Some(g) if g.until == t => g.until = next,
                _ => out.push(Gap {
                    post: post.to_string(),
                    from: t,
                    until: next,
                }),
            }
        }
        t = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn p(n: u128, name: &str) -> PersonRef {
        PersonRef {
            person_id: Uuid::from_u128(n),
            name: name.into(),
        }
    }

    fn ts(s: &str) -> Timestamp {
        format!("{s}+08:00[Asia/Shanghai]")
            .parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
    }

    fn roster() -> Roster {
        Roster {
            post: "duty-officer".into(),
            time_zone: "Asia/Shanghai".into(),
            shifts: vec![
                Shift {
                    id: "day".into(),
                    name: "白班".into(),
                    start: Time::constant(8, 30, 0, 0),
                    end: Time::constant(17, 30, 0, 0),
                },
                Shift {
                    id: "night".into(),
                    name: "夜班".into(),
                    start: Time::constant(17, 30, 0, 0),
                    end: Time::constant(8, 30, 0, 0),
                },
            ],
            start_date: jiff::civil::date(2026, 9, 28),
            rotation: vec![p(1, "甲"), p(2, "乙"), p(3, "丙")],
            holiday_rotation: vec![p(4, "丁"), p(5, "戊")],
            overrides: vec![],
            swaps: vec![],
        }
    }

    fn holidays() -> HolidaySet {
        HolidaySet(
            [1, 2, 3]
                .into_iter()
                .map(|d| jiff::civil::date(2026, 10, d))
                .collect(),
        )
    }

    #[test]
    fn rotation_across_a_holiday_and_a_swap() {
        let mut r = roster();
        r.validate().unwrap();
        let cal = holidays();
        let who = |r: &Roster, s: &str| r.on_duty(ts(s), &cal).people[0].name.clone();
        // 28 Sep day: step 0 → 甲; night: step 1 → 乙; 30 Sep night at 02:00 belongs to 29 Sep.
        assert_eq!(who(&r, "2026-09-28T09:00:00"), "甲");
        assert_eq!(who(&r, "2026-09-28T23:00:00"), "乙");
        assert_eq!(who(&r, "2026-09-29T02:00:00"), "乙");
        assert_eq!(who(&r, "2026-09-30T18:00:00"), "丙"); // day 2 night: 2*2+1=5 → 5 % 3 → 丙
        // 1–3 Oct are holidays: the holiday rotation covers them.
        assert_eq!(who(&r, "2026-10-01T09:00:00"), "丁");
        assert_eq!(who(&r, "2026-10-01T20:00:00"), "戊");
        assert_eq!(who(&r, "2026-10-02T09:00:00"), "丁");
        let v = r.on_duty(ts("2026-10-02T09:00:00"), &cal);
        assert_eq!(v.via, Some(Via::Holiday));
        // The night shift of 3 Oct (a holiday) runs into the morning of 4 Oct.
        assert_eq!(who(&r, "2026-10-04T07:00:00"), "戊");
        // 4 Oct is a working day again: day 6 → 12 % 3 = 0 → 甲.
        assert_eq!(who(&r, "2026-10-04T09:00:00"), "甲");
        // The day duty of 5 Oct (14 % 3 → 丙) and the night of 4 Oct (13 % 3 → 乙) swap people.
        let d5 = r.on_duty(ts("2026-10-05T09:00:00"), &cal).people[0].clone();
        let n4 = r.on_duty(ts("2026-10-04T20:00:00"), &cal).people[0].clone();
        assert_ne!(d5, n4);
        r.swaps.push(Swap {
            a: Slot {
                date: jiff::civil::date(2026, 10, 5),
                shift: "day".into(),
            },
            b: Slot {
                date: jiff::civil::date(2026, 10, 4),
                shift: "night".into(),
            },
        });
        r.validate().unwrap();
        let after_d5 = r.on_duty(ts("2026-10-05T09:00:00"), &cal);
        let after_n4 = r.on_duty(ts("2026-10-04T20:00:00"), &cal);
        assert_eq!(after_d5.people[0], n4);
        assert_eq!(after_d5.via, Some(Via::Swap));
        assert_eq!(after_n4.people[0], d5);
        // An override wins over everything in its window, and only there.
        r.overrides.push(Override {
            from: ts("2026-10-05T10:00:00"),
            until: ts("2026-10-05T12:00:00"),
            person: p(9, "己"),
            reason: Some("出差".into()),
        });
        assert_eq!(who(&r, "2026-10-05T11:00:00"), "己");
        assert_eq!(r.on_duty(ts("2026-10-05T12:00:00"), &cal).people[0], n4);
    }

    #[test]
    fn falls_back_to_holders_then_deputies_and_finds_gaps() {
        let cal = HolidaySet::default();
        let mut r = roster();
        // Only a day shift: nights are a gap unless a standing holder covers them.
        r.shifts.truncate(1);
        let none = PostHolders::default();
        let day = ts("2026-09-28T09:00:00");
        let night = ts("2026-09-28T20:00:00");
        assert_eq!(resolve(&none, Some(&r), day, &cal).people[0].name, "甲");
        assert!(resolve(&none, Some(&r), night, &cal).people.is_empty());
        let deputies = PostHolders {
            principals: vec![],
            deputies: vec![p(7, "副手")],
        };
        let got = resolve(&deputies, Some(&r), night, &cal);
        assert_eq!(got.people[0].name, "副手");
        assert_eq!(got.via, Some(Via::Deputy));
        let g = gaps(
            "duty-officer",
            &none,
            Some(&r),
            ts("2026-09-28T00:00:00"),
            ts("2026-09-29T00:00:00"),
            SignedDuration::from_mins(30),
            &cal,
        );
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[0].from, ts("2026-09-28T00:00:00"));
        assert_eq!(g[0].until, ts("2026-09-28T08:30:00"));
        assert_eq!(g[1].from, ts("2026-09-28T17:30:00"));
        assert_eq!(g[1].until, ts("2026-09-29T00:00:00"));
        assert!(
            gaps(
                "x",
                &deputies,
                Some(&r),
                ts("2026-09-28T00:00:00"),
                ts("2026-09-29T00:00:00"),
                SignedDuration::from_mins(30),
                &cal
            )
            .is_empty()
        );
    }
}
