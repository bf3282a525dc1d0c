//! Semantic checks on a read plan: ids, references, level coverage (overlaps, gaps, unreachable
//! levels), commanders, time limits. Every problem is reported, with where it is.

use std::collections::{BTreeSet, HashMap};

use crate::classify::{Input, grade};
use crate::diag::{Code, Diagnostic, Span};
use crate::model::*;
use crate::reader::Sp;
use crate::time::TimeLimit;

pub fn check(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut c = Checker { plan, out };
    c.ids();
    c.references();
    c.levels();
    c.time_limits();
    c.coverage();
    c.usage();
    c.escalation();
    c.self_parent();
    suppress_follow_ons(out);
}

/// One defect, one diagnostic: a reference to an undefined group or post usually means a
/// misspelt id, and the group or post it meant then looks never called or unused. Those
/// warnings are dropped while any such reference is reported; they return once it is fixed.
fn suppress_follow_ons(out: &mut Vec<Diagnostic>) {
    let undefined_group = out.iter().any(|d| d.code == Code::UndefinedGroup);
    let undefined_post = out.iter().any(|d| d.code == Code::UndefinedPost);
    out.retain(|d| {
        !(undefined_group && d.code == Code::GroupNeverCalled
            || undefined_post && d.code == Code::UnusedPost)
    });
}

impl Checker<'_, '_> {
    /// A plan that names itself as its parent links to nothing above it.
    fn self_parent(&mut self) {
        let m = &self.plan.meta;
        if let Some(parent) = &m.parent
            && !m.id.value.is_empty()
            && parent.value == m.id.value
        {
            self.push(
                Diagnostic::new(
                    Code::SelfParent,
                    parent.span.clone(),
                    format!("plan `{}` names itself as its parent", parent.value),
                )
                .label("its own id")
                .note(m.id.span.clone(), "the plan's id")
                .help("`parent` is the id of the upper-level plan (上级预案); remove it if there is none"),
            );
        }
    }
}

impl Checker<'_, '_> {
    /// Escalation policies: known levels and posts, increasing delays, one policy per level,
    /// and `above` links without a circle.
    fn escalation(&mut self) {
        let p = self.plan;
        for post in &p.posts {
            if let Some(a) = &post.above {
                self.post_ref(a, "post above");
            }
        }
        // `above` chains must end.
        for post in &p.posts {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut cur = post;
            seen.insert(&cur.id.value);
            while let Some(a) = &cur.above {
                let Some(next) = p.post(&a.value) else { break };
                if !seen.insert(&next.id.value) {
                    if next.id.value == post.id.value {
                        self.push(
                            Diagnostic::new(
                                Code::AboveCycle,
                                a.span.clone(),
                                format!("the posts above `{}` lead back to it", post.id.value),
                            )
                            .label("circular `above`")
                            .help("the post at the top of a chain has no `above`"),
                        );
                    }
                    break;
                }
                cur = next;
            }
        }
        let mut claimed: HashMap<&str, &Span> = HashMap::new();
        let mut default: Option<&Span> = None;
        for e in &p.escalation {
            if e.levels.is_empty() {
                if let Some(first) = default {
                    self.push(
                        Diagnostic::new(
                            Code::EscalationOverlap,
                            e.span.start..e.span.start + 1,
                            "a second escalation policy without `levels`".to_string(),
                        )
                        .label("another default policy")
                        .note(first.start..first.start + 1, "the first default is here")
                        .help("give one of them `levels`"),
                    );
                } else {
                    default = Some(&e.span);
                }
            }
            for l in &e.levels {
                if p.level(&l.value).is_none() {
                    self.push(
                        Diagnostic::new(
                            Code::UndefinedLevel,
                            l.span.clone(),
                            format!("escalation for level `{}`, which is not a level", l.value),
                        )
                        .label("undefined level"),
                    );
                } else if let Some(first) = claimed.get(l.value.as_str()) {
                    self.push(
                        Diagnostic::new(
                            Code::EscalationOverlap,
                            l.span.clone(),
                            format!("level `{}` already has an escalation policy", l.value),
                        )
                        .label("second policy for this level")
                        .note((*first).clone(), "first listed here"),
                    );
                } else {
                    claimed.insert(&l.value, &l.span);
                }
            }
            if let Some(r) = &e.repeat_every
                && r.value <= 0
            {
                self.push(
                    Diagnostic::new(
                        Code::NonPositiveTimeLimit,
                        r.span.clone(),
                        "`repeat_every` must be positive".to_string(),
                    )
                    .label("zero or less"),
                );
            }
            if e.steps.is_empty() && e.repeat_every.is_none() {
                let which = if e.levels.is_empty() {
                    "every level no other policy lists".to_string()
                } else {
                    let ids: Vec<&str> = e.levels.iter().map(|l| l.as_str()).collect();
                    format!("level(s) {}", ids.join(", "))
                };
                self.push(
                    Diagnostic::new(
                        Code::EscalationEmpty,
                        e.span.start..e.span.start + 1,
                        format!(
                            "this escalation policy has no steps and no repeats: an unanswered call at {which} calls nobody else"
                        ),
                    )
                    .label("escalates to nobody")
                    .help("add [[escalation.steps]] or `repeat_every`; to leave levels without escalation, remove the policy (unless a default policy should not apply to them)"),
                );
            }
            let mut prev: Option<&Sp<i64>> = None;
            for s in &e.steps {
                if s.after.value <= 0 {
                    self.push(
                        Diagnostic::new(
                            Code::NonPositiveTimeLimit,
                            s.after.span.clone(),
                            "an escalation step's `after` must be positive".to_string(),
                        )
                        .label("zero or less"),
                    );
                }
                if let Some(pr) = prev
                    && s.after.value <= pr.value
                {
                    self.push(
                        Diagnostic::new(
                            Code::EscalationOrder,
                            s.after.span.clone(),
                            format!(
                                "this step comes {} min after the call, not later than the step before ({} min)",
                                s.after.value, pr.value
                            ),
                        )
                        .label("not later than the previous step")
                        .note(pr.span.clone(), "previous step")
                        .help("`after` counts from the call, not from the previous step; list steps in increasing order"),
                    );
                }
                prev = Some(&s.after);
                if let Some(x) = &s.post
                    && x.value.trim().is_empty()
                    && matches!(
                        s.to,
                        EscalationTarget::Post | EscalationTarget::ParentOffice
                    )
                {
                    self.push(
                        Diagnostic::new(
                            Code::EscalationNobody,
                            x.span.clone(),
                            "this escalation step calls a blank post: nobody holds it, so the step calls nobody",
                        )
                        .label("blank post")
                        .help("name the post to call by its id, or remove `post` (for `parent_office` the default is the office head)"),
                    );
                } else if s.to == EscalationTarget::Post
                    && let Some(x) = &s.post
                {
                    self.post_ref(x, "escalation post");
                }
            }
        }
    }
}

