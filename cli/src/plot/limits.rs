//! Axis limits: robust to outliers, with a margin, optionally equal aspect.

use super::Point;
use std::ops::Range;

/// Fraction of values ignored at each end when choosing limits.
const TAIL: f64 = 0.005;
/// The kept span is widened by this fraction (half on each side).
const WIDEN: f64 = 0.10;

/// The points whose two coordinates are finite.
pub(super) fn finite(points: &[Point]) -> impl Iterator<Item = Point> + Clone + '_ {
    points
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
}

/// The `q`-quantile of sorted values, interpolating linearly between ranks.
/// `sorted` must not be empty.
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Sorted copy of the finite values.
pub(super) fn sorted_finite(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// `lo..hi` widened by `fraction` of its span, never empty.
pub(super) fn widen(lo: f64, hi: f64, fraction: f64) -> Range<f64> {
    let span = hi - lo;
    if span > 1e-12 * (lo.abs() + hi.abs()).max(1e-300) {
        (lo - fraction / 2.0 * span)..(hi + fraction / 2.0 * span)
    } else {
        // A single value (or all equal): centre a unit-ish window on it.
        let half = (0.5 * lo.abs()).max(1.0);
        (lo - half)..(hi + half)
    }
}

/// Limits covering the finite values except the extreme 0.5 % on each side,
/// plus a 10 % margin. `-1..1` when there are no finite values.
pub(super) fn robust_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let v = sorted_finite(values);
    if v.is_empty() {
        return -1.0..1.0;
    }
    widen(quantile(&v, TAIL), quantile(&v, 1.0 - TAIL), WIDEN)
}

/// Robust x and y limits of a point cloud.
pub(super) fn robust_limits(
    points: impl Iterator<Item = Point> + Clone,
) -> (Range<f64>, Range<f64>) {
    (
        robust_range(points.clone().map(|p| p[0])),
        robust_range(points.map(|p| p[1])),
    )
}

/// Widens one of the two ranges so that one unit is as long in x as in y on
/// a plotting area of `pixels` (width, height): circles then look round.
pub(super) fn equal_aspect(
    x: Range<f64>,
    y: Range<f64>,
    pixels: (u32, u32),
) -> (Range<f64>, Range<f64>) {
    let (w, h) = (pixels.0.max(1) as f64, pixels.1.max(1) as f64);
    let per_pixel = ((x.end - x.start) / w).max((y.end - y.start) / h);
    let around = |r: Range<f64>, px: f64| {
        let (mid, half) = ((r.start + r.end) / 2.0, per_pixel * px / 2.0);
        (mid - half)..(mid + half)
    };
    (around(x, w), around(y, h))
}

/// Whether `p` lies inside the view `x` × `y` (edges included).
pub(super) fn inside(p: Point, x: &Range<f64>, y: &Range<f64>) -> bool {
    x.start <= p[0] && p[0] <= x.end && y.start <= p[1] && p[1] <= y.end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_do_not_set_the_limits() {
        let mut v: Vec<f64> = (0..1000).map(|i| i as f64 / 999.0).collect();
        v.push(1e6);
        let r = robust_range(v.into_iter());
        assert!(r.start < 0.0 && r.end > 1.0 && r.end < 2.0, "{r:?}");
    }

    #[test]
    fn degenerate_inputs_give_a_usable_range() {
        assert_eq!(robust_range(std::iter::empty()), -1.0..1.0);
        let r = robust_range([3.0, 3.0, f64::NAN].into_iter());
        assert!(r.start < 3.0 && r.end > 3.0);
    }

    #[test]
    fn equal_aspect_keeps_the_data_and_matches_pixels() {
        let (x, y) = equal_aspect(0.0..2.0, 0.0..1.0, (100, 100));
        assert_eq!(x, 0.0..2.0);
        assert_eq!(y, -0.5..1.5);
    }
}
