//! Information release in the console (信息发布, WF-13): the releases of the viewer's area with
//! their state; a draft form (text, audience, area, the approver — anyone but the drafter); the
//! approve and reject forms for the person a draft names; publishing once approved. The public
//! page (`/public/releases`) shows the published ones to anyone, without signing in.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use yingji_app::releases::{
    self as app_releases, DecisionRequest, DraftRelease, DraftRequest, OnRelease, ReleaseAction,
};
use yingji_domain::release::{Release, ReleaseKind, Status};

use super::{Chrome, Lang, OrPage, PageOut, Posted, Viewer, hm, may, render, see_other};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;

pub struct ReleaseLine {
    pub id: String,
    pub title: String,
    pub text: String,
    pub kind: String,
    pub status: &'static str,
    pub status_label: String,
    pub audience: String,
    pub area: String,
    pub drafted: String,
    pub approver: String,
    pub decision: String,
    pub published: String,
    /// The viewer is the approver the draft names, and it waits for them.
    pub may_decide: bool,
    pub may_publish: bool,
}

#[derive(Template)]
#[template(path = "releases.html")]
pub struct ReleasesPage {
    pub p: Chrome,
    pub releases: Vec<ReleaseLine>,
    pub may_draft: bool,
    /// (person id, name) whom a draft may name as its approver: the people of the viewer's
    /// area, the viewer left out.
    pub approvers: Vec<(String, String)>,
}

fn line(l: &Lang, r: &Release, viewer: Uuid, may_publish: bool) -> ReleaseLine {
    let tz = yingji_app::statistics::zone();
    ReleaseLine {
        id: r.id.to_string(),
        title: r.title.clone(),
        text: r.text.clone(),
        kind: l
            .t(match r.kind {
                ReleaseKind::Warning => "release.kind_warning",
                ReleaseKind::Information => "release.kind_information",
            })
            .to_string(),
        status: r.status.as_str(),
        status_label: l.tk("release_status", r.status.as_str()),
        audience: r.audience.clone(),
        area: r.area.clone(),
        drafted: format!("{} · {}", r.drafted_by.name, hm(r.drafted_at, &tz)),
        approver: r.approver.name.clone(),
        decision: match (&r.approved_by, r.approved_at) {
            (Some(by), Some(at)) => format!(
                "{} · {}{}",
                by.name,
                hm(at, &tz),
                r.decision_note
                    .as_deref()
                    .map(|n| format!(" · {n}"))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        },
        published: r.published_at.map(|t| hm(t, &tz)).unwrap_or_default(),
        may_decide: r.status == Status::Draft && r.approver.person_id == viewer,
        may_publish: may_publish && r.status == Status::Approved,
    }
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> impl IntoResponse {
    let built = async {
        let l = v.lang;
        let scope = v.actor.scope_path.clone();
        let may_handle = may(&state, &v, Permission::HandleIncident, &scope);
        let mut releases = vec![];
        for r in app_releases::list(&state, &v.actor).await? {
            let path = state
                .store
                .jurisdiction(r.jurisdiction_id)
                .await?
                .map(|j| j.path)
                .unwrap_or_default();
            let publish = may(&state, &v, Permission::HandleIncident, &path);
            releases.push(line(l, &r, v.actor.person_id, publish));
        }
        let approvers = if may_handle {
            state
                .store
                .list_people(&scope)
                .await?
                .into_iter()
                .filter(|p| p.id != v.actor.person_id)
                .map(|p| (p.id.to_string(), p.name))
                .collect()
        } else {
            vec![]
        };
        let mut p = Chrome::new(&v, "releases", l.t("release.title").to_string());
        p.live = "*".into();
        Ok::<_, ApiError>(ReleasesPage {
            p,
            releases,
            may_draft: may_handle,
            approvers,
        })
    };
    PageOut(built.await.or_page(v.lang).map(|p| render(&p)))
}

fn fail(e: ApiError, l: &'static Lang) -> Response {
    PageOut(Err((e.into(), l))).into_response()
}

/// POST /releases/new: a draft.
pub async fn draft(State(state): State<AppState>, posted: Posted) -> Response {
    let v = posted.viewer;
    let f = posted.form;
    let approver = match f.get("approver").as_deref().map(Uuid::parse_str) {
        Some(Ok(id)) => id,
        _ => {
            return fail(
                ApiError::new(
                    yingji_app::ErrorCode::MissingField,
                    "`approver` is required",
                ),
                v.lang,
            );
        }
    };
    let req = DraftRequest {
        jurisdiction_id: None,
        incident_id: None,
        kind: f.get("kind"),
        title: f.get("title").unwrap_or_default(),
        text: f.get("text").unwrap_or_default(),
        audience: f.get("audience"),
        area: f.get("area"),
        approver_person_id: approver,
    };
    match state.execute(&v.actor, None, &DraftRelease(req)).await {
        Ok(_) => see_other("/releases"),
        Err(e) => fail(e.into(), v.lang),
    }
}

/// POST /releases/{id}/do/{action}: approve, reject (note) or publish.
pub async fn action(
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    posted: Posted,
) -> Response {
    let v = posted.viewer;
    let req = DecisionRequest {
        note: posted.form.get("note"),
    };
    let action = match ReleaseAction::parse(&action, &req) {
        Ok(a) => a,
        Err(e) => return fail(e.into(), v.lang),
    };
    match state
        .execute(&v.actor, None, &OnRelease { id, action })
        .await
    {
        Ok(_) => see_other("/releases"),
        Err(e) => fail(e.into(), v.lang),
    }
}

#[derive(Template)]
#[template(path = "public_releases.html")]
pub struct PublicPage {
    pub l: &'static Lang,
    pub releases: Vec<ReleaseLine>,
}

/// GET /public/releases: the published releases, for anyone (no sign-in), in the language of
/// the browser.
pub async fn public(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let l = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|h| h.to_str().ok())
        .and_then(Lang::from_accept)
        .unwrap_or_else(Lang::default_lang);
    match app_releases::published(&state, 100).await {
        Ok(list) => render(&PublicPage {
            l,
            releases: list
                .iter()
                .map(|r| line(l, r, Uuid::nil(), false))
                .collect(),
        }),
        Err(e) => fail(e.into(), l),
    }
}
