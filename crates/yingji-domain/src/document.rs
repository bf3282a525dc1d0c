//! Documents issued from a record (a report upward, a written reply…): what the record keeps
//! of each — its number, title, the hash of the file and the template it came from. The file
//! itself is produced from the record and handed to the person who issued it; the event log
//! holds its SHA-256, so a copy can be checked against the record later.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ActorRef;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct IssuedDocument {
    pub id: Uuid,
    /// The template kind (`upward_report`, `incident_summary`, `review`, `case_reply`,
    /// `case_extension`, `case_referral`).
    pub kind: String,
    /// The upward report it renders, for `upward_report`.
    #[serde(default)]
    pub report_id: Option<Uuid>,
    /// The document number (文号) as printed.
    pub number: String,
    pub title: String,
    /// SHA-256 of the .docx file, hex.
    pub sha256: String,
    pub size: u64,
    /// Where the template came from: `default`, or the file that replaced it.
    pub template: String,
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub issued_at: Timestamp,
    pub issued_by: ActorRef,
}
