//! The directory: jurisdictions, people and who holds which post. Every change is an event in
//! the entity's own stream, written with its projection row in one transaction, through the
//! command runner. People's phones are sealed at rest and shown masked; the one way to read
//! one in clear is [`RevealPhone`], logged first. [`rekey_phones`] re-seals them after a key
//! rotation.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_store::{
    DirectoryWrite, JurisdictionRow, PersonRow, PostHolderRow, Row, WriteSet, fmt_ts,
};

use crate::accounts::{RoleRef, managed_person, person_event, roles_of};
use crate::actor::token_hash;
use crate::command::{Command, Decided};
use crate::sealer::{PREFIX, SealError, UNREADABLE, mask_email, mask_phone};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission, phone_aad};

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

fn json_text<T: Serialize>(v: &T) -> JsonText {
    JsonText(serde_json::to_string(v).expect("serialises"))
}

// ---------------------------------------------------------------------------------------------
// What the API answers

/// A jurisdiction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jurisdiction {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    /// 行政区划代码, when there is one.
    pub code: Option<String>,
    pub created_at: String,
}

impl From<&JurisdictionRow> for Jurisdiction {
    fn from(j: &JurisdictionRow) -> Self {
        Jurisdiction {
            id: j.id,
            parent_id: j.parent_id,
            name: j.name.clone(),
            kind: j.kind.clone(),
            code: j.code.clone(),
            created_at: j.created_at.clone(),
        }
    }
}

/// What `GET /jurisdictions` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JurisdictionList {
    pub items: Vec<Jurisdiction>,
}

/// A person as the API shows them: the phone masked (`POST /people/{id}/reveal`, which is
/// logged, gives the full number).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub name: String,
    /// Masked, such as `139****1234`.
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// What `GET /people` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonList {
    pub items: Vec<Person>,
}

/// Who holds a post now (`GET /jurisdictions/{id}/holders`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Holder {
    pub post_id: String,
    pub person_id: Uuid,
    pub name: String,
    pub deputy: bool,
}

/// What `GET /jurisdictions/{id}/holders` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolderList {
    pub items: Vec<Holder>,
}

/// A post given to (or taken from) a person in a jurisdiction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolderChange {
    pub jurisdiction_id: Uuid,
    pub post_id: String,
    pub person_id: Uuid,
    pub name: String,
    pub deputy: bool,
}

/// The signed-in actor (`GET /me`): their jurisdiction, roles and the permissions they hold
/// in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub person_id: Uuid,
    pub name: String,
    pub jurisdiction: Jurisdiction,
    pub roles: Vec<RoleRef>,
    pub permissions: Vec<String>,
}

/// What `POST /people/{id}/reveal` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevealResponse {
    pub person_id: Uuid,
    pub field: String,
    /// The value in clear (null when the person has none).
    pub value: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Phones

fn seal_failure(person: Uuid, what: &str, app: &App, e: SealError) -> AppError {
    match e {
        SealError::UnknownKey(id) => AppError::new(
            ErrorCode::DataKeyMissing,
            format!(
                "person {person}: the {what} is sealed with data key {id}, which is not in the key ring (it has {}); add that key before the current one (YINGJI_DATA_KEY or the key file) and retry",
                app.sealer.key_ids().join(", ")
            ),
        )
        .details(json!({ "key_id": id })),
        e => AppError::internal(format!("person {person}: {what}: {e}")),
    }
}

/// A person's stored phone, opened (values stored before sealing are returned as they are).
pub fn open_phone(app: &App, p: &PersonRow, stored: &str) -> Result<String, AppError> {
    if !stored.starts_with(PREFIX) {
        return Ok(stored.to_string());
    }
    app.sealer
        .open(stored, &phone_aad(p.id))
        .map_err(|e| seal_failure(p.id, "phone", app, e))
}

/// A person as the API shows them (the phone and e-mail masked; one this process cannot open is shown
/// as such).
pub fn person_view(app: &App, p: &PersonRow) -> Person {
    let phone = p.phone.as_deref().map(|s| match open_phone(app, p, s) {
        Ok(v) => mask_phone(&v),
        Err(_) => UNREADABLE.to_string(),
    });
    let email = p.email.as_deref().map(|s| match open_phone(app, p, s) {
        Ok(v) => mask_email(&v),
        Err(_) => UNREADABLE.to_string(),
    });
    Person {
        id: p.id,
        jurisdiction_id: p.jurisdiction_id,
        name: p.name.clone(),
        phone,
        email,
    }
}

