//! What a level's response is once `extends` is resolved, and the dry run of a plan: who would be
//! called, in what order, with which absolute deadlines (`plan simulate`).

use jiff::Zoned;
use serde::Serialize;

use crate::classify::{Input, NoLevel, classify};
use crate::model::*;
use crate::reader::Sp;
use crate::time::{DayPart, TimeLimit};

/// A level's response with everything it inherits through `extends`.
#[derive(Debug, Clone, Default)]
pub struct Response<'p> {
    pub commander: Vec<&'p Sp<String>>,
    pub deputies: Vec<&'p Sp<String>>,
    pub groups: Vec<&'p str>,
    /// Level-specific tasks (the groups' standing checklists are added when generating tasks).
    pub tasks: Vec<&'p TaskTemplate>,
    pub reports: Vec<&'p ReportDue>,
    pub coercive_steps: Vec<&'p CoerciveStep>,
    pub parent_called: bool,
}

/// Resolves a level's response, following `extends` (cycles are cut; the checker reports them).
pub fn effective(plan: &Plan, index: usize) -> Response<'_> {
    let mut chain = vec![index];
    let mut cur = &plan.levels[index];
    while let Some(e) = &cur.extends {
        match plan.level_index(&e.value) {
            Some(j) if !chain.contains(&j) => {
                chain.push(j);
                cur = &plan.levels[j];
            }
            _ => break,
        }
    }
    let mut r = Response::default();
    let mut parent_called = None;
    // Apply from the base of the chain up to the level itself, so that the level's own
    // settings override what it inherits.
    for &i in chain.iter().rev() {
        let l = &plan.levels[i];
        if !l.commander.is_empty() {
            r.commander = l.commander.iter().collect();
        }
        if !l.deputies.is_empty() {
            r.deputies = l.deputies.iter().collect();
        }
        for g in &l.groups {
            if !r.groups.contains(&g.value.as_str()) {
                r.groups.push(g.value.as_str());
            }
        }
        r.tasks.extend(l.tasks.iter());
        r.reports.extend(l.reports.iter());
        for s in &l.coercive_steps {
            r.coercive_steps.retain(|x| x.step.value != s.step.value);
            r.coercive_steps.push(s);
        }
        if l.parent_called.is_some() {
            parent_called = l.parent_called;
        }
    }
    r.parent_called = parent_called.unwrap_or(false);
    r
}

/// Why a post is called when a response is activated (one post may be called as several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum CalledAs {
    /// The level's commander (指挥长/组长); the command's leads when the level names none.
    Commander,
    /// The level's deputy commander; the command's deputies when the level names no commander.
    Deputy,
    /// The office (办公室): its head, deputies and members.
    Office,
    /// A group of the level: its lead…
    GroupLead { group: String },
    /// …a deputy lead or a member.
    GroupMember { group: String },
    /// A member unit a group of the level names, through its head post (contact).
    Unit { unit: String },
    /// Called only because it leads one of the level's tasks.
    TaskLead,
}

/// A post the activation of a level calls, and as what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Callee {
    pub post: String,
    pub roles: Vec<CalledAs>,
}

