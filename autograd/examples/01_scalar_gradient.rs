//! # Example 01 — one gradient by the tape, checked by hand
//!
//! `cargo run -p autograd --example 01_scalar_gradient`
//!
//! **What it teaches.** Reverse mode on the smallest program that still shows
//! its two essential moves:
//!
//! ```text
//! y = x₁·x₂ + tanh(x₁) + exp(x₂)
//! ```
//!
//! Recording y writes a Wengert list (one line per intermediate value); the
//! reverse sweep runs the adjoint program, one `ḡ += …` statement per edge.
//! x₁ feeds two ops (the product and the tanh), and so does x₂ (the product
//! and the exp), so two statements add into each one's gradient: that `+=`
//! is the sum in the multivariable chain rule. The
//! gradient the tape returns is compared with the one derived by hand,
//!
//! ```text
//! ∂y/∂x₁ = x₂ + 1 − tanh²(x₁)        ∂y/∂x₂ = x₁ + exp(x₂)
//! ```
//!
//! and with central finite differences ([`autograd::gradcheck`]).
//!
//! The numbers are checked by the test at the bottom, which `cargo test`
//! runs (see `[[example]]` in `autograd/Cargo.toml`), so this file cannot
//! drift from what the engine does. The concepts are written out in
//! `docs/AUTODIFF.md`.
//!
//! **Next:** `02_fit_an_mlp.rs` uses the same tape, on matrices, to train a
//! network.

use autograd::{gradcheck, Tape, Tensor, Value};
use std::fmt;

/// The point at which the gradient is taken.
const X: [f64; 2] = [0.7, -1.3];

/// The function, written once against [`Value`]: it can be recorded on a tape
/// (`V = Var`) or just evaluated (`V = Tensor`).
fn y_of<V: Value<f64>>(x1: &V, x2: &V) -> V {
    x1.mul(x2).add(&x1.tanh()).add(&x2.exp())
}

/// The gradient derived with pencil and paper.
fn by_hand([x1, x2]: [f64; 2]) -> [f64; 2] {
    [x2 + 1.0 - x1.tanh().powi(2), x1 + x2.exp()]
}

/// What the example computes.
pub struct Report {
    pub y: f64,
    /// y evaluated on plain tensors, without a tape.
    pub y_plain: f64,
    pub wengert_list: String,
    pub adjoint_program: String,
    /// ∂y/∂x from the reverse sweep.
    pub by_tape: [f64; 2],
    pub by_hand: [f64; 2],
    /// The largest |tape − hand| over both components.
    pub tape_vs_hand: f64,
    /// The largest error `gradcheck` found against central differences.
    pub tape_vs_finite_differences: f64,
    /// How many adjoint statements add into ḡ0 (x₁) and ḡ1 (x₂).
    pub statements_into_x: [usize; 2],
}

pub fn run() -> Report {
    let tape = Tape::<f64>::new();
    let x1 = tape.variable_named("x1", &Tensor::scalar(X[0]));
    let x2 = tape.variable_named("x2", &Tensor::scalar(X[1]));
    let y = y_of(&x1, &x2);

    let wengert_list = tape.wengert_list();
    let adjoint_program = tape.adjoint_program(y);
    tape.backward(y);
    let grad = |v: autograd::Var<'_, f64>| v.grad().expect("x needs a gradient").item();
    let by_tape = [grad(x1), grad(x2)];
    let by_hand = by_hand(X);
    let tape_vs_hand = (0..2)
        .map(|i| (by_tape[i] - by_hand[i]).abs())
        .fold(0.0, f64::max);

    let inputs = [Tensor::scalar(X[0]), Tensor::scalar(X[1])];
    let tape_vs_finite_differences = gradcheck(|v| y_of(&v[0], &v[1]), &inputs, 1e-6)
        .expect("the tape agrees with finite differences");
    let y_plain = y_of(&inputs[0], &inputs[1]).item();
    let statements_into = |node: &str| {
        adjoint_program
            .lines()
            .filter(|line| line.starts_with(&format!("ḡ{node} +=")))
            .count()
    };
    let statements_into_x = [statements_into("0"), statements_into("1")];

    Report {
        y: y.item(),
        y_plain,
        wengert_list,
        adjoint_program,
        by_tape,
        by_hand,
        tape_vs_hand,
        tape_vs_finite_differences,
        statements_into_x,
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "y = x1·x2 + tanh(x1) + exp(x2) at x1 = {}, x2 = {}",
            X[0], X[1]
        )?;
        writeln!(f, "\nForward — the Wengert list:\n")?;
        write!(f, "{}", self.wengert_list)?;
        writeln!(f, "\nBackward — the adjoint program:\n")?;
        write!(f, "{}", self.adjoint_program)?;
        writeln!(
            f,
            "\nx1 and x2 are each used twice: {} statements add into ḡ0, {} into ḡ1.\n",
            self.statements_into_x[0], self.statements_into_x[1]
        )?;
        writeln!(f, "y        = {:.15} (tape)", self.y)?;
        writeln!(
            f,
            "           {:.15} (plain tensors, no tape)",
            self.y_plain
        )?;
        writeln!(f, "                  by the tape          by hand")?;
        for (i, name) in ["∂y/∂x1", "∂y/∂x2"].iter().enumerate() {
            writeln!(
                f,
                "{name}   {:>19.15}  {:>19.15}",
                self.by_tape[i], self.by_hand[i]
            )?;
        }
        writeln!(
            f,
            "largest |tape − hand|           {:.1e}",
            self.tape_vs_hand
        )?;
        writeln!(
            f,
            "largest error against central differences {:.1e}",
            self.tape_vs_finite_differences
        )
    }
}

fn main() {
    print!("{}", run());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tape_gives_the_hand_derived_gradient() {
        let report = run();
        // Tape and formula do the same few f64 operations in a different
        // order: they may differ by a few ulps of numbers of size ~1, no more.
        assert!(report.tape_vs_hand < 1e-14, "{}", report.tape_vs_hand);
        // Central differences with h = 1e-6 are accurate to ~1e-10 in f64.
        assert!(report.tape_vs_finite_differences < 1e-8);
        // Recording changes nothing about the value: the same kernels run.
        assert_eq!(report.y, report.y_plain);
    }

    #[test]
    fn an_input_used_twice_collects_two_contributions() {
        let report = run();
        assert_eq!(
            report.statements_into_x,
            [2, 2],
            "{}",
            report.adjoint_program
        );
        // The lines of the Wengert list that read x1 (v0) and x2 (v1).
        assert!(report.wengert_list.contains("mul(v0, v1)"));
        assert!(report.wengert_list.contains("tanh(v0)"));
        assert!(report.wengert_list.contains("exp(v1)"));
    }
}
