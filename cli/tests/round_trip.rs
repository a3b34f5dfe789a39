//! Round trips through the real `cli` binary: train → sample → eval → plot on a
//! CSV file the test writes itself (a noisy circle), on a toy data set with a
//! `--test` file, on 3-D data and in f64; plus `cli tape` and `--help`.
//!
//! The trainings are tiny (30 steps, 2 layers of width 8): these tests check
//! the files and numbers the commands exchange, not how well a flow fits.
//! Each training is done once per test binary (a `OnceLock` fixture) and only
//! read afterwards; every test writes into its own fresh folder.

mod common;
use common::{cli, fresh_dir, summary_value, TINY};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const STEPS: usize = 30;
const EVAL_EVERY: usize = 10;

/// The six figures, in the order `train` draws them.
const FIGURES: [&str; 6] = [
    "1_data_vs_samples",
    "2_density",
    "3_latent",
    "4_inverse_warp",
    "5_training_curve",
    "6_layers",
];

/// Runs `cli args…` in `dir`, asserts it succeeded without a panic, and
/// returns its stdout.
fn cli_ok(dir: &Path, args: &[&str]) -> String {
    let out = cli(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cli {args:?} failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `cli args` expecting a clean failure; returns its stderr.
fn cli_err(dir: &Path, args: &[&str]) -> String {
    let out = cli(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "cli {args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Rows as CSV text with a header; `{v}` round-trips every f64 exactly.
fn csv(header: &str, rows: &[Vec<f64>]) -> String {
    let mut s = format!("{header}\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

/// `n` points of a noisy unit circle (radius 1, radial noise 0.08).
fn circle(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let t = std::f64::consts::TAU * rng.random::<f64>();
            let r = 1.0 + 0.08 * rng.sample::<f64, _>(StandardNormal);
            vec![r * t.cos(), r * t.sin()]
        })
        .collect()
}

/// `n` points of two noisy interleaved half circles, from the library's data set.
fn moons(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    flows::data::moons(n, 0.05, &mut rng)
        .iter()
        .map(|p| p.to_vec())
        .collect()
}

/// The numeric rows of a CSV file written by the cli (header skipped).
fn read_rows(path: &Path) -> (String, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().expect("a header").to_string();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| {
                    c.parse::<f64>()
                        .unwrap_or_else(|_| panic!("{c:?} in {l:?}"))
                })
                .collect()
        })
        .collect();
    (header, rows)
}

/// A finished training: its folder, the run folder inside and the summary.
struct Run {
    dir: PathBuf,
    run: PathBuf,
    stdout: String,
}

impl Run {
    fn model(&self) -> String {
        self.run.join("model.json").to_string_lossy().into_owned()
    }

    fn file(&self, name: &str) -> String {
        self.run.join(name).to_string_lossy().into_owned()
    }

    fn checkpoint(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.run.join("model.json")).unwrap()).unwrap()
    }
}

/// Trains in a fresh folder `name` after writing `files` there.
fn train(name: &str, files: &[(&str, String)], args: &[&str]) -> Run {
    let dir = fresh_dir("round_trip", name);
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let mut all = vec!["train", "--out", "run"];
    all.extend_from_slice(TINY);
    all.extend_from_slice(args);
    let stdout = cli_ok(&dir, &all);
    Run {
        run: dir.join("run"),
        dir,
        stdout,
    }
}

/// 400 points of a noisy circle in circle.csv (header "x,y"), trained with the
/// default 20 % held out and with --svg.
fn circle_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let text = csv("x,y", &circle(400, 1));
        train(
            "_circle",
            &[("circle.csv", text)],
            &["--data", "circle.csv", "--svg"],
        )
    })
}

/// The toy data set `moons` (300 points, all trained on) with a separate
/// held-out file moons_test.csv of 150 points written by the test.
fn toy_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let text = csv("a,b", &moons(150, 2));
        train(
            "_moons",
            &[("moons_test.csv", text)],
            &[
                "--data",
                "moons",
                "--points",
                "300",
                "--test",
                "moons_test.csv",
            ],
        )
    })
}

/// `cli eval --json` on `data`: (nll, n, dim), after checking it printed
/// exactly one JSON object with exactly those keys.
fn eval_json(dir: &Path, model: &str, data: &str) -> (f64, usize, usize) {
    let stdout = cli_ok(dir, &["eval", "--model", model, "--data", data, "--json"]);
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let object = json.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["dim", "n", "nll"]);
    (
        json["nll"].as_f64().expect("nll is a number"),
        json["n"].as_u64().expect("n is a count") as usize,
        json["dim"].as_u64().expect("dim is a count") as usize,
    )
}

