//! The working-day calendar and the counting of periods in days.
//!
//! A calendar file (TOML, see `calendars/` and docs/calendars.md) lists the years it covers, the
//! weekly rest days, the public holidays and the working weekends of 调休. Periods are counted as
//! the Civil Code counts them (民法典 第二百零一条至第二百零三条): the day of the triggering event
//! (acceptance) is not counted, and a period whose last day is a rest day or a public holiday ends
//! on the first working day after it. Both rules are switchable ([`PeriodRules`]).
//!
//! In a year no file covers, the weekly rest days and the holidays fixed by date in the national
//! rules ([`FIXED_DATE_HOLIDAYS`]: 元旦, 劳动节, 国庆节) are known; the lunar holidays (春节, 端午,
//! 中秋), 清明 and the year's 调休 are not, so a period that touches such a year is provisional.
//!
//! The same calendar decides when a duty roster's holiday rotation applies
//! ([`crate::roster::HolidayCalendar`]): on its public holidays, not on its 调休 working weekends.

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
    #[error(
        "the weekly rest days {got:?} differ from those of the other years ({want:?}); every year of a calendar has the same weekend"
    )]
    WeekendDiffers { want: Vec<String>, got: Vec<String> },
}

/// A public holiday fixed by date in the national rules (《全国年节及纪念日放假办法》), for the
/// years `since..=until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHoliday {
    pub name: &'static str,
    pub month: i8,
    pub day: i8,
    pub since: i16,
    pub until: i16,
}

const fn fixed(name: &'static str, month: i8, day: i8, since: i16, until: i16) -> FixedHoliday {
    FixedHoliday {
        name,
        month,
        day,
        since,
        until,
    }
}

/// The holidays of mainland China that fall on the same date every year, by the revision of
/// 《全国年节及纪念日放假办法》 in force: 元旦 1 January; 劳动节 1 May (1–3 May 2000–2007, under
/// the 1999 revision; 1–2 May from 2025, under the 2024 revision, 国务院令第798号); 国庆节 1–2
/// October (1–3 October from 1999). They are applied only in years no calendar file covers: a
/// file lists the year's days off itself (with the rest days joined to them, which no rule
/// knows). 春节, 清明, 端午 and 中秋 follow the lunar calendar or the solar terms and are not
/// here.
pub const FIXED_DATE_HOLIDAYS: &[FixedHoliday] = &[
    fixed("元旦", 1, 1, i16::MIN, i16::MAX),
    fixed("劳动节", 5, 1, i16::MIN, i16::MAX),
    fixed("劳动节", 5, 2, 2000, 2007),
    fixed("劳动节", 5, 3, 2000, 2007),
    fixed("劳动节", 5, 2, 2025, i16::MAX),
    fixed("国庆节", 10, 1, i16::MIN, i16::MAX),
    fixed("国庆节", 10, 2, i16::MIN, i16::MAX),
    fixed("国庆节", 10, 3, 1999, i16::MAX),
];

/// The holiday fixed by date that `d` is, if any (whatever the calendar files say).
pub fn fixed_date_holiday(d: Date) -> Option<&'static str> {
    FIXED_DATE_HOLIDAYS
        .iter()
        .find(|h| {
            h.month == d.month() && h.day == d.day() && (h.since..=h.until).contains(&d.year())
        })
        .map(|h| h.name)
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
/// cover (then only the weekly rest days and the holidays fixed by date were known: recompute
/// once the year is added).
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
    /// The names of the files, joined (in the order of their first year).
    pub name: String,
    weekend: Vec<Weekday>,
    years: BTreeSet<i16>,
    /// The file name of each covered year.
    names: BTreeMap<i16, String>,
    holidays: BTreeMap<Date, String>,
    working_weekends: BTreeSet<Date>,
}

