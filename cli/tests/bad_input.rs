//! Bad input, end to end: every mistake a user can make with a file, a
//! checkpoint or a flag is refused by the real `cli` binary with
//!
//! - a non-zero exit status (2 when clap rejects the command line, 1 otherwise),
//! - exactly one line on stderr, starting with "error:", that names the file or
//!   flag and says what is wrong (checked by key words),
//! - no panic and no backtrace,
//! - and no partial output: no model.json in the --out folder, no --out or
//!   --per-point file, no leftover temporary (`.NAME.flows-tmp-…`) from a staged write.
//!
//! The last test makes a training run diverge and checks that the best
//! checkpoint so far is kept and still loads.

mod common;
use common::{cli, fresh_dir, TINY};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// With [`TINY`], a run on a tenth of the default points.
const FEW_POINTS: &[&str] = &["--points", "300"];

/// One small trained model (model.json, train.csv, …), trained once for the
/// whole test binary. Tests never change it: they write edited copies into
/// their own folder.
fn fixture() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = fresh_dir("bad_input", "_fixture");
        let mut args = vec!["train", "--out", "run", "--no-plots"];
        args.extend_from_slice(TINY);
        args.extend_from_slice(FEW_POINTS);
        let out = cli(&dir, &args);
        assert!(
            out.status.success(),
            "fixture training failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir.join("run")
    })
}

/// The fixture checkpoint as JSON, to edit.
fn checkpoint_json() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture().join("model.json")).unwrap()).unwrap()
}

/// Writes `bytes` to `dir/name` and returns `name` (for the command line).
fn write<'a>(dir: &Path, name: &'a str, bytes: impl AsRef<[u8]>) -> &'a str {
    std::fs::write(dir.join(name), bytes).unwrap();
    name
}

/// Asserts the run was refused the way the contract says: exit `status`, one
/// line on stderr starting with "error:" and containing every word of `words`,
/// no panic or backtrace, nothing on stdout. Returns the message.
fn assert_refused(out: &Output, status: i32, words: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(status),
        "exit status; stderr: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "a panic: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr must be one line: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr:?}");
    for word in words {
        assert!(
            lines[0].contains(word),
            "the message should mention {word:?}: {stderr:?}"
        );
    }
    assert!(stdout.is_empty(), "nothing on stdout: {stdout:?}");
    lines[0].to_string()
}

/// Asserts none of `paths` (relative to `dir`) exists, and no temporary is
/// left anywhere under `dir`.
fn assert_no_output(dir: &Path, paths: &[&str]) {
    for p in paths {
        assert!(!dir.join(p).exists(), "{p} should not have been written");
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !name.contains("flows-tmp"),
                "leftover temporary file {}",
                path.display()
            );
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
}