/// Decodes a PNG and checks it is a real figure: at least 600 × 300 pixels,
/// and not blank — more than 1 % of the pixels differ from the background
/// (the most common colour) and there are more than 20 distinct colours
/// (anti-aliased marks, text and colour maps give hundreds).
fn assert_figure(path: &Path) {
    let shown = path.display();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{shown}: {e}"));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        info.width >= 600 && info.height >= 300,
        "{shown}: {}×{}",
        info.width,
        info.height
    );
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{shown}");
    let channels = info.color_type.samples();
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for y in 0..info.height as usize {
        let line = &buf[y * info.line_size..][..info.width as usize * channels];
        for pixel in line.chunks_exact(channels) {
            *counts.entry(pixel).or_default() += 1;
        }
    }
    let total = (info.width * info.height) as usize;
    let background = counts.values().copied().max().unwrap();
    assert!(
        (total - background) as f64 > 0.01 * total as f64,
        "{shown}: only {} of {total} pixels are not background",
        total - background
    );
    assert!(
        counts.len() > 20,
        "{shown}: {} distinct colours",
        counts.len()
    );
}

/// Train on a CSV file leaves a complete run folder: the checkpoint as JSON
/// with its format, version and named parameters; metrics.csv with a row for
/// step 0 and each step (held-out NLL at every --eval-every and the last
/// step); train.csv and heldout.csv that are exactly the input rows, split
/// 320/80, with the input's header; the six figures as PNG and, with --svg,
/// as SVG.
#[test]
fn train_on_csv_leaves_a_complete_run_folder() {
    let run = circle_run();
    assert!(
        run.stdout
            .contains("on circle.csv: 320 train / 80 held-out points"),
        "{}",
        run.stdout
    );

    let ckpt = run.checkpoint();
    assert_eq!(ckpt["format"], "flows-checkpoint");
    assert_eq!(ckpt["version"], 1);
    assert_eq!(ckpt["precision"], "f32");
    assert_eq!(ckpt["config"]["dim"], 2);
    assert_eq!(ckpt["config"]["layers"], 2);
    let params = ckpt["params"].as_array().expect("params");
    let mut names = HashSet::new();
    for p in params {
        let name = p["name"].as_str().expect("a name");
        assert!(!name.is_empty() && names.insert(name), "name {name:?}");
        let size: u64 = p["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .product();
        assert_eq!(p["values"].as_array().unwrap().len() as u64, size, "{name}");
    }
    assert!(names.contains("standardize.mean"), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".weight")), "{names:?}");

    let metrics = std::fs::read_to_string(run.run.join("metrics.csv")).unwrap();
    let mut lines = metrics.lines();
    assert_eq!(lines.next(), Some("step,train_nll,heldout_nll,seconds"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), STEPS + 1, "step 0 and one row per step");
    let mut last_seconds = 0.0;
    for (step, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 4, "{row:?}");
        assert_eq!(row[0].parse::<usize>().unwrap(), step);
        assert!(row[1].parse::<f64>().unwrap().is_finite(), "{row:?}");
        let evaluated = step % EVAL_EVERY == 0 || step == STEPS;
        if evaluated {
            assert!(row[2].parse::<f64>().unwrap().is_finite(), "{row:?}");
        } else {
            assert_eq!(row[2], "", "no held-out NLL at step {step}");
        }
        let seconds: f64 = row[3].parse().unwrap();
        assert!(seconds >= last_seconds, "{row:?}");
        last_seconds = seconds;
    }

    let (train_header, train) = read_rows(&run.run.join("train.csv"));
    let (heldout_header, heldout) = read_rows(&run.run.join("heldout.csv"));
    assert_eq!((train_header.as_str(), train.len()), ("x,y", 320));
    assert_eq!((heldout_header.as_str(), heldout.len()), ("x,y", 80));
    let (_, input) = read_rows(&run.dir.join("circle.csv"));
    let bits = |rows: &[Vec<f64>]| {
        let mut b: Vec<Vec<u64>> = rows
            .iter()
            .map(|r| r.iter().map(|v| v.to_bits()).collect())
            .collect();
        b.sort();
        b
    };
    let split: Vec<Vec<f64>> = train.iter().chain(&heldout).cloned().collect();
    assert_eq!(
        bits(&split),
        bits(&input),
        "the split is the input, exactly"
    );

    for name in FIGURES {
        for ext in ["png", "svg"] {
            let path = run.run.join(format!("{name}.{ext}"));
            assert!(path.exists(), "{} missing", path.display());
        }
        let svg = std::fs::read_to_string(run.run.join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}

/// Every figure of the CSV run and of the toy run decodes as a PNG of a
/// figure's size that is not blank (see `assert_figure`).
#[test]
fn figures_are_pictures() {
    for run in [circle_run(), toy_run()] {
        for name in FIGURES {
            assert_figure(&run.run.join(format!("{name}.png")));
        }
    }
}

/// The summary's train NLL is what `cli eval` computes on the saved
/// train.csv: both compute in f64 from the kept parameters. The checkpoint's
/// `result` holds it unrounded (tolerance 1e-6, for summation order only);
/// stdout rounds to 4 decimals (tolerance half a unit in the 4th decimal).
/// The kept model was refit on all 400 points, so its NLL on heldout.csv is
/// no held-out score: the held-out NLL printed and saved is the selected
/// model's, which the refit model, having trained on those points, beats.
#[test]
fn summary_agrees_with_eval_on_the_saved_split() {
    let run = circle_run();
    let model = run.model();
    let result = &run.checkpoint()["result"];
    let (nll, n, dim) = eval_json(&run.dir, &model, &run.file("train.csv"));
    assert_eq!((n, dim), (320, 2));
    let saved = result["train_nll"].as_f64().unwrap();
    assert!((nll - saved).abs() <= 1e-6, "train.csv: {nll} vs {saved}");
    let printed = summary_value(&run.stdout, "train NLL");
    assert!(
        (nll - printed).abs() <= 5e-5 + 1e-9,
        "train NLL: eval {nll} vs summary {printed}"
    );

    assert!(
        run.stdout.contains("refit         on all 400 points"),
        "{}",
        run.stdout
    );
    assert_eq!(run.checkpoint()["training"]["refit_points"], 400);
    let selected = result["heldout_nll"].as_f64().unwrap();
    let printed = summary_value(&run.stdout, "held-out NLL");
    assert!(
        (selected - printed).abs() <= 5e-5 + 1e-9,
        "{selected} vs {printed}"
    );
    let (refit_on_heldout, n, _) = eval_json(&run.dir, &model, &run.file("heldout.csv"));
    assert_eq!(n, 80);
    assert!(
        refit_on_heldout < selected,
        "{refit_on_heldout} vs {selected}"
    );
}

/// With --test FILE.csv, every point of the toy set is trained on, the file is
/// the held-out set (saved as heldout.csv), and eval on the file agrees with
/// the summary's held-out line and the checkpoint's result.
#[test]
fn test_file_is_the_heldout_set() {
    let run = toy_run();
    assert!(
        run.stdout.contains("300 train / 150 held-out points"),
        "{}",
        run.stdout
    );
    let (nll, n, _) = eval_json(&run.dir, &run.model(), "moons_test.csv");
    assert_eq!(n, 150);
    let saved = run.checkpoint()["result"]["heldout_nll"].as_f64().unwrap();
    assert!((nll - saved).abs() <= 1e-6, "{nll} vs {saved}");
    let printed = summary_value(&run.stdout, "held-out NLL");
    assert!((nll - printed).abs() <= 5e-5 + 1e-9, "{nll} vs {printed}");
    let (_, heldout) = read_rows(&run.run.join("heldout.csv"));
    let (_, test) = read_rows(&run.dir.join("moons_test.csv"));
    assert_eq!(heldout, test);
    assert_eq!(read_rows(&run.run.join("train.csv")).1.len(), 300);
}

/// `eval --json` prints one object {nll, n, dim} with n the CSV's rows;
/// `--per-point` writes a header and one NLL per point whose mean is the nll
/// (1e-9: the same numbers, printed exactly, summed in the same order); the
/// text form names the count and dimension.
#[test]
fn eval_json_and_per_point_agree() {
    let run = circle_run();
    let dir = fresh_dir("round_trip", "eval_per_point");
    let model = run.model();
    let data = run.file("heldout.csv");
    let (nll, n, dim) = eval_json(&dir, &model, &data);
    assert_eq!((n, dim), (80, 2));
    assert!(nll.is_finite());

    let stdout = cli_ok(
        &dir,
        &[
            "eval",
            "--model",
            &model,
            "--data",
            &data,
            "--per-point",
            "pp.csv",
        ],
    );
    assert!(stdout.starts_with("NLL ") && stdout.contains("on 80 points"));
    let text = std::fs::read_to_string(dir.join("pp.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n + 1, "header + one line per point");
    assert_eq!(lines[0], "nll");
    let each: Vec<f64> = lines[1..].iter().map(|l| l.parse().unwrap()).collect();
    let mean = each.iter().sum::<f64>() / n as f64;
    assert!((mean - nll).abs() <= 1e-9, "{mean} vs {nll}");
}

/// Checks `text` is sample output: the header x1,…,x{dim} and `n` rows of
/// `dim` finite numbers.
fn assert_samples(text: &str, n: usize, dim: usize) {
    let mut lines = text.lines();
    let header: Vec<String> = (1..=dim).map(|j| format!("x{j}")).collect();
    assert_eq!(lines.next(), Some(header.join(",").as_str()));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), n);
    for row in rows {
        let cells: Vec<f64> = row.split(',').map(|c| c.parse().unwrap()).collect();
        assert_eq!(cells.len(), dim, "{row}");
        assert!(cells.iter().all(|v| v.is_finite()), "{row}");
    }
}

/// `sample -n 123` prints a header and 123 rows; with --out the same bytes go
/// to the file and nothing to stdout; the seed fixes the samples, and another
/// seed changes them. Checked on the CSV model and the toy model.
#[test]
fn sample_is_seeded_csv_to_stdout_or_a_file() {
    let dir = fresh_dir("round_trip", "sample");
    for run in [circle_run(), toy_run()] {
        let model = run.model();
        let sample = |seed: &str| {
            cli_ok(
                &dir,
                &["sample", "--model", &model, "-n", "123", "--seed", seed],
            )
        };
        let first = sample("1");
        assert_samples(&first, 123, 2);
        assert_eq!(sample("1"), first, "same seed, same samples");
        assert_ne!(sample("2"), first, "another seed, other samples");

        let _ = std::fs::remove_file(dir.join("s.csv"));
        let args = [
            "sample", "--model", &model, "-n", "123", "--seed", "1", "--out", "s.csv",
        ];
        assert_eq!(cli_ok(&dir, &args), "", "nothing on stdout with --out");
        assert_eq!(std::fs::read_to_string(dir.join("s.csv")).unwrap(), first);
    }
}

/// `plot --out FOLDER` redraws the six figures of a checkpoint elsewhere (from
/// the train.csv beside it), as valid, non-blank PNGs.
#[test]
fn plot_redraws_the_figures_into_another_folder() {
    let run = circle_run();
    let dir = fresh_dir("round_trip", "plot");
    let stdout = cli_ok(&dir, &["plot", "--model", &run.model(), "--out", "figs"]);
    assert!(stdout.starts_with("wrote 6 figures"), "{stdout}");
    for name in FIGURES {
        assert_figure(&dir.join("figs").join(format!("{name}.png")));
    }
    assert!(!dir.join("figs/1_data_vs_samples.svg").exists(), "no --svg");
}

/// A 3-column CSV trains a 3-D flow: samples have 3 columns, eval reports dim
/// 3, and of the figures the 2-D-only ones (2_density, 4_inverse_warp) are
/// skipped while the others are drawn (from the first two coordinates), by
/// train and by plot alike.
#[test]
fn three_dimensional_csv_round_trip() {
    let mut rng = StdRng::seed_from_u64(3);
    let rows: Vec<Vec<f64>> = circle(400, 4)
        .into_iter()
        .map(|p| {
            let noise: f64 = rng.sample(StandardNormal);
            vec![p[0], p[1], p[0] * p[1] + 0.1 * noise]
        })
        .collect();
    let run = train(
        "three_d",
        &[("xyz.csv", csv("x,y,z", &rows))],
        &["--data", "xyz.csv"],
    );
    assert_eq!(run.checkpoint()["config"]["dim"], 3);
    let model = run.model();
    assert_samples(
        &cli_ok(&run.dir, &["sample", "--model", &model, "-n", "50"]),
        50,
        3,
    );
    let (nll, n, dim) = eval_json(&run.dir, &model, "xyz.csv");
    assert_eq!((n, dim), (400, 3));
    assert!(nll.is_finite());

    cli_ok(&run.dir, &["plot", "--model", &model, "--out", "figs"]);
    for folder in [run.run.clone(), run.dir.join("figs")] {
        for name in FIGURES {
            let path = folder.join(format!("{name}.png"));
            if name.starts_with('2') || name.starts_with('4') {
                assert!(!path.exists(), "{} is 2-D only", path.display());
            } else {
                assert_figure(&path);
            }
        }
    }
}

/// Training in f64 works end to end and is recorded as such; without a
/// refit, eval (always f64) on heldout.csv reproduces its held-out NLL.
#[test]
fn f64_training_round_trip() {
    let run = train(
        "f64",
        &[],
        &[
            "--points",
            "300",
            "--precision",
            "f64",
            "--no-plots",
            "--refit",
            "false",
        ],
    );
    assert!(run.stdout.contains(", f64)"), "{}", run.stdout);
    assert!(!run.stdout.contains("refit"), "{}", run.stdout);
    let ckpt = run.checkpoint();
    assert!(ckpt["training"].get("refit_points").is_none());
    assert_eq!(ckpt["precision"], "f64");
    let (nll, n, _) = eval_json(&run.dir, &run.model(), &run.file("heldout.csv"));
    assert_eq!(n, 60);
    let saved = ckpt["result"]["heldout_nll"].as_f64().unwrap();
    assert!((nll - saved).abs() <= 1e-6, "{nll} vs {saved}");
    assert_samples(
        &cli_ok(&run.dir, &["sample", "--model", &run.model(), "-n", "5"]),
        5,
        2,
    );
}

/// `cli tape` prints the forward Wengert list (starting from the input x, with
/// matrix products), the adjoint program in ḡ notation, and a finite gradient
/// for every parameter of the coupling networks, at least one non-zero;
/// `--dot` prints a Graphviz digraph instead.
#[test]
fn tape_prints_forward_list_adjoints_and_gradients() {
    let dir = fresh_dir("round_trip", "tape");
    let text = cli_ok(&dir, &["tape"]);
    assert!(text.contains("v0 = constant \"x\""), "{text}");
    assert!(text.contains("matmul(") && text.contains("tanh("), "{text}");
    assert!(text.lines().any(|l| l.starts_with("ḡ")), "{text}");
    let (_, gradients) = text.split_once("\nGradients:").expect("a gradient section");
    let mut any_nonzero = false;
    for name in [
        "coupling.s.0.weight",
        "coupling.s.0.bias",
        "coupling.s.1.weight",
        "coupling.t.0.weight",
        "coupling.t.1.bias",
    ] {
        let line = gradients
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("∂L/∂{name} ")))
            .unwrap_or_else(|| panic!("no gradient of {name} in {text}"));
        let inside = line.rsplit('[').next().unwrap().trim_end_matches(']');
        let grads: Vec<f64> = inside
            .split(", ")
            .map(|g| g.parse().unwrap_or_else(|_| panic!("{g:?} in {line}")))
            .collect();
        assert!(!grads.is_empty() && grads.iter().all(|g| g.is_finite()));
        any_nonzero |= grads.iter().any(|&g| g != 0.0);
    }
    assert!(any_nonzero, "{text}");

    let dot = cli_ok(&dir, &["tape", "--dot"]);
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

