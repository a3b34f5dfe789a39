//! [`FlowModel`]: a chain of layers over a standard-normal base density, built
//! from a [`FlowConfig`].
//!
//!   log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|
//!   log N(z; 0, I) = −½‖z‖² − (D/2)·log 2π
//!
//! Training maximizes the mean of log p over data (minimizes the NLL); sampling
//! draws z ~ N(0, I) and returns f⁻¹(z). The first stage of f is a fixed
//! standardization fitted on the training data, so every log-probability is in
//! the data's own coordinates.

use crate::actnorm::ActNorm;
use crate::autoregressive::{AutoregressiveKind, MaskedAutoregressive};
use crate::conditioner::ConditionerShape;
use crate::config::{ConfigError, Direction, FlowConfig, FlowKind, Mixing};
use crate::coupling::{Coupling, CouplingKind, NetShape};
use crate::flow::Flow;
use crate::layer::{Layer, Reversed, Sequential};
use crate::linear::InvertibleLinear;
use crate::permutation::Permutation;
use crate::piecewise_linear::{PiecewiseLinear, PiecewiseLinearCoupling};
use crate::planar::Planar;
use crate::radial::Radial;
use crate::spline::{RationalQuadratic, SplineCoupling};
use crate::standardize::Standardize;
use autograd::{Float, ParamStore, Tensor, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// A trainable density: standardization, then a chain of flow layers, over N(0, I).
#[derive(Clone, Debug)]
pub struct FlowModel {
    pub config: FlowConfig,
    pub standardize: Standardize,
    pub flow: Sequential,
}

impl FlowModel {
    /// Builds the model, registering its parameters in `store` under names like
    /// `flow.3.s.0.weight`. Per step k of `config.layers`: an ActNorm (if
    /// asked for, not for planar or radial flows), the mixing between steps (a
    /// permutation or an LU map; nothing for alternating masks), then the
    /// layer of `config.kind`. In the sampling [`Direction`] every layer is
    /// [`Layer::Reversed`]: its formula then maps latent to data.
    pub fn new<F: Float>(
        config: FlowConfig,
        store: &mut ParamStore<F>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut rng = StdRng::seed_from_u64(config.seed);
        let d = config.dim;
        let standardize = Standardize::new(store, "standardize", d);
        let mut layers = Vec::new();
        let prefix = |layers: &Vec<Layer>| format!("flow.{}", layers.len());
        for step in 0..config.layers {
            if config.kind.is_one_layer_family() {
                let p = prefix(&layers);
                layers.push(match config.kind {
                    FlowKind::Planar => Layer::Planar(Planar::new(store, &p, d, &mut rng)),
                    _ => Layer::Radial(Radial::new(store, &p, d, &mut rng)),
                });
                continue;
            }
            if config.actnorm {
                let p = prefix(&layers);
                layers.push(Layer::ActNorm(ActNorm::new(store, &p, d)));
            }
            if let Some(mixing) = mixing_layer(&config, step, store, &prefix(&layers), &mut rng) {
                layers.push(mixing);
            }
            let p = prefix(&layers);
            layers.push(main_layer(&config, step, store, &p, &mut rng));
        }
        if config.direction == Direction::Sampling {
            layers = layers
                .into_iter()
                .map(|layer| Layer::Reversed(Reversed::new(layer)))
                .collect();
        }
        Ok(FlowModel {
            config,
            standardize,
            flow: Sequential::new(layers),
        })
    }

    /// Re-reads state that layers cache outside the store (permutation indices)
    /// after a checkpoint's values were loaded into `store`, so the model is
    /// exactly the saved one even if the seed would now draw differently.
    ///
    /// It also checks the state that is saved but not trained, which a damaged
    /// or hand-edited file could make meaningless: standard deviations must be
    /// positive, LU signs ±1, ActNorm flags 0 or 1.
    pub fn reload_cached_state<F: Float>(&mut self, store: &ParamStore<F>) -> Result<(), String> {
        let check =
            |id: autograd::ParamId, ok: fn(f64) -> bool, what: &str| -> Result<(), String> {
                match store
                    .value(id)
                    .data()
                    .iter()
                    .map(|v| v.to_f64())
                    .find(|&v| !ok(v))
                {
                    Some(v) => Err(format!("{}: {v} is not {what}", store.name(id))),
                    None => Ok(()),
                }
            };
        check(
            self.standardize.std,
            |v| v > 0.0 && v.is_finite(),
            "a positive standard deviation",
        )?;
        for layer in &mut self.flow.layers {
            let layer = match layer {
                Layer::Reversed(reversed) => reversed.layer.as_mut(),
                other => other,
            };
            match layer {
                Layer::Permutation(p) => p.reload(store)?,
                Layer::InvertibleLinear(l) => {
                    check(l.sign, |v| v == 1.0 || v == -1.0, "a sign (±1)")?;
                    check_permutation_matrix(store, l.permutation, l.dim)?;
                }
                Layer::ActNorm(a) => {
                    check(a.initialized, |v| v == 0.0 || v == 1.0, "a flag (0 or 1)")?
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn dim(&self) -> usize {
        self.config.dim
    }

    /// Fits the standardization and runs every data-dependent initialization
    /// (ActNorm) on `x`. Call once, before training, with training data.
    pub fn fit_initialization<F: Float>(
        &self,
        store: &mut ParamStore<F>,
        x: &Tensor<F>,
    ) -> Result<(), String> {
        self.standardize.fit(store, x)?;
        let (h, _) = self.standardize.forward(store, x);
        self.flow.initialize(store, &h);
        Ok(())
    }

    /// z = f(x) and log|det ∂z/∂x| per sample (`[n]`).
    pub fn forward<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let (h, ld_std) = self.standardize.forward(store, x);
        let (z, ld_flow) = self.flow.forward(store, &h);
        let n = x.shape()[0];
        (z, per_sample(&ld_std.add(&ld_flow), n))
    }

    /// x = f⁻¹(z) and log|det ∂x/∂z| per sample (`[n]`).
    pub fn inverse<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let (h, ld_flow) = self.flow.inverse(store, z);
        let (x, ld_std) = self.standardize.inverse(store, &h);
        let n = z.shape()[0];
        (x, per_sample(&ld_flow.add(&ld_std), n))
    }

    /// log p(x) per sample, `[n]`, in the data's coordinates.
    pub fn log_prob<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        let (z, logdet) = self.forward(store, x);
        standard_normal_log_density(&z).add(&logdet)
    }

    /// The mean negative log-likelihood in nats per point: the training loss.
    pub fn nll<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        self.log_prob(store, x).mean().neg()
    }

    /// `n` samples: z ~ N(0, I) pushed through f⁻¹.
    pub fn sample<F: Float, R: Rng + ?Sized>(
        &self,
        store: &ParamStore<F>,
        n: usize,
        rng: &mut R,
    ) -> Tensor<F> {
        let z = standard_normal(n, self.dim(), rng);
        self.inverse(store, &z).0
    }

    /// x = f⁻¹(z) for latent draws `z`, and the model's log-density there,
    /// log q(x) = log N(z; 0, I) − log|det ∂x/∂z|: a sample with its density
    /// in one pass, on the tape if `z` is (variational inference).
    pub fn sample_with_log_q<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let (x, logdet) = self.inverse(store, z);
        (x, standard_normal_log_density(z).sub(&logdet))
    }

    /// The data after the standardization, and after each layer beside it.
    pub fn stages<'m, F: Float>(
        &'m self,
        store: &ParamStore<F>,
        x: &Tensor<F>,
    ) -> (Tensor<F>, Vec<(&'m Layer, Tensor<F>)>) {
        let (h, _) = self.standardize.forward(store, x);
        let after = self.flow.stages(store, &h);
        (h, after)
    }
}

