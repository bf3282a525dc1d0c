//! Incident and task handlers: report, lifecycle commands, lists, timeline, tick.

use std::collections::BTreeMap;
use yingji_app::ErrorCode;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::PersonRef;
use yingji_domain::incident::{
    Attachment, Command, CorrectiveAction, Ctx, Event, Incident, IncidentKind, NewReport,
    ObligationKind, TaskAction, Update, apply, decide, propose,
};
use yingji_store::{IncidentFilter, StoreError, TaskFilter, WriteSet, fmt_ts};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::trust::Permission;
use crate::write::{Idem, idempotency, incident_events};
use crate::{AppState, JsonText, idempotent, system_actor};

/// A report of an early sign or an actual event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentRequest {
    pub jurisdiction_id: Uuid,
    /// The plan id; its newest version is used and the incident is pinned to it.
    pub plan_id: String,
    /// `early_sign` (苗头) or `event`.
    pub kind: String,
    pub title: String,
    pub headcount: u32,
    pub venue: Option<String>,
    #[serde(default)]
    pub behaviours: Vec<String>,
    pub location: Option<String>,
    /// The plan's intake fields by id.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub drill: bool,
}

/// The body of a lifecycle command. Which keys apply depends on the action (see the API doc).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub note: Option<String>,
    pub reason: Option<String>,
    pub level: Option<String>,
    // updates
    pub headcount: Option<u32>,
    pub behaviours: Option<Vec<String>>,
    pub location: Option<String>,
    #[serde(default)]
    pub grievances: Vec<String>,
    #[serde(default)]
    pub care: Vec<String>,
    #[serde(default)]
    pub conversations: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentRequest>,
    // coercive steps
    pub step: Option<String>,
    pub approver_id: Option<Uuid>,
    // obligations
    /// `commitment` or `reply`.
    pub kind: Option<String>,
    pub text: Option<String>,
    pub owner: Option<String>,
    /// RFC 3339.
    pub due_at: Option<String>,
    // review
    pub summary: Option<String>,
    #[serde(default)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveActionRequest>,
    // fulfil
    pub channel: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectiveActionRequest {
    pub title: String,
    pub owner: String,
    pub due_at: Option<String>,
}

fn parse_ts(s: &str, field: &str) -> Result<Timestamp, ApiError> {
    s.parse::<Timestamp>().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidTime,
            format!("`{field}` must be an RFC 3339 time such as 2026-03-02T10:00:00+08:00"),
        )
        .details(json!({ "field": field }))
    })
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::MissingField, format!("`{field}` is required"))
                .details(json!({ "field": field }))
        })
}

/// An incident the actor may see (else 404) and act on with `perm` (else 403).
pub(crate) async fn load(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    perm: Permission,
) -> Result<(Incident, yingji_store::IncidentRecord), ApiError> {
    let rec = state
        .store
        .get_incident(id)
        .await?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    state.require(actor, perm, &rec.jurisdiction_path, "incident")?;
    let inc: Incident = serde_json::from_str(&rec.body).map_err(ApiError::internal)?;
    Ok((inc, rec))
}

