//! The plan registry: uploading a plan (checked with the same diagnostics as `plan check`,
//! stored as a new version when its text changed, recorded in the plan's stream) and reading
//! plans back. Incidents are pinned to the version they ran under.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_plan::diag::Located;
use yingji_store::{PlanRow, Row, WriteSet, fmt_ts};

use crate::command::{Command, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// A plan file to store as the newest version of its plan.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadPlanRequest {
    /// The jurisdiction that owns the plan.
    pub jurisdiction_id: Uuid,
    /// The plan file's TOML text.
    pub source: String,
    /// A file name for diagnostics (default `plan.toml`).
    pub file_name: Option<String>,
}

/// A stored plan version (with its source when one plan is read).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanVersion {
    pub plan_id: String,
    pub version: i64,
    pub jurisdiction_id: Uuid,
    pub title: String,
    /// SHA-256 of the source text.
    pub sha256: String,
    pub loaded_at: String,
    /// The plan file's text (when one plan is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl PlanVersion {
    pub fn of(p: &PlanRow, with_source: bool) -> PlanVersion {
        PlanVersion {
            plan_id: p.plan_id.clone(),
            version: p.version,
            jurisdiction_id: p.jurisdiction_id,
            title: p.title.clone(),
            sha256: p.sha256.clone(),
            loaded_at: p.loaded_at.clone(),
            source: with_source.then(|| p.source.to_string()),
        }
    }
}

/// Every version of the plans owned in the actor's subtree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanVersion>,
}

/// The stream that records a plan's versions.
pub fn plan_stream(plan_id: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("yingji:plan:{plan_id}").as_bytes(),
    )
}

/// What an upload did.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// A new version was stored.
    New(PlanRow),
    /// The text equals the newest version: nothing stored.
    Unchanged(PlanRow),
}

impl Loaded {
    pub fn row(&self) -> &PlanRow {
        match self {
            Loaded::New(r) | Loaded::Unchanged(r) => r,
        }
    }

    /// What happened, in a line (for `serve --plans`).
    pub fn describe(&self) -> String {
        match self {
            Loaded::New(r) => format!("loaded {} version {}", r.plan_id, r.version),
            Loaded::Unchanged(r) => format!("{} version {} unchanged", r.plan_id, r.version),
        }
    }
}

/// Uploads a plan file for a jurisdiction: refused with its diagnostics when it has errors,
/// stored as a new version (`plan_version_loaded` in the plan's stream) when it differs from
/// the newest, unchanged otherwise. A plan id belongs to one jurisdiction.
pub struct UploadPlan(pub UploadPlanRequest);

impl Command for UploadPlan {
    type Output = Loaded;

    fn kind(&self) -> &'static str {
        "plan.upload"
    }

    fn status_of(&self, out: &Loaded) -> u16 {
        match out {
            Loaded::New(_) => 201,
            Loaded::Unchanged(_) => 200,
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Loaded>, AppError> {
        let req = &self.0;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::UploadPlans, &j.path, "jurisdiction")?;
        let source = req.source.as_str();
        let file_name = req.file_name.as_deref().unwrap_or("plan.toml");
        let checked = yingji_plan::load(source);
        if checked.has_errors() {
            let diags: Vec<Located> = checked
                .diagnostics
                .iter()
                .map(|d| Located::new(file_name, source, d))
                .collect();
            let first = diags
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
            return Err(AppError::new(
                ErrorCode::PlanCheckFailed,
                format!("the plan has errors; first: {first}"),
            )
            .details(json!({ "diagnostics": diags })));
        }
        let plan = checked.plan.expect("a plan without errors");
        let plan_id = plan.id().to_string();
        let sha = {
            let mut h = Sha256::new();
            h.update(source.as_bytes());
            format!("{:x}", h.finalize())
        };
        let latest = app.store.plan_latest(&plan_id).await?;
        if let Some(l) = &latest {
            if l.jurisdiction_id != j.id {
                return Err(AppError::new(
                    ErrorCode::PlanOwnedElsewhere,
                    format!("plan id `{plan_id}` already belongs to another jurisdiction"),
                ));
            }
            if l.sha256 == sha {
                return Ok(Decided::nothing(auth, Loaded::Unchanged(l.clone())));
            }
        }
        let now = app.clock.now();
        let row = PlanRow {
            plan_id: plan_id.clone(),
            version: latest.as_ref().map_or(1, |l| l.version + 1),
            jurisdiction_id: j.id,
            title: plan.meta.title.clone(),
            source: source.into(),
            sha256: sha,
            loaded_at: fmt_ts(now),
        };
        let stream = plan_stream(&plan_id);
        let head = app.store.stream_head(stream).await?;
        let (version, hash) = head.map_or((0, None), |(v, h)| (v, Some(h)));
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            stream,
            "plan",
            j.id,
            version,
            hash.as_deref(),
            &actor.as_ref(),
            now,
            vec![Item::new(
                "plan_version_loaded",
                &json!({ "plan_id": plan_id, "version": row.version, "sha256": row.sha256, "title": row.title }),
                None,
            )],
        );
        ws.rows.push(Row::Plan(row.clone()));
        Ok(Decided::new(auth, ws, Loaded::New(row)))
    }

    fn respond(&self, out: &Loaded) -> JsonText {
        json_text(&PlanVersion::of(out.row(), false))
    }
}

