//! Checks added for issue 18 item 10: a plan that is its own parent (P0212), empty titles
//! (P0213), escalation that calls nobody (P0214, P0405), and one diagnostic per defect (no
//! follow-on errors).

use yingji_plan::{Source, load, load_set};

use crate::repo_root;

fn linxiang() -> String {
    std::fs::read_to_string(repo_root().join("examples/plans/linxiang-city.toml")).unwrap()
}

fn codes(text: &str) -> Vec<&'static str> {
    load(text).diagnostics.iter().map(|d| d.code.id()).collect()
}

#[test]
fn a_plan_that_is_its_own_parent_is_an_error() {
    let text = linxiang().replacen(
        "id = \"linxiang-city-mass-petition\"\n",
        "id = \"linxiang-city-mass-petition\"\nparent = \"linxiang-city-mass-petition\"\n",
        1,
    );
    assert_eq!(codes(&text), vec!["P0212"]);
    // Checked in a set (as `plan check DIR` and uploads do), it is reported once, and not also
    // as a missing parent.
    let r = load_set(&[Source::new("a.toml", text)]);
    let got: Vec<&str> = r[0].diagnostics.iter().map(|d| d.code.id()).collect();
    assert_eq!(got, vec!["P0212"]);
}

#[test]
fn empty_titles_are_errors() {
    let base = linxiang();
    // The plan's title, a level's name, a group's name, a group task's and an aftermath
    // duty's title: each one P0213 and nothing else.
    for (from, to) in [
        ("title = \"临溪市群体性上访事件应急预案\"", "title = \"  \""),
        ("name = \"特别重大\"", "name = \"\""),
        ("name = \"现场秩序维护组\"", "name = \"\""),
        ("title = \"落实接访场地\"", "title = \"\\t\""),
        ("title = \"组织人员进行现场清理\"", "title = \" \""),
    ] {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        assert_eq!(codes(&text), vec!["P0213"], "{from}");
    }
}

#[test]
fn an_escalation_step_calling_a_blank_post_calls_nobody() {
    let base = linxiang();
    for to in ["post", "parent_office"] {
        let text = format!(
            "{base}\n[[escalation]]\n[[escalation.steps]]\nafter = \"5m\"\nto = \"{to}\"\npost = \" \"\n"
        );
        assert_eq!(codes(&text), vec!["P0214"], "{to}");
    }
}

#[test]
fn an_escalation_policy_without_steps_or_repeats_is_a_warning() {
    let text = format!("{}\n[[escalation]]\nlevels = [\"IV\"]\n", linxiang());
    let c = load(&text);
    assert_eq!(
        c.diagnostics
            .iter()
            .map(|d| d.code.id())
            .collect::<Vec<_>>(),
        vec!["P0405"]
    );
    assert!(c.usable().is_some(), "a warning: the plan is still usable");
    // With a repeat it calls the same people again: no warning.
    let text = format!(
        "{}\n[[escalation]]\nlevels = [\"IV\"]\nrepeat_every = \"5m\"\n",
        linxiang()
    );
    assert!(codes(&text).is_empty(), "{:?}", codes(&text));
}

#[test]
fn one_defect_gives_one_diagnostic() {
    let base = linxiang();
    // A level that extends an undefined level: P0104, not also "no commander".
    let text = base.replacen(
        "[[levels]]\nid = \"IV\"\n",
        "[[levels]]\nid = \"V\"\nname = \"试\"\nextends = \"VI\"\njudgement_only = true\n\n[[levels]]\nid = \"IV\"\n",
        1,
    );
    assert_eq!(codes(&text), vec!["P0104"]);
    // A cycle of extends is reported once, not once per level on it or leading into it.
    let text = base.replacen(
        "[[levels]]\nid = \"IV\"\n",
        "[[levels]]\nid = \"X\"\nname = \"甲\"\nextends = \"Y\"\njudgement_only = true\n\n[[levels]]\nid = \"Y\"\nname = \"乙\"\nextends = \"X\"\njudgement_only = true\n\n[[levels]]\nid = \"Z\"\nname = \"丙\"\nextends = \"X\"\njudgement_only = true\n\n[[levels]]\nid = \"IV\"\n",
        1,
    );
    assert_eq!(codes(&text), vec!["P0207"]);
    // A misspelt group: P0103, not also "group never called" for the group it meant.
    let text = base.replacen("\"order\", \"dialogue\"", "\"ordr\", \"dialogue\"", 1);
    assert_ne!(text, base);
    let c = codes(&text);
    assert!(c.contains(&"P0103") && !c.contains(&"P0402"), "{c:?}");
    // A misspelt post: P0102, not also "unused post" for the post it meant.
    let text = base.replacen(
        "head = \"finance-bureau-director\"",
        "head = \"finance-bureau-directr\"",
        1,
    );
    assert_ne!(text, base);
    let c = codes(&text);
    assert!(c.contains(&"P0102") && !c.contains(&"P0403"), "{c:?}");
}
