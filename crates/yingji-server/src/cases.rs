//! Petition cases (信访事项) under `/api/v1/cases`: registration with a case number, the
//! approval chain, routing, the statutory clock with one approved extension, supervision driven by
//! the ticker, reply and follow-up, links, and statistics.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::case::{
    Case, CaseError, CaseSettings, Category, Channel, Command, Ctx, Event, ExtensionState, Form,
    NewCase, Origin, Petitioner, RouteKind, Satisfaction, apply_all, decide,
};
use yingji_store::{CaseFilter, OutboxRow, Row, Stmt, StoreError, Val, WriteSet, args, fmt_ts};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::sealer::{PREFIX, Sealer, mask_address, mask_id_number, mask_phone};
use crate::trust::{Permission, log_disclosure};
use crate::write::{Idem, Item, append, idempotency};
use crate::{AppState, idempotent, system_actor};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list_cases).post(create_case))
        .route("/cases/stats", get(case_stats))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/timeline", get(case_timeline))
        .route("/cases/{id}/reveal", post(reveal_petitioner))
        .route("/cases/{id}/{action}", post(case_action))
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        let status = match e {
            CaseError::IllegalTransition { .. }
            | CaseError::NothingToApprove
            | CaseError::NotApproved
            | CaseError::ExtensionAlreadyUsed
            | CaseError::ExtensionPending
            | CaseError::NoExtensionPending
            | CaseError::ExtensionAfterDue { .. } => StatusCode::CONFLICT,
            CaseError::WrongApprover { .. } | CaseError::WrongApprovingBody { .. } => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let details = match &e {
            CaseError::MissingField { field } => json!({ "field": field }),
            CaseError::ExtensionTooLong { asked, max } => json!({ "asked": asked, "max": max }),
            CaseError::ExtensionAfterDue { due_at } => json!({ "due_at": due_at }),
            _ => Value::Null,
        };
        ApiError::new(status, e.code(), e.to_string()).details(details)
    }
}

/// A petition as received. Personal data is limited to what a reply needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseRequest {
    pub jurisdiction_id: Uuid,
    /// letter, phone, online, fax or visit.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// single or collective (default single).
    #[schema(value_type = Option<String>)]
    pub form: Option<Form>,
    /// How many people (collective petitions: 2 or more).
    pub headcount: Option<u32>,
    /// The petitioner, or the representatives of a collective petition: name, and optionally
    /// contact and address.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub petitioners: Vec<Petitioner>,
    pub title: String,
    /// The grievance (诉求).
    pub grievance: String,
    /// A case type with a clock of its own in the configuration (default `general`).
    pub case_type: Option<String>,
    /// When it was received (RFC 3339; default now). The clock runs from its day.
    pub received_at: Option<String>,
    /// Earlier cases on the same grievance (重复信访).
    #[serde(default)]
    pub related_cases: Vec<Uuid>,
    /// The incident the petition came from.
    pub incident_id: Option<Uuid>,
}

/// The body of a case command; which keys apply depends on the action (see docs/api.md).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseActionRequest {
    /// classify: administrative, judicial or other.
    pub category: Option<String>,
    pub topic: Option<String>,
    /// propose: the 拟办意见.
    pub text: Option<String>,
    pub note: Option<String>,
    /// route: in_house, assign, transfer or refer.
    pub kind: Option<String>,
    pub target: Option<String>,
    pub target_jurisdiction_id: Option<Uuid>,
    /// route transfer: what the petitioner is told.
    pub notice: Option<String>,
    /// lead: the 包案领导.
    pub person_id: Option<Uuid>,
    /// extension-request.
    pub days: Option<u32>,
    pub reason: Option<String>,
    /// extension-decision.
    pub approve: Option<bool>,
    /// reply: the date (YYYY-MM-DD), channel and summary.
    pub date: Option<String>,
    pub channel: Option<String>,
    pub summary: Option<String>,
    /// follow-up: satisfied, basically_satisfied or dissatisfied.
    pub satisfaction: Option<String>,
    /// link: another case or an incident.
    pub case_id: Option<Uuid>,
    pub incident_id: Option<Uuid>,
}

fn enum_of<T: serde::de::DeserializeOwned>(v: &str, field: &'static str) -> Result<T, ApiError> {
    serde_json::from_value(Value::String(v.to_string())).map_err(|_| {
        ApiError::unprocessable("invalid_field", format!("`{v}` is not a valid `{field}`"))
            .details(json!({ "field": field }))
    })
}

fn need<T: Clone>(v: &Option<T>, field: &'static str) -> Result<T, ApiError> {
    v.clone().ok_or_else(|| {
        ApiError::unprocessable("missing_field", format!("`{field}` is required"))
            .details(json!({ "field": field }))
    })
}

/// The case settings of a jurisdiction: its own entry in the configuration, or the nearest
/// ancestor's, or the defaults. Entries are keyed by jurisdiction code or name.
pub async fn settings_for(
    state: &AppState,
    jurisdiction_path: &str,
) -> Result<(CaseSettings, String), ApiError> {
    let ids: Vec<Uuid> = jurisdiction_path
        .split('/')
        .filter(|s| !s.is_empty())
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let mut keys = vec![];
    let mut code = String::new();
    for (i, id) in ids.iter().rev().enumerate() {
        if let Some(j) = state.store.jurisdiction(*id).await? {
            if i == 0 {
                code = j.code.clone().unwrap_or_else(|| j.name.clone());
            }
            if let Some(c) = j.code {
                keys.push(c);
            }
            keys.push(j.name);
        }
    }
    let s = state
        .case_rules
        .config
        .for_keys(keys.iter().map(String::as_str))
        .clone();
    Ok((s, code))
}

/// The place a petitioner's value is sealed for (associated data): table, field, case, position.
pub fn petitioner_aad(case_id: Uuid, ordinal: i64, field: &str) -> String {
    format!("case_petitioners.{field}:{case_id}:{ordinal}")
}

/// The sealed petitioner fields, as named in the API and in the associated data.
pub const SEALED_FIELDS: [&str; 3] = ["contact", "address", "id_number"];

