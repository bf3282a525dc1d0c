//! Documents issued from a record: the reports upward (首报/续报/终报), the incident summary,
//! the after-action review, and for petition cases the written reply (处理意见书), the
//! extension notice and the referral notice. Each is a .docx filled from the record through a
//! template (`templates/documents/<kind>.toml` built in; a deployment's `--templates DIR`
//! replaces them, everywhere or per jurisdiction). Issuing one is a command: the record's
//! timeline gets a `document_issued` event with the document's number, title and SHA-256, and
//! the file goes to the person who issued it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_docs::template::Template;
use yingji_domain::ActorRef;
use yingji_domain::case::{Case, ExtensionState, RouteKind};
use yingji_domain::document::IssuedDocument;
use yingji_domain::incident::{Incident, UpwardKind};

use crate::command::{Command as AppCommand, Decided};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// What a template renders: an incident or a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Incident,
    Case,
}

/// Every kind of document, with what it is issued from.
pub const KINDS: &[(&str, Target)] = &[
    ("upward_report", Target::Incident),
    ("incident_summary", Target::Incident),
    ("review", Target::Incident),
    ("case_reply", Target::Case),
    ("case_extension", Target::Case),
    ("case_referral", Target::Case),
];

const COMMON: &[&str] = &[
    "jurisdiction",
    "code",
    "parent",
    "year",
    "seq",
    "date",
    "issuer",
];

/// The placeholders an incident's templates may use.
pub const INCIDENT_FIELDS: &[&str] = &[
    "title",
    "venue",
    "location",
    "headcount",
    "level",
    "status",
    "kind",
    "plan",
    "reported_at",
    "activated_at",
    "ended_at",
    "report_kind",
    "to",
    "due_at",
    "submitted_at",
    "submitted_by",
    "text",
    "review_summary",
    "lessons",
];

/// The tables an incident's templates may place.
pub const INCIDENT_TABLES: &[&str] = &[
    "fields",
    "tasks",
    "obligations",
    "upward_reports",
    "measured",
    "task_timings",
    "corrective_actions",
];

/// The placeholders a case's templates may use.
pub const CASE_FIELDS: &[&str] = &[
    "case_number",
    "case_title",
    "grievance",
    "petitioner",
    "channel",
    "received_on",
    "accepted_on",
    "due_on",
    "category",
    "unit",
    "reply_on",
    "reply_channel",
    "reply_summary",
    "extension_days",
    "extension_reason",
    "extension_approver",
    "route_kind",
    "route_target",
    "route_notice",
];

fn target_of(kind: &str) -> Option<Target> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t)
}

fn allowed(t: Target) -> (Vec<&'static str>, &'static [&'static str]) {
    let (fields, tables): (&[&str], &[&str]) = match t {
        Target::Incident => (INCIDENT_FIELDS, INCIDENT_TABLES),
        Target::Case => (CASE_FIELDS, &[]),
    };
    (COMMON.iter().chain(fields).copied().collect(), tables)
}

fn builtin(kind: &str) -> &'static str {
    match kind {
        "upward_report" => include_str!("../../../templates/documents/upward_report.toml"),
        "incident_summary" => include_str!("../../../templates/documents/incident_summary.toml"),
        "review" => include_str!("../../../templates/documents/review.toml"),
        "case_reply" => include_str!("../../../templates/documents/case_reply.toml"),
        "case_extension" => include_str!("../../../templates/documents/case_extension.toml"),
        _ => include_str!("../../../templates/documents/case_referral.toml"),
    }
}

/// A template with where it came from (`default`, or its file).
#[derive(Debug)]
struct Loaded {
    template: Template,
    source: String,
}

/// The document templates of a deployment: the built-in ones, and those of `--templates DIR`
/// (`DIR/<kind>.toml` for every jurisdiction, `DIR/<code or name>/<kind>.toml` for one
/// jurisdiction and those below it; the nearest wins).
#[derive(Debug)]
pub struct Templates {
    /// By (jurisdiction key, "" for all; kind).
    map: HashMap<(String, String), Loaded>,
}

impl Default for Templates {
    fn default() -> Self {
        let mut map = HashMap::new();
        for (kind, _) in KINDS {
            let template = Template::parse(builtin(kind))
                .unwrap_or_else(|e| panic!("the built-in template {kind} is valid: {e:?}"));
            map.insert(
                (String::new(), format!("builtin:{kind}")),
                Loaded {
                    template,
                    source: "default".into(),
                },
            );
        }
        Templates { map }
    }
}

