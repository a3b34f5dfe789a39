//! `cli sample`, `cli eval` and `cli plot`: what to do with a checkpoint.
//! All three compute in f64 whatever precision the model was trained in.
//! Sampling and evaluation stream: points are made or read in chunks, so
//! their memory does not grow with the number of points.

use crate::args::{EvalArgs, PlotArgs, SampleArgs};
use crate::checkpoint::Checkpoint;
use crate::csv::{header_line, open_csv, read_csv_limited, rows_text};
use crate::dataset::Points;
use crate::error::{fail, say, stdout_error, CliError, Result};
use crate::figures;
use crate::files::{
    check_writable_dir, create_dir, refuse_overwriting_inputs, StagedFile, Staging,
};
use crate::limits;
use crate::metrics;
use crate::progress::LateProgress;
use crate::signals;
use autograd::ParamStore;
use flows::evaluate::{self, CHUNK};
use flows::FlowModel;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::io::Write;
use std::path::{Path, PathBuf};

fn load(path: &Path) -> Result<(FlowModel, ParamStore<f64>)> {
    Checkpoint::load(path)?.restore::<f64>(path)
}

/// The folder a file will be written in.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Where samples go: a staged file, or standard output.
enum Sink {
    File(StagedFile),
    Stdout(std::io::StdoutLock<'static>),
}

impl Sink {
    fn write(&mut self, text: &str) -> Result<()> {
        match self {
            Sink::File(f) => f
                .write_all(text.as_bytes())
                .map_err(|e| CliError::new(format!("cannot write the samples: {e}"))),
            Sink::Stdout(out) => out.write_all(text.as_bytes()).map_err(stdout_error),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::File(f) => f.commit(),
            Sink::Stdout(mut out) => out.flush().map_err(stdout_error),
        }
    }
}

pub fn sample(args: &SampleArgs) -> Result<()> {
    if args.n == 0 {
        fail!("-n 0: ask for at least 1 sample");
    }
    if let Some(out) = &args.out {
        refuse_overwriting_inputs(&[("--model", &args.model)], &[("--out", out.clone())])?;
        check_writable_dir("--out", folder_of(out))?;
    }
    let (model, store) = load(&args.model)?;
    let mut sink = match &args.out {
        Some(path) => Sink::File(StagedFile::create(path)?),
        None => Sink::Stdout(std::io::stdout().lock()),
    };
    sink.write(&header_line(model.dim(), None))?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut progress = LateProgress::new(Some(args.n), "samples");
    let mut done = 0;
    evaluate::sample_chunks(&model, &store, args.n, &mut rng, |chunk| {
        signals::check("while sampling: no samples were saved")?;
        if chunk.data().iter().any(|v| !v.is_finite()) {
            fail!(
                "{}: the model produced a non-finite sample (its parameters may be damaged)",
                args.model.display()
            );
        }
        sink.write(&rows_text(&Points::from_tensor(&chunk)))?;
        done += chunk.rows();
        progress.update(done);
        Ok(())
    })?;
    progress.finish();
    sink.finish()
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    if let Some(per_point) = &args.per_point {
        let inputs = [
            ("--model", args.model.as_path()),
            ("--data", args.data.as_path()),
        ];
        refuse_overwriting_inputs(&inputs, &[("--per-point", per_point.clone())])?;
        check_writable_dir("--per-point", folder_of(per_point))?;
    }
    let (model, store) = load(&args.model)?;
    let mut reader = open_csv(&args.data)?;
    let shown = args.data.display();
    if reader.dim() != model.dim() {
        fail!(
            "{shown}: has {} columns but the model was trained on {}-dimensional data",
            reader.dim(),
            model.dim()
        );
    }
    let mut per_point = match &args.per_point {
        Some(path) => Some(StagedFile::create(path)?),
        None => None,
    };
    let write_error = |e: std::io::Error| CliError::new(format!("cannot write --per-point: {e}"));
    if let Some(f) = per_point.as_mut() {
        f.write_all(b"nll\n").map_err(write_error)?;
    }
    let (mut n, mut sum) = (0usize, 0.0);
    let mut progress = LateProgress::new(None, "points");
    while let Some(chunk) = reader
        .next_chunk(CHUNK)
        .map_err(|e| CliError::new(format!("{shown}: {e}")))?
    {
        signals::check("while evaluating")?;
        let log_p = evaluate::log_prob(&model, &store, &chunk.to_tensor::<f64>());
        for (k, l) in log_p.iter().enumerate() {
            if !l.is_finite() {
                fail!(
                    "{shown}: data row {}: the model's log-density there is not finite ({l})",
                    n + k + 1
                );
            }
            sum -= l;
            if let Some(f) = per_point.as_mut() {
                writeln!(f, "{}", -l).map_err(write_error)?;
            }
        }
        n += log_p.len();
        progress.update(n);
    }
    progress.finish();
    if let Some(f) = per_point {
        f.commit()?;
    }
    let nll = sum / n as f64;
    if args.json {
        let json = serde_json::json!({ "nll": nll, "n": n, "dim": model.dim() });
        say!("{json}")
    } else {
        say!(
            "NLL {nll:.6} nats/point on {n} points of {shown} ({}-D)",
            model.dim()
        )
    }
}

pub fn plot(args: &PlotArgs) -> Result<()> {
    let folder = folder_of(&args.model);
    let data_path = args
        .data
        .clone()
        .unwrap_or_else(|| folder.join("train.csv"));
    let out = args.out.clone().unwrap_or_else(|| folder.to_path_buf());
    let metrics_path = folder.join("metrics.csv");
    let inputs = [
        ("--model", args.model.as_path()),
        ("--data", data_path.as_path()),
        ("the metrics", metrics_path.as_path()),
    ];
    let outputs: Vec<(&str, PathBuf)> = figures::file_names(args.svg)
        .into_iter()
        .map(|name| ("--out", out.join(name)))
        .collect();
    refuse_overwriting_inputs(&inputs, &outputs)?;
    check_writable_dir("--out", &out)?;
    let checkpoint = Checkpoint::load(&args.model)?;
    let ckpt_best_step = checkpoint.result.best_step;
    let (model, store) = checkpoint.restore::<f64>(&args.model)?;
    if args.data.is_none() && !data_path.exists() {
        fail!(
            "{}: no train.csv beside the checkpoint; give the data to draw with --data FILE.csv",
            args.model.display()
        );
    }
    let points = read_csv_limited(&data_path, limits::max_values_in_memory())?;
    if points.dim != model.dim() {
        fail!(
            "{}: has {} columns but the model was trained on {}-dimensional data",
            data_path.display(),
            points.dim,
            model.dim()
        );
    }
    let metrics = metrics::read(&metrics_path);
    create_dir(&out)?;
    let mut staging = Staging::new();
    let files = figures::draw_all(
        &mut staging,
        &out,
        &model,
        &store,
        &points,
        &metrics,
        figures::Marks {
            kept_step: Some(ckpt_best_step),
            entropy: None,
        },
        args.svg,
        args.seed,
    )?;
    signals::check("while drawing the figures: none were saved")?;
    staging.commit()?;
    say!(
        "wrote {} figures to {}/: {}",
        files.len(),
        out.display(),
        files.join(", ")
    )
}
