//! `cli sample`, `cli eval` and `cli plot`: what to do with a checkpoint.
//! All three compute in f64 whatever precision the model was trained in.

use crate::args::{EvalArgs, PlotArgs, SampleArgs};
use crate::checkpoint::Checkpoint;
use crate::csv::{csv_text, read_csv};
use crate::dataset::Points;
use crate::error::{fail, say, Result};
use crate::figures;
use crate::files::{create_dir, write_file};
use crate::metrics;
use autograd::ParamStore;
use flows::FlowModel;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::io::Write;
use std::path::Path;

fn load(path: &Path) -> Result<(FlowModel, ParamStore<f64>)> {
    Checkpoint::load(path)?.restore::<f64>(path)
}

/// Reads a CSV file and checks it has the model's dimension.
fn read_points(path: &Path, model: &FlowModel) -> Result<Points> {
    let points = read_csv(path)?;
    if points.dim != model.dim() {
        fail!(
            "{}: has {} columns but the model was trained on {}-dimensional data",
            path.display(),
            points.dim,
            model.dim()
        );
    }
    Ok(points)
}

pub fn sample(args: &SampleArgs) -> Result<()> {
    if args.n == 0 {
        fail!("-n 0: ask for at least 1 sample");
    }
    let (model, store) = load(&args.model)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let points = Points::from_tensor(&model.sample(&store, args.n, &mut rng));
    let text = csv_text(&points, None);
    match &args.out {
        Some(path) => write_file(path, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
            Ok(())
        }
    }
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    let (model, store) = load(&args.model)?;
    let points = read_points(&args.data, &model)?;
    let log_p = model
        .log_prob(&store, &points.to_tensor::<f64>())
        .into_data();
    let nll_each: Vec<f64> = log_p.iter().map(|l| -l).collect();
    let n = nll_each.len();
    let nll = nll_each.iter().sum::<f64>() / n as f64;
    if let Some(path) = &args.per_point {
        let mut s = String::from("nll\n");
        for v in &nll_each {
            s.push_str(&format!("{v}\n"));
        }
        write_file(path, s.as_bytes())?;
    }
    if args.json {
        let json = serde_json::json!({ "nll": finite_or_null(nll), "n": n, "dim": model.dim() });
        say!("{json}");
    } else {
        say!(
            "NLL {nll:.6} nats/point on {n} points of {} ({}-D)",
            args.data.display(),
            model.dim()
        );
    }
    Ok(())
}

/// JSON has no infinity: an infinite NLL (a point of zero density) is null.
fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

pub fn plot(args: &PlotArgs) -> Result<()> {
    let (model, store) = load(&args.model)?;
    let folder = args.model.parent().unwrap_or(Path::new("."));
    let data_path = args
        .data
        .clone()
        .unwrap_or_else(|| folder.join("train.csv"));
    if args.data.is_none() && !data_path.exists() {
        fail!(
            "{}: no train.csv beside the checkpoint; give the data to draw with --data FILE.csv",
            args.model.display()
        );
    }
    let points = read_points(&data_path, &model)?;
    let metrics = metrics::read(&folder.join("metrics.csv"));
    let out = args.out.clone().unwrap_or_else(|| folder.to_path_buf());
    create_dir(&out)?;
    let files = figures::draw_all(&out, &model, &store, &points, &metrics, args.svg, args.seed)?;
    say!(
        "wrote {} figures to {}/: {}",
        files.len(),
        out.display(),
        files.join(", ")
    );
    Ok(())
}
