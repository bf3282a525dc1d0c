//! "Reports I owe" (我要报送的报告): the scheduled reports (定时报告) and nil reports (零报告) due
//! today from a post the signed-in person holds, each with a form by the schedule's fields and,
//! where the schedule allows it, a one-tap nil report. Submitting runs the same command as
//! `POST /api/v1/reports/submissions` (`yingji_app::reports::SubmitReport`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use yingji_app::reports::{self, ReportSubmissionRequest, SubmitReport};
use yingji_domain::reports::BoardState;

use super::{Chrome, OrPage, PageOut, Posted, Viewer, hm, render, see_other};
use crate::AppState;
use crate::error::ApiError;

/// One report owed today, with what its form needs.
pub struct OwedLine {
    pub plan_id: String,
    pub plan_title: String,
    pub schedule_id: String,
    pub schedule_name: String,
    pub party: String,
    pub to: String,
    /// RFC 3339, sent back with the form.
    pub due_at: String,
    pub due: String,
    /// `pending`, `late`, `submitted`, `nil`, `submitted_late`.
    pub state: &'static str,
    pub state_label: String,
    pub open: bool,
    pub submitted_at: String,
    pub nil_allowed: bool,
    pub fields: Vec<String>,
}

/// A report received today (or still awaited) on a board the viewer may read.
pub struct ReceivedLine {
    pub schedule_name: String,
    pub party: String,
    pub due: String,
    pub state: &'static str,
    pub state_label: String,
    pub submitted_at: String,
    pub content: String,
}

/// One plan's board of today.
pub struct BoardBlock {
    pub plan_title: String,
    pub rows: Vec<ReceivedLine>,
    pub missing: usize,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub p: Chrome,
    pub owed: Vec<OwedLine>,
    /// Today's boards of the plans owned in the viewer's scope whose reports they may view:
    /// what came in (with its text) and who is still to report.
    pub boards: Vec<BoardBlock>,
}

fn state_id(s: BoardState) -> &'static str {
    match s {
        BoardState::Submitted => "submitted",
        BoardState::Nil => "nil",
        BoardState::SubmittedLate => "submitted_late",
        BoardState::Pending => "pending",
        BoardState::Late => "late",
    }
}

/// The lines of the reports the viewer owes today (also the desk's count).
pub async fn owed_lines(state: &AppState, v: &Viewer) -> Result<Vec<OwedLine>, ApiError> {
    let l = v.lang;
    Ok(reports::owed_today(state, &v.actor)
        .await?
        .into_iter()
        .map(|o| {
            let st = state_id(o.row.state);
            OwedLine {
                plan_id: o.plan_id,
                plan_title: o.plan_title,
                schedule_id: o.row.schedule_id,
                schedule_name: o.row.schedule_name,
                party: o.row.party_name,
                to: o.to,
                due_at: o.row.due_at.to_string(),
                due: hm(o.row.due_at, &o.tz),
                state: st,
                state_label: l.tk("report_state", st),
                open: matches!(o.row.state, BoardState::Pending | BoardState::Late),
                submitted_at: o.row.submitted_at.map(|t| hm(t, &o.tz)).unwrap_or_default(),
                nil_allowed: o.nil_allowed,
                fields: o.fields,
            }
        })
        .collect())
}

async fn boards(state: &AppState, v: &Viewer) -> Result<Vec<BoardBlock>, ApiError> {
    let l = v.lang;
    let mut out = Vec::new();
    for b in reports::boards_today(state, &v.actor).await? {
        let tz = &b.plan.time.tz;
        let rows: Vec<ReceivedLine> = b
            .rows
            .into_iter()
            .map(|r| {
                let st = state_id(r.state);
                ReceivedLine {
                    schedule_name: r.schedule_name,
                    party: r.party_name,
                    due: hm(r.due_at, tz),
                    state: st,
                    state_label: l.tk("report_state", st),
                    submitted_at: r.submitted_at.map(|t| hm(t, tz)).unwrap_or_default(),
                    content: r.content.unwrap_or_default(),
                }
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push(BoardBlock {
            plan_title: b.plan.meta.title.clone(),
            missing: rows
                .iter()
                .filter(|r| r.state == "late" || r.state == "pending")
                .count(),
            rows,
        });
    }
    Ok(out)
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> impl IntoResponse {
    let built = async {
        let owed = owed_lines(&state, &v).await?;
        let boards = boards(&state, &v).await?;
        let mut p = Chrome::new(&v, "reports", v.lang.t("reports.title").to_string());
        p.live = "*".into();
        Ok::<_, ApiError>(ReportsPage { p, owed, boards })
    };
    PageOut(built.await.or_page(v.lang).map(|p| render(&p)))
}

/// POST /reports/submit: a report by the schedule's fields (`f.{field}`) or free text
/// (`content`), or with `nil=yes` a nil report.
pub async fn submit(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let fields: BTreeMap<String, String> =
        f.0.iter()
            .filter_map(|(k, val)| {
                let name = k.strip_prefix("f.")?;
                let val = val.trim();
                (!val.is_empty()).then(|| (name.to_string(), val.to_string()))
            })
            .collect();
    let req = ReportSubmissionRequest {
        plan_id: f.get("plan_id").unwrap_or_default(),
        schedule_id: f.get("schedule_id").unwrap_or_default(),
        due_at: f.get("due_at").unwrap_or_default(),
        nil: f.get("nil").as_deref() == Some("yes"),
        content: f.get("content"),
        fields,
        unit: None,
    };
    match state.execute(&v.actor, None, &SubmitReport(req)).await {
        Ok(_) => see_other("/reports"),
        Err(e) => PageOut(Err((ApiError::from(e).into(), v.lang))).into_response(),
    }
}
