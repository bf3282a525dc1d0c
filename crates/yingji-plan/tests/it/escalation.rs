//! `[[escalation]]` and `posts.above`: read into the model, and the checks P0209–P0211.

use crate::repo_root;

fn base() -> String {
    std::fs::read_to_string(repo_root().join("examples/plans/linxiang-city.toml")).unwrap()
}

fn codes(extra: &str) -> Vec<&'static str> {
    let c = yingji_plan::load(&format!("{}{extra}", base()));
    c.diagnostics
        .iter()
        .filter(|d| d.severity() == yingji_plan::diag::Severity::Error)
        .map(|d| d.code.id())
        .collect()
}

#[test]
fn a_good_policy_reads_and_checks() {
    let extra = r#"
[[escalation]]
levels = ["II"]
every_recipient = true
repeat_every = "3m"
repeat_times = 2

[[escalation.steps]]
after = "5m"
to = "deputy"

[[escalation.steps]]
after = "10m"
to = "post"
post = "deputy-secretary"

[[escalation.steps]]
after = "15m"
to = "parent_office"
"#;
    let c = yingji_plan::load(&format!("{}{extra}", base()));
    assert!(c.usable().is_some(), "{:?}", c.diagnostics);
    let p = c.usable().unwrap();
    let e = p.escalation_for("II").unwrap();
    assert!(e.every_recipient);
    assert_eq!(e.repeat_every.as_ref().unwrap().value, 3);
    assert_eq!(
        e.steps.iter().map(|s| s.after.value).collect::<Vec<_>>(),
        vec![5, 10, 15]
    );
    assert!(p.escalation_for("I").is_none());
}

#[test]
fn bad_policies_get_their_codes() {
    let order = "\n[[escalation]]\n[[escalation.steps]]\nafter = \"10m\"\nto = \"deputy\"\n[[escalation.steps]]\nafter = \"5m\"\nto = \"deputy\"\n";
    assert!(codes(order).contains(&"P0209"), "{:?}", codes(order));
    let overlap = "\n[[escalation]]\nlevels = [\"II\"]\n[[escalation]]\nlevels = [\"II\"]\n";
    assert!(codes(overlap).contains(&"P0210"));
    let unknown = "\n[[escalation]]\nlevels = [\"IX\"]\n[[escalation.steps]]\nafter = \"5m\"\nto = \"somebody\"\n";
    let c = codes(unknown);
    assert!(c.contains(&"P0104") && c.contains(&"P0005"), "{c:?}");
    let post = "\n[[escalation]]\n[[escalation.steps]]\nafter = \"5m\"\nto = \"post\"\npost = \"nobody\"\n";
    assert!(codes(post).contains(&"P0102"));
    let missing = "\n[[escalation]]\n[[escalation.steps]]\nafter = \"5m\"\nto = \"post\"\n";
    assert!(codes(missing).contains(&"P0004"));
}

#[test]
fn circular_above_is_refused() {
    let src = base()
        .replacen(
            "id = \"police-commissar\"",
            "id = \"police-commissar\"\nabove = \"police-deputy\"",
            1,
        )
        .replacen(
            "id = \"police-deputy\"",
            "id = \"police-deputy\"\nabove = \"police-commissar\"",
            1,
        );
    let c = yingji_plan::load(&src);
    let ids: Vec<&str> = c.diagnostics.iter().map(|d| d.code.id()).collect();
    assert!(ids.contains(&"P0211"), "{ids:?}");
}
