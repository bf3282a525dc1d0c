//! Reads for reaching people: outbox intents, deliveries (with their leases), people's channels,
//! duty rosters and callouts; and the notification worker's own writes (expansion, claim,
//! outcomes), which record no event: deliveries are the worker's working state, not the record.
//! Their SQL is in `writes/deliveries.rs` (and the claim here, as it differs per backend).

use sqlx::Row as _;
use uuid::Uuid;

use crate::rows::{bool_col, opt_uuid_col, uuid_col, vals};
use crate::writes::DeliveryWrite;
use crate::{Backend, Result, Row, Stmt, Store, Val, WriteSet, args, subtree_range};

/// An outbox intent waiting to be expanded into deliveries.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub payload: String,
}

/// One message on one channel.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: Uuid,
    pub outbox_id: Uuid,
    pub incident_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub jurisdiction_path: String,
    pub person_id: Option<Uuid>,
    pub channel: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub ack_url: Option<String>,
    pub drill: bool,
    pub state: String,
    pub attempts: i64,
    pub next_at_ms: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub created_at: String,
}

const DELIVERY_COLS: &str = "yj_text(id), yj_text(outbox_id), yj_text(incident_id), yj_text(call_id), jurisdiction_path, yj_text(person_id), channel, address, subject, body, ack_url, drill, state, attempts, next_at_ms, last_error, yj_text(sent_at), yj_text(created_at)";

fn delivery_from(r: &sqlx::any::AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: uuid_col(r, 0)?,
        outbox_id: uuid_col(r, 1)?,
        incident_id: opt_uuid_col(r, 2)?,
        call_id: opt_uuid_col(r, 3)?,
        jurisdiction_path: r.try_get(4)?,
        person_id: opt_uuid_col(r, 5)?,
        channel: r.try_get(6)?,
        address: r.try_get(7)?,
        subject: r.try_get(8)?,
        body: r.try_get(9)?,
        ack_url: r.try_get(10)?,
        drill: bool_col(r, 11)?,
        state: r.try_get(12)?,
        attempts: r.try_get(13)?,
        next_at_ms: r.try_get(14)?,
        last_error: r.try_get(15)?,
        sent_at: r.try_get(16)?,
        created_at: r.try_get(17)?,
    })
}

/// What a new delivery row holds.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: Uuid,
    pub outbox_id: Uuid,
    pub incident_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub jurisdiction_path: String,
    pub person_id: Option<Uuid>,
    pub channel: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub ack_url: Option<String>,
    pub drill: bool,
    /// `pending`, `sent` for the in-app inbox (delivered by being written), or
    /// `undeliverable` for a message nobody can receive (kept for the owning desk).
    pub state: String,
    pub next_at_ms: i64,
    pub sent_at: Option<String>,
    /// Why it is undeliverable.
    pub last_error: Option<String>,
    pub created_at: String,
}

/// What happened to one claimed delivery.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    /// Failed: back to pending at `next_at_ms`, or dead.
    Failed {
        error: String,
        next_at_ms: i64,
        dead: bool,
    },
    /// Not sent: pending again, the attempt not counted.
    Released,
}

/// Filter for the deliveries list.
#[derive(Debug, Default, Clone)]
pub struct DeliveryFilter {
    pub scope_path: String,
    pub state: Option<String>,
    pub incident_id: Option<Uuid>,
    pub channel: Option<String>,
    /// The page after this delivery (its creation time and id: newest first, then by id).
    pub before: Option<(String, Uuid)>,
    pub limit: i64,
}

/// Outbox kinds expanded before the others (the others are reminders of what is overdue or
/// late, which can pile up by the thousand).
pub const URGENT_KINDS: [&str; 6] = [
    "call",
    "warning",
    "upward_report",
    "extension_requested",
    "petitioner_notice",
    "dispute_reported_upward",
];

impl Store {
    /// Records the expansion of outbox intents: the new deliveries (each inserted unless it
    /// exists) and, per intent, expanded or skipped with the reason (`Some`), in one
    /// transaction.
    pub async fn record_expansion(
        &self,
        deliveries: Vec<NewDelivery>,
        done: Vec<(Uuid, Option<String>)>,
        at: &str,
    ) -> Result<()> {
        let mut ws = WriteSet::default();
        // In-app messages are pushed live by every process (`bus.rs`).
        ws.bus.extend(
            deliveries
                .iter()
                .filter(|d| d.channel == "inapp")
                .map(|d| crate::bus::BusMessage::Inbox { delivery_id: d.id }),
        );
        ws.rows.extend(
            deliveries
                .into_iter()
                .map(|d| Row::Delivery(DeliveryWrite::Insert(Box::new(d)))),
        );
        ws.rows.extend(done.into_iter().map(|(outbox_id, error)| {
            Row::Delivery(DeliveryWrite::OutboxDone {
                outbox_id,
                at: at.to_string(),
                error,
            })
        }));
        self.commit(ws).await
    }

