//! The application's one error type: a code from the closed list ([`ErrorCode`]), an English
//! message for developers, details for machines, and — for internal errors — the cause chain,
//! which is logged and printed by the CLI but never sent to a client.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use yingji_domain::error::ErrorCode;
use yingji_domain::policy::Permission;
use yingji_store::{Conflict, StoreError};

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
    /// For internal errors: what went wrong, with its causes (never shown to clients).
    cause: Option<String>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            details: Value::Null,
            cause: None,
        }
    }

    pub fn details(mut self, d: Value) -> Self {
        self.details = d;
        self
    }

    /// The HTTP status of the code.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn not_found(what: &str) -> Self {
        AppError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// A field's error, naming the field in `details.field`.
    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        AppError::new(code, message).details(json!({ "field": field }))
    }

    /// `field` is required.
    pub fn missing(field: &str) -> Self {
        AppError::field(
            ErrorCode::MissingField,
            field,
            format!("`{field}` is required"),
        )
    }

    /// `field` is not valid: `why`.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` is not valid: {why}"),
        )
    }

    pub fn forbidden(p: Permission) -> Self {
        AppError::new(
            ErrorCode::Forbidden,
            format!(
                "you do not hold a role with the permission `{}` in this jurisdiction",
                p.id()
            ),
        )
        .details(json!({ "permission": p.id() }))
    }

    /// An internal error: logged once here with its cause; clients see only that it
    /// happened, the CLI prints the cause.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let cause = format!("{e:#}");
        // One line per burst of identical errors (`folded`: how many were not logged since).
        if let Some(folded) = yingji_store::burst::log_once(&cause) {
            tracing::error!(error = %cause, folded, "internal error");
        }
        AppError {
            code: ErrorCode::Internal,
            message: "an internal error occurred; it has been logged".into(),
            details: Value::Null,
            cause: Some(cause),
        }
    }

    /// What caused an internal error (for operators and the CLI).
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The API's envelope: `{"error":{"code","message","details"}}`.
    pub fn body(&self) -> Value {
        serde_json::to_value(ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                details: (!self.details.is_null()).then(|| self.details.clone()),
            },
        })
        .expect("an error envelope serialises")
    }
}

/// The envelope of every error answer: `{"error":{"code","message","details"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a code from the closed list, a message for developers (English), and
/// details for machines when there are any.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// For example `{"field": "reason"}`, `{"permission": "handle_incident"}`, `{"line": 1,
    /// "column": 7}`, `{"diagnostics": [...]}`; left out when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub details: Option<Value>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{}: {c}", self.code),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for AppError {}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("record"),
            StoreError::Conflict(Conflict::Idempotency) => AppError::new(
                ErrorCode::IdempotencyRace,
                "a request with the same Idempotency-Key is being handled",
            ),
            StoreError::Conflict(Conflict::TokenTaken) => {
                AppError::new(ErrorCode::TokenTaken, "choose another token")
            }
            StoreError::Conflict(Conflict::LoginTaken) => {
                AppError::new(ErrorCode::LoginTaken, "this login is taken")
            }
            StoreError::Conflict(Conflict::AlreadySubmitted) => {
                AppError::new(ErrorCode::AlreadySubmitted, "this report is already in")
            }
            StoreError::Conflict(Conflict::RoundExists) => AppError::new(
                ErrorCode::RoundExists,
                "a screening round for this period already exists",
            ),
            StoreError::Conflict(Conflict::DeliveryNotDead) => AppError::new(
                ErrorCode::DeliveryNotDead,
                "only a dead delivery can be retried",
            ),
            StoreError::Conflict(c) => AppError::new(
                ErrorCode::Conflict,
                format!("a concurrent change got there first ({c:?}); retry"),
            ),
            StoreError::Unavailable(why) => {
                if let Some(folded) = yingji_store::burst::log_once(&why) {
                    tracing::warn!(cause = %why, folded, "storage unavailable");
                }
                AppError::new(
                    ErrorCode::Unavailable,
                    "the storage cannot serve this request now; retry shortly",
                )
                .details(serde_json::json!({ "retry_after_s": 5 }))
            }
            StoreError::Other(e) if yingji_store::is_unavailable_text(&format!("{e:#}")) => {
                let why = format!("{e:#}");
                if let Some(folded) = yingji_store::burst::log_once(&why) {
                    tracing::warn!(cause = %why, folded, "storage unavailable");
                }
                AppError::new(
                    ErrorCode::Unavailable,
                    "the storage cannot serve this request now; retry shortly",
                )
                .details(serde_json::json!({ "retry_after_s": 5 }))
            }
            StoreError::Other(e) => AppError::internal(format!("{e:#}")),
            StoreError::SchemaBehind(why) => AppError::internal(why),
        }
    }
}

/// A domain error: its code, its message, and the details a client needs to point at the
/// field.
macro_rules! from_domain {
    ($t:ty, $details:expr) => {
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                let details: Value = $details(&e);
                AppError::new(e.code(), e.to_string()).details(details)
            }
        }
    };
}

from_domain!(
    yingji_domain::incident::IncidentError,
    |e: &yingji_domain::incident::IncidentError| {
        use yingji_domain::incident::IncidentError as E;
        match e {
            E::MissingIntakeField { field, label } => json!({ "field": field, "label": label }),
            E::UnknownIntakeField { field }
            | E::InvalidIntakeField { field, .. }
            | E::MissingReportField { field }
            | E::UnknownReportField { field } => json!({ "field": field }),
            _ => Value::Null,
        }
    }
);
from_domain!(
    yingji_domain::case::CaseError,
    |e: &yingji_domain::case::CaseError| {
        use yingji_domain::case::CaseError as E;
        match e {
            E::MissingField { field } => json!({ "field": field }),
            E::ExtensionTooLong { asked, max } => json!({ "asked": asked, "max": max }),
            E::ExtensionAfterDue { due_at } => json!({ "due_at": due_at }),
            _ => Value::Null,
        }
    }
);
from_domain!(
    yingji_domain::dispute::DisputeError,
    |_: &yingji_domain::dispute::DisputeError| Value::Null
);
from_domain!(
    yingji_domain::release::ReleaseError,
    |e: &yingji_domain::release::ReleaseError| match e {
        yingji_domain::release::ReleaseError::Missing(field) => json!({ "field": field }),
        _ => Value::Null,
    }
);
from_domain!(
    yingji_domain::drill::DrillError,
    |e: &yingji_domain::drill::DrillError| match e {
        yingji_domain::drill::DrillError::Missing(field) => json!({ "field": field }),
        _ => Value::Null,
    }
);
from_domain!(
    yingji_domain::reserve::ReserveError,
    |e: &yingji_domain::reserve::ReserveError| match e {
        yingji_domain::reserve::ReserveError::Missing(field) => json!({ "field": field }),
        yingji_domain::reserve::ReserveError::Insufficient { have, asked } => {
            json!({ "on_hand": have, "asked": asked })
        }
        _ => Value::Null,
    }
);
from_domain!(
    yingji_domain::followup::FollowUpError,
    |e: &yingji_domain::followup::FollowUpError| match e {
        yingji_domain::followup::FollowUpError::Missing(field) => json!({ "field": field }),
        _ => Value::Null,
    }
);
from_domain!(
    yingji_domain::callout::CalloutError,
    |_: &yingji_domain::callout::CalloutError| Value::Null
);
from_domain!(
    yingji_domain::roster::RosterError,
    |_: &yingji_domain::roster::RosterError| Value::Null
);
