//! Dispute screening and resolution (矛盾纠纷排查化解): screening rounds (monthly, daily inside a
//! special period of a plan that applies), each unit's return or nil return (零报告), and
//! disputes with parties, nature, area and risk, their mediation, result, follow-up, and major
//! disputes reported upward. The typed inputs (the API's JSON, and any form built on them), the
//! commands that run them, and the reads with their permission checks.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::dispute::{
    Cadence, Command, Dispute, Event, NewDispute, Party, Risk, apply, decide, round_key,
};
use yingji_domain::values::DisputeId;
use yingji_store::{
    RoundRow, Row, ScreeningSubmissionRow, ScreeningWrite, StreamRecord, WriteSet, fmt_ts,
};

use crate::command::{Command as AppCommand, Decided};
use crate::subjects::{self, SubjectKey};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// The zone screening days are counted in.
fn zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Today in the zone screening days are counted in.
pub fn today(app: &App) -> Date {
    app.clock.now().to_zoned(zone()).date()
}

/// Whether a day falls in a special period of a plan owned by this jurisdiction or above.
pub async fn in_special_period(app: &App, path: &str, day: Date) -> Result<bool, AppError> {
    let mut seen = std::collections::HashSet::new();
    for row in app.store.list_plans("/").await? {
        if !seen.insert(row.plan_id.clone()) {
            continue;
        }
        let Some(owner) = app.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !path.starts_with(&owner.path) {
            continue;
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        if plan.special_periods.iter().any(|p| p.contains(day)) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn cadence_str(c: Cadence) -> &'static str {
    match c {
        Cadence::Monthly => "monthly",
        Cadence::Daily => "daily",
    }
}

fn risk_str(r: Risk) -> &'static str {
    match r {
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "high",
        Risk::Major => "major",
    }
}

fn json_of<T: Serialize>(v: &T) -> JsonText {
    JsonText(serde_json::to_string(v).expect("answers serialise"))
}

// ---------------------------------------------------------------------------------------------
// Rounds

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRoundRequest {
    pub jurisdiction_id: Uuid,
    /// A day of the round (YYYY-MM-DD); default today.
    pub date: Option<String>,
}

/// A round as opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundOpened {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    /// `monthly`, or `daily` inside a special period.
    pub cadence: String,
    /// `2026-03` (monthly) or `2026-08-12` (daily).
    pub round_key: String,
    #[schema(value_type = String)]
    pub opened_at: Timestamp,
}

/// Where a unit stands in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnState {
    /// Nothing in yet.
    Missing,
    /// Nothing found (零报告).
    Nil,
    Submitted,
}

impl ReturnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnState::Missing => "missing",
            ReturnState::Nil => "nil",
            ReturnState::Submitted => "submitted",
        }
    }
}

/// One unit below the round's jurisdiction and its return.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitReturn {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub state: ReturnState,
    pub disputes_found: Option<i64>,
    pub note: Option<String>,
    pub submitted_at: Option<String>,
}

/// A round and each unit below it: submitted, nil or missing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundView {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub cadence: String,
    pub round_key: String,
    pub opened_at: String,
    /// How many units have not returned yet.
    pub missing: usize,
    pub units: Vec<UnitReturn>,
}

fn view_of(r: &RoundRow, units: &[(Uuid, String)], subs: &[ScreeningSubmissionRow]) -> RoundView {
    let units: Vec<UnitReturn> = units
        .iter()
        .map(|(uid, name)| {
            let s = subs.iter().find(|s| s.unit_id == *uid);
            UnitReturn {
                unit_id: *uid,
                unit_name: name.clone(),
                state: match s {
                    None => ReturnState::Missing,
                    Some(s) if s.nil => ReturnState::Nil,
                    Some(_) => ReturnState::Submitted,
                },
                disputes_found: s.map(|s| s.disputes_found),
                note: s.and_then(|s| s.note.clone()),
                submitted_at: s.map(|s| s.submitted_at.clone()),
            }
        })
        .collect();
    RoundView {
        id: r.id,
        jurisdiction_id: r.jurisdiction_id,
        cadence: r.cadence.clone(),
        round_key: r.round_key.clone(),
        opened_at: r.opened_at.clone(),
        missing: units
            .iter()
            .filter(|u| u.state == ReturnState::Missing)
            .count(),
        units,
    }
}