fn field_of<'a>(p: &'a Petitioner, field: &str) -> &'a Option<String> {
    match field {
        "contact" => &p.contact,
        "address" => &p.address,
        _ => &p.id_number,
    }
}

/// Opens a stored petitioner value (values stored before sealing are returned as they are).
fn open_value(
    sealer: &Sealer,
    case_id: Uuid,
    ordinal: i64,
    field: &str,
    stored: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match stored {
        None => Ok(None),
        Some(s) if !s.starts_with(PREFIX) => Ok(Some(s.to_string())),
        Some(s) => sealer
            .open(s, &petitioner_aad(case_id, ordinal, field))
            .map(Some)
            .map_err(|e| {
                ApiError::internal(format!("case {case_id}: petitioner {ordinal} {field}: {e}"))
            }),
    }
}

/// A petitioner as shown in API output, stored responses and event payloads: contact, address
/// and ID number masked (`POST /cases/{id}/reveal`, which is logged, gives the full value).
pub fn masked(p: &Petitioner) -> Petitioner {
    Petitioner {
        name: p.name.clone(),
        contact: p.contact.as_deref().map(mask_phone),
        address: p.address.as_deref().map(mask_address),
        id_number: p.id_number.as_deref().map(mask_id_number),
    }
}

/// The event as written to the log: a registration carries the masked petitioners only.
fn logged_event(e: &Event) -> Event {
    match e {
        Event::Registered {
            case,
            accepted_on,
            clock,
            due,
            due_at,
        } => {
            let mut n = case.as_ref().clone();
            n.petitioners = n.petitioners.iter().map(masked).collect();
            Event::Registered {
                case: Box::new(n),
                accepted_on: *accepted_on,
                clock: *clock,
                due: *due,
                due_at: *due_at,
            }
        }
        e => e.clone(),
    }
}

fn case_json(c: &Case) -> Value {
    let mut shown = c.clone();
    shown.petitioners = c.petitioners.iter().map(masked).collect();
    let mut v = serde_json::to_value(&shown).expect("case serialises");
    v["status_label"] = json!(status_label(c));
    v
}

fn status_label(c: &Case) -> &'static str {
    use yingji_domain::case::Status::*;
    match c.status {
        Registered => "已登记",
        Proposed => "待审批",
        Approved => "已审批",
        Handling => "办理中",
        Replied => "已答复",
        Closed => "已办结",
    }
}

#[derive(Default, Clone, PartialEq, Eq)]
struct Contribution {
    key: (String, String, String, String, String),
    n: [i64; 8],
}

/// What a case adds to the statistics of its quarter.
fn contribution(c: &Case, path: &str) -> Contribution {
    let q = (i16::from(c.accepted_on.month()) - 1) / 3 + 1;
    let replied = c.reply.is_some();
    let on_time = c.reply.as_ref().is_some_and(|r| r.on_time);
    let overdue = c.overdue || (replied && !on_time);
    let extended = c
        .extension
        .as_ref()
        .is_some_and(|x| x.state == ExtensionState::Approved);
    let sat = c.follow_up.as_ref().map(|f| f.satisfaction);
    Contribution {
        key: (
            path.to_string(),
            format!("{}Q{q}", c.accepted_on.year()),
            c.unit().unwrap_or("").to_string(),
            c.category
                .map_or("unclassified", Category::as_str)
                .to_string(),
            c.channel.as_str().to_string(),
        ),
        n: [
            1,
            i64::from(replied),
            i64::from(on_time),
            i64::from(overdue),
            i64::from(extended),
            i64::from(sat == Some(Satisfaction::Satisfied)),
            i64::from(sat == Some(Satisfaction::BasicallySatisfied)),
            i64::from(sat == Some(Satisfaction::Dissatisfied)),
        ],
    }
}

fn stats_upsert(ws: &mut WriteSet, c: &Contribution, sign: i64) {
    let (p, q, d, cat, ch) = c.key.clone();
    let n = c.n.map(|x| x * sign);
    ws.rows.push(Row::Sql(Stmt::new(
        "INSERT INTO case_stats (jurisdiction_path, quarter, department, category, channel, received, replied, on_time, overdue, extended, satisfied, basically_satisfied, dissatisfied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (quarter, jurisdiction_path, department, category, channel) DO UPDATE SET received = case_stats.received + excluded.received, replied = case_stats.replied + excluded.replied, on_time = case_stats.on_time + excluded.on_time, overdue = case_stats.overdue + excluded.overdue, extended = case_stats.extended + excluded.extended, satisfied = case_stats.satisfied + excluded.satisfied, basically_satisfied = case_stats.basically_satisfied + excluded.basically_satisfied, dissatisfied = case_stats.dissatisfied + excluded.dissatisfied",
        args![p, q, d, cat, ch, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]],
    )));
}

