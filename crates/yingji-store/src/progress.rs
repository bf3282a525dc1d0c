//! Progress of long operator operations (backup, restore, audit verify, rekey, purge): the
//! store reports how far it is; the command line shows it on a terminal (`yingji` crate,
//! `progress.rs`). Nothing is reported unless a listener was set.

use std::sync::Arc;

/// How far one stage of an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The operation and stage, e.g. `backup`, `audit verify`.
    pub stage: &'a str,
    pub done: u64,
    /// The whole, when known in advance.
    pub total: Option<u64>,
    /// What is counted: `rows`, `events`, `bytes`, `values`.
    pub unit: &'a str,
}

/// What hears progress.
pub type ProgressFn = Arc<dyn Fn(Progress<'_>) + Send + Sync>;

impl crate::Store {
    /// Sends this store's progress reports to `f` (the command line's display).
    pub fn on_progress(&self, f: ProgressFn) {
        *self
            .inner
            .progress
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(f);
    }

    /// Reports progress to the listener, if any. Cheap when there is none.
    pub fn progress(&self, stage: &str, done: u64, total: Option<u64>, unit: &str) {
        let f = self
            .inner
            .progress
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(f) = f {
            f(Progress {
                stage,
                done,
                total,
                unit,
            });
        }
    }
}
