//! Reserves (应急保障): items a jurisdiction keeps for a response — materials, equipment,
//! vehicles, venues — each with a unit, the quantity on hand, a minimum, a location and the
//! post that keeps it. Every movement (in, out, issued to an incident, returned from one) is an
//! event of the item's stream; stock that falls below its minimum is an event too, which the
//! application turns into a notice to the custodian's post.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ActorRef;

/// What sort of reserve an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = ReserveKind))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 物资 (water, tents, loudspeakers…).
    Material,
    /// 装备.
    Equipment,
    /// 车辆: available while not issued.
    Vehicle,
    /// 场所 (a hall for talks, a shelter): available while not issued.
    Venue,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Material => "material",
            Kind::Equipment => "equipment",
            Kind::Vehicle => "vehicle",
            Kind::Venue => "venue",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "material" => Kind::Material,
            "equipment" => Kind::Equipment,
            "vehicle" => Kind::Vehicle,
            "venue" => Kind::Venue,
            _ => return None,
        })
    }
}

/// How stock moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Received into stock (入库).
    In,
    /// Taken out of stock for another reason (出库: used up, written off, lent).
    Out,
    /// Issued to an incident (调用).
    Issue,
    /// Returned from an incident (归还).
    Return,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::In => "in",
            MovementKind::Out => "out",
            MovementKind::Issue => "issue",
            MovementKind::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<MovementKind> {
        Some(match s {
            "in" => MovementKind::In,
            "out" => MovementKind::Out,
            "issue" => MovementKind::Issue,
            "return" => MovementKind::Return,
            _ => return None,
        })
    }
}

/// What an incident holds of an item (issued, not yet returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Issued {
    pub incident_id: Uuid,
    pub incident_title: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(as = ReserveItem))]
pub struct Item {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub kind: Kind,
    pub name: String,
    /// The unit counted (件, 箱, 辆, 间…).
    pub unit: String,
    /// On hand now.
    pub quantity: i64,
    /// The least that should be on hand.
    pub minimum: i64,
    pub location: String,
    /// The post of the jurisdiction that keeps it (its holders are told of low stock); None:
    /// the jurisdiction's office.
    pub custodian_post: Option<String>,
    /// What incidents hold of it now.
    pub issued: Vec<Issued>,
    pub below_minimum: bool,
    pub created_by: ActorRef,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl Item {
    /// What `incident` holds of it.
    pub fn held_by(&self, incident: Uuid) -> i64 {
        self.issued
            .iter()
            .filter(|i| i.incident_id == incident)
            .map(|i| i.quantity)
            .sum()
    }
}

/// A new item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewItem {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub kind: Kind,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub minimum: i64,
    pub location: String,
    pub custodian_post: Option<String>,
}

