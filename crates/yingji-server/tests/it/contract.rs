//! The contract every adapter shares: one list of error codes, each with a message in every
//! language of the console and a row in `docs/api.md` with its HTTP status.

use yingji_app::ErrorCode;
use yingji_server::pages::Lang;

#[test]
fn every_error_code_has_both_catalogue_entries() {
    for lang in ["zh-CN", "en"] {
        let l = Lang::by_code(lang).expect("language");
        let missing: Vec<&str> = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| !l.has(&format!("error.{c}")))
            .collect();
        assert!(missing.is_empty(), "{lang} has no message for {missing:?}");
    }
}

#[test]
fn every_error_code_is_documented_with_its_status() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
        .expect("docs/api.md");
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    for c in ErrorCode::ALL {
        let tick = format!("`{}`", c.as_str());
        let row = rows
            .iter()
            .find(|r| r.split('|').nth(1).is_some_and(|cell| cell.contains(&tick)))
            .unwrap_or_else(|| panic!("docs/api.md has no row for {tick}"));
        let status = c.status().to_string();
        assert!(
            row.split('|')
                .nth(2)
                .is_some_and(|cell| cell.contains(&status)),
            "docs/api.md gives {tick} another status than {status}: {row}"
        );
    }
}
