//! Representatives of a gathering (群众代表): the people a gathering chooses to speak for it
//! (002-K11: "3–5 are chosen and registered at the first reception"; 000: dialogue with the
//! representatives; 003 §5.1: the written reply goes to them). Recorded on the incident so the
//! dialogue and the reply reach them, and nothing more: a name, a contact for the reply and what
//! they speak for — no identity number, address or whereabouts (the request refuses any other
//! field, and what they speak for is checked against the scope vocabulary).
//!
//! The name and the contact are personal data of a petitioner: both are sealed with the
//! incident's subject key (created with the first representative if the incident has none), in
//! the record's row and in its events. Those who may update the incident (its groups included) see the name; others
//! see it masked; the contact is shown masked to all and revealed only to
//! `reveal_personal_data`, each read logged as a disclosure with its reason. `yingji purge`
//! destroys the key of a closed incident, and with it every copy of these values.
//!
//! Commands: `representative.record`, `representative.withdraw`, `representative.reveal`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::incident::{Incident, Status};
use yingji_store::{RecordWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command as AppCommand, Decided};
use crate::subjects::SubjectKey;
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// The record kind and stream kind of a representative.
pub const KIND: &str = "representative";

/// A representative to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeRequest {
    /// The name the representative gives (1–50 characters).
    pub name: String,
    /// How to reach them for the dialogue and the written reply (a phone or an e-mail; at most
    /// 100 characters).
    pub contact: Option<String>,
    /// Whom or what they speak for (their group, the grievance; at most 500 characters).
    #[serde(default)]
    pub speaks_for: String,
}

/// Why a representative no longer speaks for the gathering (replaced, stepped down).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRepresentativeRequest {
    pub reason: String,
}

/// Which value to reveal, and why (logged).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeRevealRequest {
    /// `name` or `contact`.
    pub field: String,
    pub reason: String,
}

/// A representative as stored: the name and the contact sealed with the incident's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    id: Uuid,
    incident_id: Uuid,
    jurisdiction_id: Uuid,
    /// 1, 2, … in the order recorded on the incident.
    ordinal: i64,
    name: String,
    contact: Option<String>,
    speaks_for: String,
    recorded_at: Timestamp,
    recorded_by: ActorRef,
    withdrawn_at: Option<Timestamp>,
    withdrawn_reason: Option<String>,
}

/// The events of a representative's stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    RepresentativeRecorded(Box<Stored>),
    RepresentativeWithdrawn { reason: String },
}

impl Event {
    fn kind(&self) -> &'static str {
        match self {
            Event::RepresentativeRecorded(_) => "representative_recorded",
            Event::RepresentativeWithdrawn { .. } => "representative_withdrawn",
        }
    }
}

fn apply(s: Option<Stored>, e: &Event, at: Timestamp, _by: &ActorRef) -> Option<Stored> {
    match e {
        Event::RepresentativeRecorded(r) => Some((**r).clone()),
        Event::RepresentativeWithdrawn { reason } => s.map(|mut s| {
            s.withdrawn_at = Some(at);
            s.withdrawn_reason = Some(reason.clone());
            s
        }),
    }
}

/// A representative as the API and the room show them (the answers of recording and
/// withdrawing, which an Idempotency-Key may store, mask the name too).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Representative {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub ordinal: i64,
    /// The name for those who may update the incident; masked (`王**`) for others; empty once
    /// erased.
    pub name: String,
    /// Whether `name` is the full name.
    pub name_shown: bool,
    /// The contact, masked; reveal it with `POST …/reveal`.
    pub contact: Option<String>,
    pub speaks_for: String,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    pub recorded_by: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub withdrawn_at: Option<Timestamp>,
    pub withdrawn_reason: Option<String>,
    /// Whether `yingji purge` erased the name and contact (the incident's key is destroyed).
    pub erased: bool,
}

/// What a reveal answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepresentativeReveal {
    pub representative_id: Uuid,
    pub field: String,
    /// The full value (null when there is none or it was erased).
    pub value: Option<String>,
    pub erased: bool,
}

fn aad(incident_id: Uuid, id: Uuid, field: &str) -> String {
    format!("representatives:{incident_id}:{id}:{field}")
}

fn text(field: &'static str, s: &str, min: usize, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    let n = s.chars().count();
    if n < min || n > max {
        return Err(AppError::field(
            if n == 0 {
                ErrorCode::MissingField
            } else {
                ErrorCode::InvalidField
            },
            field,
            format!("`{field}` takes {min}–{max} characters"),
        ));
    }
    crate::followups::in_scope(field, s)?;
    Ok(s.to_string())
}

/// The incident's subject key, if it has one (None after a purge destroyed it).
async fn incident_key(app: &App, incident_id: Uuid) -> Result<Option<SubjectKey>, AppError> {
    let row = app.store.subject_key("incident", incident_id).await?;
    crate::subjects::unwrap_row(app, row.as_ref())
}

