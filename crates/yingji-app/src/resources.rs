//! Response teams and funds (应急队伍与经费): a jurisdiction's teams with their members and
//! readiness (ready, on standby, unavailable), and budget lines per plan with what is spent on
//! each incident. Commands: `team.create`, `team.readiness`, `budget.create`, `budget.spend`.
//! A spending is also a record of its incident, which the room lists.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_store::{RecordWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command as AppCommand, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

pub const TEAM: &str = "team";
pub const BUDGET: &str = "budget_line";
pub const SPENDING: &str = "spending";

/// A response team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub name: String,
    /// Its leader (a post or person, as written).
    pub leader: String,
    /// Its members (people or units, as written).
    pub members: Vec<String>,
    /// `ready` (可随时出动), `standby` (待命) or `unavailable` (暂不可用).
    pub readiness: String,
    pub note: Option<String>,
    pub updated_by: ActorRef,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A budget line of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BudgetLine {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub name: String,
    /// In fen (分, 1/100 yuan).
    pub amount_fen: i64,
    pub spent_fen: i64,
    pub updated_by: ActorRef,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A spending on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Spending {
    pub id: Uuid,
    pub line_id: Uuid,
    pub line: String,
    pub incident_id: Uuid,
    pub amount_fen: i64,
    pub note: Option<String>,
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    pub jurisdiction_id: Option<Uuid>,
    pub name: String,
    pub leader: String,
    #[serde(default)]
    pub members: Vec<String>,
    /// Default `ready`.
    pub readiness: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessRequest {
    pub readiness: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    pub jurisdiction_id: Option<Uuid>,
    pub plan_id: String,
    pub name: String,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendRequest {
    pub incident_id: Uuid,
    pub amount_fen: i64,
    pub note: Option<String>,
}

const READINESS: &[&str] = &["ready", "standby", "unavailable"];
/// The most a line or a spending may be: ten billion yuan, a guard against typing errors.
const MAX_FEN: i64 = 1_000_000_000_000;

fn text(field: &'static str, s: &str, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AppError::missing(field));
    }
    if s.chars().count() > max {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` may be at most {max} characters"),
        ));
    }
    Ok(crate::redact::text(s))
}

fn readiness(r: &str) -> Result<String, AppError> {
    if READINESS.contains(&r) {
        Ok(r.to_string())
    } else {
        Err(AppError::field(
            ErrorCode::InvalidKind,
            "readiness",
            "`readiness` is ready, standby or unavailable",
        ))
    }
}

fn money(field: &'static str, fen: i64, least: i64) -> Result<i64, AppError> {
    if !(least..=MAX_FEN).contains(&fen) {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` is in fen, from {least} to {MAX_FEN}"),
        ));
    }
    Ok(fen)
}

/// Appends one event to a record's stream and writes its row.
#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
fn put<T: Serialize>(
    ws: &mut WriteSet,
    kind: &'static str,
    id: Uuid,
    jurisdiction_id: Uuid,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    event: &str,
    body: &T,
    status: &str,
) -> Uuid {
    let ids = append(
        ws,
        id,
        kind,
        jurisdiction_id,
        version,
        head,
        actor,
        now,
        vec![Item::new(event, body, None)],
    );
    ws.rows.push(Row::Record(RecordWrite::Put {
        id,
        kind,
        jurisdiction_id,
        jurisdiction_path: path.to_string(),
        subject_id: None,
        status: status.to_string(),
        due_at: None,
        updated_at: fmt_ts(now),
        body: serde_json::to_string(body).expect("a record serialises"),
    }));
    ids[0]
}

/// A stored record's body with its path, version and head.
async fn load<T: for<'de> Deserialize<'de>>(
    app: &App,
    kind: &str,
    id: Uuid,
    what: &str,
) -> Result<(T, String, i64, String), AppError> {
    let rec = app
        .store
        .get_record(kind, id)
        .await?
        .ok_or_else(|| AppError::not_found(what))?;
    let body = serde_json::from_str(&rec.body).map_err(AppError::internal)?;
    Ok((body, rec.jurisdiction_path, rec.version, rec.head_hash))
}

/// Creates a team (`team.create`).
pub struct CreateTeam(pub TeamRequest);

impl AppCommand for CreateTeam {
    type Output = Team;

    fn kind(&self) -> &'static str {
        "team.create"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Team>, AppError> {
        let r = &self.0;
        let jid = r.jurisdiction_id.unwrap_or(actor.jurisdiction_id);
        let j = app.scoped_jurisdiction(actor, jid, "jurisdiction").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &j.path, "jurisdiction")?;
        let now = app.clock.now();
        let team = Team {
            id: Uuid::now_v7(),
            jurisdiction_id: j.id,
            name: text("name", &r.name, 100)?,
            leader: text("leader", &r.leader, 100)?,
            members: r
                .members
                .iter()
                .map(|m| text("members", m, 100))
                .collect::<Result<_, _>>()?,
            readiness: readiness(r.readiness.as_deref().unwrap_or("ready"))?,
            note: None,
            updated_by: actor.as_ref(),
            updated_at: now,
        };
        let mut ws = WriteSet::default();
        put(
            &mut ws,
            TEAM,
            team.id,
            j.id,
            &j.path,
            0,
            None,
            &actor.as_ref(),
            now,
            "team_created",
            &team,
            &team.readiness,
        );
        Ok(Decided::new(auth, ws, team))
    }

    fn respond(&self, out: &Team) -> JsonText {
        JsonText::of(out)
    }
}

/// Sets a team's readiness (`team.readiness`).
pub struct SetReadiness {
    pub id: Uuid,
    pub request: ReadinessRequest,
}

