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

    /// How many days of `[from, until)` are holidays (the holiday rotation counts its steps
    /// with it). Calendars that can count faster than day by day override it.
    fn holidays_between(&self, from: Date, until: Date) -> i64 {
        let mut n = 0;
        let mut d = from;
        while d < until {
            if self.is_holiday(d) {
                n += 1;
            }
            let Ok(next) = d.tomorrow() else { break };
            d = next;
        }
        n
    }
}

/// A plain set of holiday dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidaySet(pub BTreeSet<Date>);

impl HolidayCalendar for HolidaySet {
    fn is_holiday(&self, d: Date) -> bool {
        self.0.contains(&d)
    }

    fn holidays_between(&self, from: Date, until: Date) -> i64 {
        if until <= from {
            return 0;
        }
        self.0.range(from..until).count() as i64
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
/// counted from `start_date`, the shifts of a day in the order they start); on holidays the
/// `holiday_rotation` goes round instead, one step per holiday duty, when it is given. See
/// [`rotation_index`] for how the steps alternate the shifts fairly.
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

    /// Where a shift comes in its day: the shifts ordered by their start time (listing order
    /// among shifts that start together), so that duty `k + 1` is the one after duty `k`.
    fn shift_rank(&self, id: &str) -> Option<i64> {
        let me = self.shifts.iter().position(|s| s.id == id)?;
        let start = self.shifts[me].start;
        let rank = self
            .shifts
            .iter()
            .enumerate()
            .filter(|(i, s)| s.start < start || (s.start == start && *i < me))
            .count();
        Some(rank as i64)
    }

    /// Who the rotation puts on a duty, before swaps.
    fn scheduled(&self, slot: &Slot, cal: &dyn HolidayCalendar) -> Option<(PersonRef, Via)> {
        let shift_ix = self.shift_rank(&slot.shift)?;
        let per_day = self.shifts.len() as i64;
        if cal.is_holiday(slot.date) && !self.holiday_rotation.is_empty() {
            // Count holiday duties since the start date, so that the holiday rotation goes
            // round fairly across the year.
            let n = if slot.date >= self.start_date {
                cal.holidays_between(self.start_date, slot.date)
            } else {
                -cal.holidays_between(slot.date, self.start_date)
            };
            let ix = rotation_index(
                n * per_day + shift_ix,
                self.holiday_rotation.len(),
                self.shifts.len(),
            );
            return Some((self.holiday_rotation[ix].clone(), Via::Holiday));
        }
        let days = (slot.date - self.start_date).get_days() as i64;
        let ix = rotation_index(
            days * per_day + shift_ix,
            self.rotation.len(),
            self.shifts.len(),
        );
        Some((self.rotation[ix].clone(), Via::Rotation))
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

/// Which person of a rotation of `people` works duty number `k` (counted from the roster's start,
/// negative before it) when a day has `per_day` shifts.
///
/// The duties go round the rotation one person per duty, in turns. A turn is `lcm(people,
/// per_day)` duties: whole days, after which the plain round would start again with the first
/// person on the first shift. When `people` and `per_day` have no common factor the plain round
/// already gives everyone every shift, and nothing changes. When they share a factor (four
/// people, two shifts) the plain round would keep two people on days and two on nights for
/// ever; instead, each turn starts one person further along the rotation than the one before
/// (turn `t` starts with person `t`). Over `people` days (`people × per_day` duties, a cycle) every
/// person works every shift exactly once, and everyone works the same number of duties in
/// every turn.
///
/// Consecutive duties always go to different people when the rotation has three or more:
/// inside a turn the next duty goes to the next person, and across a turn the rotation moves on
/// by two. With two people and an even number of shifts no rule can both alternate the shifts
/// and avoid back-to-back duties (strict alternation keeps each person on the same shifts), so
/// there the person who ends a turn also starts the next one (two duties back to back, once a
/// turn); use a swap or a third person to avoid it.
///
/// The first turn (the first `lcm / per_day` days) is what the plain round gave, so existing
/// rosters keep their first days, and rosters whose sizes share no factor keep every day.
pub fn rotation_index(k: i64, people: usize, per_day: usize) -> usize {
    let n = people.max(1) as i64;
    let s = per_day.max(1) as i64;
    let g = gcd(n, s);
    let turn = if g > 1 { k.div_euclid(n / g * s) } else { 0 };
    (k + turn).rem_euclid(n) as usize
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
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
        // Two people on two shifts: each holiday (a turn) starts one person further, so 丁 and
        // 戊 alternate days and nights (戊 works the night of 1 Oct and the day of 2 Oct).
        assert_eq!(who(&r, "2026-10-02T09:00:00"), "戊");
        assert_eq!(who(&r, "2026-10-02T20:00:00"), "丁");
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

    /// A roster of `n` people and `s` shifts covering the day (the first at 08:00), listed in
    /// reverse order of their start times so that the duty order is by start time, not listing.
    fn sized(n: usize, s: usize, start: Date) -> Roster {
        let mut shifts: Vec<Shift> = (0..s)
            .map(|i| {
                let at = |j: usize| {
                    let mins = (8 * 60 + j * 24 * 60 / s) % (24 * 60);
                    Time::new((mins / 60) as i8, (mins % 60) as i8, 0, 0).unwrap()
                };
                Shift {
                    id: format!("s{i}"),
                    name: format!("班{i}"),
                    start: at(i),
                    end: at(i + 1),
                }
            })
            .collect();
        shifts.reverse();
        Roster {
            post: "duty-officer".into(),
            time_zone: "Asia/Shanghai".into(),
            shifts,
            start_date: start,
            rotation: (0..n).map(|i| p(i as u128 + 1, &format!("p{i}"))).collect(),
            holiday_rotation: vec![],
            overrides: vec![],
            swaps: vec![],
        }
    }

    /// Who works each duty (in time order) of the `days` days from `from`: (person, shift rank).
    fn duties(r: &Roster, from: Date, days: i64) -> Vec<(u128, usize)> {
        let cal = HolidaySet::default();
        let tz = r.tz();
        let mut starts: Vec<(Time, usize)> = r
            .shifts
            .iter()
            .map(|s| (s.start, r.shift_rank(&s.id).unwrap() as usize))
            .collect();
        starts.sort();
        let mut out = Vec::new();
        for d in 0..days {
            let day = from.checked_add(jiff::Span::new().days(d)).unwrap();
            for (t, rank) in &starts {
                let at = day
                    .to_datetime(*t)
                    .to_zoned(tz.clone())
                    .unwrap()
                    .timestamp();
                let got = r.on_duty(at, &cal);
                assert_eq!(got.via, Some(Via::Rotation));
                out.push((got.people[0].person_id.as_u128(), *rank));
            }
        }
        out
    }

    /// Over a cycle (as many days as people, from the start date or a whole number of cycles
    /// before or after it) every person works every shift exactly once; no one works two duties
    /// in a row unless the rotation has one person, or two people share an even number of shifts
    /// (then only where a turn begins, never three in a row).
    fn check_fair(n: usize, s: usize, start: Date, cycle: i64) {
        let r = sized(n, s, start);
        r.validate().unwrap();
        let from = start
            .checked_add(jiff::Span::new().days(cycle * n as i64))
            .unwrap();
        let got = duties(&r, from, n as i64);
        let mut seen = BTreeSet::new();
        for (person, shift) in &got {
            assert!(
                seen.insert((*person, *shift)),
                "n={n} s={s} cycle={cycle}: person {person} works shift {shift} twice: {got:?}"
            );
        }
        assert_eq!(seen.len(), n * s, "n={n} s={s}: {got:?}");
        // Three cycles in a row, and the duty just before them.
        let from = from.yesterday().unwrap();
        let run = duties(&r, from, 3 * n as i64 + 1);
        let lcm = n / gcd(n as i64, s as i64) as usize * s;
        for (i, w) in run.windows(2).enumerate() {
            if w[0].0 != w[1].0 || n == 1 {
                continue;
            }
            assert!(
                n == 2 && s.is_multiple_of(2),
                "n={n} s={s} cycle={cycle}: duties {i} and {} both go to {}",
                i + 1,
                w[0].0
            );
            // Duty i+1 (counted from `from`, a whole day) starts a turn.
            let k = (from - start).get_days() as i64 * s as i64 + i as i64 + 1;
            assert_eq!(
                k.rem_euclid(lcm as i64),
                0,
                "n={n} s={s}: a double inside a turn"
            );
        }
        if n > 1 {
            assert!(
                run.windows(3)
                    .all(|w| !(w[0].0 == w[1].0 && w[1].0 == w[2].0)),
                "n={n} s={s}: three in a row"
            );
        }
    }

    #[test]
    fn every_rotation_length_alternates_every_shift() {
        let start = jiff::civil::date(2026, 9, 28);
        for n in 1..=12 {
            for s in 1..=4 {
                for cycle in [-3, -1, 0, 1, 5] {
                    check_fair(n, s, start, cycle);
                }
            }
        }
    }

    #[test]
    fn four_people_two_shifts_take_turns_at_nights() {
        // The case of the issue: with the plain round 甲 and 丙 only ever worked days.
        let r = sized(4, 2, jiff::civil::date(2026, 9, 28));
        let got = duties(&r, r.start_date, 4);
        let nights: Vec<u128> = got.iter().filter(|d| d.1 == 1).map(|d| d.0).collect();
        let days: Vec<u128> = got.iter().filter(|d| d.1 == 0).map(|d| d.0).collect();
        // Day 0: 1 day, 2 night; day 1: 3, 4; then the turn moves on by one: 2, 3; 4, 1.
        assert_eq!(days, vec![1, 3, 2, 4]);
        assert_eq!(nights, vec![2, 4, 3, 1]);
    }

    #[test]
    fn rosters_whose_sizes_share_no_factor_are_unchanged() {
        for (n, s) in [(3, 2), (5, 2), (2, 3), (7, 4), (4, 1)] {
            for k in -50..200 {
                assert_eq!(
                    rotation_index(k, n, s),
                    k.rem_euclid(n as i64) as usize,
                    "n={n} s={s} k={k}"
                );
            }
        }
        // And rosters that do share one keep their first turn.
        for k in 0..4 {
            assert_eq!(rotation_index(k, 4, 2), k as usize);
        }
    }

    proptest::proptest! {
        #[test]
        fn fair_from_any_start_and_cycle(
            n in 1usize..=12,
            s in 1usize..=4,
            start_days in 0i64..5_000,
            cycle in -40i64..40,
        ) {
            let start = jiff::civil::date(2020, 1, 1)
                .checked_add(jiff::Span::new().days(start_days))
                .unwrap();
            check_fair(n, s, start, cycle);
        }
    }

    #[test]
    fn the_holiday_rotation_follows_the_working_day_calendar() {
        // The 2026 calendar: 国庆节 1–7 Oct off (Sun 4 Oct included), Sat 10 Oct a 调休 working
        // day, 元旦 2027 known by rule though 2027 has no file.
        let cal = crate::calendar::Calendar::builtin();
        let r = roster();
        let via = |s: &str| r.on_duty(ts(s), &cal).via;
        assert_eq!(via("2026-10-01T09:00:00"), Some(Via::Holiday));
        assert_eq!(via("2026-10-04T09:00:00"), Some(Via::Holiday));
        assert_eq!(via("2026-10-07T20:00:00"), Some(Via::Holiday));
        assert_eq!(via("2026-10-08T09:00:00"), Some(Via::Rotation));
        assert_eq!(
            via("2026-10-10T09:00:00"),
            Some(Via::Rotation),
            "调休 Saturday"
        );
        assert_eq!(
            via("2026-10-11T09:00:00"),
            Some(Via::Rotation),
            "a plain Sunday"
        );
        assert_eq!(via("2027-01-01T09:00:00"), Some(Via::Holiday));
        // The holiday duties count on from the start date: 1 Oct is holiday duty 0 and 1.
        assert_eq!(
            r.on_duty(ts("2026-10-01T09:00:00"), &cal).people[0].name,
            "丁"
        );
    }
}
