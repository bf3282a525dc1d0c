//! `simulate` on the shipped examples: levels, deadlines and what the next level adds.

use yingji_plan::classify::Input;
use yingji_plan::simulate;

use crate::load_example;

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn sim(file: &str, headcount: u32, when: &str) -> yingji_plan::Simulation {
    let plan = load_example(file);
    simulate(
        &plan,
        &Input {
            headcount,
            venue: None,
            behaviours: &[],
        },
        &at(when),
    )
}

#[test]
fn linxiang_levels_follow_the_plan() {
    let cases = [
        (19, None),
        (20, Some("IV")),
        (49, Some("IV")),
        (50, Some("III")),
        (99, Some("III")),
        (100, Some("II")),
        (120, Some("II")),
        (499, Some("II")),
        (500, Some("I")),
        (100_000, Some("I")),
    ];
    for (n, want) in cases {
        let s = sim("linxiang-city.toml", n, "2026-03-02T10:00:00+08:00");
        assert_eq!(s.level.as_ref().map(|l| l.id.as_str()), want, "{n} people");
    }
}

#[test]
fn below_scope_says_why() {
    let s = sim("linxiang-city.toml", 19, "2026-03-02T10:00:00+08:00");
    assert!(s.level.is_none());
    assert!(s.tasks.is_empty());
    assert!(s.reason.unwrap().contains("scope"));
}

#[test]
fn level_ii_calls_the_field_groups_and_names_the_police_approver() {
    let s = sim("linxiang-city.toml", 120, "2026-03-02T10:00:00+08:00");
    let l = s.level.unwrap();
    assert_eq!(
        (l.id.as_str(), l.colour.map(|c| c.as_str())),
        ("II", Some("orange"))
    );
    let groups: Vec<&str> = s.groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(groups, ["order", "dialogue", "persuasion", "logistics"]);
    let police = s
        .coercive_steps
        .iter()
        .find(|c| c.step == "police")
        .unwrap();
    assert_eq!(police.approver.post, "deputy-secretary");
    assert!(!s.parent_called);
    let next = s.next_level.unwrap();
    assert_eq!(next.id, "I");
    assert!(next.parent_called);
    assert_eq!(next.commander.unwrap()[0].post, "party-deputy-secretary");
    assert_eq!(next.reports.len(), 1);
}

#[test]
fn day_and_night_deadlines_differ() {
    let day = sim("linxiang-city.toml", 120, "2026-03-02T10:00:00+08:00");
    let night = sim("linxiang-city.toml", 120, "2026-03-02T22:00:00+08:00");
    let arrive = |s: &yingji_plan::Simulation| {
        s.tasks
            .iter()
            .find(|t| t.group == "order")
            .map(|t| t.due_at.clone())
            .unwrap()
    };
    assert_eq!(arrive(&day), "2026-03-02T10:30:00+08:00");
    assert_eq!(arrive(&night), "2026-03-02T22:45:00+08:00");
    // A fixed limit shifts with the start time only.
    let fixed = |s: &yingji_plan::Simulation| {
        s.tasks
            .iter()
            .find(|t| t.title.contains("接访场地"))
            .unwrap()
            .due_at
            .clone()
    };
    assert_eq!(fixed(&day), "2026-03-02T11:00:00+08:00");
    assert_eq!(fixed(&night), "2026-03-02T23:00:00+08:00");
}

#[test]
fn deadlines_use_the_plan_zone_whatever_offset_at_is_given_in() {
    let a = sim("linxiang-city.toml", 120, "2026-03-02T14:00:00Z"); // 22:00 in Shanghai
    let b = sim("linxiang-city.toml", 120, "2026-03-02T22:00:00+08:00");
    assert_eq!(a.tasks, b.tasks);
    assert_eq!(a.input.at, "2026-03-02T22:00:00+08:00");
}

#[test]
fn behaviour_raises_the_level() {
    let plan = load_example("linxiang-city.toml");
    let b = vec!["violence".to_string()];
    let s = simulate(
        &plan,
        &Input {
            headcount: 30,
            venue: None,
            behaviours: &b,
        },
        &at("2026-03-02T10:00:00+08:00"),
    );
    let l = s.level.unwrap();
    assert_eq!(l.id, "III");
    assert!(l.rule.contains("violence"), "{}", l.rule);
}

