//! `cli tape`: reverse mode on a real layer, printed.
//!
//! One affine coupling layer on a batch of 4 two-dimensional points, with the
//! loss a flow trains on: L = −mean(log N(z; 0, I) + log|det ∂z/∂x|). The command
//! prints the forward Wengert list, the adjoint program the reverse sweep runs,
//! and the gradient of every parameter.

use crate::args::TapeArgs;
use crate::error::{write_stdout, Result};
use autograd::{Activation, ParamStore, Tape, Tensor, Value};
use flows::model::standard_normal_log_density;
use flows::{Coupling, CouplingKind, Flow, NetShape};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::fmt::Write as _;

pub fn run(args: &TapeArgs) -> Result<()> {
    let mut text = String::new();
    render(args, &mut text).expect("writing to a String cannot fail");
    write_stdout(text.as_bytes())
}

/// The whole printout, into `out`.
fn render(args: &TapeArgs, out: &mut String) -> std::fmt::Result {
    let mut rng = StdRng::seed_from_u64(7);
    let mut store = ParamStore::<f64>::new();
    let net = NetShape {
        hidden: 3,
        depth: 1,
        activation: Activation::Tanh,
        shared: false,
    };
    let layer = Coupling::new(
        &mut store,
        "coupling",
        &[true, false],
        CouplingKind::Affine { clamp: 1.0 },
        net,
        &mut rng,
    );
    // Small random last layers instead of zeros, so every gradient is non-zero.
    for (k, p) in store.iter_mut().enumerate() {
        for (i, v) in p.value.data_mut().iter_mut().enumerate() {
            if *v == 0.0 {
                *v = 0.1 * (((k * 7 + i * 13) % 11) as f64 / 5.0 - 1.0);
            }
        }
    }
    let x = Tensor::new(vec![0.5, -1.0, 1.5, 0.25, -0.75, 1.0, 0.0, -0.5], &[4, 2]);

    // Unfused, so each dense layer shows as its matmul, add and tanh.
    let tape = Tape::unfused();
    let xv = tape.constant_named("x", &x);
    let (z, log_det) = layer.forward(&store, &xv);
    let loss = standard_normal_log_density(&z).add(&log_det).mean().neg();

    if args.dot {
        return write!(out, "{}", tape.to_dot());
    }
    writeln!(
        out,
        "One affine coupling layer, z₂ = x₂·exp(s(x₁)) + t(x₁), on 4 points;"
    )?;
    writeln!(out, "loss L = −mean(log N(z; 0, I) + log|det ∂z/∂x|).\n")?;
    writeln!(out, "Forward — the Wengert list ({} nodes):\n", tape.len())?;
    write!(out, "{}", tape.wengert_list())?;
    writeln!(
        out,
        "\nBackward — the adjoint program (ḡᵢ = ∂L/∂vᵢ), in the order it runs:\n"
    )?;
    write!(out, "{}", tape.adjoint_program(loss))?;
    tape.backward_into(loss, &mut store);
    writeln!(out, "\nL = {:.6}\n\nGradients:", loss.item())?;
    for (_, p) in store.iter() {
        let shown: Vec<String> = p.grad.data().iter().map(|g| format!("{g:+.5}")).collect();
        writeln!(
            out,
            "  ∂L/∂{:<22} {:?}  [{}]",
            p.name.to_string(),
            p.grad.shape(),
            shown.join(", ")
        )?;
    }
    Ok(())
}
