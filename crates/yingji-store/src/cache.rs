//! A small read-through cache of directory rows that every request reads (people by token and
//! by id, accounts, API tokens, role grants, jurisdictions, latest plans, post holders, duty
//! rosters). The whole cache is dropped whenever this process commits a write that touches the
//! directory, or hears on the change bus (`bus.rs`) that another server did. An entry lives at
//! most [`TTL`], which bounds staleness when a process that does not publish on the bus (an
//! operator's CLI on SQLite) changes the directory. A generation counter keeps a read that raced with such a write from putting an
//! old row back.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::rows::{Row, WriteSet};

pub(crate) const TTL: Duration = Duration::from_secs(2);

pub(crate) struct Ttl<K, V> {
    map: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Ttl<K, V> {
    pub fn new() -> Self {
        Ttl {
            map: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, k: &K) -> Option<V> {
        let map = self.map.read().expect("cache lock");
        map.get(k)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, k: K, v: V, gen_before: u64, generation: &AtomicU64) {
        let mut map = self.map.write().expect("cache lock");
        if generation.load(Ordering::Acquire) == gen_before {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(k, (Instant::now(), v));
        }
    }

    pub fn clear(&self) {
        self.map.write().expect("cache lock").clear();
    }
}

/// Tables whose rows the cache holds, or that decide who a person is and what they may do.
const DIRECTORY_WORDS: [&str; 9] = [
    "people",
    "jurisdictions",
    "plans",
    "post_holders",
    "accounts",
    "grants",
    "sessions",
    "tokens",
    "rosters",
];

/// Whether committing `ws` may change a cached row.
pub(crate) fn touches_directory(ws: &WriteSet) -> bool {
    ws.rows.iter().any(|r| match r {
        Row::Incident(_)
        | Row::Tasks { .. }
        | Row::Outbox(_)
        | Row::Call(_)
        | Row::Case(_)
        | Row::Screening(_)
        | Row::Release(_)
        | Row::Record(_)
        | Row::Report(_)
        | Row::Delivery(_)
        | Row::SubjectKey(_) => false,
        Row::Account(_) | Row::Directory(_) => true,
        Row::Jurisdiction(_)
        | Row::Person(_)
        | Row::PostHolder(_)
        | Row::RemovePostHolder { .. }
        | Row::Plan(_) => true,
        Row::Sql(st) => {
            let sql = st.sql.to_ascii_lowercase();
            DIRECTORY_WORDS.iter().any(|w| sql.contains(w))
        }
    })
}
