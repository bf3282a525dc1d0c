//! Scheduled reports (定时报告, 零报告): who owes which report by when (from the plan's
//! `[[schedules]]`), submissions and nil submissions, the board of who is late, and late
//! reminders through the outbox (sent once each, by the ticker).
//!
//! Owing parties: a post named in `from` is owed once per jurisdiction (in the plan's
//! jurisdiction or below) where someone holds it, and any holder there (principal or deputy) may
//! submit; a member unit named in `from` is owed once, submitted by anyone in the plan's
//! jurisdiction or below.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::reports::{BoardRow, BoardState, Party, Slot, Submitted, board, slots_on};
use yingji_plan::Plan;
use yingji_store::{JurisdictionRow, PlanRow, ReportWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

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
    app: &App,
    plan: &Plan,
    owner: &JurisdictionRow,
    slot: &Slot,
) -> Result<Vec<Owing>, AppError> {
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
        for (jid, jname, person, _deputy) in app.store.post_holders_below(f, &owner.path).await? {
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
            if let Some(j) = app.store.jurisdiction(jid).await? {
                o.path = j.path;
            }
            out.push(o);
        }
    }
    Ok(out)
}

/// A plan's newest version, parsed, and its owner.
async fn latest_plan(
    app: &App,
    plan_id: &str,
) -> Result<(PlanRow, Arc<Plan>, JurisdictionRow), AppError> {
    let row = app
        .store
        .plan_latest(plan_id)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    let plan = app.plan(&row.plan_id, row.version).await?;
    let owner = app
        .store
        .jurisdiction(row.jurisdiction_id)
        .await?
        .ok_or_else(|| AppError::internal("plan owner missing"))?;
    Ok((row, plan, owner))
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
                content: r.content,
            })
        })
        .collect()
}

/// The start of a day in the plan's zone and of the day after.
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

/// The submissions for a plan's slots due on a day.
async fn submissions_on(
    app: &App,
    plan_id: &str,
    plan: &Plan,
    day: Date,
) -> Result<Vec<Submitted>, AppError> {
    let (from, to) = day_range(plan, day);
    Ok(submitted_of(
        app.store
            .report_submissions(plan_id, &fmt_ts(from), &fmt_ts(to))
            .await?,
    ))
}

/// The day's board of a plan: every slot × owing party with its state at `now` (no
/// permission check: callers have made it).
pub async fn board_of(
    app: &App,
    plan_row: &PlanRow,
    plan: &Plan,
    owner: &JurisdictionRow,
    day: Date,
    now: Timestamp,
) -> Result<Vec<BoardRow>, AppError> {
    let slots = slots_on(plan, day);
    let mut parties: BTreeMap<(String, Timestamp), Vec<Party>> = BTreeMap::new();
    for s in &slots {
        let o = owing(app, plan, owner, s).await?;
        parties.insert(
            (s.schedule_id.clone(), s.due_at),
            o.into_iter().map(|o| o.party).collect(),
        );
    }
    let subs = submissions_on(app, &plan_row.plan_id, plan, day).await?;
    let lookup = |s: &Slot| {
        parties
            .get(&(s.schedule_id.clone(), s.due_at))
            .cloned()
            .unwrap_or_default()
    };
    Ok(board(&slots, &lookup, &subs, now))
}

/// A plan's report board for one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    pub plan_id: String,
    /// The day (YYYY-MM-DD in the plan's zone).
    pub date: String,
    #[schema(value_type = String)]
    pub now: Timestamp,
    /// How many rows are late.
    pub late: usize,
    pub items: Vec<BoardRow>,
}

/// `GET /reports/board`: a plan's board for a day (default today), optionally only the late
/// rows. The plan's jurisdiction must be in the actor's scope (else "not found") and the actor
/// may view reports there (else "forbidden").
pub async fn board_view(
    app: &App,
    actor: &Actor,
    plan_id: &str,
    date: Option<&str>,
    late_only: bool,
) -> Result<Board, AppError> {
    let (row, plan, owner) = latest_plan(app, plan_id).await?;
    app.require(actor, Permission::ViewReports, &owner.path, "plan")?;
    let now = app.clock.now();
    let day = match date {
        Some(d) => d
            .parse::<Date>()
            .map_err(|_| AppError::new(ErrorCode::InvalidQuery, "`date` must be YYYY-MM-DD"))?,
        None => now.to_zoned(plan.time.tz.clone()).date(),
    };
    let items: Vec<BoardRow> = board_of(app, &row, &plan, &owner, day, now)
        .await?
        .into_iter()
        .filter(|r| !late_only || r.state == BoardState::Late)
        .collect();
    Ok(Board {
        plan_id: row.plan_id,
        date: day.to_string(),
        now,
        late: items.iter().filter(|r| r.state == BoardState::Late).count(),
        items,
    })
}

