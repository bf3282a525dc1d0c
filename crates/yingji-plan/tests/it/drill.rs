//! Drill scripts (演练脚本): the example checks clean against its plan; every rule gives its code
//! at the offending value (line:col); every problem is reported, not only the first; scope terms
//! are refused as in a plan; `check_script` agrees with `check`; the script round-trips through
//! JSON.

use yingji_plan::diag::{Located, line_col, render};
use yingji_plan::drill::{self, DrillScript, InjectAction, MAX_INJECTS};
use yingji_plan::{Code, MAX_SOURCE_BYTES, Plan, Source, load, load_set};

use crate::{load_example, repo_root};

fn example() -> String {
    std::fs::read_to_string(repo_root().join("examples/drills/linxiang-annual.toml")).unwrap()
}

fn linxiang() -> Plan {
    load_example("linxiang-city.toml")
}

type Found = Vec<(Code, usize, usize)>;

/// (code, line, column) of every diagnostic, in the order reported (by position).
fn found(text: &str, plans: &[&Plan]) -> Found {
    let c = drill::check(text, plans);
    Located::all("drill.toml", text, &c.diagnostics)
        .into_iter()
        .map(|d| {
            (
                d.code,
                d.line.expect("every diagnostic of a file has a line"),
                d.column.unwrap(),
            )
        })
        .collect()
}

/// The diagnostics against the Linxiang plan.
fn against_linxiang(text: &str) -> Found {
    found(text, &[&linxiang()])
}