/// A saved permutation matrix must be one: 0s and 1s with exactly one 1 in
/// every row and every column (anything else is not the fixed P of W = P·L·U,
/// and would silently change the model's density).
fn check_permutation_matrix<F: Float>(
    store: &ParamStore<F>,
    id: autograd::ParamId,
    d: usize,
) -> Result<(), String> {
    let values: Vec<f64> = store.value(id).data().iter().map(|v| v.to_f64()).collect();
    let is_binary = values.iter().all(|&v| v == 0.0 || v == 1.0);
    let ones =
        |line: &dyn Fn(usize) -> usize| (0..d).map(line).filter(|&k| values[k] == 1.0).count();
    let rows_ok = (0..d).all(|i| ones(&|j| i * d + j) == 1);
    let cols_ok = (0..d).all(|j| ones(&|i| i * d + j) == 1);
    if is_binary && rows_ok && cols_ok {
        Ok(())
    } else {
        Err(format!("{}: not a permutation matrix", store.name(id)))
    }
}

/// log N(z; 0, I) = −½‖z‖² − (D/2)·log 2π for each row of z.
pub fn standard_normal_log_density<F: Float, V: Value<F>>(z: &V) -> V {
    let d = z.shape()[1] as f64;
    let log_norm = -0.5 * d * (2.0 * std::f64::consts::PI).ln();
    z.square()
        .sum_axis(1, false)
        .scale(F::from_f64(-0.5))
        .shift(F::from_f64(log_norm))
}

/// An `[n, d]` tensor of independent N(0, 1) draws.
pub fn standard_normal<F: Float, R: Rng + ?Sized>(n: usize, d: usize, rng: &mut R) -> Tensor<F> {
    let data = (0..n * d)
        .map(|_| F::from_f64(rng.sample(StandardNormal)))
        .collect();
    Tensor::new(data, &[n, d])
}

