//! The working-day calendar and the counting of periods in days.
//!
//! A calendar file (TOML, see `calendars/` and docs/calendars.md) lists the years it covers, the
//! weekly rest days, the public holidays and the working weekends of 调休. Periods are counted as
//! the Civil Code counts them (民法典 第二百零一条至第二百零三条): the day of the triggering event
//! (acceptance) is not counted, and a period whose last day is a rest day or a public holiday ends
//! on the first working day after it. Both rules are switchable ([`PeriodRules`]).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("the calendar file is not valid TOML for a calendar: {0}")]
    Invalid(String),
    #[error("`{0}` is not a date (write 2026-02-15)")]
    BadDate(String),
    #[error("`{0}` is not a weekday (write monday … sunday)")]
    BadWeekday(String),
    #[error("holiday `{name}` ends before it starts")]
    BackwardsHoliday { name: String },
    #[error("holiday `{name}` is longer than a year")]
    HolidayTooLong { name: String },
    #[error("{date} is outside the years the calendar file says it covers ({years:?})")]
    OutsideYears { date: Date, years: Vec<i16> },
    #[error("{0} is both a holiday and a working weekend day")]
    HolidayAndWorkday(Date),
    #[error("year {0} is given by two calendar files")]
    YearTwice(i16),
}

/// Which days a period counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum DayUnit {
    /// Every day (日).
    #[default]
    Calendar,
    /// Working days only (工作日).
    Working,
}

/// How a period in days is counted. The defaults follow the Civil Code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeriodRules {
    /// Count the day of the triggering event (acceptance) as the first day. Civil Code art. 201:
    /// it is not counted (`false`).
    pub count_first_day: bool,
    /// A calendar-day period whose last day is a rest day or holiday ends on the next working
    /// day. Civil Code art. 203: it does (`true`).
    pub roll_to_working_day: bool,
}

impl Default for PeriodRules {
    fn default() -> Self {
        PeriodRules {
            count_first_day: false,
            roll_to_working_day: true,
        }
    }
}

/// The last day of a period, and whether it was computed over a year the calendar does not
/// cover (then only the weekly rest days were known: recompute once the year is added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct PeriodEnd {
    #[cfg_attr(feature = "schema", schema(value_type = String, format = Date))]
    pub last_day: Date,
    pub provisional: bool,
}

impl PeriodEnd {
    /// The period ends at 24:00 of its last day in the given zone.
    pub fn ends_at(&self, tz: &TimeZone) -> Timestamp {
        end_of_day(self.last_day, tz)
    }
}

/// 24:00 of `d` (the start of the next day) in `tz`.
pub fn end_of_day(d: Date, tz: &TimeZone) -> Timestamp {
    let next = d.checked_add(1.day()).expect("date in range");
    next.to_zoned(tz.clone())
        .expect("zone conversion")
        .timestamp()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub name: String,
    weekend: Vec<Weekday>,
    years: BTreeSet<i16>,
    holidays: BTreeMap<Date, String>,
    working_weekends: BTreeSet<Date>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    name: String,
    years: Vec<i16>,
    #[serde(default = "default_weekend")]
    weekend: Vec<String>,
    #[serde(default)]
    holidays: Vec<HolidayFile>,
    #[serde(default)]
    working_weekends: Vec<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    name: String,
    from: toml::value::Datetime,
    to: toml::value::Datetime,
}

fn default_weekend() -> Vec<String> {
    vec!["saturday".into(), "sunday".into()]
}

fn date_of(d: &toml::value::Datetime) -> Result<Date, CalendarError> {
    let s = d.to_string();
    if d.time.is_some() || d.offset.is_some() {
        return Err(CalendarError::BadDate(s));
    }
    s.parse::<Date>().map_err(|_| CalendarError::BadDate(s))
}

