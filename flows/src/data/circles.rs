//! Two concentric noisy circles: FFJORD's "circles", which is scikit-learn's
//! `make_circles` scaled by 3.

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::Rng;

use super::numeric::{linspace, std_normal};

/// Radius of the inner circle relative to the outer one (`factor`).
const FACTOR: f64 = 0.5;
/// Standard deviation of the noise, before the scaling by 3.
const NOISE: f64 = 0.08;
const SCALE: f64 = 3.0;

/// `n` points on two concentric circles, as FFJORD's `lib/toy_data.py`
/// ("circles"): scikit-learn's `make_circles(n, factor=0.5, noise=0.08)`,
/// times 3.
///
/// With n_out = ⌊n/2⌋ and n_in = n − n_out:
///
/// - outer: (cos t, sin t) for t = linspace(0, 2π, n_out, endpoint=False),
/// - inner: 0.5 · (cos t, sin t) for t = linspace(0, 2π, n_in, endpoint=False),
///
/// then the rows are shuffled, every coordinate gets N(0, 0.08²) noise, and
/// all is multiplied by 3: radii 3 and 1.5, noise sd 0.24.
///
/// As in [`super::moons()`], the angles are an even grid; only the noise and
/// the order are random.
pub fn circles<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    let n_out = n / 2;
    let n_in = n - n_out;
    let ring = |count: usize, radius: f64| {
        linspace(0.0, 2.0 * PI, count, false)
            .into_iter()
            .map(move |t| [radius * t.cos(), radius * t.sin()])
    };
    let mut points: Vec<[f64; 2]> = ring(n_out, 1.0).chain(ring(n_in, FACTOR)).collect();
    points.shuffle(rng);
    for p in &mut points {
        p[0] = SCALE * (p[0] + NOISE * std_normal(rng));
        p[1] = SCALE * (p[1] + NOISE * std_normal(rng));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn radii_split_evenly_between_the_circles() {
        // Noise sd 0.24 against a gap of 1.5 between the radii: a point is
        // assigned to the wrong circle only beyond 3σ, so a radius threshold
        // of 2.25 recovers the split almost exactly.
        let n = 10_001;
        let mut rng = StdRng::seed_from_u64(41);
        let outer = circles(n, &mut rng)
            .iter()
            .filter(|p| p[0].hypot(p[1]) > 2.25)
            .count();
        let expected = n / 2;
        assert!(outer.abs_diff(expected) < n / 100, "{outer} outer of {n}");
    }
}