/// The query rows of a case and its statistics delta.
fn case_rows(
    ws: &mut WriteSet,
    before: Option<&Case>,
    after: &Case,
    path: &str,
    settings: &CaseSettings,
    sealer: &Sealer,
) {
    let mut stored = after.clone();
    stored.petitioners.clear();
    let body = serde_json::to_string(&stored).expect("case serialises");
    let next_due = after.next_due(settings).map(|t| t.as_millisecond());
    let step = after
        .supervision
        .last()
        .and_then(|s| serde_json::to_value(s.step).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    let extended = after
        .extension
        .as_ref()
        .is_some_and(|x| x.state == ExtensionState::Approved);
    ws.rows.push(Row::Sql(Stmt::new(
        "INSERT INTO cases (id, jurisdiction_id, jurisdiction_path, case_number, status, is_open, channel, form, case_type, category, topic, department, title, received_at, accepted_on, due_on, due_ms, overdue, extended, supervision_step, next_due_ms, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, is_open = excluded.is_open, category = excluded.category, topic = excluded.topic, department = excluded.department, due_on = excluded.due_on, due_ms = excluded.due_ms, overdue = excluded.overdue, extended = excluded.extended, supervision_step = excluded.supervision_step, next_due_ms = excluded.next_due_ms, updated_at = excluded.updated_at, body = excluded.body",
        args![
            after.id,
            after.jurisdiction_id,
            path,
            &after.case_number,
            after.status.as_str(),
            after.status.open(),
            after.channel.as_str(),
            if after.form == Form::Single { "single" } else { "collective" },
            &after.case_type,
            after.category.map(Category::as_str),
            after.topic.clone(),
            after.unit().map(str::to_string),
            &after.title,
            after.received_at,
            after.accepted_on,
            after.due.last_day,
            after.due_at.as_millisecond(),
            after.overdue,
            extended,
            step,
            next_due,
            after.updated_at,
            Val::json(body),
        ],
    ).on_unique(yingji_store::Conflict::CaseNumber)));
    if before.is_none() {
        for (i, p) in after.petitioners.iter().enumerate() {
            let i = i as i64;
            let seal = |field: &str| {
                field_of(p, field)
                    .as_deref()
                    .map(|v| sealer.seal(v, &petitioner_aad(after.id, i, field)))
            };
            ws.rows.push(Row::Sql(Stmt::new(
                "INSERT INTO case_petitioners (case_id, ordinal, petitioner_name, petitioner_contact, petitioner_address, petitioner_id_number) VALUES (?, ?, ?, ?, ?, ?)",
                args![after.id, i, &p.name, seal("contact"), seal("address"), seal("id_number")],
            )));
        }
    }
    let new = contribution(after, path);
    match before.map(|b| contribution(b, path)) {
        None => stats_upsert(ws, &new, 1),
        Some(old) if old == new => {}
        Some(old) if old.key == new.key => {
            let mut d = new.clone();
            for i in 0..8 {
                d.n[i] -= old.n[i];
            }
            stats_upsert(ws, &d, 1);
        }
        Some(old) => {
            stats_upsert(ws, &old, -1);
            stats_upsert(ws, &new, 1);
        }
    }
}

/// Outbox rows for what must reach people.
fn outbox_for(ws: &mut WriteSet, c: &Case, event_id: Uuid, e: &Event, now: Timestamp) {
    let (kind, payload) = match e {
        Event::Supervised { step, label, unit } => (
            "case_supervision",
            json!({ "case_id": c.id, "case_number": c.case_number, "step": step, "label": label, "unit": unit, "due_at": c.due_at }),
        ),
        Event::PetitionerNotified { about, text } => (
            "petitioner_notice",
            json!({ "case_id": c.id, "case_number": c.case_number, "about": about, "text": text }),
        ),
        Event::ExtensionRequested { days, reason } => (
            "extension_requested",
            json!({ "case_id": c.id, "case_number": c.case_number, "days": days, "reason": reason }),
        ),
        Event::BecameOverdue { due_at } => (
            "case_overdue",
            json!({ "case_id": c.id, "case_number": c.case_number, "due_at": due_at }),
        ),
        _ => return,
    };
    ws.rows.push(Row::Outbox(OutboxRow {
        id: Uuid::now_v7(),
        event_id,
        kind: kind.into(),
        payload: payload.to_string(),
        next_at: fmt_ts(now),
        created_at: fmt_ts(now),
    }));
}

/// Events, rows and outbox of one case change.
#[expect(clippy::too_many_arguments, reason = "the parts of one case write")]
fn case_write(
    ws: &mut WriteSet,
    before: Option<&Case>,
    after: &Case,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[Event],
    settings: &CaseSettings,
    sealer: &Sealer,
) {
    let items = events
        .iter()
        .map(|e| Item::new(&e.kind(), &logged_event(e), e.reason()))
        .collect();
    let ids = append(
        ws,
        after.id,
        "case",
        after.jurisdiction_id,
        version,
        head,
        actor,
        now,
        items,
    );
    for (id, e) in ids.iter().zip(events) {
        outbox_for(ws, after, *id, e, now);
    }
    case_rows(ws, before, after, path, settings, sealer);
}

fn parse_ts(s: &str, field: &'static str) -> Result<Timestamp, ApiError> {
    s.parse::<Timestamp>().map_err(|_| {
        ApiError::unprocessable(
            "invalid_time",
            format!("`{field}` must be an RFC 3339 time such as 2026-03-02T10:00:00+08:00"),
        )
        .details(json!({ "field": field }))
    })
}

/// Reserves the next case number of a jurisdiction for the year (optimistic: the write fails
/// with a conflict when another case took it first, and is retried).
async fn next_number(
    state: &AppState,
    ws: &mut WriteSet,
    settings: &CaseSettings,
    jurisdiction_id: Uuid,
    code: &str,
    year: i16,
    channel: Channel,
) -> Result<String, ApiError> {
    let last = state
        .store
        .case_counter(jurisdiction_id, i64::from(year))
        .await?;
    let seq = last.unwrap_or(0) + 1;
    ws.rows.push(Row::Sql(match last {
        None => Stmt::new(
            "INSERT INTO case_counters (jurisdiction_id, year, last_seq) VALUES (?, ?, ?)",
            args![jurisdiction_id, i64::from(year), seq],
        )
        .on_unique(yingji_store::Conflict::StreamVersion),
        Some(l) => Stmt::new(
            "UPDATE case_counters SET last_seq = ? WHERE jurisdiction_id = ? AND year = ? AND last_seq = ?",
            args![seq, jurisdiction_id, i64::from(year), l],
        )
        .expect(1, yingji_store::Conflict::StreamVersion),
    }));
    Ok(settings.number(code, year, seq, channel))
}

/// Registers a new case in a jurisdiction (the API, referrals and the demo use this). Retries
/// when a concurrent registration took the number.
pub async fn register(
    state: &AppState,
    actor: &ActorRef,
    actor_jurisdiction: Uuid,
    j: &yingji_store::JurisdictionRow,
    mut n: NewCase,
    idem: Option<&Idem>,
    extra: &(dyn Fn(&Case, &mut WriteSet) + Send + Sync),
) -> Result<Case, ApiError> {
    let (settings, code) = settings_for(state, &j.path).await?;
    for _ in 0..8 {
        let now = state.clock.now();
        let mut ws = WriteSet::default();
        let year = n.received_at.to_zoned(settings.tz()).year();
        n.case_number =
            next_number(state, &mut ws, &settings, j.id, &code, year, n.channel).await?;
        let holders = state.holders(j.id).await?;
        let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
        let ctx = Ctx {
            now,
            actor,
            actor_jurisdiction,
            settings: &settings,
            calendar: &state.case_rules.calendar,
            holders: &lookup,
        };
        let events = decide(None, &Command::Register(Box::new(n.clone())), &ctx)?;
        let id = Uuid::now_v7();
        let c = apply_all(None, id, &events, now, actor).expect("registration creates a case");
        case_write(
            &mut ws,
            None,
            &c,
            &j.path,
            0,
            None,
            actor,
            now,
            &events,
            &settings,
            &state.sealer,
        );
        extra(&c, &mut ws);
        idempotency(&mut ws, idem, actor, 201, case_json(&c), now);
        match state.store.commit(ws).await {
            Ok(()) => return Ok(c),
            Err(StoreError::Conflict(yingji_store::Conflict::StreamVersion)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "too many cases are being registered at once; retry",
    ))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body = NewCaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry return the first response instead of registering twice")),
    responses((status = 201, description = "the case as registered, with its number and due date", body = Object),
              (status = 422, description = "missing or invalid field", body = Object)))]
pub async fn create_case(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewCaseRequest>,
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
            st.require(&a, Permission::RegisterCase, &j.path, "jurisdiction")?;
            let form = req.form.unwrap_or(Form::Single);
            let received_at = match &req.received_at {
                Some(s) => parse_ts(s, "received_at")?,
                None => st.clock.now(),
            };
            if received_at > st.clock.now() {
                return Err(ApiError::unprocessable(
                    "invalid_time",
                    "`received_at` cannot be in the future",
                )
                .details(json!({ "field": "received_at" })));
            }
            if form == Form::Single && req.petitioners.len() > 1 {
                return Err(ApiError::unprocessable(
                "invalid_field",
                "a single petition has one petitioner; use form = collective for representatives",
            )
            .details(json!({ "field": "petitioners" })));
            }
            check_petitioners(&req.petitioners)?;
            for r in &req.related_cases {
                st.store
                    .get_case(*r)
                    .await?
                    .filter(|c| a.sees(&c.jurisdiction_path))
                    .ok_or_else(|| {
                        ApiError::unprocessable("unknown_case", format!("case {r} not found"))
                    })?;
            }
            let (settings, _) = settings_for(&st, &j.path).await?;
            let case_type = req.case_type.unwrap_or_else(|| "general".into());
            if case_type != "general" && !settings.case_types.contains_key(&case_type) {
                return Err(ApiError::unprocessable(
                    "unknown_case_type",
                    format!(
                        "`{case_type}` is not a case type of this jurisdiction's configuration"
                    ),
                ));
            }
            let n = NewCase {
                jurisdiction_id: j.id,
                case_number: String::new(),
                channel: req.channel,
                form,
                headcount: req
                    .headcount
                    .unwrap_or(if form == Form::Single { 1 } else { 0 }),
                petitioners: req.petitioners,
                title: req.title,
                grievance: req.grievance,
                case_type,
                received_at,
                origin: None,
                related_cases: req.related_cases,
                incident_id: req.incident_id,
            };
            let c = register(
                &st,
                &a.as_ref(),
                a.jurisdiction_id,
                &j,
                n,
                idem.as_ref(),
                &|_, _| {},
            )
            .await?;
            Ok((StatusCode::CREATED, case_json(&c)))
        },
    )
    .await
}

