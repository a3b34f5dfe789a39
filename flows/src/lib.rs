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
//! | `standardize.rs` | fixed standardization | −Σ log σ |
//! | `flow.rs` | the [`Flow`] trait, [`Layer`], [`Sequential`] | Σ of the layers' |
//!
//! [`FlowModel`] puts them over a standard-normal base; [`data`] holds the 2-D
//! toy data sets.
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

pub mod actnorm;
pub mod autoregressive;
pub mod bins;
pub mod conditioner;
pub mod coupling;
pub mod data;
pub mod flow;
pub mod linalg;
pub mod linear;
pub mod made;
pub mod model;
pub mod permutation;
pub mod piecewise_linear;
pub mod planar;
pub mod spline;
pub mod standardize;
pub mod train;

pub use actnorm::ActNorm;
pub use autoregressive::{AutoregressiveKind, MaskedAutoregressive};
pub use conditioner::{ConditionerShape, Split};
pub use coupling::{Coupling, CouplingKind, CouplingNets, NetShape};
pub use flow::{Flow, Layer, Sequential};
pub use linear::InvertibleLinear;
pub use made::Made;
pub use model::{FlowConfig, FlowKind, FlowModel, Mixing};
pub use permutation::Permutation;
pub use piecewise_linear::{PiecewiseLinear, PiecewiseLinearCoupling};
pub use planar::Planar;
pub use spline::{RationalQuadratic, SplineCoupling};
pub use standardize::Standardize;
pub use train::{StepReport, Trainer};