/// A round's view as stored now (no permission check: callers have made it).
async fn load_view(app: &App, r: &RoundRow) -> Result<RoundView, AppError> {
    let subs = app.store.screening_submissions(r.id).await?;
    let units = app.store.child_jurisdictions(r.jurisdiction_id).await?;
    Ok(view_of(r, &units, &subs))
}

/// A round the actor may see (else "not found") with the permission to view disputes there
/// (else "forbidden"): `GET /disputes/rounds/{id}`.
pub async fn round(app: &App, actor: &Actor, id: Uuid) -> Result<RoundView, AppError> {
    let r = app
        .store
        .screening_round(id)
        .await?
        .filter(|r| actor.sees(&r.jurisdiction_path))
        .ok_or_else(|| AppError::not_found("round"))?;
    app.require(
        actor,
        Permission::ViewDisputes,
        &r.jurisdiction_path,
        "round",
    )?;
    load_view(app, &r).await
}

/// The round of the actor's own jurisdiction for today, if it is open.
pub struct CurrentRound {
    pub cadence: Cadence,
    /// The key today's round has (or would have).
    pub round_key: String,
    pub round: Option<RoundView>,
}

/// Today's round of the actor's jurisdiction (the console's disputes page); needs the
/// permission to view disputes in the actor's jurisdiction.
pub async fn current_round(app: &App, actor: &Actor) -> Result<CurrentRound, AppError> {
    app.require(
        actor,
        Permission::ViewDisputes,
        &actor.scope_path,
        "jurisdiction",
    )?;
    let special = in_special_period(app, &actor.scope_path, today(app)).await?;
    let (cadence, key) = round_key(today(app), special);
    let round = match app
        .store
        .screening_round_by_key(actor.jurisdiction_id, &key)
        .await?
    {
        Some(r) => Some(load_view(app, &r).await?),
        None => None,
    };
    Ok(CurrentRound {
        cadence,
        round_key: key,
        round,
    })
}

/// The round of the jurisdiction above the actor's that the actor's own jurisdiction owes a
/// return to today (the console's return form), with the actor's unit in it.
pub struct OwedReturn {
    pub round: RoundView,
    pub unit_id: Uuid,
    pub unit_name: String,
    pub parent_name: String,
}

