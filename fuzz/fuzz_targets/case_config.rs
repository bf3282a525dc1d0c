//! The petition-case configuration (`--case-config`, TOML) on arbitrary text: an error or usable
//! settings, never a panic; usable settings number and date a case without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yingji_domain::calendar::Calendar;
use yingji_domain::case::{CaseConfig, Channel};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = CaseConfig::parse(text) else {
        return;
    };
    let cal = Calendar::builtin();
    let start = jiff::civil::date(2026, 3, 2);
    for key in [vec!["990181"], vec!["临溪市", "990100"], vec![]] {
        let s = cfg.for_keys(key.iter().copied());
        let _ = s.tz();
        let _ = s.number("990181", 2026, 12345, Channel::Visit);
        for case_type in ["general", "collective", "referred"] {
            let clock = s.clock_for(case_type);
            let _ = cal.period_end(start, clock.days, clock.unit, s.period);
        }
        let _ = cal.period_end(start, s.extension.max_days, s.extension.unit, s.period);
    }
});
