//! Checking scales linearly with the number of diagnostics (issue 18 item 10): a plan with
//! about 20,000 diagnostics is read, checked, located and rendered within a generous bound,
//! and the input-size limit and the UTF-8 refusal.

use std::time::{Duration, Instant};

use yingji_plan::diag::{Located, render};
use yingji_plan::{Code, MAX_SOURCE_BYTES, Source, load, load_set, read_limited};

use crate::repo_root;

fn linxiang() -> String {
    std::fs::read_to_string(repo_root().join("examples/plans/linxiang-city.toml")).unwrap()
}

/// The example plus `n` posts that nothing uses (one P0403 warning each) and `n` posts that
/// repeat one id (one P0101 error each, with a note pointing back at the first, far away).
fn many(n: usize) -> String {
    let mut text = linxiang();
    for i in 0..n {
        text.push_str(&format!(
            "\n[[posts]]\nid = \"unused-{i}\"\nname = \"岗位{i}\"\n"
        ));
    }
    for _ in 0..n {
        text.push_str("\n[[posts]]\nid = \"twice\"\nname = \"重复\"\n");
    }
    text
}

/// Times load + locate (JSON output) + render (text output) of one text; returns the count of
/// diagnostics and the time taken.
fn check_all(text: &str) -> (usize, Duration) {
    let t = Instant::now();
    let checked = load(text);
    let located = Located::all("big.toml", text, &checked.diagnostics);
    let rendered = render("big.toml", text, &checked.diagnostics, false);
    assert_eq!(located.len(), checked.diagnostics.len());
    assert!(rendered.len() > checked.diagnostics.len());
    (checked.diagnostics.len(), t.elapsed())
}

#[test]
fn twenty_thousand_diagnostics_check_in_linear_time() {
    let (n_small, t_small) = check_all(&many(2_500));
    let big = many(10_000);
    let (n_big, t_big) = check_all(&big);
    assert!(n_big >= 20_000, "{n_big} diagnostics");
    eprintln!(
        "plan check: {n_small} diagnostics in {t_small:?}, {n_big} diagnostics ({} KiB) in {t_big:?}",
        big.len() / 1024
    );
    // Generous for a debug build on a slow machine; the quadratic version took minutes.
    assert!(t_big < Duration::from_secs(20), "took {t_big:?}");
    // Four times the diagnostics should cost about four times as much, not sixteen.
    assert!(
        t_big < t_small * 10 + Duration::from_millis(500),
        "{t_small:?} for {n_small}, {t_big:?} for {n_big}: not linear"
    );
    // Every diagnostic points at the right line: the last duplicate is on the last post.
    let checked = load(&big);
    let last = Located::all("big.toml", &big, &checked.diagnostics)
        .into_iter()
        .rfind(|d| d.code == Code::DuplicateId)
        .unwrap();
    let expected_line = big.lines().count() - 1;
    assert_eq!(last.line, Some(expected_line));
}

#[test]
fn a_file_over_the_limit_is_refused_without_reading_it_all() {
    // An endless input: only the limit (+1) is read.
    let bytes = read_limited(std::io::repeat(0)).unwrap();
    assert_eq!(bytes.len(), MAX_SOURCE_BYTES + 1);
    let s = Source::from_bytes("/dev/zero", bytes);
    assert!(s.refused());
    let r = load_set(&[s]);
    assert_eq!(r[0].diagnostics.len(), 1);
    let d = &r[0].diagnostics[0];
    assert_eq!(d.code.id(), "P0007");
    assert!(d.message.contains("too large"), "{}", d.message);
    assert!(d.message.contains("1048576"), "{}", d.message);
    // Text handed in directly (an upload) has the same limit.
    let text = format!("{}#{}", linxiang(), "x".repeat(MAX_SOURCE_BYTES));
    let c = load(&text);
    assert_eq!(
        c.diagnostics
            .iter()
            .map(|d| d.code.id())
            .collect::<Vec<_>>(),
        vec!["P0007"]
    );
    // At the limit it is read.
    let exact = read_limited(&b"format = 1\n"[..]).unwrap();
    assert!(!Source::from_bytes("small.toml", exact).refused());
}

#[test]
fn a_gbk_file_is_refused_at_its_first_bad_byte_and_the_others_are_still_checked() {
    // `title = "测试"` saved as GBK on line 3: B2 E2 CA D4; B2 cannot start a UTF-8 character.
    let mut gbk = b"format = 1\n[meta]\ntitle = \"".to_vec();
    gbk.extend_from_slice(&[0xB2, 0xE2, 0xCA, 0xD4]);
    gbk.extend_from_slice(b"\"\n");
    let bad = Source::from_bytes("gbk.toml", gbk);
    assert!(bad.refused());
    let bad_text = bad.text.clone();
    let mut other = linxiang();
    other = other.replacen("commander = [\"", "commander = [\"nobody-", 1);
    let good = Source::new("other.toml", other);
    let results = load_set(&[bad, good]);
    let d = &results[0].diagnostics;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code.id(), "P0008");
    assert!(
        d[0].help
            .as_deref()
            .unwrap()
            .contains("save the file as UTF-8")
    );
    let loc = Located::all("gbk.toml", &bad_text, d);
    assert_eq!((loc[0].line, loc[0].column), (Some(3), Some(10)));
    // The other file's error is still reported.
    assert!(
        results[1]
            .diagnostics
            .iter()
            .any(|d| d.code == Code::UndefinedPost),
        "{:?}",
        results[1].diagnostics
    );
}
