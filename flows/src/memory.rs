//! How much memory a model or a training run will need, computed from the
//! configuration alone, before anything is allocated: so a request that could
//! never fit is refused with a message instead of an aborted allocation. The
//! counts use checked arithmetic (`None` = too large to count at all).

use crate::config::{FlowConfig, FlowKind, Mixing};
use crate::model::{half_mask, parity_mask};

/// The numbers a model stores (trained parameters and saved buffers).
pub fn stored_numbers(config: &FlowConfig) -> Option<u64> {
    let d = config.dim as u64;
    let standardize = d.checked_mul(2)?;
    let mut total = standardize;
    for i in 0..config.layers {
        let layer = if config.kind == FlowKind::Planar {
            // w, u and b.
            d.checked_mul(2)?.checked_add(1)?
        } else if config.kind == FlowKind::Radial {
            // x₀, α and β.
            d.checked_add(2)?
        } else {
            coupling_numbers(config, i)?.checked_add(mixing_numbers(config)?)?
        };
        total = total.checked_add(layer)?;
    }
    Some(total)
}

/// Parameters per transformed dimension of the spline-like kinds.
fn params_per_dim(config: &FlowConfig) -> Option<u64> {
    let k = config.bins as u64;
    match config.kind {
        FlowKind::Spline | FlowKind::MafSpline => k.checked_mul(3)?.checked_sub(1),
        FlowKind::PiecewiseLinear => Some(k),
        _ => Some(2),
    }
}

/// A step's networks: for couplings, conditioning width a and transformed
/// width c; for autoregressive layers, one MADE over all d dimensions.
fn coupling_numbers(config: &FlowConfig, i: usize) -> Option<u64> {
    let (h, depth) = (config.hidden as u64, config.depth as u64);
    let per_dim = params_per_dim(config)?;
    let d = config.dim as u64;
    match config.kind {
        FlowKind::Maf | FlowKind::MafSpline => {
            return mlp_numbers(d, h, depth, d.checked_mul(per_dim)?)
        }
        FlowKind::Spline | FlowKind::PiecewiseLinear => {
            let (a, c) = halves(config, i);
            return mlp_numbers(a, h, depth, c.checked_mul(per_dim)?);
        }
        _ => {}
    }
    let (a, c) = halves(config, i);
    let nets: &[u64] = match (config.kind, config.shared_net) {
        (FlowKind::Additive, _) => &[1],
        (_, true) => &[2],
        (_, false) => &[1, 1],
    };
    let mut total = 0u64;
    for &outputs_per_dim in nets {
        total = total.checked_add(mlp_numbers(
            a,
            config.hidden as u64,
            config.depth as u64,
            outputs_per_dim * c,
        )?)?;
    }
    Some(total)
}

/// Weights and biases of an MLP a → h (× depth) → out.
fn mlp_numbers(a: u64, h: u64, depth: u64, out: u64) -> Option<u64> {
    if depth == 0 {
        return a.checked_mul(out)?.checked_add(out);
    }
    let first = a.checked_mul(h)?.checked_add(h)?;
    let middle = h.checked_mul(h)?.checked_add(h)?.checked_mul(depth - 1)?;
    let last = h.checked_mul(out)?.checked_add(out)?;
    first.checked_add(middle)?.checked_add(last)
}

/// The layers between couplings: ActNorm, and a permutation or an LU map.
fn mixing_numbers(config: &FlowConfig) -> Option<u64> {
    let d = config.dim as u64;
    let actnorm = if config.actnorm {
        d.checked_mul(2)?.checked_add(1)?
    } else {
        0
    };
    let mixing = match config.mixing {
        Mixing::Alternate => 0,
        Mixing::Reverse | Mixing::Random => d,
        Mixing::Lu => d
            .checked_mul(d)?
            .checked_mul(3)?
            .checked_add(d.checked_mul(2)?)?,
    };
    actnorm.checked_add(mixing)
}

/// (conditioning, transformed) widths of coupling layer `i`.
fn halves(config: &FlowConfig, i: usize) -> (u64, u64) {
    // The masks are tiny next to a model that could be too large; building
    // one only for its count is fine, but a huge dimension must not be built.
    let d = config.dim;
    let a = if d > 1 << 20 {
        d / 2
    } else {
        let mask = match config.mixing {
            Mixing::Alternate => parity_mask(d, i % 2),
            _ => half_mask(d),
        };
        mask.iter().filter(|&&m| m).count()
    };
    (a as u64, (d - a) as u64)
}

