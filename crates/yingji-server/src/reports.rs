//! Scheduled reports (定时报告, 零报告) under `/api/v1/reports`: who owes which report by when
//! (from the plan's `[[schedules]]`), submissions and nil submissions, the board of who is late,
//! and late reminders through the outbox (sent once each, by the ticker).
//!
//! Owing parties: a post named in `from` is owed once per jurisdiction (in the plan's
//! jurisdiction or below) where someone holds it, and any holder there (principal or deputy) may
//! submit; a member unit named in `from` is owed once, submitted by anyone in the plan's
//! jurisdiction or below.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::reports::{Party, Slot, Submitted, board, slots_on};
use yingji_plan::Plan;
use yingji_store::{OutboxRow, PlanRow, Row, Stmt, StoreError, WriteSet, args, fmt_ts};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::trust::Permission;
use crate::write::{Item, append, idempotency};
use crate::{AppState, idempotent, system_actor};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/board", get(report_board))
        .route("/reports/submissions", post(submit_report))
}

/// A party with the people who may submit for it and its jurisdiction path.
struct Owing {
    party: Party,
    path: String,
    jurisdiction_id: Uuid,
    submitters: Vec<Uuid>,
    /// Anyone in this subtree may submit (member units).
    open_to_path: Option<String>,
}

/// The parties owing a slot's report.
async fn owing(
    state: &AppState,
    plan: &Plan,
    owner: &yingji_store::JurisdictionRow,
    slot: &Slot,
) -> Result<Vec<Owing>, ApiError> {
    let mut out: Vec<Owing> = vec![];
    for f in &slot.from {
        if let Some(u) = plan.member_units.iter().find(|u| &u.id.value == f) {
            out.push(Owing {
                party: Party {
                    key: format!("unit:{f}"),
                    name: u.name.clone(),
                },
                path: owner.path.clone(),
                jurisdiction_id: owner.id,
                submitters: vec![],
                open_to_path: Some(owner.path.clone()),
            });
            continue;
        }
        let post_name = plan
            .posts
            .iter()
            .find(|p| &p.id.value == f)
            .map_or(f.as_str(), |p| p.name.as_str());
        let mut by_j: BTreeMap<Uuid, Owing> = BTreeMap::new();
        for (jid, jname, person, _deputy) in state.store.post_holders_below(f, &owner.path).await? {
            let e = by_j.entry(jid).or_insert_with(|| Owing {
                party: Party {
                    key: format!("post:{f}@{jid}"),
                    name: format!("{jname}·{post_name}"),
                },
                path: String::new(),
                jurisdiction_id: jid,
                submitters: vec![],
                open_to_path: None,
            });
            e.submitters.push(person);
        }
        for (jid, mut o) in by_j {
            if let Some(j) = state.store.jurisdiction(jid).await? {
                o.path = j.path;
            }
            out.push(o);
        }
    }
    Ok(out)
}

pub(crate) async fn latest_plan(
    state: &AppState,
    plan_id: &str,
) -> Result<(PlanRow, std::sync::Arc<Plan>), ApiError> {
    let row = state
        .store
        .plan_latest(plan_id)
        .await?
        .ok_or_else(|| ApiError::not_found("plan"))?;
    let plan = state.plan(&row.plan_id, row.version).await?;
    Ok((row, plan))
}

fn submitted_of(rows: Vec<yingji_store::ReportSubmissionRow>) -> Vec<Submitted> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Submitted {
                schedule_id: r.schedule_id,
                due_at: r.due_at.parse().ok()?,
                party: r.party,
                nil: r.nil,
                at: r.submitted_at.parse().ok()?,
            })
        })
        .collect()
}

/// The day's board of a plan.
pub(crate) async fn board_of(
    state: &AppState,
    plan_row: &PlanRow,
    plan: &Plan,
    owner: &yingji_store::JurisdictionRow,
    day: Date,
    now: Timestamp,
) -> Result<Vec<yingji_domain::reports::BoardRow>, ApiError> {
    let slots = slots_on(plan, day);
    let mut parties: BTreeMap<(String, Timestamp), Vec<Party>> = BTreeMap::new();
    for s in &slots {
        let o = owing(state, plan, owner, s).await?;
        parties.insert(
            (s.schedule_id.clone(), s.due_at),
            o.into_iter().map(|o| o.party).collect(),
        );
    }
    let (from, to) = day_range(plan, day);
    let subs = submitted_of(
        state
            .store
            .report_submissions(&plan_row.plan_id, &fmt_ts(from), &fmt_ts(to))
            .await?,
    );
    let lookup = |s: &Slot| {
        parties
            .get(&(s.schedule_id.clone(), s.due_at))
            .cloned()
            .unwrap_or_default()
    };
    Ok(board(&slots, &lookup, &subs, now))
}

