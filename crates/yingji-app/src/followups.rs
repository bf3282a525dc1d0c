//! Leader instructions (领导批示) and coordination meetings (协调会) on an incident or a case,
//! tracked to an answer, and commendation and accountability records (奖惩) tied to incidents,
//! cases or drills. Commands: `directive.record`, `directive.answer`, `directive.tick` (the
//! ticker marks what is past its deadline), `sanction.record`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::followup::{self, Command, Directive, Event, FollowUp, Kind, NewDirective};
use yingji_store::{RecordWrite, Row, WriteSet, fmt_ts};

use crate::attachments::subject;
use crate::command::{Command as AppCommand, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// What an instruction requires, or a meeting decided.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    pub text: String,
    /// Who owes it (a post of the plan, a unit or a person, as written).
    pub owner: String,
    /// RFC 3339.
    pub due_at: Option<String>,
}

/// An instruction or a meeting (`POST /directives`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectiveRequest {
    /// `instruction` (批示) or `meeting` (协调会).
    pub kind: String,
    /// `incident` or `case`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// An instruction: who gave it (name and post); a meeting: its title.
    pub title: String,
    /// An instruction: its text; a meeting: the minutes.
    pub text: String,
    #[serde(default)]
    pub participants: Vec<String>,
    /// When it was given or held (RFC 3339; default now).
    pub given_at: Option<String>,
    /// An instruction: exactly one (what it requires by when); a meeting: its decisions.
    #[serde(default)]
    pub follow_ups: Vec<FollowUpRequest>,
}

/// An answer to one follow-up (`POST /directives/{id}/answers`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub follow_up_id: Uuid,
    pub answer: String,
}

pub const INSTRUCTION: &str = "instruction";
pub const MEETING: &str = "meeting";

fn text(field: &'static str, s: &str, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` may be at most {max} characters"),
        ));
    }
    in_scope(field, s)?;
    Ok(crate::redact::text(s))
}

/// The scope: a text recorded here may not ask to register, track, watch, intercept or escort
/// people (422 `invalid_field` naming the scope code, as `plan check` refuses a plan).
pub(crate) fn in_scope(field: &str, s: &str) -> Result<(), AppError> {
    match yingji_plan::scope::scan(s, false).first() {
        Some(m) => Err(AppError::field(
            ErrorCode::InvalidField,
            field,
            format!(
                "`{field}` asks for a measure yingji does not support ({}, “{}”): {}",
                m.category.code().id(),
                m.term,
                m.category.en()
            ),
        )),
        None => Ok(()),
    }
}

fn record_kind(k: Kind) -> &'static str {
    match k {
        Kind::Instruction => INSTRUCTION,
        Kind::Meeting => MEETING,
    }
}

#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
fn write(
    ws: &mut WriteSet,
    after: &Directive,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[Event],
) {
    let items = events
        .iter()
        .map(|e| Item::new(e.kind(), e, None))
        .collect();
    let kind = record_kind(after.kind);
    append(
        ws,
        after.id,
        kind,
        after.jurisdiction_id,
        version,
        head,
        actor,
        now,
        items,
    );
    ws.rows.push(Row::Record(RecordWrite::Put {
        id: after.id,
        kind,
        jurisdiction_id: after.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        subject_id: Some(after.subject_id),
        status: if after.answered() { "answered" } else { "open" }.into(),
        due_at: after.next_due().map(fmt_ts),
        updated_at: fmt_ts(now),
        body: serde_json::to_string(after).expect("a directive serialises"),
    }));
}

fn fold(
    d: Option<Directive>,
    events: &[Event],
    now: Timestamp,
    actor: &ActorRef,
) -> Result<Directive, AppError> {
    events
        .iter()
        .fold(d, |d, e| followup::apply(d, e, now, actor))
        .ok_or_else(|| AppError::internal("a directive stopped being one"))
}

/// Records an instruction or a meeting (`directive.record`).
pub struct RecordDirective(pub DirectiveRequest);

impl AppCommand for RecordDirective {
    type Output = Directive;

