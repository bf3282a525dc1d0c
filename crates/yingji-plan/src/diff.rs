//! What a plan revision changes (`plan diff OLD NEW`), per level: thresholds, commander, groups,
//! time limits and reports, plus the plan-wide settings that change how levels behave.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Plan;
use crate::response::{effective, tasks_of};

/// One change. `old`/`new` are `None` for additions/removals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `plan`, `level IV`, `group order`, `schedule daily-nil`…
    pub scope: String,
    /// What changed: `commander`, `rule`, `task “…”`, `report to …`…
    pub what: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn ch(scope: &str, what: impl Into<String>, old: Option<String>, new: Option<String>) -> Change {
    Change {
        scope: scope.to_string(),
        what: what.into(),
        old,
        new,
    }
}

fn cmp(out: &mut Vec<Change>, scope: &str, what: &str, old: Option<String>, new: Option<String>) {
    if old != new {
        out.push(ch(scope, what, old, new));
    }
}

/// Diff of two lists keyed by a name: additions, removals and changed values.
fn keyed(
    out: &mut Vec<Change>,
    scope: &str,
    kind: &str,
    old: BTreeMap<String, String>,
    new: BTreeMap<String, String>,
) {
    for (k, v) in &old {
        match new.get(k) {
            None => out.push(ch(scope, format!("{kind} {k}"), Some(v.clone()), None)),
            Some(n) if n != v => out.push(ch(
                scope,
                format!("{kind} {k}"),
                Some(v.clone()),
                Some(n.clone()),
            )),
            _ => {}
        }
    }
    for (k, v) in &new {
        if !old.contains_key(k) {
            out.push(ch(scope, format!("{kind} {k}"), None, Some(v.clone())));
        }
    }
}

fn level_facts(plan: &Plan, i: usize) -> Vec<(String, BTreeMap<String, String>)> {
    let l = &plan.levels[i];
    let r = effective(plan, i);
    let name = |id: &str| plan.name_of(id).unwrap_or(id).to_string();
    let mut facts = Vec::new();
    let mut one = |k: &str, v: String| {
        facts.push((k.to_string(), BTreeMap::from([(String::new(), v)])));
    };
    one("name", l.name.clone());
    one(
        "colour",
        l.colour.map(|c| c.as_str().to_string()).unwrap_or_default(),
    );
    one(
        "rules",
        if l.judgement_only {
            "judgement only".into()
        } else {
            l.when
                .iter()
                .map(normal_rule)
                .collect::<Vec<_>>()
                .join(" | ")
        },
    );
    one("judgement", l.judgement.clone().unwrap_or_default());
    one(
        "commander",
        r.commander
            .iter()
            .map(|c| name(&c.value))
            .collect::<Vec<_>>()
            .join(", "),
    );
    one(
        "deputies",
        r.deputies
            .iter()
            .map(|c| name(&c.value))
            .collect::<Vec<_>>()
            .join(", "),
    );
    one(
        "parent called",
        if r.parent_called {
            "yes".into()
        } else {
            "no".into()
        },
    );
    facts.push((
        "group".into(),
        r.groups.iter().map(|g| (g.to_string(), name(g))).collect(),
    ));
    facts.push((
        "task".into(),
        tasks_of(plan, &r)
            .iter()
            .map(|t| {
                (
                    format!("{} “{}”", t.group.value, t.title),
                    t.within.value.to_string(),
                )
            })
            .collect(),
    ));
    facts.push((
        "report".into(),
        r.reports
            .iter()
            .map(|rep| {
                let mut v = rep.within.value.to_string();
                if let Some(e) = &rep.every {
                    v.push_str(&format!(", then every {}", e.value));
                }
                (format!("{} to {}", rep.kind.as_str(), rep.to), v)
            })
            .collect(),
    ));
    facts.push((
        "coercive step".into(),
        r.coercive_steps
            .iter()
            .map(|s| {
                (
                    s.step.value.clone(),
                    format!("{} — approved by {}", s.name, name(&s.approver.value)),
                )
            })
            .collect(),
    ));
    facts
}