fn day_range(plan: &Plan, day: Date) -> (Timestamp, Timestamp) {
    let tz = plan.time.tz.clone();
    let a = day.to_zoned(tz.clone()).expect("zone").timestamp();
    let b = day
        .tomorrow()
        .expect("date")
        .to_zoned(tz)
        .expect("zone")
        .timestamp();
    (a, b)
}

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    plan_id: String,
    /// YYYY-MM-DD in the plan's zone; default today.
    date: Option<String>,
    /// Only the late ones.
    late: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/reports/board", tag = "reports",
    params(("plan_id" = String, Query), ("date" = Option<String>, Query, description = "YYYY-MM-DD in the plan's zone; default today"),
           ("late" = Option<bool>, Query, description = "only rows whose state is `late`")),
    responses((status = 200, description = "every report slot of the day × owing party: submitted, nil, submitted_late, pending or late", body = Object)))]
pub async fn report_board(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (row, plan) = latest_plan(&state, &q.plan_id).await?;
    let owner = state
        .scoped_jurisdiction(&actor, row.jurisdiction_id, "plan")
        .await?;
    state.require(&actor, Permission::ViewReports, &owner.path, "plan")?;
    let now = state.clock.now();
    let day = match &q.date {
        Some(d) => d
            .parse::<Date>()
            .map_err(|_| ApiError::bad_request("invalid_query", "`date` must be YYYY-MM-DD"))?,
        None => now.to_zoned(plan.time.tz.clone()).date(),
    };
    let rows = board_of(&state, &row, &plan, &owner, day, now).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| q.late != Some(true) || r.state == yingji_domain::reports::BoardState::Late)
        .collect();
    let late = rows
        .iter()
        .filter(|r| r.state == yingji_domain::reports::BoardState::Late)
        .count();
    Ok(axum::Json(json!({
        "plan_id": row.plan_id, "date": day.to_string(), "now": now, "late": late, "items": rows,
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmissionRequest {
    pub plan_id: String,
    pub schedule_id: String,
    /// The slot's due time (RFC 3339), as the board lists it.
    pub due_at: String,
    /// "Nothing to report" (零报告).
    #[serde(default)]
    pub nil: bool,
    /// The report; required unless `nil`.
    pub content: Option<String>,
    /// For a member unit in `from`: the unit id. Otherwise the post is taken from the submitter.
    pub unit: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/reports/submissions", tag = "reports",
    request_body = ReportSubmissionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "the submission as recorded", body = Object),
              (status = 409, description = "already_submitted", body = Object),
              (status = 422, description = "unknown_slot, not_owed, nil_not_allowed, missing_field", body = Object)))]
pub async fn submit_report(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<ReportSubmissionRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(&state, &actor, &headers, &body.sha256, move |idem| async move {
        let (row, plan) = latest_plan(&st, &req.plan_id).await?;
        let owner = st
            .store
            .jurisdiction(row.jurisdiction_id)
            .await?
            .ok_or_else(|| ApiError::internal("plan owner missing"))?;
        // The submitter works in the plan's jurisdiction or below.
        if !a.scope_path.starts_with(&owner.path) {
            return Err(ApiError::not_found("plan"));
        }
        st.require(&a, Permission::SubmitReports, &a.scope_path, "plan")?;
        let due_at: Timestamp = req.due_at.parse().map_err(|_| {
            ApiError::unprocessable("invalid_time", "`due_at` must be an RFC 3339 time")
                .details(json!({ "field": "due_at" }))
        })?;
        let day = due_at.to_zoned(plan.time.tz.clone()).date();
        let slot = slots_on(&plan, day)
            .into_iter()
            .find(|s| s.schedule_id == req.schedule_id && s.due_at == due_at)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "unknown_slot",
                    format!("schedule `{}` has no report due at {due_at}", req.schedule_id),
                )
            })?;
        if req.nil && !slot.nil_allowed {
            return Err(ApiError::unprocessable(
                "nil_not_allowed",
                "this schedule does not accept a nil report (零报告)",
            ));
        }
        let content = req.content.clone().unwrap_or_default();
        if !req.nil && content.trim().is_empty() {
            return Err(ApiError::unprocessable("missing_field", "`content` is required unless `nil`")
                .details(json!({ "field": "content" })));
        }
        let parties = owing(&st, &plan, &owner, &slot).await?;
        let mine = parties
            .into_iter()
            .find(|o| match (&req.unit, &o.open_to_path) {
                (Some(u), Some(p)) => o.party.key == format!("unit:{u}") && a.scope_path.starts_with(p.as_str()),
                (None, None) => o.submitters.contains(&a.person_id),
                _ => false,
            })
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "not_owed",
                    "you do not hold a post (or name a unit) that owes this report",
                )
            })?;
        let now = st.clock.now();
        let id = Uuid::now_v7();
        let actor_ref = a.as_ref();
        let mut ws = WriteSet::default();
        let payload = json!({
            "plan_id": row.plan_id, "schedule_id": slot.schedule_id, "due_at": slot.due_at,
            "party": mine.party.key, "party_name": mine.party.name, "nil": req.nil,
            "content": content, "late": now > slot.due_at,
        });
        append(
            &mut ws,
            id,
            "report",
            mine.jurisdiction_id,
            0,
            None,
            &actor_ref,
            now,
            vec![Item::new(if req.nil { "nil_report_submitted" } else { "report_submitted" }, &payload, None)],
        );
        ws.rows.push(Row::Sql(
            Stmt::new(
                "INSERT INTO report_submissions (id, plan_id, schedule_id, due_at, party, party_name, jurisdiction_path, nil, content, submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                args![id, &row.plan_id, &slot.schedule_id, slot.due_at, &mine.party.key, &mine.party.name, &mine.path, req.nil, &content, a.person_id, now],
            )
            .on_unique(yingji_store::Conflict::AlreadySubmitted),
        ));
        let mut body = payload.clone();
        body["id"] = json!(id);
        body["submitted_at"] = json!(now);
        idempotency(&mut ws, idem.as_ref(), &actor_ref, 201, &body, now);
        match st.store.commit(ws).await {
            Ok(()) => Ok((StatusCode::CREATED, body)),
            Err(StoreError::Conflict(yingji_store::Conflict::AlreadySubmitted)) => {
                Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "already_submitted",
                    format!("{} has already submitted this report", mine.party.name),
                ))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Puts a reminder in the outbox for every party late with a report due today or yesterday,
