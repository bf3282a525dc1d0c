//! One error type for the API, with a stable envelope `{"error":{"code","message","details"}}`
//! and stable snake_case codes; and the JSON body extractor that makes bad JSON use it too.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use yingji_domain::incident::IncidentError;
use yingji_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn details(mut self, d: Value) -> Self {
        self.details = d;
        self
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        // Logged once here; the client sees no internals.
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }

    pub fn body(&self) -> Value {
        let mut e = json!({ "code": self.code, "message": self.message });
        if !self.details.is_null() {
            e["details"] = self.details.clone();
        }
        json!({ "error": e })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::Conflict(yingji_store::Conflict::Idempotency) => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_race",
                "a request with the same Idempotency-Key is being handled",
            ),
            StoreError::Conflict(yingji_store::Conflict::TokenTaken) => {
                ApiError::new(StatusCode::CONFLICT, "token_taken", "choose another token")
            }
            StoreError::Conflict(c) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("a concurrent change got there first ({c:?}); retry"),
            ),
            StoreError::Other(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}

impl From<IncidentError> for ApiError {
    fn from(e: IncidentError) -> Self {
        let status = match e {
            IncidentError::IllegalTransition { .. }
            | IncidentError::IllegalTaskTransition { .. }
            | IncidentError::AlreadyFulfilled { .. }
            | IncidentError::AlreadyEscalated
            | IncidentError::NoRegradePending
            | IncidentError::OpenTasks { .. }
            | IncidentError::OpenObligations { .. }
            | IncidentError::NoWarning => StatusCode::CONFLICT,
            IncidentError::UnknownTask { .. } | IncidentError::UnknownObligation { .. } => {
                StatusCode::NOT_FOUND
            }
            IncidentError::WrongApprover { .. } => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let details = match &e {
            IncidentError::MissingIntakeField { field, label } => {
                json!({ "field": field, "label": label })
            }
            IncidentError::UnknownIntakeField { field }
            | IncidentError::InvalidIntakeField { field, .. } => json!({ "field": field }),
            _ => Value::Null,
        };
        ApiError::new(status, e.code(), e.to_string()).details(details)
    }
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
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("the request body is larger than {} bytes", crate::MAX_BODY),
                    )
                } else {
                    ApiError::bad_request("invalid_body", e.body_text())
                }
            })?;
        if !content_type.starts_with("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let value = serde_json::from_slice::<T>(&bytes).map_err(|e| {
            let code = if e.is_data() {
                "invalid_request"
            } else {
                "malformed_json"
            };
            ApiError::bad_request(code, format!("the JSON body is not valid: {e}"))
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
