//! The scope yingji enforces (issue 18 item 7): a plan whose intake fields, tasks, schedules,
//! upward reports or coercive steps ask for measures aimed at individual petitioners is refused
//! with the category's code (P0501–P0507) at the value; ordinary plan text and the shipped
//! examples are not.

use yingji_plan::diag::{Located, render};
use yingji_plan::scope::{Category, TERMS};
use yingji_plan::{Code, Source, load, load_set};

use crate::{repo_root, toml_files};

fn linxiang() -> String {
    std::fs::read_to_string(repo_root().join("examples/plans/linxiang-city.toml")).unwrap()
}

/// (code, line, column, message) of every scope diagnostic.
fn scope_errors(text: &str) -> Vec<(&'static str, usize, usize, String)> {
    let c = load(text);
    Located::all("plan.toml", text, &c.diagnostics)
        .into_iter()
        .filter(|d| d.code.is_scope())
        .map(|d| {
            assert_eq!(d.severity, yingji_plan::Severity::Error);
            (
                d.code.id(),
                d.line.unwrap(),
                d.column.unwrap(),
                d.message.clone(),
            )
        })
        .collect()
}

/// Where `needle` is in `text`: 1-based line and column (characters).
fn at(text: &str, needle: &str) -> (usize, usize) {
    let off = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not found"));
    yingji_plan::diag::line_col(text, off)
}

/// The plan of the report that opened item 7, in Chinese.
const ZH: &str = r#"
[[intake]]
id = "key_person_name"
label = "重点人员姓名"

[[intake]]
id = "id_number"
label = "身份证号"

[[intake]]
id = "movement"
label = "当前行踪"

[[intake]]
id = "handling"
label = "处置情况"
kind = "choice"
options = ["已接访", "已稳控"]

[[levels.tasks]]
group = "command"
title = "赴京接返，带回本地训诫"
within = "2h"

[[levels.tasks]]
group = "command"
title = "人盯人稳控在家"
within = "1h"

[[schedules]]
id = "daily-key"
name = "重点人员日报"
from = ["deputy-secretary"]
to = "command"
every = "day"
at = "16:00"
fields = ["重点人员姓名", "当日行踪"]
"#;

#[test]
fn a_chinese_plan_asking_for_excluded_measures_is_refused_at_each_value() {
    let text = format!("{}{ZH}", linxiang());
    let errs = scope_errors(&text);
    let codes: Vec<&str> = errs.iter().map(|e| e.0).collect();
    assert_eq!(
        codes,
        vec![
            "P0501", "P0507", "P0502", "P0503", "P0504", "P0503", "P0501"
        ],
        "{errs:#?}"
    );
    // Each points at its value (the opening quote), and names the term and the category in
    // English and Chinese.
    let expect = [
        ("\"重点人员姓名\"", "重点人员", "登记、列管上访人员"),
        ("\"身份证号\"", "身份证", "采集身份证号码"),
        ("\"当前行踪\"", "行踪", "掌握人员行踪"),
        ("\"已稳控\"", "稳控", "watching people"),
        ("\"赴京接返，带回本地训诫\"", "接返", "intercepting people"),
        ("\"人盯人稳控在家\"", "人盯人", "盯守、稳控人员"),
        ("\"重点人员日报\"", "重点人员", "registering or listing"),
    ];
    for (e, (needle, term, cat)) in errs.iter().zip(expect) {
        assert_eq!((e.1, e.2), at(&text, needle), "{e:?}");
        assert!(e.3.contains(&format!("term “{term}”")), "{}", e.3);
        assert!(e.3.contains(cat), "{}", e.3);
    }
    // One diagnostic per item: the task's other terms are named in the same message.
    assert!(
        errs[4].3.contains("“带回”") && errs[4].3.contains("“训诫”"),
        "{}",
        errs[4].3
    );
    // The plan is not usable, and the rest of the checks still ran (no other error).
    let c = load(&text);
    assert!(c.usable().is_none());
    assert!(
        c.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .all(|d| d.code.is_scope()),
        "{}",
        render("plan.toml", &text, &c.diagnostics, false)
    );
}

