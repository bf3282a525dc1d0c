//! Time limits as plans write them (`15m`, `2h`, `immediately`, 15 min by day / 30 at night,
//! `by 15:00`) and the absolute deadlines they give from a moment in the plan's time zone.

use jiff::civil::Time;
use jiff::{SignedDuration, Zoned};
use serde::Serialize;

use crate::model::DayWindow;

/// A time limit as a plan states it. Durations are whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// 立即: due the moment the task is created.
    Immediately,
    /// Within a fixed number of minutes (may be zero or negative only in a faulty plan).
    Within(i64),
    /// 白天/夜间: different limits by day and at night.
    DayNight { day: i64, night: i64 },
    /// By a wall-clock time (下午3点之前): the next such time at or after the start.
    By(Time),
}

/// Which of a day/night limit applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DayPart {
    Day,
    Night,
}

impl TimeLimit {
    /// Parses the string form: `immediately`, or a duration such as `15m`, `2h`, `1h30m`, `3d`.
    pub fn parse_str(s: &str) -> Result<TimeLimit, String> {
        let t = s.trim();
        if t == "immediately" || t == "立即" {
            return Ok(TimeLimit::Immediately);
        }
        parse_minutes(t).map(TimeLimit::Within)
    }

    pub fn is_day_night(&self) -> bool {
        matches!(self, TimeLimit::DayNight { .. })
    }

    /// The limit's durations, for the non-positive check.
    pub fn minutes(&self) -> Vec<i64> {
        match *self {
            TimeLimit::Immediately | TimeLimit::By(_) => vec![],
            TimeLimit::Within(m) => vec![m],
            TimeLimit::DayNight { day, night } => vec![day, night],
        }
    }

    /// The absolute deadline when the clock starts at `start` (already in the plan's zone).
    /// Day/night limits choose by the wall-clock time at `start`; without a day window the day
    /// limit applies (the checker refuses such plans, so this only guards against misuse).
    pub fn deadline(&self, start: &Zoned, day: Option<DayWindow>) -> (Zoned, Option<DayPart>) {
        match *self {
            TimeLimit::Immediately => (start.clone(), None),
            TimeLimit::Within(m) => (add_minutes(start, m), None),
            TimeLimit::DayNight { day: d, night: n } => {
                let is_day = day.is_none_or(|w| w.is_day(start.time()));
                if is_day {
                    (add_minutes(start, d), Some(DayPart::Day))
                } else {
                    (add_minutes(start, n), Some(DayPart::Night))
                }
            }
            TimeLimit::By(t) => {
                let today = start.date().to_datetime(t);
                let candidate = today
                    .to_zoned(start.time_zone().clone())
                    .unwrap_or_else(|_| start.clone());
                if candidate >= *start {
                    (candidate, None)
                } else {
                    let tomorrow = start
                        .date()
                        .tomorrow()
                        .map(|d| d.to_datetime(t))
                        .ok()
                        .and_then(|dt| dt.to_zoned(start.time_zone().clone()).ok())
                        .unwrap_or_else(|| add_minutes(start, 24 * 60));
                    (tomorrow, None)
                }
            }
        }
    }
}

fn add_minutes(start: &Zoned, m: i64) -> Zoned {
    start
        .checked_add(SignedDuration::from_mins(m))
        .unwrap_or_else(|_| start.clone())
}

