//! Reserves (应急保障): a jurisdiction's items — materials, equipment, vehicles, venues — with
//! their stock and movements. Commands: `reserve.create`, `reserve.move` (in, out, issued to an
//! incident, returned). A movement that takes the stock below the item's minimum tells the
//! custodian's post (a `stock_low` notice, through the outbox); an issue or a return is also a
//! movement record of the incident, which its room shows.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::reserve::{self, Command, Event, Item, Kind, Movement, MovementKind, NewItem};
use yingji_store::{RecordWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command as AppCommand, Decided};
use crate::write::{Item as LogItem, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// The record kind and stream kind of an item.
pub const KIND: &str = "reserve_item";
/// The record kind of one movement.
pub const MOVEMENT_KIND: &str = "reserve_movement";

/// A new item (`POST /reserves`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItemRequest {
    /// Whose it is (default: the caller's jurisdiction).
    pub jurisdiction_id: Option<Uuid>,
    /// `material` (物资, default), `equipment`, `vehicle` or `venue`.
    pub kind: Option<String>,
    pub name: String,
    /// The unit counted (件, 箱, 辆, 间…).
    pub unit: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub minimum: i64,
    #[serde(default)]
    pub location: String,
    /// The post of the jurisdiction (a plan's post id) that keeps it and is told of low stock;
    /// none: the jurisdiction's office.
    pub custodian_post: Option<String>,
}

/// A movement (`POST /reserves/{id}/movements`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// `in`, `out`, `issue` (to an incident) or `return` (from one).
    pub kind: String,
    pub quantity: i64,
    /// For `issue` and `return`.
    pub incident_id: Option<Uuid>,
    pub note: Option<String>,
}

/// One movement as the incident's room and the item's history show it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MovementLine {
    pub id: Uuid,
    pub item_id: Uuid,
    pub item: String,
    pub unit: String,
    pub kind: MovementKind,
    pub quantity: i64,
    /// On hand after it.
    pub quantity_after: i64,
    pub incident_id: Option<Uuid>,
    pub note: Option<String>,
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// An item with its movements, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub item: Item,
    pub movements: Vec<MovementLine>,
}

fn text(field: &'static str, s: &str, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` may be at most {max} characters"),
        ));
    }
    Ok(crate::redact::text(s))
}

/// The writes of decided item events: the stream's events, the item's row, and (for a
/// movement) the movement's row and a low-stock notice when the stock fell below its minimum.
#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
fn write(
    ws: &mut WriteSet,
    after: &Item,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[Event],
) {
    let items = events
        .iter()
        .map(|e| LogItem::new(e.kind(), e, e.reason()))
        .collect();
    let ids = append(
        ws,
        after.id,
        KIND,
        after.jurisdiction_id,
        version,
        head,
        actor,
        now,
        items,
    );
    ws.rows.push(Row::Record(RecordWrite::Put {
        id: after.id,
        kind: KIND,
        jurisdiction_id: after.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        subject_id: None,
        status: if after.below_minimum { "low" } else { "ok" }.into(),
        due_at: None,
        updated_at: fmt_ts(now),
        body: serde_json::to_string(after).expect("an item serialises"),
    }));
    for (id, e) in ids.iter().zip(events) {
        match e {
            Event::Moved {
                movement,
                quantity_after,
            } => {
                let line = MovementLine {
                    id: *id,
                    item_id: after.id,
                    item: after.name.clone(),
                    unit: after.unit.clone(),
                    kind: movement.kind,
                    quantity: movement.quantity,
                    quantity_after: *quantity_after,
                    incident_id: movement.incident.as_ref().map(|(i, _)| *i),
                    note: movement.note.clone(),
                    by: actor.name.clone(),
                    at: now,
                };
                ws.rows.push(Row::Record(RecordWrite::Put {
                    id: *id,
                    kind: MOVEMENT_KIND,
                    jurisdiction_id: after.jurisdiction_id,
                    jurisdiction_path: path.to_string(),
                    subject_id: Some(line.incident_id.unwrap_or(after.id)),
                    status: movement.kind.as_str().into(),
                    due_at: None,
                    updated_at: fmt_ts(now),
                    body: serde_json::to_string(&line).expect("a movement serialises"),
                }));
            }
            Event::BelowMinimum { quantity, minimum } => {
                let notice = crate::notices::Notice::StockLow {
                    item_id: after.id,
                    item: after.name.clone(),
                    unit: after.unit.clone(),
                    quantity: *quantity,
                    minimum: *minimum,
                    location: after.location.clone(),
                    custodian_post: after.custodian_post.clone(),
                    jurisdiction_id: after.jurisdiction_id,
                    path: path.to_string(),
                };
                ws.rows.push(notice.row(*id, now));
            }
            _ => {}
        }
    }
}

/// Creates an item (`reserve.create`).
pub struct CreateItem(pub NewItemRequest);

impl AppCommand for CreateItem {
    type Output = Item;

