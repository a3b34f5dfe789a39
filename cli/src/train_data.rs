//! Where training data comes from: a toy data set by name or a CSV file, and
//! how it is split into training and held-out points.

use crate::args::TrainArgs;
use crate::csv::read_csv_limited;
use crate::dataset::Points;
use crate::error::{fail, CliError, Result};
use crate::limits;
use flows::data::ToyData;
use rand::seq::SliceRandom;
use rand::Rng;
use std::path::Path;

/// Training and held-out points, and a description for the summary.
pub struct Split {
    pub train: Points,
    pub heldout: Points,
    pub source: String,
    /// The true density's entropy when the data set is a toy with a known one:
    /// the lowest NLL any model can reach on average.
    pub entropy: Option<f64>,
}

/// A toy data set drawn with `rng`: its points, description and entropy.
fn draw_toy<R: Rng + ?Sized>(
    toy: ToyData,
    args: &TrainArgs,
    rng: &mut R,
) -> Result<(Points, String, Option<f64>)> {
    let toy = match toy {
        ToyData::Moons { .. } => {
            if !(args.noise >= 0.0 && args.noise.is_finite()) {
                fail!("--noise {}: must be a number ≥ 0", args.noise);
            }
            ToyData::Moons { noise: args.noise }
        }
        other => other,
    };
    if args.points < 3 {
        fail!("--points {}: need at least 3 points", args.points);
    }
    limits::check_points("--points", args.points)?;
    let points = Points::from_xy(&toy.sample(args.points, rng));
    // With a --test file the held-out points are not from the toy density.
    let entropy = args.test.is_none().then(|| toy.entropy()).flatten();
    Ok((points, describe(toy, args), entropy))
}

/// Loads `--data` (and `--test`) and splits off the held-out part.
pub fn load<R: Rng + ?Sized>(args: &TrainArgs, rng: &mut R) -> Result<Split> {
    let (all, source, entropy) = match ToyData::from_name(&args.data) {
        Some(toy) => draw_toy(toy, args, rng)?,
        None => {
            let path = Path::new(&args.data);
            if !path.exists() {
                fail!(
                    "--data {:?}: no such file, and not a data set name (one of {})",
                    args.data,
                    ToyData::NAMES.join(", ")
                );
            }
            let points = read_csv_limited(path, limits::max_values_in_memory())?;
            (points, args.data.clone(), None)
        }
    };

    if let Some(test) = &args.test {
        let heldout = read_csv_limited(test, limits::max_values_in_memory())?;
        if heldout.dim != all.dim {
            fail!(
                "{}: has {} columns but the training data has {}",
                test.display(),
                heldout.dim,
                all.dim
            );
        }
        if all.rows() < 2 {
            fail!(
                "{source}: need at least 2 training points, got {}",
                all.rows()
            );
        }
        return Ok(Split {
            train: all,
            heldout,
            source,
            entropy,
        });
    }

    let n = all.rows();
    let held = holdout_count(&args.holdout, n)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let (heldout_idx, train_idx) = order.split_at(held);
    Ok(Split {
        train: all.select(train_idx),
        heldout: all.select(heldout_idx),
        source,
        entropy,
    })
}

fn describe(toy: ToyData, args: &TrainArgs) -> String {
    match toy {
        ToyData::Moons { noise } => format!("moons (noise {noise}, {} points)", args.points),
        other => format!("{} ({} points)", other.name(), args.points),
    }
}

/// `--holdout`: a fraction in (0, 1) or a whole number of points; at least one
/// point held out and at least two left to train on.
pub fn holdout_count(spec: &str, n: usize) -> Result<usize> {
    let value: f64 = spec.trim().parse().map_err(|_| {
        CliError::new(format!(
            "--holdout {spec:?}: expected a fraction (0 < f < 1) or a number of points"
        ))
    })?;
    let count = if value > 0.0 && value < 1.0 {
        ((value * n as f64).round()).max(1.0)
    } else if value >= 1.0 && value.fract() == 0.0 {
        value
    } else {
        fail!("--holdout {spec}: expected a fraction (0 < f < 1) or a whole number of points ≥ 1");
    };
    // Compared as a float: a count like 1e300 must not wrap around as an integer.
    if count + 2.0 > n as f64 {
        fail!("--holdout {spec}: holds out {count} of only {n} points, leaving fewer than 2 to train on");
    }
    Ok(count as usize)
}
