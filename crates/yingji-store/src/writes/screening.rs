//! Dispute screening: rounds, unit submissions and disputes.

use uuid::Uuid;

use super::Statements;
use crate::rows::{Stmt, Val};
use crate::{Conflict, args};

#[derive(Debug, Clone)]
pub enum ScreeningWrite {
    /// A screening round opened (one per jurisdiction and period: `Conflict::RoundExists`).
    Round {
        id: Uuid,
        jurisdiction_id: Uuid,
        jurisdiction_path: String,
        cadence: String,
        round_key: String,
        opened_at: String,
    },
    /// A unit's return for a round, or its nil return (one per unit and round:
    /// `Conflict::AlreadySubmitted`).
    Submission {
        round_id: Uuid,
        unit_id: Uuid,
        nil: bool,
        disputes_found: u32,
        note: Option<String>,
        submitted_by: Uuid,
        submitted_at: String,
    },
    /// A dispute as it is now (inserted, or its state updated).
    Dispute {
        id: Uuid,
        jurisdiction_id: Uuid,
        jurisdiction_path: String,
        round_id: Option<Uuid>,
        status: String,
        risk: String,
        nature: String,
        title: String,
        reported_upward: bool,
        registered_at: String,
        updated_at: String,
        body: String,
    },
}

impl Statements for ScreeningWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            ScreeningWrite::Round {
                id,
                jurisdiction_id,
                jurisdiction_path,
                cadence,
                round_key,
                opened_at,
            } => Stmt::new(
                "INSERT INTO screening_rounds (id, jurisdiction_id, jurisdiction_path, cadence, round_key, opened_at) VALUES (?, ?, ?, ?, ?, ?)",
                args![id, jurisdiction_id, jurisdiction_path, cadence, round_key, Val::ts(opened_at)],
            )
            .on_unique(Conflict::RoundExists),
            ScreeningWrite::Submission {
                round_id,
                unit_id,
                nil,
                disputes_found,
                note,
                submitted_by,
                submitted_at,
            } => Stmt::new(
                "INSERT INTO screening_submissions (round_id, unit_id, nil, disputes_found, note, submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                args![round_id, unit_id, nil, disputes_found, note, submitted_by, Val::ts(submitted_at)],
            )
            .on_unique(Conflict::AlreadySubmitted),
            ScreeningWrite::Dispute {
                id,
                jurisdiction_id,
                jurisdiction_path,
                round_id,
                status,
                risk,
                nature,
                title,
                reported_upward,
                registered_at,
                updated_at,
                body,
            } => Stmt::new(
                "INSERT INTO disputes (id, jurisdiction_id, jurisdiction_path, round_id, status, risk, nature, title, reported_upward, registered_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, reported_upward = excluded.reported_upward, updated_at = excluded.updated_at, body = excluded.body",
                args![
                    id,
                    jurisdiction_id,
                    jurisdiction_path,
                    round_id,
                    status,
                    risk,
                    nature,
                    title,
                    reported_upward,
                    Val::ts(registered_at),
                    Val::ts(updated_at),
                    Val::json(body)
                ],
            ),
        });
    }
}