/// A log-det of shape `[]` (the same for all samples) spread to `[n]`.
fn per_sample<F: Float, V: Value<F>>(logdet: &V, n: usize) -> V {
    if logdet.shape().is_empty() {
        let zeros = logdet.constant(&Tensor::zeros(&[n]));
        zeros.add(logdet)
    } else {
        logdet.clone()
    }
}

/// The layer between steps that lets every dimension take its turn: none
/// for alternating masks (the masks take turns themselves). `step` is the
/// step whose coupling comes after it.
fn mixing_layer<F: Float, R: Rng + ?Sized>(
    config: &FlowConfig,
    step: usize,
    store: &mut ParamStore<F>,
    prefix: &str,
    rng: &mut R,
) -> Option<Layer> {
    let d = config.dim;
    match config.mixing {
        Mixing::Alternate => None,
        Mixing::Reverse => Some(Layer::Permutation(
            Permutation::reverse(d).registered(store, prefix),
        )),
        Mixing::Random => Some(Layer::Permutation(
            Permutation::random(d, rng).registered(store, prefix),
        )),
        Mixing::Lu => Some(Layer::InvertibleLinear(InvertibleLinear::new(
            store,
            prefix,
            &lu_start(d, step),
        ))),
    }
}

/// The permutation the LU map before step `step` starts as: the identity
/// before the first step and the reversal before every later one. The
/// couplings all condition on the first half, so the first one conditions
/// on the first half of the data's own coordinates and each later one on
/// the half the previous one transformed: in 2-D exactly the turns of
/// alternating masks, in any dimension the turns of the halves. Training
/// then starts from the same model as without LU maps, and whatever the
/// maps learn is added to it.
///
/// Which coordinate is transformed first matters for a flow of a few
/// steps: starting with the reversal (`Mixing::Reverse`'s order) makes the
/// first coupling model the first coordinate given the second, which on
/// the sine set (y = sin x plus noise) is the hard direction.
fn lu_start(d: usize, step: usize) -> Vec<usize> {
    if step == 0 {
        (0..d).collect()
    } else {
        Permutation::reverse(d).indices().to_vec()
    }
}

/// Step `step`'s layer of `config.kind` (not planar, which has no mixing).
/// With alternating masks the coupling layers swap halves every step and the
/// autoregressive ones reverse their order; otherwise the mixing layer does
/// the turning and the split (or order) stays the same.
fn main_layer<F: Float, R: Rng + ?Sized>(
    config: &FlowConfig,
    step: usize,
    store: &mut ParamStore<F>,
    prefix: &str,
    rng: &mut R,
) -> Layer {
    let d = config.dim;
    let alternate = config.mixing == Mixing::Alternate;
    let mask = if alternate {
        parity_mask(d, step % 2)
    } else {
        half_mask(d)
    };
    let mut order: Vec<usize> = (0..d).collect();
    if alternate && step % 2 == 1 {
        order.reverse();
    }
    let net = NetShape {
        hidden: config.hidden,
        depth: config.depth,
        activation: config.activation,
        shared: config.shared_net,
    };
    let conditioner = ConditionerShape {
        hidden: config.hidden,
        depth: config.depth,
        activation: config.activation,
    };
    let spline = RationalQuadratic::new(config.bins, config.bound);
    let affine = CouplingKind::Affine {
        clamp: config.clamp,
    };
    match config.kind {
        FlowKind::Affine => Layer::Coupling(Coupling::new(store, prefix, &mask, affine, net, rng)),
        FlowKind::Additive => Layer::Coupling(Coupling::new(
            store,
            prefix,
            &mask,
            CouplingKind::Additive,
            net,
            rng,
        )),
        FlowKind::Spline => Layer::Spline(SplineCoupling::new(
            store,
            prefix,
            &mask,
            spline,
            conditioner,
            rng,
        )),
        FlowKind::PiecewiseLinear => Layer::PiecewiseLinear(PiecewiseLinearCoupling::new(
            store,
            prefix,
            &mask,
            PiecewiseLinear::new(config.bins, config.bound),
            conditioner,
            rng,
        )),
        FlowKind::Maf | FlowKind::MafSpline => {
            let kind = if config.kind == FlowKind::Maf {
                AutoregressiveKind::Affine {
                    clamp: config.clamp,
                }
            } else {
                AutoregressiveKind::Spline(spline)
            };
            Layer::Autoregressive(MaskedAutoregressive::new(
                store,
                prefix,
                &order,
                kind,
                conditioner,
                rng,
            ))
        }
        FlowKind::Planar | FlowKind::Radial => {
            unreachable!("planar and radial layers are built without a mixing step")
        }
    }
}

/// Dimensions d with d % 2 == parity condition (RealNVP's checkerboard for vectors).
pub fn parity_mask(d: usize, parity: usize) -> Vec<bool> {
    (0..d).map(|j| j % 2 == parity).collect()
}

/// The first ⌊d/2⌋ dimensions condition; a permutation in between does the mixing.
pub fn half_mask(d: usize) -> Vec<bool> {
    (0..d).map(|j| j < d / 2).collect()
}
