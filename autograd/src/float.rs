//! The one numeric trait the engine is generic over.
//!
//! Training runs in `f32` (twice the numbers per cache line and per SIMD lane);
//! gradient and Jacobian checks run in `f64`, where central differences are accurate
//! to ~1e-10 and so can catch a wrong derivative. Everything else in the crate is
//! written once against [`Float`].

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real number type the engine computes in: `f32` or `f64`.
pub trait Float:
    Copy
    + Debug
    + Display
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    const ZERO: Self;
    const ONE: Self;
    /// `"f32"` or `"f64"`, for messages and checkpoints.
    const NAME: &'static str;

    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }

    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn tanh(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn powi(self, n: i32) -> Self;
    fn signum(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    fn is_finite(self) -> bool;

    /// `C ← α·A·B + β·C` for an `m×k` matrix A and a `k×n` matrix B, each given by
    /// a pointer and its row and column strides (in elements).
    ///
    /// Strides are what make transposes free: Aᵀ is A with its two strides swapped,
    /// so the backward pass of matmul never copies a matrix. β = 1 accumulates
    /// straight into an existing gradient buffer.
    ///
    /// # Safety
    /// The pointers and strides must describe valid, non-overlapping (for C) memory
    /// of the stated shapes, exactly as `matrixmultiply::sgemm` requires.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );

    /// The hand-written register-tile kernel for this precision on this CPU
    /// (`ops/kernel.rs`), if there is one.
    #[doc(hidden)]
    fn microkernel() -> Option<&'static crate::ops::kernel::Microkernel<Self>>;
}

macro_rules! impl_float {
    ($t:ty, $gemm:path, $tanh:path, $micro:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAME: &'static str = stringify!($t);

            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline]
            fn signum(self) -> Self {
                if self == 0.0 {
                    0.0
                } else {
                    <$t>::signum(self)
                }
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded verbatim; the caller upholds gemm's contract.
                unsafe { $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
            #[inline]
            fn microkernel() -> Option<&'static crate::ops::kernel::Microkernel<Self>> {
                $micro()
            }
        }
    };
}

impl_float!(
    f32,
    matrixmultiply::sgemm,
    tanh_f32_rational,
    crate::ops::kernel::f32_microkernel
);
impl_float!(
    f64,
    matrixmultiply::dgemm,
    f64::tanh,
    crate::ops::kernel::f64_microkernel
);

/// tanh for f32 training, an order of magnitude faster than the C library's
/// `tanhf`: the odd rational approximation
/// tanh x ≈ x·P(x²)/Q(x²) on |x| ≤ 7.9 (beyond which tanh rounds to ±1 in f32)
/// that Eigen uses. It has no branches and no library call, so the compiler
/// vectorizes the loops around it. Its relative error is below 5e−7 (a few f32
/// ulps; checked in the tests below). Tanh is the hidden activation and the
/// scale clamp of the flows, so it is a large share of a training step.
/// f64, used to check derivatives, keeps the exact library function.
#[inline]
fn tanh_f32_rational(x: f32) -> f32 {
    let x = x.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let p = -2.760_768_5e-16f32;
    let p = p * x2 + 2.000_188e-13;
    let p = p * x2 - 8.604_672e-11;
    let p = p * x2 + 5.122_297e-8;
    let p = p * x2 + 1.485_722_4e-5;
    let p = p * x2 + 6.372_619_3e-4;
    let p = p * x2 + 4.893_524_6e-3;
    let q = 1.198_258_4e-6f32;
    let q = q * x2 + 1.185_347e-4;
    let q = q * x2 + 2.268_434_6e-3;
    let q = q * x2 + 4.893_525e-3;
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rational_tanh_is_accurate_to_a_few_f32_ulps() {
        let mut worst = 0.0f64;
        for i in -2_000_000..=2_000_000 {
            let x = i as f32 * 1e-5; // covers ±20 finely, and tiny |x|
            let exact = (x as f64).tanh();
            let got = tanh_f32_rational(x) as f64;
            if exact != 0.0 {
                worst = worst.max(((got - exact) / exact).abs());
            }
        }
        assert!(worst < 5e-7, "relative error {worst:e}");
        assert_eq!(tanh_f32_rational(0.0), 0.0);
        assert_eq!(tanh_f32_rational(100.0), 1.0);
        assert!(tanh_f32_rational(f32::NAN).is_nan());
    }
}
