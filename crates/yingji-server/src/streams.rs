//! Long-lived answers (the console's `/live`, the API's `/inbox/stream`) ask again, as they run,
//! whether the credential they were opened with still stands: a sign-out, a revoked token, an
//! expired session or a disabled account ends them within [`RECHECK`], and at once when the
//! person's own record changes (signing out and disabling write to it). They end too when the
//! process starts stopping (SIGTERM).

use std::time::Duration;

use tokio::time::Instant;

use crate::AppState;
use crate::auth::Actor;

/// How often an open stream checks its credential again when nothing else makes it.
pub const RECHECK: Duration = Duration::from_secs(5);

/// The credential check of one open stream.
pub struct Guard {
    actor: Actor,
    state: AppState,
    next: Instant,
}

impl Guard {
    pub fn new(state: AppState, actor: Actor) -> Guard {
        Guard {
            actor,
            state,
            next: Instant::now() + RECHECK,
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// When the next periodic check is due.
    pub fn due(&self) -> Instant {
        self.next
    }

    /// Resolves when the process starts stopping: the stream ends then, so that the drain
    /// waits only for requests in flight.
    pub async fn stopping(&self) {
        self.state.until_draining().await;
    }

    /// Checks again now: whether the stream may go on.
    pub async fn still_valid(&mut self) -> bool {
        self.next = Instant::now() + RECHECK;
        self.actor.still_valid(&self.state).await
    }
}
