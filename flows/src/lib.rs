//! # flows: normalizing flows on the `autograd` engine
//!
//! A flow maps data x to a latent z = f(x) with f invertible; then
//!
//!   log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|
//!
//! and sampling pushes N(0, I) draws through f⁻¹. Each layer lives in its own
//! file with the derivation of its log-determinant in its doc comment:
//!
//! | file | layer | log|det ∂z/∂x| |
//! |---|---|---|
//! | `coupling.rs` | RealNVP affine / NICE additive coupling | Σ (1−b)⊙s  /  0 |
//! | `actnorm.rs` | ActNorm with data-dependent init | −Σ log σ |
//! | `permutation.rs` | reverse / random permutation | 0 |
//! | `linear.rs` | LU-parameterized invertible linear | Σ log s |
//! | `planar.rs` | planar flow | log|1 + h′(wᵀx + b)ûᵀw| |
//! | `radial.rs` | radial flow | (d−1)·log(1 + βh) + log(1 + βα/(α + r)²) |
//! | `standardize.rs` | fixed standardization | −Σ log σ |
//! | `flow.rs` | the [`Flow`] trait | |
//! | `layer.rs` | [`Layer`] (every layer above) and [`Sequential`] | Σ of the layers' |
//!
//! [`FlowModel`] (`model.rs`) puts them over a standard-normal base, built from
//! a [`FlowConfig`] (`config.rs`); [`fit`] (`fit.rs`) trains one as configured
//! by a [`TrainConfig`] (`train_config.rs`), one [`Trainer`] step (`train.rs`)
//! at a time; [`data`] holds the 2-D toy data sets.
//!
//! ```
//! use flows::{FlowConfig, FlowModel, data::ToyData};
//! use autograd::{ParamStore, Tensor};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let points = ToyData::Moons { noise: 0.05 }.sample(256, &mut rng);
//! let x = Tensor::<f64>::from_rows(&points);
//! let mut store = ParamStore::new();
//! let model = FlowModel::new(FlowConfig::new(2), &mut store).unwrap();
//! model.fit_initialization(&mut store, &x).unwrap();
//! let log_p = model.log_prob(&store, &x);          // [256], nats
//! let (z, _) = model.forward(&store, &x);
//! let (x_back, _) = model.inverse(&store, &z);
//! assert!(x_back.max_abs_diff(&x) < 1e-9);
//! assert_eq!(log_p.shape(), &[256]);
//! ```
//!
//! Training is one call: [`fit`] takes the model, the training and held-out
//! points and a [`TrainConfig`], and returns the best parameters it saw with
//! the record of every step.
//!
//! ```
//! use flows::{fit, Budget, FlowConfig, FlowModel, Stop, TrainConfig, data::ToyData};
//! use autograd::{ParamStore, Tensor};
//!
//! let config = TrainConfig { budget: Budget::Steps(300), ..TrainConfig::default() };
//! let mut rng = config.rng();
//! let mut draw = |n| {
//!     let points = ToyData::Moons { noise: 0.05 }.sample(n, &mut rng);
//!     let flat: Vec<f64> = points.iter().flatten().copied().collect();
//!     Tensor::<f32>::from_f64(&flat, &[n, 2])
//! };
//! let (train, heldout) = (draw(1000), draw(500));
//! let mut store = ParamStore::new();
//! let small = FlowConfig { layers: 4, hidden: 32, ..FlowConfig::new(2) };
//! let model = FlowModel::new(small, &mut store).unwrap();
//! let fitted = fit(&model, &mut store, &train, &heldout, &config, &mut rng, &mut ()).unwrap();
//! assert_eq!(fitted.stop, Stop::Finished);
//! let before = fitted.metrics[0].heldout_nll.unwrap();
//! assert!(fitted.best_heldout_nll < 1.2, "{before} → {}", fitted.best_heldout_nll);
//! ```

pub mod actnorm;
pub mod autoregressive;
pub mod bins;
pub mod conditioner;
pub mod config;
pub mod coupling;
pub mod data;
pub mod energies;
pub mod evaluate;
pub mod fit;
pub mod flow;
pub mod layer;
pub mod linalg;
pub mod linear;
pub mod made;
pub mod memory;
pub mod model;
pub mod names;
pub mod permutation;
pub mod piecewise_linear;
pub mod planar;
pub mod radial;
pub mod spline;
pub mod standardize;
pub mod stats;
pub mod target;
pub mod train;
pub mod train_config;
pub mod vi;

pub use actnorm::ActNorm;
pub use autoregressive::{AutoregressiveKind, MaskedAutoregressive};
pub use conditioner::{ConditionerShape, Split};
pub use config::{ConfigError, Direction, FlowConfig, FlowKind, Mixing, Precision};
pub use coupling::{Coupling, CouplingKind, CouplingNets, NetShape};
pub use energies::Energy;
pub use fit::{fit, Fitted, MetricRow, Observer, Refit, Stop};
pub use flow::Flow;
pub use layer::{Layer, Reversed, Sequential};
pub use linear::InvertibleLinear;
pub use made::Made;
pub use model::FlowModel;
pub use names::Named;
pub use permutation::{Permutation, PermutationKind};
pub use piecewise_linear::{PiecewiseLinear, PiecewiseLinearCoupling};
pub use planar::Planar;
pub use radial::Radial;
pub use spline::{RationalQuadratic, SplineCoupling};
pub use standardize::Standardize;
pub use target::{ClosureTarget, Target};
pub use train::{StepReport, Trainer};
pub use train_config::{Batch, Budget, Schedule, TrainConfig};
pub use vi::{diagnose, fit_variational, Diagnostics, ViConfig, ViFitted, ViObserver, ViRow};