/// Output into a pipe that is already closed (`cli tape | head`) is not an
/// error worth a message, and never a panic: the reader end is closed before
/// the command writes.
#[test]
fn closed_stdout_is_not_a_panic() {
    let dir = fresh_dir("round_trip", "closed_pipe");
    let model = circle_run().model();
    let commands: [&[&str]; 2] = [&["tape"], &["sample", "--model", &model, "-n", "20000"]];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cli"))
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "cli {args:?}: {stderr}");
        assert!(out.status.success(), "cli {args:?}: {stderr}");
    }
}

/// `--help` succeeds and lists every subcommand; each subcommand's --help
/// succeeds and lists its flags (all of train's).
#[test]
fn help_lists_subcommands_and_flags() {
    let dir = fresh_dir("round_trip", "help");
    let top = cli_ok(&dir, &["--help"]);
    for sub in ["train", "sample", "eval", "plot", "tape"] {
        assert!(top.contains(&format!("  {sub} ")), "{sub} in {top}");
    }
    let flags: [(&str, &[&str]); 5] = [
        (
            "train",
            &[
                "--data",
                "--points",
                "--noise",
                "--test",
                "--holdout",
                "--flow",
                "--layers",
                "--hidden",
                "--depth",
                "--activation",
                "--actnorm",
                "--mixing",
                "--shared-net",
                "--clamp",
                "--steps",
                "--epochs",
                "--batch",
                "--lr",
                "--schedule",
                "--clip",
                "--eval-every",
                "--seed",
                "--threads",
                "--precision",
                "--out",
                "--svg",
                "--no-plots",
            ],
        ),
        ("sample", &["--model", "--num", "-n", "--out", "--seed"]),
        ("eval", &["--model", "--data", "--json", "--per-point"]),
        ("plot", &["--model", "--data", "--out", "--svg", "--seed"]),
        ("tape", &["--dot"]),
    ];
    for (sub, wanted) in flags {
        let help = cli_ok(&dir, &[sub, "--help"]);
        for flag in wanted {
            assert!(help.contains(flag), "cli {sub} --help lacks {flag}: {help}");
        }
    }
}