/// Parses `15m`, `90min`, `2h`, `1h30m`, `3d` into minutes. Signs are allowed so that the checker
/// can say "must be positive" instead of "cannot parse".
pub fn parse_minutes(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("an empty time limit".into());
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let mut total: i64 = 0;
    let mut rest = body;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if rest[digits..].starts_with('.') || rest[digits..].starts_with(',') {
            return Err(format!(
                "`{s}` has a fraction; write whole units such as `1h30m` or `90m`"
            ));
        }
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a time limit; write e.g. `15m`, `2h`, `1h30m`, `3d` or `immediately`"
            ));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{s}` has a number that is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        let per = match unit {
            "m" | "min" => 1,
            "h" => 60,
            "d" => 24 * 60,
            "" => {
                return Err(format!(
                    "`{s}` needs a unit: m (minutes), h (hours) or d (days)"
                ));
            }
            other => {
                return Err(format!(
                    "`{other}` is not a unit; use m (minutes), h (hours) or d (days)"
                ));
            }
        };
        total = n
            .checked_mul(per)
            .and_then(|v| total.checked_add(v))
            .filter(|v| *v <= 366 * 24 * 60 * 10)
            .ok_or_else(|| format!("`{s}` is longer than ten years"))?;
        rest = &rest[unit_len..];
        parts += 1;
    }
    if parts == 0 {
        return Err(format!("`{s}` is not a time limit"));
    }
    Ok(if neg { -total } else { total })
}

/// Parses `HH:MM` (24-hour clock).
pub fn parse_clock(s: &str) -> Result<Time, String> {
    let bad = || format!("`{s}` is not a time of day; write it as HH:MM, e.g. 15:00");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// Minutes written back the way a plan would write them.
pub fn fmt_minutes(m: i64) -> String {
    if m == 0 {
        return "0m".into();
    }
    let sign = if m < 0 { "-" } else { "" };
    let a = m.abs();
    let (d, h, mm) = (a / 1440, (a % 1440) / 60, a % 60);
    let mut s = String::from(sign);
    if d > 0 {
        s.push_str(&format!("{d}d"));
    }
    if h > 0 {
        s.push_str(&format!("{h}h"));
    }
    if mm > 0 {
        s.push_str(&format!("{mm}m"));
    }
    s
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            TimeLimit::Immediately => f.write_str("immediately"),
            TimeLimit::Within(m) => f.write_str(&fmt_minutes(m)),
            TimeLimit::DayNight { day, night } => {
                write!(f, "day {} / night {}", fmt_minutes(day), fmt_minutes(night))
            }
            TimeLimit::By(t) => write!(f, "by {}", t.strftime("%H:%M")),
        }
    }
}

impl Serialize for TimeLimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_minutes("15m"), Ok(15));
        assert_eq!(parse_minutes("90min"), Ok(90));
        assert_eq!(parse_minutes("2h"), Ok(120));
        assert_eq!(parse_minutes("1h30m"), Ok(90));
        assert_eq!(parse_minutes("3d"), Ok(3 * 1440));
        assert_eq!(parse_minutes("-5m"), Ok(-5));
        assert!(parse_minutes("15").is_err());
        assert!(parse_minutes("15 minutes").is_err());
        assert!(parse_minutes("m").is_err());
        assert!(parse_minutes("99999999999999999999m").is_err());
    }

    #[test]
    fn formats_back() {
        for s in ["15m", "2h", "1h30m", "3d", "1d2h5m"] {
            assert_eq!(fmt_minutes(parse_minutes(s).unwrap()), s);
        }
    }

    #[test]
    fn clock() {
        assert_eq!(parse_clock("15:00").unwrap(), Time::constant(15, 0, 0, 0));
        assert_eq!(parse_clock("9:30").unwrap(), Time::constant(9, 30, 0, 0));
        assert!(parse_clock("24:00").is_err());
        assert!(parse_clock("1500").is_err());
        assert!(parse_clock("15:0").is_err());
    }

    fn at(s: &str) -> Zoned {
        s.parse::<jiff::Timestamp>()
            .unwrap()
            .in_tz("Asia/Shanghai")
            .unwrap()
    }

    #[test]
    fn day_and_night() {
        let w = DayWindow {
            day_starts: Time::constant(8, 0, 0, 0),
            night_starts: Time::constant(20, 0, 0, 0),
        };
        let l = TimeLimit::DayNight { day: 15, night: 30 };
        // 10:00 local (02:00Z) is day.
        let (d, p) = l.deadline(&at("2026-03-02T02:00:00Z"), Some(w));
        assert_eq!(p, Some(DayPart::Day));
        assert_eq!(d.time(), Time::constant(10, 15, 0, 0));
        // 22:00 local (14:00Z) is night.
        let (d, p) = l.deadline(&at("2026-03-02T14:00:00Z"), Some(w));
        assert_eq!(p, Some(DayPart::Night));
        assert_eq!(d.time(), Time::constant(22, 30, 0, 0));
        // 20:00 sharp is night, 08:00 sharp is day.
        assert!(!w.is_day(Time::constant(20, 0, 0, 0)));
        assert!(w.is_day(Time::constant(8, 0, 0, 0)));
    }

    #[test]
    fn by_clock_time_rolls_to_tomorrow() {
        let l = TimeLimit::By(Time::constant(15, 0, 0, 0));
        let (d, _) = l.deadline(&at("2026-03-02T02:00:00Z"), None); // 10:00 local
        assert_eq!(d.to_string(), "2026-03-02T15:00:00+08:00[Asia/Shanghai]");
        let (d, _) = l.deadline(&at("2026-03-02T08:00:00Z"), None); // 16:00 local
        assert_eq!(d.to_string(), "2026-03-03T15:00:00+08:00[Asia/Shanghai]");
    }
}
