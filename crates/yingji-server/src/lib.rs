//! yingji-server: the JSON API under `/api/v1` (axum), its OpenAPI document, actors, the plan
//! registry, the ticker that marks what falls due, and the demo data. `app(state)` builds the
//! router, so tests call it without binding a socket.

pub mod auth;
pub mod calls;
pub mod cases;
pub mod console;
pub mod demo;
pub mod directory;
mod disputes;
pub mod error;
mod incidents;
pub mod notify_api;
pub mod openapi;
mod plans;
mod reports;
pub mod sealer;
pub mod trust;
pub mod write;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use uuid::Uuid;
use yingji_domain::clock::Clock;
use yingji_domain::{ActorRef, PersonRef};
use yingji_plan::Plan;
use yingji_store::Store;

use crate::auth::Actor;
use crate::error::ApiError;
use crate::write::Idem;

/// The largest request body accepted (plan uploads included).
pub const MAX_BODY: usize = 1024 * 1024;

/// Parsed plans by (plan id, version).
type PlanCache = HashMap<(String, i64), Arc<Plan>>;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    plans: Arc<RwLock<PlanCache>>,
    /// Sign-in settings and the roles (configurable).
    pub trust: Arc<trust::TrustConfig>,
    /// Seals personal data at rest.
    pub sealer: Arc<sealer::Sealer>,
    /// What was committed, for live pages (server-sent events). Fed by `AppState::commit`.
    changes: tokio::sync::broadcast::Sender<Change>,
    /// A per-process secret that binds the console's CSRF tokens to a session.
    console_key: Arc<[u8; 32]>,
    /// Case rules per jurisdiction and the working-day calendar (loaded at start).
    pub case_rules: Arc<CaseRules>,
    /// The notification worker (channels, configuration, ack link keys, live inbox).
    pub notify: Arc<yingji_notify::Worker>,
}

/// One stream that a commit advanced: enough for a live page to decide whether to refresh.
#[derive(Debug, Clone)]
pub struct Change {
    pub stream_id: Uuid,
    pub stream_kind: String,
    pub jurisdiction_id: Uuid,
}

/// 32 random bytes from the operating system's generator (through UUIDv4, so that no crate
/// is added for it).
fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    k[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    k
}

/// The case configuration and the working-day calendar.
pub struct CaseRules {
    pub config: yingji_domain::case::CaseConfig,
    pub calendar: yingji_domain::calendar::Calendar,
}

impl Default for CaseRules {
    fn default() -> Self {
        CaseRules {
            config: Default::default(),
            calendar: yingji_domain::calendar::Calendar::builtin(),
        }
    }
}

/// The actor under which the server itself records what falls due.
pub fn system_actor() -> ActorRef {
    ActorRef {
        person_id: Uuid::from_u128(1),
        name: "yingji".into(),
    }
}

