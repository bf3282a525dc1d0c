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

/// Runs [`tick`] every `every` until the process ends.
pub fn spawn(app: App, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = tick(&app).await
                && let Some(folded) = yingji_store::burst::log_once(&e.to_string())
            {
                tracing::warn!(error = %e, folded, "tick failed");
            }
        }
    });
}
