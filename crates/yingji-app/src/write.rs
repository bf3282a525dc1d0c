//! Turning decided events into a durable write: hash-chained event rows, the stream head, the
//! projection rows and outbox rows, and the idempotency record — one transaction.

use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::audit::{EventEnvelope, GENESIS, StoredEvent};
use yingji_domain::incident::{Event, Incident, next_due};
use yingji_store::{IncidentRow, Row, StreamHead, TaskRow, WriteSet, fmt_ts};

/// One event to append: its type, payload and the reason given, if any.
pub struct Item {
    pub kind: String,
    pub payload: String,
    pub reason: Option<String>,
}

impl Item {
    pub fn new<T: Serialize>(kind: &str, payload: &T, reason: Option<String>) -> Item {
        Item {
            kind: kind.to_string(),
            payload: serde_json::to_string(payload).expect("events serialise"),
            reason,
        }
    }
}

/// Appends events to a stream: chains them from the stream's current head and advances it.
#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
pub fn append(
    ws: &mut WriteSet,
    stream_id: Uuid,
    stream_kind: &str,
    jurisdiction_id: Uuid,
    version: i64,
    head_hash: Option<&str>,
    actor: &ActorRef,
    at: Timestamp,
    items: Vec<Item>,
) -> Vec<Uuid> {
    let mut prev = head_hash.unwrap_or(GENESIS).to_string();
    let mut seq = version;
    let mut ids = Vec::new();
    for it in items {
        seq += 1;
        let env = EventEnvelope {
            id: Uuid::now_v7(),
            stream_id,
            stream_seq: seq,
            stream_kind: stream_kind.to_string(),
            jurisdiction_id,
            at: fmt_ts(at),
            actor_id: actor.person_id,
            actor_name: actor.name.clone(),
            kind: it.kind,
            reason: it.reason,
            payload: it.payload,
            prev_hash: prev.clone(),
        };
        let hash = env.hash();
        prev = hash.clone();
        ids.push(env.id);
        ws.events.push(StoredEvent {
            envelope: env,
            hash,
        });
    }
    ws.heads.push(StreamHead {
        id: stream_id,
        kind: stream_kind.to_string(),
        expected_version: version,
        new_version: seq,
        head_hash: prev,
        jurisdiction_id: Some(jurisdiction_id),
    });
    ids
}

fn reason_of(e: &Event) -> Option<String> {
    match e {
        Event::MarkedUnfounded { reason }
        | Event::WarningLifted { reason }
        | Event::RegradeDeclined { reason }
        | Event::ResponseEnded { reason, .. } => Some(reason.clone()),
        Event::TaskClosed { reason, .. } => Some(reason.as_str().to_string()),
        Event::CoerciveStepRecorded { record } | Event::CoerciveStepRequested { record } => {
            Some(record.reason.clone())
        }
        Event::CoerciveStepRefused { reason, .. } => Some(reason.clone()),
        Event::Assessed { reason, .. } => reason.clone(),
        Event::TaskCancelled { reason, .. } => reason.clone(),
        _ => None,
    }
}