    /// Claims up to `limit` due deliveries (pending and due, or sending with an expired lease)
    /// for `lease` until `lease_until_ms`, counting the attempt, and answers them.
    /// PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP LOCKED`).
    pub async fn claim_deliveries(
        &self,
        lease: Uuid,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let lock = if self.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Sql(Stmt::new(
            format!(
                "UPDATE deliveries SET state = 'sending', lease = ?, lease_until_ms = ?, attempts = attempts + 1 WHERE id IN (SELECT id FROM deliveries WHERE (state = 'pending' AND next_at_ms <= ?) OR (state = 'sending' AND lease_until_ms <= ?) ORDER BY next_at_ms LIMIT {limit}{lock})"
            ),
            args![lease, lease_until_ms, now_ms, now_ms],
        )));
        self.commit(ws).await?;
        self.leased_deliveries(lease).await
    }

    /// Records what happened to deliveries claimed under `lease`, each only if the lease is
    /// still ours (a delivery whose lease expired and was claimed again is left alone).
    pub async fn record_outcomes(
        &self,
        lease: Uuid,
        at: &str,
        outcomes: Vec<(Uuid, Outcome)>,
    ) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut ws = WriteSet::default();
        for (id, o) in outcomes {
            ws.rows.push(Row::Delivery(match o {
                Outcome::Sent => DeliveryWrite::Sent {
                    id,
                    lease,
                    at: at.to_string(),
                },
                Outcome::Failed {
                    error,
                    next_at_ms,
                    dead,
                } => DeliveryWrite::Failed {
                    id,
                    lease,
                    error,
                    next_at_ms,
                    dead,
                },
                Outcome::Released => DeliveryWrite::Released { id, lease },
            }));
        }
        self.commit(ws).await
    }

    /// Up to `limit` outbox rows waiting to be expanded: the urgent kinds ([`URGENT_KINDS`]:
    /// calls, warnings, reports upward…) first, oldest first, then the reminders, so that an
    /// activation's calls never wait behind thousands of overdue reminders (issue 21: 131 s
    /// behind 28,000).
    pub async fn pending_outbox(&self, limit: i64) -> Result<Vec<OutboxItem>> {
        let marks = vec!["?"; URGENT_KINDS.len()].join(", ");
        let mut args: Vec<crate::rows::Val> = URGENT_KINDS
            .iter()
            .map(|k| (*k).to_string().into())
            .collect();
        args.push(limit.into());
        let mut rows = self.fetch_all(
            &format!("SELECT yj_text(id), yj_text(event_id), kind, yj_text(payload) FROM outbox WHERE state = 'pending' AND kind IN ({marks}) ORDER BY created_at LIMIT ?"),
            &args,
        )
        .await?;
        if (rows.len() as i64) < limit {
            args.pop();
            args.push((limit - rows.len() as i64).into());
            rows.extend(self.fetch_all(
                &format!("SELECT yj_text(id), yj_text(event_id), kind, yj_text(payload) FROM outbox WHERE state = 'pending' AND kind NOT IN ({marks}) ORDER BY created_at LIMIT ?"),
                &args,
            )
            .await?);
        }
        rows.iter()
            .map(|r| {
                Ok(OutboxItem {
                    id: uuid_col(r, 0)?,
                    event_id: uuid_col(r, 1)?,
                    kind: r.try_get(2)?,
                    payload: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Deliveries held under `lease`.
    pub async fn leased_deliveries(&self, lease: Uuid) -> Result<Vec<Delivery>> {
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {DELIVERY_COLS} FROM deliveries WHERE lease = ? AND state = 'sending'"
                ),
                &vals![lease],
            )
            .await?;
        rows.iter().map(delivery_from).collect()
    }

    /// When the next pending delivery is due (ms), if any.
    pub async fn next_delivery_due(&self) -> Result<Option<i64>> {
        let r = self
            .fetch_one(
                "SELECT MIN(next_at_ms) FROM deliveries WHERE state = 'pending'",
                &[],
            )
            .await?;
        Ok(r.try_get::<Option<i64>, _>(0)?)
    }

    pub async fn delivery(&self, id: Uuid) -> Result<Option<Delivery>> {
        let r = self
            .fetch_optional(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE id = ?"),
                &vals![id],
            )
            .await?;
        r.as_ref().map(delivery_from).transpose()
    }

    /// Deliveries in a subtree, newest first (then by id). One incident's are read through
    /// its index; otherwise the matching deliveries of the subtree are counted first (up to
    /// [`crate::SMALL_LIST`]): few are read through the subtree's indexes and sorted, many are
    /// found by walking all deliveries newest first (migration 0020).
    pub async fn list_deliveries(&self, f: &DeliveryFilter) -> Result<Vec<Delivery>> {
        let (lo, hi) = subtree_range(&f.scope_path);
        let mut filters = String::new();
        let mut fargs: Vec<Val> = Vec::new();
        if let Some(s) = &f.state {
            filters.push_str(" AND state = ?");
            fargs.push(s.into());
        }
        if let Some(i) = f.incident_id {
            filters.push_str(" AND incident_id = ?");
            fargs.push(i.into());
        }
        if let Some(c) = &f.channel {
            filters.push_str(" AND channel = ?");
            fargs.push(c.into());
        }
        if let Some((at, id)) = &f.before {
            filters.push_str(" AND created_at <= ? AND (created_at < ? OR id < ?)");
            fargs.extend([Val::ts(at), Val::ts(at), (*id).into()]);
        }
        let large = f.incident_id.is_none()
            && self
                .subtree_is_large(
                    "deliveries",
                    "jurisdiction_path",
                    &lo,
                    &hi,
                    &filters,
                    &fargs,
                )
                .await?;
        let path = crate::rows::scope_condition("jurisdiction_path", large);
        // On SQLite the state likewise, as for incidents (its index would hand the walk a
        // sort).
        let filters = if large && self.backend() == Backend::Sqlite {
            filters.replace(" AND state = ?", " AND (state || '') = ?")
        } else {
            filters
        };
        let mut args = args![lo, hi];
        args.extend(fargs);
        args.push(f.limit.clamp(1, 1001).into());
        let rows = self
            .fetch_all(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE {path}{filters} ORDER BY created_at DESC, id DESC LIMIT ?"),
                &args,
            )
            .await?;
        rows.iter().map(delivery_from).collect()
    }

    /// When a delivery was created, as the delivery list's cursor compares it.
    pub async fn delivery_created_at(&self, id: Uuid) -> Result<Option<String>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(created_at) FROM deliveries WHERE id = ?",
                &vals![id],
            )
            .await?;
        row.map(|r| Ok(r.try_get(0)?)).transpose()
    }

    /// A person's in-app inbox, newest first.
    pub async fn inbox(&self, person_id: Uuid, limit: i64) -> Result<Vec<Delivery>> {
        let rows = self
            .fetch_all(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE person_id = ? AND channel = 'inapp' ORDER BY created_at DESC, id LIMIT ?"),
                &vals![person_id, limit.clamp(1, 500)],
            )
            .await?;
        rows.iter().map(delivery_from).collect()
    }

    /// How many deliveries are in each state.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = self
            .fetch_all(
                "SELECT state, COUNT(*) FROM deliveries GROUP BY state ORDER BY state",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// A person's channels: (channel, address), plus phone and email from the directory.
    pub async fn person_channels(&self, person_id: Uuid) -> Result<Vec<(String, String)>> {
        let rows = self
            .fetch_all(
                "SELECT channel, address FROM person_channels WHERE person_id = ? ORDER BY channel",
                &vals![person_id],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Channels of many people at once: person → [(channel, address)].
    pub async fn channels_of(
        &self,
        people: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<(String, String)>>> {
        let mut out: std::collections::HashMap<Uuid, Vec<(String, String)>> =
            std::collections::HashMap::new();
        for chunk in people.chunks(200) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT yj_text(person_id), channel, address FROM person_channels WHERE person_id IN ({marks}) UNION ALL SELECT yj_text(id), 'sms', phone FROM people WHERE phone IS NOT NULL AND id IN ({marks}) UNION ALL SELECT yj_text(id), 'email', email FROM people WHERE email IS NOT NULL AND id IN ({marks})"
            );
            let args: Vec<Val> = (0..3)
                .flat_map(|_| chunk.iter().map(|p| Val::from(*p)))
                .collect();
            for r in self.fetch_all(&sql, &args).await? {
                let id = uuid_col(&r, 0)?;
                let ch: String = r.try_get(1)?;
                let addr: String = r.try_get(2)?;
                let e = out.entry(id).or_default();
                // An explicit channel row wins over the directory's phone/email.
                if !e.iter().any(|(c, _)| *c == ch) && !addr.trim().is_empty() {
                    e.push((ch, addr));
                }
            }
        }
        Ok(out)
    }

    /// Every channel address of everyone: (person, channel, stored value — sealed or not), and
    /// every directory e-mail as channel `email` of the directory (`directory_email`).
    pub async fn all_channel_addresses(&self) -> Result<Vec<(Uuid, String, String)>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(person_id), channel, address FROM person_channels UNION ALL SELECT yj_text(id), 'directory_email', email FROM people WHERE email IS NOT NULL",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Every phone of a person (directory phone, sms channel): (id, name, stored value — sealed
    /// or not).
    /// For matching an inbound SMS against sealed phones, which no index can compare.
    pub async fn people_phones(&self) -> Result<Vec<(Uuid, String, String)>> {
        let rows = self.fetch_all("SELECT yj_text(id), name, phone FROM people WHERE phone IS NOT NULL UNION ALL SELECT yj_text(p.id), p.name, c.address FROM person_channels c JOIN people p ON p.id = c.person_id WHERE c.channel = 'sms'", &[])
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// The person whose phone (or sms channel) is `phone`.
    pub async fn person_by_phone(&self, phone: &str) -> Result<Option<(Uuid, String)>> {
        let r = self.fetch_optional(
            "SELECT yj_text(p.id), p.name FROM people p WHERE p.phone = ? UNION SELECT yj_text(p.id), p.name FROM person_channels c JOIN people p ON p.id = c.person_id WHERE c.channel = 'sms' AND c.address = ? LIMIT 1",
            &vals![phone, phone],
        )
        .await?;
        Ok(match r {
            Some(r) => Some((uuid_col(&r, 0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// A post's duty roster in a jurisdiction (JSON).
    pub async fn roster(&self, jurisdiction_id: Uuid, post: &str) -> Result<Option<String>> {
        let r = self
            .fetch_optional(
                "SELECT yj_text(body) FROM rosters WHERE jurisdiction_id = ? AND post_id = ?",
                &vals![jurisdiction_id, post],
            )
            .await?;
        Ok(match r {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Every roster of a jurisdiction: (post, JSON).
    /// Cached like the other directory rows: every report and command reads it to resolve who
    /// holds each post now.
    pub async fn rosters_in(&self, jurisdiction_id: Uuid) -> Result<Vec<(String, String)>> {
        self.cached(&self.inner.rosters, jurisdiction_id, || async move {
            let rows = self
                .fetch_all(
                    "SELECT post_id, yj_text(body) FROM rosters WHERE jurisdiction_id = ? ORDER BY post_id",
                    &vals![jurisdiction_id],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
        .await
    }

    /// An incident's callout (JSON) with its stream version and head.
    pub async fn callout(&self, incident_id: Uuid) -> Result<Option<(String, String)>> {
        let r = self
            .fetch_optional(
                "SELECT yj_text(body), jurisdiction_path FROM callouts WHERE incident_id = ?",
                &vals![incident_id],
            )
            .await?;
        Ok(match r {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// The callouts (JSON bodies) of the incidents among `ids` that have one, read together
    /// ([`Store::fetch_all_in`]): (incident, body), in no particular order.
    pub async fn callouts_of(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
        self.fetch_all_in(
            "SELECT yj_text(incident_id), yj_text(body) FROM callouts WHERE incident_id IN ",
            ids,
        )
        .await?
        .iter()
        .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?)))
        .collect()
    }

    /// Incidents whose callout has something due at or before `now_ms`.
    pub async fn due_callouts(&self, now_ms: i64, limit: i64) -> Result<Vec<Uuid>> {
        let rows = self.fetch_all(
            "SELECT yj_text(incident_id) FROM callouts WHERE next_due_ms IS NOT NULL AND next_due_ms <= ? ORDER BY next_due_ms LIMIT ?",
            &vals![now_ms, limit],
        )
        .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    /// The calls a person has not acknowledged yet, newest first: (incident, call).
    pub async fn open_calls_of(&self, person_id: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
        let rows = self.fetch_all(
            "SELECT yj_text(incident_id), yj_text(call_id) FROM call_recipients WHERE person_id = ? AND acked_at IS NULL ORDER BY called_at DESC",
            &vals![person_id],
        )
        .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, uuid_col(r, 1)?)))
            .collect()
    }

    /// The incident a call belongs to.
    pub async fn call_incident(&self, call_id: Uuid) -> Result<Option<Uuid>> {
        let r = self
            .fetch_optional(
                "SELECT yj_text(incident_id) FROM call_recipients WHERE call_id = ? LIMIT 1",
                &vals![call_id],
            )
            .await?;
        r.map(|r| uuid_col(&r, 0)).transpose()
    }
}
