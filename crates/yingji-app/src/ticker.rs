//! The ticker: the entry point through which yingji itself records what falls due — overdue
//! tasks and obligations, case supervision steps and overdue cases, late scheduled reports,
//! call escalations and repeats — as the system actor, on the one command path.
//!
//! One record that cannot be processed (a command refused, a body that does not read) does not
//! stop the tick: it is logged, put off with a growing backoff (its due time moved, so no
//! process picks it up before then), and every other due record is still processed. Only a
//! database that is unavailable ends the tick early.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;
use yingji_domain::error::ErrorCode;

use crate::{Actor, App, AppError};

/// The first wait after a record fails; doubled on each further failure, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How often each record has failed in a row (this process's count; the wait itself is in
/// the database).
#[derive(Default)]
pub struct Failures(Mutex<HashMap<(&'static str, Uuid), u32>>);

impl Failures {
    fn fail(&self, what: &'static str, id: Uuid) -> u32 {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry((what, id)).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    fn clear(&self, what: &'static str, id: Uuid) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(what, id));
    }
}

/// The wait after the `n`th failure in a row.
pub fn backoff(n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(16));
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

/// What one record's command came to: `Ok(changed)`, or the error that ends the tick (the
/// database is unavailable). Any other error is logged and the record put off.
pub(crate) async fn settle(
    app: &App,
    what: &'static str,
    id: Uuid,
    r: Result<bool, AppError>,
) -> Result<bool, AppError> {
    match r {
        Ok(changed) => {
            app.tick_failures.clear(what, id);
            Ok(changed)
        }
        Err(e) if e.code == ErrorCode::Unavailable => Err(e),
        Err(e) => {
            let n = app.tick_failures.fail(what, id);
            let wait = backoff(n);
            let until = app
                .clock
                .now()
                .checked_add(wait)
                .unwrap_or_else(|_| app.clock.now());
            tracing::warn!(
                what,
                %id,
                error = %e,
                failures = n,
                retry_in_s = wait.as_secs(),
                "a due record could not be processed; put off, the others go on"
            );
            app.store
                .defer_due(what, id, until.as_millisecond())
                .await?;
            Ok(false)
        }
    }
}

/// Marks what has fallen due, once. Returns how many records changed.
pub async fn tick(app: &App) -> Result<usize, AppError> {
    let now = app.clock.now();
    let system = Actor::system();
    let mut changed = 0;
    for id in app.store.due_incidents(now.as_millisecond(), 1000).await? {
        let cmd = crate::incidents::TickIncident(id.into());
        let r = app
            .execute(&system, None, &cmd)
            .await
            .map(|d| d.output() == Some(true));
        if settle(app, "incident", id, r).await? {
            changed += 1;
        }
    }
    changed += crate::cases::tick_cases(app).await?;
    changed += crate::reports::tick(app).await?;
    changed += crate::drills::tick(app).await?;
    changed += crate::followups::tick(app).await?;
    for id in app.store.due_callouts(now.as_millisecond(), 1000).await? {
        let cmd = crate::calls::TickCallout(id.into());
        let r = app
            .execute(&system, None, &cmd)
            .await
            .map(|d| d.output() == Some(true));
        if settle(app, "callout", id, r).await? {
            changed += 1;
        }
    }
    if let Some(oldest) = app
        .store
        .oldest_due_ms(app.clock.now().as_millisecond())
        .await?
    {
        let behind = (app.clock.now().as_millisecond() - oldest) / 1000;
        if behind > 60 {
            tracing::warn!(
                behind_s = behind,
                "the ticker is behind: the oldest due record has waited this long"
            );
        }
    }
    Ok(changed)
}

/// Signs the heads of a database written before heads were signed (once, with the first
/// checkpoint), then records a signed checkpoint of every stream head that moved since the
/// last one (`yingji_store::audit`). Returns the new checkpoint, if one was made.
pub async fn checkpoint(app: &App) -> Result<Option<yingji_store::CheckpointInfo>, AppError> {
    let at = yingji_store::fmt_ts(app.clock.now());
    let adopted = app.store.adopt_unsigned_heads().await?;
    if adopted > 0 {
        tracing::info!(
            heads = adopted,
            "signed the stream heads written before signing"
        );
    }
    Ok(app.store.checkpoint(&at).await?)
}

/// Runs [`tick`] every `every` until the process ends, and [`checkpoint`] at start and then every
/// `checkpoint_seconds` of the trust settings.
pub fn spawn(app: App, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_checkpoint: Option<std::time::Instant> = None;
        // Of the processes on one database, one ticks (`yingji_store::leader`).
        let mut leader =
            yingji_store::leader::Leader::new(app.store.clone(), yingji_store::leader::TICKER);
        loop {
            interval.tick().await;
            let leads = leader.lead().await;
            app.set_ticker_leader(leads);
            if !leads {
                continue;
            }
            if let Err(e) = tick(&app).await
                && let Some(folded) = yingji_store::burst::log_once(&e.to_string())
            {
                tracing::warn!(error = %e, folded, "tick failed");
            }
            let period = Duration::from_secs(app.trust.checkpoint_seconds);
            if last_checkpoint.is_none_or(|t| t.elapsed() >= period) {
                last_checkpoint = Some(std::time::Instant::now());
                if let Err(e) = checkpoint(&app).await
                    && let Some(folded) = yingji_store::burst::log_once(&e.to_string())
                {
                    tracing::warn!(error = %e, folded, "audit checkpoint failed");
                }
            }
        }
    });
}
