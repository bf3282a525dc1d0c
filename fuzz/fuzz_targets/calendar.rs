//! Working-day calendar files (`--calendars`, TOML) on arbitrary text: an error or a calendar,
//! never a panic; a calendar counts periods without panicking or running away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yingji_domain::calendar::{Calendar, DayUnit, PeriodRules};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One file, and the same text split in two as two files (merging).
    let cal = Calendar::parse(text);
    let mid = text.len() / 2;
    if text.is_char_boundary(mid) {
        let (a, b) = text.split_at(mid);
        let _ = Calendar::from_files([a, b]);
    }
    // Laid over the built-in years (`--calendars`).
    let _ = Calendar::builtin_with([text]);
    let Ok(cal) = cal else { return };
    let _ = cal.years();
    for y in [1, 2025, 2026, 9998] {
        let start = jiff::civil::date(y, 12, 20);
        for unit in [DayUnit::Calendar, DayUnit::Working] {
            for days in [1, 15, 60] {
                let _ = cal.period_end(start, days, unit, PeriodRules::default());
            }
        }
    }
});
