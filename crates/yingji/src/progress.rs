//! Progress of long operator commands (backup, restore, rekey, purge, audit verify, migrate).
//!
//! On a terminal, one status line on stderr, redrawn five times a second: the stage, how far it
//! is (`1,234,000 / 10,000,000 rows, 12 %`) and the time spent. Nothing on a pipe or in a log,
//! so scripts and CI read the same output as before; `YINGJI_PROGRESS=1` prints each report as a
//! line (at most one a second per stage) where there is no terminal, `YINGJI_PROGRESS=0` turns
//! it off. The store reports through [`yingji_store::Store::on_progress`].

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A status line redrawn in place.
    Terminal,
    /// One line per report, throttled (`YINGJI_PROGRESS=1` without a terminal).
    Lines,
}

struct State {
    stage: String,
    done: u64,
    total: Option<u64>,
    unit: String,
    started: Instant,
    /// When a line was last printed (lines mode).
    printed: Option<Instant>,
}

/// The progress display of one command; dropping it clears the status line.
pub struct Display {
    mode: Mode,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// A count with thousands separators.
fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render(s: &State) -> String {
    let secs = s.started.elapsed().as_secs();
    let time = format!("{}:{:02}", secs / 60, secs % 60);
    match (s.total, s.unit.is_empty()) {
        (_, true) => format!("{} … {time}", s.stage),
        (Some(t), false) => {
            let pct = (s.done.min(t) * 100).checked_div(t).unwrap_or(100);
            format!(
                "{}: {} / {} {} ({pct} %) {time}",
                s.stage,
                count(s.done),
                count(t),
                s.unit
            )
        }
        (None, false) => format!("{}: {} {} {time}", s.stage, count(s.done), s.unit),
    }
}

impl Display {
    /// A display if progress is shown here (a terminal, or `YINGJI_PROGRESS=1`).
    pub fn new(first_stage: &str) -> Option<Display> {
        let mode = match std::env::var("YINGJI_PROGRESS").as_deref() {
            Ok("0") | Ok("off") => return None,
            Ok("1") | Ok("on") if !std::io::stderr().is_terminal() => Mode::Lines,
            _ if std::io::stderr().is_terminal() => Mode::Terminal,
            _ => return None,
        };
        let state = Arc::new(Mutex::new(State {
            stage: String::new(),
            done: 0,
            total: None,
            unit: String::new(),
            started: Instant::now(),
            printed: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = (mode == Mode::Terminal).then(|| {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let line = render(&state.lock().unwrap_or_else(|p| p.into_inner()));
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[2K{line}");
                    let _ = err.flush();
                    drop(err);
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        });
        let d = Display {
            mode,
            state,
            stop,
            ticker,
        };
        d.report(first_stage, 0, None, "");
        Some(d)
    }

    /// Shows the store's reports here.
    pub fn attach(&self, store: &yingji_store::Store) {
        let (mode, state) = (self.mode, self.state.clone());
        store.on_progress(Arc::new(move |p| {
            update(mode, &state, p.stage, p.done, p.total, p.unit)
        }));
    }

    /// Clears the status line before the command prints a line of its own (the next redraw
    /// puts it back below).
    pub fn clear(&self) {
        if self.mode == Mode::Terminal {
            let _held = self.state.lock();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }

    /// A report from the command itself.
    pub fn report(&self, stage: &str, done: u64, total: Option<u64>, unit: &str) {
        update(self.mode, &self.state, stage, done, total, unit)
    }
}

fn update(
    mode: Mode,
    state: &Mutex<State>,
    stage: &str,
    done: u64,
    total: Option<u64>,
    unit: &str,
) {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let new_stage = s.stage != stage;
    if new_stage {
        s.stage = stage.to_string();
        s.started = Instant::now();
        s.printed = None;
    }
    s.done = done;
    s.total = total;
    s.unit = unit.to_string();
    if mode == Mode::Lines {
        let finished = total.is_some_and(|t| done >= t) && !unit.is_empty();
        let due = s
            .printed
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if new_stage || finished || due {
            s.printed = Some(Instant::now());
            eprintln!("progress: {}", render(&s));
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_shares() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(10_000_000), "10,000,000");
        let s = State {
            stage: "backup".into(),
            done: 1_500,
            total: Some(6_000),
            unit: "rows".into(),
            started: Instant::now(),
            printed: None,
        };
        assert_eq!(render(&s), "backup: 1,500 / 6,000 rows (25 %) 0:00");
    }
}
