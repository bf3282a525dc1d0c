//! One log line per burst of identical errors. A failing disk or database makes every request,
//! tick and notification round fail the same way; logging each (over 100k lines in half a
//! minute) buries the first line and fills the disk further. [`log_once`] tells the caller to
//! log the first of a kind, then once per window with how many were suppressed meanwhile.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long identical errors are folded into one line.
pub const WINDOW: Duration = Duration::from_secs(10);

/// Kinds remembered at most (the oldest are forgotten first).
const KINDS: usize = 256;

fn seen() -> &'static Mutex<HashMap<String, (Instant, u64)>> {
    static SEEN: OnceLock<Mutex<HashMap<String, (Instant, u64)>>> = OnceLock::new();
    SEEN.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether to log an error with this text now: `Some(n)` — log it, mentioning the `n` identical
/// ones not logged since the last line; `None` — fold it into the burst.
pub fn log_once(text: &str) -> Option<u64> {
    let now = Instant::now();
    let mut m = seen().lock().unwrap_or_else(|p| p.into_inner());
    match m.get_mut(text) {
        Some((at, n)) if now.duration_since(*at) < WINDOW => {
            *n += 1;
            None
        }
        Some((at, n)) => {
            let folded = *n;
            *at = now;
            *n = 0;
            Some(folded)
        }
        None => {
            if m.len() >= KINDS
                && let Some(oldest) = m
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
            m.insert(text.to_string(), (now, 0));
            Some(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_errors_are_logged_once_per_window() {
        let t = "burst test: disk full";
        assert_eq!(log_once(t), Some(0));
        for _ in 0..1000 {
            assert_eq!(log_once(t), None);
        }
        assert_eq!(log_once("burst test: another error"), Some(0));
    }
}
