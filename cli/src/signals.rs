//! Ctrl-C and SIGTERM: the first asks the running command to stop at its next
//! safe point (training saves the best model so far, and every command exits
//! with status [`INTERRUPTED`]); the second exits at once, after removing this
//! process's temporaries, so nothing half-written is left either way.

use crate::error::{CliError, INTERRUPTED};
use crate::files;
use std::sync::atomic::{AtomicUsize, Ordering};

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler (once, at start-up).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
            files::remove_live_temporaries();
            eprintln!("\ninterrupted again: exiting now");
            std::process::exit(INTERRUPTED.into());
        }
    });
}

/// Whether a stop was asked for.
pub fn interrupted() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}

/// `Err` with status [`INTERRUPTED`] if a stop was asked for.
pub fn check(what: &str) -> Result<(), CliError> {
    if interrupted() {
        Err(CliError {
            message: format!("interrupted {what}"),
            status: INTERRUPTED,
        })
    } else {
        Ok(())
    }
}
