//! The plan registry: uploading a plan (checked with the same diagnostics as `plan check`,
//! stored as a new version when its text changed, recorded in the plan's stream) and reading
//! plans back. Incidents are pinned to the version they ran under.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_plan::Plan;
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
    /// The day this version takes effect (`effective_on`, in the plan's time zone); none: from
    /// its upload.
    pub effective_on: Option<String>,
    /// `in_force` (the version incidents reported now are graded by), `scheduled` (newer, its
    /// `effective_on` still ahead) or `superseded` (older than the one in force).
    pub standing: Standing,
    /// The plan file's text (when one plan is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Where a version stands against the version in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    InForce,
    Scheduled,
    Superseded,
}

impl Standing {
    /// A version's standing, given the version in force (if any).
    pub fn of(version: i64, in_force: Option<i64>) -> Standing {
        match in_force {
            Some(f) if version == f => Standing::InForce,
            Some(f) if version < f => Standing::Superseded,
            _ => Standing::Scheduled,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Standing::InForce => "in_force",
            Standing::Scheduled => "scheduled",
            Standing::Superseded => "superseded",
        }
    }
}

impl PlanVersion {
    /// A stored version as answered, with its standing against the version in force.
    pub fn of(p: &PlanRow, plan: &Plan, in_force: Option<i64>, with_source: bool) -> PlanVersion {
        PlanVersion {
            plan_id: p.plan_id.clone(),
            version: p.version,
            jurisdiction_id: p.jurisdiction_id,
            title: p.title.clone(),
            sha256: p.sha256.clone(),
            loaded_at: p.loaded_at.clone(),
            effective_on: plan.meta.effective_on.map(|d| d.to_string()),
            standing: Standing::of(p.version, in_force),
            source: with_source.then(|| p.source.to_string()),
        }
    }

    /// A stored version as answered now (its standing by the app clock).
    pub async fn now(app: &App, p: &PlanRow, with_source: bool) -> Result<PlanVersion, AppError> {
        let plan = app.plan(&p.plan_id, p.version).await?;
        let force = in_force(app, &p.plan_id, app.clock.now()).await?;
        Ok(PlanVersion::of(
            p,
            &plan,
            force.map(|r| r.version),
            with_source,
        ))
    }
}

/// Whether a plan version has taken effect at `at`: its `effective_on` day (in the plan's time
/// zone) has begun; a version without `effective_on` takes effect when it is uploaded.
pub fn effective(plan: &Plan, at: Timestamp) -> bool {
    plan.meta
        .effective_on
        .is_none_or(|d| at.to_zoned(plan.time.tz.clone()).date() >= d)
}

/// The version of a plan in force at `at`: the newest stored version that has taken effect
/// ([`effective`]). None when the plan is not stored or no version has taken effect yet.
pub async fn in_force(
    app: &App,
    plan_id: &str,
    at: Timestamp,
) -> Result<Option<PlanRow>, AppError> {
    let mut row = app.store.plan_latest(plan_id).await?;
    while let Some(r) = row {
        let plan = app.plan(&r.plan_id, r.version).await?;
        if effective(&plan, at) {
            return Ok(Some(r));
        }
        row = if r.version > 1 {
            app.store.plan_version(plan_id, r.version - 1).await?
        } else {
            None
        };
    }
    Ok(None)
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
    New(PlanVersion),
    /// The text equals the newest version: nothing stored.
    Unchanged(PlanVersion),
}

impl Loaded {
    pub fn version(&self) -> &PlanVersion {
        match self {
            Loaded::New(r) | Loaded::Unchanged(r) => r,
        }
    }

    /// What happened, in a line (for `serve --plans`).
    pub fn describe(&self) -> String {
        let r = self.version();
        let when = match (r.standing, &r.effective_on) {
            (Standing::Scheduled, Some(d)) => format!(", in force from {d}"),
            (Standing::InForce, _) => ", in force".to_string(),
            _ => String::new(),
        };
        match self {
            Loaded::New(_) => format!("loaded {} version {}{when}", r.plan_id, r.version),
            Loaded::Unchanged(_) => format!("{} version {} unchanged{when}", r.plan_id, r.version),
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
        let checked = check_with_stored(app, source, file_name).await?;
        if checked.has_errors() {
            let diags: Vec<Located> = Located::all(file_name, source, &checked.diagnostics);
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
                let answer = PlanVersion::now(app, l, false).await?;
                return Ok(Decided::nothing(auth, Loaded::Unchanged(answer)));
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
        let force = if effective(&plan, now) {
            Some(row.version)
        } else {
            in_force(app, &plan_id, now).await?.map(|r| r.version)
        };
        let answer = PlanVersion::of(&row, &plan, force, false);
        Ok(Decided::new(auth, ws, Loaded::New(answer)))
    }

    fn respond(&self, out: &Loaded) -> JsonText {
        json_text(out.version())
    }
}

/// Checks an uploaded plan file as `yingji plan check` checks a directory: one set made of the
/// newest stored version of every other plan and this file, through the same
/// [`yingji_plan::load_set`] (so the cross-file checks — duplicate ids, P0301 parent not
/// found — are the same code). Returns this file's result.
async fn check_with_stored(
    app: &App,
    source: &str,
    file_name: &str,
) -> Result<yingji_plan::Checked, AppError> {
    let own_id = yingji_plan::load(source).plan.map(|p| p.id().to_string());
    let mut sources: Vec<yingji_plan::Source> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    // Newest version first per plan.
    for row in app.store.list_plans("/").await? {
        if seen.contains(&row.plan_id) || own_id.as_deref() == Some(row.plan_id.as_str()) {
            continue;
        }
        seen.push(row.plan_id.clone());
        sources.push(yingji_plan::Source::new(
            format!("{} (stored version {})", row.plan_id, row.version),
            row.source.to_string(),
        ));
    }
    sources.push(yingji_plan::Source::new(file_name, source));
    let mut results = yingji_plan::load_set(&sources);
    Ok(results.pop().expect("one result per source"))
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
    let now = app.clock.now();
    let mut items = Vec::with_capacity(rows.len());
    let mut force: Option<(String, Option<i64>)> = None;
    for p in &rows {
        let f = match &force {
            Some((id, f)) if *id == p.plan_id => *f,
            _ => {
                let f = in_force(app, &p.plan_id, now).await?.map(|r| r.version);
                force = Some((p.plan_id.clone(), f));
                f
            }
        };
        let plan = app.plan(&p.plan_id, p.version).await?;
        items.push(PlanVersion::of(p, &plan, f, false));
    }
    Ok(PlanList { items })
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
    // The permission first: an unknown plan and another subtree's answer the same.
    app.require(actor, Permission::ViewPlans, &actor.scope_path, "plan")?;
    let row = row.ok_or_else(|| AppError::not_found("plan"))?;
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
