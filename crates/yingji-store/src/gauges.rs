//! What `/metrics` reads from the database at each scrape: the outbox waiting to be expanded
//! (by kind, with its oldest row's age), deliveries not yet sent (by state), the records waiting
//! for the search index, and the writer's and the pool's use. Every count reads an index.

use sqlx::Row as _;

use crate::rows::vals;
use crate::{Result, Store};

/// One scrape's figures.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// (kind, pending rows, creation time of the oldest as stored).
    pub outbox_pending: Vec<(String, i64, String)>,
    /// (state, deliveries) for the states that still need work or attention.
    pub deliveries: Vec<(String, i64)>,
    pub search_pending: i64,
    /// Writes waiting for the writer.
    pub writer_queue: usize,
    pub pool_size: u32,
    pub pool_idle: usize,
}

impl Store {
    pub async fn gauges(&self) -> Result<Gauges> {
        let mut g = Gauges::default();
        for r in self
            .fetch_all(
                "SELECT kind, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending' GROUP BY kind ORDER BY kind",
                &[],
            )
            .await?
        {
            g.outbox_pending
                .push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
        }
        for state in ["pending", "sending", "dead"] {
            let n: i64 = self
                .fetch_one(
                    "SELECT COUNT(*) FROM deliveries WHERE state = ?",
                    &vals![state.to_string()],
                )
                .await?
                .try_get(0)?;
            g.deliveries.push((state.to_string(), n));
        }
        g.search_pending = self
            .fetch_one("SELECT COUNT(*) FROM search_pending", &[])
            .await?
            .try_get(0)?;
        g.writer_queue = self.inner.writer.max_capacity() - self.inner.writer.capacity();
        g.pool_size = self.inner.pool.size();
        g.pool_idle = self.inner.pool.num_idle();
        Ok(g)
    }
}