/// Lengths of the personal fields, and the shape of an ID number (15 or 18 characters: digits,
/// the last may be X).
pub(crate) fn check_petitioners(ps: &[Petitioner]) -> Result<(), ApiError> {
    let bad = |field: &str, msg: &str| {
        Err(ApiError::unprocessable("invalid_field", msg.to_string())
            .details(json!({ "field": format!("petitioners.{field}") })))
    };
    for p in ps {
        if p.name.chars().count() > 100 {
            return bad("name", "a petitioner's name has at most 100 characters");
        }
        if p.contact.as_ref().is_some_and(|c| c.chars().count() > 100) {
            return bad("contact", "a contact has at most 100 characters");
        }
        if p.address.as_ref().is_some_and(|a| a.chars().count() > 300) {
            return bad("address", "an address has at most 300 characters");
        }
        if let Some(id) = &p.id_number {
            let n = id.chars().count();
            let shape = (n == 15 || n == 18)
                && id
                    .chars()
                    .enumerate()
                    .all(|(i, c)| c.is_ascii_digit() || (i + 1 == n && (c == 'X' || c == 'x')));
            if !shape {
                return bad(
                    "id_number",
                    "an ID number has 15 or 18 characters: digits, the last may be X",
                );
            }
        }
    }
    Ok(())
}

