//! Drills (演练): started from a script (a file, or the console's text box), run as a drill
//! incident on the same engine, the script's injects played on schedule by the ticker through
//! the incident's own commands, ended, and evaluated (the times measured against the plan's
//! limits; the corrective actions are the drill incident's review's). Commands: `drill.start`,
//! `drill.inject` (the ticker), `drill.stop`, `drill.evaluate`, `drill.remind` (the ticker: a
//! plan's `[drills]` cadence owes a drill per period).

use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::drill::{self, Command, Drill, Event, Measure, Start};
use yingji_domain::incident::{CloseReason, Command as IncCommand, Incident, Update};
use yingji_domain::values::IncidentId;
use yingji_plan::diag::Located;
use yingji_plan::drill::InjectAction;
use yingji_plan::model::Every;
use yingji_store::{RecordWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command as AppCommand, Decided};
use crate::incidents::{
    CorrectiveActionRequest, IncidentAction, NewIncidentRequest, OnIncident, ReportIncident,
};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// The record kind and stream kind of a drill.
pub const KIND: &str = "drill";
/// The record kind of a plan's drill duty of one period (its reminders).
pub const DUTY_KIND: &str = "drill_duty";
/// The stream and record kind of a plan's revision duty in one period (its reminders).
pub const REVISION_DUTY_KIND: &str = "revision_duty";

/// Starts a drill (`POST /drills`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Where the drill runs (default: the starter's jurisdiction).
    pub jurisdiction_id: Option<Uuid>,
    /// The drill script (TOML, docs/drill-format.md).
    pub script: String,
    /// The script's file name, for its diagnostics (default `drill.toml`).
    pub file_name: Option<String>,
}

/// Stops a running drill (`POST /drills/{id}/stop`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    pub reason: String,
}

/// Evaluates an ended drill (`POST /drills/{id}/evaluation`): the evaluators' summary, lessons
/// and corrective actions (owners and deadlines), recorded as the drill incident's review.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    pub summary: String,
    #[serde(default)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveActionRequest>,
}

/// The writes of decided drill events: the stream's events and the drill's row.
#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
fn write(
    ws: &mut WriteSet,
    after: &Drill,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[Event],
) {
    let items = events
        .iter()
        .map(|e| Item::new(e.kind(), e, e.reason()))
        .collect();
    append(
        ws,
        after.id,
        KIND,
        after.jurisdiction_id,
        version,
        head,
        actor,
        now,
        items,
    );
    ws.rows.push(Row::Record(RecordWrite::Put {
        id: after.id,
        kind: KIND,
        jurisdiction_id: after.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        subject_id: Some(after.incident_id),
        status: after.status.as_str().to_string(),
        due_at: after.next_due().map(fmt_ts),
        updated_at: fmt_ts(now),
        body: serde_json::to_string(after).expect("a drill serialises"),
    }));
}

/// A script's diagnostics as the API's error (`plan_check_failed`, with file:line:col).
fn script_error(file: &str, src: &str, diags: &[yingji_plan::Diagnostic]) -> AppError {
    let located: Vec<Located> = Located::all(file, src, diags);
    let first = located
        .iter()
        .find(|d| d.severity == yingji_plan::Severity::Error)
        .map(|d| {
            format!(
                "{}:{}:{}: {}",
                d.file,
                d.line.unwrap_or(0),
                d.column.unwrap_or(0),
                d.message
            )
        })
        .unwrap_or_default();
    AppError::new(
        ErrorCode::PlanCheckFailed,
        format!("the drill script has errors; first: {first}"),
    )
    .details(json!({ "diagnostics": located }))
}

/// Starts a drill (`drill.start`): the script checked against the plan in force, the drill
/// incident reported (marked 演练) and the drill's stream started, in one write.
pub struct StartDrill(pub StartRequest);

impl AppCommand for StartDrill {
    type Output = Drill;

