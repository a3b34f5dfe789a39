//! Five curved blades of a pinwheel: FFJORD's "pinwheel".

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::Rng;

use super::numeric::{linspace, std_normal};

const RADIAL_STD: f64 = 0.3;
const TANGENTIAL_STD: f64 = 0.1;
const NUM_CLASSES: usize = 5;
/// How fast a blade bends: extra angle per unit of e^(radius).
const RATE: f64 = 0.25;

/// `n` points on the five blades of a pinwheel, as FFJORD's
/// `lib/toy_data.py` ("pinwheel").
///
/// Blade k ∈ {0..4} starts at angle θₖ = 2πk/5. A point of blade k is
///
/// - f = (1 + 0.3 z₁, 0.1 z₂), z ~ N(0, I): a blob on the x-axis, long along
///   the radius and thin across it;
/// - φ = θₖ + 0.25 · exp(f₁): the farther out, the more it turns, which
///   bends the blade;
/// - x = 2 · fᵀ R(φ) with R(φ) = [[cos φ, −sin φ], [sin φ, cos φ]], i.e.
///   x = 2 · (f₁ cos φ + f₂ sin φ, −f₁ sin φ + f₂ cos φ).
///
/// The last step is FFJORD's `einsum("ti,tij->tj", features, rotations)`:
/// the row vector f times R(φ), which is f turned by −φ (clockwise), not
/// R(φ) f. We keep that to draw the same pinwheel; it is the mirror image
/// of the counter-clockwise one.
///
/// FFJORD makes ⌊n/5⌋ points per blade and so drops up to four points; here
/// point i goes to blade i mod 5, so all n points come back and the blades
/// differ in size by at most one. The rows are shuffled, as in FFJORD.
pub fn pinwheel<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    let blade_angles = linspace(0.0, 2.0 * PI, NUM_CLASSES, false);
    let mut points: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let f = [
                1.0 + RADIAL_STD * std_normal(rng),
                TANGENTIAL_STD * std_normal(rng),
            ];
            let phi = blade_angles[i % NUM_CLASSES] + RATE * f[0].exp();
            let (sin, cos) = phi.sin_cos();
            [
                2.0 * (f[0] * cos + f[1] * sin),
                2.0 * (-f[0] * sin + f[1] * cos),
            ]
        })
        .collect();
    points.shuffle(rng);
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn blades_turn_clockwise() {
        // At radius r = 2 f₁ a blade has turned by δ = 0.25 e^(r/2) beyond its
        // start, clockwise: its points sit at angle −(θₖ + δ). At r = 2.65,
        // δ ≈ 0.94 = 3π/10, where the clockwise blades and their mirror images
        // (at +(θₖ + δ)) are farthest apart, π/5 in angle. So the spot at
        // angle −δ must be crowded and the spot at +δ, 1.7 away from any
        // clockwise blade, nearly empty.
        let mut rng = StdRng::seed_from_u64(61);
        let pts = pinwheel(10_000, &mut rng);
        let radius = 2.65;
        let delta = RATE * (radius / 2.0_f64).exp();
        let near = |angle: f64| {
            let centre = [radius * angle.cos(), radius * angle.sin()];
            pts.iter()
                .filter(|p| (p[0] - centre[0]).hypot(p[1] - centre[1]) < 0.3)
                .count()
        };
        let (clockwise, mirrored) = (near(-delta), near(delta));
        assert!(
            clockwise > 100 && mirrored * 20 < clockwise,
            "clockwise spot {clockwise}, mirrored spot {mirrored}"
        );
    }
}
