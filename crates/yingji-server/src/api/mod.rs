//! The JSON API under `/api/v1`: thin adapters from HTTP to the application (`yingji_app`).
//! Each handler extracts its input (path, query, typed JSON body), runs the application's
//! command through [`crate::run_api`] or calls one of its reads, and answers its typed output;
//! none writes to the store or checks permissions itself.

pub mod attachments;
pub mod cases;
pub mod directory;
pub mod disputes;
pub mod documents;
pub mod drills;
pub mod followups;
pub mod incidents;
pub mod notify;
pub mod openapi;
pub mod plans;
pub mod releases;
pub mod reports;
pub mod representatives;
pub mod reserves;
pub mod trust;
