//! Petition cases: the case row, petitioners (sealed), counters and statistics.

use uuid::Uuid;

use super::Statements;
use crate::rows::{Stmt, Val};
use crate::{Conflict, args};

/// A petitioner's sealed field, as named in the API and the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PetitionerField {
    Contact,
    Address,
    IdNumber,
}

impl PetitionerField {
    pub const ALL: [PetitionerField; 3] = [
        PetitionerField::Contact,
        PetitionerField::Address,
        PetitionerField::IdNumber,
    ];

    /// `contact`, `address` or `id_number`.
    pub fn as_str(self) -> &'static str {
        match self {
            PetitionerField::Contact => "contact",
            PetitionerField::Address => "address",
            PetitionerField::IdNumber => "id_number",
        }
    }

    pub fn parse(s: &str) -> Option<PetitionerField> {
        PetitionerField::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// The query row of a case (inserted, or its changing columns updated).
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub case_number: String,
    pub status: String,
    pub is_open: bool,
    pub channel: String,
    pub form: String,
    pub case_type: String,
    pub category: Option<String>,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub title: String,
    pub received_at: String,
    pub accepted_on: String,
    pub due_on: String,
    pub due_ms: i64,
    pub overdue: bool,
    pub extended: bool,
    /// An extension request waits for its decision.
    pub extension_requested: bool,
    pub supervision_step: Option<String>,
    pub next_due_ms: Option<i64>,
    pub updated_at: String,
    /// The case as JSON, without its petitioners.
    pub body: String,
}

/// Counts a case adds to (or, negative, removes from) its statistics group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatCounts {
    pub received: i64,
    pub replied: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub extended: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
}

#[derive(Debug, Clone)]
pub enum CaseWrite {
    /// The case's query row. A case number taken by another case is `Conflict::CaseNumber`.
    Case(Box<CaseRow>),
    /// A petitioner of a new case; contact, address and ID number already sealed.
    Petitioner {
        case_id: Uuid,
        ordinal: i64,
        name: String,
        contact: Option<String>,
        address: Option<String>,
        id_number: Option<String>,
    },
    /// The first case number of a jurisdiction's year (`Conflict::CaseNumber` when another
    /// registration took it first).
    CounterStart {
        jurisdiction_id: Uuid,
        year: i64,
        seq: i64,
    },
    /// The next case number, from `last_seq` as read (`Conflict::CaseNumber` when another
    /// registration moved it meanwhile).
    CounterAdvance {
        jurisdiction_id: Uuid,
        year: i64,
        last_seq: i64,
        seq: i64,
    },
    /// Adds counts to a statistics group (quarter, jurisdiction, department, category,
    /// channel).
    Stats {
        jurisdiction_path: String,
        quarter: String,
        department: String,
        category: String,
        channel: String,
        n: StatCounts,
    },
    /// Re-seals one petitioner value, if it is still the value read.
    Reseal {
        case_id: Uuid,
        ordinal: i64,
        field: PetitionerField,
        stored: String,
        sealed: String,
    },
    /// Erases the sealed values of a case's petitioners (names stay), once.
    Purge { case_id: Uuid, at: String },
    /// A notice to petitioners whose case was purged: its payload without the contacts it was
    /// sent to (sealed for the row), and its deliveries' addresses emptied.
    EraseNoticeAddresses { outbox_id: Uuid, payload: String },
}

