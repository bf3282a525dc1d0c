//! The change bus between the processes that share one PostgreSQL database.
//!
//! A write tells the other processes what it changed with `pg_notify` issued inside its own
//! transaction ([`Store::commit`] adds the statement), so a notice goes out if and only if the
//! write committed, and in commit order. Every process listens on [`CHANNEL`] with a
//! connection of its own ([`Store::listen`]): a notice from another process drops the
//! directory cache when the directory changed and is handed to the application, which feeds
//! its live pages and inbox streams from it as from its own commits. A notice carries the
//! sending process's id, so a process skips its own (it published them already).
//!
//! Notices are not stored: a listener that loses its connection cannot know what it missed,
//! so it answers [`BusMessage::Resync`] once it is back (caches dropped, every live page told
//! to refresh). SQLite has one process and no bus.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rows::{Row, Stmt, Val};
use crate::{Backend, Store};

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "yingji_bus";

/// The advisory lock every listening process holds shared (membership).
const MEMBER: i64 = 7_146_515_291_000_000_040;

/// The statement that publishes one payload (the PostgreSQL writer sends a batch's payloads in
/// one statement: see `pg_writer::merged`).
pub(crate) const NOTIFY_SQL: &str = "SELECT pg_notify('yingji_bus', ?)";

/// PostgreSQL refuses a payload of 8,000 bytes or more; a write's notices are sent in parts
/// below this size.
const MAX_PAYLOAD: usize = 7_000;

/// What one process tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum BusMessage {
    /// A stream that a commit advanced (what live pages refresh on).
    Change {
        stream_id: Uuid,
        stream_kind: String,
        jurisdiction_id: Uuid,
        jurisdiction_path: String,
        command: Option<String>,
    },
    /// An in-app message was written (the receiving process reads it and pushes it to its
    /// inbox streams).
    Inbox { delivery_id: Uuid },
    /// The directory changed (people, accounts, grants, tokens…): drop cached rows.
    Directory,
    /// A write queued messages: the process that expands the outbox wakes.
    Outbox,
    /// Only from this process's own listener: the bus was lost and is back, and what was
    /// committed meanwhile is unknown.
    Resync,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The sending process.
    from: Uuid,
    m: Vec<BusMessage>,
}

impl Store {
    /// This process's id on the bus.
    pub fn process_id(&self) -> Uuid {
        self.inner.process
    }

    /// What other processes committed (on PostgreSQL, once [`Store::listen`] runs).
    pub fn bus(&self) -> tokio::sync::broadcast::Receiver<BusMessage> {
        self.inner.bus.subscribe()
    }

    /// The statements that publish `messages` inside the write's transaction (none on SQLite).
    pub(crate) fn bus_statements(&self, messages: Vec<BusMessage>) -> Vec<Row> {
        if self.backend() != Backend::Postgres || messages.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut part: Vec<BusMessage> = Vec::new();
        let mut size = 0;
        for m in messages {
            let len = serde_json::to_string(&m).map_or(0, |s| s.len()) + 1;
            if size + len > MAX_PAYLOAD && !part.is_empty() {
                out.push(self.notify_row(std::mem::take(&mut part)));
                size = 0;
            }
            size += len;
            part.push(m);
        }
        if !part.is_empty() {
            out.push(self.notify_row(part));
        }
        out
    }

    fn notify_row(&self, m: Vec<BusMessage>) -> Row {
        let payload = serde_json::to_string(&Envelope {
            from: self.inner.process,
            m,
        })
        .expect("bus messages serialise");
        Row::Sql(Stmt::new(NOTIFY_SQL, vec![Val::from(payload)]))
    }

    /// Starts listening to the other processes (PostgreSQL; nothing on SQLite). Returns once
    /// the first connection listens, so that nothing committed after it is missed; a lost
    /// connection is opened again (every second until it succeeds) and then answered with
    /// [`BusMessage::Resync`].
    pub async fn listen(&self) -> crate::Result<()> {
        let Some(url) = self.inner.bus_url.clone() else {
            return Ok(());
        };
        let connect = move || {
            let url = url.clone();
            async move {
                let mut l = sqlx::postgres::PgListener::connect(&url).await?;
                l.listen(CHANNEL).await?;
                // Membership: every listening process holds this lock shared (counted by
                // `Store::processes`), as long as its connection lives.
                sqlx::query(&format!("SELECT pg_advisory_lock_shared({MEMBER})"))
                    .execute(&mut l)
                    .await?;
                Ok::<_, sqlx::Error>(l)
            }
        };
        let mut listener = connect().await.map_err(|e| {
            crate::StoreError::Other(anyhow::anyhow!("listening on the change bus: {e}"))
        })?;
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => store.received(n.payload()),
                    // The connection was lost (sqlx opened it again, listening).
                    Ok(None) => {
                        tracing::warn!("the change bus lost its connection; listening again");
                        let _ = sqlx::query(&format!("SELECT pg_advisory_lock_shared({MEMBER})"))
                            .execute(&mut listener)
                            .await;
                        store.resync();
                    }
                    Err(e) => {
                        if let Some(folded) = crate::burst::log_once(&e.to_string()) {
                            tracing::warn!(error = %e, folded, "the change bus is unavailable");
                        }
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        if let Ok(l) = connect().await {
                            listener = l;
                            store.resync();
                        }
                    }
                }
            }
        });
        Ok(())
    }

    /// How many processes listen on this database's bus now (each holds the membership lock
    /// shared on its listening connection); 1 on SQLite or when none does.
    pub async fn processes(&self) -> crate::Result<u32> {
        if self.backend() != Backend::Postgres {
            return Ok(1);
        }
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ShareLock' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND ((classid::bigint << 32) | objid::bigint) = {MEMBER}"
        ))
        .fetch_one(self.pool())
        .await?;
        Ok(u32::try_from(n).unwrap_or(1).max(1))
    }

    fn resync(&self) {
        self.invalidate();
        let _ = self.inner.bus.send(BusMessage::Resync);
    }

    /// One notice from the bus.
    fn received(&self, payload: &str) {
        let Ok(env) = serde_json::from_str::<Envelope>(payload) else {
            tracing::warn!(payload, "an unreadable notice on the change bus");
            return;
        };
        if env.from == self.inner.process {
            return;
        }
        for m in env.m {
            if m == BusMessage::Directory {
                self.invalidate();
            }
            let _ = self.inner.bus.send(m);
        }
    }
}