/// A case and its stored record; `scope` hides cases outside the actor's subtree (404).
pub async fn load(
    state: &AppState,
    scope: Option<&Actor>,
    id: Uuid,
) -> Result<(Case, yingji_store::CaseRecord), ApiError> {
    let rec = state
        .store
        .get_case(id)
        .await?
        .filter(|r| scope.is_none_or(|a| a.sees(&r.jurisdiction_path)))
        .ok_or_else(|| ApiError::not_found("case"))?;
    let mut c: Case = serde_json::from_str(&rec.body).map_err(ApiError::internal)?;
    c.petitioners = rec
        .petitioners
        .iter()
        .map(|p| {
            let open = |field: &str, v: &Option<String>| {
                open_value(&state.sealer, rec.id, p.ordinal, field, v.as_deref())
            };
            Ok(Petitioner {
                name: p.name.clone(),
                contact: open("contact", &p.contact)?,
                address: open("address", &p.address)?,
                id_number: open("id_number", &p.id_number)?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok((c, rec))
}

/// Decides a command against the stored case and commits it, retrying on a concurrent write.
async fn execute(
    state: &AppState,
    actor: &ActorRef,
    actor_jurisdiction: Uuid,
    scope: Option<&Actor>,
    id: Uuid,
    cmd: &(dyn Fn(&Case) -> Result<Option<Command>, ApiError> + Send + Sync),
    idem: Option<&Idem>,
) -> Result<(Case, Vec<Event>), ApiError> {
    for _ in 0..8 {
        let (c, rec) = load(state, scope, id).await?;
        let (settings, _) = settings_for(state, &rec.jurisdiction_path).await?;
        let now = state.clock.now();
        let events = match cmd(&c)? {
            Some(command) => {
                let holders = state.holders(c.jurisdiction_id).await?;
                let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
                let ctx = Ctx {
                    now,
                    actor,
                    actor_jurisdiction,
                    settings: &settings,
                    calendar: &state.case_rules.calendar,
                    holders: &lookup,
                };
                decide(Some(&c), &command, &ctx)?
            }
            None => yingji_domain::case::tick(&c, &settings, now),
        };
        if events.is_empty() {
            return Ok((c, events));
        }
        let after = apply_all(Some(c.clone()), c.id, &events, now, actor).expect("a case stays");
        let mut ws = WriteSet::default();
        case_write(
            &mut ws,
            Some(&c),
            &after,
            &rec.jurisdiction_path,
            rec.version,
            Some(&rec.head_hash),
            actor,
            now,
            &events,
            &settings,
            &state.sealer,
        );
        idempotency(&mut ws, idem, actor, 200, case_json(&after), now);
        match state.store.commit(ws).await {
            Ok(()) => return Ok((after, events)),
            Err(StoreError::Conflict(yingji_store::Conflict::StreamVersion)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "the case is changing too fast; retry",
    ))
}

/// Marks overdue cases and runs the supervision steps that have fallen due. Returns how many
/// cases changed.
pub async fn tick_cases(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let due = state.store.due_cases(now.as_millisecond(), 1000).await?;
    let mut changed = 0;
    for id in due {
        let (_, ev) = execute(
            state,
            &system_actor(),
            Uuid::nil(),
            None,
            id,
            &|_| Ok(None),
            None,
        )
        .await?;
        if !ev.is_empty() {
            changed += 1;
        }
    }
    Ok(changed)
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/{action}", tag = "cases",
    params(("id" = Uuid, Path), ("action" = String, Path, description = "classify, propose, approve, route, lead, extension-request, extension-decision, reply, follow-up, link"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body = CaseActionRequest,
    responses((status = 200, description = "the case after the command", body = Object),
              (status = 403, description = "wrong_approver: the actor does not hold the post the rules name", body = Object),
              (status = 409, description = "illegal_transition, extension_after_due, extension_already_used, not_approved…", body = Object),
              (status = 422, description = "extension_too_long, missing_field, unknown_topic…", body = Object)))]
pub async fn case_action(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    body: JsonBody<CaseActionRequest>,
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
            let (c0, rec0) = load(&st, Some(&a), id).await?;
            let needed = match action.as_str() {
                "approve" | "extension-decision" => Permission::ApproveCase,
                _ => Permission::HandleCase,
            };
            st.require(&a, needed, &rec0.jurisdiction_path, "case")?;
            let mut pre: Option<Command> = None;
            match action.as_str() {
                "classify" | "propose" | "approve" | "extension-request" | "extension-decision"
                | "reply" | "follow-up" => {}
                "lead" => {
                    let pid = need(&req.person_id, "person_id")?;
                    let p = st.store.person(pid).await?.ok_or_else(|| {
                        ApiError::unprocessable("unknown_person", "person not found")
                    })?;
                    pre = Some(Command::AssignLead {
                        lead: yingji_domain::PersonRef {
                            person_id: p.id,
                            name: p.name,
                        },
                    });
                }
                "link" => {
                    pre = Some(match (req.case_id, req.incident_id) {
                        (Some(cid), None) => {
                            st.store
                                .get_case(cid)
                                .await?
                                .filter(|r| a.sees(&r.jurisdiction_path))
                                .ok_or_else(|| {
                                    ApiError::unprocessable(
                                        "unknown_case",
                                        format!("case {cid} not found"),
                                    )
                                })?;
                            Command::LinkCase { case_id: cid }
                        }
                        (None, Some(iid)) => {
                            st.store
                                .get_incident(iid)
                                .await?
                                .filter(|r| a.sees(&r.jurisdiction_path))
                                .ok_or_else(|| {
                                    ApiError::unprocessable(
                                        "unknown_incident",
                                        format!("incident {iid} not found"),
                                    )
                                })?;
                            Command::LinkIncident { incident_id: iid }
                        }
                        _ => {
                            return Err(ApiError::unprocessable(
                                "missing_field",
                                "give exactly one of `case_id` and `incident_id`",
                            ));
                        }
                    });
                }
                "route" => return route(&st, &a, c0, rec0, req, idem).await,
                _ => return Err(ApiError::not_found("action")),
            }
            let make = |_: &Case| -> Result<Option<Command>, ApiError> {
                if let Some(p) = &pre {
                    return Ok(Some(p.clone()));
                }
                Ok(Some(match action.as_str() {
                    "classify" => Command::Classify {
                        category: enum_of(&need(&req.category, "category")?, "category")?,
                        topic: need(&req.topic, "topic")?,
                    },
                    "propose" => Command::Propose {
                        text: need(&req.text, "text")?,
                    },
                    "approve" => Command::Approve {
                        note: req.note.clone(),
                    },
                    "extension-request" => Command::RequestExtension {
                        days: need(&req.days, "days")?,
                        reason: need(&req.reason, "reason")?,
                    },
                    "extension-decision" => Command::DecideExtension {
                        approve: need(&req.approve, "approve")?,
                        reason: req.reason.clone(),
                    },
                    "reply" => {
                        let d = need(&req.date, "date")?;
                        Command::Reply {
                            on: d.parse::<Date>().map_err(|_| {
                                ApiError::unprocessable(
                                    "invalid_field",
                                    "`date` must be YYYY-MM-DD",
                                )
                                .details(json!({ "field": "date" }))
                            })?,
                            channel: need(&req.channel, "channel")?,
                            summary: need(&req.summary, "summary")?,
                        }
                    }
                    "follow-up" => Command::FollowUp {
                        satisfaction: enum_of(
                            &need(&req.satisfaction, "satisfaction")?,
                            "satisfaction",
                        )?,
                        note: req.note.clone(),
                    },
                    _ => unreachable!("checked above"),
                }))
            };
            let (c, _) = execute(
                &st,
                &a.as_ref(),
                a.jurisdiction_id,
                Some(&a),
                id,
                &make,
                idem.as_ref(),
            )
            .await?;
            Ok((StatusCode::OK, case_json(&c)))
        },
    )
    .await
}

/// Routing: for a referral (转交) the case is opened in the lower jurisdiction in the same write,
/// with this body as its origin (so that only this body may extend it).
async fn route(
    st: &AppState,
    a: &Actor,
    c: Case,
    rec: yingji_store::CaseRecord,
    req: CaseActionRequest,
    idem: Option<Idem>,
) -> Result<(StatusCode, Value), ApiError> {
    let kind: RouteKind = enum_of(&need(&req.kind, "kind")?, "kind")?;
    let target = need(&req.target, "target")?;
    let (settings, _) = settings_for(st, &rec.jurisdiction_path).await?;
    let now = st.clock.now();
    let actor = a.as_ref();
    let holders = st.holders(c.jurisdiction_id).await?;
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let mut child_j = None;
    if kind == RouteKind::Refer {
        let tj = need(&req.target_jurisdiction_id, "target_jurisdiction_id")?;
        let j = st.scoped_jurisdiction(a, tj, "jurisdiction").await?;
        if j.id == c.jurisdiction_id || !j.path.starts_with(&rec.jurisdiction_path) {
            return Err(ApiError::unprocessable(
                "not_lower_jurisdiction",
                "a case is referred (转交) only to a jurisdiction below the case's own",
            ));
        }
        child_j = Some(j);
    }
    let child_id = child_j.as_ref().map(|_| Uuid::now_v7());
    let cmd = Command::Route {
        kind,
        target,
        target_jurisdiction: child_j.as_ref().map(|j| j.id),
        child_case: child_id,
        notice: req.notice.clone(),
    };
    let ctx = Ctx {
        now,
        actor: &actor,
        actor_jurisdiction: a.jurisdiction_id,
        settings: &settings,
        calendar: &st.case_rules.calendar,
        holders: &lookup,
    };
    let events = decide(Some(&c), &cmd, &ctx)?;
    let after = apply_all(Some(c.clone()), c.id, &events, now, &actor).expect("a case stays");
    let parent_write = |ws: &mut WriteSet| {
        case_write(
            ws,
            Some(&c),
            &after,
            &rec.jurisdiction_path,
            rec.version,
            Some(&rec.head_hash),
            &actor,
            now,
            &events,
            &settings,
            &st.sealer,
        );
    };
    match child_j {
        None => {
            let mut ws = WriteSet::default();
            parent_write(&mut ws);
            idempotency(&mut ws, idem.as_ref(), &actor, 200, case_json(&after), now);
            st.store.commit(ws).await?;
        }
        Some(j) => {
            let n = NewCase {
                jurisdiction_id: j.id,
                case_number: String::new(),
                channel: c.channel,
                form: c.form,
                headcount: c.headcount,
                petitioners: c.petitioners.clone(),
                title: c.title.clone(),
                grievance: c.grievance.clone(),
                case_type: "referred".into(),
                received_at: now,
                origin: Some(Origin {
                    jurisdiction_id: c.jurisdiction_id,
                    case_id: c.id,
                    case_number: c.case_number.clone(),
                }),
                related_cases: vec![],
                incident_id: c.incident_id,
            };
            let body = case_json(&after);
            let extra = |_: &Case, ws: &mut WriteSet| {
                parent_write(ws);
                idempotency(ws, idem.as_ref(), &actor, 200, &body, now);
            };
            // The child's id is fixed in the parent's routing; register under it.
            register_with_id(
                st,
                &actor,
                a.jurisdiction_id,
                &j,
                n,
                child_id.expect("child id"),
                &extra,
            )
            .await?;
        }
    }
    Ok((StatusCode::OK, case_json(&after)))
}

/// `register` with a given id (referrals name the child in the parent's routing).
async fn register_with_id(
    state: &AppState,
    actor: &ActorRef,
    actor_jurisdiction: Uuid,
    j: &yingji_store::JurisdictionRow,
    mut n: NewCase,
    id: Uuid,
    extra: &(dyn Fn(&Case, &mut WriteSet) + Send + Sync),
) -> Result<Case, ApiError> {
    let (settings, code) = settings_for(state, &j.path).await?;
    let now = state.clock.now();
    let mut ws = WriteSet::default();
    let year = now.to_zoned(settings.tz()).year();
    n.case_number = next_number(state, &mut ws, &settings, j.id, &code, year, n.channel).await?;
    let holders = state.holders(j.id).await?;
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let ctx = Ctx {
        now,
        actor,
        actor_jurisdiction,
        settings: &settings,
        calendar: &state.case_rules.calendar,
        holders: &lookup,
    };
    let events = decide(None, &Command::Register(Box::new(n)), &ctx)?;
    let c = apply_all(None, id, &events, now, actor).expect("registration creates a case");
    case_write(
        &mut ws,
        None,
        &c,
        &j.path,
        0,
        None,
        actor,
        now,
        &events,
        &settings,
        &state.sealer,
    );
    extra(&c, &mut ws);
    state.store.commit(ws).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the case changed or a number was taken concurrently; retry",
        ),
        e => e.into(),
    })?;
    Ok(c)
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = Object)))]
pub async fn get_case(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let (c, rec) = load(&state, Some(&actor), id).await?;
    state.require(
        &actor,
        Permission::ViewCases,
        &rec.jurisdiction_path,
        "case",
    )?;
    Ok(axum::Json(case_json(&c)))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/timeline", tag = "cases",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "every event of the case, oldest first, with its hash", body = Object)))]
pub async fn case_timeline(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let (_, rec) = load(&state, Some(&actor), id).await?;
    state.require(
        &actor,
        Permission::ViewCases,
        &rec.jurisdiction_path,
        "case",
    )?;
    let events = state.store.stream_events(id).await?;
    let items: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let v = e.envelope;
            json!({
                "id": v.id, "seq": v.stream_seq, "at": v.at, "kind": v.kind, "reason": v.reason,
                "actor": { "person_id": v.actor_id, "name": v.actor_name },
                "payload": serde_json::from_str::<Value>(&v.payload).unwrap_or(Value::Null),
                "hash": e.hash, "prev_hash": v.prev_hash,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[derive(Debug, Deserialize)]
pub struct CaseListQuery {
    jurisdiction_id: Option<Uuid>,
    status: Option<String>,
    /// Open cases due within this many days from now.
    due_within_days: Option<i64>,
    /// Open cases past their due time.
    overdue: Option<bool>,
    /// Cases with a supervision step (督办) recorded.
    supervised: Option<bool>,
    before: Option<Uuid>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below"),
           ("status" = Option<String>, Query, description = "registered, proposed, approved, handling, replied, closed"),
           ("due_within_days" = Option<i64>, Query, description = "open cases due from now to now + N days, soonest first"),
           ("overdue" = Option<bool>, Query, description = "open cases past their due time, longest overdue first"),
           ("supervised" = Option<bool>, Query, description = "cases under supervision (督办): the upper office's view"),
           ("before" = Option<Uuid>, Query, description = "the `next` cursor (newest-first lists only)"),
           ("limit" = Option<i64>, Query, description = "1–200, default 50")),
    responses((status = 200, description = "{items, next}", body = Object)))]
pub async fn list_cases(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<CaseListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let scope_path = match q.jurisdiction_id {
        None => actor.scope_path.clone(),
        Some(j) => {
            state
                .scoped_jurisdiction(&actor, j, "jurisdiction")
                .await?
                .path
        }
    };
    state.require(&actor, Permission::ViewCases, &scope_path, "jurisdiction")?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "`limit` must be from 1 to 200",
        ));
    }
    let now = state.clock.now().as_millisecond();
    let mut f = CaseFilter {
        scope_path,
        status: q.status,
        supervised: q.supervised.unwrap_or(false),
        before: q.before,
        limit: limit + 1,
        ..Default::default()
    };
    if let Some(d) = q.due_within_days {
        if !(0..=366).contains(&d) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "`due_within_days` must be 0–366",
            ));
        }
        f.open_due_from_ms = Some(now);
        f.open_due_to_ms = Some(now + d * 86_400_000);
    }
    if q.overdue == Some(true) {
        f.open_due_from_ms = Some(i64::MIN / 2);
        f.open_due_to_ms = Some(now);
    }
    let mut rows = state.store.list_cases(&f).await?;
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
                "id": r.id, "jurisdiction_id": r.jurisdiction_id, "case_number": r.case_number,
                "status": r.status, "channel": r.channel, "category": r.category, "topic": r.topic,
                "department": r.department, "title": r.title, "accepted_on": r.accepted_on,
                "due_on": r.due_on, "due_at": Timestamp::from_millisecond(r.due_ms).ok(),
                "overdue": r.overdue, "extended": r.extended, "supervision_step": r.supervision_step,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items, "next": next })))
}

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    jurisdiction_id: Option<Uuid>,
    year: i16,
    /// 1–4; without it the whole year.
    quarter: Option<u8>,
    /// department, category, channel or total (default).
    by: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cases/stats", tag = "cases",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below"),
           ("year" = i32, Query), ("quarter" = Option<u8>, Query, description = "1–4; omit for the year"),
           ("by" = Option<String>, Query, description = "department, category, channel, jurisdiction or total")),
    responses((status = 200, description = "received, replied, on time, overdue, extended and satisfaction per group, by quarter of acceptance", body = Object)))]
