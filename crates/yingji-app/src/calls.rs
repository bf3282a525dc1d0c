//! Calls: an activated response calls the posts it needs (resolved through the roster at that
//! moment), each recipient acknowledges personally, and unanswered calls escalate as the plan's
//! policy for the level says. Callout events live in the incident's callout stream (shown in the
//! incident timeline); their outbox rows are written in the same transaction.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;
use yingji_domain::callout::{self, Call, Callout, Policy, Recipient, Step, Target};
use yingji_domain::incident::{CloseReason, Event as IncidentEvent, Incident, Task};
use yingji_domain::roster::{self, PostHolders, Resolved, Roster};
use yingji_domain::values::{CallId, IncidentId};
use yingji_domain::{ActorRef, PersonRef};
use yingji_notify::mark_drill;
use yingji_plan::Plan;
use yingji_plan::model::EscalationTarget;
use yingji_plan::response::CalledAs;
use yingji_store::{CallWrite, OutboxRow, Row, WriteSet, fmt_ts};

use crate::command::{Command, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, JsonText, Permission};

/// The escalation policy the plan gives a level, in the callout's own terms.
pub fn policy_for(plan: &Plan, level: &str) -> Policy {
    let Some(e) = plan.escalation_for(level) else {
        return Policy::default();
    };
    let office_head = plan
        .office
        .as_ref()
        .and_then(|o| o.head.as_ref())
        .map(|h| h.value.clone());
    Policy {
        every_recipient: e.every_recipient,
        repeat_every_minutes: e.repeat_every.as_ref().map(|r| r.value),
        repeat_times: e.repeat_times,
        steps: e
            .steps
            .iter()
            .map(|s| Step {
                after_minutes: s.after.value,
                to: match s.to {
                    EscalationTarget::Deputy => Target::Deputy,
                    EscalationTarget::Above => Target::Above,
                    EscalationTarget::Post => Target::Post {
                        post: s.post.as_ref().map(|p| p.value.clone()).unwrap_or_default(),
                    },
                    EscalationTarget::ParentOffice => Target::ParentOffice {
                        post: s
                            .post
                            .as_ref()
                            .map(|p| p.value.clone())
                            .or_else(|| office_head.clone())
                            .unwrap_or_default(),
                    },
                },
            })
            .collect(),
    }
}

/// The incident's callout and its stream head.
pub async fn load_callout(
    state: &App,
    incident_id: Uuid,
) -> Result<(Callout, i64, Option<String>), AppError> {
    // Rebuilt from the callout's events, not read from its projection row (see `replay`).
    let r = crate::replay::callout(state, incident_id).await?;
    Ok((r.state, r.version, r.head_hash))
}

/// Context for writing callout events.
pub struct Target2<'a> {
    pub jurisdiction_id: Uuid,
    pub path: &'a str,
    pub title: &'a str,
    /// The language of the messages (the notice catalogue's).
    pub lang: &'a str,
    /// The level in force now (every later message names it, not the level the call was
    /// placed at).
    pub level: Option<&'a str>,
}

/// Appends callout events with the projection rows and the outbox rows they cause.
#[expect(clippy::too_many_arguments, reason = "the fields of one append")]
pub fn callout_writes(
    ws: &mut WriteSet,
    before: &Callout,
    version: i64,
    head: Option<&str>,
    at: &Target2<'_>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[callout::Event],
) -> Callout {
    let items = events
        .iter()
        .map(|e| Item::new(e.kind(), e, None))
        .collect();
    let ids = append(
        ws,
        callout::stream_id(before.incident_id),
        "callout",
        at.jurisdiction_id,
        version,
        head,
        actor,
        now,
        items,
    );
    let mut after = before.clone();
    for (id, e) in ids.iter().zip(events) {
        after = callout::apply(after, e);
        if let Some((call, people)) = e.to_notify(&after)
            && !people.is_empty()
        {
            let (subject, text) = message(call, e, after.drill, at);
            ws.rows.push(Row::Outbox(OutboxRow {
                id: Uuid::now_v7(),
                event_id: *id,
                kind: "call".into(),
                payload: json!({
                    "people": people, "subject": subject, "text": text,
                    "incident_id": before.incident_id, "call_id": call.id,
                    "drill": after.drill, "jurisdiction_path": at.path,
                })
                .to_string(),
                next_at: fmt_ts(now),
                created_at: fmt_ts(now),
            }));
        }
    }
    let next = after.next_due().map(|t| t.as_millisecond());
    ws.rows.push(Row::Call(CallWrite::Callout {
        incident_id: before.incident_id,
        jurisdiction_path: at.path.to_string(),
        body: serde_json::to_string(&after).expect("callout serialises"),
        next_due_ms: next,
    }));
    for c in &after.calls {
        for r in &c.recipients {
            ws.rows.push(Row::Call(CallWrite::Recipient {
                call_id: c.id,
                incident_id: before.incident_id,
                person_id: r.person.person_id,
                jurisdiction_path: at.path.to_string(),
                reached_as: r.reached_as.clone(),
                called_at: fmt_ts(r.called_at),
                acked_at: r.acked_at.map(fmt_ts),
                ack_channel: r.ack_channel.clone(),
            }));
        }
    }
    after
}

