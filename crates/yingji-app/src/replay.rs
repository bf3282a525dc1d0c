//! State from the events (issue 18 item 5): commands on incidents, calls, disputes and cases
//! decide on an aggregate rebuilt from its stream's events, never on its projection row, so that
//! a row edited in the database cannot steer the next decision (nor be written into the next
//! event as its "before"); and `audit verify --projections` rebuilds every projection that has a
//! fold and reports each difference from the stored row.
//!
//! Folded here: incidents (body and list columns), calls (callouts), disputes and petition cases
//! (body; the petitioners' sealed values live in their own rows and are compared by count).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::audit::{GENESIS, StoredEvent};
use yingji_domain::callout::{self, Callout};
use yingji_domain::case::{self, Case};
use yingji_domain::dispute::{self, Dispute};
use yingji_domain::incident::{self, Incident};

use crate::{App, AppError};

/// An aggregate rebuilt from its events, with the stream version and head it was rebuilt at
/// (what a write built on it expects).
#[derive(Debug, Clone)]
pub struct Rebuilt<T> {
    pub state: T,
    pub version: i64,
    pub head_hash: Option<String>,
}

fn envelope_of(e: &StoredEvent) -> Result<(Timestamp, ActorRef), AppError> {
    let at: Timestamp = e.envelope.at.parse().map_err(|err| {
        AppError::internal(format!(
            "event {} has an unreadable time `{}`: {err}",
            e.envelope.id, e.envelope.at
        ))
    })?;
    Ok((
        at,
        ActorRef {
            person_id: e.envelope.actor_id,
            name: e.envelope.actor_name.clone(),
        },
    ))
}

fn payload<T: serde::de::DeserializeOwned>(e: &StoredEvent) -> Result<T, AppError> {
    serde_json::from_str(&e.envelope.payload).map_err(|err| {
        AppError::internal(format!(
            "event {} (#{} `{}`) cannot be read: {err}",
            e.envelope.id, e.envelope.stream_seq, e.envelope.kind
        ))
    })
}

fn head_of(events: &[StoredEvent]) -> (i64, Option<String>) {
    (
        events.len() as i64,
        events
            .last()
            .map(|e| e.hash.clone())
            .filter(|h| h != GENESIS),
    )
}

/// Folds an incident's events. The values of intake fields its plan marks personal are sealed in
/// its `reported` event and masked in the incident itself (`incidents::PERSONAL_MASK`): so
/// here too.
pub fn incident_from(events: &[StoredEvent]) -> Result<Option<Incident>, AppError> {
    let mut s: Option<Incident> = None;
    for e in events {
        let (at, actor) = envelope_of(e)?;
        s = incident::apply(s, &payload(e)?, at, &actor);
    }
    if let Some(inc) = &mut s {
        for v in inc.fields.values_mut() {
            if v.as_str().is_some_and(crate::subjects::is_sealed) {
                *v = Value::String(crate::incidents::PERSONAL_MASK.into());
            }
        }
    }
    Ok(s)
}

/// Folds a dispute's events.
pub fn dispute_from(id: Uuid, events: &[StoredEvent]) -> Result<Option<Dispute>, AppError> {
    let mut s = None;
    for e in events {
        let (at, actor) = envelope_of(e)?;
        s = dispute::apply(s, id, &payload(e)?, at, &actor);
    }
    Ok(s)
}

/// Folds a case's events (its petitioners as the events hold them: masked).
pub fn case_from(id: Uuid, events: &[StoredEvent]) -> Result<Option<Case>, AppError> {
    let mut s = None;
    for e in events {
        let (at, actor) = envelope_of(e)?;
        s = case::apply_all(s, id, &[payload(e)?], at, &actor);
    }
    Ok(s)
}

/// Folds the callout of an incident (an empty one when it has no events yet).
pub fn callout_from(incident_id: Uuid, events: &[StoredEvent]) -> Result<Callout, AppError> {
    let mut s = Callout {
        incident_id,
        ..Callout::default()
    };
    for e in events {
        s = callout::apply(s, &payload(e)?);
    }
    Ok(s)
}

