//! One error type for the API, with a stable envelope `{"error":{"code","message","details"}}`
//! and stable snake_case codes; and the JSON body extractor that makes bad JSON use it too.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use yingji_app::{AppError, ErrorCode};

/// The application's error as an HTTP answer: the code's status and the envelope
/// `{"error":{"code","message","details"}}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl std::ops::Deref for ApiError {
    type Target = AppError;
    fn deref(&self) -> &AppError {
        &self.0
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(AppError::new(code, message))
    }

    pub fn details(self, d: Value) -> Self {
        ApiError(self.0.details(d))
    }

    pub fn not_found(what: &str) -> Self {
        ApiError(AppError::not_found(what))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError(AppError::internal(e))
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.0.details.get("retry_after_s").and_then(|v| v.as_i64());
        let mut r = (self.status(), axum::Json(self.0.body())).into_response();
        // A refusal that passes (locked out, rate-limited, storage busy) says when to retry.
        if let Some(s) = retry
            && (r.status() == StatusCode::SERVICE_UNAVAILABLE
                || r.status() == StatusCode::TOO_MANY_REQUESTS)
        {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(s.max(1)),
            );
        }
        r
    }
}

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// Where a JSON text escapes a NUL character (`\u0000`, the backslash itself not escaped).
fn escaped_nul(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 6 <= b.len() {
        if b[i] == b'\\' {
            if b[i + 1..i + 6].eq_ignore_ascii_case(b"u0000") {
                return Some(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

/// The 1-based line and column of a byte offset.
fn line_col(b: &[u8], at: usize) -> (usize, usize) {
    let before = &b[..at];
    let line = before.iter().filter(|c| **c == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|c| **c != b'\n').count() + 1;
    (line, col)
}

/// A JSON body that is parsed with the error envelope on failure, and whose raw bytes are
/// hashed for idempotency.
pub struct JsonBody<T> {
    pub value: T,
    pub sha256: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The idempotency hash covers the method and path too: one key reused on another
        // endpoint is a different request, not a replay.
        let target = format!("{} {}", req.method(), req.uri().path());
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        format!("the request body is larger than {} bytes", crate::MAX_BODY),
                    )
                } else {
                    ApiError::new(ErrorCode::InvalidBody, e.body_text())
                }
            })?;
        if !content_type.starts_with("application/json") {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        if let Some(at) = escaped_nul(&bytes) {
            // No stored text may hold a NUL (PostgreSQL refuses it; no reader expects it).
            let (line, column) = line_col(&bytes, at);
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "text may not contain the NUL character (\\u0000)",
            )
            .details(json!({ "line": line, "column": column })));
        }
        let value = serde_json::from_slice::<T>(&bytes).map_err(|e| {
            let code = if e.is_data() {
                ErrorCode::InvalidRequest
            } else {
                ErrorCode::MalformedJson
            };
            ApiError::new(code, format!("the JSON body is not valid: {e}"))
                .details(json!({ "line": e.line(), "column": e.column() }))
        })?;
        let mut h = Sha256::new();
        h.update(target.as_bytes());
        h.update([0u8]);
        h.update(&bytes);
        Ok(JsonBody {
            value,
            sha256: format!("{:x}", h.finalize()),
        })
    }
}