fn json_text<T: Serialize>(v: &T) -> JsonText {
    JsonText(serde_json::to_string(v).expect("answers serialise"))
}

/// Loads one plan file as yingji itself (`serve --plans DIR`): checked and versioned like an
/// upload; says what happened.
pub async fn load_file(
    app: &App,
    jurisdiction_id: Uuid,
    source: &str,
    file_name: &str,
) -> Result<Loaded, AppError> {
    let cmd = UploadPlan(UploadPlanRequest {
        jurisdiction_id,
        source: source.to_string(),
        file_name: Some(file_name.to_string()),
    });
    app.execute(&Actor::system(), None, &cmd)
        .await?
        .output()
        .ok_or_else(|| AppError::internal("a plan load was replayed"))
}

/// Every version of the plans owned in the actor's subtree, newest version of each plan
/// first.
pub async fn list(app: &App, actor: &Actor) -> Result<PlanList, AppError> {
    app.require(actor, Permission::ViewPlans, &actor.scope_path, "plan")?;
    let rows = app.store.list_plans(&actor.scope_path).await?;
    Ok(PlanList {
        items: rows.iter().map(|p| PlanVersion::of(p, false)).collect(),
    })
}

/// Whether the actor may read the plans of the jurisdiction at `owner_path`: those of their
/// own subtree and of the jurisdictions above it (which apply to it).
fn readable(actor: &Actor, owner_path: &str) -> bool {
    actor.sees(owner_path) || actor.scope_path.starts_with(owner_path)
}

/// A plan row the actor may read (see [`readable`]); anything else is "not found".
pub(crate) async fn visible(
    app: &App,
    actor: &Actor,
    row: Option<PlanRow>,
) -> Result<PlanRow, AppError> {
    let row = row.ok_or_else(|| AppError::not_found("plan"))?;
    app.require(actor, Permission::ViewPlans, &actor.scope_path, "plan")?;
    let owner = app
        .store
        .jurisdiction(row.jurisdiction_id)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    if readable(actor, &owner.path) {
        Ok(row)
    } else {
        Err(AppError::not_found("plan"))
    }
}

/// The newest version of a plan the actor may read.
pub async fn latest(app: &App, actor: &Actor, plan_id: &str) -> Result<PlanRow, AppError> {
    visible(app, actor, app.store.plan_latest(plan_id).await?).await
}

/// One version of a plan the actor may read.
pub async fn version(
    app: &App,
    actor: &Actor,
    plan_id: &str,
    version: i64,
) -> Result<PlanRow, AppError> {
    visible(app, actor, app.store.plan_version(plan_id, version).await?).await
}

/// Every version of a plan the actor may read, newest first.
pub async fn versions(app: &App, actor: &Actor, plan_id: &str) -> Result<Vec<PlanRow>, AppError> {
    let rows: Vec<PlanRow> = app
        .store
        .list_plans("/")
        .await?
        .into_iter()
        .filter(|r| r.plan_id == plan_id)
        .collect();
    visible(app, actor, rows.first().cloned()).await?;
    Ok(rows)
}

/// The newest version of every plan the actor may read (owned in their subtree or above
/// them), with the name of the owning jurisdiction.
pub async fn readable_plans(app: &App, actor: &Actor) -> Result<Vec<(PlanRow, String)>, AppError> {
    app.require(actor, Permission::ViewPlans, &actor.scope_path, "plan")?;
    let mut out: Vec<(PlanRow, String)> = Vec::new();
    for row in app.store.list_plans("/").await? {
        if out.iter().any(|(p, _)| p.plan_id == row.plan_id) {
            continue;
        }
        let Some(owner) = app.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if readable(actor, &owner.path) {
            out.push((row, owner.name));
        }
    }
    Ok(out)
}