/// The subject and text of a call message (drills marked), from the notice catalogue.
fn message(call: &Call, e: &callout::Event, drill: bool, at: &Target2<'_>) -> (String, String) {
    use yingji_notify::catalogue::{fill, word};
    let (title, lang) = (at.title, at.lang);
    let w = |k: &str| word(lang, "call", k);
    let level = match at.level.or(call.level.as_deref()) {
        Some(l) => fill(&w("level"), &[("level", l.to_string())]),
        None => w("level_none"),
    };
    let mut text = match e {
        callout::Event::CallEscalated { target, .. } => fill(
            &w("escalated"),
            &[
                (
                    "post",
                    call.post_name.clone().unwrap_or_else(|| w("someone")),
                ),
                ("target", word(lang, "call_target", target)),
            ],
        ),
        callout::Event::CallRepeated { repeat, .. } => {
            fill(&w("repeated"), &[("n", (repeat + 1).to_string())])
        }
        _ => String::new(),
    };
    let args = [("title", title.to_string()), ("level", level)];
    text.push_str(&fill(&w("started"), &args));
    if let Some(p) = &call.post_name {
        text.push_str(&fill(&w("as_post"), &[("post", p.clone())]));
    }
    text.push_str(&call.subject);
    for l in &call.lines {
        text.push_str(&format!("\n· {l}"));
    }
    text.push('\n');
    text.push_str(&w("ack"));
    (
        mark_drill(&fill(&w("subject"), &args), drill),
        mark_drill(&text, drill),
    )
}

