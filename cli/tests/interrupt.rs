//! Ctrl-C during training: the run stops, and the best model so far, the
//! metrics and the figures are still written.

mod common;
use common::{assert_no_temporaries, cli, fresh_dir};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// SIGINT after the first progress line: exit status 130, an "interrupted"
/// message, no temporary left behind, and a checkpoint that `eval` can read,
/// from a run that would otherwise take minutes (200 000 steps).
#[cfg(unix)]
#[test]
fn ctrl_c_saves_the_best_model_so_far() {
    let dir = fresh_dir("interrupt", "ctrl_c");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cli"))
        .args([
            "train",
            "--points",
            "300",
            "--steps",
            "200000",
            "--layers",
            "2",
            "--hidden",
            "8",
            "--out",
            "run",
            "--no-plots",
        ])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cli binary runs");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("a progress line");
    assert!(
        line.starts_with("step"),
        "expected a progress line, got {line:?}"
    );
    // The shell's built-in kill: no dependency on a separate kill binary.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("sh runs");
    assert!(status.success());
    let mut rest = String::new();
    for l in stderr.lines() {
        rest.push_str(&l.expect("utf-8"));
        rest.push('\n');
    }
    let output = child.wait_with_output().expect("the run ends");
    assert_eq!(output.status.code(), Some(130), "stderr {rest}");
    assert!(rest.contains("interrupted at step"), "stderr: {rest}");
    assert_no_temporaries(&dir.join("run"));
    assert!(dir.join("run/model.json").exists());
    let eval = cli(
        &dir,
        &[
            "eval",
            "--model",
            "run/model.json",
            "--data",
            "run/heldout.csv",
            "--json",
        ],
    );
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("one JSON object");
    assert!(json["nll"].as_f64().is_some_and(f64::is_finite), "{json}");
}
