//! A duty roster as `PUT /api/v1/jurisdictions/{id}/rosters/{post}` receives it (JSON): refused
//! or accepted, never a panic; an accepted roster resolves and lists gaps without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yingji_domain::roster::{HolidaySet, PostHolders, Roster, gaps, resolve};

fuzz_target!(|data: &[u8]| {
    let Ok(r) = serde_json::from_slice::<Roster>(data) else {
        return;
    };
    if r.validate().is_err() {
        return;
    }
    let cal = HolidaySet::default();
    let holders = PostHolders::default();
    let from: jiff::Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    for h in [0, 7, 13, 23, 24 * 40] {
        let at = from
            .checked_add(jiff::SignedDuration::from_hours(h))
            .unwrap();
        let _ = resolve(&holders, Some(&r), at, &cal);
    }
    let until = from
        .checked_add(jiff::SignedDuration::from_hours(72))
        .unwrap();
    let _ = gaps(
        "duty",
        &holders,
        Some(&r),
        from,
        until,
        jiff::SignedDuration::from_mins(30),
        &cal,
    );
});
