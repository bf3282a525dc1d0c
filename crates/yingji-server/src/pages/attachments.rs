//! The attachments block (附件) of the incident room, the case page and the drill page: the
//! record's files with their SHA-256, each downloadable; an upload form for those who may add
//! to the record, which sends the file to the API (`POST /api/v1/attachments`, the session's
//! CSRF token in `X-CSRF-Token`): one code path and one check for both.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::attachments::UploadQuery;

use super::{Lang, Viewer, hm};
use crate::AppState;
use crate::error::ApiError;

pub struct FileLine {
    pub id: String,
    pub name: String,
    pub size: String,
    pub sha256: String,
    pub personal: bool,
    pub by: String,
}

/// What the block shows.
pub struct FilesView {
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub items: Vec<FileLine>,
    pub may_add: bool,
    /// A file on this record is always personal (a petition case).
    pub always_personal: bool,
}

fn size(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / 1024.0 / 1024.0),
    }
}

impl FilesView {
    /// The block of one record; `may_add`: whether the viewer may add to it (the permission
    /// the command checks).
    pub async fn load(
        state: &AppState,
        v: &Viewer,
        _l: &Lang,
        subject_kind: &'static str,
        subject_id: Uuid,
        may_add: bool,
    ) -> Result<FilesView, ApiError> {
        let tz = yingji_app::statistics::zone();
        let items = yingji_app::attachments::of_subject(state, &v.actor, subject_kind, subject_id)
            .await?
            .into_iter()
            .map(|a| FileLine {
                id: a.id.to_string(),
                name: a.file_name,
                size: size(a.size),
                sha256: a.sha256,
                personal: a.personal,
                by: format!("{} · {}", a.by.name, hm(a.at, &tz)),
            })
            .collect();
        Ok(FilesView {
            subject_kind,
            subject_id: subject_id.to_string(),
            items,
            may_add,
            always_personal: subject_kind == "case",
        })
    }
}

/// POST /attachments/upload (the console's upload, the file as the body): the page's CSRF token
/// in `X-CSRF-Token`, then the API's own upload (`attachment.add`); the answer is the API's
/// JSON, which the page shows.
pub async fn upload(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    q: Result<Query<UploadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let sent = headers
        .get("x-csrf-token")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !super::same(sent, &v.csrf) {
        return ApiError::new(
            yingji_app::ErrorCode::CsrfFailed,
            "the form is stale: reload the page and try again",
        )
        .into_response();
    }
    let actor = v.actor;
    match crate::api::attachments::receive(&state, &actor, &headers, q, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}
