//! Helpers shared by the end-to-end test files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Flags of a training run that takes well under a second (30 steps of a
/// 2-layer, 8-wide flow, the held-out NLL every 10 steps).
#[allow(dead_code)]
pub const TINY: &[&str] = &[
    "--steps",
    "30",
    "--layers",
    "2",
    "--hidden",
    "8",
    "--eval-every",
    "10",
];

/// A fresh, empty folder `<target tmp>/<group>/<name>` for one test or fixture.
pub fn fresh_dir(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cli args…` in `dir`. RUST_BACKTRACE=1 makes a panic impossible to miss.
pub fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cli"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the cli binary runs")
}

/// Asserts no temporary of this tool (`…flows-tmp-…`) is left in `dir`.
#[allow(dead_code)]
pub fn assert_no_temporaries(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.contains("flows-tmp"),
            "leftover temporary {name} in {}",
            dir.display()
        );
    }
}

/// The number after `label` on the summary line that starts with it, e.g.
/// "  held-out NLL  1.9056 nats/point …" → 1.9056.
#[allow(dead_code)]
pub fn summary_value(stdout: &str, label: &str) -> f64 {
    let line = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in {stdout}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}
