//! The representatives block of the incident room (群众代表): who speaks for the gathering,
//! for what, their contact masked; the form to record one and to withdraw one, offered to those
//! who may update the incident while it is open; a reveal of the contact, offered to those who
//! may reveal personal data, which asks for a reason and shows the value on its own page (the
//! same commands as the API's, the read logged).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::representatives::{
    self as app_reps, RecordRepresentative, RepresentativeRequest, RepresentativeRevealRequest,
    RevealRepresentative, WithdrawRepresentative, WithdrawRepresentativeRequest,
};

use super::{Chrome, Lang, PageOut, Posted, Viewer, hm, may, render, see_other};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

pub struct RepLine {
    pub id: String,
    pub ordinal: i64,
    pub name: String,
    pub contact: String,
    pub speaks_for: String,
    pub recorded: String,
    pub withdrawn: Option<String>,
    pub erased: bool,
}

/// What the block shows, and which forms.
pub struct RepsView {
    pub items: Vec<RepLine>,
    pub may_record: bool,
    pub may_reveal: bool,
}

impl RepsView {
    pub async fn load(
        state: &AppState,
        v: &Viewer,
        l: &Lang,
        incident_id: Uuid,
        path: &str,
        open: bool,
    ) -> Result<RepsView, ApiError> {
        let tz = yingji_app::statistics::zone();
        let items = app_reps::of_incident(state, &v.actor, incident_id)
            .await?
            .into_iter()
            .map(|r| RepLine {
                id: r.id.to_string(),
                ordinal: r.ordinal,
                name: if r.erased {
                    l.t("representative.erased").to_string()
                } else {
                    r.name
                },
                contact: r.contact.unwrap_or_default(),
                speaks_for: r.speaks_for,
                recorded: format!("{} · {}", r.recorded_by, hm(r.recorded_at, &tz)),
                withdrawn: r.withdrawn_at.map(|t| {
                    format!(
                        "{} · {}",
                        hm(t, &tz),
                        r.withdrawn_reason.unwrap_or_default()
                    )
                }),
                erased: r.erased,
            })
            .collect();
        Ok(RepsView {
            items,
            may_record: open && may(state, v, Permission::UpdateIncident, path),
            may_reveal: may(state, v, Permission::RevealPersonalData, path),
        })
    }
}

fn fail(e: ApiError, l: &'static Lang) -> Response {
    PageOut(Err((e.into(), l))).into_response()
}

fn back(id: Uuid) -> String {
    format!("/incidents/{id}#representatives")
}

/// POST /incidents/{id}/representatives: records one.
pub async fn record(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form: f } = posted;
    let cmd = RecordRepresentative {
        incident_id: id,
        req: RepresentativeRequest {
            name: f.get("name").unwrap_or_default(),
            contact: f.get("contact"),
            speaks_for: f.get("speaks_for").unwrap_or_default(),
        },
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => see_other(&back(id)),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /incidents/{id}/representatives/{rid}/withdraw.
pub async fn withdraw(
    State(state): State<AppState>,
    Path((id, rid)): Path<(Uuid, Uuid)>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form: f } = posted;
    let cmd = WithdrawRepresentative {
        incident_id: id,
        id: rid,
        req: WithdrawRepresentativeRequest {
            reason: f.get("reason").unwrap_or_default(),
        },
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => see_other(&back(id)),
        Err(e) => fail(e.into(), v.lang),
    }
}

#[derive(Template)]
#[template(path = "representative_reveal.html")]
pub struct RevealPage {
    pub p: Chrome,
    pub incident_id: String,
    pub ordinal: i64,
    pub name: String,
    pub contact: String,
    pub tel: String,
}

/// POST /incidents/{id}/representatives/{rid}/reveal: the name and contact in full, each read
/// logged with the reason given.
pub async fn reveal(
    State(state): State<AppState>,
    Path((id, rid)): Path<(Uuid, Uuid)>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form: f } = posted;
    let l = v.lang;
    let run = async {
        let reason = f.get("reason").unwrap_or_default();
        let mut values = vec![];
        for field in ["name", "contact"] {
            let cmd = RevealRepresentative {
                incident_id: id,
                id: rid,
                req: RepresentativeRevealRequest {
                    field: field.into(),
                    reason: reason.clone(),
                },
            };
            let out = state
                .execute(&v.actor, None, &cmd)
                .await?
                .output()
                .ok_or_else(|| ApiError::internal("a reveal is never replayed"))?;
            values.push(out.value.unwrap_or_default());
        }
        let ordinal = app_reps::of_incident(&state, &v.actor, id)
            .await?
            .iter()
            .find(|r| r.id == rid)
            .map(|r| r.ordinal)
            .unwrap_or_default();
        let contact = values.pop().unwrap_or_default();
        let name = values.pop().unwrap_or_default();
        let tel: String = contact
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        Ok::<_, ApiError>(RevealPage {
            p: Chrome::new(&v, "incidents", l.t("representative.revealed").to_string()),
            incident_id: id.to_string(),
            ordinal,
            name,
            tel: if contact.contains('@') {
                String::new()
            } else {
                tel
            },
            contact,
        })
    };
    match run.await {
        Ok(page) => render(&page),
        Err(e) => fail(e, l),
    }
}
