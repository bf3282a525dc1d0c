//! The intake form, generated from the plan's intake fields. The officer sees the level the plan
//! proposes and the rule that matched (live as they type, and on "check the level" without
//! JavaScript) before confirming the report. Confirming calls the same `report_core` as
//! `POST /api/v1/incidents`, with the form's one-time key as the Idempotency-Key so that a
//! double submission records one report.

use std::collections::BTreeMap;
use yingji_app::{AppError, ErrorCode};

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;
use yingji_domain::incident::{Proposal, propose};
use yingji_plan::Plan;
use yingji_plan::model::FieldKind;

use super::{Chrome, Form, OrPage, PageOut, Posted, Viewer, error_text, render, see_other};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;
use yingji_app::Idem;
use yingji_app::incidents::{NewIncidentRequest, ReportIncident};

/// One input of the generated form.
pub struct Field {
    /// The form name (`headcount`, `venue`, `behaviours` or `f.<id>`).
    pub name: String,
    pub id: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    /// text, long_text, integer, datetime, choice, headcount, venue, behaviours
    pub kind: &'static str,
    pub value: String,
    /// (value, label, selected)
    pub options: Vec<(String, String, bool)>,
}

pub struct ProposalView {
    pub level: Option<(String, String, String)>,
    pub rule: Option<String>,
    pub judgement: Option<String>,
    pub reason: Option<String>,
}

impl From<Proposal> for ProposalView {
    fn from(p: Proposal) -> Self {
        ProposalView {
            level: p
                .level
                .map(|l| (l.id, l.name, l.colour.unwrap_or_else(|| "none".to_string()))),
            rule: p.rule,
            judgement: p.judgement,
            reason: p.reason,
        }
    }
}

#[derive(Template)]
#[template(path = "intake.html")]
pub struct IntakePage {
    pub p: Chrome,
    /// (plan id, title, selected)
    pub plans: Vec<(String, String, bool)>,
    /// (jurisdiction id, name, selected)
    pub jurisdictions: Vec<(String, String, bool)>,
    pub plan_id: String,
    pub title: String,
    pub location: String,
    pub kind: String,
    pub drill: bool,
    pub fields: Vec<Field>,
    pub proposal: Option<ProposalView>,
    pub error: Option<String>,
    pub idem: String,
}

#[derive(Template)]
#[template(path = "proposal.html")]
pub struct ProposalFragment {
    pub p: Chrome,
    pub proposal: Option<ProposalView>,
}

/// Plans the viewer may report under: owned by their jurisdiction, one above it, or one below.
/// The plans the viewer may report under (in force, owned in their jurisdiction, above it or
/// below it), the viewer's own jurisdiction's first, then the nearest above, then those below:
/// the form opens on the first.
pub(crate) async fn usable_plans(
    state: &AppState,
    v: &Viewer,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String, (u8, usize))> = Vec::new();
    for row in state.store.list_plans("/").await? {
        if out.iter().any(|(id, _, _)| *id == row.plan_id) {
            continue; // versions come newest first
        }
        let Some(owner) = state.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !(v.actor.scope_path.starts_with(&owner.path) || v.actor.sees(&owner.path)) {
            continue;
        }
        // Only plans with a version in force; the title of that version.
        if let Some(force) =
            yingji_app::plans::in_force(state, &row.plan_id, state.clock.now()).await?
        {
            // Own jurisdiction: (0, 0); above: (1, how far up); below: (2, how deep).
            let rank = if owner.path == v.actor.scope_path {
                (0, 0)
            } else if v.actor.scope_path.starts_with(&owner.path) {
                (1, v.actor.scope_path.len() - owner.path.len())
            } else {
                (2, owner.path.len())
            };
            out.push((row.plan_id, force.title, rank));
        }
    }
    out.sort_by_key(|(_, _, rank)| *rank);
    Ok(out.into_iter().map(|(id, title, _)| (id, title)).collect())
}

/// The values a form was filled with (a GET's query or a POST's body).
struct Filled<'a>(&'a Form);

impl Filled<'_> {
    fn get(&self, k: &str) -> String {
        self.0.get(k).unwrap_or_default()
    }
}

