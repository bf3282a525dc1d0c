//! The web console: server-rendered pages (askama) over the same domain and store code as the
//! JSON API, plain CSS, a little hand-written JavaScript, zh-CN by default with English (every
//! string from the message catalogue in `i18n`).
//!
//! One page module per area (`desk`, `intake`, `room`, `plans`, `cases`, `disputes`, `roster`):
//! a module, a template extending `base.html`, a nav entry in `NAV` and routes in `routes()`.
//!
//! Sign-in: login and password, through the application's sign-in as the API's
//! (`yingji_app::accounts::sign_in`: argon2, lockout, the `yingji_session` session cookie,
//! HttpOnly, SameSite=Strict, Secure under `secure_cookie`, expiring). A token (the demo
//! tokens, an API token) is a secondary way in: it is checked once and the browser gets a
//! session like a password sign-in's (`yingji_app::accounts::sign_in_with_token`), never the
//! token itself. `Viewer` is the one place a console request becomes an `Actor` (a live
//! session). Every POST goes
//! through `Posted`, which checks the per-session CSRF token in the form's hidden `csrf` field
//! (derived from the session secret with the process's console key).

mod admin;
mod attachments;
mod audit;
mod cases;
mod chart;
mod desk;
mod disputes;
mod documents;
mod drills;
mod followups;
pub mod i18n;
mod incidents;
mod intake;
mod plain;
mod plans;
mod releases;
mod reports;
mod representatives;
mod reserves;
mod room;
mod roster;
mod search;
mod statistics;

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use futures_util::stream::Stream;
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use i18n::Lang;

use crate::AppState;
use crate::api::trust::{self, Permission};
use crate::auth::{self, Actor};
use crate::error::ApiError;
use yingji_app::ErrorCode;

/// The cookie that once carried a raw demo token; only ever cleared now.
const CLEAR_OLD_TOKEN_COOKIE: &str = "yj_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
const PRE_COOKIE: &str = "yj_pre";
const LANG_COOKIE: &str = "yj_lang";

/// The console's routes; `max_bytes`: the deployment's largest attachment (the upload route
/// reads a little more, so that a larger file is refused with `attachment_too_large`).
pub fn routes(max_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(desk::page))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/lang/{code}", get(switch_lang))
        .route("/report", get(intake::form).post(intake::submit))
        .route("/report/proposal", get(intake::proposal))
        .route("/calls/{id}/ack", post(desk::ack_call))
        .route("/incidents", get(incidents::page))
        .route("/incidents/{id}", get(room::page))
        .route("/incidents/{id}/do/{action}", post(room::action))
        .route("/incidents/{id}/tasks/{task}/{action}", post(room::task))
        .route("/incidents/{id}/documents", post(documents::incident))
        .route("/cases", get(cases::queue))
        .route("/cases/new", get(cases::new_form).post(cases::create))
        .route("/cases/{id}", get(cases::page))
        .route("/cases/{id}/do/{action}", post(cases::action))
        .route("/cases/{id}/documents", post(documents::case))
        .route("/disputes", get(disputes::page))
        .route("/disputes/new", post(disputes::register))
        .route("/disputes/{id}", get(disputes::dispute_page))
        .route("/disputes/{id}/do/{action}", post(disputes::dispute_action))
        .route(
            "/disputes/rounds/{id}/return",
            post(disputes::submit_return),
        )
        .route("/reports", get(reports::page))
        .route("/reports/submit", post(reports::submit))
        .route("/roster", get(roster::page))
        .route("/roster/set", post(roster::set))
        .route("/roster/phone", post(roster::phone))
        .route("/audit", get(audit::page))
        .route("/search", get(search::page))
        .route("/statistics", get(statistics::page))
        .route("/releases", get(releases::page))
        .route("/releases/new", post(releases::draft))
        .route("/releases/{id}/do/{action}", post(releases::action))
        .route("/public/releases", get(releases::public))
        .route("/drills", get(drills::page))
        .route("/reserves", get(reserves::page))
        .route("/followups/record", post(followups::record))
        .route(
            "/incidents/{id}/representatives",
            post(representatives::record),
        )
        .route(
            "/incidents/{id}/representatives/{rid}/withdraw",
            post(representatives::withdraw),
        )
        .route(
            "/incidents/{id}/representatives/{rid}/reveal",
            post(representatives::reveal),
        )
        .route("/teams/new", post(reserves::team_create))
        .route("/teams/{id}/readiness", post(reserves::team_readiness))
        .route("/budget/new", post(reserves::budget_create))
        .route("/budget/{id}/spend", post(reserves::budget_spend))
        .route("/followups/{id}/answer", post(followups::answer))
        .route("/sanctions/record", post(followups::sanction))
        .route(
            "/attachments/upload",
            post(attachments::upload).layer(axum::extract::DefaultBodyLimit::max(
                max_bytes.saturating_add(1),
            )),
        )
        .route("/reserves/new", post(reserves::create))
        .route("/reserves/{id}/move", post(reserves::movement))
        .route("/drills/start", post(drills::start))
        .route("/drills/{id}", get(drills::drill_page))
        .route("/drills/{id}/stop", post(drills::stop))
        .route("/drills/{id}/evaluate", post(drills::evaluate))
        .route("/admin", get(admin::page))
        .route("/admin/{action}", post(admin::action))
        .route("/plans", get(plans::list).post(plans::upload))
        .route("/plans/{plan_id}", get(plans::document))
        .route("/plans/{plan_id}/simulate", get(plans::simulate))
        .route("/plans/{plan_id}/diff", get(plans::diff))
        .route("/live", get(live))
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

