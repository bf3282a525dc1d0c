//! Property tests: for any plan without check errors, every headcount in scope maps to exactly
//! one level (per venue, for venue-graded plans); and no input ever makes the reader panic.

use proptest::prelude::*;
use yingji_plan::classify::{Input, base_matches};
use yingji_plan::load;

/// A bound as the plan writes it.
#[derive(Debug, Clone)]
struct Tier {
    lower: Option<(u32, bool)>,
    upper: Option<(u32, bool)>,
}

fn bound_text(t: &Tier) -> String {
    let mut parts = Vec::new();
    if let Some((v, inc)) = t.lower {
        parts.push(format!(
            "{} = {v}",
            if inc { "at_least" } else { "more_than" }
        ));
    }
    if let Some((v, inc)) = t.upper {
        parts.push(format!("{} = {v}", if inc { "at_most" } else { "below" }));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn plan_text(
    scope: Option<(u32, bool)>,
    tiers: &[Tier],
    venues: &[Vec<usize>],
    n_venues: usize,
) -> String {
    let mut s = String::from(
        "format = 1\n[meta]\nid = \"p\"\ntitle = \"t\"\n[[posts]]\nid = \"c\"\nname = \"指挥长\"\n[command]\nname = \"指挥部\"\nleads = [\"c\"]\n",
    );
    if let Some((v, inc)) = scope {
        s.push_str(&format!(
            "[scope]\nheadcount = {{ {} = {v} }}\n",
            if inc { "at_least" } else { "more_than" }
        ));
    }
    for v in 0..n_venues {
        s.push_str(&format!("[[venues]]\nid = \"v{v}\"\nname = \"v{v}\"\n"));
    }
    for (i, t) in tiers.iter().enumerate() {
        s.push_str(&format!(
            "[[levels]]\nid = \"L{i}\"\nname = \"L{i}\"\ncommander = [\"c\"]\n[[levels.when]]\nheadcount = {}\n",
            bound_text(t)
        ));
        if let Some(vs) = venues.get(i)
            && !vs.is_empty()
        {
            let list: Vec<String> = vs.iter().map(|v| format!("\"v{v}\"")).collect();
            s.push_str(&format!("venue = [{}]\n", list.join(", ")));
        }
    }
    s
}

fn bound() -> impl Strategy<Value = Option<(u32, bool)>> {
    prop::option::of((0u32..80, any::<bool>()))
}

fn tiers() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec(
        (bound(), bound()).prop_map(|(lower, upper)| Tier { lower, upper }),
        1..5,
    )
}

/// Tiers built from sorted cut points, so that a good share of generated plans pass the check.
fn tidy_tiers() -> impl Strategy<Value = (u32, Vec<Tier>)> {
    (
        1u32..30,
        prop::collection::btree_set(1u32..200, 0..4),
        any::<bool>(),
    )
        .prop_map(|(start, cuts, inclusive_upper)| {
            let mut points: Vec<u32> = cuts.into_iter().filter(|c| *c > start).collect();
            points.insert(0, start);
            let mut tiers = Vec::new();
            for w in 0..points.len() {
                let lo = points[w];
                let upper = points.get(w + 1).map(|&hi| {
                    if inclusive_upper {
                        (hi - 1, true)
                    } else {
                        (hi, false)
                    }
                });
                tiers.push(Tier {
                    lower: Some((lo, true)),
                    upper,
                });
            }
            tiers.reverse(); // most severe first
            (start, tiers)
        })
}

fn check_exactly_one(text: &str, scope_min: u32, venues: usize) -> Result<(), TestCaseError> {
    let c = load(text);
    if c.has_errors() {
        return Ok(());
    }
    let plan = c.plan.unwrap();
    let ctx: Vec<Option<String>> = if venues == 0 {
        vec![None]
    } else {
        (0..venues).map(|v| Some(format!("v{v}"))).collect()
    };
    for v in &ctx {
        for h in scope_min..scope_min + 300 {
            let input = Input {
                headcount: h,
                venue: v.as_deref(),
                behaviours: &[],
            };
            let m = base_matches(&plan, &input);
            prop_assert_eq!(
                m.len(),
                1,
                "headcount {} venue {:?} matches {:?} in\n{}",
                h,
                v,
                m,
                text
            );
            prop_assert!(yingji_plan::classify(&plan, &input).is_ok());
        }
        for h in [u32::MAX - 1, u32::MAX] {
            let input = Input {
                headcount: h,
                venue: v.as_deref(),
                behaviours: &[],
            };
            prop_assert_eq!(base_matches(&plan, &input).len(), 1);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn checked_plans_give_exactly_one_level(scope in prop::option::of((1u32..40, any::<bool>())), t in tiers()) {
        let text = plan_text(scope, &t, &[], 0);
        let min = scope.map_or(1, |(v, inc)| if inc { v } else { v + 1 });
        check_exactly_one(&text, min, 0)?;
    }

    #[test]
    fn tidy_plans_pass_and_give_exactly_one_level((start, t) in tidy_tiers()) {
        let text = plan_text(Some((start, true)), &t, &[], 0);
        let c = load(&text);
        prop_assert!(!c.has_errors(), "{:#?}\n{}", c.diagnostics, text);
        check_exactly_one(&text, start, 0)?;
    }

    #[test]
    fn venue_plans_give_exactly_one_level_per_venue(
        t in tiers(),
        venues in prop::collection::vec(prop::collection::vec(0usize..3, 0..3), 1..5),
    ) {
        let text = plan_text(None, &t, &venues, 3);
        check_exactly_one(&text, 1, 3)?;
    }

    #[test]
    fn the_reader_never_panics_on_mutated_plans(cut in 0usize..12_000, junk in "\\PC{0,12}") {
        let base = std::fs::read_to_string(crate::repo_root().join("examples/plans/linxiang-city.toml")).unwrap();
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) { at -= 1; }
        let text = format!("{}{}{}", &base[..at], junk, &base[at..]);
        let _ = load(&text);
        let _ = load(&base[..at]);
    }
}
