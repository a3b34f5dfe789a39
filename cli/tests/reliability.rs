//! A hostile user's inputs, end to end through the binary: nothing lost, no
//! panic, no hang, bounded memory. Each test names the failure it guards
//! against; together they are the cases of the reliability issue.

mod common;
use common::{assert_no_temporaries, cli, fresh_dir, TINY};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Status 1 (unless `status` says otherwise), no panic, and a one-line
/// message containing every one of `words`.
fn assert_refused(out: &Output, words: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let last = err.lines().last().unwrap_or("");
    for w in words {
        assert!(last.contains(w), "{last:?} should mention {w:?}");
    }
    err
}

fn ok(out: &Output) {
    assert!(out.status.success(), "stderr: {}", stderr(out));
}

/// `cli train --points 300 --out out TINY… --no-plots extra…` in `dir`, where a flag in
/// `extra` replaces the default one (and `--epochs` replaces `--steps`).
fn train(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut defaults = vec!["--points", "300", "--out", out];
    defaults.extend_from_slice(TINY);
    defaults.push("--no-plots");
    let mut args = vec!["train"];
    let overridden =
        |flag: &str| extra.contains(&flag) || (flag == "--steps" && extra.contains(&"--epochs"));
    let mut i = 0;
    while i < defaults.len() {
        let flag = defaults[i];
        let takes_value = defaults.get(i + 1).is_some_and(|v| !v.starts_with("--"));
        if !overridden(flag) {
            args.push(flag);
            if takes_value {
                args.push(defaults[i + 1]);
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    args.extend_from_slice(extra);
    cli(dir, &args)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sh(dir: &Path, script: &str) -> Output {
    Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("CLI", env!("CARGO_BIN_EXE_cli"))
        .output()
        .expect("sh runs")
}

/// Case 1: an output that is an input — directly, through a symlink, or
/// through `..` — is refused before any work, and the input is unchanged.
#[test]
fn an_output_never_overwrites_an_input() {
    let dir = fresh_dir("reliability", "output_is_input");
    ok(&train(&dir, "R", &[]));
    let before = read(&dir.join("R/train.csv"));
    std::os::unix::fs::symlink("R", dir.join("L")).unwrap();
    for out in ["R", "L", "R/../R", "./R"] {
        let run = train(&dir, out, &["--data", "R/train.csv"]);
        assert_refused(&run, &["--out", "train.csv", "input --data"]);
        assert_eq!(read(&dir.join("R/train.csv")), before, "--out {out}");
    }
    let eval = cli(
        &dir,
        &[
            "eval",
            "--model",
            "R/model.json",
            "--data",
            "R/heldout.csv",
            "--per-point",
            "L/heldout.csv",
        ],
    );
    assert_refused(&eval, &["--per-point", "input --data"]);
    let model = read(&dir.join("R/model.json"));
    let sample = cli(
        &dir,
        &["sample", "--model", "R/model.json", "--out", "L/model.json"],
    );
    assert_refused(&sample, &["--out", "input --model"]);
    assert_eq!(read(&dir.join("R/model.json")), model);
}

/// Case 2: a save that fails part-way (here: a file-size limit, as a full
/// disk would) leaves the previous run folder exactly as it was, loadable.
#[test]
fn a_failed_save_keeps_the_previous_run() {
    let dir = fresh_dir("reliability", "failed_save");
    ok(&train(&dir, "R", &[]));
    let files = ["model.json", "metrics.csv", "train.csv", "heldout.csv"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(&dir.join("R").join(f))).collect();
    // Files of the second run exceed 64 KiB (a 64-wide model's checkpoint);
    // SIGXFSZ ignored so the write fails with an error instead of a signal.
    let run = sh(
        &dir,
        "trap '' XFSZ; ulimit -f 128; exec \"$CLI\" train --points 300 --steps 5 --hidden 64 \
         --layers 4 --no-plots --out R",
    );
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write"), "{err}");
    for (f, old) in files.iter().zip(&before) {
        assert_eq!(&read(&dir.join("R").join(f)), old, "{f} changed");
    }
    assert_no_temporaries(&dir.join("R"));
    ok(&cli(
        &dir,
        &["eval", "--model", "R/model.json", "--data", "R/heldout.csv"],
    ));
}

/// Case 3: a held-out NLL that is not finite is saved as null, and the
/// checkpoint still loads in `eval`, `sample` and `plot`.
#[test]
fn a_non_finite_result_still_loads() {
    let dir = fresh_dir("reliability", "non_finite_result");
    let mut test = String::from("x1,x2\n");
    for i in 0..50 {
        test.push_str(&format!(
            "{},{}\n",
            (i as f64 / 25.0).cos(),
            (i as f64 / 25.0).sin()
        ));
    }
    test.push_str("1e200,1e200\n");
    std::fs::write(dir.join("test.csv"), test).unwrap();
    ok(&train(
        &dir,
        "R",
        &["--test", "test.csv", "--precision", "f64"],
    ));
    let ckpt: serde_json::Value = serde_json::from_slice(&read(&dir.join("R/model.json"))).unwrap();
    assert!(
        ckpt["result"]["heldout_nll"].is_null(),
        "{}",
        ckpt["result"]
    );
    ok(&cli(
        &dir,
        &["eval", "--model", "R/model.json", "--data", "R/train.csv"],
    ));
    ok(&cli(
        &dir,
        &["sample", "--model", "R/model.json", "-n", "10"],
    ));
    ok(&cli(
        &dir,
        &["plot", "--model", "R/model.json", "--out", "figs"],
    ));
}

/// Case 4: a symlink planted where an output goes is replaced, never written
/// through; temporaries get fresh, unpredictable names.
#[test]
fn a_planted_symlink_is_not_followed() {
    let dir = fresh_dir("reliability", "planted_symlink");
    std::fs::create_dir(dir.join("R")).unwrap();
    std::fs::write(dir.join("victim.txt"), "precious").unwrap();
    for name in ["model.json", "metrics.csv", "train.csv"] {
        std::os::unix::fs::symlink("../victim.txt", dir.join("R").join(name)).unwrap();
    }
    ok(&train(&dir, "R", &[]));
    assert_eq!(read(&dir.join("victim.txt")), b"precious");
    let meta = std::fs::symlink_metadata(dir.join("R/model.json")).unwrap();
    assert!(
        meta.file_type().is_file(),
        "model.json is a file of its own now"
    );
    // Staged outputs get the mode any new file gets here (not tempfile's 0600).
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("plain.txt"), "x").unwrap();
    let plain = std::fs::metadata(dir.join("plain.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(meta.permissions().mode() & 0o777, plain & 0o777);
}

/// Case 5: a write error on standard output is an error (`> /dev/full`),
/// while a reader that stops early (`| head`) ends the run quietly.
#[test]
fn stdout_write_errors_are_errors_but_a_closed_pipe_is_not() {
    let dir = fresh_dir("reliability", "stdout");
    ok(&train(&dir, "R", &[]));
    let full = std::fs::File::create("/dev/full").expect("/dev/full (Linux)");
    let run = Command::new(env!("CARGO_BIN_EXE_cli"))
        .args(["sample", "--model", "R/model.json", "-n", "1000"])
        .current_dir(&dir)
        .stdout(full)
        .output()
        .unwrap();
    assert_refused(&run, &["standard output", "cannot write"]);

    let mut child = Command::new(env!("CARGO_BIN_EXE_cli"))
        .args(["sample", "--model", "R/model.json", "-n", "10000000000"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "x1,x2\n");
    // The reader is gone; ten billion samples must not be made regardless.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

/// Case 6: sizes that overflow or could never fit in memory are refused with
/// a message naming the flag, before anything is allocated.
#[test]
fn impossible_sizes_are_refused_by_flag() {
    let dir = fresh_dir("reliability", "sizes");
    assert_refused(
        &train(&dir, "R", &["--holdout", "1e300"]),
        &["--holdout", "of only 300"],
    );
    assert_refused(
        &train(&dir, "R", &["--epochs", "18446744073709551615"]),
        &["--epochs"],
    );
    assert_refused(
        &train(&dir, "R", &["--steps", "100000000000"]),
        &["--steps", "memory"],
    );
    assert_refused(
        &cli(
            &dir,
            &["train", "--points", "4600000000000000000", "--out", "R"],
        ),
        &["--points", "memory"],
    );
    assert_refused(
        &train(&dir, "R", &["--hidden", "100000"]),
        &["--hidden 100000", "memory"],
    );
    assert_refused(
        &train(&dir, "R", &["--layers", "10000000"]),
        &["--layers", "memory"],
    );
    assert!(!dir.join("R").exists(), "nothing was written");

    ok(&train(&dir, "R", &[]));
    let mut ckpt: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("R/model.json"))).unwrap();
    for key in ["hidden", "layers", "dim", "depth"] {
        let mut edited = ckpt.clone();
        edited["config"][key] = serde_json::json!(1_000_000_000u64);
        std::fs::write(dir.join("huge.json"), serde_json::to_vec(&edited).unwrap()).unwrap();
        let out = cli(&dir, &["sample", "--model", "huge.json", "-n", "5"]);
        assert_refused(&out, &["huge.json", "memory"]);
    }
    ckpt["config"]["hidden"] = serde_json::json!(u64::MAX);
    std::fs::write(dir.join("huge.json"), serde_json::to_vec(&ckpt).unwrap()).unwrap();
    assert_refused(
        &cli(&dir, &["sample", "--model", "huge.json"]),
        &["huge.json"],
    );
}

/// Sends `signal` to a long training run after its first progress line and
/// returns its output and stderr.
fn signal_a_run(dir: &Path, signals: &[&str]) -> (Output, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cli"))
        .args([
            "train", "--points", "300", "--steps", "200000", "--layers", "2", "--hidden", "8",
        ])
        .args(["--out", "run"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("step"), "{line:?}");
    let kills: Vec<String> = signals
        .iter()
        .map(|s| format!("kill -{s} {}", child.id()))
        .collect();
    assert!(sh(dir, &kills.join("; ")).status.success());
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    (child.wait_with_output().unwrap(), rest)
}

/// Case 7: SIGTERM behaves like Ctrl-C (the best model is saved, the status
/// is 130), and a second signal exits at once, leaving no temporary.
#[test]
fn sigterm_saves_and_a_second_signal_exits_at_once() {
    let dir = fresh_dir("reliability", "sigterm");
    let (out, err) = signal_a_run(&dir, &["TERM"]);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted at step"), "{err}");
    ok(&cli(
        &dir,
        &[
            "eval",
            "--model",
            "run/model.json",
            "--data",
            "run/heldout.csv",
        ],
    ));
    assert_no_temporaries(&dir.join("run"));

    let dir = fresh_dir("reliability", "twice");
    let (out, err) = signal_a_run(&dir, &["INT", "INT"]);
    assert_eq!(out.status.code(), Some(130), "{err}");
    if dir.join("run").exists() {
        assert_no_temporaries(&dir.join("run"));
    }
}

/// Case 8: evaluation streams in chunks, and the chunks change nothing: the
/// per-point NLLs of a file longer than a chunk are those of its pieces.
#[test]
fn chunked_evaluation_matches_piecewise_evaluation() {
    let dir = fresh_dir("reliability", "chunks");
    ok(&train(&dir, "R", &[]));
    let rows: Vec<String> = (0..10_000)
        .map(|i| {
            let t = i as f64 * 0.000_7;
            format!("{},{}", t.cos() + 0.5, t.sin() - 0.25)
        })
        .collect();
    let write = |name: &str, rows: &[String]| {
        std::fs::write(dir.join(name), format!("x1,x2\n{}\n", rows.join("\n"))).unwrap();
    };
    write("all.csv", &rows);
    write("a.csv", &rows[..4095]);
    write("b.csv", &rows[4095..]);
    let per_point = |data: &str, out: &str| {
        ok(&cli(
            &dir,
            &[
                "eval",
                "--model",
                "R/model.json",
                "--data",
                data,
                "--per-point",
                out,
            ],
        ));
        String::from_utf8(read(&dir.join(out))).unwrap()
    };
    let all = per_point("all.csv", "all_nll.csv");
    let a = per_point("a.csv", "a_nll.csv");
    let b = per_point("b.csv", "b_nll.csv");
    assert_eq!(all, a + b.strip_prefix("nll\n").unwrap());
}

/// Case 9: what is not a regular file is refused at once (a FIFO with no
/// writer would block, `/dev/zero` never ends), and a line with no end is
/// refused without being read whole.
#[test]
fn endless_and_special_inputs_are_refused_at_once() {
    let dir = fresh_dir("reliability", "special_inputs");
    assert_refused(
        &train(&dir, "R", &["--data", "/dev/zero"]),
        &["/dev/zero", "not a regular file"],
    );
    assert!(sh(&dir, "mkfifo fifo.csv").status.success());
    assert_refused(
        &train(&dir, "R", &["--data", "fifo.csv"]),
        &["fifo.csv", "not a regular file"],
    );
    std::fs::write(dir.join("nul.csv"), vec![0u8; 4 << 20]).unwrap();
    assert_refused(
        &train(&dir, "R", &["--data", "nul.csv"]),
        &["nul.csv", "line 1", "longer than"],
    );
}

/// Case 10: temporaries left by a killed process are removed by the next run
/// into that folder; those of a running process are not touched.
#[test]
fn stale_temporaries_are_cleaned_up() {
    let dir = fresh_dir("reliability", "stale");
    std::fs::create_dir(dir.join("R")).unwrap();
    // No process has the largest pid a u32 holds.
    let stale = dir.join("R/.model.json.flows-tmp-4294967295-AbCdEf");
    std::fs::write(&stale, "half a checkpoint").unwrap();
    let live = dir.join(format!(
        "R/.model.json.flows-tmp-{}-AbCdEf",
        std::process::id()
    ));
    std::fs::write(&live, "being written").unwrap();
    ok(&train(&dir, "R", &[]));
    assert!(!stale.exists(), "the stale temporary was removed");
    assert!(live.exists(), "a running process's temporary is left alone");
}

fn write_json(dir: &Path, name: &str, json: &serde_json::Value) {
    std::fs::write(dir.join(name), serde_json::to_vec(json).unwrap()).unwrap();
}

/// Case 11: an LU layer's saved permutation matrix must be one.
#[test]
fn a_damaged_lu_permutation_is_refused() {
    let dir = fresh_dir("reliability", "lu_permutation");
    ok(&train(&dir, "R", &["--mixing", "lu"]));
    let ckpt: serde_json::Value = serde_json::from_slice(&read(&dir.join("R/model.json"))).unwrap();
    let k = ckpt["params"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p["name"].as_str().unwrap().ends_with("permutation"))
        .expect("an LU layer");
    for (name, values) in [
        ("zeros", [0.0, 0.0, 0.0, 0.0]),
        ("duplicate_row", [1.0, 0.0, 1.0, 0.0]),
        ("five_identity", [5.0, 0.0, 0.0, 5.0]),
    ] {
        let mut edited = ckpt.clone();
        edited["params"][k]["values"] = serde_json::json!(values);
        write_json(&dir, "bad.json", &edited);
        let out = cli(
            &dir,
            &["eval", "--model", "bad.json", "--data", "R/heldout.csv"],
        );
        assert_refused(&out, &["not a permutation matrix"]);
        let _ = name;
    }
}

/// Case 12: a model that gives non-finite numbers is an error, not a NaN
/// printed with exit 0.
#[test]
fn non_finite_outputs_are_errors() {
    let dir = fresh_dir("reliability", "non_finite_outputs");
    ok(&train(&dir, "R", &[]));
    let ckpt: serde_json::Value = serde_json::from_slice(&read(&dir.join("R/model.json"))).unwrap();
    // ActNorm's log σ of ∓800: exp(±800) overflows, forward (eval) or
    // inverse (sample).
    let with_log_scale = |value: f64| {
        let mut edited = ckpt.clone();
        for p in edited["params"].as_array_mut().unwrap() {
            if p["name"].as_str().unwrap().ends_with("log_scale") {
                let n = p["values"].as_array().unwrap().len();
                p["values"] = serde_json::json!(vec![value; n]);
            }
        }
        edited
    };
    write_json(&dir, "bad.json", &with_log_scale(-800.0));
    let eval = cli(
        &dir,
        &["eval", "--model", "bad.json", "--data", "R/heldout.csv"],
    );
    assert_refused(&eval, &["data row 1", "not finite"]);
    write_json(&dir, "bad.json", &with_log_scale(800.0));
    let sample = cli(&dir, &["sample", "--model", "bad.json", "-n", "10"]);
    assert_refused(&sample, &["non-finite sample"]);
}

/// Case 13: one held-out point a million units away does not make the
/// untrained model the best: it is named in a warning and left out of the
/// choice.
#[test]
fn one_outlier_does_not_capture_model_selection() {
    let dir = fresh_dir("reliability", "outlier");
    ok(&train(&dir, "R", &["--points", "600"]));
    let mut heldout = String::from_utf8(read(&dir.join("R/heldout.csv"))).unwrap();
    heldout.push_str("1000000,1000000\n");
    std::fs::write(dir.join("test.csv"), &heldout).unwrap();
    let rows = heldout.lines().count() - 1;
    let run = train(
        &dir,
        "S",
        &[
            "--data",
            "R/train.csv",
            "--test",
            "test.csv",
            "--steps",
            "60",
        ],
    );
    ok(&run);
    let err = stderr(&run);
    assert!(
        err.contains(&format!("warning: held-out row {rows} ")),
        "{err}"
    );
    let ckpt: serde_json::Value = serde_json::from_slice(&read(&dir.join("S/model.json"))).unwrap();
    assert!(
        ckpt["result"]["best_step"].as_u64().unwrap() > 0,
        "{}",
        ckpt["result"]
    );
}

/// Case 14: a first line with some numbers is a data row: its bad field is
/// an error naming line and column, not a header.
#[test]
fn a_first_row_with_a_bad_field_is_not_a_header() {
    let dir = fresh_dir("reliability", "header_rule");
    std::fs::write(dir.join("d.csv"), "1.5,NA\n1,2\n3,4\n5,7\n").unwrap();
    assert_refused(
        &train(&dir, "R", &["--data", "d.csv"]),
        &["d.csv", "line 1, column 2", "\"NA\""],
    );
}

/// Case 15: the checkpoint reader is strict: an unknown precision, an
/// unknown field and a duplicate key are errors.
#[test]
fn the_checkpoint_reader_is_strict() {
    let dir = fresh_dir("reliability", "strict_checkpoint");
    ok(&train(&dir, "R", &[]));
    let text = String::from_utf8(read(&dir.join("R/model.json"))).unwrap();
    let cases = [
        (
            text.replace("\"precision\":\"f32\"", "\"precision\":\"f16\""),
            "f16",
        ),
        (text.replacen('{', "{\"comment\":1,", 1), "unknown field"),
        (
            text.replacen("\"version\":1", "\"version\":1,\"version\":1", 1),
            "duplicate field",
        ),
    ];
    for (bad, word) in cases {
        assert_ne!(bad, text, "the edit for {word:?} applied");
        std::fs::write(dir.join("bad.json"), bad).unwrap();
        let out = cli(&dir, &["sample", "--model", "bad.json", "-n", "3"]);
        assert_refused(&out, &["bad.json", word]);
    }
}

/// Case 16: clear messages: a tiny but real spread is not "zero variance",
/// values f32 cannot hold and a clamp that rounds to 0 point to f64, a
/// version 1.0 is called what it is, a byte-order mark is accepted, other
/// separators get a hint, and an unwritable --out is found before training.
#[test]
fn messages_say_what_is_wrong() {
    let dir = fresh_dir("reliability", "messages");
    let tiny: String = (0..40)
        .map(|i| format!("{:e},{}\n", (i % 7) as f64 * 1e-30, i % 5))
        .collect();
    std::fs::write(dir.join("tiny.csv"), tiny).unwrap();
    ok(&train(&dir, "T", &["--data", "tiny.csv"]));
    std::fs::write(dir.join("big.csv"), "1e39,1\n2e39,2\n3,4\n5,1\n").unwrap();
    assert_refused(
        &train(&dir, "R", &["--data", "big.csv"]),
        &["overflows f32", "--precision f64"],
    );
    assert_refused(
        &train(&dir, "R", &["--clamp", "1e-300"]),
        &["--clamp", "rounds to 0 in f32"],
    );
    let text = String::from_utf8(read(&dir.join("T/model.json"))).unwrap();
    std::fs::write(
        dir.join("v.json"),
        text.replacen("\"version\":1", "\"version\":1.0", 1),
    )
    .unwrap();
    assert_refused(
        &cli(&dir, &["sample", "--model", "v.json"]),
        &["version 1.0", "whole number"],
    );
    std::fs::write(dir.join("bom.json"), format!("\u{feff}{text}")).unwrap();
    ok(&cli(&dir, &["sample", "--model", "bom.json", "-n", "3"]));
    std::fs::write(dir.join("tabs.csv"), "1\t2\n3\t4\n5\t6\n").unwrap();
    assert_refused(
        &train(&dir, "R", &["--data", "tabs.csv"]),
        &["tabs", "commas"],
    );
    std::fs::write(dir.join("file"), "").unwrap();
    assert_refused(
        &train(&dir, "R", &["--out", "file/run"]),
        &["--out", "not a folder"],
    );
    assert_refused(
        &train(&dir, "R", &["--out", "/proc/flows-run"]),
        &["--out", "cannot write"],
    );
    assert!(!dir.join("R").exists());
}