/// Checks one template's text; problems as `file:line:col: message`.
pub fn check_template(path: &str, kind: &str, text: &str) -> Result<Template, Vec<String>> {
    let Some(target) = target_of(kind) else {
        let known: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(vec![format!(
            "{path}:1:1: `{kind}` is not a kind of document (one of: {})",
            known.join(", ")
        )]);
    };
    let t = Template::parse(text)
        .map_err(|es| es.iter().map(|e| format!("{path}:{e}")).collect::<Vec<_>>())?;
    let (fields, tables) = allowed(target);
    let problems = t.check(text, &fields, tables);
    if problems.is_empty() {
        Ok(t)
    } else {
        Err(problems.iter().map(|e| format!("{path}:{e}")).collect())
    }
}

impl Templates {
    /// The built-in templates with those of `dir` laid over them. Every file is checked; all
    /// problems are answered together.
    pub fn load(dir: &Path) -> Result<Self, Vec<String>> {
        let mut out = Templates::default();
        let mut problems = vec![];
        let mut read = |key: String, path: &Path, problems: &mut Vec<String>| {
            let Some(kind) = path.file_stem().and_then(|s| s.to_str()) else {
                return;
            };
            let shown = path.display().to_string();
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("{shown}: {e}"));
                    return;
                }
            };
            match check_template(&shown, kind, &text) {
                Ok(template) => {
                    out.map.insert(
                        (key, kind.to_string()),
                        Loaded {
                            template,
                            source: shown,
                        },
                    );
                }
                Err(mut e) => problems.append(&mut e),
            }
        };
        let entries = std::fs::read_dir(dir)
            .map_err(|e| vec![format!("{}: {e}", dir.display())])?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect::<Vec<_>>();
        let mut entries = entries;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                let key = p
                    .file_name()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                let mut files: Vec<_> = std::fs::read_dir(&p)
                    .map_err(|e| vec![format!("{}: {e}", p.display())])?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                    .collect();
                files.sort();
                for f in files {
                    read(key.clone(), &f, &mut problems);
                }
            } else if p.extension().is_some_and(|x| x == "toml") {
                read(String::new(), &p, &mut problems);
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }

    /// The template of `kind` for a jurisdiction whose keys (code and name, nearest first)
    /// are `keys`.
    fn for_keys(&self, keys: &[String], kind: &str) -> &Loaded {
        keys.iter()
            .chain(std::iter::once(&String::new()))
            .find_map(|k| self.map.get(&(k.clone(), kind.to_string())))
            .or_else(|| self.map.get(&(String::new(), format!("builtin:{kind}"))))
            .expect("every kind has a built-in template")
    }

    /// How many templates were read from files (not built in).
    pub fn replaced(&self) -> usize {
        self.map.values().filter(|l| l.source != "default").count()
    }
}

// ---------------------------------------------------------------------------------------------
// Values

fn zone() -> TimeZone {
    crate::statistics::zone()
}

fn day(t: Timestamp) -> String {
    t.to_zoned(zone()).strftime("%Y年%-m月%-d日").to_string()
}

fn date_text(d: jiff::civil::Date) -> String {
    d.strftime("%Y年%-m月%-d日").to_string()
}

fn minute(t: Timestamp) -> String {
    t.to_zoned(zone())
        .strftime("%Y年%-m月%-d日%H时%M分")
        .to_string()
}

fn duration(s: Option<i64>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s < 3600 => format!("{}分钟", (s + 59) / 60),
        Some(s) => format!("{}小时{}分钟", s / 3600, (s % 3600) / 60),
    }
}

fn incident_status(s: yingji_domain::incident::Status) -> &'static str {
    use yingji_domain::incident::Status::*;
    match s {
        Reported => "已接报",
        Verified => "已核实",
        Unfounded => "经核实不属实",
        Active => "响应中",
        Ended => "响应已结束",
        Reviewed => "已评估",
        Closed => "已关闭",
    }
}

fn upward_kind(k: UpwardKind) -> &'static str {
    match k {
        UpwardKind::First => "首报",
        UpwardKind::FollowUp => "续报",
        UpwardKind::Final => "终报",
    }
}