/// Where the `n`th (0-based) occurrence of `needle` starts: 1-based line and column.
fn nth(text: &str, needle: &str, n: usize) -> (usize, usize) {
    let off = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` #{n} not in the text"))
        .0;
    line_col(text, off)
}

fn at(text: &str, needle: &str) -> (usize, usize) {
    nth(text, needle, 0)
}

/// A position `n` columns to the right.
fn right((line, col): (usize, usize), n: usize) -> (usize, usize) {
    (line, col + n)
}

fn d(code: Code, (line, col): (usize, usize)) -> (Code, usize, usize) {
    (code, line, col)
}

/// The example with pieces of text replaced (each must be there; the first occurrence).
fn edit(pairs: &[(&str, &str)]) -> String {
    let mut text = example();
    for (from, to) in pairs {
        assert!(text.contains(from), "`{from}` not in the example");
        text = text.replacen(from, to, 1);
    }
    text
}

fn messages(text: &str) -> Vec<String> {
    drill::check(text, &[&linxiang()])
        .diagnostics
        .into_iter()
        .map(|d| d.message)
        .collect()
}

#[test]
fn the_example_checks_clean_against_its_plan() {
    // The plan read the way `plan check` and uploads read it.
    let path = repo_root().join("examples/plans/linxiang-city.toml");
    let sources = [Source::new(
        "examples/plans/linxiang-city.toml",
        std::fs::read_to_string(path).unwrap(),
    )];
    let checked = load_set(&sources);
    let plan = checked[0].usable().expect("the plan is usable");
    let text = example();
    let c = drill::check(&text, &[plan]);
    assert!(
        c.diagnostics.is_empty(),
        "{}",
        render(
            "examples/drills/linxiang-annual.toml",
            &text,
            &c.diagnostics,
            false
        )
    );
    let s = c.usable().expect("usable");
    assert_eq!(s.plan, "linxiang-city-mass-petition");
    assert_eq!(s.level.as_deref(), Some("III"));
    assert_eq!(s.report.headcount, 35);
    assert_eq!(s.observers, ["市应急管理局"]);
    let kinds: Vec<&str> = s.injects.iter().map(|i| i.action.kind()).collect();
    assert_eq!(
        kinds,
        ["headcount", "message", "behaviours", "location", "end"]
    );
    let secs: Vec<u64> = s.injects.iter().map(|i| i.at_secs).collect();
    assert_eq!(secs, [600, 1500, 2400, 3000, 5400]);
    assert_eq!(
        s.injects[0].action,
        InjectAction::Headcount { headcount: 70 }
    );
    assert_eq!(
        s.injects[1].action,
        InjectAction::Message {
            text: "指挥部办公室报告：接访场地的值班电话暂时无人接听，请改用备用号码联系".into(),
            to: Some("petition-bureau-director".into()),
        }
    );
    assert_eq!(
        s.injects[2].action,
        InjectAction::Behaviours {
            behaviours: vec!["blocking-traffic".into()]
        }
    );
    assert!(drill::check_script(s, &[plan]).is_empty());
}

#[test]
fn unknown_keys_are_reported_where_they_are() {
    let text = format!(
        "extra = 1\n{}",
        edit(&[
            ("level = \"III\"\n", "level = \"III\"\nleader = \"x\"\n"),
            ("headcount = 70\n", "headcount = 70\ncolour = \"red\"\n"),
        ])
    );
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::UnknownKey, (1, 1)),
            d(Code::UnknownKey, at(&text, "leader")),
            d(Code::UnknownKey, at(&text, "colour")),
        ]
    );
    let c = drill::check(&text, &[&linxiang()]);
    assert_eq!(
        c.diagnostics[0].message,
        "unknown key `extra` in the drill script"
    );
    assert_eq!(
        c.diagnostics[0].label.as_deref(),
        Some("not part of the drill script format")
    );
    assert_eq!(c.diagnostics[1].message, "unknown key `leader` in `drill`");
    assert_eq!(
        c.diagnostics[2].message,
        "unknown key `colour` in `injects[0]`"
    );
    // Errors: the script is read, but not usable.
    assert!(c.script.is_some());
    assert!(c.usable().is_none());
}

#[test]
fn a_wrong_type_is_reported_at_the_value() {
    let text = edit(&[("headcount = 35", "headcount = \"35\"")]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::WrongType, at(&text, "\"35\""))]
    );
    let text = edit(&[("[\"市委办公室\"", "[1")]);
    let (l, c) = at(&text, "[1");
    assert_eq!(against_linxiang(&text), vec![(Code::WrongType, l, c + 1)]);
    let text = edit(&[("behaviours = [\"blocking-traffic\"]", "behaviours = 3")]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::WrongType, at(&text, "3\n"))]
    );
}

#[test]
fn missing_keys_are_reported_at_their_table() {
    let text = edit(&[(
        "scenario = \"某安置小区数十名住户到市政府门前，反映房屋漏水长期未修的问题\"\n",
        "",
    )]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::MissingKey, at(&text, "[drill]"))]
    );
    let c = drill::check(&text, &[&linxiang()]);
    assert_eq!(
        c.diagnostics[0].message,
        "missing required key `scenario` in `drill`"
    );
    assert!(c.script.is_none(), "no scenario, no script");

    // No [report] table (a misnamed one), an inject without `at`, a message without `text`.
    let text = edit(&[
        ("[report]\n", "[reports]\n"),
        ("at = \"50m\"\n", ""),
        ("text = \"指挥部办公室报告", "txt = \"指挥部办公室报告"),
    ]);
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::MissingKey, (1, 1)),
            d(Code::UnknownKey, (at(&text, "[reports]").0, 2)),
            d(Code::MissingKey, nth(&text, "[[injects]]", 1)),
            d(Code::UnknownKey, at(&text, "txt")),
            d(Code::MissingKey, nth(&text, "[[injects]]", 3)),
        ]
    );
    let m = messages(&text);
    assert_eq!(m[0], "missing required key `report` in the drill script");
    assert_eq!(m[2], "missing required key `text` in `injects[1]`");
    assert_eq!(m[3], "unknown key `txt` in `injects[1]`");
    assert_eq!(m[4], "missing required key `at` in `injects[3]`");
}

#[test]
fn a_key_of_another_kind_is_an_error() {
    let text = edit(&[
        (
            "headcount = 70\n",
            "headcount = 70\ntext = \"现场人数增加\"\n",
        ),
        ("kind = \"end\"\n", "kind = \"end\"\nheadcount = 0\n"),
    ]);
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::InvalidValue, at(&text, "\"现场人数增加\"")),
            d(Code::InvalidValue, right(at(&text, "= 0\n"), 2)),
        ]
    );
    let m = messages(&text);
    assert_eq!(
        m[0],
        "`injects[0].text` is only for injects of kind `message`"
    );
    assert_eq!(
        m[1],
        "`injects[4].headcount` is only for injects of kind `headcount`"
    );
    // An unknown kind is reported once; which keys would belong to it is unknown.
    let text = edit(&[("kind = \"location\"", "kind = \"crowd\"")]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::InvalidValue, at(&text, "\"crowd\""))]
    );
    assert_eq!(messages(&text), ["`crowd` is not an inject kind"]);
}

#[test]
fn offsets_must_parse_be_positive_and_within_a_day() {
    for (bad, code) in [
        ("10 minutes", Code::InvalidValue),
        ("10", Code::InvalidValue),
        ("1.5h", Code::InvalidValue),
        ("0m", Code::NonPositiveTimeLimit),
        ("-5m", Code::NonPositiveTimeLimit),
    ] {
        let text = edit(&[("at = \"10m\"", &format!("at = \"{bad}\""))]);
        assert_eq!(
            against_linxiang(&text),
            vec![d(code, at(&text, &format!("\"{bad}\"")))],
            "{bad}"
        );
    }
    // The last inject at 24h is allowed; one minute later is not.
    let text = edit(&[("at = \"1h30m\"", "at = \"24h\"")]);
    assert!(against_linxiang(&text).is_empty());
    let text = edit(&[("at = \"1h30m\"", "at = \"1d1m\"")]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::InvalidValue, at(&text, "\"1d1m\""))]
    );
    assert_eq!(
        messages(&text),
        ["`injects[4].at` is 1d1m after the start; a drill lasts at most 24h"]
    );
}

#[test]
fn injects_must_be_in_time_order() {
    let text = edit(&[("at = \"25m\"", "at = \"5m\"")]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::InjectOrder, at(&text, "\"5m\""))]
    );
    let c = drill::check(&text, &[&linxiang()]);
    let x = &c.diagnostics[0];
    assert_eq!(x.code.id(), "P0215");
    assert_eq!(
        x.message,
        "`injects[1]` at +5m is listed after `injects[0]` at +10m: injects must be in time order"
    );
    // The note points at the inject before it.
    assert_eq!(x.notes.len(), 1);
    assert_eq!(line_col(&text, x.notes[0].span.start), at(&text, "\"10m\""));
    // Two injects at the same time are in order.
    let text = edit(&[("at = \"25m\"", "at = \"10m\"")]);
    assert!(against_linxiang(&text).is_empty());
    // Each inject out of order is reported, against the one listed before it.
    let text = edit(&[
        ("at = \"25m\"", "at = \"5m\""),
        ("at = \"50m\"", "at = \"30m\""),
    ]);
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::InjectOrder, at(&text, "\"5m\"")),
            d(Code::InjectOrder, at(&text, "\"30m\"")),
        ]
    );
}

#[test]
fn a_script_needs_injects_and_holds_at_most_200() {
    let full = example();
    let text = &full[..full.find("[[injects]]").unwrap()];
    assert_eq!(against_linxiang(text), vec![(Code::MissingKey, 1, 1)]);
    assert_eq!(messages(text), ["the drill script has no injects"]);
    let text = format!("injects = []\n{text}");
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::MissingKey, at(&text, "[]"))]
    );

    let many = |n: usize| {
        let mut t = full[..full.find("[[injects]]").unwrap()].to_string();
        for i in 1..=n {
            t.push_str(&format!(
                "[[injects]]\nat = \"{i}m\"\nkind = \"headcount\"\nheadcount = {}\n\n",
                35 + i
            ));
        }
        t
    };
    assert_eq!(MAX_INJECTS, 200);
    assert!(against_linxiang(&many(200)).is_empty());
    let text = many(201);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::InvalidValue, at(&text, "\"201m\""))]
    );
    assert_eq!(
        messages(&text),
        ["201 injects: a drill script holds at most 200"]
    );
}

#[test]
fn nothing_comes_after_the_end() {
    let extra = "\n[[injects]]\nat = \"2h\"\nkind = \"message\"\ntext = \"复盘会议开始\"\n\n[[injects]]\nat = \"3h\"\nkind = \"end\"\n";
    let text = format!("{}{extra}", example());
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::InjectAfterEnd, at(&text, "\"2h\""))]
    );
    let c = drill::check(&text, &[&linxiang()]);
    let x = &c.diagnostics[0];
    assert_eq!(x.code.id(), "P0216");
    assert_eq!(
        x.message,
        "2 inject(s) after the `end` inject (`injects[4]`): nothing happens after the drill has ended"
    );
    assert_eq!(line_col(&text, x.notes[0].span.start), at(&text, "\"end\""));
}

#[test]
fn the_plan_must_be_among_those_given() {
    let text = edit(&[(
        "plan = \"linxiang-city-mass-petition\"",
        "plan = \"linxiang-city\"",
    )]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::DrillPlanNotFound, at(&text, "\"linxiang-city\""))]
    );
    let c = drill::check(&text, &[&linxiang()]);
    assert_eq!(c.diagnostics[0].code.id(), "P0303");
    assert!(
        c.diagnostics[0]
            .help
            .as_deref()
            .unwrap()
            .contains("linxiang-city-mass-petition"),
        "the help names the plans given"
    );
    // Without the plan, the references into it are not checked (they would all look undefined).
    let text = example();
    assert_eq!(
        found(&text, &[]),
        vec![d(
            Code::DrillPlanNotFound,
            at(&text, "\"linxiang-city-mass-petition\"")
        )]
    );
    // The right plan among others.
    let park = load_example("industrial-park.toml");
    assert!(found(&text, &[&park, &linxiang()]).is_empty());
}

#[test]
fn references_must_exist_in_the_plan() {
    let text = edit(&[
        ("level = \"III\"", "level = \"V\""),
        (
            "location = \"市政府门前广场\"\n",
            "location = \"市政府门前广场\"\nvenue = \"square\"\nbehaviours = [\"violence\", \"sit-in\"]\n",
        ),
        ("to = \"petition-bureau-director\"", "to = \"nobody\""),
        (
            "behaviours = [\"blocking-traffic\"]",
            "behaviours = [\"blocking-traffic\", \"shouting\"]",
        ),
    ]);
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::UndefinedLevel, at(&text, "\"V\"")),
            d(Code::UndefinedName, at(&text, "\"square\"")),
            d(Code::UndefinedName, at(&text, "\"sit-in\"")),
            d(Code::UndefinedPost, at(&text, "\"nobody\"")),
            d(Code::UndefinedName, at(&text, "\"shouting\"")),
        ]
    );
    // A message goes to a post, a group, `command` or `office` (the plan has an office) …
    for to in ["party-office-director", "dialogue", "command", "office"] {
        let text = edit(&[(
            "to = \"petition-bureau-director\"",
            &format!("to = \"{to}\""),
        )]);
        assert!(against_linxiang(&text).is_empty(), "{to}");
    }
    // … not to a member unit.
    let text = edit(&[(
        "to = \"petition-bureau-director\"",
        "to = \"petition-bureau\"",
    )]);
    assert_eq!(
        against_linxiang(&text),
        vec![d(Code::UndefinedPost, at(&text, "\"petition-bureau\""))]
    );
    let c = drill::check(&text, &[&linxiang()]);
    assert!(
        c.diagnostics[0]
            .help
            .as_deref()
            .unwrap()
            .contains("member unit")
    );
}

#[test]
fn a_plan_graded_by_venue_needs_the_reports_venue() {
    let park = load_example("industrial-park.toml");
    let script = |venue: &str| {
        format!(
            "[drill]\ntitle = \"园区年度演练\"\nplan = \"industrial-park-petition\"\nscenario = \"务工人员到园区管委会反映工资问题\"\n\n[report]\ntitle = \"演练：园区聚集\"\nheadcount = 40\n{venue}\n[[injects]]\nat = \"30m\"\nkind = \"end\"\n"
        )
    };
    let text = script("");
    assert_eq!(
        found(&text, &[&park]),
        vec![d(Code::MissingKey, at(&text, "[report]"))]
    );
    assert!(found(&script("venue = \"park\"\n"), &[&park]).is_empty());
    let text = script("venue = \"province\"\n");
    assert_eq!(
        found(&text, &[&park]),
        vec![d(Code::UndefinedName, at(&text, "\"province\""))]
    );
}

#[test]
fn empty_texts_and_headcounts_of_zero_are_errors() {
    let text = edit(&[
        (
            "title = \"2026年度群体性上访事件应急处置综合演练\"",
            "title = \"\"",
        ),
        ("headcount = 35", "headcount = 0"),
        ("headcount = 70", "headcount = 0"),
        (
            "text = \"指挥部办公室报告：接访场地的值班电话暂时无人接听，请改用备用号码联系\"",
            "text = \" \"",
        ),
        ("behaviours = [\"blocking-traffic\"]", "behaviours = []"),
        ("location = \"市政府东门信访接待室外\"", "location = \"\""),
    ]);
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::EmptyTitle, at(&text, "\"\"")),
            d(Code::InvalidValue, right(nth(&text, "= 0\n", 0), 2)),
            d(Code::InvalidValue, right(nth(&text, "= 0\n", 1), 2)),
            d(Code::EmptyTitle, at(&text, "\" \"")),
            d(Code::InvalidValue, at(&text, "[]")),
            d(Code::EmptyTitle, nth(&text, "\"\"", 1)),
        ]
    );
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let text = edit(&[
        ("level = \"III\"\n", "level = \"III\"\nleader = \"x\"\n"),
        ("at = \"25m\"", "at = \"5m\""),
        ("to = \"petition-bureau-director\"", "to = \"nobody\""),
    ]);
    assert_eq!(
        against_linxiang(&text),
        vec![
            d(Code::UnknownKey, at(&text, "leader")),
            d(Code::InjectOrder, at(&text, "\"5m\"")),
            d(Code::UndefinedPost, at(&text, "\"nobody\"")),
        ]
    );
}

/// The scope code a plan gets for a task titled `text`.
fn plan_scope_code(text: &str) -> Code {
    let plan = std::fs::read_to_string(repo_root().join("examples/plans/linxiang-city.toml"))
        .unwrap()
        .replacen(
            "title = \"落实接访场地\"",
            &format!("title = \"{text}\""),
            1,
        );
    let codes: Vec<Code> = load(&plan)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .filter(|c| c.is_scope())
        .collect();
    assert_eq!(codes.len(), 1, "{text}: {codes:?}");
    codes[0]
}

#[test]
fn scope_terms_are_refused_as_in_a_plan() {
    let cases: [(&str, &str); 6] = [
        // (where in the example, the offending text)
        (
            "scenario = \"某安置小区数十名住户到市政府门前，反映房屋漏水长期未修的问题\"",
            "对重点人员落实人盯人",
        ),
        (
            "title = \"演练：安置小区住户聚集反映房屋维修问题\"",
            "演练：带回上访人员",
        ),
        (
            "text = \"指挥部办公室报告：接访场地的值班电话暂时无人接听，请改用备用号码联系\"",
            "安排人员赴京劝返",
        ),
        (
            "note = \"检验信息报送与备用联络渠道\"",
            "track the whereabouts of the leaders",
        ),
        ("location = \"市政府东门信访接待室外\"", "掌握带头人行踪"),
        (
            "note = \"代表已得到答复时限，现场人员自行散去，演练结束\"",
            "对带头人训诫后放行",
        ),
    ];
    for (from, bad) in cases {
        let key = &from[..from.find(" = ").unwrap()];
        let text = edit(&[(from, &format!("{key} = \"{bad}\""))]);
        let want = plan_scope_code(bad);
        assert!(want.is_scope());
        assert_eq!(
            against_linxiang(&text),
            vec![d(want, at(&text, &format!("\"{bad}\"")))],
            "{bad}"
        );
        let c = drill::check(&text, &[&linxiang()]);
        assert!(c.usable().is_none());
        assert!(c.diagnostics[0].message.contains(bad));
    }
    assert_eq!(plan_scope_code("安排人员赴京劝返"), Code::ScopeIntercept);
}

#[test]
fn check_script_agrees_with_check() {
    // Rule errors only (no reading errors), so that the script read is the whole file.
    let text = edit(&[
        ("level = \"III\"", "level = \"V\""),
        ("headcount = 70", "headcount = 0"),
        ("at = \"25m\"", "at = \"5m\""),
        ("to = \"petition-bureau-director\"", "to = \"nobody\""),
        (
            "note = \"检验信息报送与备用联络渠道\"",
            "note = \"安排人员赴京劝返\"",
        ),
        ("behaviours = [\"blocking-traffic\"]", "behaviours = []"),
        (
            "location = \"市政府门前广场\"",
            "location = \"掌握带头人行踪\"",
        ),
        (
            "kind = \"end\"\n",
            "kind = \"end\"\n\n[[injects]]\nat = \"2h\"\nkind = \"end\"\n",
        ),
    ]);
    let plan = linxiang();
    let c = drill::check(&text, &[&plan]);
    let script = c.script.clone().expect("read in full");
    assert_eq!(script.injects.len(), 6);
    let by_file: Vec<(Code, String)> = c
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect();
    assert_eq!(by_file.len(), 8, "{by_file:#?}");
    let in_code = drill::check_script(&script, &[&plan]);
    assert!(
        in_code
            .iter()
            .all(|d| d.span.is_none() && d.notes.is_empty())
    );
    let mut a = by_file.clone();
    let mut b: Vec<(Code, String)> = in_code
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // And on the clean example, with the plan missing.
    let s = drill::check(&example(), &[&plan]).script.unwrap();
    assert!(drill::check_script(&s, &[&plan]).is_empty());
    let missing = drill::check_script(&s, &[]);
    assert_eq!(
        missing.iter().map(|d| d.code).collect::<Vec<_>>(),
        [Code::DrillPlanNotFound]
    );
}

#[test]
fn check_script_checks_a_script_built_in_code() {
    let plan = linxiang();
    let s = DrillScript {
        title: "桌面推演".into(),
        plan: plan.id().into(),
        scenario: "模拟群众聚集".into(),
        level: None,
        participants: vec![],
        observers: vec![],
        report: drill::DrillReport {
            title: "推演首报".into(),
            headcount: 30,
            venue: None,
            location: None,
            behaviours: vec![],
        },
        injects: vec![],
    };
    let codes = |s: &DrillScript| -> Vec<Code> {
        drill::check_script(s, &[&plan])
            .iter()
            .map(|d| d.code)
            .collect()
    };
    assert_eq!(codes(&s), [Code::MissingKey], "no injects");
    let mut s2 = s.clone();
    s2.injects = vec![
        drill::Inject {
            at_secs: 90,
            note: None,
            action: InjectAction::End,
        },
        drill::Inject {
            at_secs: 30,
            note: None,
            action: InjectAction::Headcount { headcount: 40 },
        },
    ];
    assert_eq!(codes(&s2), [Code::InjectOrder, Code::InjectAfterEnd]);
    let m = drill::check_script(&s2, &[&plan]);
    assert!(m[0].message.contains("+30s"), "{}", m[0].message);
    s2.injects.truncate(1);
    s2.injects[0].at_secs = 24 * 3600 + 1;
    assert_eq!(codes(&s2), [Code::InvalidValue]);
}

#[test]
fn a_script_round_trips_through_json() {
    let s = drill::check(&example(), &[&linxiang()]).script.unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let back: DrillScript = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    // The shape the console codes against: the kind tag beside the inject's own keys.
    let v: serde_json::Value = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["injects"][0],
        serde_json::json!({ "at_secs": 600, "note": "导演组通报：现场人数增至约70人", "kind": "headcount", "headcount": 70 })
    );
    assert_eq!(v["injects"][4]["kind"], "end");
    // Optional keys may be left out.
    let minimal: DrillScript = serde_json::from_value(serde_json::json!({
        "title": "t", "plan": "p", "scenario": "s",
        "report": { "title": "r", "headcount": 20 },
        "injects": [{ "at_secs": 60, "kind": "message", "text": "x" }, { "at_secs": 120, "kind": "end" }]
    }))
    .unwrap();
    assert_eq!(minimal.level, None);
    assert!(minimal.participants.is_empty());
    assert_eq!(
        minimal.injects[0].action,
        InjectAction::Message {
            text: "x".into(),
            to: None
        }
    );
}

#[test]
fn oversized_and_non_utf8_scripts_are_refused() {
    let big = format!("{}{}", example(), "#".repeat(MAX_SOURCE_BYTES));
    let c = drill::check(&big, &[&linxiang()]);
    assert_eq!(c.diagnostics.len(), 1);
    assert_eq!(c.diagnostics[0].code, Code::TooLarge);
    assert!(c.diagnostics[0].span.is_none());
    assert!(
        c.diagnostics[0]
            .help
            .as_deref()
            .unwrap()
            .contains("drill script")
    );
    assert!(c.script.is_none());

    let src = Source::from_bytes("d.toml", big.into_bytes());
    let c = drill::check_source(&src, &[&linxiang()]);
    assert_eq!(c.diagnostics[0].code, Code::TooLarge);
    assert!(
        c.diagnostics[0]
            .help
            .as_deref()
            .unwrap()
            .contains("drill script")
    );

    let mut bytes = example().into_bytes();
    let off = bytes.len();
    bytes.extend_from_slice(b"# \xff\n");
    let src = Source::from_bytes("d.toml", bytes);
    let c = drill::check_source(&src, &[&linxiang()]);
    assert_eq!(c.diagnostics.len(), 1);
    assert_eq!(c.diagnostics[0].code, Code::NotUtf8);
    assert_eq!(c.diagnostics[0].span.as_ref().unwrap().start, off + 2);

    let src = Source::new("d.toml", example());
    assert!(
        drill::check_source(&src, &[&linxiang()])
            .diagnostics
            .is_empty()
    );
}

#[test]
fn a_syntax_error_is_reported_alone() {
    // Cut in the middle of a string, as a truncated copy would be.
    let full = example();
    let cut = full.find("to = \"petition").unwrap() + "to = \"petit".len();
    let text = &full[..cut];
    let got = against_linxiang(text);
    assert!(!got.is_empty());
    assert!(got.iter().all(|x| x.0 == Code::Syntax), "{got:?}");
    assert_eq!(got[0].1, text.lines().count());
}

#[test]
fn the_documented_example_is_the_shipped_one() {
    let doc = std::fs::read_to_string(repo_root().join("docs/drill-format.md")).unwrap();
    let start = doc
        .find("```toml\n")
        .expect("docs/drill-format.md has a TOML example")
        + 8;
    let block = &doc[start..start + doc[start..].find("```").unwrap()];
    let shipped: String = example()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(block.trim(), shipped.trim());
    // The new codes are listed in both documents.
    let plan_doc = std::fs::read_to_string(repo_root().join("docs/plan-format.md")).unwrap();
    for code in [
        Code::InjectOrder,
        Code::InjectAfterEnd,
        Code::DrillPlanNotFound,
    ] {
        assert!(doc.contains(&format!("| **{}** |", code.id())), "{code:?}");
        assert!(plan_doc.contains(&format!("| {} |", code.id())), "{code:?}");
    }
}
