//! The directory for administrators (人员与岗位): for one jurisdiction of the viewer's area, who
//! holds which post (principal or deputy) with a form to give a post or take it back, and its
//! people with their masked phone, sign-in and roles, with forms to add a person, give or take
//! back a role and set a login and password. Every form runs the API's command
//! (`ChangeHolder`, `CreatePerson`, `ChangeGrant`, `SetAccount`) with its checks; the page
//! offers each form only to someone holding its permission there (`manage_directory`,
//! `manage_users`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::accounts::{ChangeGrant, GrantRequest, SetAccount, SetAccountRequest};
use yingji_app::directory::{AssignHolderRequest, ChangeHolder, CreatePerson, NewPersonRequest};
use yingji_app::{AppError, Permission};

use super::{Chrome, Form, OrPage, PageOut, Posted, Viewer, may, render, see_other};
use crate::AppState;
use crate::error::ApiError;

pub struct HolderLine {
    pub post_id: String,
    pub post: String,
    pub person_id: String,
    pub name: String,
    pub deputy: bool,
}

pub struct PersonLine {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub login: String,
    /// (role id, label, granted here)
    pub roles: Vec<(String, String, bool)>,
    pub posts: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub p: Chrome,
    /// (id, name, selected)
    pub jurisdictions: Vec<(String, String, bool)>,
    pub j: String,
    pub j_name: String,
    pub holders: Vec<HolderLine>,
    pub people: Vec<PersonLine>,
    /// The posts the plans in force here name: (id, label).
    pub posts: Vec<(String, String)>,
    /// Every configured role: (id, label).
    pub roles: Vec<(String, String)>,
    pub manage_directory: bool,
    pub manage_users: bool,
    pub min_password: usize,
}

#[derive(Deserialize)]
pub struct AdminQuery {
    j: Option<Uuid>,
}