fn task_state(t: &yingji_domain::incident::Task) -> &'static str {
    use yingji_domain::incident::TaskState::*;
    match t.state {
        Open => "待签收",
        Acknowledged => "已签收",
        Started => "办理中",
        Done => "已完成",
        Cancelled => "已取消",
        Closed => "已关闭",
    }
}

type Tables = BTreeMap<String, (Vec<String>, Vec<Vec<String>>)>;

fn table(header: &[&str], rows: Vec<Vec<String>>) -> (Vec<String>, Vec<Vec<String>>) {
    (header.iter().map(|s| s.to_string()).collect(), rows)
}

/// The jurisdiction's name, code and parent's name, and its keys for template lookup
/// (code and name, nearest first, up to the root).
struct Place {
    name: String,
    code: String,
    parent: String,
    keys: Vec<String>,
}

async fn place(app: &App, path: &str) -> Result<Place, AppError> {
    let ids: Vec<Uuid> = path
        .split('/')
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let mut keys = vec![];
    let (mut name, mut code, mut parent) = (String::new(), String::new(), String::new());
    for (i, id) in ids.iter().rev().enumerate() {
        if let Some(j) = app.store.jurisdiction(*id).await? {
            if i == 0 {
                name = j.name.clone();
                code = j.code.clone().unwrap_or_else(|| j.name.clone());
            } else if i == 1 {
                parent = j.name.clone();
            }
            if let Some(c) = j.code {
                keys.push(c);
            }
            keys.push(j.name);
        }
    }
    Ok(Place {
        name,
        code,
        parent,
        keys,
    })
}

fn common(v: &mut BTreeMap<String, String>, p: &Place, actor: &Actor, now: Timestamp, seq: usize) {
    v.insert("jurisdiction".into(), p.name.clone());
    v.insert("code".into(), p.code.clone());
    v.insert("parent".into(), p.parent.clone());
    v.insert("year".into(), now.to_zoned(zone()).year().to_string());
    v.insert("seq".into(), seq.to_string());
    v.insert("date".into(), day(now));
    v.insert("issuer".into(), actor.name.clone());
}