/// Today's open round of the parent jurisdiction, when the actor may screen disputes in their
/// own jurisdiction (the unit that returns); None when there is no parent, no permission or
/// no round open yet.
pub async fn owed_return(app: &App, actor: &Actor) -> Result<Option<OwedReturn>, AppError> {
    if !actor.may(app, Permission::ScreenDisputes, &actor.scope_path) {
        return Ok(None);
    }
    let Some(unit) = app.store.jurisdiction(actor.jurisdiction_id).await? else {
        return Ok(None);
    };
    let Some(parent) = (match unit.parent_id {
        Some(p) => app.store.jurisdiction(p).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let special = in_special_period(app, &parent.path, today(app)).await?;
    let (_, key) = round_key(today(app), special);
    let Some(r) = app.store.screening_round_by_key(parent.id, &key).await? else {
        return Ok(None);
    };
    Ok(Some(OwedReturn {
        round: load_view(app, &r).await?,
        unit_id: unit.id,
        unit_name: unit.name,
        parent_name: parent.name,
    }))
}

/// Opens the screening round a day belongs to in a jurisdiction (`POST /disputes/rounds`).
pub struct OpenRound(pub OpenRoundRequest);

impl AppCommand for OpenRound {
    type Output = RoundOpened;

    fn kind(&self) -> &'static str {
        "round.open"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<RoundOpened>, AppError> {
        let req = &self.0;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::ScreenDisputes, &j.path, "jurisdiction")?;
        let now = app.clock.now();
        let day = match &req.date {
            Some(d) => d.parse::<Date>().map_err(|_| {
                AppError::field(ErrorCode::InvalidField, "date", "`date` must be YYYY-MM-DD")
            })?,
            None => now.to_zoned(zone()).date(),
        };
        let special = in_special_period(app, &j.path, day).await?;
        let (cadence, key) = round_key(day, special);
        if let Some(r) = app.store.screening_round_by_key(j.id, &key).await? {
            return Err(AppError::new(
                ErrorCode::RoundExists,
                format!("round {key} is already open"),
            )
            .details(json!({ "id": r.id })));
        }
        let out = RoundOpened {
            id: Uuid::now_v7(),
            jurisdiction_id: j.id,
            cadence: cadence_str(cadence).to_string(),
            round_key: key,
            opened_at: now,
        };
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            out.id,
            "screening_round",
            j.id,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new("screening_round_opened", &out, None)],
        );
        ws.rows.push(Row::Screening(ScreeningWrite::Round {
            id: out.id,
            jurisdiction_id: j.id,
            jurisdiction_path: j.path.clone(),
            cadence: out.cadence.clone(),
            round_key: out.round_key.clone(),
            opened_at: fmt_ts(now),
        }));
        Ok(Decided::new(auth, ws, out))
    }

    fn respond(&self, out: &RoundOpened) -> JsonText {
        json_of(out)
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
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

/// A unit's return for a round, or its nil return
/// (`POST /disputes/rounds/{id}/submissions`). Answers the round after it.
pub struct SubmitReturn {
    pub round_id: Uuid,
    pub req: RoundSubmissionRequest,
}

impl AppCommand for SubmitReturn {
    type Output = RoundView;

    fn kind(&self) -> &'static str {
        "round.submit"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<RoundView>, AppError> {
        let req = &self.req;
        let unit = app.scoped_jurisdiction(actor, req.unit_id, "unit").await?;
        let auth = app.authorize(actor, Permission::ScreenDisputes, &unit.path, "unit")?;
        let r = app
            .store
            .screening_round(self.round_id)
            .await?
            .ok_or_else(|| AppError::not_found("round"))?;
        if unit.parent_id != Some(r.jurisdiction_id) {
            return Err(AppError::new(
                ErrorCode::NotOwed,
                "this unit does not owe a submission to this round",
            ));
        }
        if req.nil && req.disputes_found > 0 {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "a nil submission finds no disputes",
            ));
        }
        let mut subs = app.store.screening_submissions(r.id).await?;
        if subs.iter().any(|s| s.unit_id == unit.id) {
            return Err(AppError::new(
                ErrorCode::AlreadySubmitted,
                format!("{} has already submitted for this round", unit.name),
            ));
        }
        let now = app.clock.now();
        let (version, head) = app
            .store
            .stream_head(r.id)
            .await?
            .ok_or_else(|| AppError::internal("round stream missing"))?;
        let payload = json!({
            "round_id": r.id, "unit_id": unit.id, "unit_name": unit.name, "nil": req.nil,
            "disputes_found": req.disputes_found, "note": req.note,
        });
        let kind = if req.nil {
            "screening_nil_submitted"
        } else {
            "screening_submitted"
        };
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            r.id,
            "screening_round",
            r.jurisdiction_id,
            version,
            Some(&head),
            &actor.as_ref(),
            now,
            vec![Item::new(kind, &payload, None)],
        );
        ws.rows.push(Row::Screening(ScreeningWrite::Submission {
            round_id: r.id,
            unit_id: unit.id,
            nil: req.nil,
            disputes_found: req.disputes_found,
            note: req.note.clone(),
            submitted_by: actor.person_id,
            submitted_at: fmt_ts(now),
        }));
        // The answer: the round with this return in it.
        subs.push(ScreeningSubmissionRow {
            unit_id: unit.id,
            nil: req.nil,
            disputes_found: i64::from(req.disputes_found),
            note: req.note.clone(),
            submitted_by: actor.person_id.to_string(),
            submitted_at: fmt_ts(now),
        });
        let units = app.store.child_jurisdictions(r.jurisdiction_id).await?;
        Ok(Decided::new(auth, ws, view_of(&r, &units, &subs)))
    }

    fn respond(&self, out: &RoundView) -> JsonText {
        json_of(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Disputes

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisputeRequest {
    pub jurisdiction_id: Uuid,
    pub round_id: Option<Uuid>,
    pub title: String,
    /// Names and roles only.
    pub parties: Vec<Party>,
    pub nature: String,
    pub area: String,
    /// low, medium, high or major (重大疑难).
    pub risk: Risk,
    #[serde(default)]
    pub summary: String,
}

/// The body of a command on a dispute. Which keys apply depends on the action.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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

/// What a command on a dispute does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisputeAction {
    /// Assign for mediation, with an optional deadline.
    Assign {
        unit: String,
        due_on: Option<Date>,
    },
    /// The mediation's result.
    Result {
        resolved: bool,
        result: String,
    },
    /// A follow-up visit.
    FollowUp {
        note: String,
    },
    /// Report a major dispute to the level above.
    ReportUpward {
        reason: String,
    },
    Close,
}

/// The action names of `POST /disputes/{id}/{action}`.
pub const ACTIONS: &[&str] = &["assign", "result", "follow-up", "report-upward", "close"];

impl DisputeAction {
    /// The command kind (`dispute.<action>`).
    pub fn kind(&self) -> &'static str {
        match self {
            DisputeAction::Assign { .. } => "dispute.assign",
            DisputeAction::Result { .. } => "dispute.result",
            DisputeAction::FollowUp { .. } => "dispute.follow-up",
            DisputeAction::ReportUpward { .. } => "dispute.report-upward",
            DisputeAction::Close => "dispute.close",
        }
    }

    /// The typed action for an action name and its request body: the one validation every
    /// entry point uses. An unknown name is "not found".
    pub fn parse(action: &str, req: &DisputeActionRequest) -> Result<DisputeAction, AppError> {
        // Personal numbers typed into free text are masked (`redact`).
        let s = |v: &Option<String>| crate::redact::text(v.as_deref().unwrap_or_default());
        Ok(match action {
            "assign" => DisputeAction::Assign {
                unit: s(&req.unit),
                due_on: req
                    .due_on
                    .as_deref()
                    .map(|x| x.parse::<Date>())
                    .transpose()
                    .map_err(|_| {
                        AppError::field(
                            ErrorCode::InvalidField,
                            "due_on",
                            "`due_on` must be YYYY-MM-DD",
                        )
                    })?,
            },
            "result" => DisputeAction::Result {
                resolved: req.resolved.unwrap_or(false),
                result: s(&req.result),
            },
            "follow-up" => DisputeAction::FollowUp { note: s(&req.note) },
            "report-upward" => DisputeAction::ReportUpward {
                reason: s(&req.reason),
            },
            "close" => DisputeAction::Close,
            _ => return Err(AppError::not_found("action")),
        })
    }

    /// Whether the domain would take this action on the dispute as it stands (the console
    /// offers an action only then; the command checks again, with the permission).
    pub fn fits(&self, d: &Dispute) -> bool {
        decide(Some(d), &self.command()).is_ok()
    }

    fn command(&self) -> Command {
        match self.clone() {
            DisputeAction::Assign { unit, due_on } => Command::Assign { unit, due_on },
            DisputeAction::Result { resolved, result } => Command::Result { resolved, result },
            DisputeAction::FollowUp { note } => Command::FollowUp { note },
            DisputeAction::ReportUpward { reason } => Command::ReportUpward { reason },
            DisputeAction::Close => Command::Close,
        }
    }
}