/// Decides a command against the stored incident and commits the result, retrying when a
/// concurrent write advanced the stream first. `extra` adds writes of its own (the parent's
/// escalation record).
#[expect(
    clippy::too_many_arguments,
    reason = "one call shape for every command; a struct would only rename them"
)]
async fn execute(
    state: &AppState,
    actor_ref: &yingji_domain::ActorRef,
    rec: Option<(Incident, yingji_store::IncidentRecord)>,
    id: Uuid,
    scope: Option<&Actor>,
    make: &(dyn Fn(&Incident) -> Result<Command, ApiError> + Send + Sync),
    extra: &(dyn Fn(&Incident, &mut WriteSet) -> Result<(), ApiError> + Send + Sync),
    idem: Option<&Idem>,
) -> Result<(Incident, Vec<Event>), ApiError> {
    let mut first = rec;
    for _ in 0..8 {
        let (inc, rec) = match first.take() {
            Some(x) => x,
            None => {
                let rec = state
                    .store
                    .get_incident(id)
                    .await?
                    .filter(|r| scope.is_none_or(|a| a.sees(&r.jurisdiction_path)))
                    .ok_or_else(|| ApiError::not_found("incident"))?;
                let inc: Incident = serde_json::from_str(&rec.body).map_err(ApiError::internal)?;
                (inc, rec)
            }
        };
        let cmd = make(&inc)?;
        let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
        let holders = state.holders(inc.jurisdiction_id).await?;
        let now = state.clock.now();
        let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
        let ctx = Ctx {
            now,
            actor: actor_ref,
            plan: &plan,
            holders: &lookup,
            new_id: &Uuid::now_v7,
        };
        let events = decide(Some(&inc), &cmd, &ctx)?;
        if events.is_empty() {
            return Ok((inc, events));
        }
        let mut after = Some(inc);
        for e in &events {
            after = apply(after, e, now, actor_ref);
        }
        let after = after.expect("an incident stays an incident");
        let mut ws = WriteSet::default();
        let body = incident_events(
            &mut ws,
            &after,
            &rec.jurisdiction_path,
            rec.version,
            Some(&rec.head_hash),
            actor_ref,
            now,
            &events,
        );
        extra(&after, &mut ws)?;
        crate::calls::calls_for_incident(
            state,
            &mut ws,
            &after,
            &plan,
            &rec.jurisdiction_path,
            actor_ref,
            now,
            &events,
        )
        .await?;
        idempotency(&mut ws, idem, actor_ref, 200, &body, now);
        match state.commit(ws).await {
            Ok(()) => {
                state.notify.wake.notify_one();
                return Ok((after, events));
            }
            Err(StoreError::Conflict(yingji_store::Conflict::StreamVersion)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        "the incident is changing too fast; retry",
    ))
}

/// An incident as the API answers it: the same JSON text as its stored row (no value tree).
pub fn incident_json(inc: &Incident) -> JsonText {
    JsonText(serde_json::to_string(inc).expect("incident serialises"))
}

/// The plan an incident may run under: owned by its jurisdiction or one above it.
async fn plan_for(
    state: &AppState,
    jurisdiction_path: &str,
    plan_id: &str,
) -> Result<yingji_store::PlanRow, ApiError> {
    let row = state.store.plan_latest(plan_id).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownPlan,
            format!("plan `{plan_id}` is not loaded"),
        )
    })?;
    let owner = state
        .store
        .jurisdiction(row.jurisdiction_id)
        .await?
        .ok_or_else(|| ApiError::internal("plan owner missing"))?;
    if !jurisdiction_path.starts_with(&owner.path) {
        return Err(ApiError::new(
            ErrorCode::PlanNotApplicable,
            format!(
                "plan `{plan_id}` belongs to {}, which is not this jurisdiction or above it",
                owner.name
            ),
        ));
    }
    Ok(row)
}

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
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(
        &state,
        &actor,
        &headers,
        &body.sha256,
        move |idem| async move {
            let j = st
                .scoped_jurisdiction(&a, req.jurisdiction_id, "jurisdiction")
                .await?;
            st.require(&a, Permission::ReportIncident, &j.path, "jurisdiction")?;
            let (_, body) = report(&st, &a.as_ref(), &j, req, idem.as_ref()).await?;
            Ok((StatusCode::CREATED, body))
        },
    )
    .await
}

/// Records a new report in a jurisdiction (used by the API, the console and the demo loader).
pub async fn report_core(
    st: &AppState,
    actor_ref: &yingji_domain::ActorRef,
    j: &yingji_store::JurisdictionRow,
    req: NewIncidentRequest,
    idem: Option<&Idem>,
) -> Result<Incident, ApiError> {
    Ok(report(st, actor_ref, j, req, idem).await?.0)
}

/// Records a new report; returns the incident and its JSON text as stored.
async fn report(
    st: &AppState,
    actor_ref: &yingji_domain::ActorRef,
    j: &yingji_store::JurisdictionRow,
    req: NewIncidentRequest,
    idem: Option<&Idem>,
) -> Result<(Incident, JsonText), ApiError> {
    let kind = match req.kind.as_str() {
        "early_sign" => IncidentKind::EarlySign,
        "event" => IncidentKind::Event,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidKind,
                format!("`{other}` is not a report kind; use early_sign or event"),
            ));
        }
    };
    let plan_row = plan_for(st, &j.path, &req.plan_id).await?;
    let plan = st.plan(&plan_row.plan_id, plan_row.version).await?;
    let holders = st.holders(j.id).await?;
    let now = st.clock.now();
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let ctx = Ctx {
        now,
        actor: actor_ref,
        plan: &plan,
        holders: &lookup,
        new_id: &Uuid::now_v7,
    };
    let report = NewReport {
        id: Uuid::now_v7(),
        jurisdiction_id: j.id,
        plan_id: plan_row.plan_id.clone(),
        plan_version: plan_row.version,
        kind,
        drill: req.drill,
        title: req.title,
        headcount: req.headcount,
        venue: req.venue,
        behaviours: req.behaviours,
        location: req.location,
        fields: req.fields,
        source_incident: None,
    };
    let events = decide(None, &Command::Report(report), &ctx)?;
    let mut inc = None;
    for e in &events {
        inc = apply(inc, e, now, actor_ref);
    }
    let inc = inc.expect("a report creates an incident");
    let mut ws = WriteSet::default();
    let body = incident_events(&mut ws, &inc, &j.path, 0, None, actor_ref, now, &events);
    idempotency(&mut ws, idem, actor_ref, 201, &body, now);
    st.commit(ws).await?;
    Ok((inc, body))
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