/// A rule in normal form, so that `below = 50` and `at_most = 49` compare equal.
fn normal_rule(r: &crate::model::Rule) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &r.headcount {
        parts.push(match h.value.closed() {
            None => "no headcount".to_string(),
            Some((lo, u32::MAX)) => format!("{lo}+ people"),
            Some((lo, hi)) => format!("{lo}–{hi} people"),
        });
    }
    let sorted = |v: &[crate::reader::Sp<String>]| {
        let mut x: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
        x.sort();
        x.join(", ")
    };
    if !r.venues.is_empty() {
        parts.push(format!("venue {}", sorted(&r.venues)));
    }
    if !r.behaviours.is_empty() {
        parts.push(format!("behaviour {}", sorted(&r.behaviours)));
    }
    parts.join(" and ")
}

pub fn diff(old: &Plan, new: &Plan) -> Vec<Change> {
    let mut out = Vec::new();
    let p = "plan";
    cmp(
        &mut out,
        p,
        "id",
        Some(old.id().into()),
        Some(new.id().into()),
    );
    cmp(
        &mut out,
        p,
        "title",
        Some(old.meta.title.clone()),
        Some(new.meta.title.clone()),
    );
    cmp(
        &mut out,
        p,
        "version",
        old.meta.version.clone(),
        new.meta.version.clone(),
    );
    cmp(
        &mut out,
        p,
        "doc_number",
        old.meta.doc_number.clone(),
        new.meta.doc_number.clone(),
    );
    cmp(
        &mut out,
        p,
        "effective_on",
        old.meta.effective_on.map(|d| d.to_string()),
        new.meta.effective_on.map(|d| d.to_string()),
    );
    cmp(
        &mut out,
        p,
        "parent",
        old.meta.parent.as_ref().map(|x| x.value.clone()),
        new.meta.parent.as_ref().map(|x| x.value.clone()),
    );
    cmp(
        &mut out,
        p,
        "scope",
        old.scope.headcount.as_ref().map(|h| h.value.to_string()),
        new.scope.headcount.as_ref().map(|h| h.value.to_string()),
    );
    cmp(
        &mut out,
        p,
        "time zone",
        Some(old.time.zone.clone()),
        Some(new.time.zone.clone()),
    );
    let day = |pl: &Plan| {
        pl.time.day.map(|d| {
            format!(
                "day from {} to {}",
                d.day_starts.strftime("%H:%M"),
                d.night_starts.strftime("%H:%M")
            )
        })
    };
    cmp(&mut out, p, "day hours", day(old), day(new));
    cmp(
        &mut out,
        p,
        "command",
        Some(format!(
            "{} ({})",
            old.command.name, old.command.commander_title
        )),
        Some(format!(
            "{} ({})",
            new.command.name, new.command.commander_title
        )),
    );
    let order = |pl: &Plan| {
        pl.levels
            .iter()
            .map(|l| l.id.value.clone())
            .collect::<Vec<_>>()
            .join(" > ")
    };
    cmp(
        &mut out,
        p,
        "level order",
        Some(order(old)),
        Some(order(new)),
    );

    // Levels, by id.
    for (i, l) in old.levels.iter().enumerate() {
        let scope = format!("level {}", l.id.value);
        match new.level_index(&l.id.value) {
            None => out.push(ch(&scope, "level", Some(l.name.clone()), None)),
            Some(j) => {
                let a = level_facts(old, i);
                let b = level_facts(new, j);
                for ((k, av), (_, bv)) in a.into_iter().zip(b) {
                    if av.len() == 1 && av.contains_key("") {
                        cmp(
                            &mut out,
                            &scope,
                            &k,
                            av.get("").cloned(),
                            bv.get("").cloned(),
                        );
                    } else {
                        keyed(&mut out, &scope, &k, av, bv);
                    }
                }
            }
        }
    }
    for l in &new.levels {
        if old.level(&l.id.value).is_none() {
            out.push(ch(
                &format!("level {}", l.id.value),
                "level",
                None,
                Some(l.name.clone()),
            ));
        }
    }

    // Groups: lead and membership (task limits appear per level above).
    let groups = |pl: &Plan| -> BTreeMap<String, String> {
        pl.groups
            .iter()
            .map(|g| {
                let lead = g
                    .lead
                    .as_ref()
                    .map(|l| pl.name_of(&l.value).unwrap_or(&l.value).to_string())
                    .unwrap_or_default();
                (g.id.value.clone(), format!("{} (lead: {lead})", g.name))
            })
            .collect()
    };
    keyed(&mut out, p, "group", groups(old), groups(new));
    let schedules = |pl: &Plan| -> BTreeMap<String, String> {
        pl.schedules
            .iter()
            .map(|s| {
                let times = match &s.recurrence {
                    crate::model::Recurrence::Daily(t) => format!("daily {}", fmt_times(t)),
                    crate::model::Recurrence::Weekly(w, t) => {
                        format!("weekly {w:?} {}", fmt_times(t))
                    }
                    crate::model::Recurrence::Monthly(d, t) => {
                        format!("monthly day {d} {}", fmt_times(t))
                    }
                };
                let period = s
                    .period
                    .as_ref()
                    .map(|p| format!(" in {}", p.value))
                    .unwrap_or_default();
                (
                    s.id.value.clone(),
                    format!("{} {times}{period} → {}", s.name, s.to.value),
                )
            })
            .collect()
    };
    keyed(&mut out, p, "schedule", schedules(old), schedules(new));
    let periods = |pl: &Plan| -> BTreeMap<String, String> {
        pl.special_periods
            .iter()
            .map(|s| {
                let w: Vec<String> = s.windows.iter().map(|(a, b)| format!("{a}..{b}")).collect();
                (s.id.value.clone(), format!("{} {}", s.name, w.join(", ")))
            })
            .collect()
    };
    keyed(&mut out, p, "special period", periods(old), periods(new));
    let intake = |pl: &Plan| -> BTreeMap<String, String> {
        pl.intake
            .iter()
            .map(|f| {
                (
                    f.id.value.clone(),
                    format!("{}{}", f.label, if f.required { " (required)" } else { "" }),
                )
            })
            .collect()
    };
    keyed(&mut out, p, "intake field", intake(old), intake(new));
    let first = |pl: &Plan| -> BTreeMap<String, String> {
        pl.first_response
            .iter()
            .map(|t| {
                (
                    format!("{} “{}”", t.group.value, t.title),
                    t.within.value.to_string(),
                )
            })
            .collect()
    };
    keyed(&mut out, p, "first response", first(old), first(new));
    let after = |pl: &Plan| -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = pl
            .aftermath
            .duties
            .iter()
            .map(|d| {
                (
                    format!(
                        "{} “{}”",
                        d.owner.as_ref().map_or("", |o| o.as_str()),
                        d.title
                    ),
                    d.within
                        .as_ref()
                        .map_or("—".into(), |w| w.value.to_string()),
                )
            })
            .collect();
        if let Some(w) = &pl.aftermath.reply_within {
            m.insert("reply within".into(), w.value.to_string());
        }
        if let Some(w) = &pl.aftermath.review_within {
            m.insert("review within".into(), w.value.to_string());
        }
        m
    };
    keyed(&mut out, p, "aftermath", after(old), after(new));
    let choices = |v: &[crate::model::Choice]| -> BTreeMap<String, String> {
        v.iter()
            .map(|c| (c.id.value.clone(), c.name.clone()))
            .collect()
    };
    keyed(
        &mut out,
        p,
        "venue",
        choices(&old.venues),
        choices(&new.venues),
    );
    keyed(
        &mut out,
        p,
        "behaviour",
        choices(&old.behaviours),
        choices(&new.behaviours),
    );
    let cad = |c: &Option<crate::model::Cadence>| c.as_ref().map(|c| c.every.as_str().to_string());
    cmp(&mut out, p, "drills", cad(&old.drills), cad(&new.drills));
    cmp(&mut out, p, "review", cad(&old.review), cad(&new.review));
    out
}

fn fmt_times(t: &[jiff::civil::Time]) -> String {
    t.iter()
        .map(|t| t.strftime("%H:%M").to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render_text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no changes\n".into();
    }
    let mut s = String::new();
    let mut last = "";
    for c in changes {
        if c.scope != last {
            s.push_str(&format!("{}\n", c.scope));
            last = &c.scope;
        }
        let line = match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!("  ~ {}: {o} → {n}\n", c.what),
            (None, Some(n)) => format!("  + {}: {n}\n", c.what),
            (Some(o), None) => format!("  - {}: {o}\n", c.what),
            (None, None) => String::new(),
        };
        s.push_str(&line);
    }
    s
}
