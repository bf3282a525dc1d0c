//! Incident and task routes: thin adapters from HTTP to the application's incident commands
//! (`yingji_app::incidents`) and reads.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use yingji_app::ErrorCode;
use yingji_app::incidents::{
    ActionRequest, IncidentAction, NewIncidentRequest, OnIncident, OnTask, ReportIncident,
    incident_json, load,
};
use yingji_domain::incident::propose;
use yingji_store::{IncidentFilter, TaskFilter, fmt_ts};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::trust::Permission;
use crate::{AppState, run_api};

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents",
    request_body = NewIncidentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry return the first response instead of creating a duplicate")),
    responses((status = 201, description = "the incident as recorded", body = Object),
              (status = 422, description = "missing or invalid intake field, unknown plan", body = Object),
              (status = 400, description = "malformed JSON", body = Object)))]
pub async fn create_incident(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewIncidentRequest>,
) -> Result<Response, ApiError> {
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        ReportIncident(body.value),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    level: Option<String>,
    jurisdiction_id: Option<Uuid>,
    drill: Option<bool>,
    from: Option<String>,
    to: Option<String>,
    before: Option<Uuid>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    params(("status" = Option<String>, Query, description = "reported, verified, unfounded, active, ended, reviewed, closed"),
           ("level" = Option<String>, Query), ("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below"),
           ("drill" = Option<bool>, Query), ("from" = Option<String>, Query, description = "reported at or after (RFC 3339)"),
           ("to" = Option<String>, Query, description = "reported before (RFC 3339)"),
           ("before" = Option<Uuid>, Query, description = "the `next` cursor of the previous page"),
           ("limit" = Option<i64>, Query, description = "1–200, default 50")),
    responses((status = 200, description = "{items, next}", body = Object)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    state.require(
        &actor,
        Permission::ViewIncidents,
        &actor.scope_path,
        "incident",
    )?;
    let scope_path = match q.jurisdiction_id {
        None => actor.scope_path.clone(),
        Some(j) => {
            state
                .scoped_jurisdiction(&actor, j, "jurisdiction")
                .await?
                .path
        }
    };
    if let Some(s) = &q.status
        && yingji_domain::incident::Status::parse(s).is_none()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`{s}` is not a status"),
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "`limit` must be from 1 to 200",
        ));
    }
    let ts = |v: &Option<String>, f: &str| -> Result<Option<String>, ApiError> {
        v.as_deref()
            .map(|s| {
                s.parse::<Timestamp>().map(fmt_ts).map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidQuery,
                        format!("`{f}` must be an RFC 3339 time"),
                    )
                })
            })
            .transpose()
    };
    let filter = IncidentFilter {
        scope_path,
        status: q.status,
        level: q.level,
        drill: q.drill,
        from: ts(&q.from, "from")?,
        to: ts(&q.to, "to")?,
        before: q.before,
        limit: limit + 1,
    };
    let mut rows = state.store.list_incidents(&filter).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "jurisdiction_id": r.jurisdiction_id, "plan_id": r.plan_id,
                "plan_version": r.plan_version, "kind": r.kind, "status": r.status, "level": r.level,
                "drill": r.drill, "headcount": r.headcount, "title": r.title,
                "reported_at": r.reported_at, "updated_at": r.updated_at,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items, "next": next })))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = Object)))]
pub async fn get_incident(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let (inc, _) = load(&state, &actor, id, Permission::ViewIncidents).await?;
    Ok(crate::json_response(StatusCode::OK, incident_json(&inc)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "every event of the incident, oldest first, with its hash", body = Object)))]