    fn kind(&self) -> &'static str {
        "reserve.create"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Item>, AppError> {
        let r = &self.0;
        let jid = r.jurisdiction_id.unwrap_or(actor.jurisdiction_id);
        let j = app.scoped_jurisdiction(actor, jid, "jurisdiction").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &j.path, "jurisdiction")?;
        let kind = match r.kind.as_deref() {
            None => Kind::Material,
            Some(k) => Kind::parse(k).ok_or_else(|| {
                AppError::field(
                    ErrorCode::InvalidKind,
                    "kind",
                    format!(
                        "`{k}` is not a reserve kind; use material, equipment, vehicle or venue"
                    ),
                )
            })?,
        };
        let custodian_post = r
            .custodian_post
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.len() > 64
                    || !p
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    Err(AppError::field(
                        ErrorCode::InvalidPost,
                        "custodian_post",
                        "`custodian_post` is a plan's post id (letters, digits, `-`, `_`)",
                    ))
                } else {
                    Ok(p.to_string())
                }
            })
            .transpose()?;
        let new = NewItem {
            id: Uuid::now_v7(),
            jurisdiction_id: j.id,
            kind,
            name: text("name", &r.name, 100)?,
            unit: text("unit", &r.unit, 20)?,
            quantity: r.quantity,
            minimum: r.minimum,
            location: text("location", &r.location, 200)?,
            custodian_post,
        };
        let events = reserve::decide(None, &Command::Create(new))?;
        let now = app.clock.now();
        let actor_ref = actor.as_ref();
        let after = fold(None, &events, now, &actor_ref)?;
        let mut ws = WriteSet::default();
        write(&mut ws, &after, &j.path, 0, None, &actor_ref, now, &events);
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Item) -> JsonText {
        JsonText::of(out)
    }
}

fn fold(
    i: Option<Item>,
    events: &[Event],
    now: Timestamp,
    actor: &ActorRef,
) -> Result<Item, AppError> {
    events
        .iter()
        .fold(i, |i, e| reserve::apply(i, e, now, actor))
        .ok_or_else(|| AppError::internal("an item stopped being one"))
}

/// A stored item rebuilt from its events, with its row's path, version and head, and its
/// events (for the history).
async fn load(
    app: &App,
    id: Uuid,
) -> Result<
    (
        Item,
        String,
        i64,
        String,
        Vec<yingji_domain::audit::StoredEvent>,
    ),
    AppError,
> {
    let r = crate::records::replay(app, KIND, id, "reserve item", reserve::apply).await?;
    Ok((r.state, r.path, r.version, r.head, r.events))
}

/// Moves stock of an item (`reserve.move`).
pub struct MoveItem {
    pub id: Uuid,
    pub request: MoveRequest,
}

impl AppCommand for MoveItem {
    type Output = Item;

    fn kind(&self) -> &'static str {
        "reserve.move"
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Item>, AppError> {
        let (item, path, version, head, _) = load(app, self.id).await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &path, "reserve item")?;
        let r = &self.request;
        let kind = MovementKind::parse(&r.kind).ok_or_else(|| {
            AppError::field(
                ErrorCode::InvalidKind,
                "kind",
                format!(
                    "`{}` is not a movement; use in, out, issue or return",
                    r.kind
                ),
            )
        })?;
        let incident = match r.incident_id {
            Some(iid) => {
                let (inc, _) =
                    crate::incidents::load(app, actor, iid, Permission::ViewIncidents).await?;
                Some((inc.id, inc.title))
            }
            None => None,
        };
        let movement = Movement {
            kind,
            quantity: r.quantity,
            incident,
            note: r
                .note
                .as_deref()
                .map(|n| text("note", n, 500))
                .transpose()?
                .filter(|n| !n.is_empty()),
        };
        let events = reserve::decide(Some(&item), &Command::Move(movement))?;
        let now = app.clock.now();
        let actor_ref = actor.as_ref();
        let after = fold(Some(item), &events, now, &actor_ref)?;
        let mut ws = WriteSet::default();
        write(
            &mut ws,
            &after,
            &path,
            version,
            Some(&head),
            &actor_ref,
            now,
            &events,
        );
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Item) -> JsonText {
        JsonText::of(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Reads

/// The items of the actor's area, newest first (at most 1,000).
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Item>, AppError> {
    crate::records::in_area(app, actor, KIND, 1000).await
}

/// One item with its movements (from its stream), newest first.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> Result<ItemView, AppError> {
    let (item, path, _, _, events) = load(app, id).await?;
    app.require(actor, Permission::ViewIncidents, &path, "reserve item")?;
    let mut movements = vec![];
    for e in events.iter().rev() {
        let Ok(Event::Moved {
            movement,
            quantity_after,
        }) = serde_json::from_str::<Event>(&e.envelope.payload)
        else {
            continue;
        };
        movements.push(MovementLine {
            id: e.envelope.id,
            item_id: item.id,
            item: item.name.clone(),
            unit: item.unit.clone(),
            kind: movement.kind,
            quantity: movement.quantity,
            quantity_after,
            incident_id: movement.incident.map(|(i, _)| i),
            note: movement.note,
            by: e.envelope.actor_name.clone(),
            at: e.envelope.at.parse().map_err(AppError::internal)?,
        });
    }
    Ok(ItemView { item, movements })
}

/// What was issued to an incident and returned from it, oldest first (the room's block).
pub async fn of_incident(
    app: &App,
    actor: &Actor,
    incident_id: Uuid,
) -> Result<Vec<MovementLine>, AppError> {
    crate::incidents::load(app, actor, incident_id, Permission::ViewIncidents).await?;
    crate::records::of_subject(app, incident_id, MOVEMENT_KIND).await
}
