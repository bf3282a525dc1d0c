//! The documents block of the incident room and the case page: the documents issued from the
//! record (number, title, who, when, hash) and a button per document the viewer may issue now.
//! Issuing posts to `/incidents/{id}/documents` or `/cases/{id}/documents`, which run the same
//! commands as the API (`yingji_app::documents`) and answer the .docx as a download.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::documents::{
    DOCX, DocumentRequest, IssueCaseDocument, IssueIncidentDocument, IssuedFile,
};
use yingji_domain::document::IssuedDocument;

use super::{Lang, PageOut, Posted, hm};
use crate::AppState;
use crate::api::documents::file_response;
use crate::error::ApiError;

/// One document the viewer may issue: (kind, upward report id or empty, label).
pub struct Offer {
    pub kind: &'static str,
    pub report_id: String,
    pub label: String,
}

pub struct IssuedLine {
    pub kind: String,
    pub number: String,
    pub title: String,
    pub by: String,
    pub at: String,
    pub sha256: String,
}

/// What the block shows.
pub struct DocsView {
    /// Where the issue form posts.
    pub action: String,
    pub offers: Vec<Offer>,
    pub issued: Vec<IssuedLine>,
}

impl DocsView {
    pub fn new(
        l: &Lang,
        action: String,
        offers: Vec<(&'static str, Option<Uuid>, String)>,
        issued: &[IssuedDocument],
    ) -> DocsView {
        let tz = yingji_app::statistics::zone();
        DocsView {
            action,
            offers: offers
                .into_iter()
                .map(|(kind, rid, extra)| Offer {
                    kind,
                    report_id: rid.map(|r| r.to_string()).unwrap_or_default(),
                    label: if extra.is_empty() {
                        l.t(&format!("document.kind_{kind}")).to_string()
                    } else {
                        format!("{} · {extra}", l.t(&format!("document.kind_{kind}")))
                    },
                })
                .collect(),
            issued: issued
                .iter()
                .rev()
                .map(|d| IssuedLine {
                    kind: l.t(&format!("document.kind_{}", d.kind)).to_string(),
                    number: d.number.clone(),
                    title: d.title.clone(),
                    by: d.issued_by.name.clone(),
                    at: hm(d.issued_at, &tz),
                    sha256: d.sha256.clone(),
                })
                .collect(),
        }
    }
}

fn answer(out: Result<IssuedFile, ApiError>, l: &'static Lang) -> Response {
    match out {
        Ok(f) => file_response(
            StatusCode::CREATED,
            DOCX,
            &f.filename,
            f.bytes,
            &[("x-document-sha256", f.document.sha256.clone())],
        ),
        Err(e) => PageOut(Err((e.into(), l))).into_response(),
    }
}

fn request(p: &Posted) -> Result<DocumentRequest, ApiError> {
    let report_id = match p.form.get("report_id").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Uuid::parse_str(&s).map_err(|_| {
            ApiError::new(
                yingji_app::ErrorCode::InvalidField,
                "`report_id` is not an id",
            )
        })?),
    };
    Ok(DocumentRequest {
        kind: p.form.get("kind").unwrap_or_default(),
        report_id,
    })
}

async fn run<C>(state: &AppState, p: &Posted, cmd: C) -> Result<IssuedFile, ApiError>
where
    C: yingji_app::Command<Output = IssuedFile>,
{
    state
        .execute(&p.viewer.actor, None, &cmd)
        .await?
        .output()
        .ok_or_else(|| ApiError::internal("a document was replayed"))
}

/// POST /incidents/{id}/documents (kind, report_id).
pub async fn incident(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    posted: Posted,
) -> Response {
    let l = posted.viewer.lang;
    let out = match request(&posted) {
        Ok(request) => run(&state, &posted, IssueIncidentDocument { id, request }).await,
        Err(e) => Err(e),
    };
    answer(out, l)
}

/// POST /cases/{id}/documents (kind).
pub async fn case(State(state): State<AppState>, Path(id): Path<Uuid>, posted: Posted) -> Response {
    let l = posted.viewer.lang;
    let out = match request(&posted) {
        Ok(request) => run(&state, &posted, IssueCaseDocument { id, request }).await,
        Err(e) => Err(e),
    };
    answer(out, l)
}