/// The place a party's name is sealed for in the dispute's row (associated data).
pub fn party_aad(dispute_id: Uuid, position: usize) -> String {
    format!("disputes.party:{dispute_id}:{position}")
}

/// The place a party's name is sealed for in the dispute's `registered` event.
pub fn event_party_aad(dispute_id: Uuid, position: usize) -> String {
    format!("events.dispute_registered.party:{dispute_id}:{position}")
}

/// The parties with their names sealed with the dispute's key (roles stay in clear).
fn sealed_parties(
    parties: &[Party],
    key: &SubjectKey,
    aad: impl Fn(usize) -> String,
) -> Vec<Party> {
    parties
        .iter()
        .enumerate()
        .map(|(i, p)| Party {
            name: key.seal(&p.name, &aad(i)),
            role: p.role.clone(),
        })
        .collect()
}

/// A dispute as stored, as it is shown: its parties' names (sealed with the dispute's key)
/// opened; empty once `yingji purge` destroyed the key. Names stored before migration 0013 are
/// shown as they are.
pub async fn opened(app: &App, mut d: Dispute) -> Result<Dispute, AppError> {
    if !d.parties.iter().any(|p| subjects::is_sealed(&p.name)) {
        return Ok(d);
    }
    let row = app.store.subject_key("dispute", d.id).await?;
    let key = subjects::unwrap_row(app, row.as_ref())?;
    for (i, p) in d.parties.iter_mut().enumerate() {
        if !subjects::is_sealed(&p.name) {
            continue;
        }
        p.name = match &key {
            None => String::new(),
            Some(k) => k
                .open(&p.name, &party_aad(d.id, i))
                .map_err(|e| AppError::internal(format!("dispute {}: party {i}: {e}", d.id)))?,
        };
    }
    Ok(d)
}

