//! Element-wise functions y = f(x) and their derivatives, side by side.
//!
//! The vector-Jacobian product of an element-wise function is element-wise too:
//! the Jacobian is diagonal, so  ḡx += ḡy ⊙ f′(x).  Each row of the table below gives
//! f and f′ (written with x or y = f(x), whichever is cheaper), and nothing else.

use crate::float::Float;

/// An element-wise function. `Scale`, `Shift` and `Powi` carry a constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary<F> {
    /// y = −x,  f′ = −1
    Neg,
    /// y = eˣ,  f′ = y
    Exp,
    /// y = ln x,  f′ = 1/x
    Log,
    /// y = tanh x,  f′ = 1 − y²
    Tanh,
    /// y = max(x, 0),  f′ = 1 where x > 0, else 0
    Relu,
    /// y = σ(x) = 1/(1 + e⁻ˣ),  f′ = y(1 − y)
    Sigmoid,
    /// y = ln(1 + eˣ),  f′ = σ(x)
    Softplus,
    /// y = x²,  f′ = 2x
    Square,
    /// y = √x,  f′ = 1/(2y)
    Sqrt,
    /// y = |x|,  f′ = sign(x)  (0 at 0: a subgradient)
    Abs,
    /// y = sin x,  f′ = cos x
    Sin,
    /// y = cos x,  f′ = −sin x
    Cos,
    /// y = xⁿ,  f′ = n·xⁿ⁻¹
    Powi(i32),
    /// y = c·x,  f′ = c
    Scale(F),
    /// y = x + c,  f′ = 1
    Shift(F),
}

/// σ(x) without overflow: for x < 0 use eˣ/(1 + eˣ) so e⁻ˣ never explodes.
pub(crate) fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::ZERO {
        F::ONE / (F::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::ONE + e)
    }
}

/// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): exact for large |x| instead of inf.
pub(crate) fn softplus<F: Float>(x: F) -> F {
    x.max(F::ZERO) + (-x.abs()).exp().ln_1p()
}

/// Applies `f` to each `x`, writing `y`. One loop per op so the compiler vectorizes it.
fn map<F: Float>(x: &[F], y: &mut [F], f: impl Fn(F) -> F) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(x);
    }
}

/// `gx += g ⊙ d(x, y)`: the diagonal Jacobian applied to the incoming gradient.
fn accumulate<F: Float>(g: &[F], x: &[F], y: &[F], gx: &mut [F], d: impl Fn(F, F) -> F) {
    for i in 0..gx.len() {
        gx[i] += g[i] * d(x[i], y[i]);
    }
}

impl<F: Float> Unary<F> {
    pub fn name(&self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Tanh => "tanh",
            Unary::Relu => "relu",
            Unary::Sigmoid => "sigmoid",
            Unary::Softplus => "softplus",
            Unary::Square => "square",
            Unary::Sqrt => "sqrt",
            Unary::Abs => "abs",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Powi(_) => "powi",
            Unary::Scale(_) => "scale",
            Unary::Shift(_) => "shift",
        }
    }

    /// y = f(x), element-wise.
    pub fn forward(&self, x: &[F], y: &mut [F]) {
        match *self {
            Unary::Neg => map(x, y, |x| -x),
            Unary::Exp => map(x, y, |x| x.exp()),
            Unary::Log => map(x, y, |x| x.ln()),
            Unary::Tanh => map(x, y, |x| x.tanh()),
            Unary::Relu => map(x, y, |x| x.max(F::ZERO)),
            Unary::Sigmoid => map(x, y, sigmoid),
            Unary::Softplus => map(x, y, softplus),
            Unary::Square => map(x, y, |x| x * x),
            Unary::Sqrt => map(x, y, |x| x.sqrt()),
            Unary::Abs => map(x, y, |x| x.abs()),
            Unary::Sin => map(x, y, |x| x.sin()),
            Unary::Cos => map(x, y, |x| x.cos()),
            Unary::Powi(n) => map(x, y, |x| x.powi(n)),
            Unary::Scale(c) => map(x, y, |x| c * x),
            Unary::Shift(c) => map(x, y, |x| x + c),
        }
    }

    /// ḡx += ḡy ⊙ f′(x), given x and the forward output y.
    pub fn backward(&self, g: &[F], x: &[F], y: &[F], gx: &mut [F]) {
        let two = F::from_f64(2.0);
        match *self {
            Unary::Neg => accumulate(g, x, y, gx, |_, _| -F::ONE),
            Unary::Exp => accumulate(g, x, y, gx, |_, y| y),
            Unary::Log => accumulate(g, x, y, gx, |x, _| F::ONE / x),
            Unary::Tanh => accumulate(g, x, y, gx, |_, y| F::ONE - y * y),
            Unary::Relu => accumulate(
                g,
                x,
                y,
                gx,
                |x, _| if x > F::ZERO { F::ONE } else { F::ZERO },
            ),
            Unary::Sigmoid => accumulate(g, x, y, gx, |_, y| y * (F::ONE - y)),
            Unary::Softplus => accumulate(g, x, y, gx, |x, _| sigmoid(x)),
            Unary::Square => accumulate(g, x, y, gx, |x, _| two * x),
            Unary::Sqrt => accumulate(g, x, y, gx, |_, y| F::ONE / (two * y)),
            Unary::Abs => accumulate(g, x, y, gx, |x, _| x.signum()),
            Unary::Sin => accumulate(g, x, y, gx, |x, _| x.cos()),
            Unary::Cos => accumulate(g, x, y, gx, |x, _| -x.sin()),
            // n = 0: y = 1 is constant and f′ = 0, even at x = 0 where n·xⁿ⁻¹ = 0·∞ = NaN.
            Unary::Powi(0) => {}
            Unary::Powi(n) => {
                let nf = F::from_f64(n as f64);
                accumulate(g, x, y, gx, |x, _| nf * x.powi(n - 1))
            }
            Unary::Scale(c) => accumulate(g, x, y, gx, |_, _| c),
            Unary::Shift(_) => accumulate(g, x, y, gx, |_, _| F::ONE),
        }
    }

    /// f′ as a formula in x = `x` and y = `y`, for the printed adjoint program.
    pub fn derivative_text(&self, x: &str, y: &str) -> String {
        match *self {
            Unary::Neg => "(−1)".into(),
            Unary::Exp => y.into(),
            Unary::Log => format!("(1 / {x})"),
            Unary::Tanh => format!("(1 − {y}²)"),
            Unary::Relu => format!("[{x} > 0]"),
            Unary::Sigmoid => format!("{y}(1 − {y})"),
            Unary::Softplus => format!("σ({x})"),
            Unary::Square => format!("2{x}"),
            Unary::Sqrt => format!("(1 / 2{y})"),
            Unary::Abs => format!("sign({x})"),
            Unary::Sin => format!("cos({x})"),
            Unary::Cos => format!("(−sin({x}))"),
            Unary::Powi(n) => format!("{n}{x}^{}", n - 1),
            Unary::Scale(c) => format!("{c}"),
            Unary::Shift(_) => "1".into(),
        }
    }
}
