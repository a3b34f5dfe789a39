//! Four concentric noisy rings: FFJORD's "rings".

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::Rng;

use super::numeric::{linspace, std_normal};

/// Radii of the rings before the scaling by 3, outermost first.
const RADII: [f64; 4] = [1.0, 0.75, 0.5, 0.25];
const SCALE: f64 = 3.0;
/// Standard deviation of the noise, added after the scaling.
const NOISE: f64 = 0.08;

/// `n` points on four concentric rings, as FFJORD's `lib/toy_data.py`
/// ("rings").
///
/// The three outer rings get ⌊n/4⌋ points each and the innermost the rest.
/// A ring of radius r with k points holds r · (cos t, sin t) for
/// t = linspace(0, 2π, k, endpoint=False); the radii are 1, 0.75, 0.5 and
/// 0.25. All points are multiplied by 3, shuffled, and given N(0, 0.08²)
/// noise in each coordinate.
///
/// The rings get equal numbers of points rather than numbers in proportion
/// to their length, so the inner rings are denser.
pub fn rings<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    let per_outer_ring = n / 4;
    let innermost = n - 3 * per_outer_ring;
    let mut points: Vec<[f64; 2]> = RADII
        .iter()
        .zip([per_outer_ring, per_outer_ring, per_outer_ring, innermost])
        .flat_map(|(&radius, count)| {
            linspace(0.0, 2.0 * PI, count, false)
                .into_iter()
                .map(move |t| [SCALE * radius * t.cos(), SCALE * radius * t.sin()])
        })
        .collect();
    points.shuffle(rng);
    for p in &mut points {
        p[0] += NOISE * std_normal(rng);
        p[1] += NOISE * std_normal(rng);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn rings_get_their_share() {
        // The scaled radii are 0.75 apart and the noise sd is 0.08, so cutting
        // halfway between them (4.7σ from each ring) assigns every point to
        // its own ring but for a chance of about 3·10⁻⁶ each (1 % for the
        // whole sample; the seed is fixed, so the test is repeatable).
        let n = 4_003;
        let mut rng = StdRng::seed_from_u64(51);
        let mut counts = [0usize; 4];
        for p in rings(n, &mut rng) {
            let r = p[0].hypot(p[1]) / SCALE;
            let ring = RADII
                .iter()
                .position(|&radius| (r - radius).abs() < 0.125)
                .expect("point between rings");
            counts[ring] += 1;
        }
        assert_eq!(counts, [1000, 1000, 1000, 1003]);
    }
}
