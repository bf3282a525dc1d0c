//! Per-subject keys (crypto-shredding, migration 0013): created with their subject, re-wrapped
//! by `yingji rekey`, destroyed by `yingji purge`.

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum SubjectKeyWrite {
    /// A new subject's key, wrapped with the data key ring.
    Create {
        id: Uuid,
        subject_kind: &'static str,
        subject_id: Uuid,
        wrapped_key: String,
        created_at: String,
    },
    /// The key wrapped again with the current data key (only if it is still `stored`).
    Rewrap {
        id: Uuid,
        stored: String,
        wrapped_key: String,
    },
    /// Destroys a subject's key: whatever was sealed with it can no longer be opened.
    Destroy {
        subject_kind: &'static str,
        subject_id: Uuid,
    },
    /// Forgets the stored idempotent answers that name the subject (they may hold its personal
    /// data, masked or in clear): a request repeated with such a key runs again.
    ForgetAnswers { subject_id: Uuid },
}

impl Statements for SubjectKeyWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            SubjectKeyWrite::Create {
                id,
                subject_kind,
                subject_id,
                wrapped_key,
                created_at,
            } => Stmt::new(
                "INSERT INTO subject_keys (id, subject_kind, subject_id, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?)",
                args![id, subject_kind, subject_id, wrapped_key, Val::ts(created_at)],
            ),
            SubjectKeyWrite::Rewrap {
                id,
                stored,
                wrapped_key,
            } => Stmt::new(
                "UPDATE subject_keys SET wrapped_key = ? WHERE id = ? AND wrapped_key = ?",
                args![wrapped_key, id, stored],
            ),
            SubjectKeyWrite::Destroy {
                subject_kind,
                subject_id,
            } => Stmt::new(
                "DELETE FROM subject_keys WHERE subject_kind = ? AND subject_id = ?",
                args![subject_kind, subject_id],
            ),
            SubjectKeyWrite::ForgetAnswers { subject_id } => Stmt::new(
                "DELETE FROM idempotency WHERE response LIKE ?",
                args![format!("%\"id\":\"{subject_id}\"%")],
            ),
        });
    }
}
