//! yingji-domain: the incident loop as pure state machines (`decide` → events → `apply`), the
//! injected clock, and the audit hash chain. No I/O: the store persists what this crate decides.

pub mod audit;
pub mod calendar;
pub mod callout;
pub mod case;
pub mod clock;
pub mod dispute;
pub mod document;
pub mod drill;
pub mod error;
pub mod followup;
pub mod incident;
pub mod policy;
pub mod release;
pub mod reports;
pub mod reserve;
pub mod roster;
pub mod search;
pub mod values;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who did something. Every command carries one; every event records one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ActorRef {
    pub person_id: Uuid,
    pub name: String,
}

/// A person as a task assignee or an approver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct PersonRef {
    pub person_id: Uuid,
    pub name: String,
}

/// A new time-ordered id (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