#[test]
fn simulation_json_has_the_documented_shape() {
    let s = sim("linxiang-city.toml", 120, "2026-03-02T10:00:00+08:00");
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["level"]["id"], "II");
    let t = &v["tasks"][0];
    for k in ["group", "title", "due_at"] {
        assert!(t[k].is_string(), "task lacks {k}: {t}");
    }
    assert!(jiff::Timestamp::from_str_checked(
        t["due_at"].as_str().unwrap()
    ));
    let none =
        serde_json::to_value(sim("linxiang-city.toml", 5, "2026-03-02T10:00:00+08:00")).unwrap();
    assert!(none["level"].is_null());
}

trait Checked {
    fn from_str_checked(s: &str) -> bool;
}
impl Checked for jiff::Timestamp {
    fn from_str_checked(s: &str) -> bool {
        s.parse::<jiff::Timestamp>().is_ok()
    }
}

#[test]
fn the_aftermath_is_simulated_as_if_the_response_ended_then() {
    let s = sim("linxiang-city.toml", 120, "2026-03-02T10:00:00+08:00");
    // Four duties, each due within the plan's times (7d: its own, or the review's).
    assert_eq!(s.aftermath.len(), 4, "{:?}", s.aftermath);
    assert!(
        s.aftermath
            .iter()
            .all(|t| t.due_at == "2026-03-09T10:00:00+08:00")
    );
    assert_eq!(
        s.review_due_at.as_deref(),
        Some("2026-03-09T10:00:00+08:00")
    );
    assert_eq!(s.reply_due_at.as_deref(), Some("2026-03-17T10:00:00+08:00"));
    let text = yingji_plan::response::render_text(&s);
    assert!(text.contains("after-action review due"), "{text}");
}

#[test]
fn an_aftermath_duty_without_any_deadline_is_reported_as_not_acted_on() {
    let path = crate::repo_root().join("examples/plans/linxiang-city.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let without = text.replace("review_within = \"7d\"", "");
    assert_ne!(text, without);
    let c = yingji_plan::load(&without);
    let p0404: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code.id() == "P0404")
        .collect();
    // Three duties have no `within` of their own; the fourth has one and is acted on.
    assert_eq!(p0404.len(), 3, "{:#?}", c.diagnostics);
    assert!(
        p0404
            .iter()
            .all(|d| !d.is_error() && d.message.contains("not acted on"))
    );
    let s = yingji_plan::simulate(
        c.plan.as_ref().unwrap(),
        &Input {
            headcount: 120,
            venue: None,
            behaviours: &[],
        },
        &at("2026-03-02T10:00:00+08:00"),
    );
    assert_eq!(s.aftermath.len(), 1);
    assert_eq!(s.review_due_at, None);
}

#[test]
fn activation_calls_everyone_the_level_names() {
    let s = sim("linxiang-city.toml", 120, "2026-03-02T10:00:00+08:00");
    let posts: Vec<&str> = s.calls.iter().map(|c| c.post.as_str()).collect();
    // The level's commanders (Ⅲ's, inherited by Ⅱ), the office, every group's lead and members.
    for p in [
        "plac-secretary",
        "vice-mayor",
        "petition-bureau-director",
        "police-commissar",
        "police-deputy",
        "traffic-police-deputy",
        "armed-police-deputy",
        "township-head",
        "plac-deputy-secretary",
        "petition-bureau-deputy",
        "health-bureau-deputy",
        "transport-bureau-deputy",
        // 市财政局: a member unit no group names, called through its head at every level.
        "finance-bureau-director",
    ] {
        assert!(posts.contains(&p), "{p} is not called: {posts:?}");
    }
    // Commanders first, each post once.
    assert_eq!(&posts[..2], &["plac-secretary", "vice-mayor"]);
    let mut unique = posts.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), posts.len(), "{posts:?}");
    // The level-Ⅰ commander is not called at Ⅱ, and is what re-grading to Ⅰ adds.
    assert!(!posts.contains(&"party-deputy-secretary"));
    let next = s.next_level.as_ref().expect("Ⅰ is above Ⅱ");
    let added: Vec<&str> = next.calls.iter().map(|c| c.post.as_str()).collect();
    assert_eq!(added, vec!["party-deputy-secretary"]);
    // Every task's lead post is called, with that task.
    let police = s
        .calls
        .iter()
        .find(|c| c.post == "police-commissar")
        .unwrap();
    assert!(
        police.tasks.iter().any(|t| t.contains("维护秩序")),
        "{police:?}"
    );
    let n_tasks: usize = s.calls.iter().map(|c| c.tasks.len()).sum();
    assert_eq!(n_tasks, s.tasks.len());
}