/// The projection row of a dispute.
fn dispute_row(d: &Dispute, path: &str) -> Row {
    Row::Screening(ScreeningWrite::Dispute {
        id: d.id,
        jurisdiction_id: d.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        round_id: d.round_id,
        status: d.status.as_str().to_string(),
        risk: risk_str(d.risk).to_string(),
        nature: d.nature.clone(),
        title: d.title.clone(),
        reported_upward: d.reported_upward.is_some(),
        registered_at: fmt_ts(d.registered_at),
        updated_at: fmt_ts(d.updated_at),
        body: serde_json::to_string(d).expect("dispute serialises"),
    })
}

/// Registers a dispute in a jurisdiction (`POST /disputes`).
pub struct RegisterDispute(pub NewDisputeRequest);

impl AppCommand for RegisterDispute {
    type Output = Dispute;

    fn kind(&self) -> &'static str {
        "dispute.register"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Dispute>, AppError> {
        let req = &self.0;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::ScreenDisputes, &j.path, "jurisdiction")?;
        if let Some(rid) = req.round_id {
            app.store
                .screening_round(rid)
                .await?
                .filter(|r| j.path.starts_with(&r.jurisdiction_path))
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::UnknownRound,
                        "the round is not this jurisdiction's or above it",
                    )
                })?;
        }
        let n = NewDispute {
            jurisdiction_id: j.id,
            round_id: req.round_id,
            // Personal numbers typed into free text are masked (`redact`).
            title: crate::redact::text(&req.title),
            parties: req.parties.clone(),
            nature: req.nature.clone(),
            area: crate::redact::text(&req.area),
            risk: req.risk,
            summary: crate::redact::text(&req.summary),
        };
        let events = decide(None, &Command::Register(n))?;
        let now = app.clock.now();
        let id = Uuid::now_v7();
        let actor_ref = actor.as_ref();
        let mut d = None;
        for e in &events {
            d = apply(d, id, e, now, &actor_ref);
        }
        let d = d.ok_or_else(|| AppError::internal("a registration created no dispute"))?;
        let mut ws = WriteSet::default();
        // The parties' names are sealed with the dispute's own key, in its row and its
        // registration event, so that `yingji purge` can erase them (crypto-shredding).
        let key = SubjectKey::create(&mut ws, &app.sealer, "dispute", id, now);
        let logged: Vec<Event> = events
            .iter()
            .map(|e| match e {
                Event::Registered { dispute } => Event::Registered {
                    dispute: NewDispute {
                        parties: sealed_parties(&dispute.parties, &key, |i| event_party_aad(id, i)),
                        ..dispute.clone()
                    },
                },
                e => e.clone(),
            })
            .collect();
        let mut stored = d.clone();
        stored.parties = sealed_parties(&d.parties, &key, |i| party_aad(id, i));
        append(
            &mut ws,
            id,
            "dispute",
            j.id,
            0,
            None,
            &actor_ref,
            now,
            logged
                .iter()
                .map(|e| Item::new(e.kind(), e, None))
                .collect(),
        );
        ws.rows.push(dispute_row(&stored, &j.path));
        // Found by its title, place and kind (the parties' names are sealed, not indexed).
        ws.rows.extend(yingji_store::search::index_row(
            "dispute",
            d.id,
            &j.path,
            &yingji_domain::search::terms(&format!("{} {} {}", d.title, d.area, d.nature)),
        ));
        Ok(Decided::new(auth, ws, d))
    }

    fn respond(&self, out: &Dispute) -> JsonText {
        json_of(out)
    }
}

/// A command on one dispute (`POST /disputes/{id}/{action}`).
pub struct OnDispute {
    pub id: DisputeId,
    pub action: DisputeAction,
}

impl AppCommand for OnDispute {
    type Output = Dispute;

