//! A 4 × 4 checkerboard with uniform density on its eight black squares:
//! FFJORD's "checkerboard".

use rand::Rng;

/// `n` points uniform on the black squares of a checkerboard, as FFJORD's
/// `lib/toy_data.py` ("checkerboard").
///
/// With u, v ~ U(0, 1) and b ~ U{0, 1}:
///
/// - x₁ = 4u − 2, so x₁ ∈ [−2, 2) picks one of four columns ⌊x₁⌋;
/// - x₂ = v − 2b + (⌊x₁⌋ mod 2), which picks one of two rows of the column,
///   shifted up by one in odd columns (mod as in Python, result in {0, 1});
/// - the point is 2 · (x₁, x₂).
///
/// The result is uniform on the eight squares of side 2 in [−4, 4)² whose
/// lower-left corner (2i, 2j) has i + j even.
pub fn checkerboard<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<[f64; 2]> {
    (0..n)
        .map(|_| {
            let x1 = rng.random::<f64>() * 4.0 - 2.0;
            let row = rng.random_range(0..2) as f64;
            let x2 = rng.random::<f64>() - 2.0 * row + x1.floor().rem_euclid(2.0);
            [2.0 * x1, 2.0 * x2]
        })
        .collect()
}

/// The density of [`checkerboard`]: 1/32 on the eight black squares (side 2,
/// lower-left corner (2i, 2j) with i + j even, inside [−4, 4)²), 0 elsewhere.
pub fn checkerboard_density(x: [f64; 2]) -> f64 {
    let inside = x.iter().all(|v| (-4.0..4.0).contains(v));
    let (i, j) = ((x[0] / 2.0).floor() as i64, (x[1] / 2.0).floor() as i64);
    if inside && (i + j).rem_euclid(2) == 0 {
        1.0 / 32.0
    } else {
        0.0
    }
}

/// Differential entropy of [`checkerboard`]: uniform on 8 squares of area 4,
/// total area 32, so h = ln 32 nats.
pub fn checkerboard_entropy() -> f64 {
    32.0_f64.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// The square (i, j) ∈ {−2..1}² that holds p: its lower-left corner is (2i, 2j).
    fn square(p: [f64; 2]) -> (i64, i64) {
        ((p[0] / 2.0).floor() as i64, (p[1] / 2.0).floor() as i64)
    }

    #[test]
    fn points_lie_in_black_squares_only() {
        let mut rng = StdRng::seed_from_u64(21);
        for p in checkerboard(10_000, &mut rng) {
            assert!(
                p.iter().all(|c| (-4.0..4.0).contains(c)),
                "{p:?} off the board"
            );
            let (i, j) = square(p);
            assert_eq!((i + j).rem_euclid(2), 0, "{p:?} is on a white square");
        }
    }

    #[test]
    fn black_squares_are_equally_likely() {
        // Uniform density on 8 equal squares means each gets Binomial(n, 1/8)
        // points (and is what makes the entropy ln 32); 5 sd is a safe bound.
        let n = 16_000;
        let mut rng = StdRng::seed_from_u64(22);
        let mut counts = std::collections::HashMap::new();
        for p in checkerboard(n, &mut rng) {
            *counts.entry(square(p)).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 8, "{counts:?}");
        let sd = (n as f64 / 8.0 * 7.0 / 8.0).sqrt();
        for (&sq, &c) in &counts {
            assert!((c as f64 - n as f64 / 8.0).abs() < 5.0 * sd, "{sq:?}: {c}");
        }
    }

    #[test]
    fn entropy_is_ln_32() {
        assert!((checkerboard_entropy() - 3.465_735_902_799_726_5).abs() < 1e-15);
    }
}
