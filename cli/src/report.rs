//! `cli report`: how good the defaults are, measured the honest way. For each
//! toy data set and seed it runs exactly `cli train --data NAME --seed S`
//! (its run folder lands in `--out`; any flags after `--` are passed on, so
//! another setting is measured the same way), then scores the kept model on fresh
//! points that played no part in training or model selection, and prints a
//! table of the median held-out NLL against the true density's NLL of the
//! same points (the entropy plus those points' own sampling noise, which
//! moves it by about ±0.005 nats on 20,000 points) and the entropy. The gap
//! is the median over seeds of model minus truth on the same points. It also draws
//! `densities.png`: the learned density of each data set's seed-0 model.

use crate::args::{Cli, Command, ReportArgs, TrainArgs};
use crate::checkpoint::Checkpoint;
use crate::error::{fail, one_line, say, CliError, Result};
use crate::figures::{density_grid, first_two};
use crate::files::Staging;
use crate::plot::{self, DensityPanel, Format};
use crate::train;
use autograd::Tensor;
use clap::Parser;
use flows::data::ToyData;
use flows::evaluate;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;
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

pub fn run(args: &ReportArgs) -> Result<()> {
    if args.seeds == 0 || args.test_points == 0 {
        fail!("--seeds and --test-points must be at least 1");
    }
    let mut rows = Vec::new();
    let mut panels = Vec::new();
    for name in &args.data {
        let Some(toy) = ToyData::from_name(name) else {
            fail!(
                "--data {name:?}: not a data set name (one of {})",
                ToyData::NAMES.join(", ")
            );
        };
        let points = default_points(toy);
        // Every seed's flags parse alike: a bad one fails here, before any training.
        train_args(args, toy, points, 0, &args.out)?;
        let mut row = Row {
            name: toy.name().to_string(),
            points,
            nll: Vec::new(),
            true_nll: Vec::new(),
            seconds: Vec::new(),
            entropy: toy.entropy(),
        };
        for seed in 0..args.seeds {
            let Scored {
                nll,
                true_nll,
                seconds,
                grid,
            } = one_run(args, toy, points, seed)?;
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
    let table = table(args, &rows);
    let mut staging = Staging::new();
    staging.bytes(&args.out.join("report.md"), table.as_bytes())?;
    staging.by_path(&args.out.join("densities.png"), |tmp| {
        plot::density_panels(
            tmp,
            Format::Png,
            "Learned log-densities (seed 0; NLL on fresh points)",
            &panels,
        )
        .map_err(|e| CliError::new(e.to_string()))
    })?;
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
    /// Seed 0: log p on a grid over the fresh points.
    grid: Option<plot::Grid>,
}

/// The flags `report` sets for each run itself.
const SET_BY_REPORT: [&str; 4] = ["--data", "--points", "--seed", "--out"];

/// The arguments of `cli train --data TOY --points N --seed S --out OUT`
/// and the flags given after `--`; a bad flag is one line, before any run.
fn train_args(
    args: &ReportArgs,
    toy: ToyData,
    points: usize,
    seed: u64,
    out: &Path,
) -> Result<TrainArgs> {
    if let Some(flag) = args.train_flags.iter().find(|f| {
        SET_BY_REPORT
            .iter()
            .any(|s| f.as_str() == *s || f.starts_with(&format!("{s}=")))
    }) {
        fail!("{flag} after --: report sets it for each run (see report's own --data, --seeds and --out)");
    }
    let (points_s, seed_s) = (points.to_string(), seed.to_string());
    let out_s = out.display().to_string();
    let mut argv = vec![
        "cli",
        "train",
        "--data",
        toy.name(),
        "--points",
        &points_s,
        "--seed",
        &seed_s,
        "--out",
        &out_s,
    ];
    argv.extend(args.train_flags.iter().map(String::as_str));
    if seed > 0 {
        argv.push("--no-plots");
    }
    let parsed = Cli::try_parse_from(&argv)
        .map_err(|e| CliError::new(format!("after --: {}", one_line(&e.to_string()))))?;
    let Command::Train(train_args) = parsed.command else {
        unreachable!("the arguments name the train command")
    };
    Ok(*train_args)
}

/// `cli train` on `toy` with `seed`, then the kept model scored on fresh
/// points.
fn one_run(args: &ReportArgs, toy: ToyData, points: usize, seed: u64) -> Result<Scored> {
    let out = args.out.join(format!("{}-seed{seed}", toy.name()));
    let train_args = train_args(args, toy, points, seed, &out)?;
    let start = Instant::now();
    train::run(&train_args)?;
    let seconds = start.elapsed().as_secs_f64();
    let path = out.join("model.json");
    let (model, store) = Checkpoint::load(&path)?.restore::<f64>(&path)?;
    // Fresh points from a stream no training run uses.
    let mut rng = StdRng::seed_from_u64(1_000_000 + seed);
    let sample = toy.sample(args.test_points, &mut rng);
    let flat: Vec<f64> = sample.iter().flatten().copied().collect();
    let fresh = Tensor::from_f64(&flat, &[args.test_points, 2]);
    let grid = (seed == 0).then(|| density_grid(&model, &store, &first_two(&fresh), GRID));
    Ok(Scored {
        nll: evaluate::mean_nll(&model, &store, &fresh),
        true_nll: toy.true_nll(&sample),
        seconds,
        grid,
    })
}

/// The results as a Markdown table.
fn table(args: &ReportArgs, rows: &[Row]) -> String {
    let settings = if args.train_flags.is_empty() {
        "defaults".to_string()
    } else {
        format!("with `{}`", args.train_flags.join(" "))
    };
    let mut s = format!(
        "Held-out NLL of `cli train` {settings} on {} fresh points per run, nats/point, median of {} seeds\n\n\
         | data | training points | held-out NLL (median) | per seed | true density's NLL of the same points | gap | true entropy | time (median) |\n\
         |---|---|---|---|---|---|---|---|\n",
        args.test_points, args.seeds
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
    s
}
