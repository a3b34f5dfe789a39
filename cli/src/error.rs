//! The one error type of the command line: a message for the user.
//!
//! Every failure a user can cause (a bad file, flag or checkpoint) becomes a
//! `CliError` whose text names the file or flag and says what is wrong; `main`
//! prints it on one line and exits with status 1. Nothing a user types panics.

use std::fmt;

#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

pub type Result<T> = std::result::Result<T, CliError>;

/// `Err(CliError(format!(…)))`
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::error::CliError(format!($($arg)*)))
    };
}
pub(crate) use fail;

/// `println!` that ignores a closed standard output (`cli eval | head -c 10`):
/// the work is done and saved by the time we report it, so a reader that went
/// away is no reason to panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use say;
