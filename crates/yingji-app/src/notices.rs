//! Notices: every outbox message the system writes reaches people, or a desk.
//!
//! A write that must tell someone writes a [`Notice`] — the facts, as the writer knows them —
//! as its outbox row. [`address`] turns it, in [`App::commit`], into the payload the outbox
//! worker delivers (`yingji_notify::Intent`): the recipients resolved by the notice's rule at
//! that moment (posts through the duty roster, units through their head post, the owner of a
//! task, commitment or case, the office of the jurisdiction a report goes up to, a petitioner
//! through the contact they gave, sealed) and the subject and text from the notice catalogue
//! (`yingji-notify/locales`) in the recipients' language. A notice nobody can receive says why
//! (`unresolved`); the worker keeps it as an `undeliverable` delivery on the owning
//! jurisdiction's desk.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use yingji_domain::PersonRef;
use yingji_domain::case::{Case, SupervisionKind};
use yingji_domain::incident::{Incident, LevelRef, ObligationKind, UpwardKind};
use yingji_notify::DirectAddress;
use yingji_notify::catalogue::{self, render};
use yingji_store::{OutboxRow, Row, WriteSet, fmt_ts};

use crate::{App, AppError};

/// The role whose holders receive what is sent to a jurisdiction whose plans name no office
/// post held by anyone (值班员).
pub const DUTY_ROLE: &str = "duty_officer";

/// What an incident notice needs to know of its incident.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentFacts {
    pub id: Uuid,
    pub title: String,
    pub jurisdiction_id: Uuid,
    pub path: String,
    pub drill: bool,
    pub plan_id: String,
    pub plan_version: i64,
}

impl IncidentFacts {
    pub fn of(inc: &Incident, path: &str) -> IncidentFacts {
        IncidentFacts {
            id: inc.id,
            title: inc.title.clone(),
            jurisdiction_id: inc.jurisdiction_id,
            path: path.to_string(),
            drill: inc.drill,
            plan_id: inc.plan_id.clone(),
            plan_version: inc.plan_version,
        }
    }
}

/// What a case notice needs to know of its case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseFacts {
    pub id: Uuid,
    pub case_number: String,
    pub title: String,
    pub jurisdiction_id: Uuid,
    pub path: String,
    pub due_at: Timestamp,
    /// The last day to handle it (the day a petitioner is told).
    pub due_day: String,
    pub tz: String,
    /// The case's owner (承办负责人), once assigned.
    pub lead: Option<PersonRef>,
    /// The handling unit, once routed, and its jurisdiction when it is one.
    pub unit: Option<String>,
    pub unit_jurisdiction: Option<Uuid>,
}

impl CaseFacts {
    pub fn of(c: &Case, path: &str, tz: &str) -> CaseFacts {
        CaseFacts {
            id: c.id,
            case_number: c.case_number.clone(),
            title: c.title.clone(),
            jurisdiction_id: c.jurisdiction_id,
            path: path.to_string(),
            due_at: c.due_at,
            due_day: c.due.last_day.to_string(),
            tz: tz.to_string(),
            lead: c.lead.clone(),
            unit: c.unit().map(str::to_string),
            unit_jurisdiction: c.routing.as_ref().and_then(|r| r.target_jurisdiction),
        }
    }
}

