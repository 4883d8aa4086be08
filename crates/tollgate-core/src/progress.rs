//! Progress counters of a run, shared by scans (rows read) and model runs (rows predicted), and
//! the line a terminal shows. Counting is off until [`enable`] is called (the CLI does when it
//! shows progress); reading the counters never blocks the work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Count from now on.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether work is counted.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Rows done and rows known to be coming.
#[derive(Debug, Default)]
pub struct Progress {
    rows: AtomicU64,
    total: AtomicU64,
    unknown: AtomicU64,
}

/// The process-wide counters.
pub static PROGRESS: Progress = Progress {
    rows: AtomicU64::new(0),
    total: AtomicU64::new(0),
    unknown: AtomicU64::new(0),
};

impl Progress {
    /// Rows done so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Rows the started work will do, when all of it knows (else `None`).
    pub fn total(&self) -> Option<u64> {
        (self.unknown.load(Ordering::Relaxed) == 0)
            .then(|| self.total.load(Ordering::Relaxed))
            .filter(|t| *t > 0)
    }

    /// Some rows are done.
    pub fn add_rows(&self, n: u64) {
        if enabled() {
            self.rows.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Work of `n` rows starts (`None`: of an unknown number of rows).
    pub fn expect(&self, n: Option<u64>) {
        if !enabled() {
            return;
        }
        match n {
            Some(n) => self.total.fetch_add(n, Ordering::Relaxed),
            None => self.unknown.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// One progress line: `1.2M rows · 850k rows/s · 0:03 · ETA 0:05` (no ETA without a total).
pub fn line(rows: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
    let clock = |s: f64| {
        let s = s.max(0.0).round() as u64;
        format!("{}:{:02}", s / 60, s % 60)
    };
    let mut out = match total {
        Some(t) => format!("{} of {} rows", count(rows as f64), count(t as f64)),
        None => format!("{} rows", count(rows as f64)),
    };
    out.push_str(&format!(" · {} rows/s · {}", count(rate), clock(secs)));
    if let Some(t) = total
        && rate > 0.0
        && t > rows
    {
        out.push_str(&format!(" · ETA {}", clock((t - rows) as f64 / rate)));
    }
    out
}

fn count(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_rows_rate_elapsed_and_eta_when_the_total_is_known() {
        let l = line(2_000_000, Some(10_000_000), Duration::from_secs(4));
        assert_eq!(l, "2.0M of 10.0M rows · 500k rows/s · 0:04 · ETA 0:16");
        let l = line(1500, None, Duration::from_millis(1500));
        assert_eq!(l, "2k rows · 1k rows/s · 0:02");
    }
}