    fn kind(&self) -> &'static str {
        "drill.start"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Drill>, AppError> {
        let r = &self.0;
        let jid = r.jurisdiction_id.unwrap_or(actor.jurisdiction_id);
        let j = app.scoped_jurisdiction(actor, jid, "jurisdiction").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &j.path, "jurisdiction")?;
        let file = r.file_name.as_deref().unwrap_or("drill.toml");
        if r.script.len() > yingji_plan::MAX_SOURCE_BYTES {
            return Err(AppError::field(
                ErrorCode::InvalidField,
                "script",
                format!(
                    "the drill script is {} bytes; at most {} (1 MiB)",
                    r.script.len(),
                    yingji_plan::MAX_SOURCE_BYTES
                ),
            ));
        }
        // Read once to learn which plan it exercises, then checked against that plan.
        let first = yingji_plan::drill::check(&r.script, &[]);
        let Some(plan_id) = first.script.as_ref().map(|s| s.plan.clone()) else {
            return Err(script_error(file, &r.script, &first.diagnostics));
        };
        let row = crate::incidents::plan_for(app, &j.path, &plan_id).await?;
        let plan = app.plan(&row.plan_id, row.version).await?;
        let checked = yingji_plan::drill::check(&r.script, &[&plan]);
        let Some(script) = checked.usable().cloned() else {
            return Err(script_error(file, &r.script, &checked.diagnostics));
        };
        // The plan's required intake fields the script does not give are filled as a drill's.
        let mut fields = std::collections::BTreeMap::new();
        for f in plan.intake.iter().filter(|f| f.required) {
            use yingji_plan::model::FieldKind as K;
            let v = match f.kind {
                K::Text | K::LongText => json!("（演练）"),
                K::Integer => json!(0),
                K::Datetime => json!(app.clock.now().to_string()),
                K::Choice => match f.options.first() {
                    Some(o) => json!(o),
                    None => continue,
                },
                K::Headcount | K::Venue | K::Behaviours => continue,
            };
            fields.insert(f.id.value.clone(), v);
        }
        let report = ReportIncident(NewIncidentRequest {
            jurisdiction_id: j.id,
            plan_id: plan_id.clone(),
            kind: "event".into(),
            title: script.report.title.clone(),
            headcount: script.report.headcount,
            venue: script.report.venue.clone(),
            behaviours: script.report.behaviours.clone(),
            location: script.report.location.clone(),
            fields,
            drill: true,
        });
        let mut reported = report.run(app, actor).await?;
        let incident_id = reported.output().incident.id;
        let mut ws = std::mem::take(reported.writes());
        let start = Start {
            id: Uuid::now_v7(),
            jurisdiction_id: j.id,
            plan_id,
            plan_version: row.version,
            script,
            incident_id,
        };
        let now = app.clock.now();
        let actor_ref = actor.as_ref();
        let events = drill::decide(None, &Command::Start(Box::new(start)), now)?;
        let after = fold(None, &events, now, &actor_ref)?;
        write(&mut ws, &after, &j.path, 0, None, &actor_ref, now, &events);
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Drill) -> JsonText {
        JsonText::of(out)
    }
}

fn fold(
    d: Option<Drill>,
    events: &[Event],
    now: Timestamp,
    actor: &ActorRef,
) -> Result<Drill, AppError> {
    events
        .iter()
        .fold(d, |d, e| drill::apply(d, e, now, actor))
        .ok_or_else(|| AppError::internal("a drill stopped being one"))
}

/// A stored drill rebuilt from its events, with its row's path, version and head.
pub async fn load(app: &App, id: Uuid) -> Result<(Drill, String, i64, String), AppError> {
    let r = crate::records::replay(app, KIND, id, "drill", drill::apply).await?;
    Ok((r.state, r.path, r.version, r.head))
}

/// What an inject does to the drill incident: an incident command, marked as the drill's.
fn inject_action(d: &Drill, index: usize) -> Option<IncidentAction> {
    let i = d.script.injects.get(index)?;
    let note = Some(format!(
        "【演练注入】{}",
        i.note.clone().unwrap_or_else(|| drill::summary(&i.action))
    ));
    let update = |u: Update| IncidentAction::Decide(IncCommand::Update(Update { note, ..u }));
    Some(match &i.action {
        InjectAction::Headcount { headcount } => update(Update {
            headcount: Some(*headcount),
            ..Update::default()
        }),
        InjectAction::Behaviours { behaviours } => update(Update {
            behaviours: Some(behaviours.clone()),
            ..Update::default()
        }),
        InjectAction::Location { location } => update(Update {
            location: Some(location.clone()),
            ..Update::default()
        }),
        InjectAction::Message { .. } => update(Update::default()),
        InjectAction::End => IncidentAction::Decide(IncCommand::EndResponse {
            reason: format!("【演练注入】{}", drill::summary(&i.action)),
            open_tasks: CloseReason::NotNeeded,
        }),
    })
}

