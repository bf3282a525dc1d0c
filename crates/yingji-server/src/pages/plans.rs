//! Plans: the list, each plan as a readable document (organisation, level table with colours,
//! checklists, intake fields), its `plan check` results, a simulate form and the diff between
//! versions. All from `yingji-plan`, the same code as `yingji plan check/simulate/diff`.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use yingji_plan::Plan;
use yingji_plan::reader::Sp;
use yingji_store::PlanRow;

use axum::response::Response;
use uuid::Uuid;
use yingji_app::AppError;
use yingji_app::plans::{UploadPlan, UploadPlanRequest};

use super::{
    Chrome, Form, Lang, OrPage, PageOut, Posted, Viewer, error_text, may, render, see_other,
};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

fn query(q: RawQuery) -> Form {
    Form(
        form_urlencoded::parse(q.0.unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
    )
}

/// Every version of a plan the viewer may read (the API's check: `view_plans`, owned in their
/// subtree or above them), newest first.
async fn versions(state: &AppState, v: &Viewer, plan_id: &str) -> Result<Vec<PlanRow>, ApiError> {
    Ok(yingji_app::plans::versions(state, &v.actor, plan_id).await?)
}

pub struct PlanLine {
    pub id: String,
    pub title: String,
    pub version: i64,
    pub owner: String,
    pub loaded: String,
    /// The version in force now ("v1"), or empty when none is yet.
    pub in_force: String,
    /// The newer versions waiting for their day: "v2 · 2026-04-01".
    pub scheduled: Vec<String>,
}

/// One diagnostic of a refused upload: code, file:line:col, message.
pub struct UploadDiag {
    pub code: String,
    pub at: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "plans.html")]
pub struct PlansPage {
    pub p: Chrome,
    pub plans: Vec<PlanLine>,
    /// The revisions owed by the plans with a `[review] every` cadence (this period, and a
    /// missed previous one).
    pub revisions: Vec<super::drills::DutyLine>,
    /// The jurisdictions the viewer may upload a plan for (id, name, chosen); empty: no form.
    pub upload_to: Vec<(String, String, bool)>,
    pub file_name: String,
    pub source: String,
    pub error: Option<String>,
    pub diags: Vec<UploadDiag>,
}

fn short_ts(s: &str) -> String {
    s.chars().take(16).collect::<String>().replace('T', " ")
}

