//! Information releases: a release's row as its events leave it.

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum ReleaseWrite {
    /// A release as it is now (inserted, or its state updated).
    Put {
        id: Uuid,
        jurisdiction_id: Uuid,
        jurisdiction_path: String,
        status: String,
        published_at: Option<String>,
        updated_at: String,
        body: String,
    },
}

impl Statements for ReleaseWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            ReleaseWrite::Put {
                id,
                jurisdiction_id,
                jurisdiction_path,
                status,
                published_at,
                updated_at,
                body,
            } => Stmt::new(
                "INSERT INTO releases (id, jurisdiction_id, jurisdiction_path, status, published_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, published_at = excluded.published_at, updated_at = excluded.updated_at, body = excluded.body",
                args![
                    id,
                    jurisdiction_id,
                    jurisdiction_path,
                    status,
                    published_at.map_or(Val::Null(crate::SqlType::Timestamp), Val::ts),
                    Val::ts(updated_at),
                    Val::json(body)
                ],
            ),
        });
    }
}