/// Calls for the events an incident command produced: activation calls everyone the plan
/// names for the level ([`yingji_plan::response::callees`]: commanders and deputies, the
/// office, group leads and members, member units' contacts), each with the tasks they lead;
/// re-grading calls the people the new level adds (and those given new tasks); a coercive-step
/// request calls its approver; a task's acknowledgement answers the acknowledger's call for it;
/// ending, closing or an unfounded report closes the calls (with the reason the tasks were
/// closed with).
#[expect(
    clippy::too_many_arguments,
    reason = "the fields of one command's writes"
)]
pub async fn calls_for_incident(
    state: &App,
    ws: &mut WriteSet,
    inc: &Incident,
    plan: &Plan,
    path: &str,
    actor: &ActorRef,
    now: Timestamp,
    events: &[IncidentEvent],
) -> Result<(), AppError> {
    let relevant = events.iter().any(|e| {
        matches!(
            e,
            IncidentEvent::Activated { .. }
                | IncidentEvent::RegradeAccepted { .. }
                | IncidentEvent::CoerciveStepRequested { .. }
                | IncidentEvent::ResponseEnded { .. }
                | IncidentEvent::Closed
                | IncidentEvent::MarkedUnfounded { .. }
                | IncidentEvent::TaskAcknowledged { .. }
                | IncidentEvent::TaskStarted { .. }
                | IncidentEvent::TaskDone { .. }
        )
    });
    if !relevant {
        return Ok(());
    }
    let (before, version, head) = load_callout(state, inc.id).await?;
    let activates = events.iter().any(|e| {
        matches!(
            e,
            IncidentEvent::Activated { .. } | IncidentEvent::RegradeAccepted { .. }
        )
    });
    let holders = if activates {
        state.holders(inc.jurisdiction_id).await?
    } else {
        HashMap::new()
    };
    let lang = crate::notices::language(state);
    let w = |k: &str| yingji_notify::catalogue::word(lang, "call", k);
    let fill = yingji_notify::catalogue::fill;
    let mut out: Vec<callout::Event> = Vec::new();
    // (task, the assignees it was signed for) of each task acknowledgement.
    let mut acks: Vec<(Uuid, Vec<PersonRef>)> = Vec::new();
    for e in events {
        match e {
            IncidentEvent::Activated { level, tasks, .. }
            | IncidentEvent::RegradeAccepted { level, tasks } => {
                // A re-grade accepted before activation calls nobody (no response yet).
                if matches!(e, IncidentEvent::RegradeAccepted { .. }) && inc.activated_at.is_none()
                {
                    continue;
                }
                out.extend(activation_calls(
                    plan, inc, &level.id, tasks, &before, &holders, now, lang,
                ));
            }
            // A coercive-step request calls the one person it names as approver (no escalation:
            // nobody else may decide it).
            IncidentEvent::CoerciveStepRequested { record } => {
                out.push(callout::Event::CallPlaced {
                    drill: inc.drill,
                    call: Call {
                        id: Uuid::now_v7(),
                        jurisdiction_id: inc.jurisdiction_id,
                        post: Some(record.approver_post.clone()),
                        post_name: plan.name_of(&record.approver_post).map(str::to_string),
                        level: inc.level.as_ref().map(|l| l.id.clone()),
                        subject: fill(
                            &w("coercive_request"),
                            &[
                                ("requester", record.recorded_by.name.clone()),
                                ("step", record.name.clone()),
                            ],
                        ),
                        lines: vec![
                            fill(&w("coercive_reason"), &[("reason", record.reason.clone())]),
                            w("coercive_decide"),
                        ],
                        placed_at: now,
                        // As the holder of the approver post.
                        recipients: holders_called(vec![record.approver.clone()], now),
                        policy: Policy::default(),
                        next_step: 0,
                        repeats_done: 0,
                        closed: false,
                        closed_reason: None,
                    },
                });
            }
            IncidentEvent::ResponseEnded { .. }
            | IncidentEvent::Closed
            | IncidentEvent::MarkedUnfounded { .. } => {
                // The calls close with the reason the open tasks were closed with.
                let reason = events
                    .iter()
                    .find_map(|e| match e {
                        IncidentEvent::TaskClosed { reason, .. } => Some(*reason),
                        _ => None,
                    })
                    .unwrap_or(CloseReason::NotNeeded);
                out.push(callout::Event::CallsClosed {
                    reason: Some(reason),
                });
            }
            IncidentEvent::TaskAcknowledged { id, on_behalf_of } => {
                acks.push((*id, on_behalf_of.clone()));
            }
            IncidentEvent::TaskStarted { id } | IncidentEvent::TaskDone { id } => {
                acks.push((*id, vec![]));
            }
            _ => {}
        }
    }
    if out.is_empty() && acks.is_empty() {
        return Ok(());
    }
    // A task's acknowledgement answers the call of the person who acknowledged it for that
    // task (the call to the task's post by the level that made it); signed for the assignees,
    // it answers theirs, recorded as signed by the actor on their behalf.
    for (task_id, for_whom) in acks {
        let Some(t) = inc.tasks.iter().find(|t| t.id == task_id) else {
            continue;
        };
        let Some(post) = &t.post else { continue };
        let signer = PersonRef {
            person_id: actor.person_id,
            name: actor.name.clone(),
        };
        let (people, by) = if for_whom.is_empty() {
            (vec![signer], None)
        } else {
            (for_whom, Some(signer))
        };
        for c in before
            .calls
            .iter()
            .filter(|c| !c.closed && c.post.as_ref() == Some(post) && c.level == t.level)
        {
            for p in &people {
                let waiting = c
                    .recipients
                    .iter()
                    .any(|r| r.person.person_id == p.person_id && r.acked_at.is_none());
                let already = out.iter().any(|e| {
                    matches!(e, callout::Event::CallAcknowledged { call_id, person, .. }
                        if *call_id == c.id && person.person_id == p.person_id)
                });
                if waiting && !already {
                    let person = c
                        .recipients
                        .iter()
                        .find(|r| r.person.person_id == p.person_id)
                        .map(|r| r.person.clone())
                        .unwrap_or_else(|| p.clone());
                    out.push(callout::Event::CallAcknowledged {
                        call_id: c.id,
                        person,
                        channel: "task".into(),
                        at: now,
                        by: by.clone(),
                    });
                }
            }
        }
    }
    if out.is_empty() {
        return Ok(());
    }
    if before.calls.is_empty()
        && out
            .iter()
            .all(|e| matches!(e, callout::Event::CallsClosed { .. }))
    {
        return Ok(());
    }
    callout_writes(
        ws,
        &before,
        version,
        head.as_deref(),
        &Target2 {
            jurisdiction_id: inc.jurisdiction_id,
            path,
            title: &inc.title,
            lang,
            level: inc.level.as_ref().map(|l| l.id.as_str()),
        },
        actor,
        now,
        &out,
    );
    Ok(())
}