/// A phone number by the one rule for phones ([`yingji_domain::values::Phone`]).
fn valid_phone(p: &str) -> bool {
    yingji_domain::values::Phone::try_from(p).is_ok()
}

/// Re-seals every person's phone, e-mail and channel address sealed with an older key, or
/// stored before sealing, with the current key. Returns how many values changed. Idempotent; safe
/// while serving (a value changed meanwhile is left as it is). An operator command.
pub async fn rekey_phones(app: &App) -> Result<usize, AppError> {
    let mut n = 0;
    let people = app.store.list_people("/").await?;
    let total = Some(people.len() as u64);
    for (i, p) in people.iter().enumerate() {
        if i.is_multiple_of(100) {
            app.store
                .progress("rekey: people", i as u64, total, "people");
        }
        let Some(stored) = &p.phone else { continue };
        if stored.starts_with(PREFIX) && !app.sealer.needs_rekey(stored) {
            continue;
        }
        let plain = open_phone(app, p, stored)?;
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Directory(DirectoryWrite::PersonPhone {
            person_id: p.id,
            phone: app.sealer.seal(&plain, &phone_aad(p.id)),
            was: stored.clone(),
        }));
        app.commit(ws).await?;
        n += 1;
    }
    // Channel addresses (phones, e-mails, robot and webhook URLs) and directory e-mails are
    // sealed for the same place as the directory phone; ones stored in clear before every
    // address was sealed are sealed now.
    for (id, channel, stored) in app.store.all_channel_addresses().await? {
        if stored.starts_with(PREFIX) && !app.sealer.needs_rekey(&stored) {
            continue;
        }
        let plain = if stored.starts_with(PREFIX) {
            app.sealer
                .open(&stored, &phone_aad(id))
                .map_err(|e| seal_failure(id, "channel address", app, e))?
        } else {
            stored.clone()
        };
        let sealed = app.sealer.seal(&plain, &phone_aad(id));
        let mut ws = WriteSet::default();
        ws.rows
            .push(Row::Directory(if channel == "directory_email" {
                DirectoryWrite::PersonEmail {
                    person_id: id,
                    email: sealed,
                    was: stored,
                }
            } else {
                DirectoryWrite::ChannelAddress {
                    person_id: id,
                    channel,
                    address: sealed,
                    was: stored,
                }
            }));
        app.commit(ws).await?;
        n += 1;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// The actor themselves (`GET /me`).
pub async fn me(app: &App, actor: &Actor) -> Result<Me, AppError> {
    let j = app
        .store
        .jurisdiction(actor.jurisdiction_id)
        .await?
        .ok_or_else(|| AppError::not_found("jurisdiction"))?;
    Ok(Me {
        person_id: actor.person_id,
        name: actor.name.clone(),
        jurisdiction: Jurisdiction::from(&j),
        roles: roles_of(actor),
        permissions: app.permissions_at(actor, &actor.scope_path),
    })
}

/// The actor's jurisdiction and everything below it.
pub async fn jurisdictions(app: &App, actor: &Actor) -> Result<JurisdictionList, AppError> {
    app.require(
        actor,
        Permission::ViewDirectory,
        &actor.scope_path,
        "jurisdiction",
    )?;
    let rows = app.store.list_jurisdictions(&actor.scope_path).await?;
    Ok(JurisdictionList {
        items: rows.iter().map(Jurisdiction::from).collect(),
    })
}

/// One jurisdiction in the actor's subtree.
pub async fn jurisdiction(app: &App, actor: &Actor, id: Uuid) -> Result<Jurisdiction, AppError> {
    let j = app.scoped_jurisdiction(actor, id, "jurisdiction").await?;
    app.require(actor, Permission::ViewDirectory, &j.path, "jurisdiction")?;
    Ok(Jurisdiction::from(&j))
}

/// The people in the actor's subtree.
pub async fn people(app: &App, actor: &Actor) -> Result<PersonList, AppError> {
    app.require(
        actor,
        Permission::ViewDirectory,
        &actor.scope_path,
        "person",
    )?;
    let rows = app.store.list_people(&actor.scope_path).await?;
    Ok(PersonList {
        items: rows.iter().map(|p| person_view(app, p)).collect(),
    })
}

/// Who holds which post in a jurisdiction of the actor's subtree.
pub async fn holders(app: &App, actor: &Actor, id: Uuid) -> Result<HolderList, AppError> {
    let j = app.scoped_jurisdiction(actor, id, "jurisdiction").await?;
    app.require(actor, Permission::ViewDirectory, &j.path, "jurisdiction")?;
    let items = app
        .store
        .holders_in(j.id)
        .await?
        .into_iter()
        .map(|(post_id, person_id, name, deputy)| Holder {
            post_id,
            person_id,
            name,
            deputy,
        })
        .collect();
    Ok(HolderList { items })
}

// ---------------------------------------------------------------------------------------------
// Jurisdictions

/// `POST /jurisdictions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
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

/// Creates a jurisdiction below another (`manage_directory` in the parent), or the root of
/// the tree (only yingji itself, at first start).
pub struct CreateJurisdiction {
    parent_id: Option<Uuid>,
    name: String,
    kind: String,
    code: Option<String>,
}

impl From<NewJurisdictionRequest> for CreateJurisdiction {
    fn from(r: NewJurisdictionRequest) -> Self {
        CreateJurisdiction {
            parent_id: Some(r.parent_id),
            name: r.name,
            kind: r.kind,
            code: r.code,
        }
    }
}

impl CreateJurisdiction {
    /// The root of the jurisdiction tree: only yingji itself creates it (first start).
    pub fn root(name: &str, kind: &str, code: Option<&str>) -> Self {
        CreateJurisdiction {
            parent_id: None,
            name: name.into(),
            kind: kind.into(),
            code: code.map(str::to_string),
        }
    }
}

impl Command for CreateJurisdiction {
    type Output = JurisdictionRow;

    fn kind(&self) -> &'static str {
        "jurisdiction.create"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<JurisdictionRow>, AppError> {
        let (parent, auth) = match self.parent_id {
            Some(id) => {
                let parent = app
                    .scoped_jurisdiction(actor, id, "parent jurisdiction")
                    .await?;
                let auth = app.authorize(
                    actor,
                    Permission::ManageDirectory,
                    &parent.path,
                    "parent jurisdiction",
                )?;
                (Some(parent), auth)
            }
            None => {
                if !actor.is_system() {
                    return Err(AppError::not_found("parent jurisdiction"));
                }
                let auth =
                    app.authorize(actor, Permission::ManageDirectory, "/", "jurisdiction")?;
                (None, auth)
            }
        };
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(AppError::new(
                ErrorCode::InvalidName,
                "a name of 1–100 characters is required",
            ));
        }
        if !JURISDICTION_KINDS.contains(&self.kind.as_str()) {
            return Err(AppError::new(
                ErrorCode::InvalidKind,
                format!(
                    "`{}` is not a jurisdiction kind; use one of {}",
                    self.kind,
                    JURISDICTION_KINDS.join(", ")
                ),
            ));
        }
        let now = app.clock.now();
        let id = Uuid::now_v7();
        let row = JurisdictionRow {
            id,
            parent_id: parent.as_ref().map(|p| p.id),
            name: self.name.trim().to_string(),
            kind: self.kind.clone(),
            code: self.code.clone(),
            path: format!(
                "{}{}/",
                parent.as_ref().map_or("/", |p| p.path.as_str()),
                id
            ),
            created_at: fmt_ts(now),
        };
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            id,
            "jurisdiction",
            id,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new(
                "jurisdiction_created",
                &Jurisdiction::from(&row),
                None,
            )],
        );
        ws.rows.push(Row::Jurisdiction(row.clone()));
        Ok(Decided::new(auth, ws, row))
    }

    fn respond(&self, out: &JurisdictionRow) -> JsonText {
        json_text(&Jurisdiction::from(out))
    }
}

