//! The plan registry over HTTP: upload (checked with the same diagnostics as `plan check`),
//! versions, and reading a plan back. Incidents are pinned to the version they ran under.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_app::ErrorCode;
use yingji_domain::ActorRef;
use yingji_plan::diag::Located;
use yingji_store::{PlanRow, Row, WriteSet, fmt_ts};

use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::trust::Permission;
use crate::write::{Item, append, idempotency};
use crate::{AppState, idempotent};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadPlanRequest {
    /// The jurisdiction that owns the plan.
    pub jurisdiction_id: Uuid,
    /// The plan file's TOML text.
    pub source: String,
    /// A file name for diagnostics (default `plan.toml`).
    pub file_name: Option<String>,
}

/// The stream that records a plan's versions.
pub fn plan_stream(plan_id: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("yingji:plan:{plan_id}").as_bytes(),
    )
}

#[derive(Debug)]
pub enum Loaded {
    New(PlanRow),
    Unchanged(PlanRow),
}

/// Checks a plan text and stores it as a new version of its plan when it differs from the
/// newest. A plan with errors is refused with its diagnostics.
pub async fn load_plan(
    state: &AppState,
    actor: &ActorRef,
    jurisdiction_id: Uuid,
    source: &str,
    file_name: &str,
    idem: Option<&crate::write::Idem>,
) -> Result<(Loaded, Value), ApiError> {
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
        return Err(ApiError::new(
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
    let latest = state.store.plan_latest(&plan_id).await?;
    if let Some(l) = &latest {
        if l.jurisdiction_id != jurisdiction_id {
            return Err(ApiError::new(
                ErrorCode::PlanOwnedElsewhere,
                format!("plan id `{plan_id}` already belongs to another jurisdiction"),
            ));
        }
        if l.sha256 == sha {
            let body = plan_json(l, false);
            return Ok((Loaded::Unchanged(l.clone()), body));
        }
    }
    let now = state.clock.now();
    let row = PlanRow {
        plan_id: plan_id.clone(),
        version: latest.as_ref().map_or(1, |l| l.version + 1),
        jurisdiction_id,
        title: plan.meta.title.clone(),
        source: source.into(),
        sha256: sha,
        loaded_at: fmt_ts(now),
    };
    let body = plan_json(&row, false);
    let stream = plan_stream(&plan_id);
    let head = state.store.stream_head(stream).await?;
    let (version, hash) = head.map_or((0, None), |(v, h)| (v, Some(h)));
    let mut ws = WriteSet::default();
    append(
        &mut ws,
        stream,
        "plan",
        jurisdiction_id,
        version,
        hash.as_deref(),
        actor,
        now,
        vec![Item::new(
            "plan_version_loaded",
            &json!({ "plan_id": plan_id, "version": row.version, "sha256": row.sha256, "title": row.title }),
            None,
        )],
    );
    ws.rows.push(Row::Plan(row.clone()));
    idempotency(&mut ws, idem, actor, 201, &body, now);
    state.commit(ws).await?;
    Ok((Loaded::New(row), body))
}

fn plan_json(p: &PlanRow, with_source: bool) -> Value {
    let mut v = json!({
        "plan_id": p.plan_id, "version": p.version, "jurisdiction_id": p.jurisdiction_id,
        "title": p.title, "sha256": p.sha256, "loaded_at": p.loaded_at,
    });
    if with_source {
        v["source"] = json!(&*p.source);
    }
    v
}

#[utoipa::path(post, path = "/api/v1/plans", tag = "plans",
    request_body = UploadPlanRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "a new version was stored", body = Object),
              (status = 200, description = "the text equals the newest version; nothing stored", body = Object),
              (status = 422, description = "plan_check_failed, with the diagnostics (file:line:col) in details", body = Object)))]
pub async fn upload_plan(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<UploadPlanRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(
        &state,
        &actor,
        &headers,
        &body.sha256,
        move |idem| async move {
            let j = st
                .scoped_jurisdiction(&a, req.jurisdiction_id, "jurisdiction")
                .await?;
            st.require(&a, Permission::UploadPlans, &j.path, "jurisdiction")?;
            let file = req.file_name.as_deref().unwrap_or("plan.toml");
            let (loaded, body) = load_plan(
                &st,
                &a.as_ref(),
                req.jurisdiction_id,
                &req.source,
                file,
                idem.as_ref(),
            )
            .await?;
            Ok(match loaded {
                Loaded::New(_) => (StatusCode::CREATED, body),
                Loaded::Unchanged(_) => (StatusCode::OK, body),
            })
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "plans",
    responses((status = 200, description = "{items}: every version of the plans in the actor's subtree", body = Object)))]
pub async fn list_plans(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, ApiError> {
    state.require(&actor, Permission::ViewPlans, &actor.scope_path, "plan")?;
    let rows = state.store.list_plans(&actor.scope_path).await?;
    Ok(axum::Json(
        json!({ "items": rows.iter().map(|p| plan_json(p, false)).collect::<Vec<_>>() }),
    ))
}

async fn visible(
    state: &AppState,
    actor: &Actor,
    row: Option<PlanRow>,
) -> Result<PlanRow, ApiError> {
    let row = row.ok_or_else(|| ApiError::not_found("plan"))?;
    state.require(actor, Permission::ViewPlans, &actor.scope_path, "plan")?;
    // Plans of the actor's own subtree and of the jurisdictions above it (which apply to it).
    let owner = state
        .store
        .jurisdiction(row.jurisdiction_id)
        .await?
        .ok_or_else(|| ApiError::not_found("plan"))?;
    if actor.sees(&owner.path) || actor.scope_path.starts_with(&owner.path) {
        Ok(row)
    } else {
        Err(ApiError::not_found("plan"))
    }
}

#[utoipa::path(get, path = "/api/v1/plans/{plan_id}", tag = "plans",
    params(("plan_id" = String, Path)),
    responses((status = 200, description = "the newest version with its source", body = Object), (status = 404, body = Object)))]
pub async fn get_plan(
    State(state): State<AppState>,
    actor: Actor,
    Path(plan_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let row = visible(&state, &actor, state.store.plan_latest(&plan_id).await?).await?;
    Ok(axum::Json(plan_json(&row, true)))
}

#[utoipa::path(get, path = "/api/v1/plans/{plan_id}/versions/{version}", tag = "plans",
    params(("plan_id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = Object)))]
pub async fn get_plan_version(
    State(state): State<AppState>,
    actor: Actor,
    Path((plan_id, version)): Path<(String, i64)>,
) -> Result<axum::Json<Value>, ApiError> {
    let row = visible(
        &state,
        &actor,
        state.store.plan_version(&plan_id, version).await?,
    )
    .await?;
    Ok(axum::Json(plan_json(&row, true)))
}
