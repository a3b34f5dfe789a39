//! Two interleaved spirals, each the other turned by half a turn: FFJORD's
//! "2spirals".

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::Rng;

use super::numeric::std_normal;

/// The spirals wind through 540°, one and a half turns.
const MAX_ANGLE: f64 = 540.0 * (2.0 * PI) / 360.0;
const NOISE: f64 = 0.1;

/// `n` points on two spirals, as FFJORD's `lib/toy_data.py` ("2spirals").
///
/// With u, a, b ~ U(0, 1), a point d of the first arm is
///
/// θ = √u · 3π,  d = (−θ cos θ + 0.5 a,  θ sin θ + 0.5 b),
///
/// an Archimedean spiral (radius θ at angle π − θ) with a little uniform
/// jitter; the √u puts more points on the longer outer turns. The second
/// arm is −d, the first turned by π. Both arms are divided by 3 and every
/// coordinate gets N(0, 0.1²) noise.
///
/// Note that, as in FFJORD, the second arm is made of the same draws as the
/// first, negated: point pairs (d, −d) come out together, up to the noise.
/// For odd n the first arm gets the extra point. FFJORD returns the first
/// arm and then the second; the rows are shuffled here so that any slice of
/// the result is a fair sample.
pub fn two_spirals<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    let first_arm: Vec<[f64; 2]> = (0..n - n / 2)
        .map(|_| {
            let theta = rng.random::<f64>().sqrt() * MAX_ANGLE;
            let x = -theta.cos() * theta + rng.random::<f64>() * 0.5;
            let y = theta.sin() * theta + rng.random::<f64>() * 0.5;
            [x, y]
        })
        .collect();
    let second_arm: Vec<[f64; 2]> = first_arm
        .iter()
        .take(n / 2)
        .map(|d| [-d[0], -d[1]])
        .collect();
    let mut points: Vec<[f64; 2]> = first_arm.into_iter().chain(second_arm).collect();
    points.shuffle(rng);
    for p in &mut points {
        p[0] = p[0] / 3.0 + NOISE * std_normal(rng);
        p[1] = p[1] / 3.0 + NOISE * std_normal(rng);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn points_stay_within_the_outer_turn() {
        // Before noise, |d| ≤ 3π + 0.5·√2 and so |x| ≤ π + 0.24 after the
        // division by 3; the noise adds at most 0.1 · 6 = 0.6 (6σ per
        // coordinate, far beyond any draw in 10000).
        let mut rng = StdRng::seed_from_u64(71);
        let bound = PI + 0.5 * 2f64.sqrt() / 3.0 + 0.6 * 2f64.sqrt();
        for p in two_spirals(10_000, &mut rng) {
            assert!(p[0].hypot(p[1]) < bound, "{p:?}");
        }
    }

    #[test]
    fn arms_are_point_symmetric() {
        // The second arm is the first turned by π, so the data set as a whole
        // is symmetric about the origin: for even n its mean is 0 up to the
        // Gaussian noise, whose mean has sd 0.1/√n per coordinate.
        let n = 10_000;
        let mut rng = StdRng::seed_from_u64(72);
        let pts = two_spirals(n, &mut rng);
        for axis in 0..2 {
            let mean = pts.iter().map(|p| p[axis]).sum::<f64>() / n as f64;
            assert!(
                mean.abs() < 5.0 * NOISE / (n as f64).sqrt(),
                "axis {axis}: {mean}"
            );
        }
    }
}
