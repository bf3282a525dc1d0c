//! The instructions and meetings block (批示与会议) and the commendation and accountability
//! block (奖惩) of the incident room and the case page: each instruction with what it requires
//! and each meeting with its decisions, answered or overdue, an answer form on each open one,
//! and the forms to record them — offered exactly to those the commands accept.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::followups::{
    self as app_followups, AnswerRequest, DirectiveRequest, FollowUpRequest, OnDirective,
    RecordDirective, RecordSanction, SanctionRequest,
};

use super::{Lang, PageOut, Posted, Viewer, hm, may, see_other};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

pub struct FollowUpLine {
    pub id: String,
    pub text: String,
    pub owner: String,
    pub due: String,
    pub answer: String,
    pub overdue: bool,
    pub open: bool,
}

pub struct DirectiveLine {
    pub id: String,
    pub kind: &'static str,
    pub kind_label: String,
    pub title: String,
    pub text: String,
    pub participants: String,
    pub given: String,
    pub follow_ups: Vec<FollowUpLine>,
}

pub struct SanctionLine {
    pub kind: String,
    pub kind_label: String,
    pub concerns: String,
    pub basis: String,
    pub decided: String,
    pub decision: String,
}

/// What the two blocks show.
pub struct FollowUpsView {
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub directives: Vec<DirectiveLine>,
    pub may_record: bool,
    /// None: the viewer may not see them.
    pub sanctions: Option<Vec<SanctionLine>>,
    pub may_sanction: bool,
    pub today: String,
}

impl FollowUpsView {
    pub async fn load(
        state: &AppState,
        v: &Viewer,
        l: &Lang,
        subject_kind: &'static str,
        subject_id: Uuid,
        path: &str,
        handle: Permission,
    ) -> Result<FollowUpsView, ApiError> {
        let tz = yingji_app::statistics::zone();
        let directives = app_followups::of_subject(state, &v.actor, subject_kind, subject_id)
            .await?
            .into_iter()
            .map(|d| DirectiveLine {
                id: d.id.to_string(),
                kind: d.kind.as_str(),
                kind_label: l.tk("directive_kind", d.kind.as_str()),
                title: d.title,
                text: d.text,
                participants: d.participants.join("、"),
                given: hm(d.given_at, &tz),
                follow_ups: d
                    .follow_ups
                    .iter()
                    .map(|f| FollowUpLine {
                        id: f.id.to_string(),
                        text: f.text.clone(),
                        owner: f.owner.clone(),
                        due: f.due_at.map(|t| hm(t, &tz)).unwrap_or_default(),
                        answer: match (&f.answer, &f.answered_by, f.answered_at) {
                            (Some(a), Some(by), Some(at)) => {
                                format!("{a} · {} · {}", by.name, hm(at, &tz))
                            }
                            _ => String::new(),
                        },
                        overdue: f.overdue && f.open(),
                        open: f.open(),
                    })
                    .collect(),
            })
            .collect();
        let sees = app_followups::may_see_sanctions(state, &v.actor, path);
        let sanctions = if sees {
            Some(
                app_followups::sanctions_of(state, &v.actor, subject_kind, subject_id)
                    .await?
                    .into_iter()
                    .map(|s| SanctionLine {
                        kind_label: l.tk("sanction_kind", &s.kind),
                        kind: s.kind,
                        concerns: s.concerns,
                        basis: s.basis,
                        decided: format!("{} · {}", s.decided_by, s.decided_on),
                        decision: s.decision,
                    })
                    .collect(),
            )
        } else {
            None
        };
        Ok(FollowUpsView {
            subject_kind,
            subject_id: subject_id.to_string(),
            directives,
            may_record: may(state, v, handle, path),
            sanctions,
            may_sanction: may(state, v, Permission::ReviewIncident, path),
            today: state.clock.now().to_zoned(tz).date().to_string(),
        })
    }
}

/// The most decision rows a meeting form is read for.
const MAX_DECISIONS: usize = 50;

fn back(subject_kind: &str, id: &str) -> String {
    match subject_kind {
        "case" => format!("/cases/{id}"),
        _ => format!("/incidents/{id}"),
    }
}

fn fail(e: ApiError, l: &'static Lang) -> Response {
    PageOut(Err((e.into(), l))).into_response()
}

/// A day's end in China time, as the API's time.
fn day_end(day: &str) -> Option<String> {
    let d: jiff::civil::Date = day.trim().parse().ok()?;
    Some(format!("{d}T15:59:59Z"))
}

/// POST /followups/record: an instruction (one requirement) or a meeting (its decisions: the
/// form's three rows, and as many more as the page's script adds, `requires4`…).
pub async fn record(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let subject_kind = f.get("subject_kind").unwrap_or_default();
    let subject_id = f.get("subject_id").unwrap_or_default();
    let Ok(sid) = Uuid::parse_str(&subject_id) else {
        return fail(ApiError::not_found("record"), v.lang);
    };
    let kind = f.get("kind").unwrap_or_default();
    let mut follow_ups = vec![];
    for n in 1..=MAX_DECISIONS {
        let i = if n == 1 { String::new() } else { n.to_string() };
        let text = f.get(&format!("requires{i}")).unwrap_or_default();
        if text.trim().is_empty() {
            continue;
        }
        follow_ups.push(FollowUpRequest {
            text,
            owner: f.get(&format!("owner{i}")).unwrap_or_default(),
            due_at: f.get(&format!("due{i}")).as_deref().and_then(day_end),
        });
    }
    let req = DirectiveRequest {
        kind,
        subject_kind: subject_kind.clone(),
        subject_id: sid,
        title: f.get("title").unwrap_or_default(),
        text: f.get("text").unwrap_or_default(),
        participants: f
            .get("participants")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect(),
        given_at: None,
        follow_ups,
    };
    match state.execute(&v.actor, None, &RecordDirective(req)).await {
        Ok(_) => see_other(&back(&subject_kind, &subject_id)),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /followups/{id}/answer.
pub async fn answer(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let Ok(fid) = Uuid::parse_str(&f.get("follow_up_id").unwrap_or_default()) else {
        return fail(ApiError::not_found("follow-up"), v.lang);
    };
    let cmd = OnDirective {
        id,
        answer: Some(AnswerRequest {
            follow_up_id: fid,
            answer: f.get("answer").unwrap_or_default(),
        }),
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(done) => match done.output() {
            Some(d) => see_other(&back(&d.subject_kind, &d.subject_id.to_string())),
            None => see_other("/"),
        },
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /sanctions/record.
pub async fn sanction(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let subject_kind = f.get("subject_kind").unwrap_or_default();
    let subject_id = f.get("subject_id").unwrap_or_default();
    let Ok(sid) = Uuid::parse_str(&subject_id) else {
        return fail(ApiError::not_found("record"), v.lang);
    };
    let req = SanctionRequest {
        kind: f.get("kind").unwrap_or_default(),
        subject_kind: subject_kind.clone(),
        subject_id: sid,
        concerns: f.get("concerns").unwrap_or_default(),
        basis: f.get("basis").unwrap_or_default(),
        decided_by: f.get("decided_by").unwrap_or_default(),
        decision: f.get("decision").unwrap_or_default(),
        decided_on: f.get("decided_on").unwrap_or_default(),
    };
    match state.execute(&v.actor, None, &RecordSanction(req)).await {
        Ok(_) => see_other(&back(&subject_kind, &subject_id)),
        Err(e) => fail(e.into(), v.lang),
    }
}