fn fields_for(plan: &Plan, filled: &Filled<'_>, now_local: &str) -> Vec<Field> {
    plan.intake
        .iter()
        .map(|f| {
            let (name, kind) = match f.kind {
                FieldKind::Headcount => ("headcount".to_string(), "headcount"),
                FieldKind::Venue => ("venue".to_string(), "venue"),
                FieldKind::Behaviours => ("behaviours".to_string(), "behaviours"),
                FieldKind::Text => (format!("f.{}", f.id.value), "text"),
                FieldKind::LongText => (format!("f.{}", f.id.value), "long_text"),
                FieldKind::Integer => (format!("f.{}", f.id.value), "integer"),
                FieldKind::Datetime => (format!("f.{}", f.id.value), "datetime"),
                FieldKind::Choice => (format!("f.{}", f.id.value), "choice"),
            };
            let mut value = filled.get(&name);
            if value.is_empty() && kind == "datetime" {
                value = now_local.to_string();
            }
            let chosen = filled.0.all(&name);
            let options = match f.kind {
                FieldKind::Venue => plan
                    .venues
                    .iter()
                    .map(|c| (c.id.value.clone(), c.name.clone(), value == c.id.value))
                    .collect(),
                FieldKind::Behaviours => plan
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
                FieldKind::Choice => f
                    .options
                    .iter()
                    .map(|o| (o.clone(), o.clone(), value == *o))
                    .collect(),
                _ => vec![],
            };
            Field {
                id: format!("in-{}", f.id.value),
                name,
                label: f.label.clone(),
                help: f.help.clone(),
                required: f.required && kind != "behaviours",
                kind,
                value,
                options,
            }
        })
        .collect()
}

fn headcount_of(form: &Form) -> Option<u32> {
    form.get("headcount").and_then(|h| h.parse().ok())
}

fn proposal_for(l: &super::i18n::Lang, plan: &Plan, form: &Form) -> Option<ProposalView> {
    let headcount = headcount_of(form)?;
    let venue = form.get("venue");
    let behaviours = form.all("behaviours");
    let p = propose(plan, headcount, venue.as_deref(), &behaviours);
    let rule = super::plain::proposal_rule(l, plan, &p);
    let mut view = ProposalView::from(p);
    view.rule = rule;
    Some(view)
}

async fn build(
    state: &AppState,
    v: &Viewer,
    form: &Form,
    with_proposal: bool,
    error: Option<String>,
) -> Result<IntakePage, ApiError> {
    let l = v.lang;
    // The form is for people who may report (the command checks again on submit).
    if !v.pages.contains(&"report") {
        return Err(AppError::forbidden(Permission::ReportIncident).into());
    }
    let plans = usable_plans(state, v).await?;
    let plan_id = form
        .get("plan")
        .filter(|p| plans.iter().any(|(id, _)| id == p))
        .or_else(|| plans.first().map(|(id, _)| id.clone()))
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownPlan, "no plan is loaded"))?;
    let row = yingji_app::plans::in_force(state, &plan_id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::PlanNotInForce, "no version is in force yet"))?;
    let plan = state.plan(&row.plan_id, row.version).await?;
    let now_local = state
        .clock
        .now()
        .to_zoned(plan.time.tz.clone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let jsel = form
        .get("jurisdiction")
        .unwrap_or_else(|| v.actor.jurisdiction_id.to_string());
    let jurisdictions = state
        .store
        .list_jurisdictions(&v.actor.scope_path)
        .await?
        .into_iter()
        .map(|j| {
            let id = j.id.to_string();
            let sel = id == jsel;
            (id, j.name, sel)
        })
        .collect();
    let filled = Filled(form);
    let proposal = if with_proposal {
        proposal_for(l, &plan, form)
    } else {
        None
    };
    Ok(IntakePage {
        p: Chrome::new(v, "report", l.t("intake.title").to_string()),
        plans: plans
            .into_iter()
            .map(|(id, t)| {
                let sel = id == plan_id;
                (id, t, sel)
            })
            .collect(),
        jurisdictions,
        title: filled.get("title"),
        location: filled.get("location"),
        kind: form.get("kind").unwrap_or_else(|| "event".into()),
        drill: form.get("drill").is_some(),
        fields: fields_for(&plan, &filled, &now_local),
        proposal,
        error,
        idem: form
            .get("idem")
            .unwrap_or_else(|| Uuid::now_v7().to_string()),
        plan_id,
    })
}

