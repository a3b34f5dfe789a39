//! The one error type of the command line: a message for the user and the
//! exit status that goes with it.
//!
//! Every failure a user can cause (a bad file, flag or checkpoint) becomes a
//! `CliError` whose text names the file or flag and says what is wrong; `main`
//! prints it on one line and exits with its status (1 unless said otherwise).
//! Nothing a user types panics.

use std::fmt;

/// Exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, the
/// shell's convention), after saving what it had.
pub const INTERRUPTED: u8 = 130;

#[derive(Debug)]
pub struct CliError {
    /// One line for stderr; empty for an error with nothing to say.
    pub message: String,
    pub status: u8,
}

impl CliError {
    /// An error with exit status 1.
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            status: 1,
        }
    }

    /// An end that prints nothing: standard output was closed by its reader
    /// (`cli sample | head`), which is how pipelines say "enough".
    pub fn quiet() -> Self {
        CliError {
            message: String::new(),
            status: 0,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

pub type Result<T> = std::result::Result<T, CliError>;

/// `return Err(CliError::new(format!(…)))`
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::error::CliError::new(format!($($arg)*)))
    };
}
pub(crate) use fail;

/// A failed write to standard output: quiet if the reader went away, an
/// error otherwise (a full disk behind `> file` must not exit 0).
pub fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::quiet()
    } else {
        CliError::new(format!("standard output: cannot write: {e}"))
    }
}

/// Writes to standard output and flushes, or says why it could not.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// `println!` that returns an error instead of panicking or ignoring one:
/// `say!(…)?`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::error::write_stdout(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}
pub(crate) use say;

/// clap's message on one line: its first line plus any `[possible values: …]`,
/// without the usage block.
pub fn one_line(message: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for line in message.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information")
        {
            continue;
        }
        parts.push(line.trim_start_matches("error: "));
    }
    parts.join(" ")
}