/// An incident rebuilt from its events (None: no such stream).
pub async fn incident(app: &App, id: Uuid) -> Result<Option<Rebuilt<Incident>>, AppError> {
    let events = app.store.stream_events(id).await?;
    let (version, head_hash) = head_of(&events);
    Ok(incident_from(&events)?.map(|state| Rebuilt {
        state,
        version,
        head_hash,
    }))
}

/// A dispute rebuilt from its events.
pub async fn dispute(app: &App, id: Uuid) -> Result<Option<Rebuilt<Dispute>>, AppError> {
    let events = app.store.stream_events(id).await?;
    let (version, head_hash) = head_of(&events);
    Ok(dispute_from(id, &events)?.map(|state| Rebuilt {
        state,
        version,
        head_hash,
    }))
}

/// An incident's callout rebuilt from its events.
pub async fn callout(app: &App, incident_id: Uuid) -> Result<Rebuilt<Callout>, AppError> {
    let events = app
        .store
        .stream_events(callout::stream_id(incident_id))
        .await?;
    let (version, head_hash) = head_of(&events);
    Ok(Rebuilt {
        state: callout_from(incident_id, &events)?,
        version,
        head_hash,
    })
}

// ---------------------------------------------------------------------------------------------
// audit verify --projections

/// One difference between a projection row and the same rebuilt from the events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectionDiff {
    /// `incident`, `callout`, `dispute` or `case`.
    pub projection: String,
    pub id: Uuid,
    /// Where they differ: a JSON pointer into the body, or a column name.
    pub field: String,
    /// The stored value and the value rebuilt from the events (JSON text; absent: none).
    pub stored: Option<String>,
    pub rebuilt: Option<String>,
}

/// What `audit verify --projections` found.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ProjectionReport {
    /// Rows rebuilt and compared.
    pub checked: usize,
    pub differences: Vec<ProjectionDiff>,
}

/// What a sealed value is compared as.
const SEALED: &str = "(sealed)";

/// At most this many differences are listed per row.
const PER_ROW: usize = 10;

/// Leaf paths where two JSON values differ.
fn diff(
    path: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<(String, Option<String>, Option<String>)>,
) {
    if out.len() >= PER_ROW || a == b {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff(&format!("{path}/{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                diff(&format!("{path}/{i}"), x.get(i), y.get(i), out);
            }
        }
        // Times written before the clock kept microseconds only: the same to the microsecond
        // (the precision of the event log) is the same.
        (Some(Value::String(x)), Some(Value::String(y))) if same_time(x, y) => {}
        _ => out.push((
            if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
            a.map(Value::to_string),
            b.map(Value::to_string),
        )),
    }
}

fn same_time(a: &str, b: &str) -> bool {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(x), Ok(y)) => x.as_microsecond() == y.as_microsecond(),
        _ => false,
    }
}

fn compare(
    report: &mut ProjectionReport,
    projection: &str,
    id: Uuid,
    stored: Option<Value>,
    rebuilt: Option<Value>,
) {
    report.checked += 1;
    // Sealed values are sealed for their place (a row's and an event's differ by design): they
    // are compared as being sealed, not by their ciphertext.
    let masked = |v: Option<Value>| v.map(|v| crate::subjects::masked_json(v, SEALED));
    let (stored, rebuilt) = (masked(stored), masked(rebuilt));
    let mut found = Vec::new();
    diff("", stored.as_ref(), rebuilt.as_ref(), &mut found);
    report.differences.extend(
        found
            .into_iter()
            .map(|(field, stored, rebuilt)| ProjectionDiff {
                projection: projection.into(),
                id,
                field,
                stored,
                rebuilt,
            }),
    );
}

