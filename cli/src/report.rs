//! `cli report`: how good the defaults are, measured the honest way. For each
//! toy data set and seed it runs exactly `cli train --data NAME --seed S`
//! (its run folder lands in `--out`; any flags after `--` are passed on, so
//! another setting is measured the same way), then scores the kept model on fresh
//! points that played no part in training or model selection, and prints a
//! table of the median held-out NLL against the true density's NLL of the
//! same points (the entropy plus those points' own sampling noise, which
//! moves it by about ±0.005 nats on 20,000 points) and the entropy. The gap
//! is the median over seeds of model minus truth on the same points. It also draws
//! `densities.png`: the learned density of each 2-D data set's seed-0 model.
//! A CSV file in `--data` is measured the same way, on a fifth of its rows
//! that each seed sets aside before training (there is no true density to
//! compare with).

use crate::args::{Cli, Command, ReportArgs, TrainArgs};
use crate::checkpoint::Checkpoint;
use crate::csv::{csv_text, read_csv_limited};
use crate::dataset::Points;
use crate::error::{fail, one_line, say, CliError, Result};
use crate::figures::{density_grid, first_two};
use crate::files::{create_dir, refuse_overwriting_inputs, Staging};
use crate::limits;
use crate::plot::{self, DensityPanel, Format};
use crate::train;
use clap::Parser;
use flows::data::ToyData;
use flows::evaluate;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Training points per data set: the sizes of the published comparisons
/// (20,000 for the checkerboard, whose squares need many points to fill).
fn default_points(toy: ToyData) -> usize {
    match toy {
        ToyData::Checkerboard => 20_000,
        _ => 3000,
    }
}

/// Points per side of each panel's grid of log p.
const GRID: usize = 160;

/// One data set's results over the seeds.
struct Row {
    name: String,
    points: usize,
    nll: Vec<f64>,
    /// The true density's NLL of each seed's fresh points, where known.
    true_nll: Vec<Option<f64>>,
    seconds: Vec<f64>,
    entropy: Option<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Where a row's points come from: a toy density, drawn afresh for every
/// seed, or the rows of a CSV file, split afresh for every seed.
enum Source {
    Toy(ToyData),
    Csv { path: PathBuf, points: Points },
}

/// The share of a CSV file's rows each seed sets aside before training:
/// the points its model is scored on (train's own held-out split, which
/// chooses the step, comes out of the rest).
const CSV_TEST_SHARE: f64 = 0.2;

impl Source {
    /// A toy data set's name, or else a CSV file's path. The moons get the
    /// noise the flags after `--` give them (`--noise`), as `train` does.
    fn from_arg(name: &str, moons_noise: f64) -> Result<(String, Self)> {
        if let Some(toy) = ToyData::from_name(name) {
            let toy = match toy {
                ToyData::Moons { .. } => ToyData::Moons { noise: moons_noise },
                other => other,
            };
            return Ok((toy.name().to_string(), Source::Toy(toy)));
        }
        let path = PathBuf::from(name);
        if !path.exists() {
            fail!(
                "--data {name:?}: no such file, and not a data set name (one of {})",
                ToyData::NAMES.join(", ")
            );
        }
        let points = read_csv_limited(&path, limits::max_values_in_memory())?;
        let test = csv_test_rows(points.rows());
        if points.rows() < test + 3 {
            fail!(
                "{name}: {} rows; report needs at least 4 (a fifth set aside to score on, and train's own held-out split)",
                points.rows()
            );
        }
        let stem = path
            .file_stem()
            .map_or_else(|| "data".to_string(), |s| s.to_string_lossy().into_owned());
        Ok((stem, Source::Csv { path, points }))
    }

