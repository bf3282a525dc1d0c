//! Petition cases (信访事项): the typed inputs (the API's JSON and the console's forms both become
//! these, through the same validation), the commands that run them — registration with its case
//! number, every case action, referral, the supervision tick, the logged reveal of sealed
//! petitioner data, the retention purge — the console's [`Checker`], the read functions with
//! their typed answers, and re-sealing petitioner values with the current key.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::case::{
    Case, CaseSettings, Category, Channel, Command, Ctx, Event, ExtensionState, Form, NewCase,
    Origin, Petitioner, RouteKind, Satisfaction, apply_all, decide,
};
use yingji_domain::values::CaseId;
use yingji_domain::{ActorRef, PersonRef};
use yingji_store::{
    CaseFilter, CaseRecord, CaseRow, CaseWrite, JurisdictionRow, PetitionerField, Row, StatCounts,
    SubjectKeyWrite, WriteSet, fmt_ts,
};

use crate::command::{Command as AppCommand, Decided};
use crate::sealer::{PREFIX, Sealer, mask_address, mask_id_number, mask_phone};
use crate::subjects::{self, SubjectKey};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

// ---------------------------------------------------------------------------------------------
// Inputs

/// A petitioner as received: name, and optionally what a reply needs.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PetitionerRequest {
    pub name: String,
    pub contact: Option<String>,
    pub address: Option<String>,
    /// 15 or 18 characters: digits, the last may be X.
    #[serde(default)]
    pub id_number: Option<String>,
}

/// A petition as received. Personal data is limited to what a reply needs.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseRequest {
    pub jurisdiction_id: Uuid,
    /// letter, phone, online, fax or visit.
    pub channel: String,
    /// single or collective (default single).
    pub form: Option<String>,
    /// How many people (collective petitions: 2 or more).
    pub headcount: Option<u32>,
    /// The petitioner (a single petition has exactly one), or the representatives of a
    /// collective petition.
    #[serde(default)]
    pub petitioners: Vec<PetitionerRequest>,
    pub title: String,
    /// The grievance (诉求).
    pub grievance: String,
    /// A case type with a clock of its own in the configuration (default `general`).
    pub case_type: Option<String>,
    /// When it was received (RFC 3339; default now). The clock runs from its day. Not in the
    /// future; older than the configuration's `max_backdate_days` only with `backdate_reason`.
    pub received_at: Option<String>,
    /// Why a petition received long ago is registered only now (recorded as the registration's
    /// reason); required when `received_at` is older than `max_backdate_days`.
    pub backdate_reason: Option<String>,
    /// Earlier cases on the same grievance (重复信访).
    #[serde(default)]
    pub related_cases: Vec<Uuid>,
    /// The incident the petition came from.
    pub incident_id: Option<Uuid>,
}

/// The body of a case command; which keys apply depends on the action (see docs/cases.md).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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
    /// supervise: chase, report_demanded or joint_investigation (with `note`: what is asked).
    pub step: Option<String>,
}

/// What `POST /cases/{id}/reveal` asks for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRevealRequest {
    /// The petitioner's position in `petitioners` (0 for the first).
    pub petitioner: usize,
    /// contact, address or id_number.
    pub field: String,
    /// Why the full value is needed (recorded in the audit log).
    pub reason: String,
}