struct Checker<'p, 'o> {
    plan: &'p Plan,
    out: &'o mut Vec<Diagnostic>,
}

fn dup_check<'a>(
    out: &mut Vec<Diagnostic>,
    what: &str,
    ids: impl IntoIterator<Item = &'a Sp<String>>,
) {
    let mut seen: HashMap<&str, &Sp<String>> = HashMap::new();
    for id in ids {
        if id.value.is_empty() {
            continue;
        }
        if let Some(first) = seen.get(id.value.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    id.span.clone(),
                    format!("{what} id `{}` is defined more than once", id.value),
                )
                .label("defined again here")
                .note(first.span.clone(), "first defined here"),
            );
        } else {
            seen.insert(id.value.as_str(), id);
        }
    }
}

impl Checker<'_, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn ids(&mut self) {
        let p = self.plan;
        // Posts, groups and member units share one namespace so that a reference such as a
        // report's `by` or a schedule's `from` is never ambiguous.
        let org: Vec<&Sp<String>> = p
            .posts
            .iter()
            .map(|x| &x.id)
            .chain(p.groups.iter().map(|x| &x.id))
            .chain(p.member_units.iter().map(|x| &x.id))
            .collect();
        for id in &org {
            if id.value == COMMAND_ID || id.value == OFFICE_ID {
                self.out.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        id.span.clone(),
                        format!(
                            "`{}` is reserved for the plan's {} itself",
                            id.value, id.value
                        ),
                    )
                    .label("reserved id")
                    .help("choose another id"),
                );
            }
        }
        dup_check(self.out, "post/group/unit", org);
        dup_check(self.out, "level", p.levels.iter().map(|x| &x.id));
        dup_check(self.out, "venue", p.venues.iter().map(|x| &x.id));
        dup_check(self.out, "behaviour", p.behaviours.iter().map(|x| &x.id));
        dup_check(self.out, "intake field", p.intake.iter().map(|x| &x.id));
        dup_check(
            self.out,
            "special period",
            p.special_periods.iter().map(|x| &x.id),
        );
        dup_check(self.out, "schedule", p.schedules.iter().map(|x| &x.id));
        for l in &p.levels {
            dup_check(
                self.out,
                "coercive step",
                l.coercive_steps.iter().map(|x| &x.step),
            );
        }
    }

    fn is_post(&self, id: &str) -> bool {
        self.plan.post(id).is_some()
    }
    fn is_group(&self, id: &str) -> bool {
        self.plan.group(id).is_some()
            || id == COMMAND_ID
            || (id == OFFICE_ID && self.plan.office.is_some())
    }
    fn is_unit(&self, id: &str) -> bool {
        self.plan.member_units.iter().any(|u| u.id.value == id)
    }

    fn post_ref(&mut self, r: &Sp<String>, role: &str) {
        if self.empty_ref(r, role) || self.is_post(&r.value) {
            return;
        }
        let mut d = Diagnostic::new(
            Code::UndefinedPost,
            r.span.clone(),
            format!("{role} `{}` is not a post defined in [[posts]]", r.value),
        )
        .label("undefined post");
        if self.is_group(&r.value) || self.is_unit(&r.value) {
            d = d.help(format!(
                "`{}` is a group or member unit; name a post (a position such as its head)",
                r.value
            ));
        } else {
            d = d.help("add it to [[posts]] with an `id` and a `name`");
        }
        self.push(d);
    }

    fn group_ref(&mut self, r: &Sp<String>, role: &str) {
        if self.empty_ref(r, role) || self.is_group(&r.value) {
            return;
        }
        let help = if r.value == OFFICE_ID {
            "the plan has no [office] table".to_string()
        } else {
            "define it in [[groups]], or use `command` or `office`".to_string()
        };
        self.push(
            Diagnostic::new(
                Code::UndefinedGroup,
                r.span.clone(),
                format!("{role} `{}` is not a group of this plan", r.value),
            )
            .label("undefined group")
            .help(help),
        );
    }

    /// An empty reference (a blank template's `组长: ""`) is an error of its own.
    fn empty_ref(&mut self, r: &Sp<String>, role: &str) -> bool {
        if !r.value.trim().is_empty() {
            return false;
        }
        self.push(
            Diagnostic::new(
                Code::InvalidValue,
                r.span.clone(),
                format!("{role} is empty"),
            )
            .label("empty reference")
            .help("name a post, group or unit by its id, or remove the entry"),
        );
        true
    }

    fn any_ref(&mut self, r: &Sp<String>, role: &str) {
        if self.empty_ref(r, role)
            || self.is_post(&r.value)
            || self.is_group(&r.value)
            || self.is_unit(&r.value)
        {
            return;
        }
        self.push(
            Diagnostic::new(
                Code::UndefinedName,
                r.span.clone(),
                format!(
                    "{role} `{}` is not a post, group or member unit of this plan",
                    r.value
                ),
            )
            .label("undefined"),
        );
    }

    fn unit_ref(&mut self, r: &Sp<String>, role: &str) {
        if self.is_unit(&r.value) {
            return;
        }
        self.push(
            Diagnostic::new(
                Code::UndefinedName,
                r.span.clone(),
                format!("{role} `{}` is not a member unit of this plan", r.value),
            )
            .label("undefined member unit")
            .help("define it in [[member_units]]"),
        );
    }

    fn references(&mut self) {
        let p = self.plan;
        for x in &p.command.leads {
            self.post_ref(x, "command lead");
        }
        for x in &p.command.deputies {
            self.post_ref(x, "command deputy");
        }
        for x in &p.command.members {
            self.post_ref(x, "command member");
        }
        if let Some(o) = &p.office {
            for x in o.head.iter().chain(&o.deputies).chain(&o.members) {
                self.post_ref(x, "office member");
            }
        }
        for post in &p.posts {
            if let Some(u) = &post.unit {
                self.unit_ref(u, "post unit");
            }
        }
        for g in &p.groups {
            for x in g.lead.iter() {
                self.post_ref(x, "group lead");
            }
            for x in g.deputies.iter().chain(&g.members) {
                self.post_ref(x, "group member");
            }
            for u in &g.units {
                self.unit_ref(u, "group unit");
            }
        }
        for u in &p.member_units {
            if let Some(h) = &u.head {
                self.post_ref(h, "unit head");
            }
        }
        for l in &p.levels {
            for x in l.commander.iter() {
                self.post_ref(x, "commander");
            }
            for x in l.deputies.iter() {
                self.post_ref(x, "deputy commander");
            }
            for g in &l.groups {
                self.group_ref(g, "called group");
            }
            for t in &l.tasks {
                self.group_ref(&t.group, "task group");
            }
            for r in &l.reports {
                if let Some(b) = &r.by {
                    self.any_ref(b, "report sender");
                }
                if let Some(d) = &r.deliver_to
                    && d.value != DELIVER_PARENT
                    && d.value != COMMAND_ID
                    && !self.is_post(&d.value)
                {
                    self.push(
                        Diagnostic::new(
                            Code::UndefinedPost,
                            d.span.clone(),
                            format!(
                                "report recipient `{}` is not `parent`, `command` or a post defined in [[posts]]",
                                d.value
                            ),
                        )
                        .label("undefined recipient")
                        .help("deliver_to = \"parent\" (the parent jurisdiction's office), \"command\" (the level's commander) or a post id"),
                    );
                }
            }
            for s in &l.coercive_steps {
                self.post_ref(&s.approver, "approver");
            }
            if let Some(e) = &l.extends
                && p.level(&e.value).is_none()
            {
                self.push(
                    Diagnostic::new(
                        Code::UndefinedLevel,
                        e.span.clone(),
                        format!(
                            "level `{}` extends `{}`, which is not a level",
                            l.id.value, e.value
                        ),
                    )
                    .label("undefined level"),
                );
            }
            for r in &l.when {
                for v in &r.venues {
                    if !p.venues.iter().any(|x| x.id.value == v.value) {
                        self.push(
                            Diagnostic::new(
                                Code::UndefinedName,
                                v.span.clone(),
                                format!("venue `{}` is not defined in [[venues]]", v.value),
                            )
                            .label("undefined venue"),
                        );
                    }
                }
                for b in &r.behaviours {
                    if !p.behaviours.iter().any(|x| x.id.value == b.value) {
                        self.push(
                            Diagnostic::new(
                                Code::UndefinedName,
                                b.span.clone(),
                                format!("behaviour `{}` is not defined in [[behaviours]]", b.value),
                            )
                            .label("undefined behaviour"),
                        );
                    }
                }
            }
        }
        for t in &p.first_response {
            self.group_ref(&t.group, "task group");
        }
        for d in &p.aftermath.duties {
            if let Some(o) = &d.owner {
                self.any_ref(o, "aftermath owner");
            }
        }
        for s in &p.schedules {
            for f in &s.from {
                if !(self.is_post(&f.value) || self.is_unit(&f.value) || self.is_group(&f.value)) {
                    self.push(
                        Diagnostic::new(
                            Code::UndefinedName,
                            f.span.clone(),
                            format!(
                                "report submitter `{}` is not a post, group or member unit",
                                f.value
                            ),
                        )
                        .label("undefined"),
                    );
                }
            }
            self.any_ref(&s.to, "report recipient");
            if let Some(per) = &s.period
                && !p.special_periods.iter().any(|x| x.id.value == per.value)
            {
                self.push(
                    Diagnostic::new(
                        Code::UndefinedName,
                        per.span.clone(),
                        format!(
                            "special period `{}` is not defined in [[special_periods]]",
                            per.value
                        ),
                    )
                    .label("undefined period"),
                );
            }
        }
    }

    fn levels(&mut self) {
        let p = self.plan;
        // extends cycles: reported once per cycle, by its first level (a level that merely
        // extends into a cycle is not reported again).
        for (i, l) in p.levels.iter().enumerate() {
            let mut seen = vec![l.id.value.as_str()];
            let mut cur = l;
            while let Some(e) = &cur.extends {
                if seen.contains(&e.value.as_str()) {
                    let first_of_cycle = e.value == l.id.value
                        && seen
                            .iter()
                            .all(|id| p.level_index(id).is_none_or(|j| j >= i));
                    if !first_of_cycle {
                        break;
                    }
                    self.push(
                        Diagnostic::new(
                            Code::ExtendsCycle,
                            e.span.clone(),
                            format!(
                                "level `{}` extends itself through {}",
                                l.id.value,
                                seen.join(" → ")
                            ),
                        )
                        .label("cycle"),
                    );
                    break;
                }
                match p.level(&e.value) {
                    Some(n) => {
                        seen.push(n.id.value.as_str());
                        cur = n;
                    }
                    None => break,
                }
            }
        }
        for (i, l) in p.levels.iter().enumerate() {
            let resp = crate::response::effective(p, i);
            // A level that extends an undefined level (P0104) or a cycle (P0207) has its
            // commander in doubt: that error is the one to fix, not a missing commander.
            if resp.commander.is_empty() && !self.extends_broken(l) {
                self.push(
                    Diagnostic::new(
                        Code::NoCommander,
                        l.id.span.clone(),
                        format!("level `{}` names no commander", l.id.value),
                    )
                    .label("no `commander` here or in the level it extends")
                    .help(format!(
                        "add commander = [\"post-id\"]: the post of the {} at this level",
                        p.command.commander_title
                    )),
                );
            }
            if l.judgement_only && !l.when.is_empty() {
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        l.when[0].span.clone(),
                        format!(
                            "level `{}` is `judgement_only` but also has `when` rules",
                            l.id.value
                        ),
                    )
                    .label("rules are never used on a judgement-only level")
                    .help("remove the rules, or set judgement_only = false"),
                );
            }
            for r in &l.when {
                if let Some(h) = &r.headcount
                    && h.value.is_empty()
                {
                    self.push(
                        Diagnostic::new(
                            Code::EmptyRange,
                            h.span.clone(),
                            format!("this headcount range ({}) contains no number", h.value),
                        )
                        .label("empty range"),
                    );
                }
            }
        }
        if let Some(s) = &p.scope.headcount
            && s.value.is_empty()
        {
            self.push(
                Diagnostic::new(
                    Code::EmptyRange,
                    s.span.clone(),
                    "the plan's scope contains no headcount",
                )
                .label("empty range"),
            );
        }
    }

    /// Whether following `extends` from a level reaches an undefined level or goes round.
    fn extends_broken(&self, l: &Level) -> bool {
        let p = self.plan;
        let mut seen = vec![l.id.value.as_str()];
        let mut cur = l;
        while let Some(e) = &cur.extends {
            match p.level(&e.value) {
                None => return true,
                Some(n) if seen.contains(&n.id.value.as_str()) => return true,
                Some(n) => {
                    seen.push(n.id.value.as_str());
                    cur = n;
                }
            }
        }
        false
    }

    fn time_limits(&mut self) {
        let p = self.plan;
        let mut limits: Vec<(&Sp<TimeLimit>, String)> = Vec::new();
        for g in &p.groups {
            for t in &g.tasks {
                limits.push((&t.within, format!("task “{}”", t.title)));
            }
        }
        for l in &p.levels {
            for t in &l.tasks {
                limits.push((&t.within, format!("task “{}”", t.title)));
            }
            for r in &l.reports {
                limits.push((&r.within, format!("report to {}", r.to)));
                if let Some(e) = &r.every {
                    limits.push((e, format!("report to {} (every)", r.to)));
                }
            }
        }
        for t in &p.first_response {
            limits.push((&t.within, format!("task “{}”", t.title)));
        }
        for d in &p.aftermath.duties {
            if let Some(w) = &d.within {
                limits.push((w, format!("aftermath duty “{}”", d.title)));
            }
        }
        for w in [&p.aftermath.reply_within, &p.aftermath.review_within]
            .into_iter()
            .flatten()
        {
            limits.push((w, "aftermath".into()));
        }
        let mut day_night_reported = false;
        for (lim, what) in limits {
            if lim.value.minutes().iter().any(|m| *m <= 0) {
                self.push(
                    Diagnostic::new(
                        Code::NonPositiveTimeLimit,
                        lim.span.clone(),
                        format!("the time limit of {what} is not positive ({})", lim.value),
                    )
                    .label("must be more than zero")
                    .help("write `immediately` for \"at once\" (立即)"),
                );
            }
            if lim.value.is_day_night() && p.time.day.is_none() && !day_night_reported {
                day_night_reported = true;
                self.push(
                    Diagnostic::new(
                        Code::DayNightUndefined,
                        lim.span.clone(),
                        "a day/night time limit, but the plan does not say when day and night start",
                    )
                    .label("day/night limit")
                    .help("add [time] with day_starts = \"08:00\" and night_starts = \"20:00\" (the plan's own hours)"),
                );
            }
        }
    }

    fn coverage(&mut self) {
        let p = self.plan;
        let scope = p
            .scope
            .headcount
            .as_ref()
            .map(|s| s.value)
            .unwrap_or(HeadcountRange {
                lower: Some(Bound {
                    value: 1,
                    inclusive: true,
                }),
                upper: None,
            });
        let Some((s_lo, s_hi)) = scope.closed() else {
            return;
        };
        let has_base = p
            .levels
            .iter()
            .any(|l| !l.judgement_only && l.when.iter().any(|r| r.is_base()));
        let contexts: Vec<Option<&Choice>> = if p.venues.is_empty() {
            vec![None]
        } else {
            p.venues.iter().map(Some).collect()
        };
        let mut reported_pairs = BTreeSet::new();
        if has_base {
            for ctx in &contexts {
                let ctx_id = ctx.map(|c| c.id.value.as_str());
                // (level, rule, lo, hi) of base rules in this context, clipped to the scope.
                let mut ranges: Vec<(usize, usize, u32, u32)> = Vec::new();
                for (li, l) in p.levels.iter().enumerate() {
                    if l.judgement_only {
                        continue;
                    }
                    for (ri, r) in l.when.iter().enumerate() {
                        if !r.is_base() {
                            continue;
                        }
                        if !r.venues.is_empty()
                            && !r.venues.iter().any(|v| Some(v.value.as_str()) == ctx_id)
                        {
                            continue;
                        }
                        let (lo, hi) = match &r.headcount {
                            None => (0, u32::MAX),
                            Some(h) => match h.value.closed() {
                                Some(c) => c,
                                None => continue,
                            },
                        };
                        let (lo, hi) = (lo.max(s_lo), hi.min(s_hi));
                        if lo <= hi {
                            ranges.push((li, ri, lo, hi));
                        }
                    }
                }
                // Overlaps between different levels.
                for a in 0..ranges.len() {
                    for b in a + 1..ranges.len() {
                        let (la, ra, alo, ahi) = ranges[a];
                        let (lb, rb, blo, bhi) = ranges[b];
                        if la == lb {
                            continue;
                        }
                        let (lo, hi) = (alo.max(blo), ahi.min(bhi));
                        if lo > hi || !reported_pairs.insert((la, ra, lb, rb)) {
                            continue;
                        }
                        let (ia, ib) = (&p.levels[la], &p.levels[lb]);
                        let span_of = |l: &Level, r: usize| {
                            l.when[r]
                                .headcount
                                .as_ref()
                                .map_or(l.when[r].span.clone(), |h| h.span.clone())
                        };
                        let both = if lo == hi {
                            format!("{lo} people")
                        } else if hi == u32::MAX {
                            format!("{lo} people and more")
                        } else {
                            format!("{lo}–{hi} people")
                        };
                        let venue = ctx
                            .map(|c| format!(" at venue `{}`", c.id.value))
                            .unwrap_or_default();
                        self.out.push(
                            Diagnostic::new(
                                Code::OverlappingRanges,
                                span_of(ib, rb),
                                format!(
                                    "levels `{}` and `{}` overlap: {both}{venue} fall in both",
                                    ia.id.value, ib.id.value
                                ),
                            )
                            .label(format!("level `{}` claims {both}", ib.id.value))
                            .note(span_of(ia, ra), format!("level `{}` claims them too", ia.id.value))
                            .help(format!("make one bound exclusive: e.g. `below = {lo}` in one level and `at_least = {lo}` in the other")),
                        );
                    }
                }
                // Gaps inside the scope.
                let mut sorted: Vec<(u32, u32)> = ranges.iter().map(|r| (r.2, r.3)).collect();
                sorted.sort();
                let mut next: u64 = u64::from(s_lo);
                let mut gaps = Vec::new();
                for (lo, hi) in sorted {
                    if u64::from(lo) > next {
                        gaps.push((next as u32, lo - 1));
                    }
                    next = next.max(u64::from(hi) + 1);
                }
                if next <= u64::from(s_hi) {
                    gaps.push((next as u32, s_hi));
                }
                for (lo, hi) in gaps {
                    let what = if lo == hi {
                        format!("{lo} people")
                    } else if hi == u32::MAX {
                        format!("{lo} people and more")
                    } else {
                        format!("{lo}–{hi} people")
                    };
                    let venue = ctx
                        .map(|c| format!(" at venue `{}`", c.id.value))
                        .unwrap_or_default();
                    // Point at the level whose range ends just before the gap, else at the scope.
                    let before = p.levels.iter().find_map(|l| {
                        l.when.iter().find_map(|r| {
                            let h = r.headcount.as_ref()?;
                            let (_, rhi) = h.value.closed()?;
                            (rhi.checked_add(1) == Some(lo))
                                .then(|| (h.span.clone(), l.id.value.clone()))
                        })
                    });
                    let span = before
                        .as_ref()
                        .map(|b| b.0.clone())
                        .or_else(|| p.scope.headcount.as_ref().map(|s| s.span.clone()))
                        .or_else(|| ctx.map(|c| c.id.span.clone()))
                        .or_else(|| p.levels.first().map(|l| l.id.span.clone()))
                        .unwrap_or(0..0);
                    let label = match &before {
                        Some((_, id)) => format!("level `{id}` ends here; nothing covers {what}"),
                        None => format!("nothing covers {what}"),
                    };
                    self.out.push(
                        Diagnostic::new(
                            Code::CoverageGap,
                            span,
                            format!(
                                "{what}{venue} fall in no level, although the plan applies to them"
                            ),
                        )
                        .label(label)
                        .help("extend a range, or narrow the plan's [scope]"),
                    );
                }
            }
        }
        self.reachability(s_lo, s_hi, &contexts);
        // Ranges that reach below an explicit scope: harmless but probably a misunderstanding.
        if let Some(sc) = &p.scope.headcount {
            for l in &p.levels {
                for r in &l.when {
                    if let Some(h) = &r.headcount
                        && h.value.lower.is_some()
                        && let Some((lo, _)) = h.value.closed()
                        && lo < s_lo
                    {
                        self.out.push(
                            Diagnostic::new(
                                Code::BelowScope,
                                h.span.clone(),
                                format!(
                                    "level `{}` starts at {lo} people, below the plan's scope ({})",
                                    l.id.value, sc.value
                                ),
                            )
                            .label("partly outside the scope")
                            .note(sc.span.clone(), "the scope"),
                        );
                    }
                }
            }
        }
    }

    fn reachability(&mut self, s_lo: u32, s_hi: u32, contexts: &[Option<&Choice>]) {
        let p = self.plan;
        // Candidate headcounts: every bound and its neighbours; classification is constant
        // between consecutive candidates.
        let mut points: BTreeSet<u32> = BTreeSet::from([s_lo, s_hi]);
        for l in &p.levels {
            for r in &l.when {
                if let Some((lo, hi)) = r.headcount.as_ref().and_then(|h| h.value.closed()) {
                    for x in [lo.saturating_sub(1), lo, hi, hi.saturating_add(1)] {
                        if (s_lo..=s_hi).contains(&x) {
                            points.insert(x);
                        }
                    }
                }
            }
        }
        for (li, l) in p.levels.iter().enumerate() {
            if l.judgement_only {
                continue;
            }
            if l.when.is_empty() {
                self.out.push(
                    Diagnostic::new(
                        Code::UnreachableLevel,
                        l.id.span.clone(),
                        format!("level `{}` can never be proposed: it has no `when` rules", l.id.value),
                    )
                    .label("unreachable level")
                    .help("add [[levels.when]] rules, or set judgement_only = true if a person chooses it"),
                );
                continue;
            }
            let mut reachable = false;
            let mut shadow: Option<usize> = None;
            'rules: for r in &l.when {
                let ctxs: Vec<Option<&str>> = if p.venues.is_empty() {
                    vec![None]
                } else if r.venues.is_empty() {
                    contexts
                        .iter()
                        .map(|c| c.map(|c| c.id.value.as_str()))
                        .collect()
                } else {
                    r.venues.iter().map(|v| Some(v.value.as_str())).collect()
                };
                let behaviour_sets: Vec<Vec<String>> = if r.behaviours.is_empty() {
                    vec![vec![]]
                } else {
                    r.behaviours.iter().map(|b| vec![b.value.clone()]).collect()
                };
                let Some((lo, hi)) = r
                    .headcount
                    .as_ref()
                    .map_or(Some((0, u32::MAX)), |h| h.value.closed())
                else {
                    continue;
                };
                for &h in points.range(lo.max(s_lo)..=hi.min(s_hi).max(lo.max(s_lo))) {
                    if h > hi || h < lo {
                        continue;
                    }
                    for v in &ctxs {
                        for b in &behaviour_sets {
                            let input = Input {
                                headcount: h,
                                venue: *v,
                                behaviours: b,
                            };
                            match grade(p, &input) {
                                Some(g) if g.level == li => {
                                    reachable = true;
                                    break 'rules;
                                }
                                Some(g) => shadow = Some(g.level),
                                None => {}
                            }
                        }
                    }
                }
            }
            if !reachable {
                let why = match shadow {
                    Some(s) => format!(
                        "every report its rules match is graded at the more severe level `{}` first",
                        p.levels[s].id.value
                    ),
                    None => "its rules match no headcount inside the plan's scope".to_string(),
                };
                self.out.push(
                    Diagnostic::new(
                        Code::UnreachableLevel,
                        l.id.span.clone(),
                        format!("level `{}` can never be proposed: {why}", l.id.value),
                    )
                    .label("unreachable level")
                    .help("levels are listed most severe first; check the order and the ranges"),
                );
            }
        }
    }

    fn usage(&mut self) {
        let p = self.plan;
        // A group is called when a level lists it in `groups` (only then is its standing
        // checklist generated); a level task addressed to it does not call it.
        let mut called: BTreeSet<&str> = BTreeSet::new();
        for l in &p.levels {
            called.extend(l.groups.iter().map(|g| g.value.as_str()));
        }
        for g in &p.groups {
            if g.id.value == COMMAND_ID || g.id.value == OFFICE_ID {
                continue;
            }
            if !called.contains(g.id.value.as_str()) {
                self.out.push(
                    Diagnostic::new(
                        Code::GroupNeverCalled,
                        g.id.span.clone(),
                        format!("group `{}` is never called by any level", g.id.value),
                    )
                    .label("never called")
                    .help("add it to a level's `groups`, or remove it"),
                );
            }
        }
        let mut used: BTreeSet<&str> = BTreeSet::new();
        let c = &p.command;
        used.extend(
            c.leads
                .iter()
                .chain(&c.deputies)
                .chain(&c.members)
                .map(|x| x.value.as_str()),
        );
        if let Some(o) = &p.office {
            used.extend(
                o.head
                    .iter()
                    .chain(&o.deputies)
                    .chain(&o.members)
                    .map(|x| x.value.as_str()),
            );
        }
        for g in &p.groups {
            used.extend(
                g.lead
                    .iter()
                    .chain(&g.deputies)
                    .chain(&g.members)
                    .map(|x| x.value.as_str()),
            );
        }
        for u in &p.member_units {
            used.extend(u.head.iter().map(|x| x.value.as_str()));
        }
        for l in &p.levels {
            used.extend(
                l.commander
                    .iter()
                    .chain(&l.deputies)
                    .map(|x| x.value.as_str()),
            );
            used.extend(l.coercive_steps.iter().map(|s| s.approver.value.as_str()));
            used.extend(
                l.reports
                    .iter()
                    .flat_map(|r| r.by.iter().chain(&r.deliver_to))
                    .map(|x| x.value.as_str()),
            );
        }
        for s in &p.schedules {
            used.extend(s.from.iter().map(|x| x.value.as_str()));
            used.insert(s.to.value.as_str());
        }
        for d in &p.aftermath.duties {
            used.extend(d.owner.iter().map(|x| x.value.as_str()));
        }
        for e in &p.escalation {
            used.extend(
                e.steps
                    .iter()
                    .filter(|s| s.to == EscalationTarget::Post)
                    .filter_map(|s| s.post.as_ref())
                    .map(|x| x.value.as_str()),
            );
        }
        used.extend(
            p.posts
                .iter()
                .filter_map(|x| x.above.as_ref())
                .map(|x| x.value.as_str()),
        );
        // The engine makes each aftermath duty a task when the response ends, due within the
        // duty's `within` or, without one, by the review (`review_within`). With neither, the
        // duty has no deadline and no task is made: say so rather than ignore it.
        if p.aftermath.review_within.is_none() {
            for d in p.aftermath.duties.iter().filter(|d| d.within.is_none()) {
                self.out.push(
                    Diagnostic::new(
                        Code::NotActedOn,
                        d.span.clone(),
                        format!(
                            "aftermath duty “{}” is not acted on: it has no `within` and the plan no `[aftermath] review_within`, so no task is made for it",
                            d.title
                        ),
                    )
                    .label("no deadline: not acted on"),
                );
            }
        }
        for post in &p.posts {
            if !used.contains(post.id.value.as_str()) {
                self.out.push(
                    Diagnostic::new(
                        Code::UnusedPost,
                        post.id.span.clone(),
                        format!("post `{}` is not used anywhere in the plan", post.id.value),
                    )
                    .label("unused post"),
                );
            }
        }
    }
}

/// Cross-file checks for plans checked together: duplicate plan ids and missing parents.
pub struct Loaded<'a> {
    pub file: &'a str,
    pub plan: &'a Plan,
}

pub fn check_set(plans: &[Loaded<'_>]) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, l) in plans.iter().enumerate() {
        let id = l.plan.id();
        if let Some(&j) = first.get(id) {
            out.push((
                i,
                Diagnostic::new(
                    Code::DuplicatePlan,
                    l.plan.meta.id.span.clone(),
                    format!("plan id `{id}` is also used by {}", plans[j].file),
                )
                .label("duplicate plan id"),
            ));
        } else {
            first.insert(id, i);
        }
    }
    for (i, l) in plans.iter().enumerate() {
        if let Some(parent) = &l.plan.meta.parent
            && !first.contains_key(parent.value.as_str())
        {
            let span: Span = parent.span.clone();
            out.push((
                i,
                Diagnostic::new(
                    Code::ParentNotFound,
                    span,
                    format!(
                        "parent plan `{}` is not among the files checked together",
                        parent.value
                    ),
                )
                .label("unknown parent plan")
                .help("check the parent's file in the same run (e.g. the whole directory), or fix the id"),
            ));
        }
    }
    out
}