pub fn weekday_of(s: &str) -> Option<Weekday> {
    Some(match s {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// The calendar files shipped with yingji (mainland China).
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "cn-2025.toml",
        include_str!("../../../calendars/cn-2025.toml"),
    ),
    (
        "cn-2026.toml",
        include_str!("../../../calendars/cn-2026.toml"),
    ),
];

impl Calendar {
    /// Parses one calendar file.
    pub fn parse(src: &str) -> Result<Calendar, CalendarError> {
        let f: CalendarFile =
            toml::from_str(src).map_err(|e| CalendarError::Invalid(e.message().to_string()))?;
        let weekend = f
            .weekend
            .iter()
            .map(|w| weekday_of(w).ok_or_else(|| CalendarError::BadWeekday(w.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        if weekend
            .iter()
            .map(|w| w.to_monday_one_offset())
            .collect::<BTreeSet<_>>()
            .len()
            >= 7
        {
            // Counting working days would never end.
            return Err(CalendarError::Invalid(
                "the weekend cannot be the whole week".into(),
            ));
        }
        let years: BTreeSet<i16> = f.years.iter().copied().collect();
        let check = |d: Date| {
            if years.contains(&d.year()) {
                Ok(d)
            } else {
                Err(CalendarError::OutsideYears {
                    date: d,
                    years: years.iter().copied().collect(),
                })
            }
        };
        let mut holidays = BTreeMap::new();
        for h in &f.holidays {
            let (from, to) = (check(date_of(&h.from)?)?, check(date_of(&h.to)?)?);
            if to < from {
                return Err(CalendarError::BackwardsHoliday {
                    name: h.name.clone(),
                });
            }
            if (to - from).get_days() > 366 {
                return Err(CalendarError::HolidayTooLong {
                    name: h.name.clone(),
                });
            }
            let mut d = from;
            while d <= to {
                holidays.insert(d, h.name.clone());
                // The last representable day (9999-12-31) has no tomorrow.
                let Ok(next) = d.tomorrow() else { break };
                d = next;
            }
        }
        let mut working_weekends = BTreeSet::new();
        for w in &f.working_weekends {
            let d = check(date_of(w)?)?;
            if holidays.contains_key(&d) {
                return Err(CalendarError::HolidayAndWorkday(d));
            }
            working_weekends.insert(d);
        }
        Ok(Calendar {
            name: f.name,
            weekend,
            years,
            holidays,
            working_weekends,
        })
    }

    /// Adds another year's file to this calendar.
    pub fn merge(&mut self, other: Calendar) -> Result<(), CalendarError> {
        if let Some(y) = other.years.iter().find(|y| self.years.contains(y)) {
            return Err(CalendarError::YearTwice(*y));
        }
        self.years.extend(other.years);
        self.holidays.extend(other.holidays);
        self.working_weekends.extend(other.working_weekends);
        if !other.name.is_empty() && !self.name.contains(&other.name) {
            self.name = format!("{}；{}", self.name, other.name);
        }
        Ok(())
    }

    /// Parses several files (one per year, in any order) into one calendar.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = &'a str>,
    ) -> Result<Calendar, CalendarError> {
        let mut out: Option<Calendar> = None;
        for src in files {
            let c = Calendar::parse(src)?;
            match &mut out {
                None => out = Some(c),
                Some(o) => o.merge(c)?,
            }
        }
        out.ok_or_else(|| CalendarError::Invalid("no calendar file given".into()))
    }

    /// The calendar shipped with yingji (mainland China, the years in `calendars/`).
    pub fn builtin() -> Calendar {
        Calendar::from_files(BUILTIN_FILES.iter().map(|(_, s)| *s))
            .expect("the built-in calendar files are valid")
    }

    pub fn years(&self) -> Vec<i16> {
        self.years.iter().copied().collect()
    }

    pub fn covers(&self, d: Date) -> bool {
        self.years.contains(&d.year())
    }

    /// The holiday `d` belongs to, if any.
    pub fn holiday(&self, d: Date) -> Option<&str> {
        self.holidays.get(&d).map(String::as_str)
    }

    /// Whether `d` is a working day: not a holiday, and not a weekly rest day unless 调休 makes
    /// it a working day. Outside the covered years only the weekly rest days are known.
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.holidays.contains_key(&d) {
            return false;
        }
        if self.working_weekends.contains(&d) {
            return true;
        }
        !self.weekend.contains(&d.weekday())
    }

    /// The first working day on or after `d`.
    pub fn next_working_day(&self, d: Date) -> Date {
        let mut d = d;
        while !self.is_working_day(d) {
            d = d.tomorrow().expect("date in range");
        }
        d
    }

    /// The last day of a period of `days` counted from `start` (the day of acceptance).
    ///
    /// Calendar days: with the first day not counted, the last day is `start + days`; a last day
    /// that is not a working day moves to the next working day when `roll_to_working_day`.
    /// Working days: the `days`-th working day after `start` (or from `start` itself when the first
    /// day counts and is a working day).
    pub fn period_end(
        &self,
        start: Date,
        days: u32,
        unit: DayUnit,
        rules: PeriodRules,
    ) -> PeriodEnd {
        let first = if rules.count_first_day {
            start
        } else {
            start.tomorrow().expect("date in range")
        };
        let mut touched_uncovered = !self.covers(start);
        let last = match unit {
            DayUnit::Calendar => {
                let n = i64::from(days.max(1)) - 1;
                let mut last = first.checked_add(n.days()).expect("date in range");
                touched_uncovered |= !self.covers(last);
                if rules.roll_to_working_day {
                    last = self.next_working_day(last);
                    touched_uncovered |= !self.covers(last);
                }
                last
            }
            DayUnit::Working => {
                let mut d = first;
                let mut counted = 0;
                loop {
                    touched_uncovered |= !self.covers(d);
                    if self.is_working_day(d) {
                        counted += 1;
                        if counted >= days.max(1) {
                            break d;
                        }
                    }
                    d = d.tomorrow().expect("date in range");
                }
            }
        };
        PeriodEnd {
            last_day: last,
            provisional: touched_uncovered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// Inputs found while writing the fuzz targets: refused or handled, never a panic.
    #[test]
    fn hostile_calendar_files_do_not_panic() {
        let end = "name = 'x'\nyears = [9999]\nholidays = [{ name = 'h', from = 9999-12-30, to = 9999-12-31 }]\n";
        let c = Calendar::parse(end).unwrap();
        assert!(!c.is_working_day(date(9999, 12, 31)));
        let long = "name = 'x'\nyears = [2026, 2027]\nholidays = [{ name = 'h', from = 2026-01-01, to = 2027-12-31 }]\n";
        assert_eq!(
            Calendar::parse(long).unwrap_err(),
            CalendarError::HolidayTooLong { name: "h".into() }
        );
        let week = "name = 'x'\nyears = [2026]\nweekend = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']\n";
        assert!(matches!(
            Calendar::parse(week),
            Err(CalendarError::Invalid(_))
        ));
    }

    #[test]
    fn the_2026_calendar() {
        let c = Calendar::builtin();
        assert_eq!(c.years(), vec![2025, 2026]);
        // Spring Festival: Sat 14 Feb works, 15–23 Feb off, Sat 28 Feb works.
        assert!(c.is_working_day(date(2026, 2, 14)));
        assert!(!c.is_working_day(date(2026, 2, 15)));
        assert!(!c.is_working_day(date(2026, 2, 23)));
        assert!(c.is_working_day(date(2026, 2, 24)));
        assert!(c.is_working_day(date(2026, 2, 28)));
        assert!(!c.is_working_day(date(2026, 3, 1)));
        assert_eq!(c.holiday(date(2026, 2, 17)), Some("春节"));
        assert!(c.is_working_day(date(2026, 3, 2)));
    }

    #[test]
    fn bad_files_are_refused() {
        let e = Calendar::parse(
            "name='x'\nyears=[2026]\nholidays=[{name='a', from=2027-01-01, to=2027-01-02}]",
        )
        .unwrap_err();
        assert!(matches!(e, CalendarError::OutsideYears { .. }));
        let e = Calendar::parse(
            "name='x'\nyears=[2026]\nholidays=[{name='a', from=2026-01-03, to=2026-01-02}]",
        )
        .unwrap_err();
        assert!(matches!(e, CalendarError::BackwardsHoliday { .. }));
        let e = Calendar::parse("name='x'\nyears=[2026]\nweekend=['sabbath']").unwrap_err();
        assert!(matches!(e, CalendarError::BadWeekday(_)));
        let a = Calendar::parse("name='a'\nyears=[2026]").unwrap();
        let b = Calendar::parse("name='b'\nyears=[2026]").unwrap();
        let mut a2 = a.clone();
        assert_eq!(a2.merge(b), Err(CalendarError::YearTwice(2026)));
    }
}