// ---------------------------------------------------------------------------------------------
// People

/// `POST /people`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPersonRequest {
    pub jurisdiction_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// An API token for this person (stored hashed); omit for people who do not sign in.
    pub token: Option<String>,
}

/// Creates a person in a jurisdiction (`manage_directory` there). The phone is sealed at rest;
/// the event and the answer hold its mask only.
pub struct CreatePerson {
    pub req: NewPersonRequest,
    /// The demo's documented tokens are shorter than a real token may be.
    demo_token: bool,
}

impl From<NewPersonRequest> for CreatePerson {
    fn from(req: NewPersonRequest) -> Self {
        CreatePerson {
            req,
            demo_token: false,
        }
    }
}

impl CreatePerson {
    /// A demo person, whose token is one of the documented demo tokens (demo data only; they
    /// are shorter than the 16 characters a real token needs).
    pub fn demo(req: NewPersonRequest) -> Self {
        CreatePerson {
            req,
            demo_token: true,
        }
    }
}

/// A person as stored and as answered.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub row: PersonRow,
    pub view: Person,
}

impl Command for CreatePerson {
    type Output = NewPerson;

    fn kind(&self) -> &'static str {
        "person.create"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<NewPerson>, AppError> {
        let req = &self.req;
        let j = app
            .scoped_jurisdiction(actor, req.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::ManageDirectory, &j.path, "jurisdiction")?;
        if let Some(p) = &req.phone
            && !valid_phone(p)
        {
            return Err(AppError::field(
                ErrorCode::InvalidPhone,
                "phone",
                "a phone number has 5–20 digits (and may contain + - and spaces)",
            ));
        }
        if req.name.trim().is_empty() || req.name.chars().count() > 100 {
            return Err(AppError::new(
                ErrorCode::InvalidName,
                "a name of 1–100 characters is required",
            ));
        }
        if let Some(t) = &req.token
            && (t.is_empty() || (t.len() < 16 && !self.demo_token))
        {
            return Err(AppError::new(
                ErrorCode::WeakToken,
                "a token needs at least 16 characters",
            ));
        }
        let now = app.clock.now();
        let id = Uuid::now_v7();
        let row = PersonRow {
            id,
            jurisdiction_id: j.id,
            name: req.name.trim().to_string(),
            phone: req
                .phone
                .as_deref()
                .map(|p| app.sealer.seal(p.trim(), &phone_aad(id))),
            email: req
                .email
                .as_deref()
                .map(|e| app.sealer.seal(e.trim(), &phone_aad(id))),
            token_hash: req.token.as_deref().map(token_hash),
            created_at: fmt_ts(now),
        };
        // The event and the stored answer hold the masked phone only.
        let view = Person {
            id,
            jurisdiction_id: j.id,
            name: row.name.clone(),
            phone: req.phone.as_deref().map(|p| mask_phone(p.trim())),
            email: req.email.as_deref().map(|e| mask_email(e.trim())),
        };
        let mut ws = WriteSet::default();
        append(
            &mut ws,
            id,
            "person",
            j.id,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new("person_created", &view, None)],
        );
        ws.rows.push(Row::Person(row.clone()));
        Ok(Decided::new(auth, ws, NewPerson { row, view }))
    }

    fn respond(&self, out: &NewPerson) -> JsonText {
        json_text(&out.view)
    }
}