pub async fn case_stats(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let scope_path = match q.jurisdiction_id {
        None => actor.scope_path.clone(),
        Some(j) => {
            state
                .scoped_jurisdiction(&actor, j, "jurisdiction")
                .await?
                .path
        }
    };
    state.require(&actor, Permission::ViewCases, &scope_path, "jurisdiction")?;
    let by = q.by.unwrap_or_else(|| "total".into());
    if !["department", "category", "channel", "jurisdiction", "total"].contains(&by.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "`by` must be department, category, channel, jurisdiction or total",
        ));
    }
    let quarters: Vec<String> = match q.quarter {
        None => (1..=4).map(|n| format!("{}Q{n}", q.year)).collect(),
        Some(n @ 1..=4) => vec![format!("{}Q{n}", q.year)],
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "`quarter` must be 1–4",
            ));
        }
    };
    let (from, to) = (quarters[0].clone(), quarters[quarters.len() - 1].clone());
    let rows = state.store.case_stats(&scope_path, &quarters, &by).await?;
    let mut items: Vec<Value> = vec![];
    for r in &rows {
        let answered = r.satisfied + r.basically_satisfied + r.dissatisfied;
        // By jurisdiction the key is the stored path; answer with the jurisdiction's id and name.
        let (key, name) = if by == "jurisdiction" {
            let id = r
                .key
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .and_then(|s| Uuid::parse_str(s).ok());
            let name = match id {
                Some(id) => state.store.jurisdiction(id).await?.map(|j| j.name),
                None => None,
            };
            (json!(id), name)
        } else {
            (json!(r.key), None)
        };
        items.push(json!({
                "key": key, "name": name, "received": r.received, "replied": r.replied, "on_time": r.on_time,
                "overdue": r.overdue, "extended": r.extended,
                "satisfaction": {
                    "satisfied": r.satisfied, "basically_satisfied": r.basically_satisfied,
                    "dissatisfied": r.dissatisfied,
                    "rate": if answered > 0 { Some((r.satisfied + r.basically_satisfied) as f64 / answered as f64) } else { None },
                },
        }));
    }
    Ok(axum::Json(
        json!({ "from": from, "to": to, "by": by, "items": items }),
    ))
}

