//! Calls: the callout projection (one row per incident) and who was called.

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum CallWrite {
    /// The incident's callout as it is now (inserted or replaced).
    Callout {
        incident_id: Uuid,
        jurisdiction_path: String,
        body: String,
        next_due_ms: Option<i64>,
    },
    /// One person called (inserted, or their acknowledgement updated).
    Recipient {
        call_id: Uuid,
        incident_id: Uuid,
        person_id: Uuid,
        jurisdiction_path: String,
        reached_as: String,
        called_at: String,
        acked_at: Option<String>,
        ack_channel: Option<String>,
    },
    /// When the callout next needs the ticker.
    NextDue {
        incident_id: Uuid,
        next_due_ms: Option<i64>,
    },
}

impl Statements for CallWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            CallWrite::Callout {
                incident_id,
                jurisdiction_path,
                body,
                next_due_ms,
            } => Stmt::new(
                "INSERT INTO callouts (incident_id, jurisdiction_path, body, next_due_ms) VALUES (?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET body = excluded.body, next_due_ms = excluded.next_due_ms",
                args![incident_id, jurisdiction_path, Val::json(body), next_due_ms],
            ),
            CallWrite::Recipient {
                call_id,
                incident_id,
                person_id,
                jurisdiction_path,
                reached_as,
                called_at,
                acked_at,
                ack_channel,
            } => Stmt::new(
                "INSERT INTO call_recipients (call_id, incident_id, person_id, jurisdiction_path, reached_as, called_at, acked_at, ack_channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id, person_id) DO UPDATE SET acked_at = excluded.acked_at, ack_channel = excluded.ack_channel",
                args![
                    call_id,
                    incident_id,
                    person_id,
                    jurisdiction_path,
                    reached_as,
                    Val::ts(called_at),
                    Val::opt_ts(acked_at),
                    ack_channel
                ],
            ),
            CallWrite::NextDue {
                incident_id,
                next_due_ms,
            } => Stmt::new(
                "UPDATE callouts SET next_due_ms = ? WHERE incident_id = ?",
                args![next_due_ms, incident_id],
            ),
        });
    }
}
