//! Jurisdictions, people and who holds which post: the directory. Every change is an event in
//! the entity's own stream, written with its projection row in one transaction.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_app::ErrorCode;
use yingji_store::{JurisdictionRow, PersonRow, PostHolderRow, Row, WriteSet, fmt_ts};

use crate::auth::{Actor, token_hash};
use crate::error::{ApiError, JsonBody};
use crate::sealer::{PREFIX, mask_phone};
use crate::trust::Permission;
use crate::write::{Item, append, idempotency};
use crate::{AppState, idempotent};

pub const JURISDICTION_KINDS: &[&str] = &[
    "province",
    "city",
    "county",
    "township",
    "street",
    "village",
    "community",
    "body",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewJurisdictionRequest {
    pub parent_id: Uuid,
    pub name: String,
    /// province, city, county, township, street, village, community or body (a school, a
    /// legislature office, an enterprise…).
    pub kind: String,
    /// 行政区划代码, when there is one.
    pub code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPersonRequest {
    pub jurisdiction_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// An API token for this person (stored hashed); omit for people who do not sign in.
    pub token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignHolderRequest {
    /// The post id as the jurisdiction's plans name it.
    pub post_id: String,
    pub person_id: Uuid,
    #[serde(default)]
    pub deputy: bool,
}

fn jurisdiction_json(j: &JurisdictionRow) -> Value {
    json!({ "id": j.id, "parent_id": j.parent_id, "name": j.name, "kind": j.kind, "code": j.code, "created_at": j.created_at })
}

/// The place a person's phone is sealed for (associated data).
pub fn phone_aad(person_id: Uuid) -> String {
    format!("people.phone:{person_id}")
}

/// A person's stored phone, opened (values stored before sealing are returned as they are).
pub fn open_phone(st: &AppState, p: &PersonRow, stored: &str) -> Result<String, ApiError> {
    if !stored.starts_with(PREFIX) {
        return Ok(stored.to_string());
    }
    st.sealer
        .open(stored, &phone_aad(p.id))
        .map_err(|e| ApiError::internal(format!("person {}: phone: {e}", p.id)))
}

/// A person as the API shows them: the phone masked (use `POST /people/{id}/reveal`, which is
/// logged, for the full number).
fn person_json(st: &AppState, p: &PersonRow) -> Value {
    let phone = p.phone.as_deref().map(|s| match open_phone(st, p, s) {
        Ok(v) => mask_phone(&v),
        Err(_) => crate::sealer::UNREADABLE.to_string(),
    });
    json!({ "id": p.id, "jurisdiction_id": p.jurisdiction_id, "name": p.name, "phone": phone, "email": p.email })
}

fn valid_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && p.chars().count() <= 24
        && p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "directory",
    responses((status = 200, description = "the signed-in actor and their jurisdiction", body = Object), (status = 401, body = Object)))]
pub async fn me(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .store
        .jurisdiction(actor.jurisdiction_id)
        .await?
        .ok_or_else(|| ApiError::not_found("jurisdiction"))?;
    Ok(axum::Json(json!({
        "person_id": actor.person_id, "name": actor.name, "jurisdiction": jurisdiction_json(&j),
        "roles": actor.grants.iter().map(|g| json!({ "role": g.role, "jurisdiction_id": g.jurisdiction_id })).collect::<Vec<_>>(),
        "permissions": state.permissions_at(&actor, &actor.scope_path),
    })))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions", tag = "directory",
    responses((status = 200, description = "{items}: the actor's jurisdiction and everything below it", body = Object)))]