/// A notice as its writer knows it, before its recipients are resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "pending_notice", rename_all = "snake_case")]
pub enum Notice {
    /// To the task's assignees (the holders of its post when it was created).
    TaskOverdue {
        incident: IncidentFacts,
        task_id: Uuid,
        task: String,
        due_at: Timestamp,
        assignees: Vec<PersonRef>,
    },
    /// A commitment (承诺事项) or written reply past its deadline: to its owner (a post of the
    /// incident's jurisdiction, else a person of that name there), else the office.
    ObligationOverdue {
        incident: IncidentFacts,
        obligation_id: Uuid,
        kind: ObligationKind,
        what: String,
        owner: String,
        due_at: Timestamp,
    },
    /// A warning (预警) issued at a level, or lifted: to everyone the plan names for that level
    /// (the posts activation would call, through the roster), else the office.
    Warning {
        incident: IncidentFacts,
        level: Option<LevelRef>,
        /// Set when the warning was lifted, with the reason.
        lifted: Option<String>,
    },
    /// A report owed upward (首报/续报/终报), submitted: to its recipient — the parent
    /// jurisdiction's office (`deliver_to = "parent"`, the default where there is a parent),
    /// the holders of the level's commander posts (`command`, the default at the top, and where
    /// there is no parent), or the holders of the post it names.
    UpwardReportSubmitted {
        incident: IncidentFacts,
        report_id: Uuid,
        kind: UpwardKind,
        seq: u32,
        to: String,
        /// The name of the level in force.
        level: String,
        deliver_to: Option<String>,
        commanders: Vec<String>,
        /// Each field of the plan with its value, in the plan's order.
        fields: Vec<(String, String)>,
        text: Option<String>,
        by: String,
    },
    /// A report owed upward past its deadline: to the holders of its responsible posts and of
    /// the level's commander posts (a reminder and an escalation in one).
    UpwardReportLate {
        incident: IncidentFacts,
        report_id: Uuid,
        kind: UpwardKind,
        seq: u32,
        to: String,
        due_at: Timestamp,
        posts: Vec<String>,
        commanders: Vec<String>,
    },
    /// To the case's owner and its handling unit.
    CaseSupervision {
        case: CaseFacts,
        step: SupervisionKind,
        /// What the supervising office wrote (a step taken by hand) and who wrote it.
        #[serde(default)]
        note: Option<String>,
        #[serde(default)]
        by: Option<String>,
    },
    /// To the case's owner, its handling unit and the office of the case's jurisdiction.
    CaseOverdue { case: CaseFacts },
    /// To the approver: the rules' approver post, or the office of the referring body.
    ExtensionRequested {
        case: CaseFacts,
        days: u32,
        reason: String,
        approver_post: String,
        origin_jurisdiction: Option<Uuid>,
    },
    /// To the petitioners, through the contacts they gave (sealed for this row).
    PetitionerNotice {
        case: CaseFacts,
        about: String,
        notice: String,
        days: Option<u32>,
        reason: Option<String>,
        contacts: Vec<DirectAddress>,
    },
    /// To the late party: a member unit through its head post, a post's holders where they
    /// hold it.
    ReportLate {
        plan_id: String,
        schedule_id: String,
        schedule: String,
        due_at: Timestamp,
        tz: String,
        party: String,
        party_name: String,
        /// The plan's jurisdiction (owns the board).
        jurisdiction_id: Uuid,
        path: String,
        /// A member unit's head post.
        unit_head: Option<String>,
    },
    /// To the release webhooks of the notification configuration (sealed for this row): a
    /// published information release.
    ReleasePublished {
        release_id: Uuid,
        title: String,
        text: String,
        area: String,
        jurisdiction_id: Uuid,
        path: String,
        cap_url: String,
        hooks: Vec<DirectAddress>,
    },
    /// A drill's message inject: to the post (or group lead, `office`) the script names, else
    /// the jurisdiction's office; marked 演练.
    DrillInject {
        incident: IncidentFacts,
        drill_title: String,
        text: String,
        to: Option<String>,
    },
    /// To the jurisdiction's office: a plan's drill (or, `revision`, a revision of the plan) is
    /// owed this period (the period's end is near) or the period ended without one.
    DrillDue {
        plan_title: String,
        period_start: String,
        period_end: String,
        overdue: bool,
        revision: bool,
        jurisdiction_id: Uuid,
        path: String,
    },
    /// To the holders of a reserve item's custodian post (else the jurisdiction's office): its
    /// stock fell below its minimum.
    StockLow {
        item_id: Uuid,
        item: String,
        unit: String,
        quantity: i64,
        minimum: i64,
        location: String,
        custodian_post: Option<String>,
        jurisdiction_id: Uuid,
        path: String,
    },
    /// To the owner of an instruction's requirement or a meeting's decision (a post's holders,
    /// else a person of that name, else the office): it passed its deadline unanswered.
    FollowUpOverdue {
        title: String,
        text: String,
        owner: String,
        due_at: Timestamp,
        jurisdiction_id: Uuid,
        path: String,
    },
    /// To the office of the parent jurisdiction.
    DisputeReportedUpward {
        dispute_id: Uuid,
        title: String,
        reason: String,
        jurisdiction_id: Uuid,
        path: String,
        to_jurisdiction: Option<Uuid>,
    },
}