/// Plays a drill's next inject when it is due (`drill.inject`, the ticker's): the incident
/// command it stands for and the drill's `inject_played` in one write, or `inject_skipped`
/// with the reason when the incident's rules refuse it (a response not yet activated cannot
/// be ended). A message inject also reaches the post it names (else the jurisdiction's
/// office), marked 演练. Answers whether anything was played.
pub struct PlayInject(pub Uuid);

impl AppCommand for PlayInject {
    type Output = bool;

    fn kind(&self) -> &'static str {
        "drill.inject"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<bool>, AppError> {
        let (d, path, version, head) = load(app, self.0).await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &path, "drill")?;
        let now = app.clock.now();
        let Some(next) = d.next().filter(|n| n.due_at <= now).cloned() else {
            // Nothing due yet (the row's due time always follows the drill's next inject).
            return Ok(Decided::nothing(auth, false));
        };
        let action = inject_action(&d, next.index)
            .ok_or_else(|| AppError::internal("an inject beyond the script"))?;
        let on = OnIncident {
            id: IncidentId(d.incident_id),
            action,
        };
        let (mut ws, skipped, incident) = match on.run(app, actor).await {
            Ok(mut decided) => {
                let inc = decided.output().incident.clone();
                (std::mem::take(decided.writes()), None, Some(inc))
            }
            Err(e) if e.code == ErrorCode::Unavailable => return Err(e),
            Err(e) => (WriteSet::default(), Some(e.message.clone()), None),
        };
        let actor_ref = actor.as_ref();
        let events = drill::decide(
            Some(&d),
            &Command::Play {
                index: next.index,
                skipped: skipped.clone(),
            },
            now,
        )?;
        let after = fold(Some(d.clone()), &events, now, &actor_ref)?;
        write(
            &mut ws,
            &after,
            &path,
            version,
            Some(&head),
            &actor_ref,
            now,
            &events,
        );
        if skipped.is_none()
            && let Some(InjectAction::Message { text, to }) =
                d.script.injects.get(next.index).map(|i| &i.action)
            && let Some(inc) = &incident
        {
            let event_id = ws.events.last().map(|e| e.envelope.id).unwrap_or_default();
            let notice = crate::notices::Notice::DrillInject {
                incident: crate::notices::IncidentFacts::of(inc, &path),
                drill_title: d.script.title.clone(),
                text: text.clone(),
                to: to.clone(),
            };
            ws.rows.push(notice.row(event_id, now));
        }
        Ok(Decided::new(auth, ws, true))
    }

    fn respond(&self, out: &bool) -> JsonText {
        JsonText::of(&json!({ "played": out }))
    }
}

/// Stops a running drill (`drill.stop`); its remaining injects are not played.
pub struct StopDrill {
    pub id: Uuid,
    pub reason: String,
}

impl AppCommand for StopDrill {
    type Output = Drill;

    fn kind(&self) -> &'static str {
        "drill.stop"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Drill>, AppError> {
        let (d, path, version, head) = load(app, self.id).await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &path, "drill")?;
        let now = app.clock.now();
        let reason = crate::redact::text(self.reason.trim());
        let events = drill::decide(Some(&d), &Command::Stop { reason }, now)?;
        let actor_ref = actor.as_ref();
        let after = fold(Some(d), &events, now, &actor_ref)?;
        let mut ws = WriteSet::default();
        write(
            &mut ws,
            &after,
            &path,
            version,
            Some(&head),
            &actor_ref,
            now,
            &events,
        );
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Drill) -> JsonText {
        JsonText::of(out)
    }
}