/// The top navigation: (key of the page, href, catalogue key).
pub const NAV: &[(&str, &str, &str)] = &[
    ("desk", "/", "nav.desk"),
    ("report", "/report", "nav.report"),
    ("incidents", "/incidents", "nav.incidents"),
    ("cases", "/cases", "nav.cases"),
    ("disputes", "/disputes", "nav.disputes"),
    ("reports", "/reports", "nav.reports"),
    ("roster", "/roster", "nav.roster"),
    ("plans", "/plans", "nav.plans"),
    ("statistics", "/statistics", "nav.statistics"),
    ("releases", "/releases", "nav.releases"),
    ("drills", "/drills", "nav.drills"),
    ("reserves", "/reserves", "nav.reserves"),
    ("audit", "/audit", "nav.audit"),
    ("admin", "/admin", "nav.admin"),
];

/// The permission a console page needs (in the viewer's own jurisdiction); the nav shows a
/// page only to people who hold it, and the page refuses the others as the API does. The desk
/// needs none: it shows each person what is theirs.
pub fn page_permission(key: &str) -> Option<Permission> {
    match key {
        "report" => Some(Permission::ReportIncident),
        "incidents" => Some(Permission::ViewIncidents),
        "cases" => Some(Permission::ViewCases),
        "disputes" => Some(Permission::ViewDisputes),
        "reports" => Some(Permission::SubmitReports),
        "roster" => Some(Permission::ViewCalls),
        "plans" => Some(Permission::ViewPlans),
        "statistics" => Some(Permission::ViewIncidents),
        "releases" => Some(Permission::ViewIncidents),
        "drills" => Some(Permission::ViewIncidents),
        "reserves" => Some(Permission::ViewIncidents),
        "audit" => Some(Permission::ReadAudit),
        "admin" => Some(Permission::ManageDirectory),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Cookies, language, the viewer

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The language of a request: `?lang=`, then the cookie, then Accept-Language, then zh-CN.
pub fn lang_of(parts: &Parts) -> &'static Lang {
    let q = parts.uri.query().unwrap_or("");
    let from_query = serde_urlencoded_lang(q);
    from_query
        .and_then(|c| Lang::by_code(&c))
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::by_code))
        .or_else(|| {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept)
        })
        .unwrap_or_else(Lang::default_lang)
}

fn serde_urlencoded_lang(q: &str) -> Option<String> {
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.into_owned())
}

/// The language alone (pages that need no sign-in).
pub struct UiLang(pub &'static Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(UiLang(lang_of(parts)))
    }
}

/// The signed-in person of a console request, with the page language and the CSRF token that
/// the page's forms carry.
pub struct Viewer {
    pub actor: Actor,
    pub lang: &'static Lang,
    pub csrf: String,
    /// The request's path and query, for the language switch and redirects.
    pub here: String,
    /// The console pages (keys of [`NAV`]) this person may open.
    pub pages: Vec<&'static str>,
}

