//! The `yingji plan …` commands as a user runs them: exit codes, output, JSON shape.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yingji(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn check_of_the_examples_directory_passes() {
    let o = yingji(&["plan", "check", "examples/plans"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 error(s)"));
}

#[test]
fn check_of_a_faulty_plan_fails_with_located_diagnostics() {
    let o = yingji(&[
        "plan",
        "check",
        "examples/plans/faulty/linxiang-city-overlap.toml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("error[P0201]"), "{out}");
    assert!(
        out.contains("examples/plans/faulty/linxiang-city-overlap.toml:"),
        "{out}"
    );
    assert!(out.contains('^'), "no caret: {out}");
}

#[test]
fn check_json_lists_diagnostics_with_line_and_column() {
    let o = yingji(&["plan", "check", "--format", "json", "examples/plans/faulty"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["errors"].as_u64().unwrap() > 0);
    let d = &v["diagnostics"][0];
    for k in ["severity", "code", "message", "file", "line", "column"] {
        assert!(!d[k].is_null(), "missing {k} in {d}");
    }
}

#[test]
fn check_of_a_missing_file_is_a_usage_error() {
    let o = yingji(&["plan", "check", "no/such/plan.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/plan.toml"));
}

fn simulate(headcount: &str, at: &str) -> serde_json::Value {
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/linxiang-city.toml",
        "--headcount",
        headcount,
        "--at",
        at,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn simulate_grades_linxiang_as_the_issue_says() {
    assert_eq!(
        simulate("120", "2026-03-02T10:00:00+08:00")["level"]["id"],
        "II"
    );
    assert!(simulate("19", "2026-03-02T10:00:00+08:00")["level"].is_null());
    assert_eq!(
        simulate("500", "2026-03-02T10:00:00+08:00")["level"]["id"],
        "I"
    );
}

#[test]
fn simulate_deadlines_shift_by_day_and_night() {
    let day = simulate("120", "2026-03-02T10:00:00+08:00");
    let night = simulate("120", "2026-03-02T22:00:00+08:00");
    let order = |v: &serde_json::Value| {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["group"] == "order")
            .unwrap()["due_at"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(order(&day), "2026-03-02T10:30:00+08:00");
    assert_eq!(order(&night), "2026-03-02T22:45:00+08:00");
}

#[test]
fn simulate_refuses_an_unknown_venue_or_a_bad_time() {
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/linxiang-city.toml",
        "--headcount",
        "30",
        "--behaviour",
        "dancing",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dancing"));
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/linxiang-city.toml",
        "--headcount",
        "30",
        "--at",
        "tomorrow",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn simulate_of_a_faulty_plan_shows_its_errors() {
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/faulty/linxiang-city-overlap.toml",
        "--headcount",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("P0201"));
}

#[test]
fn diff_shows_a_changed_limit_and_commander() {
    let dir = std::env::temp_dir().join(format!("yingji-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = root().join("examples/plans/linxiang-city.toml");
    let text = std::fs::read_to_string(&old).unwrap();
    let new_text = text
        .replace(
            "title = \"落实接访场地\"\nwithin = \"1h\"",
            "title = \"落实接访场地\"\nwithin = \"45m\"",
        )
        .replace(
            "commander = [\"party-deputy-secretary\"]",
            "commander = [\"deputy-secretary\"]",
        );
    assert_ne!(text, new_text);
    let new = dir.join("linxiang-revised.toml");
    std::fs::write(&new, new_text).unwrap();
    let o = yingji(&[
        "plan",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["scope"] == "level I"
            && c["what"] == "commander"
            && c["old"] == "市委副书记"
            && c["new"] == "市委分管副书记"),
        "{changes:#?}"
    );
    // The logistics checklist is called from level III up, so the limit changes in III, II, I.
    let limit: Vec<&serde_json::Value> = changes
        .iter()
        .filter(|c| c["what"].as_str().unwrap().contains("落实接访场地"))
        .collect();
    assert_eq!(limit.len(), 3, "{limit:#?}");
    assert!(limit.iter().all(|c| c["old"] == "1h" && c["new"] == "45m"));
    let same = yingji(&["plan", "diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(stdout(&same), "no changes\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serve_refuses_a_bad_case_configuration_or_calendar() {
    let dir = std::env::temp_dir().join(format!("yingji-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cal")).unwrap();
    let cfg = dir.join("cases.toml");
    std::fs::write(&cfg, "[defaults]\nclock = { days = 0 }\n").unwrap();
    let data = dir.join("data");
    let o = yingji(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
        "--case-config",
        cfg.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a clock must be at least one day"), "{err}");
    std::fs::write(
        dir.join("cal/cn-2027.toml"),
        "name = 'x'\nyears = [2027]\nholidays = [{ name = '春节', from = 2027-02-10, to = 2027-02-05 }]\n",
    )
    .unwrap();
    let o = yingji(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
        "--calendars",
        dir.join("cal").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ends before it starts"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