/// The times of a drill incident measured against the plan's limits: each response task (to
/// done, against its `within`), each report upward (to submission, against its due time), and
/// the response's own times (report → activation, activation → first acknowledgement), which
/// the plans do not limit.
pub fn measures(inc: &Incident, measured: &yingji_domain::incident::Measured) -> Vec<Measure> {
    let secs = |a: Timestamp, b: Timestamp| b.duration_since(a).as_secs();
    let mut out = vec![
        Measure {
            what: "接报至启动响应".into(),
            limit_s: None,
            measured_s: measured.report_to_activate_s,
            met: None,
        },
        Measure {
            what: "启动响应至首次签收".into(),
            limit_s: None,
            measured_s: measured.activate_to_first_ack_s,
            met: None,
        },
    ];
    for t in inc.tasks.iter().filter(|t| !t.aftermath) {
        let limit = secs(t.created_at, t.due_at);
        let took = t.done_at.map(|d| secs(t.created_at, d));
        out.push(Measure {
            what: format!("{}（{}）", t.title, t.group_name),
            limit_s: Some(limit),
            measured_s: took,
            met: Some(took.is_some_and(|s| s <= limit)),
        });
    }
    for r in &inc.upward_reports {
        let Some(due) = r.due_at else { continue };
        let limit = secs(r.created_at, due);
        let took = r.submitted_at.map(|s| secs(r.created_at, s));
        out.push(Measure {
            what: format!(
                "{}（{}）",
                yingji_notify::catalogue::fill(
                    &yingji_notify::catalogue::word("zh-CN", "upward_kind", r.kind.as_str()),
                    &[("n", r.seq.to_string())],
                ),
                r.to
            ),
            limit_s: Some(limit),
            measured_s: took,
            met: Some(took.is_some_and(|s| s <= limit)),
        });
    }
    out
}

/// Evaluates an ended drill (`drill.evaluate`): the drill incident's review (summary, lessons,
/// corrective actions with owners and deadlines, times measured from its log) and the drill's
/// evaluation (the times against the plan's limits) in one write.
pub struct EvaluateDrill {
    pub id: Uuid,
    pub request: EvaluateRequest,
}

impl AppCommand for EvaluateDrill {
    type Output = Drill;

