//! Level classification: which level a report falls in under a plan's own rules, and why.
//!
//! Levels are listed most severe first (as plans write them: Ⅰ before Ⅳ). A report is graded at
//! the most severe level with a matching rule. Rules without a behaviour condition are *base*
//! rules; a checked plan's base rules give exactly one level for every headcount in scope (and,
//! when the plan grades by venue, for every venue). Behaviour rules can only raise the level.

use serde::Serialize;

use crate::model::{Plan, Rule};

/// What is known about a report when it is graded.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub headcount: u32,
    pub venue: Option<&'a str>,
    pub behaviours: &'a [String],
}

/// Why no level was proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum NoLevel {
    /// The headcount is outside the plan's scope (e.g. fewer than 20 people).
    OutOfScope { headcount: u32, scope: String },
    /// The plan grades by venue and no venue was given.
    VenueRequired { venues: Vec<String> },
    /// The venue is not one of the plan's venue tiers.
    UnknownVenue { venue: String, venues: Vec<String> },
    /// A behaviour is not one the plan defines.
    UnknownBehaviour {
        behaviour: String,
        behaviours: Vec<String>,
    },
    /// The plan's levels are chosen by a person, not by rules.
    JudgementOnly { levels: Vec<String> },
    /// No rule of any level matches (only possible in a plan with check errors).
    NoRuleMatched,
}

impl std::fmt::Display for NoLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoLevel::OutOfScope { headcount, scope } => {
                write!(
                    f,
                    "{headcount} people is outside the plan's scope ({scope})"
                )
            }
            NoLevel::VenueRequired { venues } => write!(
                f,
                "this plan grades by venue; give one of: {}",
                venues.join(", ")
            ),
            NoLevel::UnknownVenue { venue, venues } if venues.is_empty() => write!(
                f,
                "`{venue}` is not a venue of this plan, which does not grade by venue; leave it out"
            ),
            NoLevel::UnknownVenue { venue, venues } => write!(
                f,
                "`{venue}` is not a venue of this plan; use one of: {}",
                venues.join(", ")
            ),
            NoLevel::UnknownBehaviour {
                behaviour,
                behaviours,
            } => write!(
                f,
                "`{behaviour}` is not a behaviour of this plan; use one of: {}",
                behaviours.join(", ")
            ),
            NoLevel::JudgementOnly { levels } => write!(
                f,
                "this plan's levels ({}) are chosen by the commander's judgement, not by rules",
                levels.join(", ")
            ),
            NoLevel::NoRuleMatched => f.write_str("no level's rule matches this report"),
        }
    }
}

/// The level proposed and the rule that chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graded {
    pub level: usize,
    pub rule: usize,
}

pub fn rule_matches(rule: &Rule, input: &Input<'_>) -> bool {
    if let Some(h) = &rule.headcount
        && !h.value.contains(input.headcount)
    {
        return false;
    }
    if !rule.venues.is_empty() {
        match input.venue {
            Some(v) if rule.venues.iter().any(|x| x.value == v) => {}
            _ => return false,
        }
    }
    if !rule.behaviours.is_empty()
        && !rule
            .behaviours
            .iter()
            .any(|b| input.behaviours.contains(&b.value))
    {
        return false;
    }
    true
}

/// Grades a report. Inputs naming unknown venues or behaviours are refused, not ignored.
pub fn classify(plan: &Plan, input: &Input<'_>) -> Result<Graded, NoLevel> {
    if let Some(v) = input.venue
        && !plan.venues.iter().any(|x| x.id.value == v)
    {
        return Err(NoLevel::UnknownVenue {
            venue: v.to_string(),
            venues: plan.venues.iter().map(|x| x.id.value.clone()).collect(),
        });
    }
    for b in input.behaviours {
        if !plan.behaviours.iter().any(|x| x.id.value == *b) {
            return Err(NoLevel::UnknownBehaviour {
                behaviour: b.clone(),
                behaviours: plan.behaviours.iter().map(|x| x.id.value.clone()).collect(),
            });
        }
    }
    match &plan.scope.headcount {
        Some(scope) if !scope.value.contains(input.headcount) => {
            return Err(NoLevel::OutOfScope {
                headcount: input.headcount,
                scope: scope.value.to_string(),
            });
        }
        // Without a scope the plan applies from one person.
        None if input.headcount == 0 => {
            return Err(NoLevel::OutOfScope {
                headcount: 0,
                scope: "headcount { at_least = 1 }".into(),
            });
        }
        _ => {}
    }
    if plan.grades_by_venue() && input.venue.is_none() {
        return Err(NoLevel::VenueRequired {
            venues: plan.venues.iter().map(|x| x.id.value.clone()).collect(),
        });
    }
    if let Some(g) = grade(plan, input) {
        return Ok(g);
    }
    if !plan.levels.is_empty() && plan.levels.iter().all(|l| l.judgement_only) {
        return Err(NoLevel::JudgementOnly {
            levels: plan.levels.iter().map(|l| l.id.value.clone()).collect(),
        });
    }
    Err(NoLevel::NoRuleMatched)
}

/// The most severe level with a matching rule, without any input validation. Used on hot paths
/// and by the checker.
pub fn grade(plan: &Plan, input: &Input<'_>) -> Option<Graded> {
    for (li, level) in plan.levels.iter().enumerate() {
        if level.judgement_only {
            continue;
        }
        for (ri, rule) in level.when.iter().enumerate() {
            if rule_matches(rule, input) {
                return Some(Graded {
                    level: li,
                    rule: ri,
                });
            }
        }
    }
    None
}

/// Every level whose *base* rules match, for the "exactly one level" property.
pub fn base_matches(plan: &Plan, input: &Input<'_>) -> Vec<usize> {
    plan.levels
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            !l.judgement_only && l.when.iter().any(|r| r.is_base() && rule_matches(r, input))
        })
        .map(|(i, _)| i)
        .collect()
}
