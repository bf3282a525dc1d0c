//! One process at a time does the work that must not be done by every process (the ticker, the
//! search indexer, the outbox's expansion into deliveries): the one holding a PostgreSQL session advisory lock on a connection of its
//! own. The others ask again at every round, so when the holder dies (its connection closes and
//! the lock with it) another takes over within a round. SQLite has one process: it always
//! leads.

use crate::{Backend, Store};

/// The advisory lock keys (any fixed numbers; they only have to differ from each other and
/// from the first-start lock's).
pub const TICKER: i64 = 7_146_515_291_000_000_031;
pub const INDEXER: i64 = 7_146_515_291_000_000_032;
pub const OUTBOX: i64 = 7_146_515_291_000_000_033;

/// A claim on one lock, kept across rounds.
pub struct Leader {
    store: Store,
    key: i64,
    conn: Option<sqlx::AnyConnection>,
    held: bool,
}

impl Leader {
    pub fn new(store: Store, key: i64) -> Leader {
        Leader {
            store,
            key,
            conn: None,
            held: false,
        }
    }

    /// Whether this process leads now: it still holds the lock (its connection answers), or
    /// it took it now.
    pub async fn lead(&mut self) -> bool {
        if self.store.backend() != Backend::Postgres {
            return true;
        }
        if self.conn.is_none() {
            match self.store.pool().acquire().await {
                Ok(c) => self.conn = Some(c.detach()),
                Err(_) => return false,
            }
            self.held = false;
        }
        let conn = self.conn.as_mut().expect("a connection");
        let sql = if self.held {
            "SELECT TRUE".to_string()
        } else {
            format!("SELECT pg_try_advisory_lock({})", self.key)
        };
        match sqlx::query_scalar::<_, bool>(&sql).fetch_one(conn).await {
            Ok(got) => {
                if got && !self.held {
                    tracing::info!(lock = self.key, "this process took the lead");
                }
                self.held = got;
            }
            Err(e) => {
                // The connection is gone, and with it the lock: ask again next round.
                if self.held {
                    tracing::warn!(error = %e, lock = self.key, "lost the lead");
                }
                self.conn = None;
                self.held = false;
            }
        }
        self.held
    }
}