    fn kind(&self) -> &'static str {
        "drill.evaluate"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Drill>, AppError> {
        let (d, path, version, head) = load(app, self.id).await?;
        let auth = app.authorize(actor, Permission::ReviewIncident, &path, "drill")?;
        let now = app.clock.now();
        let actor_ref = actor.as_ref();
        // Refused before anything else when the drill has not ended.
        drill::decide(
            Some(&d),
            &Command::Evaluate {
                measures: vec![],
                summary: self.request.summary.clone(),
            },
            now,
        )?;
        let review = crate::incidents::IncidentAction::parse(
            "review",
            &crate::incidents::ActionRequest {
                summary: Some(self.request.summary.clone()),
                lessons: self.request.lessons.clone(),
                corrective_actions: self.request.corrective_actions.clone(),
                ..Default::default()
            },
        )?;
        let mut reviewed = OnIncident {
            id: IncidentId(d.incident_id),
            action: review,
        }
        .run(app, actor)
        .await?;
        let mut ws = std::mem::take(reviewed.writes());
        let inc = reviewed.output().incident.clone();
        let measured = match inc.review.as_ref() {
            Some(r) => r.measured.clone(),
            None => crate::incidents::measured_times(app, &inc).await?,
        };
        let events = drill::decide(
            Some(&d),
            &Command::Evaluate {
                measures: measures(&inc, &measured),
                summary: crate::redact::text(self.request.summary.trim()),
            },
            now,
        )?;
        let after = fold(Some(d), &events, now, &actor_ref)?;
        write(
            &mut ws,
            &after,
            &path,
            version,
            Some(&head),
            &actor_ref,
            now,
            &events,
        );
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Drill) -> JsonText {
        JsonText::of(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Reads

/// The drills in the actor's area, newest first (at most 200).
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Drill>, AppError> {
    crate::records::in_area(app, actor, KIND, 200).await
}

/// One drill the actor may see.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> Result<Drill, AppError> {
    let (d, path, _, _) = load(app, id).await?;
    app.require(actor, Permission::ViewIncidents, &path, "drill")?;
    Ok(d)
}

/// The drill an incident is the drill incident of, if any.
pub async fn of_incident(app: &App, incident_id: Uuid) -> Result<Option<Drill>, AppError> {
    Ok(crate::records::of_subject(app, incident_id, KIND)
        .await?
        .into_iter()
        .next())
}

// ---------------------------------------------------------------------------------------------
// The plans' drill cadence

/// A plan's duty in one period of its cadence, as the schedules show it: a drill owed
/// (`[drills] every`) or a revision of the plan owed (`[review] every`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrillDuty {
    /// `drill` (`[drills] every`: a drill of the plan started in the period) or `revision`
    /// (`[review] every`: a version of the plan loaded in the period).
    pub duty: String,
    pub plan_id: String,
    pub plan_title: String,
    pub jurisdiction_id: Uuid,
    pub jurisdiction: String,
    /// The cadence (`year`, `quarter`…).
    pub every: String,
    /// The period's first day and its last day (the plan's time zone).
    pub period_start: String,
    pub period_end: String,
    /// `done` (a drill started in the period), `due` (still owed), `due_soon` (owed, within
    /// the reminder window before the period's end) or `overdue` (the period ended without).
    pub status: String,
    /// The drill that fulfilled it (a drill duty).
    pub drill_id: Option<Uuid>,
    /// The plan version loaded in the period that fulfilled it (a revision duty).
    pub plan_version: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
}

/// How long before a period's end the plan's office is reminded of a drill still owed.
pub const REMIND_DAYS: i64 = 30;

/// The period of a cadence containing `day` (first day, first day of the next period).
pub fn period(
    every: Every,
    day: jiff::civil::Date,
) -> Option<(jiff::civil::Date, jiff::civil::Date)> {
    let y = day.year();
    let (start, months) = match every {
        Every::Month => (jiff::civil::date(y, day.month(), 1), 1),
        Every::Quarter => (jiff::civil::date(y, (day.month() - 1) / 3 * 3 + 1, 1), 3),
        Every::HalfYear => (
            jiff::civil::date(y, if day.month() <= 6 { 1 } else { 7 }, 1),
            6,
        ),
        Every::Year => (jiff::civil::date(y, 1, 1), 12),
        Every::TwoYears => (jiff::civil::date(y - y.rem_euclid(2), 1, 1), 24),
        Every::ThreeYears => (jiff::civil::date(y - y.rem_euclid(3), 1, 1), 36),
        Every::AsRequired => return None,
    };
    let end = start.checked_add(months.months()).ok()?;
    Some((start, end))
}

/// The drill duties of the plans owned in the actor's area: the current period of each plan
/// with a drill cadence, and the previous one when it was owed in full and missed.
pub async fn schedule(app: &App, actor: &Actor) -> Result<Vec<DrillDuty>, AppError> {
    app.require(
        actor,
        Permission::ViewIncidents,
        &actor.scope_path,
        "jurisdiction",
    )?;
    duties(app, &actor.scope_path, Duty::Drill).await
}

/// The revision duties of the plans owned in the actor's area (`[review] every`): the current
/// period of each plan with a revision cadence, and the previous one when it was owed in full
/// and no version of the plan was loaded in it.
pub async fn revision_schedule(app: &App, actor: &Actor) -> Result<Vec<DrillDuty>, AppError> {
    app.require(
        actor,
        Permission::ViewIncidents,
        &actor.scope_path,
        "jurisdiction",
    )?;
    duties(app, &actor.scope_path, Duty::Revision).await
}

/// Which of a plan's cadences a duty follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// `[drills] every`: a drill of the plan started in the period.
    Drill,
    /// `[review] every`: a version of the plan loaded (revised) in the period.
    Revision,
}

impl Duty {
    pub fn as_str(self) -> &'static str {
        match self {
            Duty::Drill => "drill",
            Duty::Revision => "revision",
        }
    }
}

/// What fulfils a duty in a period: a drill (its id) or a plan version, and when.
struct Done {
    drill_id: Option<Uuid>,
    plan_version: Option<i64>,
    at: Timestamp,
}

