//! yingji-server: the JSON API under `/api/v1` (axum), its OpenAPI document, actors, the plan
//! registry, the ticker that marks what falls due, and the demo data. `app(state)` builds the
//! router, so tests call it without binding a socket.

pub mod api;
pub mod auth;
pub mod error;
pub mod exports;
pub mod listen;
pub mod metrics;
pub mod pages;
pub mod ratelimit;
pub mod streams;

use std::time::Duration;
use yingji_app::ErrorCode;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use yingji_app::{CaseRules, Change, JsonText, calls, demo, sealer, system_actor, write};

use crate::api::{
    attachments, cases, directory, disputes, documents, drills, followups, incidents, notify,
    openapi, plans, releases, reports, representatives, reserves, trust,
};
use crate::auth::Actor;
use crate::error::ApiError;
use yingji_app::Idem;

/// The application every handler works on.
pub type AppState = yingji_app::App;

/// The largest request body accepted (plan uploads included).
pub const MAX_BODY: usize = 1024 * 1024;

/// Answers JSON text that is already serialised, with its status.
pub fn json_response(status: StatusCode, body: JsonText) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.0,
    )
        .into_response()
}

/// The Idempotency-Key of a request, with the hash of the request it came with.
fn idem_of(headers: &HeaderMap, request_hash: &str) -> Result<Option<Idem>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1–255 visible characters",
            )
        })?;
    Ok(Some(Idem {
        key: k.to_string(),
        request_hash: request_hash.to_string(),
    }))
}

/// Runs an application command for an API request: the Idempotency-Key header, the command
/// path, and its answer (a replay is marked `Idempotent-Replayed: true`).
pub async fn run_api<C: yingji_app::Command>(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    request_hash: &str,
    cmd: C,
) -> Result<Response, ApiError> {
    let idem = idem_of(headers, request_hash)?;
    let outcome = state.execute(actor, idem.as_ref(), &cmd).await?;
    let replayed = matches!(outcome, yingji_app::Outcome::Replayed { .. });
    let status = StatusCode::from_u16(outcome.status()).unwrap_or(StatusCode::OK);
    let mut resp = json_response(status, outcome.into_body());
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// Errors produced outside the handlers (a malformed path parameter, a wrong method, a timeout)
/// get the same envelope as every other error.
async fn envelope_errors(resp: Response) -> Response {
    let s = resp.status();
    if !(s.is_client_error() || s.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let is_html = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_json || is_html {
        return resp;
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let code = match s.as_u16() {
        400 if text.starts_with("Invalid URL") => ErrorCode::InvalidPath,
        400 => ErrorCode::BadRequest,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        _ if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidRequest,
    };
    let message = if text.is_empty() {
        s.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut resp = ApiError::new(code, message).into_response();
    // The status is the one the layer answered with, not the code's usual one.
    *resp.status_mut() = s;
    resp
}

/// Headers on every response: no sniffing, no framing, no referrer, a restrictive CSP (pages
/// may widen it for their own assets), and no caching of API answers.
async fn security_headers(mut resp: Response) -> Response {
    use axum::http::header;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        if !h.contains_key(&k) {
            h.insert(k, HeaderValue::from_static(v));
        }
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    set(h, header::CACHE_CONTROL, "no-store");
    resp
}

/// Readiness: `ok` when the database answers and the last write did not fail for want of
/// storage (a full disk); otherwise 503 `unavailable` with the reason, so that a load balancer
/// stops sending requests here.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.ready().await {
        Ok(()) => axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(why) => {
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "unavailable", "reason": why })),
            )
                .into_response();
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(5));
            r
        }
    }
}

/// Liveness: the process answers (whatever the database does). A supervisor restarts a
/// process that stops answering this; a load balancer asks `/readyz` (the same as `/healthz`).
async fn livez() -> Response {
    axum::Json(serde_json::json!({ "status": "alive" })).into_response()
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/me", get(directory::me))
        .route(
            "/jurisdictions",
            get(directory::list_jurisdictions).post(directory::create_jurisdiction),
        )
        .route("/jurisdictions/{id}", get(directory::get_jurisdiction))
        .route(
            "/jurisdictions/{id}/holders",
            get(directory::list_holders).post(directory::assign_holder),
        )
        .route(
            "/jurisdictions/{id}/holders/remove",
            post(directory::remove_holder),
        )
        .route(
            "/people",
            get(directory::list_people).post(directory::create_person),
        )
        .route("/plans", get(plans::list_plans).post(plans::upload_plan))
        .route("/plans/{plan_id}", get(plans::get_plan))
        .route(
            "/plans/{plan_id}/versions/{version}",
            get(plans::get_plan_version),
        )
        .route(
            "/incidents",
            get(incidents::list_incidents).post(incidents::create_incident),
        )
        .route("/incidents/{id}", get(incidents::get_incident))
        .route("/incidents/{id}/timeline", get(incidents::get_timeline))
        .route("/incidents/{id}/proposal", get(incidents::get_proposal))
        .route("/incidents/{id}/{action}", post(incidents::incident_action))
        .route(
            "/incidents/{id}/regrade/{decision}",
            post(incidents::regrade),
        )
        .route(
            "/incidents/{id}/obligations/{oid}/fulfil",
            post(incidents::fulfil_obligation),
        )
        .route(
            "/incidents/{id}/coercive-steps/{request}/{decision}",
            post(incidents::decide_coercive_step),
        )
        .route(
            "/incidents/{id}/corrective-actions/{cid}/{action}",
            post(incidents::corrective_action),
        )
        .route(
            "/incidents/{id}/upward-reports/{rid}/submit",
            post(incidents::submit_upward_report),
        )
        .route("/tasks", get(incidents::list_tasks))
        .route("/tasks/{id}/{action}", post(incidents::task_action))
        .merge(cases::routes())
        .merge(documents::routes())
        .merge(releases::routes())
        .merge(drills::routes())
        .merge(reserves::routes())
        .merge(reserves::resource_routes())
        .merge(followups::routes())
        .merge(representatives::routes())
        .merge(attachments::routes(state.attachments.max_bytes))
        .merge(disputes::routes())
        .merge(reports::routes())
        .merge(notify::routes())
        .route("/openapi.json", get(openapi::openapi_json))
        .merge(trust::routes())
        .fallback(|| async { ApiError::not_found("route") });
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(healthz))
        .route("/livez", get(livez))
        .route("/metrics", get(metrics::metrics))
        .merge(pages::routes(state.attachments.max_bytes))
        .merge(notify::page_routes())
        .merge(releases::public_routes())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), ratelimit::Buckets::default()),
            ratelimit::limit,
        ))
        // Outside the timeout, so that a timeout's answer gets the envelope too.
        .layer(axum::middleware::map_response(envelope_errors))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(metrics::observe))
        .with_state(state)
}

pub use yingji_app::ticker::{spawn as spawn_ticker, tick};