/// Everyone a level's response calls, in the order they are called: the commanders and
/// deputies (the level's own, else the command's leads and deputies), the office, then each
/// group of the level (lead, deputies, members, the member units it names through their head
/// posts), then the member units no group names (the command's own, called at every level),
/// then any other post leading a task. One entry per post, with every role it is called as. The live response
/// (`yingji-app` calls) and `plan simulate` both use this list.
pub fn callees(plan: &Plan, resp: &Response<'_>) -> Vec<Callee> {
    let mut out: Vec<Callee> = Vec::new();
    let mut add = |post: &str, role: CalledAs| {
        if post.is_empty() {
            return;
        }
        match out.iter_mut().find(|c| c.post == post) {
            Some(c) => {
                if !c.roles.contains(&role) {
                    c.roles.push(role);
                }
            }
            None => out.push(Callee {
                post: post.to_string(),
                roles: vec![role],
            }),
        }
    };
    let own_command = !resp.commander.is_empty();
    let commanders: Vec<&str> = if own_command {
        resp.commander.iter().map(|c| c.value.as_str()).collect()
    } else {
        plan.command
            .leads
            .iter()
            .map(|c| c.value.as_str())
            .collect()
    };
    for c in commanders {
        add(c, CalledAs::Commander);
    }
    let deputies: Vec<&str> = if !resp.deputies.is_empty() {
        resp.deputies.iter().map(|c| c.value.as_str()).collect()
    } else if !own_command {
        plan.command
            .deputies
            .iter()
            .map(|c| c.value.as_str())
            .collect()
    } else {
        vec![]
    };
    for d in deputies {
        add(d, CalledAs::Deputy);
    }
    if let Some(o) = &plan.office {
        for p in o.head.iter().chain(&o.deputies).chain(&o.members) {
            add(&p.value, CalledAs::Office);
        }
    }
    for g in &resp.groups {
        let Some(group) = plan.group(g) else { continue };
        let id = group.id.value.clone();
        if let Some(l) = &group.lead {
            add(&l.value, CalledAs::GroupLead { group: id.clone() });
        }
        for m in group.deputies.iter().chain(&group.members) {
            add(&m.value, CalledAs::GroupMember { group: id.clone() });
        }
        for u in &group.units {
            if let Some(h) = plan
                .member_units
                .iter()
                .find(|x| x.id.value == u.value)
                .and_then(|x| x.head.as_ref())
            {
                add(
                    &h.value,
                    CalledAs::Unit {
                        unit: u.value.clone(),
                    },
                );
            }
        }
    }
    // Member units no group names belong to the command itself: called at every level.
    for u in &plan.member_units {
        let assigned = plan
            .groups
            .iter()
            .any(|g| g.units.iter().any(|x| x.value == u.id.value));
        if !assigned && let Some(h) = &u.head {
            add(
                &h.value,
                CalledAs::Unit {
                    unit: u.id.value.clone(),
                },
            );
        }
    }
    for t in tasks_of(plan, resp) {
        if let Some(p) = task_post(plan, &t.group.value)
            && !out.iter().any(|c| c.post == p)
        {
            out.push(Callee {
                post: p,
                roles: vec![CalledAs::TaskLead],
            });
        }
    }
    out
}

/// The post that leads a task of a group (`command`: the command's first lead; `office`: the
/// office head; a group: its lead, else its first member).
pub fn task_post(plan: &Plan, group: &str) -> Option<String> {
    if group == COMMAND_ID {
        return plan.command.leads.first().map(|p| p.value.clone());
    }
    if group == OFFICE_ID {
        return plan
            .office
            .as_ref()
            .and_then(|o| o.head.as_ref())
            .map(|h| h.value.clone());
    }
    plan.group(group)
        .and_then(|g| g.lead.as_ref().or(g.members.first()))
        .map(|p| p.value.clone())
}

/// A post a response calls, as `plan simulate` shows it: who, as what, and the tasks it leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallOut {
    pub post: String,
    pub name: String,
    pub roles: Vec<CalledAs>,
    /// The titles of the tasks the post leads, in the plan's order.
    pub tasks: Vec<String>,
}

