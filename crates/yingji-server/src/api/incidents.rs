//! Incident and task routes: thin adapters from HTTP to the application's incident commands
//! (`yingji_app::incidents`) and reads.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::incidents::{
    ActionRequest, IncidentAction, IncidentList, IncidentListItem, IncidentTimeline,
    NewIncidentRequest, OnIncident, OnTask, ReportIncident, TaskList, TaskListItem,
    UpwardReportRequest, incident_json, load,
};
use yingji_app::{ErrorBody, ErrorCode};
use yingji_domain::incident::{Incident, Proposal};
use yingji_store::{IncidentFilter, TaskFilter, fmt_ts};

use crate::api::trust::Permission;
use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::{AppState, run_api};

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents",
    request_body = NewIncidentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry return the first response instead of creating a duplicate")),
    responses((status = 201, description = "the incident as recorded", body = Incident),
              (status = 422, description = "missing or invalid intake field, unknown plan", body = ErrorBody)))]
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
    responses((status = 200, description = "a page of incidents, newest first", body = IncidentList)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<IncidentList>, ApiError> {
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
    let items = rows.iter().map(IncidentListItem::from).collect();
    Ok(axum::Json(IncidentList { items, next }))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the incident as its events have made it", body = Incident)))]
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
    responses((status = 200, description = "every event of the incident and its callout, oldest first, with its hash", body = IncidentTimeline)))]
pub async fn get_timeline(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<IncidentTimeline>, ApiError> {
    Ok(axum::Json(
        yingji_app::incidents::timeline(&state, &actor, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/proposal", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the level the plan proposes now, with the rule that matched", body = Proposal)))]
pub async fn get_proposal(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Proposal>, ApiError> {
    Ok(axum::Json(
        yingji_app::incidents::proposal(&state, &actor, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/{action}", tag = "incidents",
    params(("id" = Uuid, Path),
           ("action" = String, Path, description = "verify, unfounded, assess, warning, lift-warning, activate, updates, escalate, coercive-steps (a request naming the approver), consultations, end, obligations, review, close"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the command", body = Incident),
              (status = 409, description = "illegal_transition, already_escalated, open_tasks (close), open_obligations…", body = ErrorBody),
              (status = 422, description = "invalid for this plan or state: missing_field, unknown_level, not_in_plan…", body = ErrorBody)))]
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
        OnIncident {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/coercive-steps/{request}/{decision}", tag = "incidents",
    params(("id" = Uuid, Path), ("request" = Uuid, Path, description = "the coercive-step request's id"),
           ("decision" = String, Path, description = "approve or refuse (a refusal needs a `reason`)"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the decision", body = Incident),
              (status = 403, description = "not_the_approver: only the person the request names may decide it (never the requester)", body = ErrorBody),
              (status = 404, description = "unknown_coercive_request", body = ErrorBody),
              (status = 409, description = "coercive_already_decided, illegal_transition", body = ErrorBody)))]
pub async fn decide_coercive_step(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, request, decision)): Path<(Uuid, Uuid, String)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let action = IncidentAction::decide_coercive(request, &decision, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnIncident {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/regrade/{decision}", tag = "incidents",
    params(("id" = Uuid, Path), ("decision" = String, Path, description = "accept or decline"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the decision", body = Incident),
              (status = 409, description = "no_regrade_pending", body = ErrorBody)))]
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
        OnIncident {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/obligations/{oid}/fulfil", tag = "incidents",
    params(("id" = Uuid, Path), ("oid" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the commitment or reply is fulfilled", body = Incident),
              (status = 404, description = "not_found, unknown_obligation", body = ErrorBody),
              (status = 409, description = "already_fulfilled", body = ErrorBody)))]
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
        OnIncident {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/upward-reports/{rid}/submit", tag = "incidents",
    params(("id" = Uuid, Path), ("rid" = Uuid, Path, description = "the report owed upward (`upward_reports[].id`)"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = UpwardReportRequest,
    responses((status = 200, description = "the incident after the report is submitted (and delivered to its recipient)", body = Incident),
              (status = 403, description = "forbidden, not_report_owner", body = ErrorBody),
              (status = 404, description = "not_found, unknown_upward_report", body = ErrorBody),
              (status = 409, description = "already_submitted, illegal_transition", body = ErrorBody),
              (status = 422, description = "missing_field (a field of the report), invalid_field", body = ErrorBody)))]
pub async fn submit_upward_report(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, rid)): Path<(Uuid, Uuid)>,
    body: JsonBody<UpwardReportRequest>,
) -> Result<Response, ApiError> {
    let action = IncidentAction::submit_report(rid, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnIncident {
            id: id.into(),
            action,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/corrective-actions/{cid}/{action}", tag = "incidents",
    params(("id" = Uuid, Path), ("cid" = Uuid, Path),
           ("action" = String, Path, description = "done, or link (with `plan_id` and `version`: the plan revision that answers it)"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the change", body = Incident),
              (status = 404, description = "not_found, unknown_corrective_action, the plan version", body = ErrorBody),
              (status = 409, description = "already_fulfilled", body = ErrorBody)))]
pub async fn corrective_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, cid, action)): Path<(Uuid, Uuid, String)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let action = IncidentAction::corrective(cid, &action, &body.value)?;
    run_api(
        &state,
        &actor,
        &headers,
        &body.sha256,
        OnIncident {
            id: id.into(),
            action,
        },
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
    after: Option<Uuid>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks",
    params(("assignee" = Option<String>, Query, description = "`me` or a person id"), ("state" = Option<String>, Query),
           ("overdue" = Option<bool>, Query), ("drill" = Option<bool>, Query),
           ("after" = Option<Uuid>, Query, description = "the `next` cursor of the previous page"),
           ("limit" = Option<i64>, Query, description = "1–500, default 100")),
    responses((status = 200, description = "tasks in the actor's scope", body = TaskList)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<TaskQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<TaskList>, ApiError> {
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
        && ![
            "open",
            "acknowledged",
            "started",
            "done",
            "cancelled",
            "closed",
        ]
        .contains(&s.as_str())
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
    let after = match q.after {
        None => None,
        Some(id) => Some((
            state.store.task_due_at(id).await?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    "`after` must be the `next` cursor of an earlier page",
                )
            })?,
            id,
        )),
    };
    let mut rows = state
        .store
        .list_tasks(&TaskFilter {
            scope_path: actor.scope_path.clone(),
            assignee,
            state: q.state,
            overdue: q.overdue,
            drill: q.drill,
            after,
            limit: limit + 1,
        })
        .await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(t, _)| t.id)
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|(t, title)| TaskListItem::of(t, title))
        .collect();
    Ok(axum::Json(TaskList { items, next }))
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/{action}", tag = "tasks",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "acknowledge, start, done or cancel"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, description = "the incident after the change", body = Incident),
              (status = 404, description = "not_found, unknown_task", body = ErrorBody),
              (status = 409, description = "illegal_task_transition", body = ErrorBody)))]
pub async fn task_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((task_id, action)): Path<(Uuid, String)>,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let cmd = OnTask {
        task_id: task_id.into(),
        action: OnTask::parse_action(&action)?,
        reason: body.value.reason.clone(),
    };
    run_api(&state, &actor, &headers, &body.sha256, cmd).await
}
