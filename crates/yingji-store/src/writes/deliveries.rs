//! The notification worker's deliveries: expansion of outbox intents, outcomes recorded under
//! a lease, and an operator's retry of a dead letter. The claim itself (which differs per
//! backend) is [`crate::Store::claim_deliveries`].

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::notify::NewDelivery;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum DeliveryWrite {
    /// A new delivery, unless one with its id exists (expansion is idempotent).
    Insert(Box<NewDelivery>),
    /// An outbox intent expanded (`error: None`) or skipped with the reason, if it is still
    /// pending.
    OutboxDone {
        outbox_id: Uuid,
        at: String,
        error: Option<String>,
    },
    /// Sent, if the lease is still ours.
    Sent { id: Uuid, lease: Uuid, at: String },
    /// A failed attempt, if the lease is still ours: back to pending at `next_at_ms`, or dead.
    Failed {
        id: Uuid,
        lease: Uuid,
        error: String,
        next_at_ms: i64,
        dead: bool,
    },
    /// Given back unsent, if the lease is still ours: pending again, due at once, the claim's
    /// attempt not counted (the worker could not start the send while its lease would last).
    Released { id: Uuid, lease: Uuid },
    /// A dead delivery back in the queue (an operator's retry); `Conflict::DeliveryNotDead`
    /// when it is not dead (any more).
    Retry { id: Uuid, now_ms: i64 },
}

impl Statements for DeliveryWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            DeliveryWrite::Insert(d) => Stmt::new(
                "INSERT INTO deliveries (id, outbox_id, incident_id, call_id, jurisdiction_path, person_id, channel, address, subject, body, ack_url, drill, state, attempts, next_at_ms, sent_at, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                args![
                    d.id,
                    d.outbox_id,
                    d.incident_id,
                    d.call_id,
                    d.jurisdiction_path,
                    d.person_id,
                    d.channel,
                    d.address,
                    d.subject,
                    d.body,
                    d.ack_url,
                    d.drill,
                    d.state,
                    d.next_at_ms,
                    Val::opt_ts(d.sent_at),
                    d.last_error,
                    Val::ts(d.created_at)
                ],
            ),
            DeliveryWrite::OutboxDone {
                outbox_id,
                at,
                error,
            } => {
                let state = if error.is_some() {
                    "skipped"
                } else {
                    "expanded"
                };
                Stmt::new(
                    "UPDATE outbox SET state = ?, done_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
                    args![state, Val::ts(at), error, outbox_id],
                )
            }
            DeliveryWrite::Sent { id, lease, at } => Stmt::new(
                "UPDATE deliveries SET state = 'sent', sent_at = ?, lease = NULL, lease_until_ms = NULL, last_error = NULL WHERE id = ? AND lease = ?",
                args![Val::ts(at), id, lease],
            ),
            DeliveryWrite::Failed {
                id,
                lease,
                error,
                next_at_ms,
                dead,
            } => Stmt::new(
                "UPDATE deliveries SET state = ?, next_at_ms = ?, last_error = ?, lease = NULL, lease_until_ms = NULL WHERE id = ? AND lease = ?",
                args![
                    if dead { "dead" } else { "pending" },
                    next_at_ms,
                    error,
                    id,
                    lease
                ],
            ),
            DeliveryWrite::Released { id, lease } => Stmt::new(
                "UPDATE deliveries SET state = 'pending', attempts = attempts - 1, lease = NULL, lease_until_ms = NULL WHERE id = ? AND lease = ?",
                args![id, lease],
            ),
            DeliveryWrite::Retry { id, now_ms } => Stmt::new(
                "UPDATE deliveries SET state = 'pending', next_at_ms = ?, attempts = 0 WHERE id = ? AND state = 'dead'",
                args![now_ms, id],
            )
            .expect(1, crate::Conflict::DeliveryNotDead),
        });
    }
}
