//! The ticker: the entry point through which yingji itself records what falls due — overdue
//! tasks and obligations, case supervision steps and overdue cases, late scheduled reports,
//! call escalations and repeats — as the system actor, on the one command path.

use std::time::Duration;

use crate::{Actor, App, AppError};

/// Marks what has fallen due, once. Returns how many records changed.
pub async fn tick(app: &App) -> Result<usize, AppError> {
    let now = app.clock.now();
    let system = Actor::system();
    let mut changed = 0;
    for id in app.store.due_incidents(now.as_millisecond(), 1000).await? {
        let cmd = crate::incidents::TickIncident(id.into());
        if let Some(true) = app.execute(&system, None, &cmd).await?.output() {
            changed += 1;
        }
    }
    changed += crate::cases::tick_cases(app).await?;
    changed += crate::reports::tick(app).await?;
    for id in app.store.due_callouts(now.as_millisecond(), 1000).await? {
        let cmd = crate::calls::TickCallout(id.into());
        if let Some(true) = app.execute(&system, None, &cmd).await?.output() {
            changed += 1;
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
        loop {
            interval.tick().await;
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