pub async fn list_jurisdictions(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, ApiError> {
    state.require(
        &actor,
        Permission::ViewDirectory,
        &actor.scope_path,
        "jurisdiction",
    )?;
    let rows = state.store.list_jurisdictions(&actor.scope_path).await?;
    Ok(axum::Json(
        json!({ "items": rows.iter().map(jurisdiction_json).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}", tag = "directory",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = Object)))]
pub async fn get_jurisdiction(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .scoped_jurisdiction(&actor, id, "jurisdiction")
        .await?;
    state.require(&actor, Permission::ViewDirectory, &j.path, "jurisdiction")?;
    Ok(axum::Json(jurisdiction_json(&j)))
}

#[utoipa::path(post, path = "/api/v1/jurisdictions", tag = "directory",
    request_body = NewJurisdictionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Object), (status = 404, description = "parent not found", body = Object)))]
pub async fn create_jurisdiction(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewJurisdictionRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(
        &state,
        &actor,
        &headers,
        &body.sha256,
        move |idem| async move {
            let parent = st
                .scoped_jurisdiction(&a, req.parent_id, "parent jurisdiction")
                .await?;
            st.require(
                &a,
                Permission::ManageDirectory,
                &parent.path,
                "parent jurisdiction",
            )?;
            if req.name.trim().is_empty() || req.name.chars().count() > 100 {
                return Err(ApiError::new(
                    ErrorCode::InvalidName,
                    "a name of 1–100 characters is required",
                ));
            }
            if !JURISDICTION_KINDS.contains(&req.kind.as_str()) {
                return Err(ApiError::new(
                    ErrorCode::InvalidKind,
                    format!(
                        "`{}` is not a jurisdiction kind; use one of {}",
                        req.kind,
                        JURISDICTION_KINDS.join(", ")
                    ),
                ));
            }
            let now = st.clock.now();
            let id = Uuid::now_v7();
            let row = JurisdictionRow {
                id,
                parent_id: Some(parent.id),
                name: req.name.trim().to_string(),
                kind: req.kind,
                code: req.code,
                path: format!("{}{}/", parent.path, id),
                created_at: fmt_ts(now),
            };
            let body = jurisdiction_json(&row);
            let mut ws = WriteSet::default();
            append(
                &mut ws,
                id,
                "jurisdiction",
                id,
                0,
                None,
                &a.as_ref(),
                now,
                vec![Item::new("jurisdiction_created", &body, None)],
            );
            ws.rows.push(Row::Jurisdiction(row));
            idempotency(&mut ws, idem.as_ref(), &a.as_ref(), 201, &body, now);
            st.commit(ws).await?;
            Ok((StatusCode::CREATED, body))
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/people", tag = "directory",
    responses((status = 200, description = "{items}: people in the actor's subtree", body = Object)))]
pub async fn list_people(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<Value>, ApiError> {
    state.require(
        &actor,
        Permission::ViewDirectory,
        &actor.scope_path,
        "person",
    )?;
    let rows = state.store.list_people(&actor.scope_path).await?;
    Ok(axum::Json(
        json!({ "items": rows.iter().map(|p| person_json(&state, p)).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(post, path = "/api/v1/people", tag = "directory",
    request_body = NewPersonRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Object), (status = 404, body = Object)))]
pub async fn create_person(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonBody<NewPersonRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(
        &state,
        &actor,
        &headers,
        &body.sha256,
        move |idem| async move {
            let j = st
                .scoped_jurisdiction(&a, req.jurisdiction_id, "jurisdiction")
                .await?;
            st.require(&a, Permission::ManageDirectory, &j.path, "jurisdiction")?;
            if let Some(p) = &req.phone
                && !valid_phone(p)
            {
                return Err(ApiError::new(
                    ErrorCode::InvalidPhone,
                    "a phone number has 5–20 digits (and may contain + - and spaces)",
                )
                .details(json!({ "field": "phone" })));
            }
            if req.name.trim().is_empty() || req.name.chars().count() > 100 {
                return Err(ApiError::new(
                    ErrorCode::InvalidName,
                    "a name of 1–100 characters is required",
                ));
            }
            if let Some(t) = &req.token
                && t.len() < 16
            {
                return Err(ApiError::new(
                    ErrorCode::WeakToken,
                    "a token needs at least 16 characters",
                ));
            }
            let now = st.clock.now();
            let id = Uuid::now_v7();
            let row = PersonRow {
                id,
                jurisdiction_id: j.id,
                name: req.name.trim().to_string(),
                phone: req
                    .phone
                    .as_deref()
                    .map(|p| st.sealer.seal(p.trim(), &phone_aad(id))),
                email: req.email,
                token_hash: req.token.as_deref().map(token_hash),
                created_at: fmt_ts(now),
            };
            // The event and the stored response hold the masked phone only.
            let body = person_json(&st, &row);
            let mut ws = WriteSet::default();
            append(
                &mut ws,
                id,
                "person",
                j.id,
                0,
                None,
                &a.as_ref(),
                now,
                vec![Item::new("person_created", &body, None)],
            );
            ws.rows.push(Row::Person(row));
            idempotency(&mut ws, idem.as_ref(), &a.as_ref(), 201, &body, now);
            st.commit(ws).await?;
            Ok((StatusCode::CREATED, body))
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/jurisdictions/{id}/holders", tag = "directory",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "{items}: who holds which post now", body = Object)))]
pub async fn list_holders(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let j = state
        .scoped_jurisdiction(&actor, id, "jurisdiction")
        .await?;
    state.require(&actor, Permission::ViewDirectory, &j.path, "jurisdiction")?;
    let items: Vec<Value> = state
        .store
        .holders_in(id)
        .await?
        .into_iter()
        .map(|(post, pid, name, deputy)| json!({ "post_id": post, "person_id": pid, "name": name, "deputy": deputy }))
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/jurisdictions/{id}/holders", tag = "directory",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AssignHolderRequest,
    responses((status = 201, body = Object), (status = 404, body = Object)))]
pub async fn assign_holder(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: JsonBody<AssignHolderRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let st = state.clone();
    let a = actor.clone();
    idempotent(&state, &actor, &headers, &body.sha256, move |idem| async move {
        let j = st.scoped_jurisdiction(&a, id, "jurisdiction").await?;
        st.require(&a, Permission::ManageDirectory, &j.path, "jurisdiction")?;
        let person = st
            .store
            .person(req.person_id)
            .await?
            .ok_or_else(|| ApiError::not_found("person"))?;
        // Only people in the actor's own subtree can be given posts.
        st.scoped_jurisdiction(&a, person.jurisdiction_id, "person").await?;
        if req.post_id.trim().is_empty() || req.post_id.len() > 64 {
            return Err(ApiError::new(ErrorCode::InvalidPost, "a post id of 1–64 characters is required"));
        }
        let now = st.clock.now();
        let body = json!({ "jurisdiction_id": j.id, "post_id": req.post_id, "person_id": person.id, "name": person.name, "deputy": req.deputy });
        let mut ws = WriteSet::default();
        let head = st.store.stream_head(person.id).await?;
        let (version, hash) = head.map_or((0, None), |(v, h)| (v, Some(h)));
        append(&mut ws, person.id, "person", person.jurisdiction_id, version, hash.as_deref(), &a.as_ref(), now, vec![Item::new("post_assigned", &body, None)]);
        ws.rows.push(Row::PostHolder(PostHolderRow {
            jurisdiction_id: j.id,
            post_id: req.post_id.clone(),
            person_id: person.id,
            deputy: req.deputy,
        }));
        idempotency(&mut ws, idem.as_ref(), &a.as_ref(), 201, &body, now);
        st.commit(ws).await?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// Re-seals every person's phone sealed with an older key (or stored before sealing) with the
/// current key. Returns how many values changed. Idempotent; safe while serving.
pub async fn rekey(st: &AppState) -> Result<usize, ApiError> {
    let mut n = 0;
    for p in st.store.list_people("/").await? {
        let Some(stored) = &p.phone else { continue };
        if stored.starts_with(PREFIX) && !st.sealer.needs_rekey(stored) {
            continue;
        }
        let plain = open_phone(st, &p, stored)?;
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Sql(yingji_store::Stmt::new(
            "UPDATE people SET phone = ? WHERE id = ? AND phone = ?",
            yingji_store::args![st.sealer.seal(&plain, &phone_aad(p.id)), p.id, stored],
        )));
        st.store.commit(ws).await?;
        n += 1;
    }
    // SMS channel numbers are sealed for the same place as the directory phone.
    for (id, _, stored) in st.store.people_phones().await? {
        if !stored.starts_with(PREFIX) || !st.sealer.needs_rekey(&stored) {
            continue;
        }
        let plain = st
            .sealer
            .open(&stored, &phone_aad(id))
            .map_err(|e| ApiError::internal(format!("person {id}: sms channel: {e}")))?;
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Sql(yingji_store::Stmt::new(
            "UPDATE person_channels SET address = ? WHERE person_id = ? AND channel = 'sms' AND address = ?",
            yingji_store::args![st.sealer.seal(&plain, &phone_aad(id)), id, &stored],
        )));
        st.store.commit(ws).await?;
        n += 1;
    }
    Ok(n)
}