fn calls_out(plan: &Plan, resp: &Response<'_>, except: &[Callee]) -> Vec<CallOut> {
    let tasks = tasks_of(plan, resp);
    callees(plan, resp)
        .into_iter()
        .filter(|c| !except.iter().any(|e| e.post == c.post))
        .map(|c| CallOut {
            name: plan.name_of(&c.post).unwrap_or(&c.post).to_string(),
            tasks: tasks
                .iter()
                .filter(|t| task_post(plan, &t.group.value).as_deref() == Some(c.post.as_str()))
                .map(|t| t.title.clone())
                .collect(),
            post: c.post,
            roles: c.roles,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostRef {
    pub post: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelOut {
    pub id: String,
    pub name: String,
    pub colour: Option<Colour>,
    /// The rule that chose the level, as the plan writes it.
    pub rule: String,
    /// The qualitative test the deciding person must confirm, if the plan gives one.
    pub judgement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupOut {
    pub id: String,
    pub name: String,
    pub lead: Option<PostRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskOut {
    /// The group id as written in the plan (or `command` / `office`).
    pub group: String,
    pub group_name: String,
    pub title: String,
    pub within: TimeLimit,
    /// Which limit applied, for day/night limits.
    pub period: Option<DayPart>,
    pub due_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportOut {
    pub kind: ReportKind,
    pub to: String,
    pub by: Option<String>,
    pub within: TimeLimit,
    pub due_at: String,
    pub every: Option<TimeLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOut {
    pub step: String,
    pub name: String,
    pub approver: PostRef,
}

/// What the next more severe level would add to this response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextLevel {
    pub id: String,
    pub name: String,
    pub colour: Option<Colour>,
    /// The commander at the next level, when it differs.
    pub commander: Option<Vec<PostRef>>,
    pub groups: Vec<GroupOut>,
    pub tasks: Vec<TaskOut>,
    pub reports: Vec<ReportOut>,
    pub coercive_steps: Vec<ApprovalOut>,
    pub parent_called: bool,
    /// The posts re-grading to that level would call in addition.
    pub calls: Vec<CallOut>,
}

/// The result of `plan simulate`: stable JSON, documented in docs/plan-format.md.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub plan: PlanOut,
    pub input: InputOut,
    pub level: Option<LevelOut>,
    /// Why no level was proposed (null when one was).
    pub no_level: Option<NoLevel>,
    pub reason: Option<String>,
    pub commander: Vec<PostRef>,
    pub deputies: Vec<PostRef>,
    pub groups: Vec<GroupOut>,
    pub first_response: Vec<TaskOut>,
    pub tasks: Vec<TaskOut>,
    pub reports: Vec<ReportOut>,
    pub coercive_steps: Vec<ApprovalOut>,
    pub parent_called: bool,
    /// Everyone activation calls ([`callees`]), with the tasks each leads.
    pub calls: Vec<CallOut>,
    pub next_level: Option<NextLevel>,
    /// The aftermath if the response ended at the simulated moment: the plan's duties as the
    /// tasks they become (a duty without its own `within` is due with the review)…
    pub aftermath: Vec<TaskOut>,
    /// …when the after-action review would be due (`review_within`)…
    pub review_due_at: Option<String>,
    /// …and a commitment or reply recorded then without a deadline (`reply_within`).
    pub reply_due_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanOut {
    pub id: String,
    pub title: String,
    pub version: Option<String>,
    pub zone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputOut {
    pub headcount: u32,
    pub venue: Option<String>,
    pub behaviours: Vec<String>,
    pub at: String,
}

fn post_ref(plan: &Plan, id: &str) -> PostRef {
    PostRef {
        post: id.to_string(),
        name: plan.name_of(id).unwrap_or(id).to_string(),
    }
}

fn group_out(plan: &Plan, id: &str) -> GroupOut {
    let lead = plan
        .group(id)
        .and_then(|g| g.lead.as_ref())
        .map(|l| post_ref(plan, &l.value))
        .or_else(|| {
            if id == OFFICE_ID {
                plan.office
                    .as_ref()
                    .and_then(|o| o.head.as_ref())
                    .map(|h| post_ref(plan, &h.value))
            } else {
                None
            }
        });
    GroupOut {
        id: id.to_string(),
        name: plan.name_of(id).unwrap_or(id).to_string(),
        lead,
    }
}

fn stamp(z: &Zoned) -> String {
    // RFC 3339 with the plan zone's offset and whole seconds, e.g. 2026-03-02T10:15:00+08:00.
    let t = z
        .timestamp()
        .round(jiff::Unit::Second)
        .unwrap_or(z.timestamp());
    t.display_with_offset(z.offset()).to_string()
}

pub fn task_out(plan: &Plan, t: &TaskTemplate, start: &Zoned) -> TaskOut {
    let (due, period) = t.within.value.deadline(start, plan.time.day);
    TaskOut {
        group: t.group.value.clone(),
        group_name: plan
            .name_of(&t.group.value)
            .unwrap_or(&t.group.value)
            .to_string(),
        title: t.title.clone(),
        within: t.within.value,
        period,
        due_at: stamp(&due),
    }
}

/// When a report owed upward is due if its clock starts at `start` (in the plan's zone): the
/// response's start for first and follow-up reports, the end for a final one. `plan simulate`
/// and the engine (`yingji_domain::incident`) both use this.
pub fn report_due_at(plan: &Plan, r: &ReportDue, start: &Zoned) -> Zoned {
    r.within.value.deadline(start, plan.time.day).0
}

/// When the next follow-up is due after one submitted at `submitted` (the report's `every`),
/// or None when the plan sets no cadence.
pub fn next_follow_up_at(plan: &Plan, r: &ReportDue, submitted: &Zoned) -> Option<Zoned> {
    let every = r.every.as_ref()?;
    Some(every.value.deadline(submitted, plan.time.day).0)
}

fn report_out(plan: &Plan, r: &ReportDue, start: &Zoned) -> ReportOut {
    let due = report_due_at(plan, r, start);
    ReportOut {
        kind: r.kind,
        to: r.to.clone(),
        by: r.by.as_ref().map(|b| b.value.clone()),
        within: r.within.value,
        due_at: stamp(&due),
        every: r.every.as_ref().map(|e| e.value),
    }
}

/// The aftermath as it would be if the response ended at `end`: the duties' tasks (as the
/// engine makes them), the review's and a reply's deadlines.
fn aftermath(plan: &Plan, end: &Zoned, sim: &mut Simulation) {
    let a = &plan.aftermath;
    let due = |w: &crate::time::TimeLimit| w.deadline(end, plan.time.day);
    sim.review_due_at = a.review_within.as_ref().map(|w| stamp(&due(&w.value).0));
    sim.reply_due_at = a.reply_within.as_ref().map(|w| stamp(&due(&w.value).0));
    sim.aftermath = a
        .duties
        .iter()
        .filter_map(|d| {
            let within = d.within.as_ref().or(a.review_within.as_ref())?.value;
            let (at, period) = due(&within);
            let owner = d.owner.as_ref().map_or(OFFICE_ID, |o| o.value.as_str());
            Some(TaskOut {
                group: owner.to_string(),
                group_name: plan.name_of(owner).unwrap_or(owner).to_string(),
                title: d.title.clone(),
                within,
                period,
                due_at: stamp(&at),
            })
        })
        .collect();
}

/// Every task a response generates: the called groups' standing checklists, in the order the
/// groups are called, then the level's own tasks.
pub fn tasks_of<'p>(plan: &'p Plan, resp: &Response<'p>) -> Vec<&'p TaskTemplate> {
    let mut out: Vec<&TaskTemplate> = Vec::new();
    for g in &resp.groups {
        if let Some(group) = plan.group(g) {
            out.extend(group.tasks.iter());
        }
    }
    out.extend(resp.tasks.iter().copied());
    out
}

/// Dry-runs the plan for a report at a moment.
pub fn simulate(plan: &Plan, input: &Input<'_>, at: &jiff::Timestamp) -> Simulation {
    simulate_with(plan, input, at, None)
}

/// Dry-runs the plan with the level chosen by a person (as for judgement-only levels), or by the
/// plan's rules when `chosen` is None. An unknown chosen level gives no level.
pub fn simulate_with(
    plan: &Plan,
    input: &Input<'_>,
    at: &jiff::Timestamp,
    chosen: Option<&str>,
) -> Simulation {
    let start = at.to_zoned(plan.time.tz.clone());
    let graded = match chosen {
        None => classify(plan, input).map(|g| (g.level, Some(g.rule))),
        Some(id) => plan
            .level_index(id)
            .map(|i| (i, None))
            .ok_or(NoLevel::NoRuleMatched),
    };
    let mut sim = Simulation {
        plan: PlanOut {
            id: plan.id().to_string(),
            title: plan.meta.title.clone(),
            version: plan.meta.version.clone(),
            zone: plan.time.zone.clone(),
        },
        input: InputOut {
            headcount: input.headcount,
            venue: input.venue.map(str::to_string),
            behaviours: input.behaviours.to_vec(),
            at: stamp(&start),
        },
        level: None,
        no_level: None,
        reason: None,
        commander: vec![],
        deputies: vec![],
        groups: vec![],
        first_response: plan
            .first_response
            .iter()
            .map(|t| task_out(plan, t, &start))
            .collect(),
        tasks: vec![],
        reports: vec![],
        coercive_steps: vec![],
        parent_called: false,
        calls: vec![],
        next_level: None,
        aftermath: vec![],
        review_due_at: None,
        reply_due_at: None,
    };
    let (g_level, g_rule) = match graded {
        Ok(g) => g,
        Err(e) => {
            sim.reason = Some(e.to_string());
            sim.no_level = Some(e);
            return sim;
        }
    };
    let level = &plan.levels[g_level];
    let resp = effective(plan, g_level);
    sim.level = Some(LevelOut {
        id: level.id.value.clone(),
        name: level.name.clone(),
        colour: level.colour,
        rule: match g_rule {
            Some(r) => level.when[r].to_string(),
            None => "chosen by a person".to_string(),
        },
        judgement: level.judgement.clone(),
    });
    fill(plan, &resp, &start, &mut sim);
    aftermath(plan, &start, &mut sim);
    if g_level > 0 {
        let next_i = g_level - 1;
        let next = &plan.levels[next_i];
        let nresp = effective(plan, next_i);
        let commander: Vec<PostRef> = nresp
            .commander
            .iter()
            .map(|c| post_ref(plan, &c.value))
            .collect();
        let cur_tasks: Vec<(String, String)> = tasks_of(plan, &resp)
            .iter()
            .map(|t| (t.group.value.clone(), t.title.clone()))
            .collect();
        sim.next_level = Some(NextLevel {
            id: next.id.value.clone(),
            name: next.name.clone(),
            colour: next.colour,
            commander: (commander != sim.commander).then_some(commander),
            groups: nresp
                .groups
                .iter()
                .filter(|g| !resp.groups.contains(g))
                .map(|g| group_out(plan, g))
                .collect(),
            tasks: tasks_of(plan, &nresp)
                .into_iter()
                .filter(|t| !cur_tasks.contains(&(t.group.value.clone(), t.title.clone())))
                .map(|t| task_out(plan, t, &start))
                .collect(),
            reports: nresp
                .reports
                .iter()
                .filter(|r| !resp.reports.iter().any(|c| std::ptr::eq(*c, **r)))
                .map(|r| report_out(plan, r, &start))
                .collect(),
            coercive_steps: nresp
                .coercive_steps
                .iter()
                .filter(|s| {
                    !resp
                        .coercive_steps
                        .iter()
                        .any(|c| c.step.value == s.step.value)
                })
                .map(|s| approval_out(plan, s))
                .collect(),
            parent_called: nresp.parent_called && !resp.parent_called,
            calls: calls_out(plan, &nresp, &callees(plan, &resp)),
        });
    }
    sim
}

/// Orders tasks by deadline, keeping the plan's order between equal deadlines.
fn by_deadline(tasks: &mut [TaskOut]) {
    tasks.sort_by_key(|t| t.due_at.parse::<jiff::Timestamp>().ok());
}

fn approval_out(plan: &Plan, s: &CoerciveStep) -> ApprovalOut {
    ApprovalOut {
        step: s.step.value.clone(),
        name: s.name.clone(),
        approver: post_ref(plan, &s.approver.value),
    }
}

fn fill(plan: &Plan, resp: &Response<'_>, start: &Zoned, sim: &mut Simulation) {
    sim.commander = resp
        .commander
        .iter()
        .map(|c| post_ref(plan, &c.value))
        .collect();
    sim.deputies = resp
        .deputies
        .iter()
        .map(|c| post_ref(plan, &c.value))
        .collect();
    sim.groups = resp.groups.iter().map(|g| group_out(plan, g)).collect();
    sim.tasks = tasks_of(plan, resp)
        .into_iter()
        .map(|t| task_out(plan, t, start))
        .collect();
    by_deadline(&mut sim.tasks);
    sim.reports = resp
        .reports
        .iter()
        .map(|r| report_out(plan, r, start))
        .collect();
    sim.coercive_steps = resp
        .coercive_steps
        .iter()
        .map(|s| approval_out(plan, s))
        .collect();
    sim.parent_called = resp.parent_called;
    sim.calls = calls_out(plan, resp, &[]);
}

fn roles_text(roles: &[CalledAs]) -> String {
    roles
        .iter()
        .map(|r| match r {
            CalledAs::Commander => "commander".to_string(),
            CalledAs::Deputy => "deputy commander".to_string(),
            CalledAs::Office => "office".to_string(),
            CalledAs::GroupLead { group } => format!("lead of {group}"),
            CalledAs::GroupMember { group } => format!("member of {group}"),
            CalledAs::Unit { unit } => format!("contact of {unit}"),
            CalledAs::TaskLead => "task lead".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn tasks_text(tasks: &[String]) -> String {
    if tasks.is_empty() {
        String::new()
    } else {
        format!(", {} task(s)", tasks.len())
    }
}

/// Renders a simulation for a terminal.
pub fn render_text(sim: &Simulation) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "plan      {} ({})", sim.plan.title, sim.plan.id);
    // With a level chosen by a person and no headcount, there is no headcount to show.
    let mut input = if sim.input.headcount == 0
        && sim
            .level
            .as_ref()
            .is_some_and(|l| l.rule == "chosen by a person")
    {
        "level chosen by a person".to_string()
    } else {
        format!("{} people", sim.input.headcount)
    };
    if let Some(v) = &sim.input.venue {
        input.push_str(&format!(", venue {v}"));
    }
    if !sim.input.behaviours.is_empty() {
        input.push_str(&format!(", behaviour {}", sim.input.behaviours.join(", ")));
    }
    let _ = writeln!(s, "report    {input} at {}", sim.input.at);
    match &sim.level {
        None => {
            let _ = writeln!(
                s,
                "level     none: {}",
                sim.reason.as_deref().unwrap_or("no level")
            );
        }
        Some(l) => {
            let colour = l
                .colour
                .map(|c| format!(", {}", c.as_str()))
                .unwrap_or_default();
            let _ = writeln!(s, "level     {} {}{colour}", l.id, l.name);
            let _ = writeln!(s, "  because {}", l.rule);
            if let Some(j) = &l.judgement {
                let _ = writeln!(s, "  confirm {j}");
            }
        }
    }
    if !sim.first_response.is_empty() {
        let _ = writeln!(s, "first response");
        for t in &sim.first_response {
            let _ = writeln!(
                s,
                "  {}  {} — {} ({})",
                t.due_at, t.group_name, t.title, t.within
            );
        }
    }
    if sim.level.is_none() {
        return s;
    }
    let names = |v: &[PostRef]| {
        v.iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "commander {}", names(&sim.commander));
    if !sim.deputies.is_empty() {
        let _ = writeln!(s, "deputies  {}", names(&sim.deputies));
    }
    let _ = writeln!(s, "groups");
    for g in &sim.groups {
        let lead = g
            .lead
            .as_ref()
            .map(|l| format!(" (lead: {})", l.name))
            .unwrap_or_default();
        let _ = writeln!(s, "  {} {}{lead}", g.id, g.name);
    }
    let _ = writeln!(s, "calls");
    for c in &sim.calls {
        let _ = writeln!(
            s,
            "  {} ({}){}",
            c.name,
            roles_text(&c.roles),
            tasks_text(&c.tasks)
        );
    }
    let _ = writeln!(s, "tasks");
    for t in &sim.tasks {
        let period = match t.period {
            Some(DayPart::Day) => ", day",
            Some(DayPart::Night) => ", night",
            None => "",
        };
        let _ = writeln!(
            s,
            "  {}  {} — {} ({}{period})",
            t.due_at, t.group_name, t.title, t.within
        );
    }
    if !sim.reports.is_empty() {
        let _ = writeln!(s, "reports upward");
        for r in &sim.reports {
            let _ = writeln!(
                s,
                "  {}  {} report to {} ({})",
                r.due_at,
                r.kind.as_str(),
                r.to,
                r.within
            );
        }
    }
    if !sim.coercive_steps.is_empty() {
        let _ = writeln!(s, "coercive steps need approval");
        for a in &sim.coercive_steps {
            let _ = writeln!(s, "  {} — approved by {}", a.name, a.approver.name);
        }
    }
    let _ = writeln!(
        s,
        "parent jurisdiction called: {}",
        if sim.parent_called { "yes" } else { "no" }
    );
    if !sim.aftermath.is_empty() || sim.review_due_at.is_some() || sim.reply_due_at.is_some() {
        let _ = writeln!(s, "aftermath, if the response ended at {}", sim.input.at);
        for t in &sim.aftermath {
            let _ = writeln!(
                s,
                "  {}  {} — {} ({})",
                t.due_at, t.group_name, t.title, t.within
            );
        }
        if let Some(r) = &sim.review_due_at {
            let _ = writeln!(s, "  {r}  after-action review due");
        }
        if let Some(r) = &sim.reply_due_at {
            let _ = writeln!(
                s,
                "  {r}  commitments and replies due, unless given a deadline"
            );
        }
    }
    if let Some(n) = &sim.next_level {
        let _ = writeln!(s, "next level up: {} {}", n.id, n.name);
        if let Some(c) = &n.commander {
            let _ = writeln!(s, "  commander becomes {}", names(c));
        }
        for g in &n.groups {
            let _ = writeln!(s, "  + group {} {}", g.id, g.name);
        }
        for t in &n.tasks {
            let _ = writeln!(s, "  + task {} — {} ({})", t.group_name, t.title, t.within);
        }
        for r in &n.reports {
            let _ = writeln!(
                s,
                "  + {} report to {} ({})",
                r.kind.as_str(),
                r.to,
                r.within
            );
        }
        for c in &n.calls {
            let _ = writeln!(s, "  + call {} ({})", c.name, roles_text(&c.roles));
        }
        for a in &n.coercive_steps {
            let _ = writeln!(
                s,
                "  + coercive step {} approved by {}",
                a.name, a.approver.name
            );
        }
        if n.parent_called {
            let _ = writeln!(s, "  + the parent jurisdiction is called");
        }
    }
    s
}