/// `train --data FILE` on a bad CSV: status 1, the message names the file and
/// the problem, and no run folder (so no model.json) is made.
fn assert_train_refuses(dir: &Path, file: &str, words: &[&str]) {
    let mut args = vec!["train", "--data", file, "--out", "run"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(FEW_POINTS);
    let mut expected = vec![file];
    expected.extend_from_slice(words);
    assert_refused(&cli(dir, &args), 1, &expected);
    assert_no_output(dir, &["run/model.json", "run"]);
}

/// `eval --data FILE --per-point pp.csv` on a bad CSV: status 1, the message
/// names the file and the problem, and pp.csv is not written.
fn assert_eval_refuses(dir: &Path, file: &str, words: &[&str]) {
    let model = fixture().join("model.json");
    let args = [
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        file,
        "--per-point",
        "pp.csv",
    ];
    let mut expected = vec![file];
    expected.extend_from_slice(words);
    assert_refused(&cli(dir, &args), 1, &expected);
    assert_no_output(dir, &["pp.csv"]);
}

/// A checkpoint `ckpt` in `dir` is refused by sample, eval and plot alike, with
/// a message naming it and containing `words`; none of them writes its output.
fn assert_checkpoint_refused(dir: &Path, ckpt: &str, words: &[&str]) {
    let train_csv = fixture().join("train.csv");
    let data = train_csv.to_str().unwrap();
    let mut expected = vec![ckpt];
    expected.extend_from_slice(words);
    let runs: [&[&str]; 3] = [
        &["sample", "--model", ckpt, "-n", "5", "--out", "s.csv"],
        &[
            "eval",
            "--model",
            ckpt,
            "--data",
            data,
            "--per-point",
            "pp.csv",
        ],
        &["plot", "--model", ckpt, "--data", data, "--out", "figs"],
    ];
    for args in runs {
        assert_refused(&cli(dir, args), 1, &expected);
    }
    assert_no_output(dir, &["s.csv", "pp.csv", "figs"]);
}

/// A file that is not there: train names the path and says it is neither a
/// file nor a data set; eval and sample name the missing file.
#[test]
fn missing_files_are_named() {
    let dir = fresh_dir("bad_input", "missing_files");
    assert_train_refuses(&dir, "nosuch.csv", &["no such file"]);
    assert_eval_refuses(&dir, "missing.csv", &["no such file"]);
    let out = cli(
        &dir,
        &["sample", "--model", "missing.json", "--out", "s.csv"],
    );
    assert_refused(&out, 1, &["missing.json", "no such checkpoint file"]);
    assert_no_output(&dir, &["s.csv"]);
}

/// An empty file has no points: refused by train and eval.
#[test]
fn empty_file() {
    let dir = fresh_dir("bad_input", "empty_file");
    let f = write(&dir, "empty.csv", "");
    assert_train_refuses(&dir, f, &["empty"]);
    assert_eval_refuses(&dir, f, &["empty"]);
}

/// A header with no rows under it is not data.
#[test]
fn header_only() {
    let dir = fresh_dir("bad_input", "header_only");
    let f = write(&dir, "header.csv", "x,y\n");
    assert_train_refuses(&dir, f, &["header", "no data rows"]);
    assert_eval_refuses(&dir, f, &["header", "no data rows"]);
}

/// A row with the wrong number of cells: the message gives the line.
#[test]
fn ragged_rows() {
    let dir = fresh_dir("bad_input", "ragged_rows");
    let f = write(&dir, "ragged.csv", "x,y\n1,2\n3\n4,5\n");
    assert_train_refuses(&dir, f, &["line 3", "1 columns", "expected 2", "ragged"]);
    assert_eval_refuses(&dir, f, &["line 3", "ragged"]);
}

/// A cell that is not a number: line, column and the cell are quoted.
#[test]
fn non_numeric_value() {
    let dir = fresh_dir("bad_input", "non_numeric");
    let f = write(&dir, "words.csv", "x,y\n1,2\n3,abc\n4,5\n");
    assert_train_refuses(&dir, f, &["line 3", "column 2", "\"abc\"", "not a number"]);
    assert_eval_refuses(&dir, f, &["line 3", "column 2", "not a number"]);
}

/// NaN parses as a float but is no point of a density.
#[test]
fn nan_value() {
    let dir = fresh_dir("bad_input", "nan_value");
    let f = write(&dir, "nan.csv", "x,y\n1,2\nNaN,1\n4,5\n");
    assert_train_refuses(&dir, f, &["line 3", "column 1", "not a finite number"]);
    assert_eval_refuses(&dir, f, &["line 3", "column 1", "not a finite number"]);
}

/// Infinity, in either spelling Rust parses, is refused like NaN.
#[test]
fn infinite_value() {
    let dir = fresh_dir("bad_input", "inf_value");
    let f = write(&dir, "inf.csv", "x,y\n1,2\n3,inf\n4,5\n");
    assert_train_refuses(&dir, f, &["line 3", "column 2", "not a finite number"]);
    let g = write(&dir, "neginf.csv", "1,2\n-Infinity,3\n4,5\n");
    assert_eval_refuses(&dir, g, &["line 2", "column 1", "not a finite number"]);
}

/// A constant column cannot be standardized (σ = 0): training names the column.
#[test]
fn zero_variance_column() {
    let dir = fresh_dir("bad_input", "zero_variance");
    let rows: String = (0..50)
        .map(|i| format!("{},7.5\n", i as f64 * 0.1))
        .collect();
    let f = write(&dir, "flat.csv", format!("x,y\n{rows}"));
    assert_train_refuses(&dir, f, &["column 2", "zero variance"]);
}

/// One column is not enough for these flows (they split the dimensions).
#[test]
fn fewer_than_two_columns() {
    let dir = fresh_dir("bad_input", "one_column");
    let f = write(&dir, "one.csv", "x\n1\n2\n3\n4\n");
    assert_train_refuses(&dir, f, &["1 column", "at least 2 columns"]);
    assert_eval_refuses(&dir, f, &["at least 2 columns"]);
}

/// 3-D points given to a 2-D model: eval and plot say both dimensions and write
/// nothing; train with a --test file of another dimension is refused too.
#[test]
fn data_of_another_dimension() {
    let dir = fresh_dir("bad_input", "other_dimension");
    let f = write(&dir, "three.csv", "a,b,c\n1,2,3\n4,5,6.5\n7,8.5,9\n");
    assert_eval_refuses(&dir, f, &["3 columns", "2-dimensional"]);
    let model = fixture().join("model.json");
    let out = cli(
        &dir,
        &[
            "plot",
            "--model",
            model.to_str().unwrap(),
            "--data",
            f,
            "--out",
            "figs",
        ],
    );
    assert_refused(&out, 1, &[f, "3 columns", "2-dimensional"]);
    assert_no_output(&dir, &["figs"]);

    let mut args = vec!["train", "--test", f, "--out", "run"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(FEW_POINTS);
    assert_refused(
        &cli(&dir, &args),
        1,
        &[f, "3 columns", "training data has 2"],
    );
    assert_no_output(&dir, &["run"]);
}

/// model.json cut in half (an interrupted copy) is reported as truncated JSON.
#[test]
fn truncated_checkpoint() {
    let dir = fresh_dir("bad_input", "truncated_checkpoint");
    let bytes = std::fs::read(fixture().join("model.json")).unwrap();
    let f = write(&dir, "model.json", &bytes[..bytes.len() / 2]);
    assert_checkpoint_refused(&dir, f, &["not a valid checkpoint", "truncated"]);
}

/// Garbage bytes, JSON of another shape, and a checkpoint header with no body
/// are each refused with a message about what kind of file it is.
#[test]
fn corrupt_checkpoint() {
    let dir = fresh_dir("bad_input", "corrupt_checkpoint");
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let f = write(&dir, "garbage.json", garbage);
    assert_checkpoint_refused(&dir, f, &["not a valid checkpoint", "corrupt"]);

    let f = write(&dir, "other.json", r#"{"weights": [1, 2, 3], "name": "x"}"#);
    assert_checkpoint_refused(&dir, f, &["not a flows checkpoint", "format"]);

    let f = write(&dir, "list.json", "[1, 2, 3]");
    assert_checkpoint_refused(&dir, f, &["not a flows checkpoint"]);

    let f = write(
        &dir,
        "bare.json",
        r#"{"format": "flows-checkpoint", "version": 1}"#,
    );
    assert_checkpoint_refused(&dir, f, &["not a valid checkpoint", "missing field"]);
}

/// A checkpoint from a future version is refused by its version number, not
/// by whatever field it might have changed.
#[test]
fn wrong_version_checkpoint() {
    let dir = fresh_dir("bad_input", "wrong_version");
    let mut json = checkpoint_json();
    json["version"] = serde_json::json!(99);
    let f = write(&dir, "v99.json", serde_json::to_vec(&json).unwrap());
    assert_checkpoint_refused(&dir, f, &["version 99", "not supported"]);
}

/// Every parameter of the architecture must be there with its shape: a
/// missing one, a transposed matrix, too few values for the shape, a shape
/// whose size overflows, and a name from another architecture are refused.
#[test]
fn checkpoint_with_missing_or_misshapen_parameter() {
    let dir = fresh_dir("bad_input", "bad_parameters");
    let original = checkpoint_json();
    let params = original["params"].as_array().unwrap();
    // A non-square weight matrix, so its transpose is a different shape.
    let (k, name) = params
        .iter()
        .enumerate()
        .find_map(|(k, p)| {
            let shape = p["shape"].as_array().unwrap();
            let name = p["name"].as_str().unwrap();
            (name.ends_with("weight") && shape.len() == 2 && shape[0] != shape[1])
                .then(|| (k, name.to_string()))
        })
        .expect("a non-square weight");
    let edited = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut json = original.clone();
        edit(&mut json);
        serde_json::to_vec(&json).unwrap()
    };

    let f = write(
        &dir,
        "missing.json",
        edited(&|j| {
            j["params"].as_array_mut().unwrap().remove(k);
        }),
    );
    assert_checkpoint_refused(&dir, f, &[&name, "missing"]);

    let f = write(
        &dir,
        "transposed.json",
        edited(&|j| {
            let shape = j["params"][k]["shape"].as_array_mut().unwrap();
            shape.reverse();
        }),
    );
    assert_checkpoint_refused(&dir, f, &[&name, "expected shape"]);

    let f = write(
        &dir,
        "short.json",
        edited(&|j| {
            j["params"][k]["values"].as_array_mut().unwrap().pop();
        }),
    );
    assert_checkpoint_refused(&dir, f, &[&name, "values for shape"]);

    let f = write(
        &dir,
        "overflow.json",
        edited(&|j| j["params"][k]["shape"] = serde_json::json!([1u64 << 62, 4])),
    );
    assert_checkpoint_refused(&dir, f, &[&name, "values for shape"]);

    let f = write(
        &dir,
        "foreign.json",
        edited(&|j| j["params"][k]["name"] = serde_json::json!("flow.99.weight")),
    );
    assert_checkpoint_refused(&dir, f, &["flow.99.weight", "does not belong"]);
}

/// A --data that is neither a file nor a toy data set: the message lists the
/// data set names.
#[test]
fn unknown_data_set_name() {
    let dir = fresh_dir("bad_input", "unknown_data_set");
    assert_train_refuses(
        &dir,
        "nosuchset",
        &["not a data set name", "moons", "8gaussians"],
    );
}

/// Unknown enum values are clap's to refuse: status 2, one line naming the
/// flag, the value and the possible values (not clap's usage block).
#[test]
fn unknown_flow_or_mixing_name() {
    let dir = fresh_dir("bad_input", "unknown_enum");
    for (flag, possible) in [("--flow", "affine"), ("--mixing", "alternate")] {
        let mut args = vec!["train", flag, "foo", "--out", "run"];
        args.extend_from_slice(TINY);
        args.extend_from_slice(FEW_POINTS);
        let out = cli(&dir, &args);
        assert_refused(&out, 2, &[flag, "'foo'", "possible values", possible]);
        assert_no_output(&dir, &["run"]);
    }
}

/// Hyperparameters no training can use are refused before any work (so no run
/// folder appears), naming the flag and its value.
#[test]
fn invalid_hyperparameters() {
    let dir = fresh_dir("bad_input", "hyperparameters");
    let cases: &[(&str, &str, &[&str])] = &[
        ("--layers", "0", &["--layers 0", "at least 1 layer"]),
        ("--lr", "0", &["--lr 0", "positive"]),
        ("--lr", "-1", &["--lr -1", "positive"]),
        ("--batch", "0", &["--batch 0", "at least 1"]),
        ("--steps", "0", &["--steps 0", "at least 1 step"]),
        ("--holdout", "500", &["--holdout 500", "of only 100 points"]),
    ];
    let base = [
        ("--points", "100"),
        ("--layers", "2"),
        ("--hidden", "8"),
        ("--steps", "30"),
    ];
    for &(flag, value, words) in cases {
        let mut args = vec!["train", "--out", "run", flag, value];
        // Every flag once: clap refuses a repeated flag.
        for (f, v) in base.iter().filter(|(f, _)| *f != flag) {
            args.extend_from_slice(&[f, v]);
        }
        assert_refused(&cli(&dir, &args), 1, words);
        assert_no_output(&dir, &["run"]);
    }
}

/// A learning rate of 10⁶ with no clipping to speak of makes the loss
/// non-finite within a step or two. The run must stop with one message saying
/// it diverged (after any progress lines), and keep the best checkpoint so
/// far: model.json loads, and its held-out NLL is finite and is the one the
/// message reports.
#[test]
fn diverging_run_keeps_the_last_good_checkpoint() {
    let dir = fresh_dir("bad_input", "diverges");
    let mut args = vec!["train", "--out", "run", "--no-plots"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(FEW_POINTS);
    args.extend_from_slice(&[
        "--lr",
        "1e6",
        "--clamp",
        "50",
        "--clip",
        "1e30",
        "--schedule",
        "constant",
    ]);
    let out = cli(&dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let (message, progress) = lines.split_last().expect("a message");
    assert!(
        progress.iter().all(|l| l.starts_with("step ")),
        "only progress lines before the error: {stderr}"
    );
    assert!(message.starts_with("error: training diverged at step "));
    assert!(message.contains("run/model.json"), "{message}");
    assert_no_output(&dir, &[]);

    // "(step S, held-out NLL 1.9650)"
    let reported: f64 = message
        .split("held-out NLL ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a held-out NLL in {message:?}"));
    let out = cli(
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
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nll = json["nll"].as_f64().expect("a finite NLL");
    assert!(nll.is_finite());
    // The message rounds to 4 decimals.
    assert!(
        (nll - reported).abs() <= 5e-5 + 1e-12,
        "{nll} vs {reported}"
    );
}