fn csrf_for(state: &AppState, purpose: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(state.console_key().as_slice());
    h.update((purpose.len() as u64).to_be_bytes());
    h.update(purpose.as_bytes());
    h.update(secret.as_bytes());
    let d = h.finalize();
    d.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// Compares in constant time, so that the CSRF check does not leak by timing.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = lang_of(parts);
        let here = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let to_signin = || {
            let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
            Redirect::to(&format!("/signin?next={next}")).into_response()
        };
        // A session (from a password or a token sign-in); never a raw token in a cookie.
        let Some(token) = cookie(&parts.headers, auth::SESSION_COOKIE).filter(|t| !t.is_empty())
        else {
            return Err(to_signin());
        };
        let found = session_actor(state, token).await;
        let actor = match found {
            Ok(Some(a)) => a,
            Ok(None) => return Err(to_signin()),
            Err(e) => return Err(PageError::Api(e).render(lang)),
        };
        let pages = NAV
            .iter()
            .map(|(k, _, _)| *k)
            .filter(|k| page_permission(k).is_none_or(|p| actor.may(state, p, &actor.scope_path)))
            .collect();
        Ok(Viewer {
            actor,
            lang,
            csrf: csrf_for(state, "session", token),
            here,
            pages,
        })
    }
}

/// The actor of a live (not revoked, not expired) password session.
async fn session_actor(state: &AppState, token: &str) -> Result<Option<Actor>, ApiError> {
    Actor::from_session(state, &auth::token_hash(token)).await
}

/// A form POST from a signed-in viewer whose CSRF token checked out. Every console POST
/// handler takes this, so none can forget the check.
pub struct Posted {
    pub viewer: Viewer,
    pub form: Form,
}

/// A decoded `application/x-www-form-urlencoded` body (repeated keys kept).
#[derive(Debug, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    fn parse(bytes: &[u8]) -> Form {
        Form(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of a field, trimmed; None when absent or empty.
    pub fn get(&self, k: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = Form::parse(&bytes);
        let sent = form.get("csrf").unwrap_or_default();
        if !same(&sent, &viewer.csrf) {
            return Err(PageError::Csrf.render(viewer.lang));
        }
        if form
            .0
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            let e = ApiError::new(
                ErrorCode::BadRequest,
                "text may not contain the NUL character",
            );
            return Err(PageError::Api(e).render(viewer.lang));
        }
        Ok(Posted { viewer, form })
    }
}

// ---------------------------------------------------------------------------------------------
// Page chrome and errors

/// What every page's layout needs: language, who is signed in, the CSRF token, the nav.
pub struct Chrome {
    pub l: &'static Lang,
    pub user: Option<String>,
    pub csrf: String,
    pub active: &'static str,
    pub title: String,
    /// The current path and query without `lang=`, for the language switch.
    pub here: String,
    /// Which streams this page refreshes for (`*` any in scope, an id, or empty: not live).
    pub live: String,
    /// The nav entries shown (the pages the viewer may open).
    pub pages: Vec<&'static str>,
    /// What the search box holds (the search page's query).
    pub search: String,
}

impl Chrome {
    pub fn new(v: &Viewer, active: &'static str, title: String) -> Chrome {
        Chrome {
            l: v.lang,
            user: Some(v.actor.name.clone()),
            csrf: v.csrf.clone(),
            active,
            title,
            here: v.here.clone(),
            live: String::new(),
            pages: v.pages.clone(),
            search: String::new(),
        }
    }

    pub fn nav(&self) -> Vec<(bool, &'static str, &str)> {
        NAV.iter()
            .filter(|(k, _, _)| self.pages.contains(k))
            .map(|(k, href, key)| (*k == self.active, *href, self.l.t(key)))
            .collect()
    }

    /// The languages to switch to, with their links.
    pub fn langs(&self) -> Vec<(bool, &'static str, String, String)> {
        Lang::all()
            .iter()
            .map(|l| {
                let next: String = form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
                (
                    l.code == self.l.code,
                    l.code,
                    l.t("lang.name").to_string(),
                    format!("/lang/{}?next={next}", l.code),
                )
            })
            .collect()
    }
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    p: Chrome,
    message: String,
    code: String,
}

pub enum PageError {
    Api(ApiError),
    Csrf,
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

/// The catalogue's text for an error code (every code has one in every language; a test
/// checks it).
pub fn error_text(l: &Lang, e: &ApiError) -> String {
    let key = format!("error.{}", e.code);
    if l.has(&key) {
        l.t(&key).to_string()
    } else {
        l.t("error.generic").to_string()
    }
}

impl PageError {
    pub fn render(self, l: &'static Lang) -> Response {
        let (status, message, code) = match self {
            PageError::Api(e) => (e.status(), error_text(l, &e), e.code.to_string()),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                l.t("error.csrf").to_string(),
                "csrf".to_string(),
            ),
        };
        let page = ErrorPage {
            p: Chrome {
                l,
                user: None,
                csrf: String::new(),
                active: "",
                title: l.t("error.title").to_string(),
                here: "/".into(),
                live: String::new(),
                pages: Vec::new(),
                search: String::new(),
            },
            message,
            code,
        };
        let mut r = render(&page);
        *r.status_mut() = status;
        r
    }
}