pub async fn get_timeline(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    load(&state, &actor, id, Permission::ViewIncidents).await?;
    // The incident's own events and its callout's (calls, acknowledgements, escalations), in
    // time order.
    let mut events = state.store.stream_events(id).await?;
    events.extend(
        state
            .store
            .stream_events(yingji_domain::callout::stream_id(id))
            .await?,
    );
    events.sort_by(|a, b| a.envelope.at.cmp(&b.envelope.at));
    let items: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let v = e.envelope;
            json!({
                "id": v.id, "stream_id": v.stream_id, "stream_kind": v.stream_kind,
                "jurisdiction_id": v.jurisdiction_id,
                "seq": v.stream_seq, "at": v.at, "kind": v.kind, "reason": v.reason,
                "actor": { "person_id": v.actor_id, "name": v.actor_name },
                "payload": serde_json::from_str::<Value>(&v.payload).unwrap_or(Value::Null),
                "hash": e.hash, "prev_hash": v.prev_hash,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/proposal", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the level the plan proposes now, with the rule that matched", body = Object)))]
pub async fn get_proposal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let (inc, _) = load(&state, &actor, id, Permission::ViewIncidents).await?;
    let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
    let p = propose(&plan, inc.headcount, inc.venue.as_deref(), &inc.behaviours);
    Ok(axum::Json(
        serde_json::to_value(p).map_err(ApiError::internal)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/{action}", tag = "incidents",
    params(("id" = Uuid, Path),
           ("action" = String, Path, description = "verify, unfounded, assess, warning, lift-warning, activate, updates, escalate, coercive-steps, end, obligations, review, close"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the command", body = Object),
              (status = 409, description = "illegal transition", body = Object),
              (status = 422, description = "invalid for this plan or state", body = Object)))]
pub async fn incident_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    // The re-grade decisions have routes of their own.
    if action.starts_with("regrade") {
        return Err(ApiError::not_found("action"));
    }
    let action = IncidentAction::parse(&action, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnIncident { id, action },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/regrade/{decision}", tag = "incidents",
    params(("id" = Uuid, Path), ("decision" = String, Path, description = "accept or decline"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, body = Object), (status = 409, body = Object)))]
pub async fn regrade(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, decision)): Path<(Uuid, String)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let name = match decision.as_str() {
        "accept" => "regrade-accept",
        "decline" => "regrade-decline",
        _ => return Err(ApiError::not_found("decision")),
    };
    let action = IncidentAction::parse(name, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnIncident { id, action },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/obligations/{oid}/fulfil", tag = "incidents",
    params(("id" = Uuid, Path), ("oid" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, body = Object), (status = 404, body = Object)))]
pub async fn fulfil_obligation(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, oid)): Path<(Uuid, Uuid)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let action = IncidentAction::fulfil(oid, &body.value);
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnIncident { id, action },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    /// `me` or a person id.
    assignee: Option<String>,
    state: Option<String>,
    overdue: Option<bool>,
    drill: Option<bool>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks",
    params(("assignee" = Option<String>, Query, description = "`me` or a person id"), ("state" = Option<String>, Query),
           ("overdue" = Option<bool>, Query), ("drill" = Option<bool>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "{items}", body = Object)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<TaskQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    state.require(&actor, Permission::ViewIncidents, &actor.scope_path, "task")?;
    let assignee = match q.assignee.as_deref() {
        None => None,
        Some("me") => Some(actor.person_id),
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                "`assignee` must be `me` or a person id",
            )
        })?),
    };
    if let Some(s) = &q.state
        && !["open", "acknowledged", "started", "done", "cancelled"].contains(&s.as_str())
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`{s}` is not a task state"),
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "`limit` must be from 1 to 500",
        ));
    }
    let rows = state
        .store
        .list_tasks(&TaskFilter {
            scope_path: actor.scope_path.clone(),
            assignee,
            state: q.state,
            overdue: q.overdue,
            drill: q.drill,
            limit,
        })
        .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(t, title)| {
            json!({
                "id": t.id, "incident_id": t.incident_id, "incident_title": title, "group": t.group,
                "title": t.title, "state": t.state, "due_at": t.due_at, "overdue": t.overdue,
                "drill": t.drill, "assignees": t.assignees,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/{action}", tag = "tasks",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "acknowledge, start, done or cancel"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the change", body = Object), (status = 409, body = Object)))]
pub async fn task_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((task_id, action)): Path<(Uuid, String)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let cmd = OnTask {
        task_id,
        action: OnTask::parse_action(&action)?,
        reason: body.value.reason.clone(),
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}