/// The values and tables of an incident's document, or why it cannot be issued now.
fn incident_values(
    inc: &Incident,
    plan_title: &str,
    kind: &str,
    report_id: Option<Uuid>,
    v: &mut BTreeMap<String, String>,
    t: &mut Tables,
) -> Result<(), AppError> {
    v.insert("title".into(), inc.title.clone());
    v.insert("venue".into(), inc.venue.clone().unwrap_or_default());
    v.insert("location".into(), inc.location.clone().unwrap_or_default());
    v.insert("headcount".into(), inc.headcount.to_string());
    v.insert(
        "level".into(),
        inc.level
            .as_ref()
            .map(|l| l.name.clone())
            .unwrap_or_else(|| "未定级".into()),
    );
    v.insert("status".into(), incident_status(inc.status).into());
    v.insert("plan".into(), plan_title.to_string());
    v.insert("reported_at".into(), minute(inc.reported_at));
    v.insert(
        "activated_at".into(),
        inc.activated_at.map(minute).unwrap_or_else(|| "—".into()),
    );
    v.insert(
        "ended_at".into(),
        inc.ended_at.map(minute).unwrap_or_else(|| "—".into()),
    );
    t.insert(
        "tasks".into(),
        table(
            &["工作组", "任务", "时限", "状态"],
            inc.tasks
                .iter()
                .map(|k| {
                    vec![
                        k.group_name.clone(),
                        k.title.clone(),
                        minute(k.due_at),
                        task_state(k).to_string(),
                    ]
                })
                .collect(),
        ),
    );
    t.insert(
        "obligations".into(),
        table(
            &["事项", "责任人", "期限", "办理情况"],
            inc.obligations
                .iter()
                .map(|o| {
                    vec![
                        o.text.clone(),
                        o.owner.clone(),
                        day(o.due_at),
                        match (o.done, &o.outcome) {
                            (true, Some(out)) => format!("已办结：{out}"),
                            (true, None) => "已办结".into(),
                            (false, _) if o.overdue => "已逾期".into(),
                            _ => "办理中".into(),
                        },
                    ]
                })
                .collect(),
        ),
    );
    t.insert(
        "upward_reports".into(),
        table(
            &["报告", "报送对象", "报送时间"],
            inc.upward_reports
                .iter()
                .filter(|r| r.submitted_at.is_some())
                .map(|r| {
                    let name = match r.kind {
                        UpwardKind::FollowUp => format!("续报（{}）", r.seq),
                        k => upward_kind(k).to_string(),
                    };
                    vec![
                        name,
                        r.to.clone(),
                        r.submitted_at.map(minute).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    );
    match kind {
        "upward_report" => {
            let Some(id) = report_id else {
                return Err(AppError::missing("report_id"));
            };
            let Some(r) = inc.upward_reports.iter().find(|r| r.id == id) else {
                return Err(AppError::field(
                    ErrorCode::NotFound,
                    "report_id",
                    "the incident owes no such report upward",
                ));
            };
            let Some(at) = r.submitted_at else {
                return Err(AppError::new(
                    ErrorCode::DocumentNotReady,
                    "the report has not been submitted yet: submit it, then issue its document",
                ));
            };
            let name = match r.kind {
                UpwardKind::FollowUp => format!("续报（第{}次）", r.seq),
                k => upward_kind(k).to_string(),
            };
            v.insert("report_kind".into(), name);
            v.insert("to".into(), r.to.clone());
            v.insert(
                "due_at".into(),
                r.due_at.map(minute).unwrap_or_else(|| "—".into()),
            );
            v.insert("submitted_at".into(), minute(at));
            v.insert(
                "submitted_by".into(),
                r.submitted_by
                    .as_ref()
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            );
            v.insert("text".into(), r.text.clone().unwrap_or_default());
            // In the plan's order, then anything else submitted.
            let mut rows: Vec<Vec<String>> = r
                .fields
                .iter()
                .map(|f| vec![f.clone(), r.values.get(f).cloned().unwrap_or_default()])
                .collect();
            rows.extend(
                r.values
                    .iter()
                    .filter(|(k, _)| !r.fields.contains(k))
                    .map(|(k, val)| vec![k.clone(), val.clone()]),
            );
            t.insert("fields".into(), table(&["事项", "内容"], rows));
        }
        "review" => {
            let Some(rv) = &inc.review else {
                return Err(AppError::new(
                    ErrorCode::DocumentNotReady,
                    "the incident has not been reviewed yet",
                ));
            };
            v.insert("review_summary".into(), rv.summary.clone());
            v.insert(
                "lessons".into(),
                rv.lessons
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("{}. {l}", i + 1))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            let m = &rv.measured;
            t.insert(
                "measured".into(),
                table(
                    &["环节", "用时"],
                    vec![
                        vec!["接报至核实".into(), duration(m.report_to_verify_s)],
                        vec!["接报至定级".into(), duration(m.report_to_assess_s)],
                        vec!["接报至启动响应".into(), duration(m.report_to_activate_s)],
                        vec![
                            "启动响应至首次签收".into(),
                            duration(m.activate_to_first_ack_s),
                        ],
                        vec!["启动响应至结束响应".into(), duration(m.activate_to_end_s)],
                        vec!["接报至结束响应".into(), duration(m.report_to_end_s)],
                    ],
                ),
            );
            t.insert(
                "task_timings".into(),
                table(
                    &["任务", "工作组", "签收用时", "完成用时", "是否超时"],
                    m.tasks
                        .iter()
                        .map(|k| {
                            vec![
                                k.title.clone(),
                                k.group.clone(),
                                duration(k.to_ack_s),
                                duration(k.to_done_s),
                                if k.overdue { "超时" } else { "按时" }.into(),
                            ]
                        })
                        .collect(),
                ),
            );
            t.insert(
                "corrective_actions".into(),
                table(
                    &["整改措施", "责任人", "期限", "状态"],
                    rv.corrective_actions
                        .iter()
                        .map(|c| {
                            vec![
                                c.title.clone(),
                                c.owner.clone(),
                                c.due_at.map(day).unwrap_or_else(|| "—".into()),
                                if c.done {
                                    "已完成".into()
                                } else if c.overdue {
                                    "已逾期".into()
                                } else {
                                    "整改中".into()
                                },
                            ]
                        })
                        .collect(),
                ),
            );
        }
        _ => {}
    }
    Ok(())
}

fn channel_text(c: yingji_domain::case::Channel) -> &'static str {
    use yingji_domain::case::Channel::*;
    match c {
        Letter => "来信",
        Phone => "来电",
        Online => "网上信访",
        Fax => "传真",
        Visit => "来访",
    }
}

/// The values of a case's document, or why it cannot be issued now.
fn case_values(c: &Case, kind: &str, v: &mut BTreeMap<String, String>) -> Result<(), AppError> {
    let not_ready = |why: &str| AppError::new(ErrorCode::DocumentNotReady, why);
    v.insert("case_number".into(), c.case_number.clone());
    v.insert("case_title".into(), c.title.clone());
    v.insert("grievance".into(), c.grievance.clone());
    v.insert(
        "petitioner".into(),
        c.petitioners
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join("、"),
    );
    v.insert("channel".into(), channel_text(c.channel).into());
    v.insert("received_on".into(), day(c.received_at));
    v.insert("accepted_on".into(), date_text(c.accepted_on));
    // The last day to handle it (the due time is that day's 24:00, the next day's 00:00).
    v.insert("due_on".into(), date_text(c.due.last_day));
    v.insert("category".into(), c.topic.clone().unwrap_or_default());
    v.insert("unit".into(), c.unit().unwrap_or_default().to_string());
    match kind {
        "case_reply" => {
            let Some(r) = &c.reply else {
                return Err(not_ready("the case has not been replied to yet"));
            };
            v.insert("reply_on".into(), date_text(r.on));
            v.insert("reply_channel".into(), r.channel.clone());
            v.insert("reply_summary".into(), r.summary.clone());
        }
        "case_extension" => {
            let Some(x) = c
                .extension
                .as_ref()
                .filter(|x| x.state == ExtensionState::Approved)
            else {
                return Err(not_ready("the case has no approved extension"));
            };
            v.insert("extension_days".into(), x.days.to_string());
            v.insert("extension_reason".into(), x.reason.clone());
            v.insert(
                "extension_approver".into(),
                x.decided_by
                    .as_ref()
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            );
        }
        "case_referral" => {
            let Some(r) = c.routing.as_ref().filter(|r| {
                matches!(
                    r.kind,
                    RouteKind::Transfer | RouteKind::Refer | RouteKind::Assign
                )
            }) else {
                return Err(not_ready(
                    "the case has not been transferred, referred or assigned",
                ));
            };
            v.insert(
                "route_kind".into(),
                match r.kind {
                    RouteKind::Assign => "交办",
                    RouteKind::Transfer => "转送",
                    _ => "转交",
                }
                .into(),
            );
            v.insert("route_target".into(), r.target.clone());
            v.insert("route_notice".into(), r.notice.clone().unwrap_or_default());
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Commands

/// A document to issue (`POST /incidents/{id}/documents`, `POST /cases/{id}/documents`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// `upward_report`, `incident_summary` or `review` for an incident; `case_reply`,
    /// `case_extension` or `case_referral` for a case.
    pub kind: String,
    /// The upward report to render (`upward_report` only).
    pub report_id: Option<Uuid>,
}

/// An issued document: the record's entry and the file.
#[derive(Debug, Clone)]
pub struct IssuedFile {
    pub document: IssuedDocument,
    /// A file name for the download (`<number>.docx`, safe characters only).
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The media type of a .docx.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn check_kind(kind: &str, target: Target) -> Result<(), AppError> {
    if target_of(kind) == Some(target) {
        return Ok(());
    }
    let known: Vec<&str> = KINDS
        .iter()
        .filter(|(_, t)| *t == target)
        .map(|(k, _)| *k)
        .collect();
    Err(AppError::field(
        ErrorCode::InvalidField,
        "kind",
        format!("`kind` must be one of: {}", known.join(", ")),
    ))
}

fn safe_name(number: &str, kind: &str) -> String {
    let s: String = number
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_〔〕()（）".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('_');
    if s.is_empty() {
        format!("{kind}.docx")
    } else {
        format!("{s}.docx")
    }
}

/// Renders, hashes and describes one document.
#[allow(clippy::too_many_arguments)]
fn render(
    app: &App,
    actor: &Actor,
    p: &Place,
    kind: &str,
    report_id: Option<Uuid>,
    v: &BTreeMap<String, String>,
    t: &Tables,
    now: Timestamp,
    drill: bool,
) -> IssuedFile {
    let loaded = app.templates.for_keys(&p.keys, kind);
    let mut doc = loaded.template.render(v, t, "zh-CN");
    // A drill's documents say so in their title, whatever the template.
    if drill {
        doc.title = format!("【演练】{}", doc.title);
    }
    doc.footer_note = Some(format!(
        "（本文书由应急系统依据事件记录生成，{}）",
        minute(now)
    ));
    let bytes = doc.to_bytes();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let number = doc.number.clone().unwrap_or_default();
    IssuedFile {
        filename: safe_name(&number, kind),
        document: IssuedDocument {
            id: Uuid::now_v7(),
            kind: kind.to_string(),
            report_id,
            number,
            title: doc.title.clone(),
            sha256,
            size: bytes.len() as u64,
            template: loaded.source.clone(),
            issued_at: now,
            issued_by: ActorRef {
                person_id: actor.person_id,
                name: actor.name.clone(),
            },
        },
        bytes,
    }
}

/// Issues a document from an incident (`incident.document`).
pub struct IssueIncidentDocument {
    pub id: Uuid,
    pub request: DocumentRequest,
}

impl AppCommand for IssueIncidentDocument {
    type Output = IssuedFile;

    fn kind(&self) -> &'static str {
        "incident.document"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<IssuedFile>, AppError> {
        check_kind(&self.request.kind, Target::Incident)?;
        let rec = app
            .store
            .get_incident(self.id)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?;
        let auth = app.authorize(
            actor,
            Permission::HandleIncident,
            &rec.jurisdiction_path,
            "incident",
        )?;
        let rebuilt = crate::replay::incident(app, rec.id)
            .await?
            .ok_or_else(|| AppError::not_found("incident"))?;
        let inc = rebuilt.state;
        let plan = app.plan(&inc.plan_id, inc.plan_version).await?;
        let now = app.clock.now();
        let p = place(app, &rec.jurisdiction_path).await?;
        let kind = self.request.kind.as_str();
        let seq = inc.documents.iter().filter(|d| d.kind == kind).count() + 1;
        let mut v = BTreeMap::new();
        let mut t = Tables::new();
        common(&mut v, &p, actor, now, seq);
        incident_values(
            &inc,
            &plan.meta.title,
            kind,
            self.request.report_id,
            &mut v,
            &mut t,
        )?;
        let file = render(
            app,
            actor,
            &p,
            kind,
            self.request.report_id,
            &v,
            &t,
            now,
            inc.drill,
        );
        let cmd = yingji_domain::incident::Command::IssueDocument {
            document: file.document.clone(),
        };
        let actor_ref = actor.as_ref();
        let holders = app.holders(inc.jurisdiction_id).await?;
        let lookup = |post: &str| holders.get(post).cloned().unwrap_or_default();
        let ctx = yingji_domain::incident::Ctx {
            now,
            actor: &actor_ref,
            plan: &plan,
            holders: &lookup,
            new_id: &Uuid::now_v7,
        };
        let events = yingji_domain::incident::decide(Some(&inc), &cmd, &ctx)?;
        let mut after = Some(inc);
        for e in &events {
            after = yingji_domain::incident::apply(after, e, now, &actor_ref);
        }
        let after = after.ok_or_else(|| AppError::internal("an incident stopped being one"))?;
        let mut ws = yingji_store::WriteSet::default();
        crate::write::incident_events(
            &mut ws,
            &after,
            &rec.jurisdiction_path,
            rebuilt.version,
            rebuilt.head_hash.as_deref(),
            &actor_ref,
            now,
            &events,
        );
        Ok(Decided::new(auth, ws, file))
    }

    fn respond(&self, out: &IssuedFile) -> JsonText {
        JsonText::of(&out.document)
    }
}

/// Issues a document from a petition case (`case.document`).
pub struct IssueCaseDocument {
    pub id: Uuid,
    pub request: DocumentRequest,
}

impl AppCommand for IssueCaseDocument {
    type Output = IssuedFile;

    fn kind(&self) -> &'static str {
        "case.document"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<IssuedFile>, AppError> {
        check_kind(&self.request.kind, Target::Case)?;
        if self.request.report_id.is_some() {
            return Err(AppError::field(
                ErrorCode::InvalidField,
                "report_id",
                "`report_id` is for an incident's upward report",
            ));
        }
        let (mut rec, auth) = crate::cases::record_for(app, actor, self.id).await?;
        let c = crate::cases::case_for_decision(app, &mut rec).await?;
        let now = app.clock.now();
        let p = place(app, &rec.jurisdiction_path).await?;
        let kind = self.request.kind.as_str();
        let seq = c.documents.iter().filter(|d| d.kind == kind).count() + 1;
        let mut v = BTreeMap::new();
        common(&mut v, &p, actor, now, seq);
        case_values(&c, kind, &mut v)?;
        let file = render(app, actor, &p, kind, None, &v, &Tables::new(), now, false);
        let cmd = yingji_domain::case::Command::IssueDocument {
            document: file.document.clone(),
        };
        let ws = crate::cases::decide_and_write(app, actor, &c, &rec, &cmd).await?;
        Ok(Decided::new(auth, ws, file))
    }

    fn respond(&self, out: &IssuedFile) -> JsonText {
        JsonText::of(&out.document)
    }
}

/// The documents an actor may issue from an incident now, by kind (with the upward reports
/// that can be rendered), for the console.
pub fn incident_kinds(inc: &Incident) -> Vec<(&'static str, Option<Uuid>, String)> {
    let mut out = vec![];
    for r in inc
        .upward_reports
        .iter()
        .filter(|r| r.submitted_at.is_some())
    {
        let name = match r.kind {
            UpwardKind::FollowUp => format!("续报（第{}次）", r.seq),
            k => upward_kind(k).to_string(),
        };
        out.push(("upward_report", Some(r.id), name));
    }
    out.push(("incident_summary", None, String::new()));
    if inc.review.is_some() {
        out.push(("review", None, String::new()));
    }
    out
}

/// The documents that can be issued from a case now.
pub fn case_kinds(c: &Case) -> Vec<&'static str> {
    let mut v = BTreeMap::new();
    KINDS
        .iter()
        .filter(|(_, t)| *t == Target::Case)
        .map(|(k, _)| *k)
        .filter(|k| case_values(c, k, &mut v).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_templates_use_only_known_placeholders() {
        for (kind, _) in KINDS {
            check_template(&format!("{kind}.toml"), kind, builtin(kind)).unwrap();
        }
    }

    #[test]
    fn a_template_with_an_unknown_placeholder_is_refused_at_its_place() {
        let text = "title = \"关于{title}\"\ndate = \"{dat}\"\n";
        let e = check_template("x/review.toml", "review", text).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("x/review.toml:2:"), "{e:?}");
        assert!(e[0].contains("dat"), "{e:?}");
        let e = check_template("x/memo.toml", "memo", text).unwrap_err();
        assert!(e[0].contains("not a kind of document"), "{e:?}");
    }

    #[test]
    fn a_jurisdiction_s_template_replaces_the_default_below_it_only() {
        let dir = std::env::temp_dir().join(format!("yingji-tpl-{}", Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("临溪市")).unwrap();
        std::fs::write(
            dir.join("临溪市/case_reply.toml"),
            "title = \"临溪市信访事项答复书\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("review.toml"), "title = \"评估：{title}\"\n").unwrap();
        let t = Templates::load(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(t.replaced(), 2);
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // 青石镇 is below 临溪市: its nearest override is 临溪市's.
        let below = t.for_keys(&keys(&["青石镇", "临溪市", "云岭市"]), "case_reply");
        assert!(
            below.source.ends_with("case_reply.toml"),
            "{}",
            below.source
        );
        let other = t.for_keys(&keys(&["东湖街道", "云岭市"]), "case_reply");
        assert_eq!(other.source, "default");
        // A file at the top replaces the default everywhere.
        assert!(
            t.for_keys(&keys(&["东湖街道"]), "review")
                .source
                .ends_with("review.toml")
        );
        let mut v = BTreeMap::new();
        v.insert("title".to_string(), "测试".to_string());
        let doc =
            t.for_keys(&keys(&["东湖街道"]), "review")
                .template
                .render(&v, &Tables::new(), "zh-CN");
        assert_eq!(doc.title, "评估：测试");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(
            safe_name("青石应急报〔2026〕1号", "x"),
            "青石应急报〔2026〕1号.docx"
        );
        assert_eq!(safe_name("../a b", "x"), "a_b.docx");
        assert_eq!(safe_name("", "review"), "review.docx");
    }
}
