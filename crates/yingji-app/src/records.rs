//! Reads shared by the records of the rest of the plan (drills, reserves, instructions and
//! meetings, teams, funds): a record rebuilt from its stream, and the bodies of a kind in the
//! actor's area.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::audit::StoredEvent;

use crate::{Actor, App, AppError, Permission};

/// A record rebuilt from its events, with its row's path, its stream's version and head hash,
/// and the events themselves.
pub struct Replayed<S> {
    pub state: S,
    pub path: String,
    pub version: i64,
    pub head: String,
    pub events: Vec<StoredEvent>,
}

/// Rebuilds a record of `kind` from its stream with `apply` (None: "`what` not found").
pub async fn replay<E, S>(
    app: &App,
    kind: &str,
    id: Uuid,
    what: &str,
    apply: impl Fn(Option<S>, &E, Timestamp, &ActorRef) -> Option<S>,
) -> Result<Replayed<S>, AppError>
where
    E: DeserializeOwned,
{
    let rec = app
        .store
        .get_record(kind, id)
        .await?
        .ok_or_else(|| AppError::not_found(what))?;
    let events = app.store.stream_events(id).await?;
    let mut state = None;
    for e in &events {
        let ev: E = serde_json::from_str(&e.envelope.payload).map_err(AppError::internal)?;
        let at: Timestamp = e.envelope.at.parse().map_err(AppError::internal)?;
        let by = ActorRef {
            person_id: e.envelope.actor_id,
            name: e.envelope.actor_name.clone(),
        };
        state = apply(state, &ev, at, &by);
    }
    let state = state.ok_or_else(|| AppError::not_found(what))?;
    let head = events.last().map(|e| e.hash.clone()).unwrap_or_default();
    Ok(Replayed {
        state,
        path: rec.jurisdiction_path,
        version: events.len() as i64,
        head,
        events,
    })
}

/// The bodies of the records of `kind` in the actor's area, newest first (at most `limit`).
pub async fn in_area<T: DeserializeOwned>(
    app: &App,
    actor: &Actor,
    kind: &str,
    limit: i64,
) -> Result<Vec<T>, AppError> {
    app.require(
        actor,
        Permission::ViewIncidents,
        &actor.scope_path,
        "jurisdiction",
    )?;
    app.store
        .list_records(kind, &actor.scope_path, limit)
        .await?
        .iter()
        .map(|r| serde_json::from_str(&r.body).map_err(AppError::internal))
        .collect()
}

/// The bodies of the records of `kind` about one subject, oldest first.
pub async fn of_subject<T: DeserializeOwned>(
    app: &App,
    subject_id: Uuid,
    kind: &str,
) -> Result<Vec<T>, AppError> {
    app.store
        .records_of(subject_id, kind)
        .await?
        .iter()
        .map(|r| serde_json::from_str(&r.body).map_err(AppError::internal))
        .collect()
}