async fn plans_page(
    state: &AppState,
    v: &Viewer,
    form: &Form,
    error: Option<&ApiError>,
) -> Result<PlansPage, ApiError> {
    let mut out: Vec<PlanLine> = Vec::new();
    let now = state.clock.now();
    for (row, owner) in yingji_app::plans::readable_plans(state, &v.actor).await? {
        let force = yingji_app::plans::in_force(state, &row.plan_id, now).await?;
        let force_v = force.as_ref().map(|r| r.version);
        let mut scheduled = Vec::new();
        for n in force_v.map_or(1, |f| f + 1)..=row.version {
            let plan = state.plan(&row.plan_id, n).await?;
            let on = plan
                .meta
                .effective_on
                .map(|d| d.to_string())
                .unwrap_or_default();
            scheduled.push(format!("v{n} · {on}"));
        }
        out.push(PlanLine {
            id: row.plan_id,
            title: row.title,
            version: row.version,
            owner,
            loaded: short_ts(&row.loaded_at),
            in_force: force_v.map(|f| format!("v{f}")).unwrap_or_default(),
            scheduled,
        });
    }
    let chosen = form
        .get("jurisdiction")
        .unwrap_or_else(|| v.actor.jurisdiction_id.to_string());
    let upload_to = state
        .store
        .list_jurisdictions(&v.actor.scope_path)
        .await?
        .into_iter()
        .filter(|j| may(state, v, Permission::UploadPlans, &j.path))
        .map(|j| {
            let id = j.id.to_string();
            let on = id == chosen;
            (id, j.name, on)
        })
        .collect();
    let diags = error
        .and_then(|e| e.details.get("diagnostics"))
        .and_then(|d| d.as_array())
        .map(|ds| {
            ds.iter()
                .map(|d| UploadDiag {
                    code: d["code"].as_str().unwrap_or_default().to_string(),
                    at: format!(
                        "{}:{}:{}",
                        d["file"].as_str().unwrap_or_default(),
                        d["line"].as_u64().unwrap_or(0),
                        d["column"].as_u64().unwrap_or(0)
                    ),
                    message: d["message"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PlansPage {
        p: Chrome::new(v, "plans", v.lang.t("plans.title").to_string()),
        plans: out,
        revisions: yingji_app::drills::revision_schedule(state, &v.actor)
            .await?
            .iter()
            .map(|d| super::drills::duty_line(v.lang, d))
            .collect(),
        upload_to,
        file_name: form.get("file_name").unwrap_or_default(),
        source: form.get("source").unwrap_or_default(),
        error: error.map(|e| error_text(v.lang, e)),
        diags,
    })
}

pub async fn list(State(state): State<AppState>, v: Viewer) -> impl IntoResponse {
    let r = plans_page(&state, &v, &Form::default(), None).await;
    PageOut(r.or_page(v.lang).map(|p| render(&p)))
}

/// POST /plans: uploads a plan through the API's `UploadPlan` command (checked together with
/// the stored plans); a refusal shows the diagnostics above the form, which keeps its text.
pub async fn upload(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { viewer: v, form } = posted;
    let r = async {
        let jurisdiction_id = match form.get("jurisdiction") {
            None => v.actor.jurisdiction_id,
            Some(j) => Uuid::parse_str(&j)
                .map_err(|_| AppError::invalid("jurisdiction_id", "not an id"))?,
        };
        let cmd = UploadPlan(UploadPlanRequest {
            jurisdiction_id,
            source: form.get("source").unwrap_or_default(),
            file_name: form.get("file_name"),
        });
        let out = state.execute(&v.actor, None, &cmd).await?;
        let body: serde_json::Value =
            serde_json::from_str(&out.body().0).map_err(ApiError::internal)?;
        Ok::<_, ApiError>(body["plan_id"].as_str().unwrap_or_default().to_string())
    }
    .await;
    match r {
        Ok(id) => see_other(&format!("/plans/{id}")),
        Err(e) => {
            let mut resp = PageOut(
                plans_page(&state, &v, &form, Some(&e))
                    .await
                    .or_page(v.lang)
                    .map(|p| render(&p)),
            )
            .into_response();
            if resp.status().is_success() {
                *resp.status_mut() = e.status();
            }
            resp
        }
    }
}

pub struct LevelRow {
    pub id: String,
    pub name: String,
    pub colour: String,
    pub judgement: String,
    pub rules: Vec<String>,
    pub commander: String,
    pub groups: String,
    pub extends: String,
}

pub struct GroupDoc {
    pub name: String,
    pub lead: String,
    pub members: String,
    pub duties: Vec<String>,
    /// (title, within)
    pub tasks: Vec<(String, String)>,
}

pub struct DiagView {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub line: String,
    pub help: String,
}

#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanDoc {
    pub p: Chrome,
    pub id: String,
    pub version: i64,
    /// (version, loaded at, standing: in_force | scheduled | superseded)
    pub versions: Vec<(i64, String, &'static str, String)>,
    /// (label, value)
    pub meta: Vec<(String, String)>,
    pub principles: Vec<String>,
    pub command: GroupDoc,
    pub office: Option<GroupDoc>,
    pub groups: Vec<GroupDoc>,
    pub levels: Vec<LevelRow>,
    pub first_response: Vec<(String, String, String)>,
    /// (label, kind, required)
    pub intake: Vec<(String, String, bool)>,
    pub diags: Vec<DiagView>,
    pub venues: Vec<(String, String)>,
    pub behaviours: Vec<(String, String)>,
}

fn names(l: &Lang, plan: &Plan, ids: &[Sp<String>]) -> String {
    ids.iter()
        .map(|p| plan.name_of(&p.value).unwrap_or(&p.value).to_string())
        .collect::<Vec<_>>()
        .join(l.t("sep.list"))
}

fn name1(plan: &Plan, id: Option<&Sp<String>>) -> String {
    id.map(|p| plan.name_of(&p.value).unwrap_or(&p.value).to_string())
        .unwrap_or_default()
}

async fn pick(
    state: &AppState,
    v: &Viewer,
    plan_id: &str,
    want: Option<i64>,
) -> Result<(Vec<PlanRow>, PlanRow), ApiError> {
    let rows = versions(state, v, plan_id).await?;
    let row = match want {
        Some(n) => rows.iter().find(|r| r.version == n).cloned(),
        None => rows.first().cloned(),
    }
    .ok_or_else(|| ApiError::not_found("plan version"))?;
    Ok((rows, row))
}

pub async fn document(
    State(state): State<AppState>,
    v: Viewer,
    Path(plan_id): Path<String>,
    q: RawQuery,
) -> impl IntoResponse {
    let q = query(q);
    let l = v.lang;
    let r = async {
        let want = q.get("v").and_then(|s| s.parse().ok());
        let (rows, row) = pick(&state, &v, &plan_id, want).await?;
        let force = yingji_app::plans::in_force(&state, &plan_id, state.clock.now())
            .await?
            .map(|r| r.version);
        let checked = yingji_plan::load(&row.source);
        let plan = checked
            .plan
            .as_ref()
            .ok_or_else(|| ApiError::internal("stored plan does not read"))?;
        let m = &plan.meta;
        let mut meta = Vec::new();
        let mut put = |k: &str, val: Option<String>| {
            if let Some(val) = val.filter(|s| !s.is_empty()) {
                meta.push((l.t(k).to_string(), val));
            }
        };
        put("plan.doc_number", m.doc_number.clone());
        put("plan.issuer", m.issuer.clone());
        put("plan.issued_on", m.issued_on.map(|d| d.to_string()));
        put("plan.effective_on", m.effective_on.map(|d| d.to_string()));
        put("plan.approved_by", m.approved_by.clone());
        put("plan.interpreted_by", m.interpreted_by.clone());
        put("plan.jurisdiction", m.jurisdiction.clone());
        put("plan.zone", Some(super::plain::zone(l, &plan.time.zone)));
        put(
            "plan.scope",
            plan.scope
                .headcount
                .as_ref()
                .map(|h| super::plain::headcount(l, &h.value))
                .or(plan.scope.description.clone()),
        );
        put("plan.basis", Some(m.basis.join(l.t("sep.clause"))));
        let c = &plan.command;
        let command = GroupDoc {
            name: c.name.clone(),
            lead: format!(
                "{}{}{}",
                c.commander_title,
                l.t("sep.label"),
                names(l, plan, &c.leads)
            ),
            members: format!(
                "{}{}{}{}{}",
                c.deputy_title,
                l.t("sep.label"),
                names(l, plan, &c.deputies),
                l.t("sep.clause"),
                names(l, plan, &c.members)
            ),
            duties: c.duties.clone(),
            tasks: vec![],
        };
        let office = plan.office.as_ref().map(|o| GroupDoc {
            name: o.name.clone(),
            lead: name1(plan, o.head.as_ref()),
            members: names(l, plan, &o.members),
            duties: o.duties.clone(),
            tasks: vec![],
        });
        let groups = plan
            .groups
            .iter()
            .map(|g| GroupDoc {
                name: g.name.clone(),
                lead: name1(plan, g.lead.as_ref()),
                members: names(l, plan, &g.members),
                duties: g.duties.clone(),
                tasks: g
                    .tasks
                    .iter()
                    .map(|t| (t.title.clone(), super::plain::limit(l, &t.within.value)))
                    .collect(),
            })
            .collect();
        let levels = plan
            .levels
            .iter()
            .map(|lv| LevelRow {
                id: lv.id.value.clone(),
                name: lv.name.clone(),
                colour: lv.colour.map_or("none", |c| c.as_str()).to_string(),
                judgement: lv.judgement.clone().unwrap_or_default(),
                rules: lv
                    .when
                    .iter()
                    .map(|r| super::plain::rule(l, plan, r))
                    .collect(),
                commander: names(l, plan, &lv.commander),
                groups: lv
                    .groups
                    .iter()
                    .map(|g| plan.name_of(&g.value).unwrap_or(&g.value).to_string())
                    .collect::<Vec<_>>()
                    .join(l.t("sep.list")),
                extends: lv
                    .extends
                    .as_ref()
                    .map(|e| e.value.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let index = yingji_plan::diag::LineIndex::new(&row.source);
        let diags = checked
            .diagnostics
            .iter()
            .map(|d| {
                let loc =
                    yingji_plan::diag::Located::with_index("plan.toml", &row.source, &index, d);
                DiagView {
                    severity: l.tk("severity", if d.is_error() { "error" } else { "warning" }),
                    code: d.code.id().to_string(),
                    message: loc.message,
                    line: loc.line.map(|n| n.to_string()).unwrap_or_default(),
                    help: loc.help.unwrap_or_default(),
                }
            })
            .collect();
        Ok::<_, ApiError>(PlanDoc {
            p: Chrome::new(&v, "plans", m.title.clone()),
            id: row.plan_id.clone(),
            version: row.version,
            versions: rows
                .iter()
                .map(|r| {
                    let s = yingji_app::plans::Standing::of(r.version, force).as_str();
                    (
                        r.version,
                        short_ts(&r.loaded_at),
                        s,
                        l.t(&format!("plans.standing_{s}")).to_string(),
                    )
                })
                .collect(),
            meta,
            principles: m.principles.clone(),
            command,
            office,
            groups,
            levels,
            first_response: plan
                .first_response
                .iter()
                .map(|t| {
                    (
                        plan.name_of(&t.group.value)
                            .unwrap_or(&t.group.value)
                            .to_string(),
                        t.title.clone(),
                        super::plain::limit(l, &t.within.value),
                    )
                })
                .collect(),
            intake: plan
                .intake
                .iter()
                .map(|f| {
                    (
                        f.label.clone(),
                        format!("{:?}", f.kind).to_lowercase(),
                        f.required,
                    )
                })
                .collect(),
            diags,
            venues: plan
                .venues
                .iter()
                .map(|c| (c.id.value.clone(), c.name.clone()))
                .collect(),
            behaviours: plan
                .behaviours
                .iter()
                .map(|c| (c.id.value.clone(), c.name.clone()))
                .collect(),
        })
    }
    .await;
    PageOut(r.or_page(l).map(|p| render(&p)))
}

#[derive(Template)]
#[template(path = "simulate.html")]
pub struct SimulatePage {
    pub p: Chrome,
    pub id: String,
    pub version: i64,
    pub headcount: String,
    pub venue: String,
    pub venues: Vec<(String, String)>,
    /// (id, name, checked)
    pub behaviours: Vec<(String, String, bool)>,
    pub sim: Option<yingji_plan::Simulation>,
    pub no_level: String,
}

pub async fn simulate(
    State(state): State<AppState>,
    v: Viewer,
    Path(plan_id): Path<String>,
    q: RawQuery,
) -> impl IntoResponse {
    let q = query(q);
    let l = v.lang;
    let r = async {
        let want = q.get("v").and_then(|s| s.parse().ok());
        let (_, row) = pick(&state, &v, &plan_id, want).await?;
        let plan = state.plan(&row.plan_id, row.version).await?;
        let headcount = q.get("headcount");
        let venue = q.get("venue");
        let chosen = q.all("behaviours");
        let sim = headcount
            .as_ref()
            .and_then(|h| h.parse::<u32>().ok())
            .map(|h| {
                let input = yingji_plan::Input {
                    headcount: h,
                    venue: venue.as_deref(),
                    behaviours: &chosen,
                };
                yingji_plan::simulate(&plan, &input, &state.clock.now())
            });
        let no_level = sim
            .as_ref()
            .and_then(|s| s.no_level.as_ref().map(|n| n.to_string()))
            .unwrap_or_default();
        Ok::<_, ApiError>(SimulatePage {
            p: Chrome::new(&v, "plans", l.f1("simulate.title", &plan.meta.title)),
            id: row.plan_id.clone(),
            version: row.version,
            headcount: headcount.unwrap_or_default(),
            venue: venue.unwrap_or_default(),
            venues: plan
                .venues
                .iter()
                .map(|c| (c.id.value.clone(), c.name.clone()))
                .collect(),
            behaviours: plan
                .behaviours
                .iter()
                .map(|c| {
                    (
                        c.id.value.clone(),
                        c.name.clone(),
                        chosen.contains(&c.id.value),
                    )
                })
                .collect(),
            sim,
            no_level,
        })
    }
    .await;
    PageOut(r.or_page(l).map(|p| render(&p)))
}

#[derive(Template)]
#[template(path = "diff.html")]
pub struct DiffPage {
    pub p: Chrome,
    pub id: String,
    pub from: i64,
    pub to: i64,
    pub versions: Vec<i64>,
    pub changes: Vec<yingji_plan::diff::Change>,
}

pub async fn diff(
    State(state): State<AppState>,
    v: Viewer,
    Path(plan_id): Path<String>,
    q: RawQuery,
) -> impl IntoResponse {
    let q = query(q);
    let l = v.lang;
    let r = async {
        let rows = versions(&state, &v, &plan_id).await?;
        let newest = rows.first().map_or(1, |r| r.version);
        let to: i64 = q.get("to").and_then(|s| s.parse().ok()).unwrap_or(newest);
        let from: i64 = q
            .get("from")
            .and_then(|s| s.parse().ok())
            .unwrap_or((to - 1).max(1));
        let find = |n: i64| {
            rows.iter()
                .find(|r| r.version == n)
                .ok_or_else(|| ApiError::not_found("plan version"))
        };
        let (a, b) = (find(from)?, find(to)?);
        let pa = state.plan(&a.plan_id, a.version).await?;
        let pb = state.plan(&b.plan_id, b.version).await?;
        Ok::<_, ApiError>(DiffPage {
            p: Chrome::new(&v, "plans", l.f1("diff.title", &pb.meta.title)),
            id: plan_id.clone(),
            from,
            to,
            versions: rows.iter().map(|r| r.version).collect(),
            changes: yingji_plan::diff::diff(&pa, &pb),
        })
    }
    .await;
    PageOut(r.or_page(l).map(|p| render(&p)))
}