    fn kind(&self) -> &'static str {
        "directive.record"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Directive>, AppError> {
        let r = &self.0;
        let kind = match r.kind.as_str() {
            "instruction" => Kind::Instruction,
            "meeting" => Kind::Meeting,
            other => {
                return Err(AppError::field(
                    ErrorCode::InvalidKind,
                    "kind",
                    format!("`{other}` is neither instruction nor meeting"),
                ));
            }
        };
        if !["incident", "case"].contains(&r.subject_kind.as_str()) {
            return Err(AppError::field(
                ErrorCode::InvalidKind,
                "subject_kind",
                "an instruction or meeting is on an incident or a case",
            ));
        }
        let s = subject(app, &r.subject_kind, r.subject_id).await?;
        let auth = app.authorize(actor, s.handle, &s.path, s.kind)?;
        let now = app.clock.now();
        let given_at = match &r.given_at {
            Some(t) => crate::incidents::parse_ts(t, "given_at")?,
            None => now,
        };
        if given_at > now {
            return Err(AppError::field(
                ErrorCode::InvalidTime,
                "given_at",
                "`given_at` cannot be in the future",
            ));
        }
        let mut follow_ups = vec![];
        for (i, f) in r.follow_ups.iter().enumerate() {
            let due_at = f
                .due_at
                .as_deref()
                .map(|t| crate::incidents::parse_ts(t, &format!("follow_ups[{i}].due_at")))
                .transpose()?;
            follow_ups.push(FollowUp {
                id: Uuid::now_v7(),
                text: text("follow_ups.text", &f.text, 500)?,
                owner: text("follow_ups.owner", &f.owner, 100)?,
                due_at,
                answer: None,
                answered_by: None,
                answered_at: None,
                overdue: false,
            });
        }
        let new = NewDirective {
            id: Uuid::now_v7(),
            kind,
            jurisdiction_id: s.jurisdiction_id,
            subject_kind: s.kind.to_string(),
            subject_id: r.subject_id,
            title: text("title", &r.title, 200)?,
            text: text("text", &r.text, 10_000)?,
            participants: r
                .participants
                .iter()
                .map(|p| text("participants", p, 100))
                .collect::<Result<_, _>>()?,
            given_at,
            follow_ups,
        };
        let events = followup::decide(None, &Command::Record(Box::new(new)), now)?;
        let actor_ref = actor.as_ref();
        let after = fold(None, &events, now, &actor_ref)?;
        let mut ws = WriteSet::default();
        write(&mut ws, &after, &s.path, 0, None, &actor_ref, now, &events);
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Directive) -> JsonText {
        JsonText::of(out)
    }
}

/// A stored directive (an instruction or a meeting) rebuilt from its events.
async fn load(app: &App, id: Uuid) -> Result<(Directive, String, i64, String), AppError> {
    let kind = if app.store.get_record(INSTRUCTION, id).await?.is_some() {
        INSTRUCTION
    } else {
        MEETING
    };
    let r =
        crate::records::replay(app, kind, id, "instruction or meeting", followup::apply).await?;
    Ok((r.state, r.path, r.version, r.head))
}

/// Answers an instruction's requirement or a meeting's decision (`directive.answer`), or marks
/// what is past its deadline (`directive.tick`, `answer` None: the ticker's).
pub struct OnDirective {
    pub id: Uuid,
    pub answer: Option<AnswerRequest>,
}

impl AppCommand for OnDirective {
    type Output = Directive;

    fn kind(&self) -> &'static str {
        if self.answer.is_some() {
            "directive.answer"
        } else {
            "directive.tick"
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Directive>, AppError> {
        let (d, path, version, head) = load(app, self.id).await?;
        let s = subject(app, &d.subject_kind, d.subject_id).await?;
        let auth = app.authorize(actor, s.handle, &path, "directive")?;
        let now = app.clock.now();
        let cmd = match &self.answer {
            Some(a) => Command::Answer {
                follow_up: a.follow_up_id,
                answer: text("answer", &a.answer, 2000)?,
            },
            None => Command::Tick,
        };
        let events = followup::decide(Some(&d), &cmd, now)?;
        let actor_ref = actor.as_ref();
        let after = fold(Some(d), &events, now, &actor_ref)?;
        let mut ws = WriteSet::default();
        // A tick that finds nothing still puts the row's due time right.
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
        // Each follow-up turned overdue tells its owner.
        let ids: Vec<Uuid> = ws.events.iter().map(|e| e.envelope.id).collect();
        for (event_id, e) in ids.iter().zip(&events) {
            if let Event::FollowUpOverdue { follow_up } = e
                && let Some(f) = after.follow_ups.iter().find(|f| f.id == *follow_up)
            {
                let notice = crate::notices::Notice::FollowUpOverdue {
                    title: after.title.clone(),
                    text: f.text.clone(),
                    owner: f.owner.clone(),
                    due_at: f.due_at.unwrap_or(now),
                    jurisdiction_id: after.jurisdiction_id,
                    path: path.clone(),
                };
                ws.rows.push(notice.row(*event_id, now));
            }
        }
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Directive) -> JsonText {
        JsonText::of(out)
    }
}

/// The instructions and meetings of a record, oldest first.
pub async fn of_subject(
    app: &App,
    actor: &Actor,
    kind: &str,
    id: Uuid,
) -> Result<Vec<Directive>, AppError> {
    let s = subject(app, kind, id).await?;
    app.require(actor, s.view, &s.path, s.kind)?;
    let mut out = vec![];
    for k in [INSTRUCTION, MEETING] {
        out.extend(crate::records::of_subject::<Directive>(app, id, k).await?);
    }
    out.sort_by_key(|d| d.given_at);
    Ok(out)
}

/// The ticker's part: each instruction or meeting with a deadline passed is marked.
pub async fn tick(app: &App) -> Result<usize, AppError> {
    let system = Actor::system();
    let now = fmt_ts(app.clock.now());
    let mut changed = 0;
    for k in [INSTRUCTION, MEETING] {
        for id in app.store.due_records(k, &now, 500).await? {
            let r = app
                .execute(&system, None, &OnDirective { id, answer: None })
                .await
                .map(|_| true);
            if crate::ticker::settle(app, "record", id, r).await? {
                changed += 1;
            }
        }
    }
    Ok(changed)
}

// ---------------------------------------------------------------------------------------------
// Commendation and accountability (奖惩)

/// A commendation or accountability record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Sanction {
    pub id: Uuid,
    /// `commendation` (表彰奖励) or `accountability` (责任追究).
    pub kind: String,
    /// `incident`, `case` or `drill`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub jurisdiction_id: Uuid,
    /// The unit or official it concerns, as written.
    pub concerns: String,
    /// The basis in the plan (its clause), as written.
    pub basis: String,
    /// Who decided.
    pub decided_by: String,
    pub decision: String,
    /// The day of the decision.
    pub decided_on: String,
    pub recorded_by: ActorRef,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
}

