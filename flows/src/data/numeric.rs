//! Small numerical tools shared by the data sets: NumPy's `linspace`, a
//! standard-normal draw, and the grid integral behind the entropies.

use rand::Rng;
use rand_distr::StandardNormal;

/// `num` evenly spaced values from `start` towards `stop`, as NumPy's
/// `linspace(start, stop, num, endpoint)`.
///
/// With `endpoint` the values are `start + (stop - start) · i / (num - 1)`, so
/// the last one is `stop`; without it they are `start + (stop - start) · i / num`,
/// which stops one step short (used for full circles, so that angle 0 and
/// angle 2π do not put two points on the same spot).
pub(super) fn linspace(start: f64, stop: f64, num: usize, endpoint: bool) -> Vec<f64> {
    let divisions = if endpoint { num.saturating_sub(1) } else { num };
    if divisions == 0 {
        // NumPy gives `[start]` for a single point, and nothing for none.
        return vec![start; num];
    }
    (0..num)
        .map(|i| start + (stop - start) * i as f64 / divisions as f64)
        .collect()
}

/// One draw z ~ N(0, 1).
pub(super) fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(StandardNormal)
}

/// The result of integrating a 2-D density over a grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct GridIntegral {
    /// h = −∫ p ln p, in nats.
    pub entropy: f64,
    /// ∫ p, which is 1 when the box holds (nearly) all of the density; a
    /// cheap check that the box is wide enough and the grid fine enough.
    pub mass: f64,
}

/// −∫ p ln p and ∫ p over the box `[lo[0], hi[0]] × [lo[1], hi[1]]` by the
/// midpoint rule with square cells of side at most `step`.
///
/// For a smooth density that has decayed to nothing at the edges of the box,
/// the midpoint rule converges much faster than its textbook O(step²): its
/// error terms are boundary terms, and those vanish. A step of a fraction of
/// the narrowest feature of the density is therefore plenty.
pub(super) fn grid_integral(
    lo: [f64; 2],
    hi: [f64; 2],
    step: f64,
    density: impl Fn([f64; 2]) -> f64,
) -> GridIntegral {
    let cells = |axis: usize| ((hi[axis] - lo[axis]) / step).ceil().max(1.0) as usize;
    let (nx, ny) = (cells(0), cells(1));
    let (hx, hy) = ((hi[0] - lo[0]) / nx as f64, (hi[1] - lo[1]) / ny as f64);
    let (mut entropy, mut mass) = (0.0, 0.0);
    for i in 0..nx {
        let x = lo[0] + (i as f64 + 0.5) * hx;
        for j in 0..ny {
            let p = density([x, lo[1] + (j as f64 + 0.5) * hy]);
            // p ln p → 0 as p → 0; an underflowed p must not give 0 · (−∞) = NaN.
            if p > 0.0 {
                entropy -= p * p.ln();
                mass += p;
            }
        }
    }
    GridIntegral {
        entropy: entropy * hx * hy,
        mass: mass * hx * hy,
    }
}

/// Monte Carlo estimate of h = E[−ln p(X)] from samples X of p, with its
/// standard error sd(ln p) / √n, as `(estimate, standard_error)`.
#[cfg(test)]
pub(super) fn monte_carlo_entropy(
    samples: &[[f64; 2]],
    ln_density: impl Fn([f64; 2]) -> f64,
) -> (f64, f64) {
    let n = samples.len() as f64;
    let values: Vec<f64> = samples.iter().map(|&x| -ln_density(x)).collect();
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Mean and sample standard deviation of a list of numbers.
#[cfg(test)]
pub(super) fn mean_and_std(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let values: Vec<f64> = values.into_iter().collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        assert_eq!(linspace(0.0, 1.0, 5, true), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(0.0, 1.0, 4, false), vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(linspace(2.0, 3.0, 1, true), vec![2.0]);
        assert_eq!(linspace(2.0, 3.0, 1, false), vec![2.0]);
        assert!(linspace(2.0, 3.0, 0, true).is_empty());
    }

    #[test]
    fn grid_integral_of_a_gaussian_is_exact() {
        // N(0, s² I) has h = ln(2πe s²).
        let s: f64 = 0.3;
        let gauss = |x: [f64; 2]| {
            (-(x[0] * x[0] + x[1] * x[1]) / (2.0 * s * s)).exp()
                / (2.0 * std::f64::consts::PI * s * s)
        };
        let r = grid_integral([-8.0 * s; 2], [8.0 * s; 2], s / 5.0, gauss);
        let exact = (2.0 * std::f64::consts::PI * std::f64::consts::E * s * s).ln();
        assert!((r.mass - 1.0).abs() < 1e-9, "mass {}", r.mass);
        assert!((r.entropy - exact).abs() < 1e-9, "{} vs {exact}", r.entropy);
    }
}