/// once each. Returns how many reminders were written.
pub async fn tick_reports(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let mut seen = std::collections::HashSet::new();
    let mut written = 0;
    for row in state.store.list_plans("/").await? {
        if !seen.insert(row.plan_id.clone()) {
            continue; // the newest version comes first
        }
        let plan = state.plan(&row.plan_id, row.version).await?;
        if plan.schedules.is_empty() {
            continue;
        }
        let Some(owner) = state.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        let today = now.to_zoned(plan.time.tz.clone()).date();
        for day in [today.yesterday().unwrap_or(today), today] {
            if slots_on(&plan, day).is_empty() {
                continue;
            }
            for r in board_of(state, &row, &plan, &owner, day, now).await? {
                if r.state != yingji_domain::reports::BoardState::Late {
                    continue;
                }
                let due = fmt_ts(r.due_at);
                if state
                    .store
                    .report_reminder_sent(&row.plan_id, &r.schedule_id, &due, &r.party, "late")
                    .await?
                {
                    continue;
                }
                let key = format!("{}|{}|{}|{}|late", row.plan_id, r.schedule_id, due, r.party);
                let stream = Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes());
                let payload = json!({
                    "plan_id": row.plan_id, "schedule_id": r.schedule_id, "schedule_name": r.schedule_name,
                    "due_at": r.due_at, "party": r.party, "party_name": r.party_name,
                    "text": format!("{}：{}应于{}前报送，尚未报送。", r.schedule_name, r.party_name, r.due_at.to_zoned(plan.time.tz.clone()).strftime("%m月%d日%H:%M")),
                });
                let mut ws = WriteSet::default();
                let ids = append(
                    &mut ws,
                    stream,
                    "report_reminder",
                    owner.id,
                    0,
                    None,
                    &system_actor(),
                    now,
                    vec![Item::new("report_late", &payload, None)],
                );
                ws.rows.push(Row::Sql(Stmt::new(
                    "INSERT INTO report_reminders (plan_id, schedule_id, due_at, party, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    args![&row.plan_id, &r.schedule_id, r.due_at, &r.party, "late", now],
                )));
                ws.rows.push(Row::Outbox(OutboxRow {
                    id: Uuid::now_v7(),
                    event_id: ids[0],
                    kind: "report_late".into(),
                    payload: payload.to_string(),
                    next_at: fmt_ts(now),
                    created_at: fmt_ts(now),
                }));
                match state.store.commit(ws).await {
                    Ok(()) => written += 1,
                    // Another ticker wrote it first.
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(written)
}
