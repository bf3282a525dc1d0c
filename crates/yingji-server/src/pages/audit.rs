//! The auditor's page (`read_audit`): the newest signed checkpoint, a check of the record of
//! the auditor's subtree on request (the same `verify_audit` as `GET /api/v1/audit/verify` and
//! `yingji audit verify`), and who read personal data in clear, when and why (the same
//! `disclosures` as `GET /api/v1/audit/disclosures`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use yingji_app::trust::{self, AuditReport};

use super::{Chrome, OrPage, PageOut, Viewer, hm, render};
use crate::AppState;
use crate::error::ApiError;

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub p: Chrome,
    /// The newest checkpoint, in words.
    pub checkpoint: Option<String>,
    /// The check, when asked for.
    pub report: Option<AuditReport>,
    pub problems: Vec<String>,
    /// (when, who, what, why)
    pub disclosures: Vec<(String, String, String, String)>,
}

#[derive(Debug, serde::Deserialize)]
pub struct AuditQuery {
    /// `1`: check the record now (it reads every event of the subtree).
    #[serde(default)]
    pub verify: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<AuditQuery>,
) -> impl IntoResponse {
    PageOut(
        build(&state, &v, q.verify.is_some())
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

async fn build(state: &AppState, v: &Viewer, verify: bool) -> Result<AuditPage, ApiError> {
    let l = v.lang;
    let tz = super::local_tz(state, v).await?;
    // The reveal log checks `read_audit` first, as the API does.
    let list = trust::disclosures(state, &v.actor, Some(200)).await?;
    let when = |at: &str| {
        at.parse::<jiff::Timestamp>()
            .map(|t| hm(t, &tz))
            .unwrap_or_else(|_| at.to_string())
    };
    let checkpoint = state
        .store
        .last_checkpoint()
        .await
        .map_err(ApiError::from)?
        .map(|c| {
            l.f2(
                "audit.checkpoint",
                format!("#{} · {}", c.id, when(&c.at)),
                c.sig,
            )
        });
    let report = if verify {
        Some(trust::verify_audit(state, &v.actor, false).await?)
    } else {
        None
    };
    let problems = report
        .as_ref()
        .map(|r| {
            r.broken
                .iter()
                .map(|b| {
                    format!(
                        "{} {}{} — {}",
                        l.tk("stream", &b.stream_kind),
                        b.stream_id,
                        b.seq.map(|s| format!(" #{s}")).unwrap_or_default(),
                        l.tk("audit_problem", b.code)
                    )
                })
                // The checkpoints' own problems are described in English (their detail names
                // checkpoint numbers and row counts); the catalogue says what they are.
                .chain(
                    r.checkpoint_problems
                        .iter()
                        .map(|p| l.f1("audit.checkpoint_problem", p)),
                )
                .collect()
        })
        .unwrap_or_default();
    let disclosures = list
        .items
        .iter()
        .map(|d| {
            (
                when(&d.at),
                d.actor_name.clone(),
                format!(
                    "{} · {}",
                    l.tk("audit_subject", &d.subject),
                    // `petitioners[0].contact` → the field's name.
                    l.tk(
                        "audit_field",
                        d.field.rsplit('.').next().unwrap_or(&d.field)
                    )
                ),
                d.reason.clone(),
            )
        })
        .collect();
    Ok(AuditPage {
        p: Chrome::new(v, "audit", l.t("audit.title").to_string()),
        checkpoint,
        report,
        problems,
        disclosures,
    })
}