/// One plan's board for today.
pub struct PlanBoard {
    pub plan: Arc<Plan>,
    pub rows: Vec<BoardRow>,
}

/// Today's boards of every plan with schedules owned in the actor's scope whose reports the
/// actor may view there (the duty desk).
pub async fn boards_today(app: &App, actor: &Actor) -> Result<Vec<PlanBoard>, AppError> {
    let now = app.clock.now();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in app.store.list_plans(&actor.scope_path).await? {
        if !seen.insert(row.plan_id.clone()) {
            continue; // newest version first
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        if plan.schedules.is_empty() {
            continue;
        }
        let Some(owner) = app.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !actor.sees(&owner.path) || !actor.may(app, Permission::ViewReports, &owner.path) {
            continue;
        }
        let day = now.to_zoned(plan.time.tz.clone()).date();
        let rows = board_of(app, &row, &plan, &owner, day, now).await?;
        out.push(PlanBoard { plan, rows });
    }
    Ok(out)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmissionRequest {
    pub plan_id: String,
    pub schedule_id: String,
    /// The slot's due time (RFC 3339), as the board lists it.
    pub due_at: String,
    /// "Nothing to report" (零报告).
    #[serde(default)]
    pub nil: bool,
    /// The report; required unless `nil` or `fields` give it.
    pub content: Option<String>,
    /// The report by the schedule's `fields` (name → text): each name must be one of them.
    /// Stored with the submission and written into its content, one heading per field, in
    /// the schedule's order, before any `content`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// For a member unit in `from`: the unit id. Otherwise the post is taken from the submitter.
    pub unit: Option<String>,
}

/// A submission as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportSubmitted {
    pub id: Uuid,
    pub plan_id: String,
    pub schedule_id: String,
    #[schema(value_type = String)]
    pub due_at: Timestamp,
    /// The owing party's key (`post:{post}@{jurisdiction}` or `unit:{unit}`).
    pub party: String,
    pub party_name: String,
    pub nil: bool,
    pub content: String,
    /// Submitted after the due time.
    pub late: bool,
    #[schema(value_type = String)]
    pub submitted_at: Timestamp,
}

/// A report or nil report for one slot, by the party the submitter stands for
/// (`POST /reports/submissions`).
pub struct SubmitReport(pub ReportSubmissionRequest);

impl Command for SubmitReport {
    type Output = ReportSubmitted;

    fn kind(&self) -> &'static str {
        "report.submit"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<ReportSubmitted>, AppError> {
        let req = &self.0;
        let (row, plan, owner) = latest_plan(app, &req.plan_id).await?;
        // The submitter works in the plan's jurisdiction or below.
        if !actor.scope_path.starts_with(&owner.path) {
            return Err(AppError::not_found("plan"));
        }
        let auth = app.authorize(actor, Permission::SubmitReports, &actor.scope_path, "plan")?;
        let due_at: Timestamp = req.due_at.parse().map_err(|_| {
            AppError::field(
                ErrorCode::InvalidTime,
                "due_at",
                "`due_at` must be an RFC 3339 time",
            )
        })?;
        let day = due_at.to_zoned(plan.time.tz.clone()).date();
        let slot = slots_on(&plan, day)
            .into_iter()
            .find(|s| s.schedule_id == req.schedule_id && s.due_at == due_at)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::UnknownSlot,
                    format!(
                        "schedule `{}` has no report due at {due_at}",
                        req.schedule_id
                    ),
                )
            })?;
        if req.nil && !slot.nil_allowed {
            return Err(AppError::new(
                ErrorCode::NilNotAllowed,
                "this schedule does not accept a nil report (零报告)",
            ));
        }
        let schedule_fields: &[String] = plan
            .schedules
            .iter()
            .find(|s| s.id.value == slot.schedule_id)
            .map_or(&[], |s| s.fields.as_slice());
        if let Some(bad) = req.fields.keys().find(|k| !schedule_fields.contains(k)) {
            return Err(AppError::field(
                ErrorCode::InvalidField,
                "fields",
                format!(
                    "`{bad}` is not a field of schedule `{}` (its fields: {})",
                    slot.schedule_id,
                    schedule_fields.join("、")
                ),
            ));
        }
        if req.nil && req.fields.values().any(|v| !v.trim().is_empty()) {
            return Err(AppError::field(
                ErrorCode::InvalidField,
                "fields",
                "a nil report (零报告) has nothing to fill in",
            ));
        }
        let content = compose_content(schedule_fields, &req.fields, req.content.as_deref());
        if !req.nil && content.trim().is_empty() {
            return Err(AppError::field(
                ErrorCode::MissingField,
                "content",
                "`content` (or a `fields` entry) is required unless `nil`",
            ));
        }
        let mine = owing(app, &plan, &owner, &slot)
            .await?
            .into_iter()
            .find(|o| match (&req.unit, &o.open_to_path) {
                (Some(u), Some(p)) => {
                    o.party.key == format!("unit:{u}") && actor.scope_path.starts_with(p.as_str())
                }
                (None, None) => o.submitters.contains(&actor.person_id),
                _ => false,
            })
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotOwed,
                    "you do not hold a post (or name a unit) that owes this report",
                )
            })?;
        let already = submissions_on(app, &row.plan_id, &plan, day)
            .await?
            .iter()
            .any(|s| {
                s.schedule_id == slot.schedule_id
                    && s.due_at == slot.due_at
                    && s.party == mine.party.key
            });
        if already {
            return Err(AppError::new(
                ErrorCode::AlreadySubmitted,
                format!("{} has already submitted this report", mine.party.name),
            ));
        }
        let now = app.clock.now();
        let out = ReportSubmitted {
            id: Uuid::now_v7(),
            plan_id: row.plan_id.clone(),
            schedule_id: slot.schedule_id.clone(),
            due_at: slot.due_at,
            party: mine.party.key.clone(),
            party_name: mine.party.name.clone(),
            nil: req.nil,
            content,
            late: now > slot.due_at,
            submitted_at: now,
        };
        let payload = json!({
            "plan_id": out.plan_id, "schedule_id": out.schedule_id, "due_at": out.due_at,
            "party": out.party, "party_name": out.party_name, "nil": out.nil,
            "content": out.content, "late": out.late, "fields": req.fields,
        });
        let kind = if req.nil {
            "nil_report_submitted"
        } else {
            "report_submitted"
        };
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            out.id,
            "report",
            mine.jurisdiction_id,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new(kind, &payload, None)],
        );
        ws.rows.push(Row::Report(ReportWrite::Submission {
            id: out.id,
            plan_id: out.plan_id.clone(),
            schedule_id: out.schedule_id.clone(),
            due_at: fmt_ts(out.due_at),
            party: out.party.clone(),
            party_name: out.party_name.clone(),
            jurisdiction_path: mine.path.clone(),
            nil: out.nil,
            content: out.content.clone(),
            submitted_by: actor.person_id,
            submitted_at: fmt_ts(now),
        }));
        Ok(Decided::new(auth, ws, out))
    }

    fn respond(&self, out: &ReportSubmitted) -> JsonText {
        JsonText(serde_json::to_string(out).expect("a submission serialises"))
    }
}

