//! The plan parser and checker on arbitrary text: it must report diagnostics, never panic,
//! and rendering the diagnostics against the text must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let checked = yingji_plan::load(text);
    let _ = yingji_plan::diag::render("fuzz.toml", text, &checked.diagnostics, false);
    if let Some(plan) = checked.usable() {
        // A usable plan classifies and simulates any headcount without panicking.
        for headcount in [0, 1, 20, 99, 500, u32::MAX] {
            let input = yingji_plan::Input {
                headcount,
                venue: None,
                behaviours: &[],
            };
            let _ = yingji_plan::classify(plan, &input);
            let at: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().unwrap();
            let _ = yingji_plan::simulate_with(plan, &input, &at, None);
        }
    }
});