    fn kind(&self) -> &'static str {
        self.action.kind()
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Dispute>, AppError> {
        let rec = app
            .store
            .get_dispute(self.id.0)
            .await?
            .ok_or_else(|| AppError::not_found("dispute"))?;
        let auth = app.authorize(
            actor,
            Permission::ScreenDisputes,
            &rec.jurisdiction_path,
            "dispute",
        )?;
        // Decided on the dispute rebuilt from its events (see `replay`).
        let rebuilt = crate::replay::dispute(app, rec.id)
            .await?
            .ok_or_else(|| AppError::not_found("dispute"))?;
        let mut d = rebuilt.state;
        // The parties' names are sealed for their place (the event's differ from the row's); no
        // decision reads them, and the row keeps its own.
        d.parties = serde_json::from_str::<Dispute>(&rec.body)
            .map_err(AppError::internal)?
            .parties;
        let events = decide(Some(&d), &self.action.command())?;
        let now = app.clock.now();
        let actor_ref = actor.as_ref();
        let mut after = Some(d);
        for e in &events {
            after = apply(after, rec.id, e, now, &actor_ref);
        }
        let after = after.ok_or_else(|| AppError::internal("a dispute stopped being one"))?;
        let mut ws = WriteSet::default();
        let ids = append(
            &mut ws,
            rec.id,
            "dispute",
            rec.jurisdiction_id,
            rebuilt.version,
            rebuilt.head_hash.as_deref(),
            &actor_ref,
            now,
            events
                .iter()
                .map(|e| Item::new(e.kind(), e, None))
                .collect(),
        );
        for (eid, e) in ids.iter().zip(&events) {
            if let Event::ReportedUpward { reason } = e {
                ws.rows
                    .push(reported_upward(app, &rec, &after, *eid, reason, now).await?);
            }
        }
        ws.rows.push(dispute_row(&after, &rec.jurisdiction_path));
        let after = opened(app, after).await?;
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Dispute) -> JsonText {
        json_of(out)
    }
}

/// The outbox row that tells the level above of a major dispute.
async fn reported_upward(
    app: &App,
    rec: &StreamRecord,
    d: &Dispute,
    event_id: Uuid,
    reason: &str,
    now: Timestamp,
) -> Result<Row, AppError> {
    let parent = app
        .store
        .jurisdiction(rec.jurisdiction_id)
        .await?
        .and_then(|j| j.parent_id);
    Ok(crate::notices::Notice::DisputeReportedUpward {
        dispute_id: d.id,
        title: d.title.clone(),
        reason: reason.to_string(),
        jurisdiction_id: rec.jurisdiction_id,
        path: rec.jurisdiction_path.clone(),
        to_jurisdiction: parent,
    }
    .row(event_id, now))
}

/// A dispute the actor may see (else "not found") and view (else "forbidden").
pub async fn dispute(app: &App, actor: &Actor, id: Uuid) -> Result<Dispute, AppError> {
    let rec = app
        .store
        .get_dispute(id)
        .await?
        .ok_or_else(|| AppError::not_found("dispute"))?;
    app.require(
        actor,
        Permission::ViewDisputes,
        &rec.jurisdiction_path,
        "dispute",
    )?;
    let d: Dispute = serde_json::from_str(&rec.body).map_err(AppError::internal)?;
    opened(app, d).await
}

/// Which disputes to list.
#[derive(Debug, Clone, Default)]
pub struct DisputeQuery {
    /// This jurisdiction and below (default: the actor's).
    pub jurisdiction_id: Option<Uuid>,
    pub status: Option<String>,
    /// Only those reported upward (or only those not).
    pub reported_upward: Option<bool>,
    /// The page after this dispute (the `next` cursor of the previous page).
    pub before: Option<Uuid>,
    /// 1–200 (default 50; clamped).
    pub limit: Option<i64>,
}

/// Disputes, newest first; `next` is the cursor of the next page (`before=`), null on the last.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisputeList {
    pub items: Vec<Dispute>,
    pub next: Option<Uuid>,
}

/// The disputes in a subtree the actor may see and view, newest first.
pub async fn list(app: &App, actor: &Actor, q: &DisputeQuery) -> Result<DisputeList, AppError> {
    let scope = match q.jurisdiction_id {
        None => actor.scope_path.clone(),
        Some(j) => {
            app.scoped_jurisdiction(actor, j, "jurisdiction")
                .await?
                .path
        }
    };
    app.require(actor, Permission::ViewDisputes, &scope, "jurisdiction")?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let mut rows = app
        .store
        .list_disputes(
            &scope,
            q.status.as_deref(),
            q.reported_upward,
            q.before,
            limit + 1,
        )
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut items = vec![];
    for d in rows
        .iter()
        .filter_map(|b| serde_json::from_str::<Dispute>(b).ok())
    {
        items.push(opened(app, d).await?);
    }
    let next = if more {
        items.last().map(|d| d.id)
    } else {
        None
    };
    Ok(DisputeList { items, next })
}