/// The calls a level's activation (or a re-grade to it) places: one per post the plan names
/// for the level, to the people holding it now (through the roster), with the roles it is
/// called as and the tasks it leads. On a re-grade, a post whose call of an earlier level is
/// still open is called again only for tasks the new level gives it.
#[expect(clippy::too_many_arguments, reason = "the facts of one activation")]
fn activation_calls(
    plan: &Plan,
    inc: &Incident,
    level: &str,
    tasks: &[Task],
    before: &Callout,
    holders: &HashMap<String, Vec<PersonRef>>,
    now: Timestamp,
    lang: &str,
) -> Vec<callout::Event> {
    use yingji_notify::catalogue::{fill, word};
    let w = |k: &str| word(lang, "call", k);
    let Some(i) = plan.level_index(level) else {
        return vec![];
    };
    let resp = yingji_plan::response::effective(plan, i);
    let mut posts: Vec<(String, Vec<CalledAs>)> = yingji_plan::response::callees(plan, &resp)
        .into_iter()
        .map(|c| (c.post, c.roles))
        .collect();
    for t in tasks {
        if let Some(p) = &t.post
            && !posts.iter().any(|(x, _)| x == p)
        {
            posts.push((p.clone(), vec![CalledAs::TaskLead]));
        }
    }
    let tz = plan.time.tz.clone();
    let policy = policy_for(plan, level);
    let mut out = Vec::new();
    for (post, roles) in posts {
        let ts: Vec<&Task> = tasks
            .iter()
            .filter(|t| t.post.as_deref() == Some(post.as_str()))
            .collect();
        let called = before
            .calls
            .iter()
            .any(|c| !c.closed && c.post.as_deref() == Some(post.as_str()));
        if called && ts.is_empty() {
            continue;
        }
        let mut people: Vec<PersonRef> = Vec::new();
        for p in ts
            .iter()
            .flat_map(|t| t.assignees.iter())
            .chain(holders.get(&post).into_iter().flatten())
        {
            if !people.iter().any(|x| x.person_id == p.person_id) {
                people.push(p.clone());
            }
        }
        let role_names: Vec<String> = roles.iter().map(|r| role_name(plan, r, lang)).collect();
        let mut lines = vec![fill(&w("roles"), &[("roles", role_names.join("、"))])];
        lines.extend(ts.iter().map(|t| {
            fill(
                &w("task_line"),
                &[
                    ("task", t.title.clone()),
                    ("group", t.group_name.clone()),
                    (
                        "due",
                        t.due_at
                            .to_zoned(tz.clone())
                            .strftime("%m-%d %H:%M")
                            .to_string(),
                    ),
                ],
            )
        }));
        let subject = if ts.is_empty() {
            w("report_in")
        } else {
            fill(&w("lead_tasks"), &[("n", ts.len().to_string())])
        };
        out.push(callout::Event::CallPlaced {
            drill: inc.drill,
            call: Call {
                id: Uuid::now_v7(),
                jurisdiction_id: inc.jurisdiction_id,
                post_name: plan.name_of(&post).map(str::to_string),
                post: Some(post),
                level: Some(level.to_string()),
                subject,
                lines,
                placed_at: now,
                recipients: holders_called(people, now),
                policy: policy.clone(),
                next_step: 0,
                repeats_done: 0,
                closed: false,
                closed_reason: None,
            },
        });
    }
    out
}

