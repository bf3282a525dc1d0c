//! Every shipped example passes `plan check`; every faulty plan fails with exactly the error
//! codes its `# expect:` line names, and its rendered diagnostics are snapshot-tested.

use std::collections::BTreeSet;

use yingji_plan::diag::render;
use yingji_plan::{Source, load_set};

use crate::{repo_root, toml_files};

fn sources(dir: &str) -> Vec<Source> {
    toml_files(&repo_root().join(dir))
        .into_iter()
        .map(|p| {
            Source::new(
                p.strip_prefix(repo_root())
                    .unwrap_or(&p)
                    .display()
                    .to_string()
                    .replace('\\', "/"),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_example_passes_check_without_warnings() {
    let srcs = sources("examples/plans");
    assert!(
        srcs.len() >= 7,
        "expected the seven example plans, found {}",
        srcs.len()
    );
    let results = load_set(&srcs);
    for (s, r) in srcs.iter().zip(&results) {
        assert!(
            r.diagnostics.is_empty(),
            "{} has diagnostics:\n{}",
            s.file,
            render(&s.file, &s.text, &r.diagnostics, false)
        );
        assert!(r.plan.is_some(), "{} produced no plan", s.file);
    }
}

#[test]
fn the_required_examples_exist() {
    for name in [
        "linxiang-city.toml",
        "ceshan-street.toml",
        "industrial-park.toml",
        "lincang-npc-office.toml",
        "township-inspection-period.toml",
        "township-special-period.toml",
        "town-holiday-period.toml",
    ] {
        assert!(
            repo_root().join("examples/plans").join(name).is_file(),
            "{name} is missing"
        );
    }
}

fn expected_codes(text: &str) -> Option<BTreeSet<String>> {
    let line = text.lines().find(|l| l.starts_with("# expect:"))?;
    Some(
        line.trim_start_matches("# expect:")
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
    )
}

#[test]
fn every_faulty_plan_fails_with_its_expected_codes() {
    let srcs = sources("examples/plans/faulty");
    assert!(srcs.len() >= 5, "too few faulty plans: {}", srcs.len());
    let mut snapshot = String::new();
    // Each faulty plan is checked on its own, as `plan check FILE` would.
    for s in &srcs {
        let r = &load_set(std::slice::from_ref(s))[0];
        let expected =
            expected_codes(&s.text).unwrap_or_else(|| panic!("{} has no `# expect:` line", s.file));
        let got: BTreeSet<String> = r
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.id().to_string())
            .collect();
        assert!(
            !got.is_empty(),
            "{} passed the check but is meant to fail",
            s.file
        );
        assert_eq!(
            got, expected,
            "{}: error codes differ from its `# expect:` line",
            s.file
        );
        for d in &r.diagnostics {
            assert!(
                d.span.is_some(),
                "{}: {} has no location",
                s.file,
                d.message
            );
        }
        snapshot.push_str(&format!("=== {}\n", s.file));
        snapshot.push_str(&render(&s.file, &s.text, &r.diagnostics, false));
    }
    insta::assert_snapshot!("faulty_plans", snapshot);
}