async fn duties(app: &App, scope_path: &str, which: Duty) -> Result<Vec<DrillDuty>, AppError> {
    let now = app.clock.now();
    let drills: Vec<Drill> = match which {
        Duty::Drill => app
            .store
            .list_records(KIND, scope_path, 10_000)
            .await?
            .iter()
            .filter_map(|r| serde_json::from_str(&r.body).ok())
            .collect(),
        Duty::Revision => vec![],
    };
    let rows = app.store.list_plans(scope_path).await?;
    // Every version's loading, per plan (a revision duty's evidence).
    let loaded: Vec<(String, i64, Timestamp)> = rows
        .iter()
        .filter_map(|r| Some((r.plan_id.clone(), r.version, r.loaded_at.parse().ok()?)))
        .collect();
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        if !seen.insert(row.plan_id.clone()) {
            continue; // an older version
        }
        let Some(in_force) = crate::plans::in_force(app, &row.plan_id, now).await? else {
            continue;
        };
        let plan = app.plan(&in_force.plan_id, in_force.version).await?;
        let cadence = match which {
            Duty::Drill => plan.drills.as_ref(),
            Duty::Revision => plan.review.as_ref(),
        };
        let Some(every) = cadence.map(|c| c.every) else {
            continue;
        };
        let tz = plan.time.tz.clone();
        let today = now.to_zoned(tz.clone()).date();
        let Some((start, end)) = period(every, today) else {
            continue;
        };
        let j = app
            .store
            .jurisdiction(row.jurisdiction_id)
            .await?
            .map(|j| j.name)
            .unwrap_or_default();
        let within = |t: Timestamp, s: jiff::civil::Date, e: jiff::civil::Date| {
            let day = t.to_zoned(tz.clone()).date();
            day >= s && day < e
        };
        let in_period = |s: jiff::civil::Date, e: jiff::civil::Date| match which {
            Duty::Drill => drills
                .iter()
                .find(|d| {
                    d.plan_id == row.plan_id
                        && d.jurisdiction_id == row.jurisdiction_id
                        && within(d.started_at, s, e)
                })
                .map(|d| Done {
                    drill_id: Some(d.id),
                    plan_version: None,
                    at: d.started_at,
                }),
            Duty::Revision => loaded
                .iter()
                .find(|(id, _, at)| *id == row.plan_id && within(*at, s, e))
                .map(|(_, v, at)| Done {
                    drill_id: None,
                    plan_version: Some(*v),
                    at: *at,
                }),
        };
        let duty =
            |s: jiff::civil::Date, e: jiff::civil::Date, status: &str, d: Option<Done>| DrillDuty {
                duty: which.as_str().into(),
                plan_id: row.plan_id.clone(),
                plan_title: plan.meta.title.clone(),
                jurisdiction_id: row.jurisdiction_id,
                jurisdiction: j.clone(),
                every: every.as_str().into(),
                period_start: s.to_string(),
                period_end: e.yesterday().map(|d| d.to_string()).unwrap_or_default(),
                status: status.into(),
                drill_id: d.as_ref().and_then(|d| d.drill_id),
                plan_version: d.as_ref().and_then(|d| d.plan_version),
                done_at: d.map(|d| d.at),
            };
        // The previous period, when the plan was in force for all of it and it had no drill.
        let first_loaded = first_loaded(app, &row.plan_id).await?;
        if let Some((ps, _)) = start.yesterday().ok().and_then(|d| period(every, d))
            && first_loaded.is_some_and(|f| f.to_zoned(tz.clone()).date() <= ps)
            && in_period(ps, start).is_none()
        {
            out.push(duty(ps, start, "overdue", None));
        }
        let status = match in_period(start, end) {
            Some(d) => {
                out.push(duty(start, end, "done", Some(d)));
                continue;
            }
            None => {
                let soon = end
                    .checked_sub(REMIND_DAYS.days())
                    .is_ok_and(|r| today >= r);
                if soon { "due_soon" } else { "due" }
            }
        };
        out.push(duty(start, end, status, None));
    }
    Ok(out)
}

/// When a plan's first version was loaded.
async fn first_loaded(app: &App, plan_id: &str) -> Result<Option<Timestamp>, AppError> {
    Ok(app
        .store
        .plan_version(plan_id, 1)
        .await?
        .and_then(|r| r.loaded_at.parse().ok()))
}