/// Where each year of a calendar built from the built-in files plus added ones comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layering {
    /// Built-in years that no added file touches.
    pub builtin: Vec<i16>,
    /// Years of added files that the built-in set did not have.
    pub added: Vec<i16>,
    /// Built-in years that an added file replaces.
    pub replaced: Vec<i16>,
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
        let names = years.iter().map(|y| (*y, f.name.clone())).collect();
        Ok(Calendar {
            name: f.name,
            weekend,
            years,
            names,
            holidays,
            working_weekends,
        })
    }

    fn weekend_names(w: &[Weekday]) -> Vec<String> {
        let mut v: Vec<_> = w.iter().map(|d| format!("{d:?}").to_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    }

    fn same_weekend(&self, other: &Calendar) -> Result<(), CalendarError> {
        let (want, got) = (
            Self::weekend_names(&self.weekend),
            Self::weekend_names(&other.weekend),
        );
        if want != got {
            return Err(CalendarError::WeekendDiffers { want, got });
        }
        Ok(())
    }

    fn rename(&mut self) {
        let mut seen: Vec<&str> = Vec::new();
        for n in self.names.values() {
            if !n.is_empty() && !seen.contains(&n.as_str()) {
                seen.push(n);
            }
        }
        self.name = seen.join("；");
    }

    /// Adds another year's file to this calendar. A year both give is refused.
    pub fn merge(&mut self, other: Calendar) -> Result<(), CalendarError> {
        if let Some(y) = other.years.iter().find(|y| self.years.contains(y)) {
            return Err(CalendarError::YearTwice(*y));
        }
        self.same_weekend(&other)?;
        self.years.extend(other.years);
        self.names.extend(other.names);
        self.holidays.extend(other.holidays);
        self.working_weekends.extend(other.working_weekends);
        self.rename();
        Ok(())
    }

    /// Lays `other` over this calendar: its years are added, and a year both have is taken from
    /// `other` entirely (this calendar's holidays and working weekends of that year are dropped).
    /// Answers the years replaced.
    pub fn overlay(&mut self, other: Calendar) -> Result<Vec<i16>, CalendarError> {
        self.same_weekend(&other)?;
        let replaced: Vec<i16> = other
            .years
            .iter()
            .copied()
            .filter(|y| self.years.contains(y))
            .collect();
        self.holidays
            .retain(|d, _| !other.years.contains(&d.year()));
        self.working_weekends
            .retain(|d| !other.years.contains(&d.year()));
        self.years.extend(other.years);
        self.names.extend(other.names);
        self.holidays.extend(other.holidays);
        self.working_weekends.extend(other.working_weekends);
        self.rename();
        Ok(replaced)
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

    /// The built-in calendar plus added files (a deployment's `--calendars` directory): each
    /// added year is added, and an added file for a year the built-in set has replaces that
    /// year. Two added files giving the same year are refused, as is an added file whose weekly
    /// rest days differ from the built-in ones.
    pub fn builtin_with<'a>(
        files: impl IntoIterator<Item = &'a str>,
    ) -> Result<(Calendar, Layering), CalendarError> {
        let mut cal = Calendar::builtin();
        let builtin_years = cal.years();
        let mut files = files.into_iter().peekable();
        if files.peek().is_none() {
            let layering = Layering {
                builtin: builtin_years,
                ..Default::default()
            };
            return Ok((cal, layering));
        }
        let added = Calendar::from_files(files)?;
        let added_years = added.years();
        let replaced = cal.overlay(added)?;
        let layering = Layering {
            builtin: builtin_years
                .into_iter()
                .filter(|y| !replaced.contains(y))
                .collect(),
            added: added_years
                .into_iter()
                .filter(|y| !replaced.contains(y))
                .collect(),
            replaced,
        };
        Ok((cal, layering))
    }

    pub fn years(&self) -> Vec<i16> {
        self.years.iter().copied().collect()
    }

    /// The days off a covered year's file lists, with their holiday's name.
    pub fn holidays_in(&self, year: i16) -> Vec<(Date, &str)> {
        self.holidays
            .iter()
            .filter(|(d, _)| d.year() == year)
            .map(|(d, n)| (*d, n.as_str()))
            .collect()
    }

    /// The 调休 working weekend days a covered year's file lists.
    pub fn working_weekends_in(&self, year: i16) -> Vec<Date> {
        self.working_weekends
            .iter()
            .copied()
            .filter(|d| d.year() == year)
            .collect()
    }

    /// The name of the file that gives `year`.
    pub fn name_of(&self, year: i16) -> Option<&str> {
        self.names.get(&year).map(String::as_str)
    }

    pub fn covers(&self, d: Date) -> bool {
        self.years.contains(&d.year())
    }

    /// The holiday `d` belongs to, if any: from the file of its year, or, in a year no file
    /// covers, by the national rules ([`FIXED_DATE_HOLIDAYS`]).
    pub fn holiday(&self, d: Date) -> Option<&str> {
        if self.covers(d) {
            self.holidays.get(&d).map(String::as_str)
        } else {
            fixed_date_holiday(d)
        }
    }

    /// Whether `d` is a working day: not a holiday, and not a weekly rest day unless 调休 makes
    /// it a working day. Outside the covered years only the weekly rest days and the holidays
    /// fixed by date are known.
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.holiday(d).is_some() {
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

/// A duty roster's holiday rotation applies on the calendar's public holidays (the days off the
/// files list, or the holidays fixed by date in a year no file covers), never on a 调休 working
/// weekend or an ordinary weekend.
impl crate::roster::HolidayCalendar for Calendar {
    fn is_holiday(&self, d: Date) -> bool {
        self.holiday(d).is_some()
    }

    /// The files' days off in the range (only covered years have any), plus the holidays fixed
    /// by date in the range's years that no file covers: no walk day by day, so a roster started
    /// years ago resolves as fast as a new one.
    fn holidays_between(&self, from: Date, until: Date) -> i64 {
        if until <= from {
            return 0;
        }
        let listed = self.holidays.range(from..until).count() as i64;
        let by_rule = (from.year()..=until.year())
            .filter(|y| !self.years.contains(y))
            .flat_map(|y| {
                FIXED_DATE_HOLIDAYS
                    .iter()
                    .filter(move |h| (h.since..=h.until).contains(&y))
                    .filter_map(move |h| Date::new(y, h.month, h.day).ok())
            })
            .filter(|d| (from..until).contains(d))
            .count() as i64;
        listed + by_rule
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::HolidayCalendar;
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

    #[test]
    fn fixed_date_holidays_in_a_year_without_a_file() {
        let c = Calendar::builtin();
        assert!(!c.covers(date(2027, 1, 1)));
        // Friday 1 January 2027: 元旦 by rule; Monday 4 January is a working day.
        assert_eq!(c.holiday(date(2027, 1, 1)), Some("元旦"));
        assert!(!c.is_working_day(date(2027, 1, 1)));
        assert!(c.is_working_day(date(2027, 1, 4)));
        // 劳动节 1–2 May and 国庆节 1–3 October under the rules in force from 2025.
        assert_eq!(c.holiday(date(2027, 5, 2)), Some("劳动节"));
        assert_eq!(c.holiday(date(2027, 5, 3)), None);
        assert!(!c.is_working_day(date(2029, 5, 2))); // a Wednesday
        assert!(c.is_working_day(date(2029, 5, 3)));
        assert!(!c.is_working_day(date(2029, 10, 3)));
        assert!(c.is_working_day(date(2029, 10, 4)));
        // Before 2025 only 1 May; 2000–2007 1–3 May.
        assert_eq!(fixed_date_holiday(date(2019, 5, 2)), None);
        assert_eq!(fixed_date_holiday(date(2005, 5, 3)), Some("劳动节"));
        // Lunar holidays are not known by rule: 春节 2027 (6 February) is a Saturday anyway;
        // Monday 8 February 2027 counts as a working day until the 2027 file arrives.
        assert!(c.is_working_day(date(2027, 2, 8)));
        // A year a file covers is what the file says, even without 1 January.
        let bare = Calendar::parse("name='x'\nyears=[2027]").unwrap();
        assert!(bare.is_working_day(date(2027, 1, 1)));
        // The roster calendar is the same.
        assert!(c.is_holiday(date(2027, 1, 1)));
        assert!(!bare.is_holiday(date(2027, 1, 1)));
    }

    /// The fast count of holidays in a range is the day-by-day count.
    #[test]
    fn holidays_between_counts_like_walking_the_days() {
        struct Walk<'a>(&'a Calendar);
        impl HolidayCalendar for Walk<'_> {
            fn is_holiday(&self, d: Date) -> bool {
                self.0.is_holiday(d)
            }
        }
        let (c, _) = Calendar::builtin_with([
            "name='x'\nyears=[2028]\nholidays=[{name='a', from=2028-01-01, to=2028-01-04}]",
        ])
        .unwrap();
        let days = [
            date(2023, 12, 30),
            date(2024, 12, 31),
            date(2025, 1, 1),
            date(2025, 10, 5),
            date(2026, 10, 3),
            date(2027, 1, 1),
            date(2027, 5, 2),
            date(2027, 10, 2),
            date(2028, 1, 3),
            date(2029, 10, 4),
        ];
        for a in days {
            for b in days {
                assert_eq!(
                    c.holidays_between(a, b),
                    Walk(&c).holidays_between(a, b),
                    "{a} – {b}"
                );
            }
        }
        assert_eq!(c.holidays_between(date(2027, 1, 1), date(2028, 1, 1)), 6);
    }

    #[test]
    fn holidays_for_rosters_are_the_public_holidays_not_the_weekends() {
        let c = Calendar::builtin();
        assert!(c.is_holiday(date(2026, 10, 1)));
        assert!(c.is_holiday(date(2026, 2, 15))); // 春节, a Sunday joined to the holiday
        assert!(!c.is_holiday(date(2026, 10, 10))); // 调休: a working Saturday
        assert!(!c.is_holiday(date(2026, 3, 7))); // an ordinary Saturday
        assert!(!c.is_holiday(date(2026, 3, 9)));
    }

    #[test]
    fn added_files_add_years_and_replace_built_in_ones() {
        // No files: the built-in calendar.
        let (c, l) = Calendar::builtin_with([]).unwrap();
        assert_eq!(c, Calendar::builtin());
        assert_eq!(l.builtin, vec![2025, 2026]);
        // A 2027 file (made-up dates) is added to the built-in years.
        let y2027 = "name = '中国大陆法定节假日（2027）'\nyears = [2027]\nholidays = [{ name = '春节', from = 2027-02-05, to = 2027-02-12 }]\nworking_weekends = [2027-02-20]\n";
        let (c, l) = Calendar::builtin_with([y2027]).unwrap();
        assert_eq!(c.years(), vec![2025, 2026, 2027]);
        assert_eq!(
            l,
            Layering {
                builtin: vec![2025, 2026],
                added: vec![2027],
                replaced: vec![]
            }
        );
        assert!(!c.is_working_day(date(2026, 2, 16)), "2026 kept");
        assert!(!c.is_working_day(date(2027, 2, 8)), "2027 added");
        assert!(c.is_working_day(date(2027, 2, 20)));
        // Only the file's holidays count in a covered year (1 January 2027 is not listed).
        assert!(c.is_working_day(date(2027, 1, 1)));
        assert!(
            c.name.contains("2026") && c.name.contains("2027"),
            "{}",
            c.name
        );
        // A 2026 file replaces the built-in 2026 entirely.
        let y2026 = "name = '本地 2026'\nyears = [2026]\nholidays = [{ name = '元旦', from = 2026-01-01, to = 2026-01-01 }]\n";
        let (c, l) = Calendar::builtin_with([y2026, y2027]).unwrap();
        assert_eq!(l.replaced, vec![2026]);
        assert_eq!(l.builtin, vec![2025]);
        assert_eq!(l.added, vec![2027]);
        assert!(
            c.is_working_day(date(2026, 2, 16)),
            "the built-in 春节 is gone"
        );
        assert!(
            !c.is_working_day(date(2026, 2, 14)),
            "and so is its 调休 Saturday"
        );
        assert!(!c.is_working_day(date(2026, 1, 1)));
        assert!(!c.is_working_day(date(2025, 1, 28)), "2025 untouched");
        assert!(!c.name.contains("（2026）"), "{}", c.name);
        // Two added files for one year, or another weekend, are refused.
        assert_eq!(
            Calendar::builtin_with([y2027, y2027]).unwrap_err(),
            CalendarError::YearTwice(2027)
        );
        let friday = "name='x'\nyears=[2027]\nweekend=['friday', 'saturday']";
        assert!(matches!(
            Calendar::builtin_with([friday]).unwrap_err(),
            CalendarError::WeekendDiffers { .. }
        ));
    }
}