pub(crate) fn command_for(action: &str, req: &ActionRequest) -> Result<Command, ApiError> {
    Ok(match action {
        "verify" => Command::Verify {
            note: req.note.clone(),
        },
        "unfounded" => Command::MarkUnfounded {
            reason: required(&req.reason, "reason")?.to_string(),
        },
        "assess" => Command::Assess {
            level: req.level.clone(),
            reason: req.reason.clone(),
        },
        "warning" => Command::IssueWarning {
            level: req.level.clone(),
        },
        "lift-warning" => Command::LiftWarning {
            reason: required(&req.reason, "reason")?.to_string(),
        },
        "activate" => Command::Activate {
            level: req.level.clone(),
        },
        "updates" => Command::Update(Update {
            headcount: req.headcount,
            behaviours: req.behaviours.clone(),
            location: req.location.clone(),
            grievances: req.grievances.clone(),
            care: req.care.clone(),
            conversations: req.conversations.clone(),
            attachments: req
                .attachments
                .iter()
                .map(|a| Attachment {
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                })
                .collect(),
            note: req.note.clone(),
        }),
        "end" => Command::EndResponse {
            reason: required(&req.reason, "reason")?.to_string(),
        },
        "obligations" => {
            let kind = match required(&req.kind, "kind")? {
                "commitment" => ObligationKind::Commitment,
                "reply" => ObligationKind::Reply,
                other => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidKind,
                        format!("`{other}` is not commitment or reply"),
                    ));
                }
            };
            Command::AddObligation {
                id: Uuid::now_v7(),
                kind,
                text: required(&req.text, "text")?.to_string(),
                owner: required(&req.owner, "owner")?.to_string(),
                due_at: parse_ts(required(&req.due_at, "due_at")?, "due_at")?,
            }
        }
        "review" => Command::Review {
            summary: required(&req.summary, "summary")?.to_string(),
            lessons: req.lessons.clone(),
            corrective_actions: req
                .corrective_actions
                .iter()
                .map(|c| {
                    Ok(CorrectiveAction {
                        title: c.title.clone(),
                        owner: c.owner.clone(),
                        due_at: c
                            .due_at
                            .as_deref()
                            .map(|d| parse_ts(d, "due_at"))
                            .transpose()?,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
        },
        "close" => Command::Close,
        _ => return Err(ApiError::not_found("action")),
    })
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
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(
        &state,
        &actor,
        &headers,
        &body.sha256,
        move |idem| async move {
            let perm = action_permission(&action)?;
            let loaded = load(&st, &a, id, perm).await?;
            if action == "end" {
                may_end(&st, &a, &loaded.0).await?;
            }
            let actor_ref = a.as_ref();
            let (inc, _) = match action.as_str() {
                "escalate" => escalate(&st, &a, loaded, &req, idem.as_ref()).await?,
                "coercive-steps" => {
                    let approver_id = req.approver_id.ok_or_else(|| {
                        ApiError::new(ErrorCode::MissingField, "`approver_id` is required")
                            .details(json!({"field": "approver_id"}))
                    })?;
                    let approver = st.store.person(approver_id).await?.ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::UnknownPerson,
                            "the approver is not a known person",
                        )
                    })?;
                    let step = required(&req.step, "step")?.to_string();
                    let reason = req.reason.clone().unwrap_or_default();
                    let make = move |_: &Incident| {
                        Ok(Command::RecordCoerciveStep {
                            step: step.clone(),
                            approver: PersonRef {
                                person_id: approver.id,
                                name: approver.name.clone(),
                            },
                            reason: reason.clone(),
                        })
                    };
                    execute(
                        &st,
                        &actor_ref,
                        Some(loaded),
                        id,
                        Some(&a),
                        &make,
                        &|_, _| Ok(()),
                        idem.as_ref(),
                    )
                    .await?
                }
                other => {
                    let cmd = command_for(other, &req)?;
                    let make = move |_: &Incident| Ok(cmd.clone());
                    execute(
                        &st,
                        &actor_ref,
                        Some(loaded),
                        id,
                        Some(&a),
                        &make,
                        &|_, _| Ok(()),
                        idem.as_ref(),
                    )
                    .await?
                }
            };
            Ok((StatusCode::OK, incident_json(&inc)))
        },
    )
    .await
}

