//! The records of the rest of the plan (drills, reserves, instructions, meetings, commendation
//! and accountability, attachments): a record's row as its events leave it, and attachment
//! bytes kept in the database.

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum RecordWrite {
    /// A record as it is now (inserted, or its state updated).
    Put {
        id: Uuid,
        kind: &'static str,
        jurisdiction_id: Uuid,
        jurisdiction_path: String,
        subject_id: Option<Uuid>,
        status: String,
        due_at: Option<String>,
        updated_at: String,
        body: String,
    },
    /// An attachment's bytes (base64 text, sealed when personal), written once.
    Blob { id: Uuid, data: String },
}

impl Statements for RecordWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            RecordWrite::Put {
                id,
                kind,
                jurisdiction_id,
                jurisdiction_path,
                subject_id,
                status,
                due_at,
                updated_at,
                body,
            } => Stmt::new(
                "INSERT INTO records (id, kind, jurisdiction_id, jurisdiction_path, subject_id, status, due_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at, updated_at = excluded.updated_at, body = excluded.body",
                args![
                    id,
                    kind.to_string(),
                    jurisdiction_id,
                    jurisdiction_path,
                    subject_id,
                    status,
                    Val::opt_ts(due_at),
                    Val::ts(updated_at),
                    Val::json(body)
                ],
            ),
            RecordWrite::Blob { id, data } => Stmt::new(
                "INSERT INTO attachment_blobs (id, data) VALUES (?, ?)",
                args![id, data],
            ),
        });
    }
}