impl AppState {
    /// A state with the default roles, an in-memory data key and the zero-configuration
    /// notifier (in-app inbox, webhook and robot channels; a random link-signing key); `serve`
    /// sets the configured ones with `with_trust`, `with_sealer` and `with_notify`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        let cfg = yingji_notify::NotifyConfig {
            secret: format!("{}{}", Uuid::now_v7().simple(), Uuid::now_v7().simple()),
            ..Default::default()
        };
        Self::with_notify(store, clock, cfg).expect("the default notifier starts")
    }

    /// A state with a notifier configured from `cfg`.
    pub fn with_notify(
        store: Store,
        clock: Arc<dyn Clock>,
        cfg: yingji_notify::NotifyConfig,
    ) -> anyhow::Result<Self> {
        let notify = Arc::new(yingji_notify::Worker::new(
            store.clone(),
            clock.clone(),
            cfg,
        )?);
        let state = AppState {
            store,
            clock,
            plans: Arc::new(RwLock::new(HashMap::new())),
            trust: Arc::new(trust::TrustConfig::default()),
            sealer: Arc::new(sealer::Sealer::ephemeral()),
            changes: tokio::sync::broadcast::channel(1024).0,
            console_key: Arc::new(random_key()),
            case_rules: Arc::new(CaseRules::default()),
            notify,
        };
        state.give_notifier_the_key();
        Ok(state)
    }

    pub fn with_trust(mut self, t: trust::TrustConfig) -> Self {
        self.trust = Arc::new(t);
        self
    }

    pub fn with_sealer(mut self, s: sealer::Sealer) -> Self {
        self.sealer = Arc::new(s);
        self.give_notifier_the_key();
        self
    }

    /// Directory phones are sealed at rest; the notifier opens them only to send.
    fn give_notifier_the_key(&self) {
        let sealer = self.sealer.clone();
        self.notify.set_opener(Arc::new(move |person, sealed| {
            let person = person.ok_or("no person")?;
            sealer
                .open(sealed, &directory::phone_aad(person))
                .map_err(|e| e.to_string())
        }));
    }

    /// Commits a write set and, once it is durable, tells the live pages which streams moved.
    pub async fn commit(&self, ws: yingji_store::WriteSet) -> Result<(), yingji_store::StoreError> {
        let mut moved: Vec<Change> = Vec::new();
        for e in &ws.events {
            let v = &e.envelope;
            if !moved.iter().any(|c| c.stream_id == v.stream_id) {
                moved.push(Change {
                    stream_id: v.stream_id,
                    stream_kind: v.stream_kind.clone(),
                    jurisdiction_id: v.jurisdiction_id,
                });
            }
        }
        self.store.commit(ws).await?;
        for c in moved {
            // No receiver (no open live page) is not an error.
            let _ = self.changes.send(c);
        }
        Ok(())
    }

    /// Listens to what is committed from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Uses this case configuration and calendar instead of the defaults.
    pub fn with_case_rules(mut self, rules: CaseRules) -> Self {
        self.case_rules = Arc::new(rules);
        self
    }

    /// A plan version, parsed once and cached.
    pub async fn plan(&self, plan_id: &str, version: i64) -> Result<Arc<Plan>, ApiError> {
        let key = (plan_id.to_string(), version);
        if let Some(p) = self.plans.read().expect("plan cache").get(&key) {
            return Ok(p.clone());
        }
        let row = self
            .store
            .plan_version(plan_id, version)
            .await?
            .ok_or_else(|| ApiError::not_found("plan version"))?;
        let checked = yingji_plan::load(&row.source);
        let plan = checked.usable().cloned().ok_or_else(|| {
            ApiError::internal(format!("stored plan {plan_id} v{version} no longer checks"))
        })?;
        let plan = Arc::new(plan);
        self.plans
            .write()
            .expect("plan cache")
            .insert(key, plan.clone());
        Ok(plan)
    }

    /// A jurisdiction the actor may see (their own or one below it); anything else is "not
    /// found", so that its existence does not leak.
    pub async fn scoped_jurisdiction(
        &self,
        actor: &Actor,
        id: Uuid,
        what: &str,
    ) -> Result<yingji_store::JurisdictionRow, ApiError> {
        self.store
            .jurisdiction(id)
            .await?
            .filter(|j| actor.sees(&j.path))
            .ok_or_else(|| ApiError::not_found(what))
    }

    /// Who holds each post in a jurisdiction now: principals, or the deputies when no principal
    /// holds the post.
    pub async fn holders(
        &self,
        jurisdiction_id: Uuid,
    ) -> Result<HashMap<String, Vec<PersonRef>>, ApiError> {
        let mut principals: HashMap<String, Vec<PersonRef>> = HashMap::new();
        let mut deputies: HashMap<String, Vec<PersonRef>> = HashMap::new();
        for (post, person_id, name, deputy) in self.store.holders_in(jurisdiction_id).await? {
            let target = if deputy {
                &mut deputies
            } else {
                &mut principals
            };
            target
                .entry(post)
                .or_default()
                .push(PersonRef { person_id, name });
        }
        for (post, d) in deputies {
            principals.entry(post).or_insert(d);
        }
        // A duty roster decides who holds its post at this moment.
        let now = self.clock.now();
        let cal = calls::holidays(self);
        for (post, body) in self.store.rosters_in(jurisdiction_id).await? {
            let Ok(r) = serde_json::from_str::<yingji_domain::roster::Roster>(&body) else {
                continue;
            };
            let on = r.on_duty(now, &cal);
            if !on.people.is_empty() {
                principals.insert(post, on.people);
            }
        }
        Ok(principals)
    }
}