/// The names of the posts of every plan owned at or above the jurisdiction (newest versions).
async fn posts_here(state: &AppState, path: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut seen_plan = std::collections::HashSet::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for row in state.store.list_plans("/").await? {
        if !seen_plan.insert(row.plan_id.clone()) {
            continue;
        }
        let Some(owner) = state.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !path.starts_with(&owner.path) {
            continue;
        }
        let plan = state.plan(&row.plan_id, row.version).await?;
        for p in &plan.posts {
            if !out.iter().any(|(id, _)| *id == p.id.value) {
                out.push((p.id.value.clone(), p.name.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<AdminQuery>,
) -> impl IntoResponse {
    PageOut(
        build(&state, &v, q.j)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

async fn build(state: &AppState, v: &Viewer, j: Option<Uuid>) -> Result<AdminPage, ApiError> {
    let l = v.lang;
    let jid = j.unwrap_or(v.actor.jurisdiction_id);
    let here = state
        .scoped_jurisdiction(&v.actor, jid, "jurisdiction")
        .await?;
    state.require(
        &v.actor,
        Permission::ManageDirectory,
        &here.path,
        "jurisdiction",
    )?;
    let jurisdictions = state
        .store
        .list_jurisdictions(&v.actor.scope_path)
        .await?
        .into_iter()
        .map(|x| (x.id.to_string(), x.name, x.id == here.id))
        .collect();
    let posts = posts_here(state, &here.path).await?;
    let label = |post: &str| {
        posts
            .iter()
            .find(|(id, _)| id == post)
            .map_or_else(|| post.to_string(), |(_, n)| n.clone())
    };
    let held = yingji_app::directory::holders(state, &v.actor, here.id).await?;
    let holders: Vec<HolderLine> = held
        .items
        .iter()
        .map(|h| HolderLine {
            post_id: h.post_id.clone(),
            post: label(&h.post_id),
            person_id: h.person_id.to_string(),
            name: h.name.clone(),
            deputy: h.deputy,
        })
        .collect();
    let mut roles: Vec<(String, String)> = state
        .trust
        .roles
        .keys()
        .map(|r| (r.clone(), l.tk("role", r)))
        .collect();
    roles.sort();
    let mut people = Vec::new();
    for p in state.store.list_people(&here.path).await? {
        if p.jurisdiction_id != here.id {
            continue;
        }
        let view = yingji_app::directory::person_view(state, &p);
        let grants = yingji_app::accounts::grants(state, &v.actor, p.id).await?;
        people.push(PersonLine {
            id: p.id.to_string(),
            name: p.name.clone(),
            phone: view.phone.unwrap_or_default(),
            login: yingji_app::accounts::password_login(state, p.id)
                .await?
                .unwrap_or_default(),
            roles: grants
                .items
                .iter()
                .map(|g| {
                    (
                        g.role.clone(),
                        l.tk("role", &g.role),
                        g.jurisdiction_id == here.id,
                    )
                })
                .collect(),
            posts: holders
                .iter()
                .filter(|h| h.person_id == p.id.to_string())
                .map(|h| {
                    if h.deputy {
                        l.f1("admin.deputy_of", &h.post)
                    } else {
                        h.post.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(l.t("sep.list")),
        });
    }
    let p = Chrome::new(v, "admin", l.t("admin.title").to_string());
    Ok(AdminPage {
        p,
        jurisdictions,
        j: here.id.to_string(),
        j_name: here.name.clone(),
        holders,
        people,
        posts,
        roles,
        manage_directory: may(state, v, Permission::ManageDirectory, &here.path),
        manage_users: may(state, v, Permission::ManageUsers, &here.path),
        min_password: state.trust.min_password_length,
    })
}

fn uuid(f: &Form, k: &str) -> Result<Uuid, ApiError> {
    f.get(k)
        .and_then(|s| Uuid::parse_str(&s).ok())
        .ok_or_else(|| AppError::invalid(k, "an id").into())
}

/// POST /admin/{action}: one directory change, then back to the jurisdiction's page.
pub async fn action(
    State(state): State<AppState>,
    axum::extract::Path(action): axum::extract::Path<String>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form: f } = posted;
    let run = async {
        let j = uuid(&f, "j")?;
        match action.as_str() {
            "holder-add" | "holder-remove" => {
                let req = AssignHolderRequest {
                    post_id: f.get("post_id").unwrap_or_default(),
                    person_id: uuid(&f, "person_id")?,
                    deputy: f.get("deputy").as_deref() == Some("yes"),
                };
                let cmd = if action == "holder-add" {
                    ChangeHolder::assign(j, req)
                } else {
                    ChangeHolder::remove(j, req)
                };
                state.execute(&v.actor, None, &cmd).await?;
            }
            "person-add" => {
                let cmd = CreatePerson::from(NewPersonRequest {
                    jurisdiction_id: j,
                    name: f.get("name").unwrap_or_default(),
                    phone: f.get("phone"),
                    email: f.get("email"),
                    token: None,
                });
                state.execute(&v.actor, None, &cmd).await?;
            }
            "grant-add" | "grant-remove" => {
                let op = action.trim_start_matches("grant-");
                let cmd = ChangeGrant::parse(
                    uuid(&f, "person_id")?,
                    op,
                    GrantRequest {
                        role: f.get("role").unwrap_or_default(),
                        jurisdiction_id: j,
                    },
                )?;
                state.execute(&v.actor, None, &cmd).await?;
            }
            "account" => {
                let cmd = SetAccount::new(
                    uuid(&f, "person_id")?,
                    SetAccountRequest {
                        login: f.get("login").unwrap_or_default(),
                        password: f.get("password").unwrap_or_default(),
                    },
                );
                state.execute(&v.actor, None, &cmd).await?;
            }
            _ => return Err(ApiError::from(AppError::not_found("route"))),
        }
        Ok::<Uuid, ApiError>(j)
    };
    match run.await {
        Ok(j) => see_other(&format!("/admin?j={j}")),
        Err(e) => PageOut(Err((e.into(), v.lang))).into_response(),
    }
}