/// The people a call first reaches, as the holders of what it calls (not yet acknowledged).
fn holders_called(people: Vec<PersonRef>, now: Timestamp) -> Vec<Recipient> {
    people
        .into_iter()
        .map(|person| Recipient {
            person,
            reached_as: "holder".into(),
            called_at: now,
            acked_at: None,
            ack_channel: None,
        })
        .collect()
}

/// What a role is called in a message, with the plan's own titles and names.
fn role_name(plan: &Plan, role: &CalledAs, lang: &str) -> String {
    use yingji_notify::catalogue::{fill, word};
    let w = |k: &str| word(lang, "call_role", k);
    let name = |id: &str| plan.name_of(id).unwrap_or(id).to_string();
    match role {
        CalledAs::Commander => fill(
            &w("commander"),
            &[
                ("command", plan.command.name.clone()),
                ("title", plan.command.commander_title.clone()),
            ],
        ),
        CalledAs::Deputy => fill(
            &w("deputy"),
            &[
                ("command", plan.command.name.clone()),
                ("title", plan.command.deputy_title.clone()),
            ],
        ),
        CalledAs::Office => fill(
            &w("office"),
            &[("office", name(yingji_plan::model::OFFICE_ID))],
        ),
        CalledAs::GroupLead { group } => fill(&w("group_lead"), &[("group", name(group))]),
        CalledAs::GroupMember { group } => fill(&w("group_member"), &[("group", name(group))]),
        CalledAs::Unit { unit } => fill(&w("unit"), &[("unit", name(unit))]),
        CalledAs::TaskLead => w("task_lead"),
    }
}

/// Calls the office of the parent jurisdiction about a linked record made for it (a level that
/// calls the parent, or an explicit escalation): the office post its plans name (else its duty
/// officers), then the escalation chain the plan gives the level, resolved in the parent.
#[expect(clippy::too_many_arguments, reason = "the fields of one call")]
pub async fn call_parent_office(
    state: &App,
    ws: &mut WriteSet,
    child: &Incident,
    parent_incident: Uuid,
    parent: &yingji_store::JurisdictionRow,
    parent_title: &str,
    plan: &Plan,
    actor: &ActorRef,
    now: Timestamp,
    note: Option<&str>,
) -> Result<(), AppError> {
    use yingji_notify::catalogue::{fill, word};
    let lang = crate::notices::language(state);
    let w = |k: &str| word(lang, "call", k);
    let (post, people) = crate::notices::office_post(state, parent.id).await?;
    let from = state
        .store
        .jurisdiction(child.jurisdiction_id)
        .await?
        .map(|j| j.name)
        .unwrap_or_default();
    let level = child.level.as_ref().map(|l| l.id.clone());
    let mut lines = Vec::new();
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        lines.push(fill(&w("parent_note"), &[("note", n.to_string())]));
    }
    lines.push(fill(
        &w("parent_facts"),
        &[("headcount", child.headcount.to_string())],
    ));
    let call = Call {
        id: Uuid::now_v7(),
        jurisdiction_id: parent.id,
        post_name: post.as_ref().map(|p| p.1.clone()),
        post: post.map(|p| p.0),
        level: level.clone(),
        subject: fill(&w("parent_office"), &[("from", from)]),
        lines,
        placed_at: now,
        recipients: holders_called(people, now),
        policy: level
            .as_deref()
            .map(|l| policy_for(plan, l))
            .unwrap_or_default(),
        next_step: 0,
        repeats_done: 0,
        closed: false,
        closed_reason: None,
    };
    let before = Callout {
        incident_id: parent_incident,
        drill: child.drill,
        calls: vec![],
    };
    callout_writes(
        ws,
        &before,
        0,
        None,
        &Target2 {
            jurisdiction_id: parent.id,
            path: &parent.path,
            title: parent_title,
            lang,
            level: level.as_deref(),
        },
        actor,
        now,
        &[callout::Event::CallPlaced {
            call,
            drill: child.drill,
        }],
    );
    Ok(())
}