/// GET /report: the empty form (`?plan=` picks another plan).
pub async fn form(
    State(state): State<AppState>,
    v: Viewer,
    q: axum::extract::RawQuery,
) -> impl IntoResponse {
    let form = Form(
        form_urlencoded::parse(q.0.unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
    );
    PageOut(
        build(&state, &v, &form, false, None)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

/// GET /report/proposal: the proposal panel alone, for the form's script.
pub async fn proposal(
    State(state): State<AppState>,
    v: Viewer,
    q: axum::extract::RawQuery,
) -> Response {
    let form = Form(
        form_urlencoded::parse(q.0.unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
    );
    let plan = match form.get("plan") {
        Some(id) => match yingji_app::plans::in_force(&state, &id, state.clock.now()).await {
            Ok(Some(row)) => state.plan(&row.plan_id, row.version).await.ok(),
            _ => None,
        },
        None => None,
    };
    let proposal = plan.and_then(|p| proposal_for(v.lang, &p, &form));
    render(&ProposalFragment {
        p: Chrome::new(&v, "report", String::new()),
        proposal,
    })
}

/// POST /report: `step=preview` shows the proposal; `step=confirm` records the report.
pub async fn submit(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { viewer: v, form } = posted;
    let l = v.lang;
    if form.get("step").as_deref() != Some("confirm") {
        return PageOut(
            build(&state, &v, &form, true, None)
                .await
                .or_page(l)
                .map(|p| render(&p)),
        )
        .into_response();
    }
    match confirm(&state, &v, &form).await {
        Ok(id) => see_other(&format!("/incidents/{id}")),
        Err(e) => {
            let msg = error_text(l, &e);
            let mut r = PageOut(
                build(&state, &v, &form, true, Some(msg))
                    .await
                    .or_page(l)
                    .map(|p| render(&p)),
            )
            .into_response();
            if r.status().is_success() {
                *r.status_mut() = e.status();
            }
            r
        }
    }
}

async fn confirm(state: &AppState, v: &Viewer, form: &Form) -> Result<Uuid, ApiError> {
    let bad = |field: &str| {
        ApiError::new(ErrorCode::MissingField, format!("`{field}` is required"))
            .details(serde_json::json!({ "field": field }))
    };
    let plan_id = form.get("plan").ok_or_else(|| bad("plan"))?;
    let jurisdiction_id = form
        .get("jurisdiction")
        .and_then(|j| Uuid::parse_str(&j).ok())
        .unwrap_or(v.actor.jurisdiction_id);
    let headcount = headcount_of(form).ok_or_else(|| bad("headcount"))?;
    let row = yingji_app::plans::in_force(state, &plan_id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::PlanNotInForce, "no version is in force yet"))?;
    let plan = state.plan(&row.plan_id, row.version).await?;
    let mut fields: BTreeMap<String, Value> = BTreeMap::new();
    for f in &plan.intake {
        let name = format!("f.{}", f.id.value);
        let Some(v) = form.get(&name) else { continue };
        let value = match f.kind {
            FieldKind::Integer => Value::from(v.parse::<u64>().map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidIntakeField,
                    format!("`{}` must be a whole number", f.id.value),
                )
            })?),
            _ => Value::from(v),
        };
        fields.insert(f.id.value.clone(), value);
    }
    let title = form.get("title").ok_or_else(|| bad("title"))?;
    let req = NewIncidentRequest {
        jurisdiction_id,
        plan_id,
        kind: form.get("kind").unwrap_or_else(|| "event".into()),
        title,
        headcount,
        venue: form.get("venue"),
        behaviours: form.all("behaviours"),
        location: form.get("location"),
        fields,
        drill: form.get("drill").is_some(),
    };
    // The form's one-time key makes a double submission record one report.
    let idem = form.get("idem").map(|k| Idem {
        key: format!("console-report:{k}"),
        request_hash: "console-report".into(),
    });
    let outcome = state
        .execute(&v.actor, idem.as_ref(), &ReportIncident(req))
        .await?;
    let body: Value = serde_json::from_str(&outcome.body().0).map_err(ApiError::internal)?;
    body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::internal("a report without an id"))
}