/// A commendation or accountability record (`POST /sanctions`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SanctionRequest {
    pub kind: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub concerns: String,
    pub basis: String,
    pub decided_by: String,
    pub decision: String,
    /// `YYYY-MM-DD`.
    pub decided_on: String,
}

pub const SANCTION: &str = "sanction";

/// Records a commendation or accountability decision (`sanction.record`): by those who review
/// responses there (`ReviewIncident`), who alone (with auditors) see them. Never a score:
/// a decision about a unit or an official, with its basis in the plan.
pub struct RecordSanction(pub SanctionRequest);

impl AppCommand for RecordSanction {
    type Output = Sanction;

    fn kind(&self) -> &'static str {
        "sanction.record"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Sanction>, AppError> {
        let r = &self.0;
        if !["commendation", "accountability"].contains(&r.kind.as_str()) {
            return Err(AppError::field(
                ErrorCode::InvalidKind,
                "kind",
                "`kind` is commendation or accountability",
            ));
        }
        if !["incident", "case", "drill"].contains(&r.subject_kind.as_str()) {
            return Err(AppError::field(
                ErrorCode::InvalidKind,
                "subject_kind",
                "a commendation or accountability record is tied to an incident, a case or a drill",
            ));
        }
        let s = subject(app, &r.subject_kind, r.subject_id).await?;
        let auth = app.authorize(actor, Permission::ReviewIncident, &s.path, s.kind)?;
        let decided_on: jiff::civil::Date = r.decided_on.parse().map_err(|_| {
            AppError::field(
                ErrorCode::InvalidTime,
                "decided_on",
                "`decided_on` is a day (YYYY-MM-DD)",
            )
        })?;
        let required = |field: &'static str, v: &str, max: usize| -> Result<String, AppError> {
            let v = text(field, v, max)?;
            if v.is_empty() {
                return Err(AppError::missing(field));
            }
            Ok(v)
        };
        let now = app.clock.now();
        let out = Sanction {
            id: Uuid::now_v7(),
            kind: r.kind.clone(),
            subject_kind: s.kind.to_string(),
            subject_id: r.subject_id,
            jurisdiction_id: s.jurisdiction_id,
            concerns: required("concerns", &r.concerns, 200)?,
            basis: required("basis", &r.basis, 500)?,
            decided_by: required("decided_by", &r.decided_by, 200)?,
            decision: required("decision", &r.decision, 2000)?,
            decided_on: decided_on.to_string(),
            recorded_by: actor.as_ref(),
            recorded_at: now,
        };
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            out.id,
            SANCTION,
            s.jurisdiction_id,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new(
                &format!("{}_recorded", r.kind),
                &json!({ "sanction": out }),
                None,
            )],
        );
        ws.rows.push(Row::Record(RecordWrite::Put {
            id: out.id,
            kind: SANCTION,
            jurisdiction_id: s.jurisdiction_id,
            jurisdiction_path: s.path.clone(),
            subject_id: Some(r.subject_id),
            status: r.kind.clone(),
            due_at: None,
            updated_at: fmt_ts(now),
            body: serde_json::to_string(&out).map_err(AppError::internal)?,
        }));
        Ok(Decided::new(auth, ws, out))
    }

    fn respond(&self, out: &Sanction) -> JsonText {
        JsonText::of(out)
    }
}

/// Whether the actor may see commendation and accountability records at `path`.
pub fn may_see_sanctions(app: &App, actor: &Actor, path: &str) -> bool {
    app.require(actor, Permission::ReviewIncident, path, "sanction")
        .is_ok()
        || app
            .require(actor, Permission::ReadAudit, path, "sanction")
            .is_ok()
}

/// The commendation and accountability records of a record (reviewers and auditors only).
pub async fn sanctions_of(
    app: &App,
    actor: &Actor,
    kind: &str,
    id: Uuid,
) -> Result<Vec<Sanction>, AppError> {
    let s = subject(app, kind, id).await?;
    app.require(actor, s.view, &s.path, s.kind)?;
    if !may_see_sanctions(app, actor, &s.path) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "commendation and accountability records are seen by reviewers and auditors only",
        ));
    }
    crate::records::of_subject(app, id, SANCTION).await
}