/// Holders of a post in a jurisdiction at a moment, through its duty roster.
pub async fn resolve_post(
    state: &App,
    jurisdiction_id: Uuid,
    post: &str,
    at: Timestamp,
) -> Result<Resolved, AppError> {
    let mut h = PostHolders::default();
    for (person_id, name, deputy) in state.store.holders(jurisdiction_id, post).await? {
        let p = PersonRef { person_id, name };
        if deputy {
            h.deputies.push(p);
        } else {
            h.principals.push(p);
        }
    }
    let r = roster_of(state, jurisdiction_id, post).await?;
    Ok(roster::resolve(&h, r.as_ref(), at, &holidays(state)))
}

pub async fn roster_of(
    state: &App,
    jurisdiction_id: Uuid,
    post: &str,
) -> Result<Option<Roster>, AppError> {
    match state.store.roster(jurisdiction_id, post).await? {
        Some(b) => Ok(Some(serde_json::from_str(&b).map_err(AppError::internal)?)),
        None => Ok(None),
    }
}

/// The days duty rosters rotate their holiday rotation on ([`App::holidays`]).
pub fn holidays(state: &App) -> crate::RosterHolidays {
    state.holidays()
}

async fn resolve_target(
    state: &App,
    plan: Option<&Plan>,
    call: &Call,
    target: &Target,
    now: Timestamp,
) -> Result<Vec<PersonRef>, AppError> {
    let j = call.jurisdiction_id;
    let post = call.post.clone().unwrap_or_default();
    Ok(match target {
        Target::Deputy => state
            .store
            .holders(j, &post)
            .await?
            .into_iter()
            .filter(|(_, _, d)| *d)
            .map(|(person_id, name, _)| PersonRef { person_id, name })
            .collect(),
        Target::Above => {
            let above: Vec<String> = match plan {
                Some(p) => match p.post(&post).and_then(|x| x.above.as_ref()) {
                    Some(a) => vec![a.value.clone()],
                    None => call
                        .level
                        .as_deref()
                        .and_then(|l| p.level_index(l))
                        .map(|i| {
                            yingji_plan::response::effective(p, i)
                                .commander
                                .iter()
                                .map(|c| c.value.clone())
                                .collect()
                        })
                        .unwrap_or_default(),
                },
                None => vec![],
            };
            let mut out = Vec::new();
            for a in above {
                out.extend(resolve_post(state, j, &a, now).await?.people);
            }
            out
        }
        Target::Post { post } => resolve_post(state, j, post, now).await?.people,
        // The post in the parent; nobody holds it there: the parent's office (the office
        // post its plans name, else its duty officers).
        Target::ParentOffice { post } => {
            match state.store.jurisdiction(j).await?.and_then(|x| x.parent_id) {
                Some(parent) => {
                    let people = resolve_post(state, parent, post, now).await?.people;
                    if people.is_empty() {
                        crate::notices::office(state, parent).await?
                    } else {
                        people
                    }
                }
                None => vec![],
            }
        }
    })
}

/// Escalates and repeats what is due in one incident's callout (the ticker, as the
/// system). Answers whether anything changed.
pub struct TickCallout(pub IncidentId);

impl Command for TickCallout {
    type Output = bool;