/// The projection rows of an incident. Returns the incident's JSON text, as stored.
pub fn incident_rows(ws: &mut WriteSet, inc: &Incident, path: &str, now: Timestamp) -> String {
    let body = serde_json::to_string(inc).expect("incident serialises");
    ws.rows.push(Row::Incident(IncidentRow {
        id: inc.id,
        jurisdiction_id: inc.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        plan_id: inc.plan_id.clone(),
        plan_version: inc.plan_version,
        kind: serde_json::to_value(inc.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        status: inc.status.as_str().to_string(),
        level: inc.level.as_ref().map(|l| l.id.clone()),
        drill: inc.drill,
        headcount: i64::from(inc.headcount),
        title: inc.title.clone(),
        reported_at: fmt_ts(inc.reported_at),
        updated_at: fmt_ts(now),
        next_due_ms: next_due(inc).map(|t| t.as_millisecond()),
        body: body.clone(),
    }));
    ws.rows.push(Row::Tasks {
        incident_id: inc.id,
        tasks: inc
            .tasks
            .iter()
            .map(|t| TaskRow {
                id: t.id,
                incident_id: inc.id,
                jurisdiction_path: path.to_string(),
                group: t.group.clone(),
                title: t.title.clone(),
                state: t.state.as_str().to_string(),
                due_at: fmt_ts(t.due_at),
                overdue: t.overdue,
                drill: t.drill,
                assignees: t.assignees.iter().map(|a| a.person_id).collect(),
            })
            .collect(),
    });
    body
}

/// Outbox rows for events that must reach people (delivered by the notification worker).
fn outbox_for(
    ws: &mut WriteSet,
    inc: &Incident,
    path: &str,
    event_id: Uuid,
    e: &Event,
    now: Timestamp,
) {
    use crate::notices::{IncidentFacts, Notice};
    let incident = IncidentFacts::of(inc, path);
    let notice = match e {
        // Activation, re-grading and escalation call people through the callout (calls.rs),
        // which writes their outbox rows: the parent's office gets a call to acknowledge.
        // A warning reaches everyone the plan names for its level; its lifting, the same people
        // (by the level the incident was assessed at, the warning being gone).
        Event::WarningIssued { level } => Notice::Warning {
            incident,
            level: Some(level.clone()),
            lifted: None,
        },
        Event::WarningLifted { reason } => Notice::Warning {
            incident,
            level: inc
                .level
                .clone()
                .or_else(|| inc.proposal.as_ref().and_then(|p| p.level.clone())),
            lifted: Some(reason.clone()),
        },
        Event::TaskOverdue { id, due_at } => {
            let task = inc.tasks.iter().find(|t| t.id == *id);
            Notice::TaskOverdue {
                incident,
                task_id: *id,
                task: task.map(|t| t.title.clone()).unwrap_or_default(),
                due_at: *due_at,
                assignees: task.map(|t| t.assignees.clone()).unwrap_or_default(),
            }
        }
        Event::ObligationOverdue { id, due_at } => {
            let o = inc.obligations.iter().find(|o| o.id == *id);
            Notice::ObligationOverdue {
                incident,
                obligation_id: *id,
                kind: o.map_or(yingji_domain::incident::ObligationKind::Commitment, |o| {
                    o.kind
                }),
                what: o.map(|o| o.text.clone()).unwrap_or_default(),
                owner: o.map(|o| o.owner.clone()).unwrap_or_default(),
                due_at: *due_at,
            }
        }
        Event::UpwardReportSubmitted { id, .. } => {
            let Some(r) = inc.upward_reports.iter().find(|r| r.id == *id) else {
                return;
            };
            Notice::UpwardReportSubmitted {
                incident,
                report_id: *id,
                kind: r.kind,
                seq: r.seq,
                to: r.to.clone(),
                level: inc
                    .level
                    .as_ref()
                    .map(|l| format!("{} {}", l.id, l.name))
                    .unwrap_or_default(),
                deliver_to: r.deliver_to.clone(),
                commanders: r.commanders.clone(),
                fields: r
                    .fields
                    .iter()
                    .map(|f| (f.clone(), r.values.get(f).cloned().unwrap_or_default()))
                    .collect(),
                text: r.text.clone(),
                by: r
                    .submitted_by
                    .as_ref()
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            }
        }
        Event::UpwardReportLate { id, due_at } => {
            let Some(r) = inc.upward_reports.iter().find(|r| r.id == *id) else {
                return;
            };
            Notice::UpwardReportLate {
                incident,
                report_id: *id,
                kind: r.kind,
                seq: r.seq,
                to: r.to.clone(),
                due_at: *due_at,
                posts: r.posts.clone(),
                commanders: r.commanders.clone(),
            }
        }
        _ => return,
    };
    ws.rows.push(notice.row(event_id, now));
}

/// Appends incident events, the projection and outbox rows to a write set. Returns the
/// incident's JSON text, as stored (the response body, serialised once).
#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
pub fn incident_events(
    ws: &mut WriteSet,
    inc_after: &Incident,
    path: &str,
    version: i64,
    head_hash: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[Event],
) -> crate::JsonText {
    let items = events
        .iter()
        .map(|e| Item::new(e.kind(), e, reason_of(e)))
        .collect();
    let ids = append(
        ws,
        inc_after.id,
        "incident",
        inc_after.jurisdiction_id,
        version,
        head_hash,
        actor,
        now,
        items,
    );
    for (id, e) in ids.iter().zip(events) {
        outbox_for(ws, inc_after, path, *id, e, now);
    }
    crate::JsonText(incident_rows(ws, inc_after, path, now))
}
