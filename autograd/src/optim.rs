//! Optimizers and their helpers: SGD with momentum, Adam, gradient-norm clipping
//! and a cosine learning-rate schedule. Each follows PyTorch's update rule, so
//! hyperparameters carry over.
//!
//! All of them read the gradients in a [`ParamStore`] and update its trainable
//! entries in place; buffers are skipped.

use crate::float::Float;
use crate::params::ParamStore;
use std::f64::consts::PI;

/// Stochastic gradient descent with momentum μ (PyTorch's `SGD`, no dampening):
///   b ← μ·b + g   (b = g on the first step),   θ ← θ − lr·b
#[derive(Clone, Debug)]
pub struct Sgd<F> {
    pub lr: f64,
    pub momentum: f64,
    velocity: Vec<Vec<F>>,
}

impl<F: Float> Sgd<F> {
    pub fn new(lr: f64, momentum: f64) -> Self {
        Sgd {
            lr,
            momentum,
            velocity: Vec::new(),
        }
    }

    pub fn step(&mut self, store: &mut ParamStore<F>) {
        // (Re)size the state when the store has gained parameters since.
        let first = self.velocity.len() != store.len();
        if first {
            self.velocity = store
                .iter()
                .map(|(_, p)| vec![F::ZERO; p.value.len()])
                .collect();
        }
        let (lr, mu) = (F::from_f64(self.lr), F::from_f64(self.momentum));
        for (p, b) in store.iter_mut().zip(&mut self.velocity) {
            if !p.trainable {
                continue;
            }
            for ((theta, &g), b) in p.value.data.iter_mut().zip(&p.grad.data).zip(b.iter_mut()) {
                *b = if first { g } else { mu * *b + g };
                *theta -= lr * *b;
            }
        }
    }
}

/// Adam (Kingma & Ba 2015) exactly as PyTorch computes it:
///   m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²,
///   m̂ = m/(1 − β₁ᵗ),   v̂ = v/(1 − β₂ᵗ),   θ ← θ − lr·m̂/(√v̂ + ε)
/// with PyTorch's defaults lr = 1e−3, β = (0.9, 0.999), ε = 1e−8.
/// `weight_decay` (default 0) adds λθ to g first (PyTorch's L2 form).
#[derive(Clone, Debug)]
pub struct Adam<F> {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    step: i32,
    m: Vec<Vec<F>>,
    v: Vec<Vec<F>>,
}

impl<F: Float> Adam<F> {
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            step: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// How many updates have been made.
    pub fn steps_taken(&self) -> i32 {
        self.step
    }

    pub fn step(&mut self, store: &mut ParamStore<F>) {
        if self.m.len() != store.len() {
            self.m = store
                .iter()
                .map(|(_, p)| vec![F::ZERO; p.value.len()])
                .collect();
            self.v = self.m.clone();
        }
        self.step += 1;
        // The bias corrections are folded into one step size, as PyTorch does:
        //   θ ← θ − (lr/(1 − β₁ᵗ)) · m / (√v/√(1 − β₂ᵗ) + ε)
        let correction1 = 1.0 - self.beta1.powi(self.step);
        let correction2 = (1.0 - self.beta2.powi(self.step)).sqrt();
        let step_size = F::from_f64(self.lr / correction1);
        let (b1, b2) = (F::from_f64(self.beta1), F::from_f64(self.beta2));
        let (eps, wd) = (F::from_f64(self.eps), F::from_f64(self.weight_decay));
        let inv_c2 = F::from_f64(1.0 / correction2);
        for ((p, m), v) in store.iter_mut().zip(&mut self.m).zip(&mut self.v) {
            if !p.trainable {
                continue;
            }
            for (((theta, &g), m), v) in p
                .value
                .data
                .iter_mut()
                .zip(&p.grad.data)
                .zip(m.iter_mut())
                .zip(v.iter_mut())
            {
                let g = g + wd * *theta;
                *m = b1 * *m + (F::ONE - b1) * g;
                *v = b2 * *v + (F::ONE - b2) * g * g;
                *theta -= step_size * *m / (v.sqrt() * inv_c2 + eps);
            }
        }
    }
}

/// Scales all trainable gradients so their joint Euclidean norm is at most
/// `max_norm` (PyTorch's `clip_grad_norm_`, with its 1e−6 guard). Returns the norm
/// before clipping, which is worth logging: a spike is a warning sign.
pub fn clip_grad_norm<F: Float>(store: &mut ParamStore<F>, max_norm: f64) -> f64 {
    let total: f64 = store
        .iter()
        .filter(|(_, p)| p.trainable)
        .flat_map(|(_, p)| p.grad.data.iter())
        .map(|g| g.to_f64() * g.to_f64())
        .sum::<f64>()
        .sqrt();
    let coefficient = max_norm / (total + 1e-6);
    if coefficient < 1.0 {
        let c = F::from_f64(coefficient);
        for p in store.iter_mut().filter(|p| p.trainable) {
            p.grad.data.iter_mut().for_each(|g| *g *= c);
        }
    }
    total
}

/// Cosine annealing from `lr_max` down to `lr_min` over `total_steps`:
///   lr(t) = lr_min + ½(lr_max − lr_min)(1 + cos(π·t/T))
/// (`lr_min = lr_max` gives a constant rate.)
#[derive(Clone, Copy, Debug)]
pub struct CosineSchedule {
    pub lr_max: f64,
    pub lr_min: f64,
    pub total_steps: usize,
}

impl CosineSchedule {
    pub fn new(lr_max: f64, lr_min: f64, total_steps: usize) -> Self {
        CosineSchedule {
            lr_max,
            lr_min,
            total_steps,
        }
    }

    /// The learning rate for step `t` (counting from 0).
    pub fn lr(&self, t: usize) -> f64 {
        let progress = (t as f64 / self.total_steps.max(1) as f64).min(1.0);
        self.lr_min + 0.5 * (self.lr_max - self.lr_min) * (1.0 + (PI * progress).cos())
    }
}
