//! # autograd: reverse-mode automatic differentiation on a tape
//!
//! This crate is small on purpose: it is meant to be read. It computes gradients
//! the way PyTorch does — record the forward computation, then run it backwards —
//! in a few files you can hold in your head:
//!
//! | file | idea |
//! |---|---|
//! | `tensor.rs` | [`Tensor`]: numbers in row-major order, with a shape |
//! | `ops/*.rs` | each op's forward kernel and, beside it, its derivative |
//! | `op.rs` | [`Op`]: the list of every op — the calculus as one table |
//! | `tape.rs` | [`Tape`] (the Wengert list) and [`Var`] (a handle into it) |
//! | `backward.rs` | the reverse sweep: the chain rule, written once |
//! | `value.rs` | [`Value`]: one model code for recorded and plain evaluation |
//! | `print.rs` | the tape printed as code, forwards and backwards |
//! | `params.rs`, `nn.rs`, `optim.rs` | parameters, layers, optimizers |
//! | `check.rs` | [`gradcheck`] and [`jacobian`] by finite differences |
//!
//! ## Reverse mode on one example
//!
//! Take y = sum(tanh(x·W + b)). Recording it gives a *Wengert list*: every
//! intermediate value, in the order it was computed.
//!
//! ```
//! use autograd::{Tape, Tensor, Value};
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.constant_named("x", &Tensor::new(vec![1.0, 2.0], &[1, 2]));
//! let w = tape.variable_named("W", &Tensor::new(vec![0.5, -1.0, 0.25, 0.0], &[2, 2]));
//! let b = tape.variable_named("b", &Tensor::new(vec![0.1, 0.2], &[2]));
//! let y = (x.matmul(&w) + b).tanh().sum();
//! print!("{}", tape.wengert_list());
//! // v0 = constant "x"   [1, 2]
//! // v1 = variable "W"   [2, 2]
//! // v2 = variable "b"   [2]
//! // v3 = matmul(v0, v1) [1, 2]
//! // v4 = add(v3, v2)    [1, 2]
//! // v5 = tanh(v4)       [1, 2]
//! // v6 = sum(v5)        []
//! assert_eq!(tape.len(), 7);
//! ```
//!
//! The chain rule says ∂y/∂vᵢ is the sum, over every node j that used vᵢ, of
//! ∂y/∂vⱼ · ∂vⱼ/∂vᵢ. Write ḡᵢ for ∂y/∂vᵢ (the *adjoint* of vᵢ). Because every
//! user of vᵢ comes later on the tape, one pass from the end to the start
//! completes each ḡᵢ before it is needed. That pass is itself a program — the
//! *adjoint program* — and the tape can print it:
//!
//! ```
//! # use autograd::{Tape, Tensor, Value};
//! # let tape = Tape::<f64>::new();
//! # let x = tape.constant_named("x", &Tensor::new(vec![1.0, 2.0], &[1, 2]));
//! # let w = tape.variable_named("W", &Tensor::new(vec![0.5, -1.0, 0.25, 0.0], &[2, 2]));
//! # let b = tape.variable_named("b", &Tensor::new(vec![0.1, 0.2], &[2]));
//! # let y = (x.matmul(&w) + b).tanh().sum();
//! let program = tape.adjoint_program(y);
//! print!("{program}");
//! // ḡ6 = 1                  # seed: ∂L/∂L
//! // ḡ5 += broadcast(ḡ6)     # sum
//! // ḡ4 += ḡ5 ⊙ (1 − v5²)    # tanh
//! // ḡ3 += ḡ4                # add
//! // ḡ2 += Σ_broadcast(ḡ4)   # add
//! // ḡ1 += v0ᵀ · ḡ3          # matmul
//! // ∂L/∂W = ḡ1              # result
//! // ∂L/∂b = ḡ2              # result
//! assert!(program.contains("ḡ1 += v0ᵀ · ḡ3"));
//! ```
//!
//! Note what is *not* there: no statement computes ḡ0, because x is a constant
//! (data) and no gradient is wanted for it. [`Tape::backward`] runs exactly these
//! statements:
//!
//! ```
//! # use autograd::{Tape, Tensor, Value};
//! # let tape = Tape::<f64>::new();
//! # let x = tape.constant_named("x", &Tensor::new(vec![1.0, 2.0], &[1, 2]));
//! # let w = tape.variable_named("W", &Tensor::new(vec![0.5, -1.0, 0.25, 0.0], &[2, 2]));
//! # let b = tape.variable_named("b", &Tensor::new(vec![0.1, 0.2], &[2]));
//! # let y = (x.matmul(&w) + b).tanh().sum();
//! tape.backward(y);
//! let gb = b.grad().unwrap();
//! // ∂y/∂bⱼ = 1 − tanh²(x·W + b)ⱼ
//! let pre = [1.0 * 0.5 + 2.0 * 0.25 + 0.1, 1.0 * -1.0 + 2.0 * 0.0 + 0.2];
//! for j in 0..2 {
//!     let expected = 1.0 - f64::tanh(pre[j]).powi(2);
//!     assert!((gb.data()[j] - expected).abs() < 1e-12);
//! }
//! ```
//!
//! And [`gradcheck`] confirms it against finite differences:
//!
//! ```
//! use autograd::{gradcheck, Tensor, Value};
//! let x = Tensor::new(vec![1.0, 2.0], &[1, 2]);
//! let w = Tensor::new(vec![0.5, -1.0, 0.25, 0.0], &[2, 2]);
//! let err = gradcheck(|v| v[0].matmul(&v[1]).tanh().sum(), &[x, w], 1e-6).unwrap();
//! assert!(err < 1e-6);
//! ```
//!
//! ## Training
//!
//! Parameters live in a [`ParamStore`], outside the tape. A step rewinds the tape
//! (keeping its buffers), records the loss, sweeps backwards, and hands the
//! gradients to an optimizer:
//!
//! ```
//! use autograd::{Activation, Adam, Mlp, ParamStore, Tape, Tensor, Value};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let mut store = ParamStore::<f32>::new();
//! let mlp = Mlp::new(&mut store, "mlp", &[1, 16, 1], Activation::Tanh, None, &mut rng);
//! let x = Tensor::new((0..32).map(|i| i as f32 / 16.0 - 1.0).collect(), &[32, 1]);
//! let target = x.map(|v| v * v);
//! let mut adam = Adam::new(1e-2);
//! let mut tape = Tape::new();
//! let mut first = None;
//! for _ in 0..300 {
//!     tape.reset();
//!     let (xv, tv) = (tape.constant(&x), tape.constant(&target));
//!     let loss = (mlp.forward(&store, &xv) - tv).square().mean();
//!     first.get_or_insert(loss.item());
//!     tape.backward_into(loss, &mut store); // zero grads, sweep, collect
//!     adam.step(&mut store);
//! }
//! // The same model evaluated on plain tensors: nothing is recorded.
//! let fit = (&mlp.forward(&store, &x) - &target).square().mean().item();
//! assert!(fit < first.unwrap() / 10.0);
//! ```

mod backward;
pub mod check;
pub mod float;
pub mod nn;
pub mod op;
pub mod ops;
pub mod optim;
pub mod params;
mod print;
pub mod tape;
pub mod tensor;
mod threads;
pub mod value;

pub use check::{gradcheck, jacobian, log_abs_det, GradcheckError};
pub use float::Float;
pub use nn::{Activation, Linear, Mlp};
pub use op::Op;
pub use ops::binary::Binary;
pub use ops::reduce::Reduction;
pub use ops::unary::Unary;
pub use optim::{clip_grad_norm, Adam, CosineSchedule, Sgd};
pub use params::{NamedValue, Param, ParamId, ParamStore};
pub use tape::{NodeId, Tape, Var};
pub use tensor::{numel, Shape, Tensor};
pub use threads::{map_parts, map_row_ranges, set_threads, thread_count};
pub use value::Value;