/// What `POST /cases/{id}/reveal` asks for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRevealRequest {
    /// The petitioner's position in `petitioners` (0 for the first).
    pub petitioner: usize,
    /// contact, address or id_number.
    pub field: String,
    /// Why the full value is needed (recorded in the audit log).
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/reveal", tag = "cases",
    params(("id" = Uuid, Path)), request_body = CaseRevealRequest,
    responses((status = 200, description = "{case_id, petitioner, field, value, purged}; the read is logged with who and why (never the value)", body = Object),
              (status = 403, description = "forbidden: no reveal_personal_data role here", body = Object),
              (status = 404, body = Object),
              (status = 422, description = "reason_required, invalid_field, unknown_petitioner", body = Object)))]
pub async fn reveal_petitioner(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<CaseRevealRequest>,
) -> Result<axum::Json<Value>, ApiError> {
    let (c, rec) = load(&st, Some(&actor), id).await?;
    st.require(
        &actor,
        Permission::RevealPersonalData,
        &rec.jurisdiction_path,
        "case",
    )?;
    let req = body.value;
    if !SEALED_FIELDS.contains(&req.field.as_str()) {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "`field` is contact, address or id_number",
        )
        .details(json!({ "field": "field" })));
    }
    let p = c.petitioners.get(req.petitioner).ok_or_else(|| {
        ApiError::unprocessable(
            "unknown_petitioner",
            format!("the case has {} petitioner(s)", c.petitioners.len()),
        )
    })?;
    let value = field_of(p, &req.field).clone();
    let purged = rec
        .petitioners
        .get(req.petitioner)
        .is_some_and(|r| r.purged_at.is_some());
    log_disclosure(
        &st,
        &actor,
        "case",
        c.id,
        c.jurisdiction_id,
        &format!("petitioners[{}].{}", req.petitioner, req.field),
        &req.reason,
    )
    .await?;
    Ok(axum::Json(json!({
        "case_id": c.id, "petitioner": req.petitioner, "field": req.field,
        "value": value, "purged": purged,
    })))
}