#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
fn write(
    ws: &mut WriteSet,
    after: &Stored,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    event: &Event,
) {
    append(
        ws,
        after.id,
        KIND,
        after.jurisdiction_id,
        version,
        head,
        actor,
        now,
        vec![Item::new(event.kind(), event, None)],
    );
    ws.rows.push(Row::Record(RecordWrite::Put {
        id: after.id,
        kind: KIND,
        jurisdiction_id: after.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        subject_id: Some(after.incident_id),
        status: if after.withdrawn_at.is_some() {
            "withdrawn"
        } else {
            "active"
        }
        .into(),
        due_at: None,
        updated_at: fmt_ts(now),
        body: serde_json::to_string(after).expect("a representative serialises"),
    }));
}

/// Records a representative of the gathering on an incident (`representative.record`).
pub struct RecordRepresentative {
    pub incident_id: Uuid,
    pub req: RepresentativeRequest,
}

impl AppCommand for RecordRepresentative {
    type Output = Representative;

    fn kind(&self) -> &'static str {
        "representative.record"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Representative>, AppError> {
        let (inc, rec) = load_incident(app, self.incident_id).await?;
        let auth = app.authorize(
            actor,
            Permission::UpdateIncident,
            &rec.jurisdiction_path,
            "incident",
        )?;
        if matches!(inc.status, Status::Closed | Status::Unfounded) {
            return Err(AppError::new(
                ErrorCode::IllegalTransition,
                "the incident is closed: its representatives can no longer change",
            ));
        }
        let r = &self.req;
        let name = text("name", &r.name, 1, 50)?;
        let contact = match r.contact.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(text("contact", c, 1, 100)?),
        };
        let speaks_for = text("speaks_for", &r.speaks_for, 0, 500)?;
        let now = app.clock.now();
        let mut ws = WriteSet::default();
        let key = match incident_key(app, inc.id).await? {
            Some(k) => k,
            None => SubjectKey::create(&mut ws, &app.sealer, "incident", inc.id, now),
        };
        let ordinal = app.store.records_of(inc.id, KIND).await?.len() as i64 + 1;
        let id = Uuid::now_v7();
        let stored = Stored {
            id,
            incident_id: inc.id,
            jurisdiction_id: rec.jurisdiction_id,
            ordinal,
            name: key.seal(&name, &aad(inc.id, id, "name")),
            contact: contact.map(|c| key.seal(&c, &aad(inc.id, id, "contact"))),
            speaks_for: crate::redact::text(&speaks_for),
            recorded_at: now,
            recorded_by: actor.as_ref(),
            withdrawn_at: None,
            withdrawn_reason: None,
        };
        let event = Event::RepresentativeRecorded(Box::new(stored.clone()));
        write(
            &mut ws,
            &stored,
            &rec.jurisdiction_path,
            0,
            None,
            &actor.as_ref(),
            now,
            &event,
        );
        // The answer (which an Idempotency-Key stores) names them masked only.
        let view = view(&stored, Some(&key), false);
        Ok(Decided::new(auth, ws, view))
    }

    fn respond(&self, out: &Representative) -> JsonText {
        JsonText::of(out)
    }
}

/// Records that a representative no longer speaks for the gathering
/// (`representative.withdraw`).
pub struct WithdrawRepresentative {
    pub incident_id: Uuid,
    pub id: Uuid,
    pub req: WithdrawRepresentativeRequest,
}

impl AppCommand for WithdrawRepresentative {
    type Output = Representative;

    fn kind(&self) -> &'static str {
        "representative.withdraw"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Representative>, AppError> {
        let (_, rec) = load_incident(app, self.incident_id).await?;
        let auth = app.authorize(
            actor,
            Permission::UpdateIncident,
            &rec.jurisdiction_path,
            "incident",
        )?;
        let r = load(app, self.incident_id, self.id).await?;
        if r.state.withdrawn_at.is_some() {
            return Err(AppError::new(
                ErrorCode::IllegalTransition,
                "the representative was already withdrawn",
            ));
        }
        let reason = text("reason", &self.req.reason, 2, 500)?;
        let now = app.clock.now();
        let event = Event::RepresentativeWithdrawn {
            reason: crate::redact::text(&reason),
        };
        let after = apply(Some(r.state), &event, now, &actor.as_ref())
            .ok_or_else(|| AppError::internal("a representative stopped being one"))?;
        let mut ws = WriteSet::default();
        write(
            &mut ws,
            &after,
            &r.path,
            r.version,
            Some(&r.head),
            &actor.as_ref(),
            now,
            &event,
        );
        let key = incident_key(app, self.incident_id).await?;
        Ok(Decided::new(auth, ws, view(&after, key.as_ref(), false)))
    }

    fn respond(&self, out: &Representative) -> JsonText {
        JsonText::of(out)
    }
}

/// Reveals a representative's name or contact (`reveal_personal_data`), recording who, which
/// and why in the same write before the value is answered. Run without an Idempotency-Key.
pub struct RevealRepresentative {
    pub incident_id: Uuid,
    pub id: Uuid,
    pub req: RepresentativeRevealRequest,
}