impl Notice {
    /// The outbox kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::TaskOverdue { .. } => "task_overdue",
            Notice::ObligationOverdue { .. } => "obligation_overdue",
            Notice::Warning { .. } => "warning",
            Notice::UpwardReportSubmitted { .. } => "upward_report",
            Notice::UpwardReportLate { .. } => "upward_report_late",
            Notice::CaseSupervision { .. } => "case_supervision",
            Notice::CaseOverdue { .. } => "case_overdue",
            Notice::ExtensionRequested { .. } => "extension_requested",
            Notice::PetitionerNotice { .. } => "petitioner_notice",
            Notice::ReportLate { .. } => "report_late",
            Notice::DisputeReportedUpward { .. } => "dispute_reported_upward",
            Notice::DrillInject { .. } => "drill_inject",
            Notice::DrillDue { revision: true, .. } => "revision_due",
            Notice::DrillDue { .. } => "drill_due",
            Notice::StockLow { .. } => "stock_low",
            Notice::FollowUpOverdue { .. } => "follow_up_overdue",
            Notice::ReleasePublished { .. } => "release_published",
        }
    }

    /// The outbox row, with this id (an id chosen first binds a sealed contact to the row).
    pub fn row_with_id(&self, id: Uuid, event_id: Uuid, now: Timestamp) -> Row {
        Row::Outbox(OutboxRow {
            id,
            event_id,
            kind: self.kind().into(),
            payload: serde_json::to_string(self).expect("a notice serialises"),
            next_at: fmt_ts(now),
            created_at: fmt_ts(now),
        })
    }

    /// The outbox row.
    pub fn row(&self, event_id: Uuid, now: Timestamp) -> Row {
        self.row_with_id(Uuid::now_v7(), event_id, now)
    }
}

/// The language notices are written in: the notification configuration's (`language`), zh-CN
/// by default. People have no language preference of their own yet.
pub fn language(app: &App) -> &'static str {
    catalogue::language(Some(&app.notify.config().language))
}

/// The associated data that binds a contact sealed for one notice to its outbox row.
pub fn notice_aad(outbox_id: Uuid) -> String {
    format!("outbox.address:{outbox_id}")
}

/// The channel a contact a petitioner gave can be reached on: e-mail for an address with `@`,
/// SMS for a phone number; None for anything else (a postal address, a name).
pub fn contact_channel(contact: &str) -> Option<&'static str> {
    let c = contact.trim();
    if c.contains('@') && !c.contains(char::is_whitespace) {
        return Some("email");
    }
    let digits = c.chars().filter(char::is_ascii_digit).count();
    let phoneish = c
        .chars()
        .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | ' ' | '(' | ')'));
    (phoneish && (7..=15).contains(&digits)).then_some("sms")
}

/// Local time for a notice's text.
fn local(at: Timestamp, tz: &str) -> String {
    local_in(at, &TimeZone::get(tz).unwrap_or(TimeZone::UTC))
}