/// A handler result: a page, or an error page in the viewer's language.
pub type PageResult = Result<Response, (PageError, &'static Lang)>;

pub trait OrPage<T> {
    fn or_page(self, l: &'static Lang) -> Result<T, (PageError, &'static Lang)>;
}

impl<T, E: Into<PageError>> OrPage<T> for Result<T, E> {
    fn or_page(self, l: &'static Lang) -> Result<T, (PageError, &'static Lang)> {
        self.map_err(|e| (e.into(), l))
    }
}

/// Lets handlers return `PageResult` directly.
pub struct PageOut(pub PageResult);

impl IntoResponse for PageOut {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(r) => r,
            Err((e, l)) => e.render(l),
        }
    }
}

/// 303 See Other: where a successful form POST sends the browser.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Whether the viewer's roles allow `p` in the jurisdiction with this path (pages offer an
/// action only then; the handler checks again through `AppState::require`).
pub fn may(state: &AppState, v: &Viewer, p: Permission, path: &str) -> bool {
    v.actor.sees(path) && v.actor.may(state, p, path)
}

/// The time zone the viewer's jurisdiction works in: the `time_zone` of the case rules that
/// apply there (configurable per jurisdiction, default Asia/Shanghai). Pages that are not about
/// one plan show times in it.
pub async fn local_tz(state: &AppState, v: &Viewer) -> Result<jiff::tz::TimeZone, ApiError> {
    let (s, _) = yingji_app::cases::settings_for(state, &v.actor.scope_path).await?;
    Ok(s.tz())
}

/// The jurisdictions a list can be narrowed to: the viewer's own and those up to two levels
/// below it, as (id, name indented by depth, selected).
pub async fn area_options(
    state: &AppState,
    v: &Viewer,
    chosen: Option<uuid::Uuid>,
) -> Result<Vec<(String, String, bool)>, ApiError> {
    let depth = |p: &str| p.matches('/').count();
    let own = depth(&v.actor.scope_path);
    Ok(state
        .store
        .list_jurisdictions(&v.actor.scope_path)
        .await?
        .into_iter()
        .filter(|j| depth(&j.path) <= own + 2)
        .map(|j| {
            let indent = "\u{00A0}\u{00A0}".repeat(depth(&j.path).saturating_sub(own));
            (
                j.id.to_string(),
                format!("{indent}{}", j.name),
                Some(j.id) == chosen,
            )
        })
        .collect())
}

/// The subtree a list covers: the chosen jurisdiction's when it lies in the viewer's area,
/// else the viewer's whole area (and the choice is dropped).
pub async fn area_path(
    state: &AppState,
    v: &Viewer,
    chosen: Option<uuid::Uuid>,
) -> Result<(String, Option<uuid::Uuid>), ApiError> {
    if let Some(id) = chosen
        && let Some(j) = state.store.jurisdiction(id).await?
        && v.actor.sees(&j.path)
    {
        return Ok((j.path, Some(id)));
    }
    Ok((v.actor.scope_path.clone(), None))
}

/// One entry of a record's timeline as a page shows it.
pub struct EventView {
    pub at: String,
    /// What happened, from the catalogue group the page names (`case_event`, `dispute_event`).
    pub kind: String,
    /// Who did it (系统 for yingji itself).
    pub by: String,
    pub reason: String,
}

