//! Eight Gaussian blobs on a circle: FFJORD's "8gaussians".

use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::sync::OnceLock;

use rand::Rng;

use super::numeric::{grid_integral, std_normal};

/// FFJORD divides by this literal, not by √2; kept so the data match.
const DIVISOR: f64 = 1.414;
const SCALE: f64 = 4.0;
const BLOB_STD: f64 = 0.5;

/// The unit directions of the eight centres, in FFJORD's order.
const DIRECTIONS: [[f64; 2]; 8] = [
    [1.0, 0.0],
    [-1.0, 0.0],
    [0.0, 1.0],
    [0.0, -1.0],
    [FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
];

/// `n` points from eight Gaussian blobs, as FFJORD's `lib/toy_data.py`
/// ("8gaussians").
///
/// With the eight centres cₖ = 4 · (cos kπ/4, sin kπ/4), taken in FFJORD's
/// order (see `DIRECTIONS`), each point is
///
/// x = (cₖ + 0.5 z) / 1.414,  k ~ U{0..7}, z ~ N(0, I),
///
/// so the density is the equal mixture of N(cₖ / 1.414, σ² I) with
/// σ = 0.5 / 1.414 ≈ 0.354, on a circle of radius 4/1.414 ≈ 2.83.
pub fn eight_gaussians<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    (0..n)
        .map(|_| {
            // FFJORD draws the noise before the centre; the order only matters
            // for reproducing its exact numbers, which a different generator
            // cannot do anyway.
            let z = [std_normal(rng), std_normal(rng)];
            let c = DIRECTIONS[rng.random_range(0..DIRECTIONS.len())];
            [
                (SCALE * c[0] + BLOB_STD * z[0]) / DIVISOR,
                (SCALE * c[1] + BLOB_STD * z[1]) / DIVISOR,
            ]
        })
        .collect()
}

/// The standard deviation σ = 0.5 / 1.414 of each blob.
fn sigma() -> f64 {
    BLOB_STD / DIVISOR
}

/// The density of [`eight_gaussians`]:
/// p(x) = ⅛ Σₖ N(x; cₖ / 1.414, σ² I).
pub fn eight_gaussians_density(x: [f64; 2]) -> f64 {
    let two_var = 2.0 * sigma() * sigma();
    let sum: f64 = DIRECTIONS
        .iter()
        .map(|c| {
            let dx = x[0] - SCALE * c[0] / DIVISOR;
            let dy = x[1] - SCALE * c[1] / DIVISOR;
            (-(dx * dx + dy * dy) / two_var).exp()
        })
        .sum();
    sum / (DIRECTIONS.len() as f64 * PI * two_var)
}

/// Differential entropy h = −∫ p ln p of [`eight_gaussians_density`], in nats.
///
/// Computed once (then cached) by the midpoint rule on a grid of spacing σ/10
/// over the square that holds every blob to 8σ. It lies a little below
/// ln 8 + ln(2πe σ²), the entropy of blobs that did not overlap: neighbouring centres are only
/// 2.17 apart, 6.1σ, and their tails overlap enough to cost 0.0063 nats:
/// h ≈ 2.8319 against 2.8382 for disjoint blobs.
pub fn eight_gaussians_entropy() -> f64 {
    static ENTROPY: OnceLock<f64> = OnceLock::new();
    *ENTROPY.get_or_init(|| {
        let half_width = SCALE / DIVISOR + 8.0 * sigma();
        grid_integral(
            [-half_width; 2],
            [half_width; 2],
            sigma() / 10.0,
            eight_gaussians_density,
        )
        .entropy
    })
}

#[cfg(test)]
mod tests {
    use super::super::numeric::monte_carlo_entropy;
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// The entropy the mixture would have if its blobs did not overlap at all:
    /// ln 8 + ln(2πe σ²). It is an upper bound on the true entropy.
    fn eight_gaussians_entropy_if_disjoint() -> f64 {
        (DIRECTIONS.len() as f64).ln() + (2.0 * PI * std::f64::consts::E * sigma() * sigma()).ln()
    }

    #[test]
    fn every_blob_gets_its_share() {
        // Each blob gets Binomial(n, 1/8) points: sd √(n · 1/8 · 7/8) ≈ 33 for
        // n = 10000; five of those is a safe bound.
        let n = 10_000;
        let mut rng = StdRng::seed_from_u64(11);
        let mut counts = [0usize; 8];
        for p in eight_gaussians(n, &mut rng) {
            let nearest = (0..8)
                .min_by(|&a, &b| {
                    let dist = |k: usize| {
                        let c = DIRECTIONS[k];
                        (p[0] - SCALE * c[0] / DIVISOR).powi(2)
                            + (p[1] - SCALE * c[1] / DIVISOR).powi(2)
                    };
                    dist(a).total_cmp(&dist(b))
                })
                .unwrap();
            counts[nearest] += 1;
        }
        let sd = (n as f64 / 8.0 * 7.0 / 8.0).sqrt();
        for c in counts {
            assert!((c as f64 - n as f64 / 8.0).abs() < 5.0 * sd, "{counts:?}");
        }
    }

    #[test]
    fn entropy_is_just_below_the_disjoint_bound() {
        let h = eight_gaussians_entropy();
        let disjoint = eight_gaussians_entropy_if_disjoint();
        // Overlap can only lower the entropy below the disjoint value
        // (h(X) ≤ h(X | blade) + H(blade) = ln(2πe σ²) + ln 8). Neighbours
        // 6.1σ apart overlap enough for a gap of about 6·10⁻³ nats, far more
        // than grid error (see the convergence and Monte Carlo tests), so the
        // gap must be real but small.
        assert!(h < disjoint, "h {h} ≥ bound {disjoint}");
        assert!(disjoint - h < 0.01, "h {h}, bound {disjoint}");
    }

    #[test]
    fn entropy_grid_is_converged() {
        // Halving the grid step must change nothing that matters.
        let half_width = SCALE / DIVISOR + 8.0 * sigma();
        let fine = grid_integral(
            [-half_width; 2],
            [half_width; 2],
            sigma() / 20.0,
            eight_gaussians_density,
        );
        assert!((fine.mass - 1.0).abs() < 1e-9, "mass {}", fine.mass);
        assert!((fine.entropy - eight_gaussians_entropy()).abs() < 1e-9);
    }

    #[test]
    fn entropy_agrees_with_monte_carlo() {
        // As for the moons: a Monte Carlo mean of 20000 terms is normal around
        // the true entropy with standard error sd(ln p)/√n, so an honest grid
        // integral lies within 3 standard errors but for a 0.3 % chance.
        let mut rng = StdRng::seed_from_u64(12);
        let samples = eight_gaussians(20_000, &mut rng);
        let (h_mc, se) = monte_carlo_entropy(&samples, |x| eight_gaussians_density(x).ln());
        let h = eight_gaussians_entropy();
        assert!(
            (h - h_mc).abs() < 3.0 * se,
            "grid {h}, Monte Carlo {h_mc} ± {se}"
        );
    }
}