// ---------------------------------------------------------------------------------------------
// Post holders

/// `POST /jurisdictions/{id}/holders` (and `…/holders/remove`, where `deputy` is ignored).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignHolderRequest {
    /// The post id as the jurisdiction's plans name it.
    pub post_id: String,
    pub person_id: Uuid,
    #[serde(default)]
    pub deputy: bool,
}

/// Gives a person of the actor's subtree a post in a jurisdiction (`manage_directory` there),
/// or takes it back.
pub struct ChangeHolder {
    pub jurisdiction_id: Uuid,
    pub req: AssignHolderRequest,
    pub assign: bool,
}

impl ChangeHolder {
    pub fn assign(jurisdiction_id: Uuid, req: AssignHolderRequest) -> Self {
        ChangeHolder {
            jurisdiction_id,
            req,
            assign: true,
        }
    }

    pub fn remove(jurisdiction_id: Uuid, req: AssignHolderRequest) -> Self {
        ChangeHolder {
            jurisdiction_id,
            req,
            assign: false,
        }
    }
}

impl Command for ChangeHolder {
    type Output = HolderChange;

    fn kind(&self) -> &'static str {
        if self.assign {
            "holder.assign"
        } else {
            "holder.remove"
        }
    }

    fn status(&self) -> u16 {
        if self.assign { 201 } else { 200 }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<HolderChange>, AppError> {
        let req = &self.req;
        let j = app
            .scoped_jurisdiction(actor, self.jurisdiction_id, "jurisdiction")
            .await?;
        let auth = app.authorize(actor, Permission::ManageDirectory, &j.path, "jurisdiction")?;
        let person = app
            .store
            .person(req.person_id)
            .await?
            .ok_or_else(|| AppError::not_found("person"))?;
        // Only people in the actor's own subtree can be given posts.
        app.scoped_jurisdiction(actor, person.jurisdiction_id, "person")
            .await?;
        if req.post_id.trim().is_empty() || req.post_id.len() > 64 {
            return Err(AppError::new(
                ErrorCode::InvalidPost,
                "a post id of 1–64 characters is required",
            ));
        }
        let mut deputy = req.deputy;
        if !self.assign {
            deputy = app
                .store
                .holders_in(j.id)
                .await?
                .into_iter()
                .find(|(post, id, _, _)| *post == req.post_id && *id == person.id)
                .map(|h| h.3)
                .ok_or_else(|| AppError::not_found("post holder"))?;
        }
        let change = HolderChange {
            jurisdiction_id: j.id,
            post_id: req.post_id.clone(),
            person_id: person.id,
            name: person.name.clone(),
            deputy,
        };
        let row = if self.assign {
            Row::PostHolder(PostHolderRow {
                jurisdiction_id: j.id,
                post_id: req.post_id.clone(),
                person_id: person.id,
                deputy,
            })
        } else {
            Row::RemovePostHolder {
                jurisdiction_id: j.id,
                post_id: req.post_id.clone(),
                person_id: person.id,
            }
        };
        let kind = if self.assign {
            "post_assigned"
        } else {
            "post_removed"
        };
        let payload = serde_json::to_value(&change).map_err(AppError::internal)?;
        let ws = person_event(
            app,
            &actor.as_ref(),
            &person,
            kind,
            &payload,
            None,
            vec![row],
        )
        .await?;
        Ok(Decided::new(auth, ws, change))
    }

    fn respond(&self, out: &HolderChange) -> JsonText {
        json_text(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Reveal

/// `POST /people/{id}/reveal`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// `phone`.
    pub field: String,
    /// Why the full value is needed (recorded in the audit log).
    pub reason: String,
}

/// Reads a person's phone in clear (`call_people` or `reveal_personal_data` in their
/// jurisdiction, and a reason): the disclosure is committed before the value is answered. Never run with an
/// Idempotency-Key (the answer holds the value in clear).
pub struct RevealPhone {
    pub person_id: Uuid,
    pub req: RevealRequest,
}

impl Command for RevealPhone {
    type Output = RevealResponse;

    fn kind(&self) -> &'static str {
        "person.reveal"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<RevealResponse>, AppError> {
        // Calling a colleague (`call_people`), or any reveal of personal data.
        let (person, auth) =
            match managed_person(app, actor, self.person_id, Permission::CallPeople).await {
                Err(e) if e.code == ErrorCode::Forbidden => {
                    managed_person(app, actor, self.person_id, Permission::RevealPersonalData)
                        .await?
                }
                other => other?,
            };
        if self.req.field != "phone" {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "only `phone` can be revealed",
            ));
        }
        let value = match &person.phone {
            None => None,
            Some(sealed) => Some(open_phone(app, &person, sealed)?),
        };
        let mut ws = WriteSet::default();
        crate::trust::disclosure(
            app,
            &mut ws,
            actor,
            "person",
            person.id,
            person.jurisdiction_id,
            "phone",
            &self.req.reason,
        )?;
        Ok(Decided::new(
            auth,
            ws,
            RevealResponse {
                person_id: person.id,
                field: "phone".into(),
                value,
            },
        ))
    }

    fn respond(&self, out: &RevealResponse) -> JsonText {
        json_text(out)
    }
}
