//! Progress while training: a live bar on a terminal, plain log lines otherwise
//! (CI logs and pipes should not fill with carriage returns).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub enum Progress {
    Bar(ProgressBar),
    Lines {
        total: usize,
        every: usize,
        start: Instant,
    },
}

impl Progress {
    pub fn new(total: usize) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:28.cyan/blue} {pos:>5}/{len} steps  {msg}  {per_sec:.dim}  ETA {eta}",
                )
                .expect("a valid template")
                .progress_chars("█▉▊▋▌▍▎▏ "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                total,
                every: (total / 20).max(1),
                start: Instant::now(),
            }
        }
    }

    /// Start counting again from step 0 of a new run of `total` steps (the
    /// refit after the selection run), so the position, the rate and the
    /// ETA are the new run's.
    pub fn restart(&mut self, new_total: usize) {
        match self {
            Progress::Bar(bar) => {
                bar.reset();
                bar.set_length(new_total as u64);
            }
            Progress::Lines {
                total,
                every,
                start,
            } => {
                *total = new_total;
                *every = (new_total / 20).max(1);
                *start = Instant::now();
            }
        }
    }

    /// After step `done` (1-based), with `message` saying how it goes.
    pub fn show(&self, done: usize, message: &str) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(done as u64);
                bar.set_message(message.to_string());
            }
            Progress::Lines {
                total,
                every,
                start,
            } => {
                if done % every == 0 || done == *total {
                    let elapsed = start.elapsed().as_secs_f64();
                    let rate = done as f64 / elapsed.max(1e-9);
                    let eta = (*total - done) as f64 / rate.max(1e-9);
                    eprintln!(
                        "step {done:>6}/{total}  {message}  {rate:.0} steps/s  ETA {eta:.0}s"
                    );
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Progress of a command that is usually quick (`sample`, `eval`): nothing
/// for the first seconds, then a bar (or a counter, when the total is not
/// known), and only on a terminal.
pub struct LateProgress {
    total: Option<usize>,
    what: &'static str,
    start: Instant,
    bar: Option<ProgressBar>,
}

/// How long a command runs before its progress is shown.
const QUIET_FOR: Duration = Duration::from_secs(2);

impl LateProgress {
    pub fn new(total: Option<usize>, what: &'static str) -> Self {
        LateProgress {
            total,
            what,
            start: Instant::now(),
            bar: None,
        }
    }

    pub fn update(&mut self, done: usize) {
        if self.bar.is_none() && self.start.elapsed() > QUIET_FOR && std::io::stderr().is_terminal()
        {
            let (bar, template) = match self.total {
                Some(t) => (
                    ProgressBar::new(t as u64),
                    "{bar:28.cyan/blue} {pos}/{len} {msg}  ETA {eta}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {pos} {msg}  {per_sec}",
                ),
            };
            bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
            bar.set_message(self.what);
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_counts_the_new_run() {
        let mut progress = Progress::Lines {
            total: 2000,
            every: 100,
            start: Instant::now() - Duration::from_secs(60),
        };
        progress.restart(1450);
        let Progress::Lines {
            total,
            every,
            start,
        } = progress
        else {
            unreachable!("built as lines")
        };
        assert_eq!((total, every), (1450, 72));
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the clock restarts"
        );
    }
}