/// JSON already serialised: answered as `application/json` without being parsed again.
#[derive(Debug, Clone)]
pub struct JsonText(pub String);

impl IntoResponse for JsonText {
    fn into_response(self) -> Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

impl From<Value> for JsonText {
    fn from(v: Value) -> JsonText {
        JsonText(v.to_string())
    }
}

impl From<&Value> for JsonText {
    fn from(v: &Value) -> JsonText {
        JsonText(v.to_string())
    }
}

/// A copy of stored text (an incident's body kept as its idempotency record).
impl From<&JsonText> for JsonText {
    fn from(t: &JsonText) -> JsonText {
        t.clone()
    }
}

/// Runs a create or command with the Idempotency-Key semantics: a repeated key with the same
/// request replays the stored response; with a different request it is refused.
pub async fn idempotent<F, Fut, B>(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    request_hash: &str,
    f: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<Idem>) -> Fut,
    Fut: std::future::Future<Output = Result<(StatusCode, B), ApiError>>,
    B: Into<JsonText>,
{
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 255)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be 1–255 visible characters",
                    )
                })?;
            Some(k.to_string())
        }
    };
    let replay = |rec: yingji_store::IdempotencyRecord| -> Result<Response, ApiError> {
        if rec.request_hash != request_hash {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request",
            ));
        }
        let status = StatusCode::from_u16(rec.status as u16).unwrap_or(StatusCode::OK);
        let mut resp = (status, JsonText(rec.response)).into_response();
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        Ok(resp)
    };
    if let Some(k) = &key
        && let Some(rec) = state.store.idempotency(actor.person_id, k).await?
    {
        return replay(rec);
    }
    let idem = key.clone().map(|k| Idem {
        key: k,
        request_hash: request_hash.to_string(),
    });
    match f(idem).await {
        Ok((status, body)) => Ok((status, body.into()).into_response()),
        Err(e) if e.code == "idempotency_race" => {
            // A concurrent request with the same key committed first: answer as it did.
            let k = key.unwrap_or_default();
            match state.store.idempotency(actor.person_id, &k).await? {
                Some(rec) => replay(rec),
                None => Err(ApiError::internal("idempotency record vanished")),
            }
        }
        Err(e) => Err(e),
    }
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
        400 if text.starts_with("Invalid URL") => "invalid_path",
        400 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        _ if s.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let message = if text.is_empty() {
        s.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    ApiError::new(s, code, message).into_response()
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

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
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
        .route("/tasks", get(incidents::list_tasks))
        .route("/tasks/{id}/{action}", post(incidents::task_action))
        .merge(cases::routes())
        .merge(disputes::routes())
        .merge(reports::routes())
        .merge(notify_api::routes())
        .route("/openapi.json", get(openapi::openapi_json))
        .merge(trust::routes())
        .fallback(|| async { ApiError::not_found("route") });
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .merge(console::routes())
        .merge(notify_api::page_routes())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(envelope_errors))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Marks what has fallen due in every incident, once. Returns how many incidents changed.
pub async fn tick(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let due = state
        .store
        .due_incidents(now.as_millisecond(), 1000)
        .await?;
    let mut changed = 0;
    for id in due {
        if incidents::tick_incident(state, id).await? {
            changed += 1;
        }
    }
    changed += cases::tick_cases(state).await?;
    changed += reports::tick_reports(state).await?;
    for id in state.store.due_callouts(now.as_millisecond(), 1000).await? {
        if calls::tick_callout(state, id).await? {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Runs `tick` every `every` until the process ends.
pub fn spawn_ticker(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = tick(&state).await {
                tracing::warn!(error = %e.message, "tick failed");
            }
        }
    });
}

/// Loads one plan file at start (used by `serve --plans DIR`); says what happened.
pub async fn plans_load(
    state: &AppState,
    jurisdiction_id: Uuid,
    source: &str,
    file: &str,
) -> Result<String, ApiError> {
    let (loaded, _) =
        plans::load_plan(state, &system_actor(), jurisdiction_id, source, file, None).await?;
    Ok(match loaded {
        plans::Loaded::New(r) => format!("loaded {} version {}", r.plan_id, r.version),
        plans::Loaded::Unchanged(r) => format!("{} version {} unchanged", r.plan_id, r.version),
    })
}