#[test]
fn an_english_plan_asking_for_excluded_measures_is_refused() {
    let extra = r#"
[[intake]]
id = "key_persons"
label = "Key persons present"

[[intake]]
id = "ident"
label = "ID number"

[[first_response]]
group = "command"
title = "Intercept the petitioners at the station and escort them back"
within = "1h"

[[levels.tasks]]
group = "command"
title = "Keep round-the-clock surveillance on the organisers"
within = "1h"

[[levels.coercive_steps]]
step = "detain"
name = "Detention for admonition"
approver = "deputy-secretary"

[[schedules]]
id = "daily"
name = "Daily return"
from = ["deputy-secretary"]
to = "command"
every = "day"
at = "16:00"
fields = ["Whereabouts of each person"]
"#;
    let text = format!("{}{extra}", linxiang());
    let errs = scope_errors(&text);
    let codes: Vec<&str> = errs.iter().map(|e| e.0).collect();
    assert_eq!(
        codes,
        vec!["P0501", "P0507", "P0504", "P0503", "P0506", "P0502"],
        "{errs:#?}"
    );
    assert!(errs[0].3.contains("term “key person”"), "{}", errs[0].3);
    assert!(errs[2].3.contains("“escort”"), "{}", errs[2].3);
    assert_eq!((errs[5].1, errs[5].2), at(&text, "\"Whereabouts of each"));
}

#[test]
fn upward_report_fields_and_field_ids_are_checked() {
    let text = linxiang().replacen(
        "[[levels.reports]]",
        "[[levels.reports]]\nfields = [\"人数\", \"重点人员名单\"]",
        1,
    );
    let errs = scope_errors(&text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "P0501");
    assert_eq!((errs[0].1, errs[0].2), at(&text, "\"重点人员名单\""));
    // An id alone names the measure too.
    let errs = scope_errors(&format!(
        "{}\n[[intake]]\nid = \"whereabouts\"\nlabel = \"补充\"\n",
        linxiang()
    ));
    assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), vec!["P0502"]);
}

#[test]
fn ordinary_plan_text_is_not_refused() {
    let extra = r#"
[[intake]]
id = "heading_to"
label = "上访去向"

[[intake]]
id = "grievances_heard"
label = "群众诉求"

[[levels.tasks]]
group = "command"
title = "劝导群众到接待场所，疏导化解矛盾，做好接访和接待工作"
within = "30m"

[[levels.tasks]]
group = "command"
title = "维护现场秩序，实行交通管制，现场处置，维护信访稳定"
within = "30m"

[[levels.tasks]]
group = "command"
title = "Receive the petitioners, hear their grievances and keep order at the scene"
within = "30m"
"#;
    let text = format!("{}{extra}", linxiang());
    assert!(scope_errors(&text).is_empty(), "{:?}", scope_errors(&text));
    let c = load(&text);
    assert!(
        c.usable().is_some(),
        "{}",
        render("plan.toml", &text, &c.diagnostics, false)
    );
}

#[test]
fn the_shipped_examples_and_demo_plans_have_no_scope_error() {
    // The demo loads the same files (crates/yingji-app/src/demo.rs).
    let dir = repo_root().join("examples/plans");
    let srcs: Vec<Source> = toml_files(&dir)
        .into_iter()
        .map(|p| {
            Source::new(
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert!(srcs.len() >= 7);
    for (s, r) in srcs.iter().zip(load_set(&srcs)) {
        let scope: Vec<_> = r.diagnostics.iter().filter(|d| d.code.is_scope()).collect();
        assert!(scope.is_empty(), "{}: {scope:?}", s.file);
    }
    // The faulty examples fail for their own reasons, not for scope.
    for p in toml_files(&dir.join("faulty")) {
        let r = load(&std::fs::read_to_string(&p).unwrap());
        assert!(
            !r.diagnostics.iter().any(|d| d.code.is_scope()),
            "{}",
            p.display()
        );
    }
}

#[test]
fn the_documented_vocabulary_is_the_one_enforced() {
    let doc = std::fs::read_to_string(repo_root().join("docs/plan-format.md")).unwrap();
    let start = doc
        .find("## 9. Scope")
        .expect("docs/plan-format.md has §9 Scope");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    for c in Category::ALL {
        assert!(section.contains(c.code().id()), "{c:?}'s code is not in §9");
        assert!(section.contains(c.zh()), "{c:?}'s name is not in §9");
        for t in TERMS.iter().filter(|t| t.category == c) {
            assert!(
                section.contains(&format!("`{}`", t.text)),
                "term `{}` ({c:?}) is not listed in docs/plan-format.md §9",
                t.text
            );
        }
    }
    // Every scope code is one of the categories' codes.
    for code in Category::ALL.map(|c| c.code()) {
        assert!(code.is_scope());
        assert_eq!(code.severity(), yingji_plan::Severity::Error);
    }
    assert!(!Code::UnknownKey.is_scope());
}