/// A stream's events, newest first, in words and in the given zone (the case and dispute
/// pages; the room adds each event's details itself).
pub async fn timeline(
    state: &AppState,
    l: &Lang,
    stream: uuid::Uuid,
    group: &str,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<EventView>, ApiError> {
    Ok(state
        .store
        .stream_events(stream)
        .await?
        .into_iter()
        .rev()
        .map(|e| {
            let ev = e.envelope;
            EventView {
                at: ev
                    .at
                    .parse::<jiff::Timestamp>()
                    .map(|t| hm(t, tz))
                    .unwrap_or(ev.at.clone()),
                kind: l.tk(group, &ev.kind),
                by: if ev.actor_id == yingji_app::system_actor().person_id {
                    l.t("room.system").to_string()
                } else {
                    ev.actor_name
                },
                reason: ev.reason.unwrap_or_default(),
            }
        })
        .collect())
}

/// Formats a time for people, in the given zone: "03-02 10:15".
pub fn hm(t: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%m-%d %H:%M").to_string()
}

// ---------------------------------------------------------------------------------------------
// Sign-in, sign-out, language

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    p: Chrome,
    next: String,
    /// (token, who, login)
    demo: Vec<(String, String, String)>,
    demo_password: &'static str,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths may be redirected to after sign-in or a language switch: a path that
/// starts with one `/` (not `//`, no `\\`); anything else goes to the desk. A control character,
/// a space or a non-ASCII character (which browsers strip or rewrite, turning `/\t/evil` into
/// `//evil`) is refused with 400 `bad_request`.
fn safe_next(n: Option<&str>) -> Option<String> {
    let Some(n) = n else { return Some("/".into()) };
    if n.chars().any(|c| !c.is_ascii_graphic()) {
        return None;
    }
    Some(
        if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') {
            n.into()
        } else {
            "/".into()
        },
    )
}

/// The answer to a refused `next`.
fn bad_next(l: &'static Lang) -> Response {
    let e = ApiError::new(
        ErrorCode::BadRequest,
        "`next` must be a path of printable ASCII characters",
    );
    PageError::Api(e).render(l)
}

/// `; Secure` when credential cookies must travel over HTTPS only (`secure_cookie`).
fn secure(state: &AppState) -> &'static str {
    if state.trust.secure_cookie {
        "; Secure"
    } else {
        ""
    }
}

fn pre_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, PRE_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
}

async fn signin_page(
    State(state): State<AppState>,
    UiLang(l): UiLang,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    match safe_next(q.next.as_deref()) {
        Some(next) => signin_render(&state, l, &headers, next, None).await,
        None => bad_next(l),
    }
}

async fn signin_render(
    state: &AppState,
    l: &'static Lang,
    headers: &HeaderMap,
    next: String,
    error: Option<String>,
) -> Response {
    // A pre-session secret so that the sign-in form, too, carries a CSRF token.
    let pre = pre_token(headers).unwrap_or_else(yingji_app::accounts::random_token);
    let mut demo = Vec::new();
    for (token, who) in crate::demo::DEMO_TOKENS {
        if let Ok(Some(a)) = Actor::from_token(state, token).await {
            // The login for the password form, when the demo person has one.
            let login = yingji_app::accounts::password_login(state, a.person_id)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            demo.push((token.to_string(), who.to_string(), login));
        }
    }
    let page = SigninPage {
        p: Chrome {
            l,
            user: None,
            csrf: csrf_for(state, "signin", &pre),
            active: "",
            title: l.t("signin.title").to_string(),
            here: format!("/signin?next={}", {
                let n: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                n
            }),
            live: String::new(),
            pages: Vec::new(),
            search: String::new(),
        },
        next,
        demo,
        demo_password: trust::DEMO_PASSWORD,
        error: error.clone(),
    };
    let mut r = render(&page);
    if error.is_some() {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
    }
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{PRE_COOKIE}={pre}; Path=/signin; HttpOnly; SameSite=Strict{}",
            secure(state)
        ))
        .expect("ascii"),
    );
    r
}

async fn signin(
    State(state): State<AppState>,
    UiLang(l): UiLang,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let Some(next) = safe_next(form.get("next").as_deref()) else {
        return bad_next(l);
    };
    let expected = pre_token(&headers).map(|p| csrf_for(&state, "signin", &p));
    let sent = form.get("csrf").unwrap_or_default();
    if expected.is_none_or(|e| !same(&e, &sent)) {
        return PageError::Csrf.render(l);
    }
    if let Some(login) = form.get("login") {
        return password_signin(&state, l, &headers, next, login, form).await;
    }
    let Some(token) = form.get("token") else {
        let msg = l.t("signin.missing").to_string();
        return signin_render(&state, l, &headers, next, Some(msg)).await;
    };
    // The token proves who is asking once; the browser keeps a session (revoked by sign-out,
    // expiring, Secure under `secure_cookie`), never the token itself.
    let signed_in = match yingji_app::accounts::sign_in_with_token(&state, &token).await {
        Ok(s) => s,
        Err(e) if e.code == ErrorCode::Unauthenticated => {
            let msg = l.t("signin.unknown").to_string();
            return signin_render(&state, l, &headers, next, Some(msg)).await;
        }
        Err(e) => return PageError::Api(e.into()).render(l),
    };
    match trust::session_cookie(&state, &signed_in) {
        Ok(c) => {
            let mut r = see_other(&next);
            r.headers_mut().append(header::SET_COOKIE, c);
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static(CLEAR_OLD_TOKEN_COOKIE),
            );
            r
        }
        Err(e) => PageError::Api(e).render(l),
    }
}