/// A submission's text from the schedule's fields (a heading 【name】 and the text, in the
/// schedule's order, empty ones left out), then the free `content`.
pub fn compose_content(
    schedule_fields: &[String],
    given: &BTreeMap<String, String>,
    content: Option<&str>,
) -> String {
    let mut parts: Vec<String> = schedule_fields
        .iter()
        .filter_map(|f| {
            let v = given.get(f)?.trim();
            (!v.is_empty()).then(|| format!("【{f}】{v}"))
        })
        .collect();
    if let Some(c) = content.map(str::trim).filter(|c| !c.is_empty()) {
        parts.push(c.to_string());
    }
    parts.join("\n")
}

/// A report slot owed today by a post the actor holds (the console's "reports I owe"):
/// the board row with what the form needs.
#[derive(Debug, Clone)]
pub struct OwedReport {
    pub plan_id: String,
    pub plan_title: String,
    pub row: BoardRow,
    pub nil_allowed: bool,
    /// The schedule's fields, one text each on the form.
    pub fields: Vec<String>,
    /// Whom the report goes to (a post, group or unit name, or the command or office).
    pub to: String,
    pub tz: jiff::tz::TimeZone,
}

/// The report slots due today that a post the actor holds owes, in every plan owned in the
/// actor's jurisdiction or above it (newest version each): pending and late ones, and those
/// already in (so that the person sees what they sent). Those of a member unit, which anyone
/// in the plan's jurisdiction may send, are on the plan's board, not here.
pub async fn owed_today(app: &App, actor: &Actor) -> Result<Vec<OwedReport>, AppError> {
    let now = app.clock.now();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    if !actor.may(app, Permission::SubmitReports, &actor.scope_path) {
        return Ok(out);
    }
    for row in app.store.list_plans("/").await? {
        if !seen.insert(row.plan_id.clone()) {
            continue; // newest version first
        }
        let Some(owner) = app.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !actor.scope_path.starts_with(&owner.path) {
            continue;
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        if plan.schedules.is_empty() {
            continue;
        }
        let day = now.to_zoned(plan.time.tz.clone()).date();
        let slots = slots_on(&plan, day);
        if slots.is_empty() {
            continue;
        }
        let mut mine: Vec<(String, Timestamp, String)> = vec![];
        for s in &slots {
            for o in owing(app, &plan, &owner, s).await? {
                if o.open_to_path.is_none() && o.submitters.contains(&actor.person_id) {
                    mine.push((s.schedule_id.clone(), s.due_at, o.party.key));
                }
            }
        }
        if mine.is_empty() {
            continue;
        }
        for r in board_of(app, &row, &plan, &owner, day, now).await? {
            if !mine
                .iter()
                .any(|(id, at, key)| *id == r.schedule_id && *at == r.due_at && *key == r.party)
            {
                continue;
            }
            let schedule = plan.schedules.iter().find(|s| s.id.value == r.schedule_id);
            out.push(OwedReport {
                plan_id: row.plan_id.clone(),
                plan_title: plan.meta.title.clone(),
                nil_allowed: schedule.is_some_and(|s| s.nil_allowed),
                fields: schedule.map(|s| s.fields.clone()).unwrap_or_default(),
                to: schedule.map_or(String::new(), |s| recipient_name(&plan, &s.to.value)),
                tz: plan.time.tz.clone(),
                row: r,
            });
        }
    }
    out.sort_by_key(|o| o.row.due_at);
    Ok(out)
}

/// The name of a schedule's `to`: a post, group or member unit of the plan, or its command
/// or office.
fn recipient_name(plan: &Plan, to: &str) -> String {
    match to {
        "command" => plan.command.name.clone(),
        "office" => plan
            .office
            .as_ref()
            .map_or_else(|| to.to_string(), |o| o.name.clone()),
        _ => plan
            .posts
            .iter()
            .find(|p| p.id.value == to)
            .map(|p| p.name.clone())
            .or_else(|| {
                plan.groups
                    .iter()
                    .find(|g| g.id.value == to)
                    .map(|g| g.name.clone())
            })
            .or_else(|| {
                plan.member_units
                    .iter()
                    .find(|u| u.id.value == to)
                    .map(|u| u.name.clone())
            })
            .unwrap_or_else(|| to.to_string()),
    }
}

/// Reminds every party late with a report of one plan due today or yesterday, once each (the
/// ticker, as the system). Answers how many reminders it wrote.
pub struct RemindLate {
    pub plan_id: String,
}

impl Command for RemindLate {
    type Output = usize;

    fn kind(&self) -> &'static str {
        "report.remind"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<usize>, AppError> {
        let (row, plan, owner) = latest_plan(app, &self.plan_id).await?;
        let auth = app.authorize(actor, Permission::ViewReports, &owner.path, "plan")?;
        let now = app.clock.now();
        let today = now.to_zoned(plan.time.tz.clone()).date();
        let mut ws = WriteSet::default();
        let mut written = 0;
        for day in [today.yesterday().unwrap_or(today), today] {
            if slots_on(&plan, day).is_empty() {
                continue;
            }
            for r in board_of(app, &row, &plan, &owner, day, now).await? {
                if r.state != BoardState::Late {
                    continue;
                }
                let due = fmt_ts(r.due_at);
                if app
                    .store
                    .report_reminder_sent(&row.plan_id, &r.schedule_id, &due, &r.party, "late")
                    .await?
                {
                    continue;
                }
                late_reminder(&mut ws, &row, &plan, &owner, &r, actor, now);
                written += 1;
            }
        }
        Ok(Decided::new(auth, ws, written))
    }

    fn respond(&self, out: &usize) -> JsonText {
        JsonText(json!({ "reminders": out }).to_string())
    }
}

/// One late reminder: its own stream (named by the slot and party, so that two tickers cannot
/// both write it), the reminder row and the outbox row.
fn late_reminder(
    ws: &mut WriteSet,
    row: &PlanRow,
    plan: &Plan,
    owner: &JurisdictionRow,
    r: &BoardRow,
    actor: &Actor,
    now: Timestamp,
) {
    let due = fmt_ts(r.due_at);
    let key = format!("{}|{}|{}|{}|late", row.plan_id, r.schedule_id, due, r.party);
    let stream = Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes());
    let payload = json!({
        "plan_id": row.plan_id, "schedule_id": r.schedule_id, "schedule_name": r.schedule_name,
        "due_at": r.due_at, "party": r.party, "party_name": r.party_name,
        "text": format!(
            "{}：{}应于{}前报送，尚未报送。",
            r.schedule_name,
            r.party_name,
            r.due_at.to_zoned(plan.time.tz.clone()).strftime("%m月%d日%H:%M")
        ),
    });
    let ids = append(
        ws,
        stream,
        "report_reminder",
        owner.id,
        0,
        None,
        &actor.as_ref(),
        now,
        vec![Item::new("report_late", &payload, None)],
    );
    ws.rows.push(Row::Report(ReportWrite::Reminder {
        plan_id: row.plan_id.clone(),
        schedule_id: r.schedule_id.clone(),
        due_at: due,
        party: r.party.clone(),
        kind: "late".into(),
        created_at: fmt_ts(now),
    }));
    let unit_head = r
        .party
        .strip_prefix("unit:")
        .and_then(|u| plan.member_units.iter().find(|m| m.id.value == u))
        .and_then(|m| m.head.as_ref().map(|h| h.value.clone()));
    let notice = crate::notices::Notice::ReportLate {
        plan_id: row.plan_id.clone(),
        schedule_id: r.schedule_id.clone(),
        schedule: r.schedule_name.clone(),
        due_at: r.due_at,
        tz: plan
            .time
            .tz
            .iana_name()
            .unwrap_or("Asia/Shanghai")
            .to_string(),
        party: r.party.clone(),
        party_name: r.party_name.clone(),
        jurisdiction_id: owner.id,
        path: owner.path.clone(),
        unit_head,
    };
    ws.rows.push(notice.row(ids[0], now));
}

/// The reports part of the ticker: [`RemindLate`] for every plan with schedules, as the
/// system. Returns how many reminders were written.
pub async fn tick(app: &App) -> Result<usize, AppError> {
    let system = Actor::system();
    let mut seen = std::collections::HashSet::new();
    let mut written = 0;
    for row in app.store.list_plans("/").await? {
        if !seen.insert(row.plan_id.clone()) {
            continue; // the newest version comes first
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        if plan.schedules.is_empty() || app.store.jurisdiction(row.jurisdiction_id).await?.is_none()
        {
            continue;
        }
        let cmd = RemindLate {
            plan_id: row.plan_id.clone(),
        };
        match app.execute(&system, None, &cmd).await {
            Ok(d) => written += d.output().unwrap_or(0),
            Err(e) if e.code == yingji_domain::error::ErrorCode::Unavailable => return Err(e),
            // One plan's reminders failing does not hold up the others' (the next tick tries
            // again).
            Err(e) => {
                tracing::warn!(plan = %row.plan_id, error = %e, "late-report reminders failed")
            }
        }
    }
    Ok(written)
}
