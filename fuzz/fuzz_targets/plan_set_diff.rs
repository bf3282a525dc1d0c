//! Two plan texts checked as a set (cross-file rules) and, when both are usable, diffed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once("\n=====\n").unwrap_or((text, ""));
    let sources = [
        yingji_plan::Source {
            file: "a.toml".into(),
            text: a.into(),
        },
        yingji_plan::Source {
            file: "b.toml".into(),
            text: b.into(),
        },
    ];
    let results = yingji_plan::load_set(&sources);
    if let (Some(x), Some(y)) = (results[0].usable(), results[1].usable()) {
        let changes = yingji_plan::diff::diff(x, y);
        let _ = yingji_plan::diff::render_text(&changes);
    }
});
