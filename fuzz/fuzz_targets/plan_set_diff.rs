//! Two plan texts checked as a set (cross-file rules) and, when both are usable, diffed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Bytes as `plan check` reads them (not UTF-8: refused with a position, P0008).
    let (a, b) = match data.windows(7).position(|w| w == b"\n=====\n") {
        Some(i) => (&data[..i], &data[i + 7..]),
        None => (data, &b""[..]),
    };
    let sources = [
        yingji_plan::Source::from_bytes("a.toml", a.to_vec()),
        yingji_plan::Source::from_bytes("b.toml", b.to_vec()),
    ];
    let results = yingji_plan::load_set(&sources);
    for (s, r) in sources.iter().zip(&results) {
        let _ = yingji_plan::diag::render(&s.file, &s.text, &r.diagnostics, false);
        let _ = yingji_plan::diag::Located::all(&s.file, &s.text, &r.diagnostics);
    }
    if let (Some(x), Some(y)) = (results[0].usable(), results[1].usable()) {
        let changes = yingji_plan::diff::diff(x, y);
        let _ = yingji_plan::diff::render_text(&changes);
    }
});