/// The duty record of one plan, jurisdiction and period (its reminders' stream).
fn duty_id(d: &DrillDuty) -> Uuid {
    let what = if d.duty == "revision" {
        "revision-duty"
    } else {
        "drill-duty"
    };
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "yingji:{what}:{}:{}:{}",
            d.plan_id, d.jurisdiction_id, d.period_start
        )
        .as_bytes(),
    )
}

/// Reminds a plan's office of a drill owed (`drill.remind`) or a revision of the plan owed
/// (`plan.remind_revision`), the ticker's: once when the period's end is near (`due_soon`) and
/// once when it ended without one (`overdue`), each an event of the duty's stream and a notice
/// to the jurisdiction's office.
pub struct RemindDrill(pub DrillDuty);

impl AppCommand for RemindDrill {
    type Output = bool;

    fn kind(&self) -> &'static str {
        if self.0.duty == "revision" {
            "plan.remind_revision"
        } else {
            "drill.remind"
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<bool>, AppError> {
        let d = &self.0;
        let j = app
            .store
            .jurisdiction(d.jurisdiction_id)
            .await?
            .ok_or_else(|| AppError::not_found("jurisdiction"))?;
        let auth = app.authorize(actor, Permission::HandleIncident, &j.path, "jurisdiction")?;
        let id = duty_id(d);
        let revision = d.duty == "revision";
        let stream_kind = if revision {
            REVISION_DUTY_KIND
        } else {
            DUTY_KIND
        };
        let events = app.store.stream_events(id).await?;
        let kind = format!("{}_{}", d.duty, d.status);
        if events.iter().any(|e| e.envelope.kind == kind) {
            return Ok(Decided::nothing(auth, false));
        }
        let now = app.clock.now();
        let head = events.last().map(|e| e.hash.clone());
        let mut ws = WriteSet::default();
        let ids = append(
            &mut ws,
            id,
            stream_kind,
            d.jurisdiction_id,
            events.len() as i64,
            head.as_deref(),
            &actor.as_ref(),
            now,
            vec![Item::new(&kind, &json!({ "duty": d }), None)],
        );
        ws.rows.push(Row::Record(RecordWrite::Put {
            id,
            kind: stream_kind,
            jurisdiction_id: d.jurisdiction_id,
            jurisdiction_path: j.path.clone(),
            subject_id: None,
            status: d.status.clone(),
            due_at: None,
            updated_at: fmt_ts(now),
            body: serde_json::to_string(d).map_err(AppError::internal)?,
        }));
        let notice = crate::notices::Notice::DrillDue {
            plan_title: d.plan_title.clone(),
            period_start: d.period_start.clone(),
            period_end: d.period_end.clone(),
            overdue: d.status == "overdue",
            revision,
            jurisdiction_id: d.jurisdiction_id,
            path: j.path,
        };
        ws.rows.push(notice.row(ids[0], now));
        Ok(Decided::new(auth, ws, true))
    }

    fn respond(&self, out: &bool) -> JsonText {
        JsonText::of(&json!({ "reminded": out }))
    }
}

/// The ticker's part: every drill inject due is played (one at a time, so each is decided on
/// the incident as the last left it), and every drill duty near its end or missed is reminded.
pub async fn tick(app: &App) -> Result<usize, AppError> {
    let system = Actor::system();
    let mut changed = 0;
    loop {
        let now = fmt_ts(app.clock.now());
        let due = app.store.due_records(KIND, &now, 100).await?;
        if due.is_empty() {
            break;
        }
        let mut played = 0;
        for id in due {
            let r = app
                .execute(&system, None, &PlayInject(id))
                .await
                .map(|d| d.output() == Some(true));
            if crate::ticker::settle(app, "record", id, r).await? {
                played += 1;
            }
        }
        changed += played;
        if played == 0 {
            break;
        }
    }
    if app.drill_duties_due(app.clock.now()) {
        let mut all = duties(app, "", Duty::Drill).await?;
        all.extend(duties(app, "", Duty::Revision).await?);
        for d in all {
            if d.status == "due_soon" || d.status == "overdue" {
                let r = app
                    .execute(&system, None, &RemindDrill(d))
                    .await
                    .map(|d| d.output() == Some(true));
                if r? {
                    changed += 1;
                }
            }
        }
    }
    Ok(changed)
}