impl AppCommand for RevealRepresentative {
    type Output = RepresentativeReveal;

    fn kind(&self) -> &'static str {
        "representative.reveal"
    }

    async fn run(
        &self,
        app: &App,
        actor: &Actor,
    ) -> Result<Decided<RepresentativeReveal>, AppError> {
        let (inc, rec) = load_incident(app, self.incident_id).await?;
        let auth = app.authorize(
            actor,
            Permission::RevealPersonalData,
            &rec.jurisdiction_path,
            "incident",
        )?;
        let field = match self.req.field.as_str() {
            f @ ("name" | "contact") => f,
            _ => {
                return Err(AppError::field(
                    ErrorCode::InvalidField,
                    "field",
                    "`field` is name or contact",
                ));
            }
        };
        let r = load(app, inc.id, self.id).await?;
        let key = incident_key(app, inc.id).await?;
        let stored = if field == "name" {
            Some(&r.state.name)
        } else {
            r.state.contact.as_ref()
        };
        let value = match (&key, stored) {
            (Some(k), Some(v)) => Some(open(k, v, &aad(inc.id, self.id, field))?),
            _ => None,
        };
        let mut ws = WriteSet::default();
        crate::trust::disclosure(
            app,
            &mut ws,
            actor,
            "incident",
            inc.id,
            rec.jurisdiction_id,
            &format!("representatives[{}].{field}", r.state.ordinal),
            &self.req.reason,
        )?;
        Ok(Decided::new(
            auth,
            ws,
            RepresentativeReveal {
                representative_id: self.id,
                field: field.into(),
                value,
                erased: key.is_none(),
            },
        ))
    }

    fn respond(&self, out: &RepresentativeReveal) -> JsonText {
        JsonText::of(out)
    }
}

fn open(key: &SubjectKey, sealed: &str, aad: &str) -> Result<String, AppError> {
    key.open(sealed, aad)
        .map_err(|e| AppError::internal(format!("a representative's sealed value: {e}")))
}

async fn load_incident(
    app: &App,
    id: Uuid,
) -> Result<(Incident, yingji_store::IncidentRecord), AppError> {
    let rec = app
        .store
        .get_incident(id)
        .await?
        .ok_or_else(|| AppError::not_found("incident"))?;
    let inc: Incident = serde_json::from_str(&rec.body).map_err(AppError::internal)?;
    Ok((inc, rec))
}

async fn load(
    app: &App,
    incident_id: Uuid,
    id: Uuid,
) -> Result<crate::records::Replayed<Stored>, AppError> {
    let r = crate::records::replay(app, KIND, id, "representative", apply).await?;
    if r.state.incident_id != incident_id {
        return Err(AppError::not_found("representative"));
    }
    Ok(r)
}

/// A name for someone who may not see it: its first character, the rest hidden.
fn mask_name(n: &str) -> String {
    let mut c = n.chars();
    match c.next() {
        Some(first) => format!("{first}{}", "*".repeat(c.count().max(1))),
        None => String::new(),
    }
}

fn view(s: &Stored, key: Option<&SubjectKey>, name_shown: bool) -> Representative {
    let name = key.and_then(|k| k.open(&s.name, &aad(s.incident_id, s.id, "name")).ok());
    let contact = key.and_then(|k| {
        s.contact
            .as_ref()
            .and_then(|c| k.open(c, &aad(s.incident_id, s.id, "contact")).ok())
    });
    Representative {
        id: s.id,
        incident_id: s.incident_id,
        ordinal: s.ordinal,
        name_shown: name_shown && name.is_some(),
        name: match &name {
            Some(n) if name_shown => n.clone(),
            Some(n) => mask_name(n),
            None => String::new(),
        },
        contact: contact.map(|c| {
            if c.contains('@') {
                crate::sealer::mask_email(&c)
            } else {
                crate::sealer::mask_phone(&c)
            }
        }),
        speaks_for: s.speaks_for.clone(),
        recorded_at: s.recorded_at,
        recorded_by: s.recorded_by.name.clone(),
        withdrawn_at: s.withdrawn_at,
        withdrawn_reason: s.withdrawn_reason.clone(),
        erased: key.is_none(),
    }
}

/// The representatives of an incident, in the order recorded: names in full for those who may
/// update it, masked for others who may see it; contacts masked.
pub async fn of_incident(
    app: &App,
    actor: &Actor,
    incident_id: Uuid,
) -> Result<Vec<Representative>, AppError> {
    let (_, rec) =
        crate::incidents::load(app, actor, incident_id, Permission::ViewIncidents).await?;
    let shown = actor.may(app, Permission::UpdateIncident, &rec.jurisdiction_path);
    let stored: Vec<Stored> = crate::records::of_subject(app, incident_id, KIND).await?;
    if stored.is_empty() {
        return Ok(vec![]);
    }
    let key = incident_key(app, incident_id).await?;
    let mut out: Vec<Representative> = stored
        .iter()
        .map(|s| view(s, key.as_ref(), shown))
        .collect();
    out.sort_by_key(|r| r.ordinal);
    Ok(out)
}
