//! Dispute screening and resolution (矛盾纠纷排查化解) under `/api/v1/disputes`: screening rounds
//! (monthly, daily inside a special period of a plan that applies), each unit's submission or nil
//! submission, disputes with parties, nature, area and risk, mediation, result, follow-up, and
//! major disputes reported upward.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::dispute::{
    Command, Dispute, DisputeError, Event, NewDispute, Party, Risk, apply, decide, round_key,
};
use yingji_store::{OutboxRow, Row, Stmt, StoreError, Val, WriteSet, args, fmt_ts};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::trust::Permission;
use crate::write::{Item, append, idempotency};
use crate::{AppState, idempotent};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/disputes", get(list_disputes).post(create_dispute))
        .route("/disputes/rounds", post(open_round))
        .route("/disputes/rounds/{id}", get(get_round))
        .route("/disputes/rounds/{id}/submissions", post(submit_round))
        .route("/disputes/{id}", get(get_dispute))
        .route("/disputes/{id}/{action}", post(dispute_action))
}

impl From<DisputeError> for ApiError {
    fn from(e: DisputeError) -> Self {
        let status = match e {
            DisputeError::Illegal(..) | DisputeError::AlreadyReported => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(yingji_store::Conflict::StreamVersion) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "a concurrent change got there first; retry",
        ),
        e => e.into(),
    }
}