    fn kind(&self) -> &'static str {
        "callout.tick"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<bool>, AppError> {
        let incident_id = self.0.0;
        let rec = app
            .store
            .get_incident(incident_id)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?;
        let auth = app.authorize(
            actor,
            Permission::HandleIncident,
            &rec.jurisdiction_path,
            "incident",
        )?;
        let inc: Incident = crate::replay::incident(app, incident_id)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?
            .state;
        let plan = app.plan(&inc.plan_id, inc.plan_version).await.ok();
        let (before, version, head) = load_callout(app, incident_id).await?;
        let now = app.clock.now();
        // Resolve every target a due step needs first (the domain's tick is pure and sync).
        let mut found: Vec<(Uuid, Target, Vec<PersonRef>)> = Vec::new();
        for c in &before.calls {
            if c.closed || c.answered() {
                continue;
            }
            for s in c.policy.steps.iter().skip(c.next_step) {
                let due = c
                    .placed_at
                    .checked_add(jiff::SignedDuration::from_mins(s.after_minutes));
                if !due.is_ok_and(|d| d <= now) {
                    break;
                }
                let people = resolve_target(app, plan.as_deref(), c, &s.to, now).await?;
                found.push((c.id, s.to.clone(), people));
            }
        }
        let lookup = |c: &Call, t: &Target| {
            found
                .iter()
                .find(|(id, tt, _)| *id == c.id && tt == t)
                .map(|x| x.2.clone())
                .unwrap_or_default()
        };
        let events = callout::tick(&before, now, &lookup);
        let mut ws = WriteSet::default();
        if events.is_empty() {
            // Nothing due after all: make sure the row does not keep asking.
            ws.rows.push(Row::Call(CallWrite::NextDue {
                incident_id,
                next_due_ms: before.next_due().map(|t| t.as_millisecond()),
            }));
            return Ok(Decided::new(auth, ws, false));
        }
        callout_writes(
            &mut ws,
            &before,
            version,
            head.as_deref(),
            &Target2 {
                jurisdiction_id: inc.jurisdiction_id,
                path: &rec.jurisdiction_path,
                title: &inc.title,
                lang: crate::notices::language(app),
                level: inc.level.as_ref().map(|l| l.id.as_str()),
            },
            &actor.as_ref(),
            now,
            &events,
        );
        Ok(Decided::new(auth, ws, true))
    }

    fn respond(&self, out: &bool) -> JsonText {
        JsonText(json!({ "changed": out }).to_string())
    }
}

/// One person's acknowledgement of a call addressed to them (from the API, the in-app inbox,
/// a signed link or an SMS reply). A second acknowledgement changes nothing.
pub struct AcknowledgeCall {
    pub call_id: CallId,
    /// How it came: `api`, `in_app`, `link`, `sms`…
    pub channel: String,
}

/// The callout after an acknowledgement, and whether it was new.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub callout: Callout,
    pub new: bool,
}

impl Command for AcknowledgeCall {
    type Output = Acknowledged;

    fn kind(&self) -> &'static str {
        "call.acknowledge"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Acknowledged>, AppError> {
        let incident_id = app
            .store
            .call_incident(self.call_id.0)
            .await?
            .ok_or_else(|| AppError::not_found("call"))?;
        let rec = app
            .store
            .get_incident(incident_id)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?;
        // A person acknowledges what is addressed to them; the domain refuses anyone else.
        let auth = app.authorize_own(actor, &rec.jurisdiction_path);
        let inc: Incident = crate::replay::incident(app, incident_id)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?
            .state;
        let (before, version, head) = load_callout(app, incident_id).await?;
        let now = app.clock.now();
        let person = PersonRef {
            person_id: actor.person_id,
            name: actor.name.clone(),
        };
        let e = match callout::acknowledge(&before, self.call_id.0, &person, &self.channel, now) {
            Ok(e) => e,
            Err(callout::CalloutError::AlreadyAcknowledged) => {
                return Ok(Decided::nothing(
                    auth,
                    Acknowledged {
                        callout: before,
                        new: false,
                    },
                ));
            }
            // Not addressed to them: as if there were no such call.
            Err(callout::CalloutError::NotARecipient) => {
                return Err(AppError::not_found("call"));
            }
            Err(e) => return Err(e.into()),
        };
        let mut ws = WriteSet::default();
        let after = callout_writes(
            &mut ws,
            &before,
            version,
            head.as_deref(),
            &Target2 {
                jurisdiction_id: inc.jurisdiction_id,
                path: &rec.jurisdiction_path,
                title: &inc.title,
                lang: crate::notices::language(app),
                level: inc.level.as_ref().map(|l| l.id.as_str()),
            },
            &actor.as_ref(),
            now,
            &[e],
        );
        Ok(Decided::new(
            auth,
            ws,
            Acknowledged {
                callout: after,
                new: true,
            },
        ))
    }

    fn respond(&self, out: &Acknowledged) -> JsonText {
        let a = crate::notify::AckAnswer::of(out, self.call_id.0);
        JsonText(serde_json::to_string(&a).expect("answers serialise"))
    }
}