fn column(
    report: &mut ProjectionReport,
    projection: &str,
    id: Uuid,
    field: &str,
    stored: String,
    rebuilt: String,
) {
    if stored != rebuilt {
        report.differences.push(ProjectionDiff {
            projection: projection.into(),
            id,
            field: field.into(),
            stored: Some(stored),
            rebuilt: Some(rebuilt),
        });
    }
}

fn parsed(body: &str) -> Option<Value> {
    serde_json::from_str(body).ok()
}

/// Rebuilds every incident, callout, dispute and case of the subtree at `scope_path` from its
/// events and compares it with its stored projection row.
pub async fn check_projections(app: &App, scope_path: &str) -> Result<ProjectionReport, AppError> {
    let mut report = ProjectionReport::default();
    for kind in ["incident", "dispute", "case"] {
        let mut after = None;
        loop {
            let ids = app
                .store
                .streams_of_kind(kind, scope_path, after, 500)
                .await?;
            let Some(last) = ids.last() else { break };
            after = Some(*last);
            for id in ids {
                let events = app.store.stream_events(id).await?;
                match kind {
                    "incident" => {
                        let rebuilt = incident_from(&events)?;
                        let rec = app.store.get_incident(id).await?;
                        compare(
                            &mut report,
                            kind,
                            id,
                            rec.as_ref().and_then(|r| parsed(&r.body)),
                            rebuilt.as_ref().and_then(|i| serde_json::to_value(i).ok()),
                        );
                        if let (Some(inc), Some(cols)) =
                            (rebuilt, app.store.incident_columns(id).await?)
                        {
                            column(
                                &mut report,
                                kind,
                                id,
                                "status",
                                cols.status,
                                inc.status.as_str().into(),
                            );
                            column(
                                &mut report,
                                kind,
                                id,
                                "level",
                                cols.level.unwrap_or_default(),
                                inc.level.map(|l| l.id).unwrap_or_default(),
                            );
                            column(
                                &mut report,
                                kind,
                                id,
                                "headcount",
                                cols.headcount.to_string(),
                                inc.headcount.to_string(),
                            );
                            column(&mut report, kind, id, "title", cols.title, inc.title);
                            column(
                                &mut report,
                                kind,
                                id,
                                "drill",
                                cols.drill.to_string(),
                                inc.drill.to_string(),
                            );
                        }
                        // The incident's calls.
                        let cid = callout::stream_id(id);
                        let cevents = app.store.stream_events(cid).await?;
                        let stored = app.store.callout(id).await?;
                        if !cevents.is_empty() || stored.is_some() {
                            compare(
                                &mut report,
                                "callout",
                                id,
                                stored.and_then(|(b, _)| parsed(&b)),
                                serde_json::to_value(callout_from(id, &cevents)?).ok(),
                            );
                        }
                    }
                    "dispute" => {
                        let rebuilt = dispute_from(id, &events)?;
                        let rec = app.store.get_dispute(id).await?;
                        compare(
                            &mut report,
                            kind,
                            id,
                            rec.and_then(|r| parsed(&r.body)),
                            rebuilt.and_then(|d| serde_json::to_value(d).ok()),
                        );
                    }
                    _ => {
                        let rebuilt = case_from(id, &events)?;
                        let rec = app.store.get_case(id).await?;
                        let count = rebuilt.as_ref().map_or(0, |c| c.petitioners.len());
                        if let Some(r) = &rec {
                            column(
                                &mut report,
                                kind,
                                id,
                                "petitioners",
                                r.petitioners.len().to_string(),
                                count.to_string(),
                            );
                        }
                        compare(
                            &mut report,
                            kind,
                            id,
                            rec.and_then(|r| parsed(&r.body)),
                            rebuilt.and_then(|mut c| {
                                // The body holds no petitioners (they have rows of their own).
                                c.petitioners.clear();
                                serde_json::to_value(c).ok()
                            }),
                        );
                    }
                }
            }
        }
    }
    Ok(report)
}