/// The permission a command needs, the same as its API route's (see `action_permission`).
fn command_permission(cmd: &Command) -> Permission {
    match cmd {
        Command::Report(_) => Permission::ReportIncident,
        Command::Update(_) => Permission::UpdateIncident,
        Command::EndResponse { .. } => Permission::EndResponse,
        Command::RecordCoerciveStep { .. } => Permission::RecordCoerciveStep,
        Command::Review { .. } | Command::Close => Permission::ReviewIncident,
        Command::Task { .. } => Permission::WorkTasks,
        _ => Permission::HandleIncident,
    }
}

/// The permission an incident command needs (unknown actions are "not found").
fn action_permission(action: &str) -> Result<Permission, ApiError> {
    Ok(match action {
        "updates" => Permission::UpdateIncident,
        "end" => Permission::EndResponse,
        "coercive-steps" => Permission::RecordCoerciveStep,
        "review" | "close" => Permission::ReviewIncident,
        "verify" | "unfounded" | "assess" | "warning" | "lift-warning" | "activate"
        | "escalate" | "obligations" => Permission::HandleIncident,
        _ => return Err(ApiError::not_found("action")),
    })
}

/// Ending a response is an approval: where the plan names the commander's posts for the
/// incident's level, only a holder of one of them (principal or deputy, in the incident's
/// jurisdiction) may end it.
async fn may_end(st: &AppState, actor: &Actor, inc: &Incident) -> Result<(), ApiError> {
    let Some(level) = &inc.level else {
        return Ok(());
    };
    let plan = st.plan(&inc.plan_id, inc.plan_version).await?;
    let Some(i) = plan.level_index(&level.id) else {
        return Ok(());
    };
    let posts: Vec<String> = yingji_plan::response::effective(&plan, i)
        .commander
        .iter()
        .map(|p| p.value.clone())
        .collect();
    if posts.is_empty() {
        return Ok(());
    }
    let holds = st
        .store
        .holders_in(inc.jurisdiction_id)
        .await?
        .iter()
        .any(|(post, person, _, _)| *person == actor.person_id && posts.contains(post));
    if holds {
        return Ok(());
    }
    let names: Vec<&str> = posts.iter().map(|p| plan.name_of(p).unwrap_or(p)).collect();
    Err(ApiError::new(
        ErrorCode::WrongApprover,
        format!(
            "a level {} response is ended only by the commander post the plan names ({})",
            level.name,
            names.join(", ")
        ),
    )
    .details(json!({ "posts": posts })))
}