/// Password sign-in through the application's sign-in, as the API's (argon2, failures counted,
/// lockout, the session row and its HttpOnly cookie), so the console cannot drift from it.
async fn password_signin(
    state: &AppState,
    l: &'static Lang,
    headers: &HeaderMap,
    next: String,
    login: String,
    form: Form,
) -> Response {
    let password = form
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if password.is_empty() {
        let msg = l.t("signin.missing_password").to_string();
        return signin_render(state, l, headers, next, Some(msg)).await;
    }
    let req = yingji_app::accounts::SignInRequest { login, password };
    let signed_in = yingji_app::accounts::sign_in(state, req)
        .await
        .map_err(ApiError::from)
        .and_then(|s| trust::session_cookie(state, &s));
    match signed_in {
        Ok(cookie) => {
            let mut r = see_other(&next);
            r.headers_mut().append(header::SET_COOKIE, cookie);
            // A demo-token cookie from before would otherwise linger.
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static(CLEAR_OLD_TOKEN_COOKIE),
            );
            r
        }
        Err(e) => {
            let msg = error_text(l, &e);
            let mut r = signin_render(state, l, headers, next, Some(msg)).await;
            *r.status_mut() = e.status();
            r
        }
    }
}

async fn signout(State(state): State<AppState>, posted: Posted) -> Response {
    // A password session is revoked on the server, not only forgotten by the browser.
    let viewer = &posted.viewer;
    if let Err(e) = state
        .execute(&viewer.actor, None, &yingji_app::accounts::SignOut)
        .await
    {
        return PageError::Api(e.into()).render(viewer.lang);
    }
    let mut r = see_other("/signin");
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(trust::CLEAR_SESSION_COOKIE),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(CLEAR_OLD_TOKEN_COOKIE),
    );
    r
}

async fn switch_lang(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let Some(next) = safe_next(q.next.as_deref()) else {
        return bad_next(Lang::by_code(&code).unwrap_or_else(Lang::default_lang));
    };
    let Some(l) = Lang::by_code(&code) else {
        return see_other(&next);
    };
    let mut r = see_other(&next);
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            l.code
        ))
        .expect("ascii"),
    );
    r
}

// ---------------------------------------------------------------------------------------------
// Live updates and static files

/// Server-sent events: one `change` event per committed stream the viewer may see (data: the
/// stream's kind, its id, and the kind of command that wrote it). Pages refetch themselves and swap their live regions.
async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.subscribe();
    let guard = crate::streams::Guard::new(state, viewer.actor);
    let stream = futures_util::stream::unfold((rx, guard), |(mut rx, mut guard)| async move {
        loop {
            let got = tokio::select! {
                got = rx.recv() => got,
                _ = tokio::time::sleep_until(guard.due()) => {
                    if !guard.still_valid().await {
                        return None;
                    }
                    continue;
                }
                _ = guard.stopping() => return None,
            };
            match got {
                // The change bus was lost meanwhile: anything may have changed.
                Ok(c) if c.stream_kind == yingji_app::Change::RESYNC => {
                    let ev = SseEvent::default().event("change").data("lagged *");
                    return Some((Ok(ev), (rx, guard)));
                }
                Ok(c) => {
                    // A change to a person (a sign-out, a disabling) may have ended this one.
                    if c.stream_kind == "person" && !guard.still_valid().await {
                        return None;
                    }
                    if guard.actor().sees(&c.jurisdiction_path) {
                        let ev = SseEvent::default().event("change").data(format!(
                            "{} {} {}",
                            c.stream_kind,
                            c.stream_id,
                            c.command.unwrap_or("-")
                        ));
                        return Some((Ok(ev), (rx, guard)));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Missed some: tell the page to refresh anyway.
                    let ev = SseEvent::default().event("change").data("lagged *");
                    return Some((Ok(ev), (rx, guard)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../static/console.css"),
    )
}

/// The icon (an SVG; also answered for `/favicon.ico`, which browsers ask for by themselves).
async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/favicon.svg"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../static/console.js"),
    )
}
