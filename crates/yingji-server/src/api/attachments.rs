//! Attachments (附件): a file uploaded as the request body onto an incident, a case, a dispute
//! or a drill; listed per record; downloaded byte for byte.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yingji_app::ErrorBody;
use yingji_app::attachments::{self as app_attachments, AddAttachment, Attachment, UploadQuery};
use yingji_domain::error::ErrorCode;

use crate::auth::Actor;
use crate::error::ApiError;
use crate::{AppState, run_api};

/// The routes; uploads may be as large as the deployment's limit (and a little more, so that
/// a file over it is refused with `attachment_too_large`, not cut off).
pub fn routes(max_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/attachments",
            post(upload_attachment)
                .get(list_attachments)
                .layer(DefaultBodyLimit::max(max_bytes.saturating_add(1))),
        )
        .route("/attachments/{id}", get(download_attachment))
}

#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments",
    params(UploadQuery, ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file itself: PDF, JPEG, PNG, .docx, .xlsx or UTF-8 text (judged by its content)"),
    responses((status = 201, description = "the attachment as recorded, with its SHA-256", body = Attachment),
              (status = 404, description = "the record is not in the caller's area", body = ErrorBody),
              (status = 413, description = "attachment_too_large", body = ErrorBody),
              (status = 415, description = "attachment_type: not one of the accepted types", body = ErrorBody),
              (status = 422, description = "invalid_query, invalid_kind, invalid_field (file name)", body = ErrorBody)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    q: Result<Query<UploadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    receive(&state, &actor, &headers, q, body).await
}

/// An upload, from the API or the console (which checks its own CSRF token first): the query
/// and the body become the one `attachment.add` command.
pub async fn receive(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    q: Result<Query<UploadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let max = state.attachments.max_bytes;
    let bytes = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            let size = headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(max + 1);
            ApiError::from(app_attachments::too_large(size, max))
        }
        _ => ApiError::new(ErrorCode::InvalidBody, e.body_text()),
    })?;
    let hash = {
        let mut h = Sha256::new();
        h.update(format!(
            "attachments?{}:{}:{}:{}",
            q.subject_kind, q.subject_id, q.file_name, q.personal
        ));
        h.update(&bytes);
        hex::encode(h.finalize())
    };
    run_api(
        state,
        actor,
        headers,
        &hash,
        AddAttachment::new(q, bytes.to_vec()),
    )
    .await
}

/// Which record's attachments to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `incident`, `case`, `dispute` or `drill`.
    pub subject_kind: String,
    pub subject_id: Uuid,
}

#[utoipa::path(get, path = "/api/v1/attachments", tag = "attachments",
    params(ListQuery),
    responses((status = 200, description = "the record's attachments, oldest first", body = Vec<Attachment>),
              (status = 404, body = ErrorBody),
              (status = 422, description = "invalid_kind: not a kind of record that has attachments", body = ErrorBody)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::Json<Vec<Attachment>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    Ok(axum::Json(
        app_attachments::of_subject(&state, &actor, &q.subject_kind, q.subject_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the file, byte for byte (a personal one: to those who may handle its record, logged)", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let (a, bytes) = app_attachments::download(&state, &actor, id).await?;
    Ok(crate::api::documents::file_response(
        StatusCode::OK,
        &a.media_type,
        &a.file_name,
        bytes,
        &[("x-content-sha256", a.sha256.clone())],
    ))
}