fn enum_of<T: serde::de::DeserializeOwned>(v: &str, field: &'static str) -> Result<T, AppError> {
    serde_json::from_value(Value::String(v.to_string())).map_err(|_| {
        AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{v}` is not a valid `{field}`"),
        )
    })
}

fn need<T: Clone>(v: &Option<T>, field: &'static str) -> Result<T, AppError> {
    v.clone().ok_or_else(|| AppError::missing(field))
}

/// The action names of `POST /cases/{id}/{action}` (and the console's forms).
pub const ACTIONS: &[&str] = &[
    "classify",
    "propose",
    "approve",
    "route",
    "lead",
    "extension-request",
    "extension-decision",
    "reply",
    "follow-up",
    "link",
];

/// What a command on a case does.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseAction {
    /// A command the domain decides as it is.
    Decide(Command),
    /// Routing; a referral (转交) names a jurisdiction below, where a case of its own is
    /// opened in the same write.
    Route {
        kind: RouteKind,
        target: String,
        target_jurisdiction_id: Option<Uuid>,
        notice: Option<String>,
    },
    /// The 包案领导, a known person.
    Lead { person_id: Uuid },
    /// Another case the actor may see.
    LinkCase { case_id: Uuid },
    /// An incident the actor may see.
    LinkIncident { incident_id: Uuid },
}

impl CaseAction {
    /// The command kind (`case.<action>`).
    pub fn kind(&self) -> &'static str {
        match self {
            CaseAction::Route { .. } => "case.route",
            CaseAction::Lead { .. } => "case.lead",
            CaseAction::LinkCase { .. } | CaseAction::LinkIncident { .. } => "case.link",
            CaseAction::Decide(cmd) => match cmd {
                Command::Register(_) => "case.register",
                Command::Classify { .. } => "case.classify",
                Command::Propose { .. } => "case.propose",
                Command::Approve { .. } => "case.approve",
                Command::Route { .. } => "case.route",
                Command::AssignLead { .. } => "case.lead",
                Command::RequestExtension { .. } => "case.extension-request",
                Command::DecideExtension { .. } => "case.extension-decision",
                Command::Reply { .. } => "case.reply",
                Command::FollowUp { .. } => "case.follow-up",
                Command::LinkCase { .. } | Command::LinkIncident { .. } => "case.link",
                Command::Supervise { .. } => "case.supervise",
                Command::IssueDocument { .. } => "case.document",
            },
        }
    }

    /// The typed action for an action name and its request body: the one validation both the
    /// API and the console use. An unknown name is "not found".
    pub fn parse(action: &str, req: &CaseActionRequest) -> Result<CaseAction, AppError> {
        // Personal numbers typed into free text are masked (`redact`).
        let mut req = req.clone();
        for t in [
            &mut req.topic,
            &mut req.text,
            &mut req.note,
            &mut req.notice,
            &mut req.reason,
            &mut req.summary,
        ] {
            crate::redact::opt(t);
        }
        let req = &req;
        let cmd = match action {
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
                        AppError::field(
                            ErrorCode::InvalidField,
                            "date",
                            "`date` must be YYYY-MM-DD",
                        )
                    })?,
                    channel: need(&req.channel, "channel")?,
                    summary: need(&req.summary, "summary")?,
                }
            }
            "supervise" => Command::Supervise {
                step: enum_of(&need(&req.step, "step")?, "step")?,
                note: need(&req.note, "note")?,
            },
            "follow-up" => Command::FollowUp {
                satisfaction: enum_of(&need(&req.satisfaction, "satisfaction")?, "satisfaction")?,
                note: req.note.clone(),
            },
            "route" => {
                let kind: RouteKind = enum_of(&need(&req.kind, "kind")?, "kind")?;
                let target = need(&req.target, "target")?;
                let target_jurisdiction_id = if kind == RouteKind::Refer {
                    Some(need(&req.target_jurisdiction_id, "target_jurisdiction_id")?)
                } else {
                    None
                };
                return Ok(CaseAction::Route {
                    kind,
                    target,
                    target_jurisdiction_id,
                    notice: req.notice.clone(),
                });
            }
            "lead" => {
                return Ok(CaseAction::Lead {
                    person_id: need(&req.person_id, "person_id")?,
                });
            }
            "link" => {
                return match (req.case_id, req.incident_id) {
                    (Some(case_id), None) => Ok(CaseAction::LinkCase { case_id }),
                    (None, Some(incident_id)) => Ok(CaseAction::LinkIncident { incident_id }),
                    _ => Err(AppError::new(
                        ErrorCode::MissingField,
                        "give exactly one of `case_id` and `incident_id`",
                    )),
                };
            }
            _ => return Err(AppError::not_found("action")),
        };
        Ok(CaseAction::Decide(cmd))
    }

    /// The permission the action needs in the case's jurisdiction.
    pub fn permission(&self) -> Permission {
        match self {
            CaseAction::Decide(Command::Approve { .. } | Command::DecideExtension { .. }) => {
                Permission::ApproveCase
            }
            _ => Permission::HandleCase,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration, sealing, shown form

/// The case settings of a jurisdiction: its own entry in the configuration, or the nearest
/// ancestor's, or the defaults. Entries are keyed by jurisdiction code or name. Also answers the
/// jurisdiction's code (its name when it has none), which case numbers carry.
pub async fn settings_for(
    app: &App,
    jurisdiction_path: &str,
) -> Result<(CaseSettings, String), AppError> {
    let ids: Vec<Uuid> = jurisdiction_path
        .split('/')
        .filter(|s| !s.is_empty())
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let mut keys = vec![];
    let mut code = String::new();
    for (i, id) in ids.iter().rev().enumerate() {
        if let Some(j) = app.store.jurisdiction(*id).await? {
            if i == 0 {
                code = j.code.clone().unwrap_or_else(|| j.name.clone());
            }
            if let Some(c) = j.code {
                keys.push(c);
            }
            keys.push(j.name);
        }
    }
    let s = app
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

/// The place a petitioner's masked value in the case's `registered` event is sealed for.
pub fn event_aad(case_id: Uuid, ordinal: i64, field: &str) -> String {
    format!("events.registered.{field}:{case_id}:{ordinal}")
}

/// The sealed petitioner fields, as named in the API and in the associated data.
pub const SEALED_FIELDS: [&str; 3] = ["contact", "address", "id_number"];

fn field_of(p: &Petitioner, field: PetitionerField) -> &Option<String> {
    match field {
        PetitionerField::Contact => &p.contact,
        PetitionerField::Address => &p.address,
        PetitionerField::IdNumber => &p.id_number,
    }
}

/// Opens a stored petitioner value: sealed with the case's subject key (`subject1:`), or with
/// the data key (`sealed1:`, before migration 0013, until `yingji rekey`); values stored before
/// sealing are returned as they are.
fn open_value(
    sealer: &Sealer,
    key: Option<&SubjectKey>,
    case_id: Uuid,
    ordinal: i64,
    field: &str,
    stored: Option<&str>,
) -> Result<Option<String>, AppError> {
    match stored {
        None => Ok(None),
        Some(s) if subjects::is_sealed(s) => key
            .ok_or_else(|| {
                AppError::internal(format!(
                    "case {case_id}: petitioner {ordinal} {field}: sealed with a subject key the case no longer has"
                ))
            })?
            .open(s, &petitioner_aad(case_id, ordinal, field))
            .map(Some)
            .map_err(|e| {
                AppError::internal(format!("case {case_id}: petitioner {ordinal} {field}: {e}"))
            }),
        Some(s) if !s.starts_with(PREFIX) => Ok(Some(s.to_string())),
        Some(s) => sealer
            .open(s, &petitioner_aad(case_id, ordinal, field))
            .map(Some)
            .map_err(|e| {
                AppError::internal(format!("case {case_id}: petitioner {ordinal} {field}: {e}"))
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

/// The event as written to the log: a registration carries the petitioners' masks only, each
/// sealed with the case's subject key (so that `yingji purge` makes even the masks unreadable,
/// though the hash chain keeps the event as written).
fn logged_event(e: &Event, case_id: Uuid, key: Option<&SubjectKey>) -> Event {
    match e {
        Event::Registered {
            case,
            accepted_on,
            clock,
            due,
            due_at,
        } => {
            let mut n = case.as_ref().clone();
            n.petitioners = n
                .petitioners
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let m = masked(p);
                    let Some(key) = key else { return m };
                    let seal = |field: PetitionerField, v: Option<String>| {
                        v.map(|v| key.seal(&v, &event_aad(case_id, i as i64, field.as_str())))
                    };
                    Petitioner {
                        name: m.name,
                        contact: seal(PetitionerField::Contact, m.contact),
                        address: seal(PetitionerField::Address, m.address),
                        id_number: seal(PetitionerField::IdNumber, m.id_number),
                    }
                })
                .collect();
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

/// A case as the API answers it: the case with its petitioners masked, and its status in
/// words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    /// The case: id, number, status, channel, form, petitioners (masked), clock, due date, the
    /// approval chain, routing, extension, supervision, reply, follow-up, links.
    #[serde(flatten)]
    pub case: Case,
    /// The status as the office says it (已登记, 待审批…).
    pub status_label: &'static str,
}

impl CaseView {
    pub fn of(c: &Case) -> CaseView {
        let mut shown = c.clone();
        shown.petitioners = c.petitioners.iter().map(masked).collect();
        CaseView {
            case: shown,
            status_label: status_label(c),
        }
    }

    pub fn json(&self) -> JsonText {
        JsonText(serde_json::to_string(self).expect("a case serialises"))
    }
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

// ---------------------------------------------------------------------------------------------
// Loading

/// The case as a command decides on it: rebuilt from its events (see `replay`), not read from
/// its row, with its petitioners' values from their own rows; `rec` then expects the stream as
/// read.
pub(crate) async fn case_for_decision(app: &App, rec: &mut CaseRecord) -> Result<Case, AppError> {
    let events = app.store.stream_events(rec.id).await?;
    let mut folded =
        crate::replay::case_from(rec.id, &events)?.ok_or_else(|| AppError::not_found("case"))?;
    rec.version = events.len() as i64;
    rec.head_hash = events.last().map(|e| e.hash.clone()).unwrap_or_default();
    folded.petitioners.clear();
    rec.body = serde_json::to_string(&folded).map_err(AppError::internal)?;
    open_case(app, rec)
}

/// A stored case with its petitioners' values opened.
pub fn open_case(app: &App, rec: &CaseRecord) -> Result<Case, AppError> {
    let mut c: Case = serde_json::from_str(&rec.body).map_err(AppError::internal)?;
    let key = subjects::unwrap_row(app, rec.subject_key.as_ref())?;
    c.petitioners = rec
        .petitioners
        .iter()
        .map(|p| {
            let open = |field: &str, v: &Option<String>| {
                open_value(
                    &app.sealer,
                    key.as_ref(),
                    rec.id,
                    p.ordinal,
                    field,
                    v.as_deref(),
                )
            };
            Ok(Petitioner {
                name: p.name.clone(),
                contact: open("contact", &p.contact)?,
                address: open("address", &p.address)?,
                id_number: open("id_number", &p.id_number)?,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(c)
}

/// A stored case, or "not found".
async fn record(app: &App, id: Uuid) -> Result<CaseRecord, AppError> {
    app.store
        .get_case(id)
        .await?
        .ok_or_else(|| AppError::not_found("case"))
}

/// A case the actor may see (else 404) and read (`view_cases`, else 403).
pub async fn load(app: &App, actor: &Actor, id: Uuid) -> Result<(Case, CaseRecord), AppError> {
    let rec = record(app, id).await?;
    app.require(actor, Permission::ViewCases, &rec.jurisdiction_path, "case")?;
    let c = open_case(app, &rec)?;
    Ok((c, rec))
}

// ---------------------------------------------------------------------------------------------
// Writes

#[derive(Default, Clone, PartialEq, Eq)]
struct Contribution {
    key: (String, String, String, String, String),
    n: StatCounts,
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
        n: StatCounts {
            received: 1,
            replied: i64::from(replied),
            on_time: i64::from(on_time),
            overdue: i64::from(overdue),
            extended: i64::from(extended),
            satisfied: i64::from(sat == Some(Satisfaction::Satisfied)),
            basically_satisfied: i64::from(sat == Some(Satisfaction::BasicallySatisfied)),
            dissatisfied: i64::from(sat == Some(Satisfaction::Dissatisfied)),
        },
    }
}

fn scaled(n: StatCounts, f: impl Fn(i64) -> i64) -> StatCounts {
    StatCounts {
        received: f(n.received),
        replied: f(n.replied),
        on_time: f(n.on_time),
        overdue: f(n.overdue),
        extended: f(n.extended),
        satisfied: f(n.satisfied),
        basically_satisfied: f(n.basically_satisfied),
        dissatisfied: f(n.dissatisfied),
    }
}

fn minus(a: StatCounts, b: StatCounts) -> StatCounts {
    StatCounts {
        received: a.received - b.received,
        replied: a.replied - b.replied,
        on_time: a.on_time - b.on_time,
        overdue: a.overdue - b.overdue,
        extended: a.extended - b.extended,
        satisfied: a.satisfied - b.satisfied,
        basically_satisfied: a.basically_satisfied - b.basically_satisfied,
        dissatisfied: a.dissatisfied - b.dissatisfied,
    }
}

fn stats_upsert(ws: &mut WriteSet, c: &Contribution, n: StatCounts) {
    let (p, q, d, cat, ch) = c.key.clone();
    ws.rows.push(Row::Case(CaseWrite::Stats {
        jurisdiction_path: p,
        quarter: q,
        department: d,
        category: cat,
        channel: ch,
        n,
    }));
}

/// The query rows of a case and its statistics delta.
fn case_rows(
    ws: &mut WriteSet,
    before: Option<&Case>,
    after: &Case,
    path: &str,
    settings: &CaseSettings,
    key: Option<&SubjectKey>,
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
    let extension_requested = after
        .extension
        .as_ref()
        .is_some_and(|x| x.state == ExtensionState::Requested);
    ws.rows.push(Row::Case(CaseWrite::Case(Box::new(CaseRow {
        id: after.id,
        jurisdiction_id: after.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        case_number: after.case_number.clone(),
        status: after.status.as_str().to_string(),
        is_open: after.status.open(),
        channel: after.channel.as_str().to_string(),
        form: if after.form == Form::Single {
            "single"
        } else {
            "collective"
        }
        .to_string(),
        case_type: after.case_type.clone(),
        category: after.category.map(|c| c.as_str().to_string()),
        topic: after.topic.clone(),
        department: after.unit().map(str::to_string),
        title: after.title.clone(),
        received_at: fmt_ts(after.received_at),
        accepted_on: after.accepted_on.to_string(),
        due_on: after.due.last_day.to_string(),
        due_ms: after.due_at.as_millisecond(),
        overdue: after.overdue,
        extended,
        extension_requested,
        supervision_step: step,
        next_due_ms: next_due,
        updated_at: fmt_ts(after.updated_at),
        body,
    }))));
    if before.is_none() {
        // The search box finds a case by its number, title, grievance and petitioners' names.
        let mut text = format!("{} {} {}", after.case_number, after.title, after.grievance);
        for p in &after.petitioners {
            text.push(' ');
            text.push_str(&p.name);
        }
        ws.rows.extend(yingji_store::search::index_row(
            "case",
            after.id,
            path,
            &yingji_domain::search::terms(&text),
        ));
    }
    if let (None, Some(key)) = (before, key) {
        for (i, p) in after.petitioners.iter().enumerate() {
            let i = i as i64;
            let seal = |field: PetitionerField| {
                field_of(p, field)
                    .as_deref()
                    .map(|v| key.seal(v, &petitioner_aad(after.id, i, field.as_str())))
            };
            ws.rows.push(Row::Case(CaseWrite::Petitioner {
                case_id: after.id,
                ordinal: i,
                name: p.name.clone(),
                contact: seal(PetitionerField::Contact),
                address: seal(PetitionerField::Address),
                id_number: seal(PetitionerField::IdNumber),
            }));
        }
    }
    let new = contribution(after, path);
    match before.map(|b| contribution(b, path)) {
        None => stats_upsert(ws, &new, new.n),
        Some(old) if old == new => {}
        Some(old) if old.key == new.key => stats_upsert(ws, &new, minus(new.n, old.n)),
        Some(old) => {
            stats_upsert(ws, &old, scaled(old.n, |x| -x));
            stats_upsert(ws, &new, new.n);
        }
    }
}

/// Outbox rows for what must reach people (their recipients are resolved in
/// [`crate::notices::address`]).
#[expect(clippy::too_many_arguments, reason = "the fields of one notice")]
fn outbox_for(
    ws: &mut WriteSet,
    sealer: &crate::sealer::Sealer,
    c: &Case,
    path: &str,
    settings: &CaseSettings,
    event_id: Uuid,
    e: &Event,
    now: Timestamp,
    by: &str,
) {
    use crate::notices::{CaseFacts, Notice, contact_channel, notice_aad};
    let case = CaseFacts::of(c, path, &settings.time_zone);
    let id = Uuid::now_v7();
    let notice = match e {
        Event::Supervised { step, note, .. } => Notice::CaseSupervision {
            case,
            step: *step,
            note: note.clone(),
            by: note.as_ref().map(|_| by.to_string()),
        },
        Event::PetitionerNotified { about, text } => {
            // Each contact a channel can reach, sealed for this row only.
            let contacts = c
                .petitioners
                .iter()
                .filter_map(|p| {
                    let contact = p.contact.as_deref()?.trim();
                    let channel = contact_channel(contact)?;
                    Some(yingji_notify::DirectAddress {
                        channel: channel.into(),
                        address: sealer.seal(contact, &notice_aad(id)),
                    })
                })
                .collect();
            let extended = about == "extended";
            Notice::PetitionerNotice {
                case,
                about: about.clone(),
                notice: text.clone(),
                days: c.extension.as_ref().filter(|_| extended).map(|x| x.days),
                reason: c
                    .extension
                    .as_ref()
                    .filter(|_| extended)
                    .map(|x| x.reason.clone()),
                contacts,
            }
        }
        Event::ExtensionRequested { days, reason } => Notice::ExtensionRequested {
            case,
            days: *days,
            reason: reason.clone(),
            approver_post: settings.extension.approver_post.clone(),
            origin_jurisdiction: c.origin.as_ref().map(|o| o.jurisdiction_id),
        },
        Event::BecameOverdue { .. } => Notice::CaseOverdue { case },
        _ => return,
    };
    ws.rows.push(notice.row_with_id(id, event_id, now));
}

/// One case change as it is stored: events, rows, outbox.
struct CaseChange<'a> {
    before: Option<&'a Case>,
    after: &'a Case,
    path: &'a str,
    version: i64,
    head: Option<&'a str>,
    events: &'a [Event],
    settings: &'a CaseSettings,
}

fn case_write(ws: &mut WriteSet, app: &App, actor: &ActorRef, now: Timestamp, ch: CaseChange) {
    // A new case (registered or referred) gets its subject key: its petitioners' values, in
    // its rows and its registration event, are sealed with it.
    let key = ch
        .before
        .is_none()
        .then(|| SubjectKey::create(ws, &app.sealer, "case", ch.after.id, now));
    let items = ch
        .events
        .iter()
        .map(|e| {
            Item::new(
                &e.kind(),
                &logged_event(e, ch.after.id, key.as_ref()),
                e.reason(),
            )
        })
        .collect();
    let ids = append(
        ws,
        ch.after.id,
        "case",
        ch.after.jurisdiction_id,
        ch.version,
        ch.head,
        actor,
        now,
        items,
    );
    for (id, e) in ids.iter().zip(ch.events) {
        outbox_for(
            ws,
            &app.sealer,
            ch.after,
            ch.path,
            ch.settings,
            *id,
            e,
            now,
            &actor.name,
        );
    }
    case_rows(ws, ch.before, ch.after, ch.path, ch.settings, key.as_ref());
}

/// Reserves the next case number of a jurisdiction for the year: the counter's write fails with
/// `Conflict::CaseNumber` when another registration took the number first, and the command runs
/// again.
async fn next_number(
    app: &App,
    ws: &mut WriteSet,
    settings: &CaseSettings,
    jurisdiction_id: Uuid,
    code: &str,
    year: i16,
    channel: Channel,
) -> Result<String, AppError> {
    let year_n = i64::from(year);
    let last = app.store.case_counter(jurisdiction_id, year_n).await?;
    let seq = last.unwrap_or(0) + 1;
    ws.rows.push(Row::Case(match last {
        None => CaseWrite::CounterStart {
            jurisdiction_id,
            year: year_n,
            seq,
        },
        Some(l) => CaseWrite::CounterAdvance {
            jurisdiction_id,
            year: year_n,
            last_seq: l,
            seq,
        },
    }));
    Ok(settings.number(code, year, seq, channel))
}

/// The writes of a registration in `j` under `id`: the case number, the events, the rows.
async fn registration(
    app: &App,
    ws: &mut WriteSet,
    actor: &Actor,
    j: &JurisdictionRow,
    mut n: NewCase,
    id: Uuid,
) -> Result<Case, AppError> {
    let (settings, code) = settings_for(app, &j.path).await?;
    let now = app.clock.now();
    let year = n.received_at.to_zoned(settings.tz()).year();
    n.case_number = next_number(app, ws, &settings, j.id, &code, year, n.channel).await?;
    let holders = app.holders(j.id).await?;
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let actor_ref = actor.as_ref();
    let ctx = Ctx {
        now,
        actor: &actor_ref,
        actor_jurisdiction: actor.jurisdiction_id,
        settings: &settings,
        calendar: &app.case_rules.calendar,
        holders: &lookup,
    };
    let events = decide(None, &Command::Register(Box::new(n)), &ctx)?;
    let c = apply_all(None, id, &events, now, &actor_ref)
        .ok_or_else(|| AppError::internal("a registration created no case"))?;
    case_write(
        ws,
        app,
        &actor_ref,
        now,
        CaseChange {
            before: None,
            after: &c,
            path: &j.path,
            version: 0,
            head: None,
            events: &events,
            settings: &settings,
        },
    );
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// Registration

/// Lengths of the personal fields, and the shape of an ID number (15 or 18 characters: digits,
/// the last may be X).
fn check_petitioners(ps: &[PetitionerRequest]) -> Result<(), AppError> {
    let bad = |field: &str, msg: &str| {
        Err(AppError::field(
            ErrorCode::InvalidField,
            &format!("petitioners.{field}"),
            msg.to_string(),
        ))
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
            // The one rule for ID numbers ([`yingji_domain::values::IdNumber`]).
            if yingji_domain::values::IdNumber::try_from(id.as_str()).is_err() {
                return bad(
                    "id_number",
                    "an ID number has 15 or 18 characters: digits, the last may be X",
                );
            }
        }
    }
    Ok(())
}

/// Registers a petition (`POST /cases`, the console's register form, the demo): the number is
/// allocated inside the write, so a registration that lost the number to a concurrent one runs
/// again with the next.
pub struct RegisterCase(pub NewCaseRequest);

impl RegisterCase {
    /// The request's checks that need no storage: channel, form, received time, petitioners.
    fn parse(&self, now: Timestamp) -> Result<(Channel, Form, Timestamp), AppError> {
        let req = &self.0;
        if req.channel.trim().is_empty() {
            return Err(AppError::missing("channel"));
        }
        let channel: Channel = enum_of(&req.channel, "channel")?;
        let form = match &req.form {
            None => Form::Single,
            Some(f) => enum_of(f, "form")?,
        };
        let received_at = match &req.received_at {
            Some(s) => crate::incidents::parse_ts(s, "received_at")?,
            None => now,
        };
        if received_at > now {
            return Err(AppError::field(
                ErrorCode::InvalidTime,
                "received_at",
                "`received_at` cannot be in the future",
            ));
        }
        if form == Form::Single {
            match req.petitioners.len() {
                0 => return Err(AppError::missing("petitioners")),
                1 => {}
                _ => {
                    return Err(AppError::field(
                        ErrorCode::SingleOnePetitioner,
                        "petitioners",
                        "a single petition has one petitioner; use form = collective for representatives",
                    ));
                }
            }
        }
        check_petitioners(&req.petitioners)?;
        Ok((channel, form, received_at))
    }
}

/// A received time older than `max_days` before `now` needs a reason for the late
/// registration (2–500 characters); a reason given for a recent petition is kept all the same.
fn backdated(
    received_at: Timestamp,
    now: Timestamp,
    max_days: u32,
    reason: Option<&str>,
) -> Result<Option<String>, AppError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason
        && r.chars().count() > 500
    {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            "backdate_reason",
            "`backdate_reason` is at most 500 characters",
        ));
    }
    let age_days = (now.as_second() - received_at.as_second()) / 86_400;
    if age_days > i64::from(max_days) && reason.is_none_or(|r| r.chars().count() < 2) {
        return Err(AppError::field(
            ErrorCode::ReceivedTooLongAgo,
            "received_at",
            format!(
                "`received_at` is {age_days} days ago, more than the {max_days} days allowed; give `backdate_reason` to register it"
            ),
        ));
    }
    Ok(reason.map(str::to_string))
}

impl AppCommand for RegisterCase {
    type Output = CaseView;

    fn kind(&self) -> &'static str {
        "case.register"
    }

    fn turn(&self) -> Option<Uuid> {
        Some(self.0.jurisdiction_id)
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<CaseView>, AppError> {
        let req = &self.0;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::RegisterCase, &j.path, "jurisdiction")?;
        let (channel, form, received_at) = self.parse(app.clock.now())?;
        for r in &req.related_cases {
            app.store
                .get_case(*r)
                .await?
                .filter(|c| actor.sees(&c.jurisdiction_path))
                .ok_or_else(|| {
                    AppError::new(ErrorCode::UnknownCase, format!("case {r} not found"))
                })?;
        }
        if req
            .headcount
            .is_some_and(|h| h > crate::incidents::MAX_HEADCOUNT)
        {
            return Err(AppError::invalid(
                "headcount",
                format!("at most {}", crate::incidents::MAX_HEADCOUNT),
            ));
        }
        let (settings, _) = settings_for(app, &j.path).await?;
        let backdate_reason = backdated(
            received_at,
            app.clock.now(),
            settings.max_backdate_days,
            req.backdate_reason.as_deref(),
        )?;
        let case_type = req.case_type.clone().unwrap_or_else(|| "general".into());
        if case_type != "general" && !settings.case_types.contains_key(&case_type) {
            return Err(AppError::field(
                ErrorCode::UnknownCaseType,
                "case_type",
                format!("`{case_type}` is not a case type of this jurisdiction's configuration"),
            ));
        }
        let n = NewCase {
            jurisdiction_id: j.id,
            case_number: String::new(),
            channel,
            form,
            headcount: req
                .headcount
                .unwrap_or(if form == Form::Single { 1 } else { 0 }),
            petitioners: req
                .petitioners
                .iter()
                .map(|p| Petitioner {
                    name: p.name.clone(),
                    contact: p.contact.clone(),
                    address: p.address.clone(),
                    id_number: p.id_number.clone(),
                })
                .collect(),
            // Personal numbers typed into free text are masked (`redact`).
            title: crate::redact::text(&req.title),
            grievance: crate::redact::text(&req.grievance),
            case_type,
            received_at,
            origin: None,
            related_cases: req.related_cases.clone(),
            incident_id: req.incident_id,
            backdate_reason,
        };
        // A linked incident must be one the actor may see, as when linking later.
        if let Some(incident_id) = req.incident_id {
            visible_incident(app, actor, incident_id).await?;
        }
        let mut ws = WriteSet::default();
        let c = registration(app, &mut ws, actor, &j, n, Uuid::now_v7()).await?;
        Ok(Decided::new(auth, ws, CaseView::of(&c)))
    }

    fn respond(&self, out: &CaseView) -> JsonText {
        out.json()
    }
}

// ---------------------------------------------------------------------------------------------
// Commands on a case

/// The domain command an action becomes for this case and actor (with the checks that need
/// An incident the actor may see, for linking a case to it; any other is `unknown_incident`.
async fn visible_incident(app: &App, actor: &Actor, incident_id: Uuid) -> Result<(), AppError> {
    app.store
        .get_incident(incident_id)
        .await?
        .filter(|r| actor.sees(&r.jurisdiction_path))
        .map(|_| ())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownIncident,
                format!("incident {incident_id} not found"),
            )
        })
}

/// storage: the person, the linked record, the jurisdiction a referral goes to), and the lower
/// jurisdiction with the new case's id for a referral.
async fn prepare(
    app: &App,
    actor: &Actor,
    c: &Case,
    rec: &CaseRecord,
    action: &CaseAction,
) -> Result<(Command, Option<(JurisdictionRow, Uuid)>), AppError> {
    Ok(match action {
        CaseAction::Decide(cmd) => (cmd.clone(), None),
        CaseAction::Lead { person_id } => {
            let p = app
                .store
                .person(*person_id)
                .await?
                .ok_or_else(|| AppError::new(ErrorCode::UnknownPerson, "person not found"))?;
            // A lead from outside the actor's subtree is "not found" like an unknown one: the
            // case would otherwise show a name the actor may not see.
            let seen = app
                .store
                .jurisdiction(p.jurisdiction_id)
                .await?
                .is_some_and(|j| actor.sees(&j.path));
            if !seen {
                return Err(AppError::new(ErrorCode::UnknownPerson, "person not found"));
            }
            (
                Command::AssignLead {
                    lead: PersonRef {
                        person_id: p.id,
                        name: p.name,
                    },
                },
                None,
            )
        }
        CaseAction::LinkCase { case_id } => {
            app.store
                .get_case(*case_id)
                .await?
                .filter(|r| actor.sees(&r.jurisdiction_path))
                .ok_or_else(|| {
                    AppError::new(ErrorCode::UnknownCase, format!("case {case_id} not found"))
                })?;
            (Command::LinkCase { case_id: *case_id }, None)
        }
        CaseAction::LinkIncident { incident_id } => {
            visible_incident(app, actor, *incident_id).await?;
            (
                Command::LinkIncident {
                    incident_id: *incident_id,
                },
                None,
            )
        }
        CaseAction::Route {
            kind,
            target,
            target_jurisdiction_id,
            notice,
        } => {
            let child = match target_jurisdiction_id {
                Some(tj) if *kind == RouteKind::Refer => {
                    let j = app.scoped_jurisdiction(actor, *tj, "jurisdiction").await?;
                    if j.id == c.jurisdiction_id || !j.path.starts_with(&rec.jurisdiction_path) {
                        return Err(AppError::new(
                            ErrorCode::NotLowerJurisdiction,
                            "a case is referred (转交) only to a jurisdiction below the case's own",
                        ));
                    }
                    Some((j, Uuid::now_v7()))
                }
                _ => None,
            };
            (
                Command::Route {
                    kind: *kind,
                    target: target.clone(),
                    target_jurisdiction: child.as_ref().map(|(j, _)| j.id),
                    child_case: child.as_ref().map(|(_, id)| *id),
                    notice: notice.clone(),
                },
                child,
            )
        }
    })
}

/// A command on one case (`POST /cases/{id}/{action}`, the case page's forms).
pub struct OnCase {
    pub id: CaseId,
    pub action: CaseAction,
}

impl AppCommand for OnCase {
    type Output = CaseView;

    fn kind(&self) -> &'static str {
        self.action.kind()
    }

    /// A referral numbers a new case in the jurisdiction it goes to.
    fn turn(&self) -> Option<Uuid> {
        match &self.action {
            CaseAction::Route {
                kind: RouteKind::Refer,
                target_jurisdiction_id,
                ..
            } => *target_jurisdiction_id,
            _ => None,
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<CaseView>, AppError> {
        let mut rec = record(app, self.id.0).await?;
        let auth = app.authorize(
            actor,
            self.action.permission(),
            &rec.jurisdiction_path,
            "case",
        )?;
        let c = case_for_decision(app, &mut rec).await?;
        let (cmd, child) = prepare(app, actor, &c, &rec, &self.action).await?;
        let (settings, _) = settings_for(app, &rec.jurisdiction_path).await?;
        let holders = app.holders(c.jurisdiction_id).await?;
        let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
        let now = app.clock.now();
        let actor_ref = actor.as_ref();
        let ctx = Ctx {
            now,
            actor: &actor_ref,
            actor_jurisdiction: actor.jurisdiction_id,
            settings: &settings,
            calendar: &app.case_rules.calendar,
            holders: &lookup,
        };
        let events = decide(Some(&c), &cmd, &ctx)?;
        let (ws, after) = changed(app, actor, &c, &rec, &settings, &events)?;
        let mut d = Decided::new(auth, ws, CaseView::of(&after));
        if let Some((j, child_id)) = child {
            // The referral opens the case below in the same write, with this case as its
            // origin (so that only this body may extend it).
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
                backdate_reason: None,
            };
            registration(app, d.writes(), actor, &j, n, child_id).await?;
        }
        Ok(d)
    }

    fn respond(&self, out: &CaseView) -> JsonText {
        out.json()
    }
}

/// The writes of decided events on a stored case, and the case after them.
fn changed(
    app: &App,
    actor: &Actor,
    c: &Case,
    rec: &CaseRecord,
    settings: &CaseSettings,
    events: &[Event],
) -> Result<(WriteSet, Case), AppError> {
    let mut ws = WriteSet::default();
    if events.is_empty() {
        return Ok((ws, c.clone()));
    }
    let now = app.clock.now();
    let actor_ref = actor.as_ref();
    let after = apply_all(Some(c.clone()), c.id, events, now, &actor_ref)
        .ok_or_else(|| AppError::internal("a case stopped being one"))?;
    case_write(
        &mut ws,
        app,
        &actor_ref,
        now,
        CaseChange {
            before: Some(c),
            after: &after,
            path: &rec.jurisdiction_path,
            version: rec.version,
            head: Some(&rec.head_hash),
            events,
            settings,
        },
    );
    Ok((ws, after))
}

/// A stored case and the proof that the actor may work it (`handle_cases`).
pub(crate) async fn record_for(
    app: &App,
    actor: &Actor,
    id: Uuid,
) -> Result<(CaseRecord, crate::command::Authorized), AppError> {
    let rec = record(app, id).await?;
    let auth = app.authorize(
        actor,
        Permission::HandleCase,
        &rec.jurisdiction_path,
        "case",
    )?;
    Ok((rec, auth))
}

/// Decides a domain command on a case loaded for decision and builds its writes.
pub(crate) async fn decide_and_write(
    app: &App,
    actor: &Actor,
    c: &Case,
    rec: &CaseRecord,
    cmd: &Command,
) -> Result<WriteSet, AppError> {
    let (settings, _) = settings_for(app, &rec.jurisdiction_path).await?;
    let holders = app.holders(c.jurisdiction_id).await?;
    let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
    let actor_ref = actor.as_ref();
    let ctx = Ctx {
        now: app.clock.now(),
        actor: &actor_ref,
        actor_jurisdiction: actor.jurisdiction_id,
        settings: &settings,
        calendar: &app.case_rules.calendar,
        holders: &lookup,
    };
    let events = decide(Some(c), cmd, &ctx)?;
    Ok(changed(app, actor, c, rec, &settings, &events)?.0)
}

/// Marks a case overdue and runs the supervision steps that have fallen due (the ticker, as
/// the system). Answers whether anything changed.
pub struct TickCase(pub CaseId);

impl AppCommand for TickCase {
    type Output = bool;

    fn kind(&self) -> &'static str {
        "case.tick"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<bool>, AppError> {
        let mut rec = record(app, self.0.0).await?;
        let auth = app.authorize(
            actor,
            Permission::HandleCase,
            &rec.jurisdiction_path,
            "case",
        )?;
        let c = case_for_decision(app, &mut rec).await?;
        let (settings, _) = settings_for(app, &rec.jurisdiction_path).await?;
        let now = app.clock.now();
        // A provisional due date first (its calendar may have arrived), then what is due by
        // the date as it now stands.
        let mut events: Vec<Event> =
            yingji_domain::case::recompute_due(&c, &settings, &app.case_rules.calendar)
                .into_iter()
                .collect();
        let current = match events.first() {
            Some(e) => yingji_domain::case::apply(Some(c.clone()), e, now, &actor.as_ref())
                .unwrap_or_else(|| c.clone()),
            None => c.clone(),
        };
        events.extend(yingji_domain::case::tick(&current, &settings, now));
        let (ws, _) = changed(app, actor, &c, &rec, &settings, &events)?;
        Ok(Decided::new(auth, ws, !events.is_empty()))
    }

    fn respond(&self, out: &bool) -> JsonText {
        JsonText(json!({ "changed": out }).to_string())
    }
}

/// Runs [`TickCase`] on every case with something due, as the system. Returns how many
/// changed.
pub async fn tick_cases(app: &App) -> Result<usize, AppError> {
    let system = Actor::system();
    let now = app.clock.now();
    let mut changed = 0;
    for id in app.store.due_cases(now.as_millisecond(), 1000).await? {
        let r = app
            .execute(&system, None, &TickCase(id.into()))
            .await
            .map(|d| d.output() == Some(true));
        if crate::ticker::settle(app, "case", id, r).await? {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Recomputes, with the calendar loaded now, the due date of every open case whose due date
/// was provisional (run at start-up, after the calendar is loaded: a year's calendar arrives
/// with a new file or a new built-in year). Each change is a `due_recomputed` event in the
/// case's stream. Returns how many cases changed.
pub async fn recompute_provisional(app: &App) -> Result<usize, AppError> {
    let system = Actor::system();
    let mut changed = 0;
    let mut from = i64::MIN;
    loop {
        let page = app
            .store
            .list_cases(&CaseFilter {
                scope_path: "/".into(),
                open_due_from_ms: Some(from),
                limit: 500,
                ..Default::default()
            })
            .await?;
        let Some(last) = page.last().map(|c| c.due_ms) else {
            break;
        };
        for c in &page {
            // Only periods the calendar now covers can come out differently.
            let covered = [&c.accepted_on, &c.due_on].iter().all(|d| {
                d.parse::<jiff::civil::Date>()
                    .is_ok_and(|d| app.case_rules.calendar.covers(d))
            });
            if !covered {
                continue;
            }
            if let Some(true) = app
                .execute(&system, None, &TickCase(c.id.into()))
                .await?
                .output()
            {
                changed += 1;
            }
        }
        if page.len() < 500 || last == from {
            break;
        }
        from = last;
    }
    Ok(changed)
}

/// Which actions an actor may take on one case now: the same authorisation, preparation and
/// decision as [`OnCase`], on one snapshot, without building writes (the case page offers
/// exactly these).
pub struct Checker<'a> {
    app: &'a App,
    actor: &'a Actor,
    rec: CaseRecord,
    case: Case,
    settings: CaseSettings,
    holders: std::collections::HashMap<String, Vec<PersonRef>>,
}

impl<'a> Checker<'a> {
    /// A snapshot of a case the actor may see and read (else "not found" or "forbidden").
    pub async fn new(app: &'a App, actor: &'a Actor, id: Uuid) -> Result<Self, AppError> {
        let (case, rec) = load(app, actor, id).await?;
        let (settings, _) = settings_for(app, &rec.jurisdiction_path).await?;
        let holders = app.holders(case.jurisdiction_id).await?;
        Ok(Checker {
            app,
            actor,
            rec,
            case,
            settings,
            holders,
        })
    }

    pub fn case(&self) -> &Case {
        &self.case
    }

    pub fn record(&self) -> &CaseRecord {
        &self.rec
    }

    pub fn settings(&self) -> &CaseSettings {
        &self.settings
    }

    /// Who holds each post in the case's jurisdiction now.
    pub fn holders(&self, post: &str) -> Vec<PersonRef> {
        self.holders.get(post).cloned().unwrap_or_default()
    }

    /// Whether `OnCase { action }` would be accepted from the actor now.
    pub async fn accepts(&self, action: &CaseAction) -> bool {
        if self
            .app
            .require(
                self.actor,
                action.permission(),
                &self.rec.jurisdiction_path,
                "case",
            )
            .is_err()
        {
            return false;
        }
        let Ok((cmd, _)) = prepare(self.app, self.actor, &self.case, &self.rec, action).await
        else {
            return false;
        };
        let actor_ref = self.actor.as_ref();
        let lookup = |post: &str| self.holders(post);
        let ctx = Ctx {
            now: self.app.clock.now(),
            actor: &actor_ref,
            actor_jurisdiction: self.actor.jurisdiction_id,
            settings: &self.settings,
            calendar: &self.app.case_rules.calendar,
            holders: &lookup,
        };
        decide(Some(&self.case), &cmd, &ctx).is_ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Reveal

/// What a reveal answers: the full value (null after a purge).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevealView {
    pub case_id: Uuid,
    pub petitioner: usize,
    pub field: String,
    pub value: Option<String>,
    /// Whether `yingji purge` erased the petitioner's sealed values.
    pub purged: bool,
}

/// Reveals one sealed petitioner value (`reveal_personal_data`), recording who, which field and
/// why in the same write before the value is answered. Run it without an Idempotency-Key: the
/// answer holds the value and must not be stored.
pub struct RevealPetitioner {
    pub id: Uuid,
    pub req: CaseRevealRequest,
}

impl AppCommand for RevealPetitioner {
    type Output = RevealView;

    fn kind(&self) -> &'static str {
        "case.reveal"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<RevealView>, AppError> {
        let rec = record(app, self.id).await?;
        let auth = app.authorize(
            actor,
            Permission::RevealPersonalData,
            &rec.jurisdiction_path,
            "case",
        )?;
        let req = &self.req;
        let field = PetitionerField::parse(&req.field).ok_or_else(|| {
            AppError::field(
                ErrorCode::InvalidField,
                "field",
                "`field` is contact, address or id_number",
            )
        })?;
        let c = open_case(app, &rec)?;
        let p = c.petitioners.get(req.petitioner).ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownPetitioner,
                format!("the case has {} petitioner(s)", c.petitioners.len()),
            )
        })?;
        let value = field_of(p, field).clone();
        let purged = rec
            .petitioners
            .get(req.petitioner)
            .is_some_and(|r| r.purged_at.is_some());
        let mut ws = WriteSet::default();
        crate::trust::disclosure(
            app,
            &mut ws,
            actor,
            "case",
            c.id,
            c.jurisdiction_id,
            &format!("petitioners[{}].{}", req.petitioner, field.as_str()),
            &req.reason,
        )?;
        Ok(Decided::new(
            auth,
            ws,
            RevealView {
                case_id: c.id,
                petitioner: req.petitioner,
                field: field.as_str().to_string(),
                value,
                purged,
            },
        ))
    }

    fn respond(&self, out: &RevealView) -> JsonText {
        JsonText(serde_json::to_string(out).expect("serialises"))
    }
}

// ---------------------------------------------------------------------------------------------
// Retention and keys

/// What a purge did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct PurgeReport {
    pub cutoff: Timestamp,
    pub cases: usize,
    pub petitioners: usize,
    /// Closed disputes whose parties' names were erased.
    pub disputes: usize,
    /// Closed incidents whose personal intake values and representatives' names and contacts
    /// were erased.
    pub incidents: usize,
    pub dry_run: bool,
    /// The id of the `personal_data_purged` event's stream (none for a dry run or when nothing
    /// was due).
    pub event_stream: Option<Uuid>,
}

/// Erases the sealed personal values (contact, address, ID number) of the petitioners of every
/// case no longer open (replied or closed) whose last change is older than `cutoff`, and
/// destroys the case's subject key (so the masks in its registration event and any other copy
/// can no longer be opened), the contacts notices to its petitioners were sent to and the
/// stored idempotent answers naming it; and destroys the key of every closed dispute unchanged
/// since `cutoff` (its parties' names). The case, its events, its statistics and the
/// petitioners' names stay, so the hash chains still verify and every count is unchanged. One `personal_data_purged` event (stream kind `purge`) records
/// who ran it, when, the cutoff and how many, in the same write. An operator command: run by
/// the system actor (`yingji purge`).
pub struct PurgePetitioners {
    pub cutoff: Timestamp,
    /// The retention period the cutoff came from, if any (recorded in the event).
    pub retention_days: Option<i64>,
    pub dry_run: bool,
}

impl AppCommand for PurgePetitioners {
    type Output = PurgeReport;

    fn kind(&self) -> &'static str {
        "case.purge"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<PurgeReport>, AppError> {
        let root = app
            .store
            .root_jurisdiction_id()
            .await?
            .ok_or_else(|| AppError::internal("no root jurisdiction"))?;
        let root_j = app
            .store
            .jurisdiction(root)
            .await?
            .ok_or_else(|| AppError::internal("no root jurisdiction"))?;
        if !actor.is_system() {
            return Err(AppError::forbidden(Permission::RevealPersonalData));
        }
        let auth = app.authorize(
            actor,
            Permission::RevealPersonalData,
            &root_j.path,
            "jurisdiction",
        )?;
        let ids = app.store.purgeable_cases(&fmt_ts(self.cutoff)).await?;
        let mut petitioners = 0;
        for id in &ids {
            if let Some(rec) = app.store.get_case(*id).await? {
                petitioners += rec
                    .petitioners
                    .iter()
                    .filter(|p| p.purged_at.is_none())
                    .count();
            }
        }
        let disputes = app.store.purgeable_disputes(&fmt_ts(self.cutoff)).await?;
        let incidents = app.store.purgeable_incidents(&fmt_ts(self.cutoff)).await?;
        let mut report = PurgeReport {
            cutoff: self.cutoff,
            cases: ids.len(),
            petitioners,
            disputes: disputes.len(),
            incidents: incidents.len(),
            dry_run: self.dry_run,
            event_stream: None,
        };
        if self.dry_run || (ids.is_empty() && disputes.is_empty() && incidents.is_empty()) {
            return Ok(Decided::nothing(auth, report));
        }
        let now = app.clock.now();
        let stream = Uuid::now_v7();
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            stream,
            "purge",
            root,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new(
                "personal_data_purged",
                &json!({
                    "subject": "case_petitioners",
                    "fields": SEALED_FIELDS,
                    "retention_days": self.retention_days,
                    "cutoff": self.cutoff,
                    "cases": ids.len(),
                    "petitioners": petitioners,
                    "case_ids": ids,
                    "disputes": disputes.len(),
                    "dispute_fields": ["parties.name"],
                    "dispute_ids": disputes,
                    "incidents": incidents.len(),
                    "incident_fields": "intake fields marked personal; representatives' names and contacts",
                    "incident_ids": incidents,
                }),
                None,
            )],
        );
        for id in &ids {
            ws.rows.push(Row::Case(CaseWrite::Purge {
                case_id: *id,
                at: fmt_ts(now),
            }));
            // Destroying the case's key makes every other copy of its petitioners' values (the
            // masks in its registration event, free pages, backups) unreadable.
            shred(&mut ws, "case", *id);
            // The contacts notices to the petitioners were sent to (sealed for their outbox
            // row with the data key) go too.
            for (outbox_id, payload) in app.store.petitioner_notices(*id).await? {
                let mut v: Value = serde_json::from_str(&payload).map_err(AppError::internal)?;
                if let Some(a) = v.get_mut("addresses") {
                    *a = json!([]);
                }
                if let Some(o) = v.as_object_mut() {
                    o.insert("addresses_purged".into(), json!(true));
                }
                ws.rows.push(Row::Case(CaseWrite::EraseNoticeAddresses {
                    outbox_id,
                    payload: v.to_string(),
                }));
            }
        }
        // Closed disputes: their parties' names, sealed with the dispute's key in its row and
        // its registration event, become unreadable with the key.
        for id in &disputes {
            shred(&mut ws, "dispute", *id);
        }
        // Closed incidents: the values of their personal intake fields, sealed with the
        // incident's key in its `reported` event (masked everywhere else), and their
        // representatives' names and contacts, sealed with it in their records and events.
        for id in &incidents {
            ws.rows.push(Row::SubjectKey(SubjectKeyWrite::Destroy {
                subject_kind: "incident",
                subject_id: *id,
            }));
        }
        report.event_stream = Some(stream);
        Ok(Decided::new(auth, ws, report))
    }

    fn respond(&self, out: &PurgeReport) -> JsonText {
        JsonText(serde_json::to_string(out).expect("serialises"))
    }
}

/// Destroys a subject's key and forgets the stored idempotent answers that name it.
fn shred(ws: &mut WriteSet, kind: &'static str, id: Uuid) {
    ws.rows.push(Row::SubjectKey(SubjectKeyWrite::Destroy {
        subject_kind: kind,
        subject_id: id,
    }));
    ws.rows
        .push(Row::SubjectKey(SubjectKeyWrite::ForgetAnswers {
            subject_id: id,
        }));
}

/// The tables whose deleted values a purge makes unrecoverable from the database files.
pub const PURGED_TABLES: [&str; 6] = [
    "case_petitioners",
    "subject_keys",
    "outbox",
    "deliveries",
    "disputes",
    "idempotency",
];

/// `yingji purge`: runs [`PurgePetitioners`] and then makes the erased values and destroyed keys
/// unrecoverable from the database files ([`yingji_store::Store::erase_deleted`]; on
/// PostgreSQL only when something was purged). The second part answers whether that pass
/// finished: false when SQLite could not empty its WAL because a reader was reading (the next
/// `yingji purge` finishes it), an error when it failed (the purge itself has committed).
pub async fn purge(
    app: &App,
    actor: &Actor,
    cmd: &PurgePetitioners,
) -> Result<(PurgeReport, Result<bool, AppError>), AppError> {
    app.store
        .progress("purge: finding and erasing personal data", 0, None, "");
    let report = app
        .execute(actor, None, cmd)
        .await?
        .output()
        .ok_or_else(|| AppError::internal("a purge is never replayed"))?;
    // SQLite's pass is cheap and finishes one a reader held up before; PostgreSQL's rewrites
    // the tables, so it runs only after a purge that erased something.
    let sqlite = matches!(app.store.backend(), yingji_store::Backend::Sqlite);
    let erased = if !cmd.dry_run && (report.event_stream.is_some() || sqlite) {
        app.store.progress(
            "purge: erasing old copies from the database files",
            0,
            None,
            "",
        );
        app.store
            .erase_deleted(&PURGED_TABLES)
            .await
            .map_err(AppError::from)
    } else {
        Ok(true)
    };
    Ok((report, erased))
}

/// Re-seals every petitioner value still sealed with the data key (before migration 0013) or
/// stored before sealing with its case's subject key, giving the case a key if it has none.
/// Returns how many values changed. Idempotent; safe while serving (each value is replaced only
/// if it is still the one read). An operator command (`yingji rekey`, which first re-wraps the
/// subject keys with the current data key: [`subjects::rewrap_subject_keys`]).
pub async fn rekey_petitioners(app: &App) -> Result<usize, AppError> {
    let mut n = 0;
    let mut current: Option<(Uuid, SubjectKey)> = None;
    let all = app.store.all_case_petitioners().await?;
    let total = Some(all.len() as u64);
    for (i, (case_id, p)) in all.into_iter().enumerate() {
        if i.is_multiple_of(100) {
            app.store
                .progress("rekey: petitioners", i as u64, total, "petitioners");
        }
        for (field, stored) in [
            (PetitionerField::Contact, &p.contact),
            (PetitionerField::Address, &p.address),
            (PetitionerField::IdNumber, &p.id_number),
        ] {
            let Some(stored) = stored else { continue };
            if subjects::is_sealed(stored) {
                continue;
            }
            let key = match &current {
                Some((id, k)) if *id == case_id => k.clone(),
                _ => {
                    let row = app.store.subject_key("case", case_id).await?;
                    let k = match subjects::unwrap_row(app, row.as_ref())? {
                        Some(k) => k,
                        None => {
                            let mut ws = WriteSet::default();
                            let k = SubjectKey::create(
                                &mut ws,
                                &app.sealer,
                                "case",
                                case_id,
                                app.clock.now(),
                            );
                            app.commit(ws).await?;
                            k
                        }
                    };
                    current = Some((case_id, k.clone()));
                    k
                }
            };
            let plain = open_value(
                &app.sealer,
                None,
                case_id,
                p.ordinal,
                field.as_str(),
                Some(stored),
            )?
            .unwrap_or_default();
            let mut ws = WriteSet::default();
            ws.rows.push(Row::Case(CaseWrite::Reseal {
                case_id,
                ordinal: p.ordinal,
                field,
                stored: stored.clone(),
                sealed: key.seal(&plain, &petitioner_aad(case_id, p.ordinal, field.as_str())),
            }));
            app.commit(ws).await?;
            n += 1;
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// One event of a case's timeline, with its place in the hash chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub id: Uuid,
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub reason: Option<String>,
    pub actor: TimelineActor,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub hash: String,
    pub prev_hash: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineActor {
    pub person_id: Uuid,
    pub name: String,
}

/// Every event of a case, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseTimeline {
    pub items: Vec<TimelineEvent>,
}

/// An event's payload as the timeline shows it: the petitioners' masks in a registration event,
/// sealed with the case's subject key, opened (null once `yingji purge` destroyed the key).
fn shown_payload(mut payload: Value, case_id: Uuid, key: Option<&SubjectKey>) -> Value {
    if let Some(ps) = payload
        .pointer_mut("/case/petitioners")
        .and_then(Value::as_array_mut)
    {
        for (i, p) in ps.iter_mut().enumerate() {
            for field in SEALED_FIELDS {
                let Some(v) = p.get_mut(field) else { continue };
                let Some(sealed) = v.as_str().filter(|s| subjects::is_sealed(s)) else {
                    continue;
                };
                *v = key
                    .and_then(|k| k.open(sealed, &event_aad(case_id, i as i64, field)).ok())
                    .map_or(Value::Null, Value::String);
            }
        }
    }
    payload
}

/// A case's timeline, for an actor who may read the case.
pub async fn timeline(app: &App, actor: &Actor, id: Uuid) -> Result<CaseTimeline, AppError> {
    let rec = record(app, id).await?;
    app.require(actor, Permission::ViewCases, &rec.jurisdiction_path, "case")?;
    let key = subjects::unwrap_row(app, rec.subject_key.as_ref())?;
    let items = app
        .store
        .stream_events(id)
        .await?
        .into_iter()
        .map(|e| {
            let v = e.envelope;
            TimelineEvent {
                id: v.id,
                seq: v.stream_seq,
                at: v.at,
                kind: v.kind,
                reason: v.reason,
                actor: TimelineActor {
                    person_id: v.actor_id,
                    name: v.actor_name,
                },
                payload: shown_payload(
                    serde_json::from_str::<Value>(&v.payload).unwrap_or(Value::Null),
                    id,
                    key.as_ref(),
                ),
                hash: e.hash,
                prev_hash: v.prev_hash,
            }
        })
        .collect();
    Ok(CaseTimeline { items })
}

/// Which cases to list (`GET /cases`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CaseListQuery {
    pub jurisdiction_id: Option<Uuid>,
    pub status: Option<String>,
    /// Open cases due within this many days from now.
    pub due_within_days: Option<i64>,
    /// Open cases past their due time.
    pub overdue: Option<bool>,
    /// Cases with a supervision step (督办) recorded.
    pub supervised: Option<bool>,
    pub before: Option<Uuid>,
    pub limit: Option<i64>,
}

/// One case in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseListItem {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub case_number: String,
    pub status: String,
    pub channel: String,
    pub category: Option<String>,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub title: String,
    pub accepted_on: String,
    pub due_on: String,
    #[schema(value_type = Option<String>)]
    pub due_at: Option<Timestamp>,
    pub overdue: bool,
    pub extended: bool,
    pub supervision_step: Option<String>,
}

/// A page of cases; `next` is the cursor of the following page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseListItem>,
    pub next: Option<Uuid>,
}

/// The scope a list or statistics read covers: the given jurisdiction (visible, else 404) or
/// the actor's own, where the actor may read cases.
async fn read_scope(
    app: &App,
    actor: &Actor,
    jurisdiction_id: Option<Uuid>,
) -> Result<String, AppError> {
    let scope_path = match jurisdiction_id {
        None => actor.scope_path.clone(),
        Some(j) => {
            app.scoped_jurisdiction(actor, j, "jurisdiction")
                .await?
                .path
        }
    };
    app.require(actor, Permission::ViewCases, &scope_path, "jurisdiction")?;
    Ok(scope_path)
}

/// The cases an actor may read, filtered.
pub async fn list(app: &App, actor: &Actor, q: &CaseListQuery) -> Result<CaseList, AppError> {
    let scope_path = read_scope(app, actor, q.jurisdiction_id).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            "`limit` must be from 1 to 200",
        ));
    }
    let now = app.clock.now().as_millisecond();
    let mut f = CaseFilter {
        scope_path,
        status: q.status.clone(),
        supervised: q.supervised.unwrap_or(false),
        before: q.before,
        limit: limit + 1,
        ..Default::default()
    };
    if let Some(d) = q.due_within_days {
        if !(0..=366).contains(&d) {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
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
    let mut rows = app.store.list_cases(&f).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| CaseListItem {
            id: r.id,
            jurisdiction_id: r.jurisdiction_id,
            case_number: r.case_number,
            status: r.status,
            channel: r.channel,
            category: r.category,
            topic: r.topic,
            department: r.department,
            title: r.title,
            accepted_on: r.accepted_on,
            due_on: r.due_on,
            due_at: Timestamp::from_millisecond(r.due_ms).ok(),
            overdue: r.overdue,
            extended: r.extended,
            supervision_step: r.supervision_step,
        })
        .collect();
    Ok(CaseList { items, next })
}

/// Which statistics (`GET /cases/stats`).
#[derive(Debug, Clone, Deserialize)]
pub struct StatsQuery {
    pub jurisdiction_id: Option<Uuid>,
    pub year: i16,
    /// 1–4; without it the whole year.
    pub quarter: Option<u8>,
    /// department, category, channel, jurisdiction or total (default).
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SatisfactionCounts {
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
    /// (satisfied + basically satisfied) / answered; null when nobody answered.
    pub rate: Option<f64>,
}

/// One group of the statistics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsItem {
    /// The group: a department, category or channel, the jurisdiction's id, or null for the
    /// total.
    pub key: Option<String>,
    /// The jurisdiction's name (by jurisdiction).
    pub name: Option<String>,
    pub received: i64,
    pub replied: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub extended: i64,
    pub satisfaction: SatisfactionCounts,
}

/// Received, replied, on time, overdue, extended and satisfaction per group, by quarter of
/// acceptance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseStats {
    pub from: String,
    pub to: String,
    pub by: String,
    pub items: Vec<StatsItem>,
}

/// The case statistics an actor may read.
pub async fn stats(app: &App, actor: &Actor, q: &StatsQuery) -> Result<CaseStats, AppError> {
    let scope_path = read_scope(app, actor, q.jurisdiction_id).await?;
    let by = q.by.clone().unwrap_or_else(|| "total".into());
    if !["department", "category", "channel", "jurisdiction", "total"].contains(&by.as_str()) {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            "`by` must be department, category, channel, jurisdiction or total",
        ));
    }
    let quarters: Vec<String> = match q.quarter {
        None => (1..=4).map(|n| format!("{}Q{n}", q.year)).collect(),
        Some(n @ 1..=4) => vec![format!("{}Q{n}", q.year)],
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "`quarter` must be 1–4",
            ));
        }
    };
    let (from, to) = (quarters[0].clone(), quarters[quarters.len() - 1].clone());
    let rows = app.store.case_stats(&scope_path, &quarters, &by).await?;
    let mut items = vec![];
    for r in rows {
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
                Some(id) => app.store.jurisdiction(id).await?.map(|j| j.name),
                None => None,
            };
            (id.map(|i| i.to_string()), name)
        } else {
            (Some(r.key.clone()), None)
        };
        items.push(StatsItem {
            key,
            name,
            received: r.received,
            replied: r.replied,
            on_time: r.on_time,
            overdue: r.overdue,
            extended: r.extended,
            satisfaction: SatisfactionCounts {
                satisfied: r.satisfied,
                basically_satisfied: r.basically_satisfied,
                dissatisfied: r.dissatisfied,
                rate: (answered > 0)
                    .then(|| (r.satisfied + r.basically_satisfied) as f64 / answered as f64),
            },
        });
    }
    Ok(CaseStats {
        from,
        to,
        by,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_petition_names_exactly_one_petitioner() {
        let p = |n: &str| PetitionerRequest {
            name: n.into(),
            ..Default::default()
        };
        let req = |ps: Vec<PetitionerRequest>| {
            RegisterCase(NewCaseRequest {
                channel: "letter".into(),
                petitioners: ps,
                title: "t".into(),
                grievance: "g".into(),
                ..Default::default()
            })
        };
        let now = Timestamp::now();
        let two = req(vec![p("甲"), p("乙")]).parse(now).unwrap_err();
        assert_eq!(two.code, ErrorCode::SingleOnePetitioner);
        assert_eq!(two.details["field"], "petitioners");
        let none = req(vec![]).parse(now).unwrap_err();
        assert_eq!(none.code, ErrorCode::MissingField);
        assert!(req(vec![p("甲")]).parse(now).is_ok());
        let mut bad = req(vec![p("甲")]);
        bad.0.channel = "pigeon".into();
        assert_eq!(bad.parse(now).unwrap_err().code, ErrorCode::InvalidField);
    }

    #[test]
    fn actions_parse_to_their_permission() {
        let approve = CaseAction::parse("approve", &CaseActionRequest::default()).unwrap();
        assert_eq!(approve.permission(), Permission::ApproveCase);
        let refer = CaseActionRequest {
            kind: Some("refer".into()),
            target: Some("青石镇".into()),
            ..Default::default()
        };
        assert_eq!(
            CaseAction::parse("route", &refer).unwrap_err().code,
            ErrorCode::MissingField
        );
        assert_eq!(
            CaseAction::parse("dance", &CaseActionRequest::default())
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
    }
}