/// Re-seals every petitioner value sealed with an older key (or stored before sealing) with the
/// current key. Returns how many values changed. Idempotent; safe while serving.
pub async fn rekey_petitioners(st: &AppState) -> Result<usize, ApiError> {
    let mut n = 0;
    for (case_id, p) in st.store.all_case_petitioners().await? {
        for (field, column, stored) in [
            ("contact", "petitioner_contact", &p.contact),
            ("address", "petitioner_address", &p.address),
            ("id_number", "petitioner_id_number", &p.id_number),
        ] {
            let Some(stored) = stored else { continue };
            if stored.starts_with(PREFIX) && !st.sealer.needs_rekey(stored) {
                continue;
            }
            let plain = open_value(&st.sealer, case_id, p.ordinal, field, Some(stored))?
                .unwrap_or_default();
            let mut ws = WriteSet::default();
            ws.rows.push(Row::Sql(Stmt::new(
                format!("UPDATE case_petitioners SET {column} = ? WHERE case_id = ? AND ordinal = ? AND {column} = ?"),
                args![
                    st.sealer.seal(&plain, &petitioner_aad(case_id, p.ordinal, field)),
                    case_id,
                    p.ordinal,
                    stored
                ],
            )));
            st.store.commit(ws).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// What a purge did (or, with `dry_run`, would do).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PurgeReport {
    pub cutoff: Timestamp,
    pub cases: usize,
    pub petitioners: usize,
    pub dry_run: bool,
    /// The id of the `personal_data_purged` event's stream (none for a dry run or when nothing
    /// was due).
    pub event_stream: Option<Uuid>,
}

/// Erases the sealed personal values (contact, address, ID number) of the petitioners of every
/// case no longer open (replied or closed) whose last change is older than `cutoff`. The case,
/// its events, its statistics and the petitioners' names stay, so the hash chains still verify
/// and every count is unchanged. One `personal_data_purged` event (stream kind `purge`) records
/// who ran it, when, the cutoff and how many, in the same write.
pub async fn purge(
    st: &AppState,
    actor: &ActorRef,
    cutoff: Timestamp,
    retention_days: Option<i64>,
    dry_run: bool,
) -> Result<PurgeReport, ApiError> {
    let ids = st.store.purgeable_cases(&fmt_ts(cutoff)).await?;
    let mut petitioners = 0;
    for id in &ids {
        if let Some(rec) = st.store.get_case(*id).await? {
            petitioners += rec
                .petitioners
                .iter()
                .filter(|p| p.purged_at.is_none())
                .count();
        }
    }
    let mut report = PurgeReport {
        cutoff,
        cases: ids.len(),
        petitioners,
        dry_run,
        event_stream: None,
    };
    if dry_run || ids.is_empty() {
        return Ok(report);
    }
    let now = st.clock.now();
    let stream = Uuid::now_v7();
    let root = st
        .store
        .root_jurisdiction_id()
        .await?
        .ok_or_else(|| ApiError::internal("no root jurisdiction"))?;
    let mut ws = WriteSet::default();
    append(
        &mut ws,
        stream,
        "purge",
        root,
        0,
        None,
        actor,
        now,
        vec![Item::new(
            "personal_data_purged",
            &json!({
                "subject": "case_petitioners",
                "fields": SEALED_FIELDS,
                "retention_days": retention_days,
                "cutoff": cutoff,
                "cases": ids.len(),
                "petitioners": petitioners,
                "case_ids": ids,
            }),
            None,
        )],
    );
    for id in &ids {
        ws.rows.push(Row::Sql(Stmt::new(
            "UPDATE case_petitioners SET petitioner_contact = NULL, petitioner_address = NULL, petitioner_id_number = NULL, purged_at = ? WHERE case_id = ? AND purged_at IS NULL",
            args![now, *id],
        )));
    }
    st.store.commit(ws).await?;
    report.event_stream = Some(stream);
    Ok(report)
}
