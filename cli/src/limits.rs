//! Requests that could never fit in memory are refused before anything is
//! allocated, with a message naming the flag, what the request would need and
//! what the machine has. The estimates are the library's
//! (`flows::memory`); what the machine has is read here.

use crate::args::TrainArgs;
use crate::error::{fail, Result};
use flows::memory::{inference_memory, training_memory};
use flows::{Budget, FlowConfig, TrainConfig, ViConfig};
use std::path::Path;

/// Memory this process may plan to use: what the system reports available
/// (Linux: `MemAvailable`), less a margin for everything not estimated.
/// `None` where the system does not say.
pub fn budget() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024) / 10 * 9)
}

/// `1.2 GB`, `640 MB`.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match b {
        _ if b >= 1e12 => format!("{:.1} TB", b / 1e12),
        _ if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        _ => format!("{:.0} MB", (b / 1e6).max(1.0)),
    }
}

/// The most numbers (f64, with a few copies) a data file may hold.
pub fn max_values_in_memory() -> usize {
    budget().map_or(usize::MAX, |b| (b / 40) as usize)
}

fn refuse(flag: &str, need: Option<u64>, have: u64) -> Result<()> {
    match need {
        Some(bytes) => fail!(
            "{flag}: this would need about {} of memory, and this machine has {} available",
            human(bytes),
            human(have)
        ),
        None => fail!(
            "{flag}: this is too large to count, far beyond this machine's {} of memory",
            human(have)
        ),
    }
}

/// Refuses a toy data set too large to draw; `flag` asked for it.
pub fn check_points(flag: &str, points: usize) -> Result<()> {
    let Some(have) = budget() else { return Ok(()) };
    // Drawn as [f64; 2] rows, copied into the rows' f64 list and a tensor.
    let need = (points as u64).checked_mul(2 * 40);
    if need.is_none_or(|n| n > have) {
        return refuse(&format!("{flag} {points}"), need, have);
    }
    Ok(())
}

/// Refuses a training run that could not fit, naming the flag that asks for
/// the most of it.
pub fn check_training(
    args: &TrainArgs,
    flow: &FlowConfig,
    train: &TrainConfig,
    float_bytes: u64,
    points: usize,
    steps: usize,
) -> Result<()> {
    let Some(have) = budget() else { return Ok(()) };
    let batch = train.batch.size(points) as u64;
    let need = training_memory(flow, float_bytes, points as u64, batch, steps as u64);
    if need.is_some_and(|m| m.total() <= have) {
        return Ok(());
    }
    let budget_flag = match train.budget {
        Budget::Epochs(e) => format!("--epochs {e}"),
        Budget::Steps(s) => format!("--steps {s}"),
    };
    let flag = match need {
        Some(m) if m.metrics >= m.parameters.max(m.activations).max(m.data) => budget_flag,
        Some(m) if m.data >= m.parameters.max(m.activations) => format!("--data {}", args.data),
        Some(_) => architecture_flag(flow, train, points),
        // Too large to count: say which part could not be counted.
        None if (steps as u64).checked_mul(64).is_none() => budget_flag,
        None => architecture_flag(flow, train, points),
    };
    refuse(&flag, need.map(|m| m.total()), have)
}

/// The architecture or batch flag furthest above its default.
fn architecture_flag(flow: &FlowConfig, train: &TrainConfig, points: usize) -> String {
    let d = FlowConfig::new(flow.dim);
    let default_batch = TrainConfig::default().batch.size(points) as f64;
    let ratio = |v: usize, default: usize| v as f64 / default.max(1) as f64;
    let candidates = [
        ("--layers", flow.layers, ratio(flow.layers, d.layers)),
        ("--hidden", flow.hidden, ratio(flow.hidden, d.hidden)),
        ("--depth", flow.depth, ratio(flow.depth, d.depth)),
        (
            "--batch",
            train.batch.size(points),
            train.batch.size(points) as f64 / default_batch.max(1.0),
        ),
    ];
    let (flag, value, _) = candidates
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .expect("four candidates");
    format!("{flag} {value}")
}

/// Refuses a variational fit that could not fit in memory, naming
/// `--samples` (the tape grows with it) or the architecture.
pub fn check_variational(flow: &FlowConfig, vi: &ViConfig) -> Result<()> {
    let Some(have) = budget() else { return Ok(()) };
    let batch = vi.samples.max(vi.eval_samples) as u64;
    let need = training_memory(flow, 8, 0, batch, vi.steps as u64);
    if need.is_some_and(|m| m.total() <= have) {
        return Ok(());
    }
    let flag = match need {
        Some(m) if m.metrics >= m.parameters.max(m.activations) => format!("--steps {}", vi.steps),
        Some(m) if m.activations >= m.parameters => format!("--samples {}", vi.samples),
        _ => format!("--layers {} / --hidden {}", flow.layers, flow.hidden),
    };
    refuse(&flag, need.map(|m| m.total()), have)
}

/// Refuses a checkpoint whose model could not be built in memory.
pub fn check_model(path: &Path, config: &FlowConfig) -> Result<()> {
    let Some(have) = budget() else { return Ok(()) };
    let need = inference_memory(config);
    if need.is_none_or(|n| n > have) {
        return refuse(
            &format!("{}: its model configuration", path.display()),
            need,
            have,
        );
    }
    Ok(())
}
