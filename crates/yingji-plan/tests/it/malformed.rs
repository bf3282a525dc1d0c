//! Malformed plan files give diagnostics at the right line and column, never a panic.

use yingji_plan::diag::line_col;
use yingji_plan::{Code, load};

use crate::repo_root;

fn linxiang() -> String {
    std::fs::read_to_string(repo_root().join("examples/plans/linxiang-city.toml")).unwrap()
}

/// (code, line, column) of every error, in file order.
fn errors(text: &str) -> Vec<(Code, usize, usize)> {
    load(text)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let (l, c) = line_col(text, d.span.clone().expect("located").start);
            (d.code, l, c)
        })
        .collect()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
        + 1
}

#[test]
fn truncated_toml_points_at_the_cut() {
    let full = linxiang();
    // Cut in the middle of an inline table, as a copy truncated mid-line would be.
    let cut =
        full.find("headcount = { at_least = 100").unwrap() + "headcount = { at_least = 1".len();
    let text = &full[..cut];
    let errs = errors(text);
    assert!(!errs.is_empty());
    assert!(errs.iter().all(|e| e.0 == Code::Syntax), "{errs:?}");
    let last_line = text.lines().count();
    assert_eq!(errs[0].1, last_line, "{errs:?}");
}

#[test]
fn a_string_where_a_number_belongs() {
    let text = linxiang().replace(
        "headcount = { at_least = 50, at_most = 99 }",
        "headcount = { at_least = 50, at_most = \"99\" }",
    );
    let errs = errors(&text);
    let line = line_of(&text, "at_most = \"99\"");
    let col = text.lines().nth(line - 1).unwrap().find("\"99\"").unwrap() + 1;
    assert_eq!(errs, vec![(Code::WrongType, line, col)]);
}

#[test]
fn a_level_calling_a_missing_group() {
    let text = linxiang().replace(
        "groups = [\"order\", \"dialogue\", \"persuasion\", \"logistics\"]",
        "groups = [\"order\", \"dialog\", \"persuasion\", \"logistics\"]",
    );
    let errs = errors(&text);
    let line = line_of(&text, "\"dialog\"");
    let col = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("\"dialog\"")
        .unwrap()
        + 1;
    assert_eq!(errs, vec![(Code::UndefinedGroup, line, col)]);
}

#[test]
fn several_problems_are_all_reported() {
    let text = linxiang()
        .replace("colour = \"red\"", "color = \"red\"")
        .replace("within = \"2h\"", "within = \"-2h\"")
        .replace(
            "approver = \"deputy-secretary\"\nconsultation",
            "approver = \"nobody\"\nconsultation",
        );
    let codes: Vec<Code> = errors(&text).into_iter().map(|e| e.0).collect();
    assert!(codes.contains(&Code::UnknownKey), "{codes:?}");
    assert!(codes.contains(&Code::NonPositiveTimeLimit), "{codes:?}");
    assert!(codes.contains(&Code::UndefinedPost), "{codes:?}");
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let text = linxiang().replace(
        "judgement = \"上访行为无法控制\"\ncommander",
        "judgment = \"上访行为无法控制\"\ncommander",
    );
    let c = load(&text);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == Code::UnknownKey)
        .expect("unknown key reported");
    assert_eq!(d.help.as_deref(), Some("did you mean `judgement`?"));
}

#[test]
fn missing_required_keys_are_named() {
    let c = load("format = 1\n[meta]\nid = \"x\"\n");
    let msgs: Vec<&str> = c.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(msgs.iter().any(|m| m.contains("`title`")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("`command`")), "{msgs:?}");
    assert!(c.usable().is_none());
}

#[test]
fn nonsense_never_panics() {
    for text in [
        "",
        "\u{feff}",
        "[[levels]]\n[[levels]]\n",
        "levels = 5",
        "[meta]\nid = \"中文\"\ntitle = 1",
        "[[levels.when]]\nheadcount = { below = 0 }",
        "[scope]\nheadcount = { more_than = 4294967295 }",
        "[[levels]]\nid=\"a\"\nname=\"a\"\nextends=\"a\"\ncommander=[]",
        "a = [1, 2\n",
        "[time]\nzone = \"Mars/Olympus\"\nday_starts = \"25:00\"",
    ] {
        let c = load(text);
        assert!(c.has_errors(), "{text:?} should not pass");
    }
}

#[test]
fn a_report_delivered_to_an_unknown_recipient() {
    let text = linxiang().replace(
        "deliver_to = \"parent\" # the parent",
        "deliver_to = \"parnet\" # the parent",
    );
    let errs = errors(&text);
    let line = line_of(&text, "deliver_to = \"parnet\"");
    let col = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("\"parnet\"")
        .unwrap()
        + 1;
    assert_eq!(errs, vec![(Code::UndefinedPost, line, col)]);
    // `parent`, `command` and a post of the plan are all fine.
    let text = linxiang().replace(
        "deliver_to = \"parent\" # the parent",
        "deliver_to = \"vice-mayor\" # the parent",
    );
    assert_eq!(errors(&text), vec![]);
}