    /// Points the training run draws (a toy) or is given (a CSV file).
    fn training_points(&self) -> usize {
        match self {
            Source::Toy(toy) => default_points(*toy),
            Source::Csv { points, .. } => points.rows() - csv_test_rows(points.rows()),
        }
    }
}

/// Rows of `n` set aside for scoring: a fifth, at least one.
fn csv_test_rows(n: usize) -> usize {
    ((CSV_TEST_SHARE * n as f64).round() as usize).max(1)
}

/// One seed of one data set: the run folder, and for a CSV file the two
/// files its rows are split into.
struct Plan {
    out: PathBuf,
    split: Option<(PathBuf, PathBuf)>,
}

fn plan(args: &ReportArgs, name: &str, source: &Source, seed: u64) -> Plan {
    let run = format!("{name}-seed{seed}");
    let split = matches!(source, Source::Csv { .. }).then(|| {
        let dir = args.out.join("splits").join(&run);
        (dir.join("train.csv"), dir.join("test.csv"))
    });
    Plan {
        out: args.out.join(run),
        split,
    }
}

/// Before any training: every data set readable, no two with one name, the
/// flags after `--` accepted by `train`, and no output of the report (its
/// table and figure, the CSV splits, every run's files) on an input.
fn check_before_training(args: &ReportArgs, sources: &[(String, Source)]) -> Result<()> {
    let mut inputs: Vec<(&str, &Path)> = Vec::new();
    let mut outputs: Vec<(&str, PathBuf)> = vec![
        ("--out", args.out.join("report.md")),
        ("--out", args.out.join("densities.png")),
    ];
    for (i, (name, source)) in sources.iter().enumerate() {
        if sources[..i].iter().any(|(other, _)| other == name) {
            fail!("--data: two data sets named {name:?}; their runs would share a folder");
        }
        if let Source::Csv { path, .. } = source {
            inputs.push(("--data", path));
        }
        for seed in 0..args.seeds {
            let plan = plan(args, name, source, seed);
            let train_args = train_args(args, name, source, seed, &plan)?;
            outputs.extend(
                train::run_files(&train_args)
                    .into_iter()
                    .map(|f| ("--out", plan.out.join(f))),
            );
            if let Some((fit, test)) = plan.split {
                outputs.extend([("--out", fit), ("--out", test)]);
            }
        }
    }
    refuse_overwriting_inputs(&inputs, &outputs)
}

pub fn run(args: &ReportArgs) -> Result<()> {
    if args.seeds == 0 || args.test_points == 0 {
        fail!("--seeds and --test-points must be at least 1");
    }
    if args.seeds > MAX_SEEDS {
        fail!("--seeds {}: at most {MAX_SEEDS}", args.seeds);
    }
    limits::check_points("--test-points", args.test_points)?;
    let moons_noise = with_train_flags(args, &["cli", "train"])?.noise;
    let sources = args
        .data
        .iter()
        .map(|name| Source::from_arg(name, moons_noise))
        .collect::<Result<Vec<_>>>()?;
    check_before_training(args, &sources)?;
    let mut rows = Vec::new();
    let mut panels = Vec::new();
    for (name, source) in &sources {
        let mut row = Row {
            name: name.clone(),
            points: source.training_points(),
            nll: Vec::new(),
            true_nll: Vec::new(),
            seconds: Vec::new(),
            entropy: match source {
                Source::Toy(toy) => toy.entropy(),
                Source::Csv { .. } => None,
            },
        };
        for seed in 0..args.seeds {
            let Scored {
                nll,
                true_nll,
                seconds,
                grid,
            } = one_run(args, name, source, seed)?;
            if let Some(grid) = grid {
                let floor = row
                    .entropy
                    .map_or(String::new(), |h| format!(", floor {h:.3}"));
                panels.push(DensityPanel {
                    title: format!("{}: {nll:.3} nats{floor}", row.name),
                    grid,
                });
            }
            row.nll.push(nll);
            row.true_nll.push(true_nll);
            row.seconds.push(seconds);
        }
        rows.push(row);
    }
    let table = table(args, &rows, &sources);
    let mut staging = Staging::new();
    staging.bytes(&args.out.join("report.md"), table.as_bytes())?;
    // Only 2-D data sets have a density to draw.
    if !panels.is_empty() {
        staging.by_path(&args.out.join("densities.png"), |tmp| {
            plot::density_panels(
                tmp,
                Format::Png,
                "Learned log-densities (seed 0; NLL on fresh points)",
                &panels,
            )
            .map_err(|e| CliError::new(e.to_string()))
        })?;
    }
    staging.commit()?;
    say!("\n{table}")
}

/// One run's results.
struct Scored {
    /// The kept model's NLL on the fresh points.
    nll: f64,
    /// The true density's NLL on the same points, where it is known.
    true_nll: Option<f64>,
    /// Time taken by `cli train`.
    seconds: f64,
    /// Seed 0 of 2-D data: log p on a grid over the fresh points.
    grid: Option<plot::Grid>,
}

/// The flags `report` sets for each run itself (`--test` too: a held-out
/// file could hold the very points the run is scored on).
const SET_BY_REPORT: [&str; 5] = ["--data", "--points", "--seed", "--out", "--test"];

/// More seeds than anyone waits for; the check before training lists every
/// run's files, so the count must stay bounded.
const MAX_SEEDS: u64 = 1000;

/// The arguments of `cli train --data DATA [--points N] --seed S --out OUT`
/// and the flags given after `--`; a bad flag is one line, before any run.
fn train_args(
    args: &ReportArgs,
    name: &str,
    source: &Source,
    seed: u64,
    plan: &Plan,
) -> Result<TrainArgs> {
    let data = match &plan.split {
        Some((fit, _)) => fit.display().to_string(),
        None => name.to_string(),
    };
    let (seed_s, out_s) = (seed.to_string(), plan.out.display().to_string());
    let points_s = source.training_points().to_string();
    let mut argv = vec!["cli", "train", "--data", &data];
    if let Source::Toy(_) = source {
        argv.extend(["--points", &points_s]);
    }
    argv.extend(["--seed", &seed_s, "--out", &out_s]);
    if seed > 0 && !args.train_flags.iter().any(|f| f == "--no-plots") {
        argv.push("--no-plots");
    }
    with_train_flags(args, &argv)
}

/// `cli train` parsed from `argv` followed by the flags given after `--`.
fn with_train_flags(args: &ReportArgs, argv: &[&str]) -> Result<TrainArgs> {
    if let Some(flag) = args.train_flags.iter().find(|f| {
        SET_BY_REPORT
            .iter()
            .any(|s| f.as_str() == *s || f.starts_with(&format!("{s}=")))
    }) {
        fail!("{flag} after --: report chooses each run's data, seed, held-out points and folder itself (see its own --data, --seeds and --out)");
    }
    let mut argv = argv.to_vec();
    argv.extend(args.train_flags.iter().map(String::as_str));
    let parsed = Cli::try_parse_from(&argv)
        .map_err(|e| CliError::new(format!("after --: {}", one_line(&e.to_string()))))?;
    let Command::Train(train_args) = parsed.command else {
        unreachable!("the arguments name the train command")
    };
    Ok(*train_args)
}

/// The points seed `seed` scores on: fresh ones from a toy density, drawn
/// from a stream no training run uses, or the set-aside rows of a CSV file
/// (whose other rows are written to the plan's training file first).
fn scoring_points(args: &ReportArgs, source: &Source, seed: u64, plan: &Plan) -> Result<Points> {
    match source {
        Source::Toy(toy) => {
            let mut rng = StdRng::seed_from_u64(1_000_000 + seed);
            Ok(Points::from_xy(&toy.sample(args.test_points, &mut rng)))
        }
        Source::Csv { points, .. } => {
            let (fit_path, test_path) = plan.split.as_ref().expect("a CSV run has a split");
            let mut order: Vec<usize> = (0..points.rows()).collect();
            order.shuffle(&mut StdRng::seed_from_u64(2_000_000 + seed));
            let (test_idx, fit_idx) = order.split_at(csv_test_rows(points.rows()));
            let (fit, test) = (points.select(fit_idx), points.select(test_idx));
            let header = points.header.as_deref();
            create_dir(fit_path.parent().expect("a split file has a folder"))?;
            let mut staging = Staging::new();
            staging.bytes(fit_path, csv_text(&fit, header).as_bytes())?;
            staging.bytes(test_path, csv_text(&test, header).as_bytes())?;
            staging.commit()?;
            Ok(test)
        }
    }
}

/// `cli train` on one data set with `seed`, then the kept model scored on
/// points it never saw.
fn one_run(args: &ReportArgs, name: &str, source: &Source, seed: u64) -> Result<Scored> {
    let plan = plan(args, name, source, seed);
    let scoring = scoring_points(args, source, seed, &plan)?;
    let train_args = train_args(args, name, source, seed, &plan)?;
    let start = Instant::now();
    train::run(&train_args)?;
    let seconds = start.elapsed().as_secs_f64();
    let path = plan.out.join("model.json");
    let (model, store) = Checkpoint::load(&path)?.restore::<f64>(&path)?;
    let fresh = scoring.to_tensor::<f64>();
    let grid = (seed == 0 && scoring.dim == 2)
        .then(|| density_grid(&model, &store, &first_two(&fresh), GRID));
    let true_nll = match source {
        Source::Toy(toy) => toy.true_nll(&scoring.xy()),
        Source::Csv { .. } => None,
    };
    Ok(Scored {
        nll: evaluate::mean_nll(&model, &store, &fresh),
        true_nll,
        seconds,
        grid,
    })
}

/// The results as a Markdown table.
fn table(args: &ReportArgs, rows: &[Row], sources: &[(String, Source)]) -> String {
    let settings = if args.train_flags.is_empty() {
        "defaults".to_string()
    } else {
        format!("with `{}`", args.train_flags.join(" "))
    };
    let scored_on = if sources.iter().any(|(_, s)| matches!(s, Source::Toy(_))) {
        format!("{} fresh points per run", args.test_points)
    } else {
        "rows each run set aside".to_string()
    };
    let mut s = format!(
        "Held-out NLL of `cli train` {settings} on {scored_on}, nats/point, median of {} seeds\n\n\
         | data | training points | held-out NLL (median) | per seed | true density's NLL of the same points | gap | true entropy | time (median) |\n\
         |---|---|---|---|---|---|---|---|\n",
        args.seeds
    );
    for r in rows {
        let m = median(&r.nll);
        let per_seed: Vec<String> = r.nll.iter().map(|v| format!("{v:.4}")).collect();
        let entropy = r.entropy.map_or("–".into(), |h| format!("{h:.4}"));
        let floors: Option<Vec<f64>> = r.true_nll.iter().copied().collect();
        let (floor, gap) = match floors {
            Some(floors) => {
                let gaps: Vec<f64> = r.nll.iter().zip(&floors).map(|(m, f)| m - f).collect();
                (
                    format!("{:.4}", median(&floors)),
                    format!("{:.4}", median(&gaps)),
                )
            }
            None => ("–".into(), "–".into()),
        };
        s.push_str(&format!(
            "| {} | {} | {m:.4} | {} | {floor} | {gap} | {entropy} | {:.1} s |\n",
            r.name,
            r.points,
            per_seed.join(", "),
            median(&r.seconds)
        ));
    }
    for (name, source) in sources {
        if let Source::Csv { path, points } = source {
            s.push_str(&format!(
                "\n{name}: {}; each seed sets aside {} of its {} rows (a fifth) before training and scores on those.\n",
                path.display(),
                csv_test_rows(points.rows()),
                points.rows()
            ));
        }
    }
    s
}