fn local_in(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Recipients found so far, and why some were not.
#[derive(Default)]
struct Found {
    people: Vec<PersonRef>,
    missing: Vec<String>,
}

impl Found {
    fn add(&mut self, people: Vec<PersonRef>, what: impl FnOnce() -> String) {
        if people.is_empty() {
            self.missing.push(what());
        }
        for p in people {
            if !self.people.iter().any(|x| x.person_id == p.person_id) {
                self.people.push(p);
            }
        }
    }

    fn unresolved(&self) -> Option<String> {
        (self.people.is_empty()).then(|| {
            if self.missing.is_empty() {
                "no recipient is named".to_string()
            } else {
                self.missing.join("; ")
            }
        })
    }
}

/// Who holds `post` in a jurisdiction now (duty roster, principals, deputies).
async fn post(app: &App, jurisdiction_id: Uuid, post: &str) -> Result<Vec<PersonRef>, AppError> {
    Ok(
        crate::calls::resolve_post(app, jurisdiction_id, post, app.clock.now())
            .await?
            .people,
    )
}

/// The office of a jurisdiction: the holders of the office posts its plans name (head, then
/// deputies, then members: the first held), else its duty officers (the `duty_officer` role).
pub async fn office(app: &App, jurisdiction_id: Uuid) -> Result<Vec<PersonRef>, AppError> {
    Ok(office_post(app, jurisdiction_id).await?.1)
}

/// The office of a jurisdiction as [`office`] finds it, with the post (id, name) it was found
/// through (None: the duty officers).
pub async fn office_post(
    app: &App,
    jurisdiction_id: Uuid,
) -> Result<(Option<(String, String)>, Vec<PersonRef>), AppError> {
    let Some(j) = app.store.jurisdiction(jurisdiction_id).await? else {
        return Ok((None, vec![]));
    };
    let mut seen = std::collections::HashSet::new();
    for row in app.store.list_plans(&j.path).await? {
        if row.jurisdiction_id != jurisdiction_id || !seen.insert(row.plan_id.clone()) {
            continue; // another jurisdiction's, or an older version
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        let Some(o) = &plan.office else { continue };
        let posts = o.head.iter().chain(&o.deputies).chain(&o.members);
        for p in posts {
            let people = post(app, jurisdiction_id, &p.value).await?;
            if !people.is_empty() {
                let name = plan.name_of(&p.value).unwrap_or(&p.value).to_string();
                return Ok((Some((p.value.clone(), name)), people));
            }
        }
    }
    let people = app
        .store
        .role_holders(jurisdiction_id, DUTY_ROLE)
        .await?
        .into_iter()
        .map(|(person_id, name)| PersonRef { person_id, name })
        .collect();
    Ok((None, people))
}

/// A handling unit: a jurisdiction's office, a member unit of the jurisdiction's plans through
/// its head post, or a post of that name.
async fn unit(app: &App, c: &CaseFacts) -> Result<Vec<PersonRef>, AppError> {
    if let Some(j) = c.unit_jurisdiction {
        return office(app, j).await;
    }
    let Some(name) = c.unit.as_deref() else {
        return Ok(vec![]);
    };
    let mut seen = std::collections::HashSet::new();
    for row in app.store.list_plans(&c.path).await? {
        if row.jurisdiction_id != c.jurisdiction_id || !seen.insert(row.plan_id.clone()) {
            continue;
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        for u in &plan.member_units {
            if (u.id.value == name || u.name == name)
                && let Some(h) = &u.head
            {
                return post(app, c.jurisdiction_id, &h.value).await;
            }
        }
    }
    post(app, c.jurisdiction_id, name).await
}

/// The owner of a commitment or reply: a post of the jurisdiction, else a person of that name
/// there.
async fn owner(app: &App, jurisdiction_id: Uuid, owner: &str) -> Result<Vec<PersonRef>, AppError> {
    let by_post = post(app, jurisdiction_id, owner).await?;
    if !by_post.is_empty() {
        return Ok(by_post);
    }
    let Some(j) = app.store.jurisdiction(jurisdiction_id).await? else {
        return Ok(vec![]);
    };
    Ok(app
        .store
        .list_people(&j.path)
        .await?
        .into_iter()
        .filter(|p| p.jurisdiction_id == jurisdiction_id && p.name == owner.trim())
        .map(|p| PersonRef {
            person_id: p.id,
            name: p.name,
        })
        .collect())
}

/// 首报, 续报（第n次）or 终报, in `lang`.
fn upward_kind(lang: &str, kind: UpwardKind, seq: u32) -> String {
    catalogue::fill(
        &catalogue::word(lang, "upward_kind", kind.as_str()),
        &[("n", seq.to_string())],
    )
}

async fn jurisdiction_name(app: &App, id: Uuid) -> Result<String, AppError> {
    Ok(app
        .store
        .jurisdiction(id)
        .await?
        .map(|j| j.name)
        .unwrap_or_default())
}

/// Resolves a notice into the worker's payload: recipients, subject and text.
pub async fn resolve(app: &App, n: &Notice) -> Result<serde_json::Value, AppError> {
    let lang = language(app);
    let mut found = Found::default();
    let mut addresses: Vec<DirectAddress> = vec![];
    let s = |v: &str| v.to_string();
    let none = || catalogue::word(lang, "words", "none");
    let (key, args, drill, path, ids): (
        &str,
        Vec<(&str, String)>,
        bool,
        String,
        serde_json::Value,
    ) = match n {
        Notice::TaskOverdue {
            incident,
            task_id,
            task,
            due_at,
            assignees,
        } => {
            found.add(assignees.clone(), || {
                format!("the task “{task}” has no assignee")
            });
            let plan = app.plan(&incident.plan_id, incident.plan_version).await?;
            (
                "task_overdue",
                vec![
                    ("incident", s(&incident.title)),
                    ("task", s(task)),
                    ("due", local_in(*due_at, &plan.time.tz)),
                ],
                incident.drill,
                incident.path.clone(),
                json!({ "incident_id": incident.id, "task_id": task_id }),
            )
        }
        Notice::Warning {
            incident,
            level,
            lifted,
        } => {
            let plan = app.plan(&incident.plan_id, incident.plan_version).await?;
            let posts: Vec<String> = level
                .as_ref()
                .and_then(|l| plan.level_index(&l.id))
                .map(|i| {
                    yingji_plan::response::callees(
                        &plan,
                        &yingji_plan::response::effective(&plan, i),
                    )
                    .into_iter()
                    .map(|c| c.post)
                    .collect()
                })
                .unwrap_or_default();
            for p in &posts {
                found.add(post(app, incident.jurisdiction_id, p).await?, || {
                    format!("nobody holds the post {p}")
                });
            }
            if found.people.is_empty() {
                found.add(office(app, incident.jurisdiction_id).await?, || {
                    "the jurisdiction's office has nobody".into()
                });
            }
            let level_id = level.as_ref().map(|l| l.id.clone()).unwrap_or_default();
            let level_name = level.as_ref().map(|l| l.name.clone()).unwrap_or_default();
            let at = local_in(app.clock.now(), &plan.time.tz);
            let extra = json!({ "incident_id": incident.id });
            match lifted {
                None => (
                    "warning",
                    vec![
                        ("incident", s(&incident.title)),
                        ("level", level_id),
                        ("name", level_name),
                        ("at", at),
                    ],
                    incident.drill,
                    incident.path.clone(),
                    extra,
                ),
                Some(reason) => (
                    "warning_lifted",
                    vec![
                        ("incident", s(&incident.title)),
                        ("level", level_id),
                        ("name", level_name),
                        ("at", at),
                        ("reason", s(reason)),
                    ],
                    incident.drill,
                    incident.path.clone(),
                    extra,
                ),
            }
        }
        Notice::ObligationOverdue {
            incident,
            obligation_id,
            kind,
            what,
            owner: who,
            due_at,
        } => {
            let people = owner(app, incident.jurisdiction_id, who).await?;
            let people = if people.is_empty() {
                office(app, incident.jurisdiction_id).await?
            } else {
                people
            };
            found.add(people, || {
                format!("nobody holds or is named “{who}”, and the office has nobody")
            });
            let plan = app.plan(&incident.plan_id, incident.plan_version).await?;
            (
                match kind {
                    ObligationKind::Commitment => "commitment_overdue",
                    ObligationKind::Reply => "reply_overdue",
                },
                vec![
                    ("incident", s(&incident.title)),
                    ("what", s(what)),
                    ("owner", s(who)),
                    ("due", local_in(*due_at, &plan.time.tz)),
                ],
                incident.drill,
                incident.path.clone(),
                json!({ "incident_id": incident.id, "obligation_id": obligation_id }),
            )
        }
        Notice::UpwardReportSubmitted {
            incident,
            report_id,
            kind,
            seq,
            to,
            level,
            deliver_to,
            commanders,
            fields,
            text,
            by,
        } => {
            let j = app.store.jurisdiction(incident.jurisdiction_id).await?;
            let from = j.as_ref().map(|j| j.name.clone()).unwrap_or_default();
            let parent = j.and_then(|j| j.parent_id);
            match (deliver_to.as_deref(), parent) {
                (None | Some("parent"), Some(p)) => {
                    found.add(office(app, p).await?, || {
                        "the parent jurisdiction's office has nobody".into()
                    });
                }
                (Some(p), _) if p != "parent" && p != "command" => {
                    found.add(post(app, incident.jurisdiction_id, p).await?, || {
                        format!("nobody holds the post “{p}” the report is delivered to")
                    });
                }
                // The command: asked for, or the default where there is no parent.
                _ => {
                    for c in commanders {
                        found.add(post(app, incident.jurisdiction_id, c).await?, || {
                            format!("nobody holds the commander post “{c}”")
                        });
                    }
                    if commanders.is_empty() {
                        found.missing.push("the level names no commander".into());
                    }
                }
            }
            let plan = app.plan(&incident.plan_id, incident.plan_version).await?;
            let sep = catalogue::word(lang, "upward_report", "separator");
            let mut parts: Vec<String> = fields
                .iter()
                .map(|(f, v)| {
                    catalogue::fill(
                        &catalogue::word(lang, "upward_report", "field"),
                        &[("field", f.clone()), ("value", v.clone())],
                    )
                })
                .collect();
            if let Some(t) = text.as_deref().filter(|t| !t.trim().is_empty()) {
                parts.push(catalogue::fill(
                    &catalogue::word(lang, "upward_report", "free_text"),
                    &[("text", t.to_string())],
                ));
            }
            let body = if parts.is_empty() {
                String::new()
            } else {
                parts.join(&sep) + &catalogue::word(lang, "upward_report", "end")
            };
            (
                "upward_report",
                vec![
                    ("incident", s(&incident.title)),
                    ("level", s(level)),
                    ("kind", upward_kind(lang, *kind, *seq)),
                    ("to", s(to)),
                    ("body", body),
                    ("from", from),
                    ("by", s(by)),
                    ("at", local_in(app.clock.now(), &plan.time.tz)),
                ],
                incident.drill,
                incident.path.clone(),
                json!({ "incident_id": incident.id, "upward_report_id": report_id }),
            )
        }
        Notice::UpwardReportLate {
            incident,
            report_id,
            kind,
            seq,
            to,
            due_at,
            posts,
            commanders,
        } => {
            for p in posts.iter().chain(commanders) {
                let people = post(app, incident.jurisdiction_id, p).await?;
                found.add(people, || format!("nobody holds the post “{p}”"));
            }
            if found.people.is_empty() {
                found.add(office(app, incident.jurisdiction_id).await?, || {
                    "the office has nobody".into()
                });
            }
            let plan = app.plan(&incident.plan_id, incident.plan_version).await?;
            (
                "upward_report_late",
                vec![
                    ("incident", s(&incident.title)),
                    ("kind", upward_kind(lang, *kind, *seq)),
                    ("to", s(to)),
                    ("due", local_in(*due_at, &plan.time.tz)),
                ],
                incident.drill,
                incident.path.clone(),
                json!({ "incident_id": incident.id, "upward_report_id": report_id }),
            )
        }
        Notice::CaseSupervision {
            case,
            step,
            note,
            by,
        } => {
            if let Some(l) = &case.lead {
                found.add(vec![l.clone()], String::new);
            }
            found.add(unit(app, case).await?, || match &case.unit {
                Some(u) => format!("nobody can be found for the handling unit “{u}”"),
                None => "the case has no handling unit".into(),
            });
            let step_key = serde_json::to_value(step)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (
                "case_supervision",
                vec![
                    ("label", catalogue::word(lang, "supervision", &step_key)),
                    ("case_number", s(&case.case_number)),
                    ("title", s(&case.title)),
                    ("unit", case.unit.clone().unwrap_or_else(none)),
                    ("due", s(&case.due_day)),
                    (
                        "note",
                        match note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                            Some(n) => catalogue::fill(
                                &catalogue::word(lang, "case_supervision", "note"),
                                &[
                                    ("note", n.to_string()),
                                    ("by", by.clone().unwrap_or_default()),
                                ],
                            ),
                            None => String::new(),
                        },
                    ),
                ],
                false,
                case.path.clone(),
                json!({ "case_id": case.id, "step": step }),
            )
        }
        Notice::CaseOverdue { case } => {
            if let Some(l) = &case.lead {
                found.add(vec![l.clone()], String::new);
            }
            let u = unit(app, case).await?;
            found.add(u, String::new);
            found.missing.clear();
            found.add(office(app, case.jurisdiction_id).await?, || {
                "the case has no owner or unit anyone holds, and the office has nobody".into()
            });
            (
                "case_overdue",
                vec![
                    ("case_number", s(&case.case_number)),
                    ("title", s(&case.title)),
                    ("unit", case.unit.clone().unwrap_or_else(none)),
                    ("due", s(&case.due_day)),
                ],
                false,
                case.path.clone(),
                json!({ "case_id": case.id }),
            )
        }
        Notice::ExtensionRequested {
            case,
            days,
            reason,
            approver_post,
            origin_jurisdiction,
        } => {
            match origin_jurisdiction {
                Some(o) => found.add(office(app, *o).await?, || {
                    "the referring body's office has nobody".into()
                }),
                None => found.add(
                    post(app, case.jurisdiction_id, approver_post).await?,
                    || format!("nobody holds the approver post “{approver_post}”"),
                ),
            }
            (
                "extension_requested",
                vec![
                    ("case_number", s(&case.case_number)),
                    ("title", s(&case.title)),
                    ("days", days.to_string()),
                    ("reason", s(reason)),
                    ("due", s(&case.due_day)),
                ],
                false,
                case.path.clone(),
                json!({ "case_id": case.id }),
            )
        }
        Notice::PetitionerNotice {
            case,
            about,
            notice,
            days,
            reason,
            contacts,
        } => {
            addresses = contacts.clone();
            if addresses.is_empty() {
                found.missing.push(
                    "the petitioner gave no contact a channel can reach (phone or e-mail)".into(),
                );
            }
            let key = match about.as_str() {
                "transferred" => "petitioner_transferred",
                "extended" => "petitioner_extended",
                _ => "petitioner_notice",
            };
            (
                key,
                vec![
                    ("case_number", s(&case.case_number)),
                    ("notice", s(notice)),
                    ("days", days.map(|d| d.to_string()).unwrap_or_default()),
                    ("reason", reason.clone().unwrap_or_else(none)),
                    ("due", s(&case.due_day)),
                ],
                false,
                case.path.clone(),
                json!({ "case_id": case.id, "about": about }),
            )
        }
        Notice::ReportLate {
            plan_id,
            schedule_id,
            schedule,
            due_at,
            tz,
            party,
            party_name,
            jurisdiction_id,
            path,
            unit_head,
        } => {
            let mut owner_path = path.clone();
            if let Some(h) = unit_head {
                found.add(post(app, *jurisdiction_id, h).await?, || {
                    format!("nobody holds the unit's head post “{h}”")
                });
            } else if let Some((p, j)) = party
                .strip_prefix("post:")
                .and_then(|x| x.split_once('@'))
                .and_then(|(p, j)| Some((p, j.parse::<Uuid>().ok()?)))
            {
                found.add(post(app, j, p).await?, || {
                    format!("nobody holds the post “{p}” there")
                });
                if let Some(jr) = app.store.jurisdiction(j).await? {
                    owner_path = jr.path;
                }
            } else {
                found
                    .missing
                    .push(format!("the party “{party}” names no post"));
            }
            (
                "report_late",
                vec![
                    ("schedule", s(schedule)),
                    ("party", s(party_name)),
                    ("due", local(*due_at, tz)),
                ],
                false,
                owner_path,
                json!({ "plan_id": plan_id, "schedule_id": schedule_id, "party": party, "due_at": due_at }),
            )
        }
        Notice::ReleasePublished {
            release_id,
            title,
            text,
            area,
            jurisdiction_id,
            path,
            cap_url,
            hooks,
        } => {
            addresses = hooks.clone();
            let from = jurisdiction_name(app, *jurisdiction_id).await?;
            (
                "release_published",
                vec![
                    ("title", s(title)),
                    ("from", from),
                    ("text", s(text)),
                    ("area", s(area)),
                    ("cap", s(cap_url)),
                ],
                false,
                path.clone(),
                json!({ "release_id": release_id }),
            )
        }
        Notice::DrillInject {
            incident,
            drill_title,
            text,
            to,
        } => {
            let plan = app.plan(&incident.plan_id, incident.plan_version).await?;
            let (name, people) = match to.as_deref() {
                Some("office") | None => (
                    catalogue::word(lang, "words", "office"),
                    office(app, incident.jurisdiction_id).await?,
                ),
                Some(p) => {
                    // A post, or a group through its lead's post.
                    let post_id = plan
                        .group(p)
                        .and_then(|g| g.lead.as_ref().map(|l| l.value.clone()))
                        .unwrap_or_else(|| p.to_string());
                    (
                        plan.name_of(p).unwrap_or(p).to_string(),
                        post(app, incident.jurisdiction_id, &post_id).await?,
                    )
                }
            };
            found.add(people, || format!("nobody holds “{name}”"));
            (
                "drill_inject",
                vec![
                    ("drill", s(drill_title)),
                    ("incident", incident.title.clone()),
                    ("to", name),
                    ("text", s(text)),
                ],
                true,
                incident.path.clone(),
                json!({ "incident_id": incident.id }),
            )
        }
        Notice::DrillDue {
            plan_title,
            period_start,
            period_end,
            overdue,
            revision,
            jurisdiction_id,
            path,
        } => {
            found.add(office(app, *jurisdiction_id).await?, || {
                "the jurisdiction's office has nobody".into()
            });
            (
                match (*revision, *overdue) {
                    (true, true) => "revision_overdue",
                    (true, false) => "revision_due",
                    (false, true) => "drill_overdue",
                    (false, false) => "drill_due",
                },
                vec![
                    ("plan", s(plan_title)),
                    ("from", s(period_start)),
                    ("to", s(period_end)),
                ],
                false,
                path.clone(),
                json!({}),
            )
        }
        Notice::StockLow {
            item_id,
            item,
            unit,
            quantity,
            minimum,
            location,
            custodian_post,
            jurisdiction_id,
            path,
        } => {
            match custodian_post {
                Some(p) => found.add(post(app, *jurisdiction_id, p).await?, || {
                    format!("nobody holds the custodian post “{p}”")
                }),
                None => found.add(office(app, *jurisdiction_id).await?, || {
                    "the jurisdiction's office has nobody".into()
                }),
            }
            (
                "stock_low",
                vec![
                    ("item", s(item)),
                    ("unit", s(unit)),
                    ("quantity", quantity.to_string()),
                    ("minimum", minimum.to_string()),
                    ("location", s(location)),
                ],
                false,
                path.clone(),
                json!({ "item_id": item_id }),
            )
        }
        Notice::FollowUpOverdue {
            title,
            text,
            owner: who,
            due_at,
            jurisdiction_id,
            path,
        } => {
            let mut people = owner(app, *jurisdiction_id, who).await?;
            if people.is_empty() {
                people = office(app, *jurisdiction_id).await?;
            }
            found.add(people, || {
                format!("nobody holds or is named “{who}”, and the office has nobody")
            });
            let tz = crate::cases::settings_for(app, path).await?.0.time_zone;
            (
                "follow_up_overdue",
                vec![
                    ("title", s(title)),
                    ("text", s(text)),
                    ("owner", s(who)),
                    ("due", local(*due_at, &tz)),
                ],
                false,
                path.clone(),
                json!({}),
            )
        }
        Notice::DisputeReportedUpward {
            dispute_id,
            title,
            reason,
            jurisdiction_id,
            path,
            to_jurisdiction,
        } => {
            let from = jurisdiction_name(app, *jurisdiction_id).await?;
            // The jurisdiction's local time (its case rules' time zone).
            let tz = crate::cases::settings_for(app, path).await?.0.time_zone;
            match to_jurisdiction {
                Some(p) => found.add(office(app, *p).await?, || {
                    "the parent jurisdiction's office has nobody".into()
                }),
                None => found
                    .missing
                    .push("the jurisdiction has no parent to report to".into()),
            }
            (
                "dispute_reported_upward",
                vec![
                    ("title", s(title)),
                    ("from", from),
                    ("reason", s(reason)),
                    ("at", local(app.clock.now(), &tz)),
                ],
                false,
                path.clone(),
                json!({ "dispute_id": dispute_id, "to_jurisdiction": to_jurisdiction }),
            )
        }
    };
    let (subject, text) = render(lang, key, &args, drill);
    let unresolved = if addresses.is_empty() {
        found.unresolved()
    } else {
        None
    };
    let mut v = json!({
        "people": found.people,
        "addresses": addresses,
        "subject": subject,
        "text": text,
        "drill": drill,
        "jurisdiction_path": path,
        "language": lang,
        "key": key,
        "unresolved": unresolved,
    });
    if let (Some(o), Some(ids)) = (v.as_object_mut(), ids.as_object()) {
        for (k, x) in ids {
            o.insert(k.clone(), x.clone());
        }
    }
    Ok(v)
}

/// Resolves every notice among a write set's outbox rows into the worker's payload, in place
/// (called by [`App::commit`]: once per commit, on the state of that moment).
pub async fn address(app: &App, ws: &mut WriteSet) -> Result<(), AppError> {
    for r in ws.rows.iter_mut() {
        let Row::Outbox(o) = r else { continue };
        let Ok(n) = serde_json::from_str::<Notice>(&o.payload) else {
            continue; // already addressed (calls)
        };
        o.payload = resolve(app, &n).await?.to_string();
    }
    Ok(())
}