/// Whether a day falls in a special period of a plan owned by this jurisdiction or above.
pub(crate) async fn in_special_period(
    state: &AppState,
    path: &str,
    day: Date,
) -> Result<bool, ApiError> {
    let mut seen = std::collections::HashSet::new();
    for row in state.store.list_plans("/").await? {
        if !seen.insert(row.plan_id.clone()) {
            continue;
        }
        let Some(owner) = state.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !path.starts_with(&owner.path) {
            continue;
        }
        let plan = state.plan(&row.plan_id, row.version).await?;
        if plan.special_periods.iter().any(|p| p.contains(day)) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRoundRequest {
    pub jurisdiction_id: Uuid,
    /// A day of the round (YYYY-MM-DD); default today.
    pub date: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/disputes/rounds", tag = "disputes",
    request_body = OpenRoundRequest,
    responses((status = 201, description = "the round: monthly, or daily inside a special period", body = Object),
              (status = 409, description = "round_exists (details.id names it)", body = Object)))]
pub async fn open_round(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<OpenRoundRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(&state, &actor, &headers, &body.sha256, move |idem| async move {
        let j = st.scoped_jurisdiction(&a, req.jurisdiction_id, "jurisdiction").await?;
        st.require(&a, Permission::ScreenDisputes, &j.path, "jurisdiction")?;
        let now = st.clock.now();
        let day = match &req.date {
            Some(d) => d.parse::<Date>().map_err(|_| {
                ApiError::unprocessable("invalid_field", "`date` must be YYYY-MM-DD")
                    .details(json!({ "field": "date" }))
            })?,
            None => now.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)).date(),
        };
        let special = in_special_period(&st, &j.path, day).await?;
        let (cadence, key) = round_key(day, special);
        if let Some(r) = st.store.screening_round_by_key(j.id, &key).await? {
            return Err(ApiError::new(StatusCode::CONFLICT, "round_exists", format!("round {key} is already open"))
                .details(json!({ "id": r.id })));
        }
        let id = Uuid::now_v7();
        let cadence_s = serde_json::to_value(cadence).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let mut ws = WriteSet::default();
        let actor_ref = a.as_ref();
        let body = json!({ "id": id, "jurisdiction_id": j.id, "cadence": cadence_s, "round_key": key, "opened_at": now });
        append(&mut ws, id, "screening_round", j.id, 0, None, &actor_ref, now,
            vec![Item::new("screening_round_opened", &body, None)]);
        ws.rows.push(Row::Sql(Stmt::new(
            "INSERT INTO screening_rounds (id, jurisdiction_id, jurisdiction_path, cadence, round_key, opened_at) VALUES (?, ?, ?, ?, ?, ?)",
            args![id, j.id, &j.path, &cadence_s, &key, now],
        ).on_unique(yingji_store::Conflict::RoundExists)));
        idempotency(&mut ws, idem.as_ref(), &actor_ref, 201, &body, now);
        match st.store.commit(ws).await {
            Ok(()) => Ok((StatusCode::CREATED, body)),
            Err(StoreError::Conflict(yingji_store::Conflict::RoundExists)) => Err(ApiError::new(
                StatusCode::CONFLICT, "round_exists", format!("round {key} is already open"))),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

pub(crate) async fn round_view(
    state: &AppState,
    r: &yingji_store::RoundRow,
) -> Result<Value, ApiError> {
    let subs = state.store.screening_submissions(r.id).await?;
    let units = state.store.child_jurisdictions(r.jurisdiction_id).await?;
    let items: Vec<Value> = units
        .iter()
        .map(|(uid, name)| {
            let s = subs.iter().find(|s| s.unit_id == *uid);
            json!({
                "unit_id": uid, "unit_name": name,
                "state": match s { None => "missing", Some(s) if s.nil => "nil", Some(_) => "submitted" },
                "disputes_found": s.map(|s| s.disputes_found), "note": s.and_then(|s| s.note.clone()),
                "submitted_at": s.map(|s| s.submitted_at.clone()),
            })
        })
        .collect();
    Ok(json!({
        "id": r.id, "jurisdiction_id": r.jurisdiction_id, "cadence": r.cadence,
        "round_key": r.round_key, "opened_at": r.opened_at,
        "missing": items.iter().filter(|i| i["state"] == "missing").count(),
        "units": items,
    }))
}

#[utoipa::path(get, path = "/api/v1/disputes/rounds/{id}", tag = "disputes",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the round and each unit below: submitted, nil or missing", body = Object)))]
pub async fn get_round(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let r = state
        .store
        .screening_round(id)
        .await?
        .filter(|r| actor.sees(&r.jurisdiction_path))
        .ok_or_else(|| ApiError::not_found("round"))?;
    state.require(
        &actor,
        Permission::ViewDisputes,
        &r.jurisdiction_path,
        "round",
    )?;
    Ok(axum::Json(round_view(&state, &r).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundSubmissionRequest {
    /// The unit (a jurisdiction directly below the round's) submitting.
    pub unit_id: Uuid,
    /// Nothing found (零报告).
    #[serde(default)]
    pub nil: bool,
    #[serde(default)]
    pub disputes_found: u32,
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/disputes/rounds/{id}/submissions", tag = "disputes",
    params(("id" = Uuid, Path)), request_body = RoundSubmissionRequest,
    responses((status = 201, description = "the round after the submission", body = Object),
              (status = 409, description = "already_submitted", body = Object)))]
pub async fn submit_round(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<RoundSubmissionRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(&state, &actor, &headers, &body.sha256, move |idem| async move {
        let unit = st.scoped_jurisdiction(&a, req.unit_id, "unit").await?;
        st.require(&a, Permission::ScreenDisputes, &unit.path, "unit")?;
        let r = st
            .store
            .screening_round(id)
            .await?
            .ok_or_else(|| ApiError::not_found("round"))?;
        if unit.parent_id != Some(r.jurisdiction_id) {
            return Err(ApiError::unprocessable("not_owed", "this unit does not owe a submission to this round"));
        }
        if req.nil && req.disputes_found > 0 {
            return Err(ApiError::unprocessable("invalid_field", "a nil submission finds no disputes"));
        }
        let now = st.clock.now();
        let actor_ref = a.as_ref();
        let payload = json!({ "round_id": id, "unit_id": unit.id, "unit_name": unit.name, "nil": req.nil, "disputes_found": req.disputes_found, "note": req.note });
        let head = st.store.stream_head(id).await?.ok_or_else(|| ApiError::internal("round stream missing"))?;
        let mut ws = WriteSet::default();
        append(&mut ws, id, "screening_round", r.jurisdiction_id, head.0, Some(&head.1), &actor_ref, now,
            vec![Item::new(if req.nil { "screening_nil_submitted" } else { "screening_submitted" }, &payload, None)]);
        ws.rows.push(Row::Sql(Stmt::new(
            "INSERT INTO screening_submissions (round_id, unit_id, nil, disputes_found, note, submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            args![id, unit.id, req.nil, req.disputes_found, req.note.clone(), a.person_id, now],
        ).on_unique(yingji_store::Conflict::AlreadySubmitted)));
        idempotency(&mut ws, idem.as_ref(), &actor_ref, 201, &payload, now);
        match st.store.commit(ws).await {
            Ok(()) => Ok((StatusCode::CREATED, round_view(&st, &r).await?)),
            Err(StoreError::Conflict(yingji_store::Conflict::AlreadySubmitted)) => Err(ApiError::new(
                StatusCode::CONFLICT, "already_submitted", format!("{} has already submitted for this round", unit.name))),
            Err(e) => Err(conflict(e)),
        }
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisputeRequest {
    pub jurisdiction_id: Uuid,
    pub round_id: Option<Uuid>,
    pub title: String,
    /// Names and roles only.
    #[schema(value_type = Vec<Object>)]
    pub parties: Vec<Party>,
    pub nature: String,
    pub area: String,
    /// low, medium, high or major (重大疑难).
    #[schema(value_type = String)]
    pub risk: Risk,
    #[serde(default)]
    pub summary: String,
}

fn dispute_rows(ws: &mut WriteSet, d: &Dispute, path: &str) {
    let body = serde_json::to_string(d).expect("dispute serialises");
    let risk = serde_json::to_value(d.risk)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    ws.rows.push(Row::Sql(Stmt::new(
        "INSERT INTO disputes (id, jurisdiction_id, jurisdiction_path, round_id, status, risk, nature, title, reported_upward, registered_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, reported_upward = excluded.reported_upward, updated_at = excluded.updated_at, body = excluded.body",
        args![d.id, d.jurisdiction_id, path, d.round_id, d.status.as_str(), risk, &d.nature, &d.title, d.reported_upward.is_some(), d.registered_at, d.updated_at, Val::json(body)],
    )));
}

#[utoipa::path(post, path = "/api/v1/disputes", tag = "disputes",
    request_body = NewDisputeRequest, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the dispute as registered", body = Object)))]
pub async fn create_dispute(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewDisputeRequest>,
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
            st.require(&a, Permission::ScreenDisputes, &j.path, "jurisdiction")?;
            if let Some(rid) = req.round_id {
                st.store
                    .screening_round(rid)
                    .await?
                    .filter(|r| j.path.starts_with(&r.jurisdiction_path))
                    .ok_or_else(|| {
                        ApiError::unprocessable(
                            "unknown_round",
                            "the round is not this jurisdiction's or above it",
                        )
                    })?;
            }
            let n = NewDispute {
                jurisdiction_id: j.id,
                round_id: req.round_id,
                title: req.title,
                parties: req.parties,
                nature: req.nature,
                area: req.area,
                risk: req.risk,
                summary: req.summary,
            };
            let ev = decide(None, &Command::Register(n))?;
            let now = st.clock.now();
            let id = Uuid::now_v7();
            let actor_ref = a.as_ref();
            let d = apply(None, id, &ev[0], now, &actor_ref).expect("registered");
            let mut ws = WriteSet::default();
            append(
                &mut ws,
                id,
                "dispute",
                j.id,
                0,
                None,
                &actor_ref,
                now,
                ev.iter().map(|e| Item::new(e.kind(), e, None)).collect(),
            );
            dispute_rows(&mut ws, &d, &j.path);
            let body = serde_json::to_value(&d).expect("dispute serialises");
            idempotency(&mut ws, idem.as_ref(), &actor_ref, 201, &body, now);
            st.store.commit(ws).await?;
            Ok((StatusCode::CREATED, body))
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeActionRequest {
    /// assign: the mediating unit and an optional deadline (YYYY-MM-DD).
    pub unit: Option<String>,
    pub due_on: Option<String>,
    /// result.
    pub resolved: Option<bool>,
    pub result: Option<String>,
    /// follow-up.
    pub note: Option<String>,
    /// report-upward.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/disputes/{id}/{action}", tag = "disputes",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "assign, result, follow-up, report-upward, close")),
    request_body = DisputeActionRequest,
    responses((status = 200, description = "the dispute after the command", body = Object)))]
pub async fn dispute_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    body: JsonBody<DisputeActionRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(&state, &actor, &headers, &body.sha256, move |idem| async move {
        let rec = st.store.get_dispute(id).await?
            .filter(|r| a.sees(&r.jurisdiction_path))
            .ok_or_else(|| ApiError::not_found("dispute"))?;
        st.require(&a, Permission::ScreenDisputes, &rec.jurisdiction_path, "dispute")?;
        let d: Dispute = serde_json::from_str(&rec.body).map_err(ApiError::internal)?;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let cmd = match action.as_str() {
            "assign" => Command::Assign {
                unit: s(&req.unit),
                due_on: req.due_on.as_deref().map(|x| x.parse::<Date>()).transpose().map_err(|_| {
                    ApiError::unprocessable("invalid_field", "`due_on` must be YYYY-MM-DD")
                })?,
            },
            "result" => Command::Result { resolved: req.resolved.unwrap_or(false), result: s(&req.result) },
            "follow-up" => Command::FollowUp { note: s(&req.note) },
            "report-upward" => Command::ReportUpward { reason: s(&req.reason) },
            "close" => Command::Close,
            _ => return Err(ApiError::not_found("action")),
        };
        let ev = decide(Some(&d), &cmd)?;
        let now = st.clock.now();
        let actor_ref = a.as_ref();
        let mut after = Some(d);
        for e in &ev {
            after = apply(after, id, e, now, &actor_ref);
        }
        let after = after.expect("a dispute stays");
        let mut ws = WriteSet::default();
        let ids = append(&mut ws, id, "dispute", rec.jurisdiction_id, rec.version, Some(&rec.head_hash), &actor_ref, now,
            ev.iter().map(|e| Item::new(e.kind(), e, None)).collect());
        for (eid, e) in ids.iter().zip(&ev) {
            if let Event::ReportedUpward { reason } = e {
                let parent = st.store.jurisdiction(rec.jurisdiction_id).await?.and_then(|j| j.parent_id);
                ws.rows.push(Row::Outbox(OutboxRow {
                    id: Uuid::now_v7(), event_id: *eid, kind: "dispute_reported_upward".into(),
                    payload: json!({ "dispute_id": id, "title": after.title, "reason": reason, "to_jurisdiction": parent }).to_string(),
                    next_at: fmt_ts(now), created_at: fmt_ts(now),
                }));
            }
        }
        dispute_rows(&mut ws, &after, &rec.jurisdiction_path);
        let body = serde_json::to_value(&after).expect("dispute serialises");
        idempotency(&mut ws, idem.as_ref(), &actor_ref, 200, &body, now);
        st.store.commit(ws).await.map_err(conflict)?;
        Ok((StatusCode::OK, body))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes",
    params(("id" = Uuid, Path)), responses((status = 200, body = Object), (status = 404, body = Object)))]
pub async fn get_dispute(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let rec = state
        .store
        .get_dispute(id)
        .await?
        .filter(|r| actor.sees(&r.jurisdiction_path))
        .ok_or_else(|| ApiError::not_found("dispute"))?;
    state.require(
        &actor,
        Permission::ViewDisputes,
        &rec.jurisdiction_path,
        "dispute",
    )?;
    let v: Value = serde_json::from_str(&rec.body).map_err(ApiError::internal)?;
    Ok(axum::Json(v))
}

#[derive(Debug, Deserialize)]
pub struct DisputeListQuery {
    jurisdiction_id: Option<Uuid>,
    status: Option<String>,
    reported_upward: Option<bool>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/disputes", tag = "disputes",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("status" = Option<String>, Query),
           ("reported_upward" = Option<bool>, Query, description = "major disputes reported to the level above"),
           ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "{items}", body = Object)))]
pub async fn list_disputes(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<DisputeListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let scope = match q.jurisdiction_id {
        None => actor.scope_path.clone(),
        Some(j) => {
            state
                .scoped_jurisdiction(&actor, j, "jurisdiction")
                .await?
                .path
        }
    };
    state.require(&actor, Permission::ViewDisputes, &scope, "jurisdiction")?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = state
        .store
        .list_disputes(&scope, q.status.as_deref(), q.reported_upward, limit)
        .await?;
    let items: Vec<Value> = rows
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}