/// `bench --json` prints one object with the keys the PyTorch script prints,
/// positive times and a finite NLL; the FLOP rate is below the gemm rate
/// it is compared with only if both are measured (both positive).
#[test]
fn bench_prints_its_json() {
    let dir = fresh_dir("round_trip", "bench");
    let out = cli_ok(
        &dir,
        &[
            "bench",
            "--epochs",
            "2",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--hidden",
            "8",
            "--points",
            "100",
            "--infer",
            "500",
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    for key in [
        "ms_per_epoch_median",
        "p10",
        "p90",
        "gflops",
        "gemm_gflops",
        "eval_s",
        "sample_s",
    ] {
        let v = json[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {json}"));
        assert!(v > 0.0 && v.is_finite(), "{key} = {v}");
    }
    assert!(
        json["final_nll"].as_f64().is_some_and(f64::is_finite),
        "{json}"
    );
    assert_eq!(
        (json["points"].as_u64(), json["hidden"].as_u64()),
        (Some(100), Some(8))
    );
    assert_eq!(json["precision"], "f32");
}

/// `bench --sweep hidden --json` prints one object per width, each marked
/// with its sweep and the thread count used, with resident memory that does
/// not grow over the timed epochs (the tape reuses its buffers);
/// `bench --draw` turns the lines into a PNG and refuses bad input in one line.
#[test]
fn bench_sweeps_and_draws_the_scaling_figure() {
    let dir = fresh_dir("round_trip", "bench_sweep");
    let quick = [
        "--epochs",
        "3",
        "--repeats",
        "1",
        "--warmup",
        "2",
        "--points",
        "200",
    ];
    let mut args = vec![
        "bench",
        "--sweep",
        "hidden",
        "--infer",
        "0",
        "--json",
        "--threads",
        "1",
    ];
    args.extend_from_slice(&quick);
    let out = cli_ok(&dir, &args);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let widths: Vec<_> = rows.iter().map(|r| r["hidden"].as_u64()).collect();
    assert_eq!(widths, [32, 64, 128, 256, 512].map(Some));
    for r in &rows {
        assert_eq!(
            (r["sweep"].as_str(), r["threads"].as_u64()),
            (Some("hidden"), Some(1))
        );
        let (before, after) = (
            r["resident_after_warmup_mb"].as_f64(),
            r["resident_after_training_mb"].as_f64(),
        );
        let (before, after) = (before.expect("memory"), after.expect("memory"));
        assert!(
            after <= before + 0.5,
            "memory grew from {before} to {after} MB: {r}"
        );
    }
    std::fs::write(dir.join("sweep.jsonl"), &out).unwrap();
    cli_ok(
        &dir,
        &["bench", "--draw", "sweep.jsonl", "--out", "scaling.png"],
    );
    let png = std::fs::read(dir.join("scaling.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    std::fs::write(
        dir.join("bad.jsonl"),
        "{\"sweep\": \"hidden\", \"threads\": 1}\n",
    )
    .unwrap();
    for (args, says) in [
        (
            &["bench", "--draw", "bad.jsonl", "--out", "f.png"][..],
            "`points` is not a positive number",
        ),
        (
            &["bench", "--draw", "sweep.jsonl", "--out", "sweep.jsonl"][..],
            "over the input",
        ),
        (
            &["bench", "--draw", "sweep.jsonl", "--out", "f.txt"][..],
            ".png or .svg",
        ),
        (
            &["bench", "--draw", "missing.jsonl", "--out", "f.png"][..],
            "missing.jsonl",
        ),
    ] {
        let err = cli_err(&dir, args);
        assert!(
            err.contains(says) && err.trim().lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        std::fs::read(dir.join("sweep.jsonl")).unwrap(),
        out.as_bytes()
    );
}

/// `--animate` writes 7_flow.gif: a looping GIF whose frames rest on each
/// stage (data, standardized, after each of the 2 layers: 4 stages) and
/// glide between them, all of one size.
#[test]
fn animate_writes_a_gif_of_every_stage() {
    let dir = fresh_dir("round_trip", "animate");
    let mut args = vec!["train", "--points", "300", "--out", "run", "--animate"];
    args.extend_from_slice(TINY);
    cli_ok(&dir, &args);
    let frames = gif_frames(&dir.join("run/7_flow.gif"));
    // 4 stages at rest (6 frames each) and 3 glides (9 frames each).
    assert_eq!(frames.len(), 4 * 6 + 3 * 9);
}

/// The frames of the GIF at `path` as (delay, RGBA pixels), after checking
/// that it decodes and that every frame covers the whole image.
fn gif_frames(path: &Path) -> Vec<(u16, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("a GIF");
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(file).expect("a valid GIF");
    let (w, h) = (decoder.width(), decoder.height());
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().expect("decodable frames") {
        assert_eq!((frame.width, frame.height), (w, h));
        frames.push((frame.delay, frame.buffer.to_vec()));
    }
    frames
}

/// `--animate` also writes 8_training.gif: one frame per snapshot of the
/// model (of a 30-step run: 29 of the steps 0 to 30, closer together early
/// on) and a last one of the kept model, held longest; no frame repeats the one before it, so the
/// animation shows the model change.
#[test]
fn animate_writes_a_gif_of_the_density_over_training() {
    let dir = fresh_dir("round_trip", "animate_training");
    let mut args = vec!["train", "--points", "300", "--out", "run", "--animate"];
    args.extend_from_slice(TINY);
    let out = cli_ok(&dir, &args);
    assert!(out.contains("8_training.gif"), "{out}");
    let frames = gif_frames(&dir.join("run/8_training.gif"));
    assert_eq!(frames.len(), 29 + 1);
    for (k, pair) in frames.windows(2).enumerate() {
        assert_ne!(
            pair[0].1,
            pair[1].1,
            "frames {k} and {} are the same",
            k + 1
        );
    }
    let longest = frames.iter().map(|f| f.0).max().unwrap();
    assert_eq!(frames.last().unwrap().0, longest, "the kept model is held");
    let bytes = std::fs::metadata(dir.join("run/8_training.gif"))
        .unwrap()
        .len();
    assert!(bytes < 4_000_000, "{bytes} bytes");
}

/// `cli report` trains with the defaults, scores each kept model on fresh
/// points and writes the table (report.md, also printed) and the figure of
/// the learned densities; the NLL in the table is the kept model's, which
/// sits between the floor and the untrained model's ~1.9 nats. A name that
/// is not a data set is refused in one line, before any training.
#[test]
fn report_writes_the_table_and_the_density_figure() {
    let dir = fresh_dir("round_trip", "report");
    let stdout = cli_ok(
        &dir,
        &[
            "report",
            "--data",
            "moons",
            "--seeds",
            "1",
            "--test-points",
            "2000",
            "--out",
            "R",
        ],
    );
    let table = String::from_utf8(std::fs::read(dir.join("R/report.md")).unwrap()).unwrap();
    assert!(stdout.contains(&table), "{stdout}");
    let row = table
        .lines()
        .find(|l| l.starts_with("| moons | 3000 |"))
        .expect("a moons row");
    let cell = |i: usize| -> f64 { row.split('|').nth(i).unwrap().trim().parse().unwrap() };
    let (nll, truth, gap, entropy) = (cell(3), cell(5), cell(6), cell(7));
    assert!((0.25..0.6).contains(&nll), "{row}");
    // The true density's NLL of 2000 fresh points: the entropy 0.2892 up to
    // a standard error of about 0.02; the gap is the model's excess over it.
    assert!((entropy - 0.2892).abs() < 1e-4, "{row}");
    assert!((truth - entropy).abs() < 0.08, "{row}");
    assert!((gap - (nll - truth)).abs() < 2e-4 && gap > 0.0, "{row}");
    assert_figure(&dir.join("R/densities.png"));
    assert!(dir.join("R/moons-seed0/model.json").exists());

    let err = cli_err(&dir, &["report", "--data", "nosuch", "--out", "R2"]);
    assert!(
        err.contains("not a data set name") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(!dir.join("R2").exists());
}

/// `cli report` on a CSV file: each seed splits the rows afresh (a fifth set
/// aside, written beside the run), trains on the rest and scores on the set-
/// aside rows — the table's NLL is what `cli eval` gives on them — with no
/// true density to compare with and no figure for 3-D data. A CSV file whose
/// path a run would write is refused before any training.
#[test]
fn report_scores_a_csv_file_on_rows_it_set_aside() {
    let dir = fresh_dir("round_trip", "report_csv");
    let mut text = String::from("a,b,c\n");
    for i in 0..200 {
        let (u, v) = ((i as f64 * 0.37).sin(), (i as f64 * 0.91).cos());
        text.push_str(&format!("{u},{v},{}\n", u * v + 0.1 * (i % 7) as f64));
    }
    std::fs::write(dir.join("table.csv"), &text).unwrap();
    let stdout = cli_ok(
        &dir,
        &[
            "report",
            "--data",
            "table.csv",
            "--seeds",
            "2",
            "--out",
            "R",
            "--",
            "--steps",
            "30",
        ],
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| table | 160 |"))
        .unwrap_or_else(|| panic!("a row for table.csv with 160 training rows: {stdout}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!((cells[5], cells[6], cells[7]), ("–", "–", "–"), "{row}");
    let per_seed: Vec<f64> = cells[4].split(", ").map(|v| v.parse().unwrap()).collect();
    let rows_of = |path: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(path)).unwrap();
        text.lines().skip(1).map(String::from).collect()
    };
    let mut seen_splits = Vec::new();
    for (seed, nll) in per_seed.iter().enumerate() {
        let split = format!("R/splits/table-seed{seed}");
        let (train, test) = (
            rows_of(&format!("{split}/train.csv")),
            rows_of(&format!("{split}/test.csv")),
        );
        assert_eq!((train.len(), test.len()), (160, 40));
        let mut all: Vec<String> = train.iter().chain(&test).cloned().collect();
        let mut original: Vec<String> = text.lines().skip(1).map(String::from).collect();
        all.sort();
        original.sort();
        assert_eq!(all, original, "the split is a partition of the rows");
        let (eval_nll, n, dim) = eval_json(
            &dir,
            &format!("R/table-seed{seed}/model.json"),
            &format!("{split}/test.csv"),
        );
        assert_eq!((n, dim), (40, 3));
        assert!(
            (eval_nll - nll).abs() < 1e-4,
            "seed {seed}: {eval_nll} vs {nll}"
        );
        seen_splits.push(test);
    }
    assert_ne!(seen_splits[0], seen_splits[1], "each seed splits afresh");
    assert!(!dir.join("R/densities.png").exists());

    std::fs::create_dir_all(dir.join("S/train-seed0")).unwrap();
    std::fs::write(dir.join("S/train-seed0/train.csv"), &text).unwrap();
    let err = cli_err(
        &dir,
        &["report", "--data", "S/train-seed0/train.csv", "--out", "S"],
    );
    assert!(
        err.contains("over the input --data") && err.trim().lines().count() == 1,
        "{err}"
    );
    // The same folder reached through one that does not exist yet.
    let err = cli_err(
        &dir,
        &[
            "report",
            "--data",
            "S/train-seed0/train.csv",
            "--out",
            "S/not-yet/..",
        ],
    );
    assert!(err.contains("over the input --data"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("S/train-seed0/train.csv")).unwrap(),
        text
    );
}

/// Flags after `--` reach every `train` run of `cli report` (the checkpoint
/// has the layers asked for, the table's title names the flags); a flag
/// that report sets itself, or one `train` refuses, is one line before any
/// training, and nothing is written.
#[test]
fn report_passes_train_flags_on() {
    let dir = fresh_dir("round_trip", "report_flags");
    let flags = ["--steps", "20", "--layers", "1", "--input-noise", "0"];
    let mut argv = vec![
        "report",
        "--data",
        "sine",
        "--seeds",
        "1",
        "--test-points",
        "500",
        "--out",
        "R",
        "--",
    ];
    argv.extend(flags);
    let stdout = cli_ok(&dir, &argv);
    assert!(
        stdout.contains("`cli train` with `--steps 20 --layers 1 --input-noise 0`"),
        "{stdout}"
    );
    let model = std::fs::read_to_string(dir.join("R/sine-seed0/model.json")).unwrap();
    assert!(model.contains("\"layers\":1,"), "{model}");

    for (bad, says) in [
        ("--seed=3", "report chooses each run's data"),
        ("--bins=x", "invalid value 'x' for '--bins"),
    ] {
        let err = cli_err(
            &dir,
            &["report", "--data", "sine", "--out", "R2", "--", bad],
        );
        assert!(
            err.contains(says) && err.trim().lines().count() == 1,
            "{err}"
        );
    }
    assert!(!dir.join("R2").exists());
}