impl Statements for CaseWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        if let CaseWrite::EraseNoticeAddresses { outbox_id, payload } = self {
            out.push(Stmt::new(
                "UPDATE outbox SET payload = ? WHERE id = ?",
                args![Val::json(payload), outbox_id],
            ));
            out.push(Stmt::new(
                "UPDATE deliveries SET address = '' WHERE outbox_id = ? AND person_id IS NULL",
                args![outbox_id],
            ));
            return;
        }
        out.push(match self {
            CaseWrite::Case(r) => {
                let r = *r;
                Stmt::new(
                    "INSERT INTO cases (id, jurisdiction_id, jurisdiction_path, case_number, status, is_open, channel, form, case_type, category, topic, department, title, received_at, accepted_on, due_on, due_ms, overdue, extended, extension_requested, supervision_step, next_due_ms, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, is_open = excluded.is_open, category = excluded.category, topic = excluded.topic, department = excluded.department, due_on = excluded.due_on, due_ms = excluded.due_ms, overdue = excluded.overdue, extended = excluded.extended, extension_requested = excluded.extension_requested, supervision_step = excluded.supervision_step, next_due_ms = excluded.next_due_ms, updated_at = excluded.updated_at, body = excluded.body",
                    args![
                        r.id,
                        r.jurisdiction_id,
                        r.jurisdiction_path,
                        r.case_number,
                        r.status,
                        r.is_open,
                        r.channel,
                        r.form,
                        r.case_type,
                        r.category,
                        r.topic,
                        r.department,
                        r.title,
                        Val::ts(r.received_at),
                        Val::Date(r.accepted_on),
                        Val::Date(r.due_on),
                        r.due_ms,
                        r.overdue,
                        r.extended,
                        r.extension_requested,
                        r.supervision_step,
                        r.next_due_ms,
                        Val::ts(r.updated_at),
                        Val::json(r.body),
                    ],
                )
                .on_unique(Conflict::CaseNumber)
            }
            CaseWrite::Petitioner {
                case_id,
                ordinal,
                name,
                contact,
                address,
                id_number,
            } => Stmt::new(
                "INSERT INTO case_petitioners (case_id, ordinal, petitioner_name, petitioner_contact, petitioner_address, petitioner_id_number) VALUES (?, ?, ?, ?, ?, ?)",
                args![case_id, ordinal, name, contact, address, id_number],
            ),
            CaseWrite::CounterStart {
                jurisdiction_id,
                year,
                seq,
            } => Stmt::new(
                "INSERT INTO case_counters (jurisdiction_id, year, last_seq) VALUES (?, ?, ?)",
                args![jurisdiction_id, year, seq],
            )
            .on_unique(Conflict::CaseNumber),
            CaseWrite::CounterAdvance {
                jurisdiction_id,
                year,
                last_seq,
                seq,
            } => Stmt::new(
                "UPDATE case_counters SET last_seq = ? WHERE jurisdiction_id = ? AND year = ? AND last_seq = ?",
                args![seq, jurisdiction_id, year, last_seq],
            )
            .expect(1, Conflict::CaseNumber),
            CaseWrite::Stats {
                jurisdiction_path,
                quarter,
                department,
                category,
                channel,
                n,
            } => Stmt::new(
                "INSERT INTO case_stats (jurisdiction_path, quarter, department, category, channel, received, replied, on_time, overdue, extended, satisfied, basically_satisfied, dissatisfied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (quarter, jurisdiction_path, department, category, channel) DO UPDATE SET received = case_stats.received + excluded.received, replied = case_stats.replied + excluded.replied, on_time = case_stats.on_time + excluded.on_time, overdue = case_stats.overdue + excluded.overdue, extended = case_stats.extended + excluded.extended, satisfied = case_stats.satisfied + excluded.satisfied, basically_satisfied = case_stats.basically_satisfied + excluded.basically_satisfied, dissatisfied = case_stats.dissatisfied + excluded.dissatisfied",
                args![
                    jurisdiction_path,
                    quarter,
                    department,
                    category,
                    channel,
                    n.received,
                    n.replied,
                    n.on_time,
                    n.overdue,
                    n.extended,
                    n.satisfied,
                    n.basically_satisfied,
                    n.dissatisfied
                ],
            ),
            CaseWrite::Reseal {
                case_id,
                ordinal,
                field,
                stored,
                sealed,
            } => Stmt::new(
                match field {
                    PetitionerField::Contact => {
                        "UPDATE case_petitioners SET petitioner_contact = ? WHERE case_id = ? AND ordinal = ? AND petitioner_contact = ?"
                    }
                    PetitionerField::Address => {
                        "UPDATE case_petitioners SET petitioner_address = ? WHERE case_id = ? AND ordinal = ? AND petitioner_address = ?"
                    }
                    PetitionerField::IdNumber => {
                        "UPDATE case_petitioners SET petitioner_id_number = ? WHERE case_id = ? AND ordinal = ? AND petitioner_id_number = ?"
                    }
                },
                args![sealed, case_id, ordinal, stored],
            ),
            CaseWrite::EraseNoticeAddresses { .. } => unreachable!("written above"),
            CaseWrite::Purge { case_id, at } => Stmt::new(
                "UPDATE case_petitioners SET petitioner_contact = NULL, petitioner_address = NULL, petitioner_id_number = NULL, purged_at = ? WHERE case_id = ? AND purged_at IS NULL",
                args![Val::ts(at), case_id],
            ),
        });
    }
}
