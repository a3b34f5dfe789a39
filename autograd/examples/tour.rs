//! `cargo run -p autograd --example tour`
//!
//! Records y = sum(tanh(x·W + b)) on a tape and prints what reverse mode does with
//! it: the forward Wengert list, the adjoint program of the reverse sweep, the
//! gradients it produces, and a finite-difference check of them.

use autograd::{gradcheck, Tape, Tensor, Value};

fn main() {
    let x = Tensor::new(vec![0.5, -1.0, 2.0, 0.0, 1.5, -0.5], &[3, 2]);
    let w = Tensor::new(vec![0.3, -0.2, 0.1, 0.8, -0.5, 0.4], &[2, 3]);
    let b = Tensor::new(vec![0.1, 0.0, -0.1], &[3]);

    let tape = Tape::<f64>::new();
    let xv = tape.constant_named("x", &x);
    let wv = tape.variable_named("W", &w);
    let bv = tape.variable_named("b", &b);
    let y = (xv.matmul(&wv) + bv).tanh().sum();

    println!(
        "y = sum(tanh(x·W + b)) with x {:?}, W {:?}, b {:?}\n",
        x.shape(),
        w.shape(),
        b.shape()
    );
    println!("Forward: the Wengert list (one line per recorded value)\n");
    print!("{}", tape.wengert_list());
    println!("\nBackward: the adjoint program the reverse sweep runs (ḡᵢ = ∂y/∂vᵢ)\n");
    print!("{}", tape.adjoint_program(y));

    tape.backward(y);
    println!("\ny = {:.6}", y.item());
    println!("∂y/∂W = {:?}", wv.grad().expect("W needs a gradient"));
    println!("∂y/∂b = {:?}", bv.grad().expect("b needs a gradient"));

    let worst = gradcheck(
        |v| v[0].matmul(&v[1]).add(&v[2]).tanh().sum(),
        &[x.clone(), w.clone(), b.clone()],
        1e-6,
    )
    .expect("backward agrees with finite differences");
    println!("\ngradcheck: largest difference to central differences {worst:.1e}");
}