/// The values one recorded training step keeps per row of the batch: the
/// networks' hidden activations (product, bias, nonlinearity) and outputs,
/// and a few copies of the row per layer (gathers, merges, log-dets).
fn tape_numbers_per_row(config: &FlowConfig) -> Option<u64> {
    let (d, h, depth) = (config.dim as u64, config.hidden as u64, config.depth as u64);
    let per_layer = if config.kind.is_one_layer_family() {
        d.checked_mul(8)?
    } else if config.kind.has_bins() || config.kind == FlowKind::Maf {
        // One network, then the elementwise transform: a few dozen values
        // per bin and dimension (knots, their differences, the bin's terms).
        let per_dim = params_per_dim(config)?.checked_mul(40)?;
        h.checked_mul(3)?
            .checked_mul(depth)?
            .checked_add(d.checked_mul(per_dim)?)?
    } else {
        let nets = if config.shared_net || config.kind == FlowKind::Additive {
            1
        } else {
            2
        };
        let hidden = h.checked_mul(3)?.checked_mul(depth)?;
        hidden
            .checked_add(d.checked_mul(4)?)?
            .checked_mul(nets)?
            .checked_add(d.checked_mul(10)?)?
    };
    per_layer.checked_mul(config.layers as u64)
}

/// Bytes a training run needs, by what needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainingMemory {
    /// The parameters with their gradients, Adam's two moments, the copy of
    /// the best model and its f64 copy for the final evaluation.
    pub parameters: u64,
    /// The tape of one step: values and gradients of every recorded op.
    pub activations: u64,
    /// The data as read (f64) and as a tensor in the training precision.
    pub data: u64,
    /// The per-step record.
    pub metrics: u64,
}

impl TrainingMemory {
    pub fn total(&self) -> u64 {
        self.parameters
            .saturating_add(self.activations)
            .saturating_add(self.data)
            .saturating_add(self.metrics)
    }
}

/// The memory of training `config` in a float type of `float_bytes` bytes on
/// `points` points (training and held-out) with batches of `batch` for
/// `steps` steps; `None` if it is too large to count.
pub fn training_memory(
    config: &FlowConfig,
    float_bytes: u64,
    points: u64,
    batch: u64,
    steps: u64,
) -> Option<TrainingMemory> {
    let numbers = stored_numbers(config)?;
    let per_row = tape_numbers_per_row(config)?;
    let d = config.dim as u64;
    Some(TrainingMemory {
        parameters: numbers.checked_mul(6 * float_bytes + 8)?,
        activations: per_row.checked_mul(batch)?.checked_mul(2 * float_bytes)?,
        data: points.checked_mul(d)?.checked_mul(8 + float_bytes)?,
        metrics: steps.checked_mul(std::mem::size_of::<crate::fit::MetricRow>() as u64)?,
    })
}

/// The memory of evaluating or sampling a model (no tape, chunks of rows).
pub fn inference_memory(config: &FlowConfig) -> Option<u64> {
    let per_row = tape_numbers_per_row(config)?;
    let chunk = crate::evaluate::CHUNK as u64;
    stored_numbers(config)?
        .checked_mul(16)?
        .checked_add(per_row.checked_mul(chunk)?.checked_mul(8)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FlowModel;
    use autograd::ParamStore;

    /// The count without building is the count of the built model, for every
    /// kind of layer and mixing.
    #[test]
    fn stored_numbers_match_a_built_model() {
        for &kind in <FlowKind as crate::names::Named>::ALL {
            for mixing in [
                Mixing::Alternate,
                Mixing::Reverse,
                Mixing::Random,
                Mixing::Lu,
            ] {
                for (dim, shared, depth, actnorm) in [
                    (2, false, 2, true),
                    (5, true, 1, false),
                    (3, false, 0, true),
                ] {
                    let config = FlowConfig {
                        kind,
                        mixing,
                        layers: 3,
                        hidden: 7,
                        depth,
                        shared_net: shared,
                        actnorm,
                        ..FlowConfig::new(dim)
                    };
                    let mut store = ParamStore::<f32>::new();
                    FlowModel::new(config.clone(), &mut store).unwrap();
                    let built: usize = store.iter().map(|(_, p)| p.value.len()).sum();
                    assert_eq!(stored_numbers(&config), Some(built as u64), "{config:?}");
                }
            }
        }
    }

    #[test]
    fn sizes_too_large_to_count_are_none() {
        let huge = FlowConfig {
            hidden: usize::MAX / 2,
            ..FlowConfig::new(2)
        };
        assert_eq!(stored_numbers(&huge), None);
        assert!(training_memory(&FlowConfig::new(2), 4, u64::MAX, 512, 10).is_none());
    }
}