impl AppCommand for SetReadiness {
    type Output = Team;

    fn kind(&self) -> &'static str {
        "team.readiness"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Team>, AppError> {
        let (mut team, path, version, head): (Team, _, _, _) =
            load(app, TEAM, self.id, "team").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &path, "team")?;
        let now = app.clock.now();
        team.readiness = readiness(&self.request.readiness)?;
        team.note = self
            .request
            .note
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(|n| text("note", n, 500))
            .transpose()?;
        team.updated_by = actor.as_ref();
        team.updated_at = now;
        let mut ws = WriteSet::default();
        put(
            &mut ws,
            TEAM,
            team.id,
            team.jurisdiction_id,
            &path,
            version,
            Some(&head),
            &actor.as_ref(),
            now,
            "team_readiness_set",
            &team,
            &team.readiness.clone(),
        );
        Ok(Decided::new(auth, ws, team))
    }

    fn respond(&self, out: &Team) -> JsonText {
        JsonText::of(out)
    }
}

/// Creates a budget line of a plan (`budget.create`).
pub struct CreateBudget(pub BudgetRequest);

impl AppCommand for CreateBudget {
    type Output = BudgetLine;

    fn kind(&self) -> &'static str {
        "budget.create"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<BudgetLine>, AppError> {
        let r = &self.0;
        let jid = r.jurisdiction_id.unwrap_or(actor.jurisdiction_id);
        let j = app.scoped_jurisdiction(actor, jid, "jurisdiction").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &j.path, "jurisdiction")?;
        // A plan that applies here.
        crate::incidents::plan_for(app, &j.path, &r.plan_id).await?;
        let now = app.clock.now();
        let line = BudgetLine {
            id: Uuid::now_v7(),
            jurisdiction_id: j.id,
            plan_id: r.plan_id.clone(),
            name: text("name", &r.name, 100)?,
            amount_fen: money("amount_fen", r.amount_fen, 0)?,
            spent_fen: 0,
            updated_by: actor.as_ref(),
            updated_at: now,
        };
        let mut ws = WriteSet::default();
        put(
            &mut ws,
            BUDGET,
            line.id,
            j.id,
            &j.path,
            0,
            None,
            &actor.as_ref(),
            now,
            "budget_line_created",
            &line,
            "open",
        );
        Ok(Decided::new(auth, ws, line))
    }

    fn respond(&self, out: &BudgetLine) -> JsonText {
        JsonText::of(out)
    }
}

/// Records a spending on an incident against a budget line (`budget.spend`); more than the
/// line has left is refused (`insufficient_stock`, the line being the stock of money).
pub struct Spend {
    pub id: Uuid,
    pub request: SpendRequest,
}

impl AppCommand for Spend {
    type Output = BudgetLine;

    fn kind(&self) -> &'static str {
        "budget.spend"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<BudgetLine>, AppError> {
        let (mut line, path, version, head): (BudgetLine, _, _, _) =
            load(app, BUDGET, self.id, "budget line").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &path, "budget line")?;
        let r = &self.request;
        let (inc, _) =
            crate::incidents::load(app, actor, r.incident_id, Permission::ViewIncidents).await?;
        let amount = money("amount_fen", r.amount_fen, 1)?;
        let left = line.amount_fen - line.spent_fen;
        if amount > left {
            return Err(AppError::new(
                ErrorCode::InsufficientStock,
                format!("the line has {left} fen left; {amount} asked"),
            )
            .details(serde_json::json!({ "on_hand": left, "asked": amount })));
        }
        let now = app.clock.now();
        line.spent_fen += amount;
        line.updated_by = actor.as_ref();
        line.updated_at = now;
        let mut ws = WriteSet::default();
        let event_id = put(
            &mut ws,
            BUDGET,
            line.id,
            line.jurisdiction_id,
            &path,
            version,
            Some(&head),
            &actor.as_ref(),
            now,
            "budget_spent",
            &line,
            "open",
        );
        let s = Spending {
            id: event_id,
            line_id: line.id,
            line: line.name.clone(),
            incident_id: inc.id,
            amount_fen: amount,
            note: r
                .note
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(|n| text("note", n, 500))
                .transpose()?,
            by: actor.name.clone(),
            at: now,
        };
        ws.rows.push(Row::Record(RecordWrite::Put {
            id: s.id,
            kind: SPENDING,
            jurisdiction_id: line.jurisdiction_id,
            jurisdiction_path: path.clone(),
            subject_id: Some(inc.id),
            status: "spent".into(),
            due_at: None,
            updated_at: fmt_ts(now),
            body: serde_json::to_string(&s).map_err(AppError::internal)?,
        }));
        Ok(Decided::new(auth, ws, line))
    }

    fn respond(&self, out: &BudgetLine) -> JsonText {
        JsonText::of(out)
    }
}

/// The teams of the actor's area, newest first.
pub async fn teams(app: &App, actor: &Actor) -> Result<Vec<Team>, AppError> {
    crate::records::in_area(app, actor, TEAM, 1000).await
}

/// The budget lines of the actor's area, newest first.
pub async fn budget_lines(app: &App, actor: &Actor) -> Result<Vec<BudgetLine>, AppError> {
    crate::records::in_area(app, actor, BUDGET, 1000).await
}

/// What was spent on an incident, oldest first.
pub async fn spending_of(
    app: &App,
    actor: &Actor,
    incident_id: Uuid,
) -> Result<Vec<Spending>, AppError> {
    crate::incidents::load(app, actor, incident_id, Permission::ViewIncidents).await?;
    crate::records::of_subject(app, incident_id, SPENDING).await
}
