//! Scheduled reports: submissions and reminders.

use uuid::Uuid;

use super::Statements;
use crate::rows::{Stmt, Val};
use crate::{Conflict, args};

#[derive(Debug, Clone)]
pub enum ReportWrite {
    /// A report or nil report for one slot by one owing party (once:
    /// `Conflict::AlreadySubmitted`).
    Submission {
        id: Uuid,
        plan_id: String,
        schedule_id: String,
        due_at: String,
        party: String,
        party_name: String,
        jurisdiction_path: String,
        nil: bool,
        content: String,
        submitted_by: Uuid,
        submitted_at: String,
    },
    /// A reminder of one kind (`late`) sent for one slot and party.
    Reminder {
        plan_id: String,
        schedule_id: String,
        due_at: String,
        party: String,
        kind: String,
        created_at: String,
    },
}

impl Statements for ReportWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            ReportWrite::Submission {
                id,
                plan_id,
                schedule_id,
                due_at,
                party,
                party_name,
                jurisdiction_path,
                nil,
                content,
                submitted_by,
                submitted_at,
            } => Stmt::new(
                "INSERT INTO report_submissions (id, plan_id, schedule_id, due_at, party, party_name, jurisdiction_path, nil, content, submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                args![
                    id,
                    plan_id,
                    schedule_id,
                    Val::ts(due_at),
                    party,
                    party_name,
                    jurisdiction_path,
                    nil,
                    content,
                    submitted_by,
                    Val::ts(submitted_at)
                ],
            )
            .on_unique(Conflict::AlreadySubmitted),
            ReportWrite::Reminder {
                plan_id,
                schedule_id,
                due_at,
                party,
                kind,
                created_at,
            } => Stmt::new(
                "INSERT INTO report_reminders (plan_id, schedule_id, due_at, party, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                args![plan_id, schedule_id, Val::ts(due_at), party, kind, Val::ts(created_at)],
            ),
        });
    }
}