/// Escalation: the incident records it, and a linked record appears for the parent
/// jurisdiction's office, in the same transaction.
async fn escalate(
    st: &AppState,
    a: &Actor,
    loaded: (Incident, yingji_store::IncidentRecord),
    req: &ActionRequest,
    idem: Option<&Idem>,
) -> Result<(Incident, Vec<Event>), ApiError> {
    let child = loaded.0.clone();
    let j = st
        .store
        .jurisdiction(child.jurisdiction_id)
        .await?
        .ok_or_else(|| ApiError::internal("jurisdiction missing"))?;
    let parent_id = j.parent_id.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NoParent,
            format!("{} has no parent jurisdiction", j.name),
        )
    })?;
    let parent = st
        .store
        .jurisdiction(parent_id)
        .await?
        .ok_or_else(|| ApiError::internal("parent jurisdiction missing"))?;
    let parent_incident = Uuid::now_v7();
    let note = req.note.clone();
    let actor_ref = a.as_ref();
    let make = move |_: &Incident| {
        Ok(Command::Escalate {
            parent_incident,
            parent_jurisdiction: parent_id,
            note: note.clone(),
        })
    };
    let plan = st.plan(&child.plan_id, child.plan_version).await?;
    let now = st.clock.now();
    let parent_path = parent.path.clone();
    let actor_for_parent = actor_ref.clone();
    let extra = move |child: &Incident, ws: &mut WriteSet| {
        // The parent's record: an escalation pinned to the same plan version, so that the
        // parent's office sees the level, the facts and the link back.
        let report = NewReport {
            id: parent_incident,
            jurisdiction_id: parent_id,
            plan_id: child.plan_id.clone(),
            plan_version: child.plan_version,
            kind: IncidentKind::Escalation,
            drill: child.drill,
            title: format!("【上报】{}", child.title),
            headcount: child.headcount,
            venue: child.venue.clone(),
            behaviours: child.behaviours.clone(),
            location: child.location.clone(),
            fields: child.fields.clone(),
            source_incident: Some(child.id),
        };
        let none = |_: &str| Vec::new();
        let ctx = Ctx {
            now,
            actor: &actor_for_parent,
            plan: &plan,
            holders: &none,
            new_id: &Uuid::now_v7,
        };
        let events = decide(None, &Command::Report(report), &ctx)?;
        let mut inc = None;
        for e in &events {
            inc = apply(inc, e, now, &actor_for_parent);
        }
        let inc = inc.ok_or_else(|| ApiError::internal("the parent's record was not created"))?;
        incident_events(
            ws,
            &inc,
            &parent_path,
            0,
            None,
            &actor_for_parent,
            now,
            &events,
        );
        Ok(())
    };
    execute(
        st,
        &actor_ref,
        Some(loaded),
        child.id,
        Some(a),
        &make,
        &extra,
        idem,
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
    let cmd = match decision.as_str() {
        "accept" => Command::AcceptRegrade,
        "decline" => Command::DeclineRegrade {
            reason: required(&body.value.reason, "reason")?.to_string(),
        },
        _ => return Err(ApiError::not_found("decision")),
    };
    run_simple(
        state,
        actor,
        headers,
        id,
        cmd,
        body.sha256,
        Permission::HandleIncident,
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
    let cmd = Command::FulfilObligation {
        id: oid,
        channel: body.value.channel.clone(),
        outcome: body.value.outcome.clone(),
    };
    run_simple(
        state,
        actor,
        headers,
        id,
        cmd,
        body.sha256,
        Permission::HandleIncident,
    )
    .await
}

async fn run_simple(
    state: AppState,
    actor: Actor,
    headers: HeaderMap,
    id: Uuid,
    cmd: Command,
    hash: String,
    perm: Permission,
) -> Result<Response, ApiError> {
    let st = state.clone();
    let a = actor.clone();
    idempotent(&state, &actor, &headers, &hash, move |idem| async move {
        let loaded = load(&st, &a, id, perm).await?;
        let make = move |_: &Incident| Ok(cmd.clone());
        let (inc, _) = execute(
            &st,
            &a.as_ref(),
            Some(loaded),
            id,
            Some(&a),
            &make,
            &|_, _| Ok(()),
            idem.as_ref(),
        )
        .await?;
        Ok((StatusCode::OK, incident_json(&inc)))
    })
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
    let action = match action.as_str() {
        "acknowledge" => TaskAction::Acknowledge,
        "start" => TaskAction::Start,
        "done" => TaskAction::Done,
        "cancel" => TaskAction::Cancel,
        _ => return Err(ApiError::not_found("action")),
    };
    let incident = state
        .store
        .task_incident(task_id)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    let cmd = Command::Task {
        id: task_id,
        action,
        reason: body.value.reason.clone(),
    };
    run_simple(
        state,
        actor,
        headers,
        incident,
        cmd,
        body.sha256,
        Permission::WorkTasks,
    )
    .await
}

/// Marks what has fallen due in one incident. Returns whether anything changed.
pub async fn tick_incident(state: &AppState, id: Uuid) -> Result<bool, ApiError> {
    let make = |_: &Incident| Ok(Command::Tick);
    let (_, events) = execute(
        state,
        &system_actor(),
        None,
        id,
        None,
        &make,
        &|_, _| Ok(()),
        None,
    )
    .await?;
    Ok(!events.is_empty())
}

/// Used by the demo loader: runs commands as a given actor without HTTP.
pub async fn run_as(
    state: &AppState,
    actor: &yingji_domain::ActorRef,
    id: Uuid,
    cmd: Command,
) -> Result<Incident, ApiError> {
    let make = move |_: &Incident| Ok(cmd.clone());
    execute(state, actor, None, id, None, &make, &|_, _| Ok(()), None)
        .await
        .map(|(i, _)| i)
}

/// Runs one command on an incident the actor may see, as the API would (used by the console,
/// which calls the same code as the JSON API rather than itself over HTTP).
pub(crate) async fn run_scoped(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    cmd: Command,
) -> Result<Incident, ApiError> {
    let loaded = load(state, actor, id, command_permission(&cmd)).await?;
    if matches!(cmd, Command::EndResponse { .. }) {
        may_end(state, actor, &loaded.0).await?;
    }
    let make = move |_: &Incident| Ok(cmd.clone());
    execute(
        state,
        &actor.as_ref(),
        Some(loaded),
        id,
        Some(actor),
        &make,
        &|_, _| Ok(()),
        None,
    )
    .await
    .map(|(i, _)| i)
}