/// A movement as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub kind: MovementKind,
    pub quantity: i64,
    /// For an issue or a return: the incident (id, title).
    pub incident: Option<(Uuid, String)>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create(NewItem),
    Move(Movement),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Created {
        item: NewItem,
    },
    Moved {
        movement: Movement,
        /// On hand after it.
        quantity_after: i64,
    },
    /// The stock fell below its minimum with the movement before it.
    BelowMinimum {
        quantity: i64,
        minimum: i64,
    },
    /// The stock is back at or above its minimum.
    Restocked {
        quantity: i64,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Created { .. } => "reserve_created",
            Event::Moved { .. } => "reserve_moved",
            Event::BelowMinimum { .. } => "reserve_below_minimum",
            Event::Restocked { .. } => "reserve_restocked",
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Event::Moved { movement, .. } => movement.note.clone(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    #[error("`{0}` is required")]
    Missing(&'static str),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("only {have} on hand; {asked} asked")]
    Insufficient { have: i64, asked: i64 },
    #[error("the incident holds {held}; {asked} cannot be returned")]
    NotHeld { held: i64, asked: i64 },
    #[error("the item exists already")]
    Exists,
}

impl ReserveError {
    pub fn code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode as C;
        match self {
            ReserveError::Missing(_) => C::MissingField,
            ReserveError::Invalid(_) | ReserveError::NotHeld { .. } => C::InvalidField,
            ReserveError::Insufficient { .. } => C::InsufficientStock,
            ReserveError::Exists => C::IllegalTransition,
        }
    }
}

/// The most an item may count (a guard against typing errors, far above any real store).
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// Decides a command on an item (None before it is created).
pub fn decide(item: Option<&Item>, cmd: &Command) -> Result<Vec<Event>, ReserveError> {
    match (item, cmd) {
        (None, Command::Create(n)) => {
            if n.name.trim().is_empty() {
                return Err(ReserveError::Missing("name"));
            }
            if n.unit.trim().is_empty() {
                return Err(ReserveError::Missing("unit"));
            }
            if !(0..=MAX_QUANTITY).contains(&n.quantity) || !(0..=MAX_QUANTITY).contains(&n.minimum)
            {
                return Err(ReserveError::Invalid(
                    "quantity and minimum must be between 0 and 1,000,000,000",
                ));
            }
            let mut events = vec![Event::Created { item: n.clone() }];
            if n.quantity < n.minimum {
                events.push(Event::BelowMinimum {
                    quantity: n.quantity,
                    minimum: n.minimum,
                });
            }
            Ok(events)
        }
        (Some(_), Command::Create(_)) => Err(ReserveError::Exists),
        (None, Command::Move(_)) => Err(ReserveError::Missing("item")),
        (Some(i), Command::Move(m)) => {
            if !(1..=MAX_QUANTITY).contains(&m.quantity) {
                return Err(ReserveError::Invalid(
                    "a movement's quantity must be at least 1",
                ));
            }
            let needs_incident = matches!(m.kind, MovementKind::Issue | MovementKind::Return);
            if needs_incident && m.incident.is_none() {
                return Err(ReserveError::Missing("incident_id"));
            }
            if !needs_incident && m.incident.is_some() {
                return Err(ReserveError::Invalid(
                    "only an issue or a return names an incident",
                ));
            }
            let after = match m.kind {
                MovementKind::In => i.quantity + m.quantity,
                MovementKind::Out | MovementKind::Issue => {
                    if m.quantity > i.quantity {
                        return Err(ReserveError::Insufficient {
                            have: i.quantity,
                            asked: m.quantity,
                        });
                    }
                    i.quantity - m.quantity
                }
                MovementKind::Return => {
                    let held = m.incident.as_ref().map_or(0, |(id, _)| i.held_by(*id));
                    if m.quantity > held {
                        return Err(ReserveError::NotHeld {
                            held,
                            asked: m.quantity,
                        });
                    }
                    i.quantity + m.quantity
                }
            };
            if after > MAX_QUANTITY {
                return Err(ReserveError::Invalid("more than an item may count"));
            }
            let mut events = vec![Event::Moved {
                movement: m.clone(),
                quantity_after: after,
            }];
            if after < i.minimum && !i.below_minimum {
                events.push(Event::BelowMinimum {
                    quantity: after,
                    minimum: i.minimum,
                });
            } else if after >= i.minimum && i.below_minimum {
                events.push(Event::Restocked { quantity: after });
            }
            Ok(events)
        }
    }
}

/// Applies an event (`at` and `actor` from its envelope).
pub fn apply(item: Option<Item>, e: &Event, at: Timestamp, actor: &ActorRef) -> Option<Item> {
    if let Event::Created { item: n } = e {
        return Some(Item {
            id: n.id,
            jurisdiction_id: n.jurisdiction_id,
            kind: n.kind,
            name: n.name.clone(),
            unit: n.unit.clone(),
            quantity: n.quantity,
            minimum: n.minimum,
            location: n.location.clone(),
            custodian_post: n.custodian_post.clone(),
            issued: vec![],
            below_minimum: false,
            created_by: actor.clone(),
            created_at: at,
            updated_at: at,
        });
    }
    let mut i = item?;
    i.updated_at = at;
    match e {
        Event::Created { .. } => {}
        Event::Moved {
            movement,
            quantity_after,
        } => {
            i.quantity = *quantity_after;
            if let Some((id, title)) = &movement.incident {
                let delta = match movement.kind {
                    MovementKind::Issue => movement.quantity,
                    MovementKind::Return => -movement.quantity,
                    _ => 0,
                };
                match i.issued.iter_mut().find(|x| x.incident_id == *id) {
                    Some(x) => x.quantity += delta,
                    None => i.issued.push(Issued {
                        incident_id: *id,
                        incident_title: title.clone(),
                        quantity: delta,
                    }),
                }
                i.issued.retain(|x| x.quantity > 0);
            }
        }
        Event::BelowMinimum { .. } => i.below_minimum = true,
        Event::Restocked { .. } => i.below_minimum = false,
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> ActorRef {
        ActorRef {
            person_id: Uuid::nil(),
            name: "保管员".into(),
        }
    }

    fn run(i: Option<Item>, cmd: &Command) -> Result<(Item, Vec<Event>), ReserveError> {
        let events = decide(i.as_ref(), cmd)?;
        let at: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let after = events
            .iter()
            .fold(i, |i, e| apply(i, e, at, &actor()))
            .unwrap();
        Ok((after, events))
    }

    fn mv(kind: MovementKind, quantity: i64, incident: Option<Uuid>) -> Command {
        Command::Move(Movement {
            kind,
            quantity,
            incident: incident.map(|id| (id, "聚集".into())),
            note: None,
        })
    }

    #[test]
    fn issuing_below_the_minimum_is_recorded_once_and_a_return_restocks() {
        let (i, _) = run(
            None,
            &Command::Create(NewItem {
                id: Uuid::now_v7(),
                jurisdiction_id: Uuid::now_v7(),
                kind: Kind::Material,
                name: "瓶装水".into(),
                unit: "箱".into(),
                quantity: 50,
                minimum: 30,
                location: "市应急物资库".into(),
                custodian_post: Some("keeper".into()),
            }),
        )
        .unwrap();
        let inc = Uuid::now_v7();
        let (i, ev) = run(Some(i), &mv(MovementKind::Issue, 25, Some(inc))).unwrap();
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::BelowMinimum {
                quantity: 25,
                minimum: 30
            }
        )));
        assert_eq!(i.held_by(inc), 25);
        // Further below: no second alert.
        let (i, ev) = run(Some(i), &mv(MovementKind::Out, 5, None)).unwrap();
        assert_eq!(ev.len(), 1);
        // More than on hand, or returning more than held: refused.
        assert!(matches!(
            decide(Some(&i), &mv(MovementKind::Issue, 21, Some(inc))),
            Err(ReserveError::Insufficient {
                have: 20,
                asked: 21
            })
        ));
        assert!(decide(Some(&i), &mv(MovementKind::Return, 26, Some(inc))).is_err());
        assert!(decide(Some(&i), &mv(MovementKind::Issue, 1, None)).is_err());
        assert!(decide(Some(&i), &mv(MovementKind::In, 0, None)).is_err());
        let (i, ev) = run(Some(i), &mv(MovementKind::Return, 25, Some(inc))).unwrap();
        assert!(
            ev.iter()
                .any(|e| matches!(e, Event::Restocked { quantity: 45 }))
        );
        assert!(i.issued.is_empty());
        assert!(!i.below_minimum);
    }
}
