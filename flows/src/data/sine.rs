//! Points along one and a bit periods of a sine curve.

use std::f64::consts::{E, PI};

use rand::Rng;

use super::numeric::std_normal;

/// Half-width of the interval of x₂.
const HALF_RANGE: f64 = 3.0;
/// Standard deviation of x₁ around sin x₂.
const NOISE: f64 = 0.1;

/// `n` points around the curve x₁ = sin x₂:
///
/// x₂ ~ U(−3, 3),  x₁ = sin x₂ + 0.1 z,  z ~ N(0, 1),
///
/// and the point is (x₁, x₂). Its density, p(x) = (1/6) N(x₁; sin x₂, 0.1²)
/// on −3 ≤ x₂ < 3, has a closed-form entropy; see [`sine_entropy`].
pub fn sine<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    (0..n)
        .map(|_| {
            let x2 = rng.random_range(-HALF_RANGE..HALF_RANGE);
            let x1 = x2.sin() + NOISE * std_normal(rng);
            [x1, x2]
        })
        .collect()
}

/// The density of [`sine`]: p(x) = (1/6) N(x₁; sin x₂, 0.1²) for
/// −3 ≤ x₂ < 3, and 0 elsewhere.
pub fn sine_density(x: [f64; 2]) -> f64 {
    if !(-HALF_RANGE..HALF_RANGE).contains(&x[1]) {
        return 0.0;
    }
    let r = (x[0] - x[1].sin()) / NOISE;
    (-0.5 * r * r).exp() / (2.0 * HALF_RANGE * NOISE * (2.0 * PI).sqrt())
}

/// Differential entropy of [`sine`], in nats, by the chain rule
/// h(x₁, x₂) = h(x₂) + h(x₁ | x₂):
///
/// h = ln 6 + ½ ln(2πe · 0.1²) ≈ 0.908.
///
/// The uniform x₂ gives ln 6; given x₂, x₁ is a Gaussian whose entropy does
/// not depend on where its mean sin x₂ sits.
pub fn sine_entropy() -> f64 {
    (2.0 * HALF_RANGE).ln() + 0.5 * (2.0 * PI * E * NOISE * NOISE).ln()
}

#[cfg(test)]
mod tests {
    use super::super::numeric::{mean_and_std, monte_carlo_entropy};
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn residual_has_std_point_one() {
        // The sample sd of n normal draws has standard error ≈ σ/√(2n),
        // 0.0005 for n = 20000; allow five of those. The mean residual has
        // standard error σ/√n ≈ 0.0007.
        let n = 20_000;
        let mut rng = StdRng::seed_from_u64(31);
        let pts = sine(n, &mut rng);
        let (mean, sd) = mean_and_std(pts.iter().map(|p| p[0] - p[1].sin()));
        let se_sd = NOISE / (2.0 * n as f64).sqrt();
        assert!((sd - NOISE).abs() < 5.0 * se_sd, "sd {sd}");
        assert!(mean.abs() < 5.0 * NOISE / (n as f64).sqrt(), "mean {mean}");
        assert!(pts.iter().all(|p| (-3.0..3.0).contains(&p[1])));
    }

    #[test]
    fn entropy_agrees_with_monte_carlo() {
        // −mean ln p over 20000 samples is normal around h with standard error
        // sd(ln p)/√n: outside 3 of those only with probability 0.3 %.
        let ln_p = |x: [f64; 2]| sine_density(x).ln();
        let mut rng = StdRng::seed_from_u64(32);
        let (h_mc, se) = monte_carlo_entropy(&sine(20_000, &mut rng), ln_p);
        let h = sine_entropy();
        assert!(
            (h - h_mc).abs() < 3.0 * se,
            "closed form {h}, Monte Carlo {h_mc} ± {se}"
        );
        assert!((h - 0.908_1).abs() < 1e-3, "{h}");
    }
}
