//! Clipping polylines to the view.
//!
//! plotters draws a line wherever its pixels land, even over the axes and
//! labels, so lines that leave the view are cut at its edge here first.

use super::Point;
use std::ops::Range;

/// A polyline cut where two consecutive points are more than `factor`
/// times the median step apart. A grid line pulled back through f⁻¹ is
/// sampled at even steps in the latent plane; where it crosses a region of
/// almost no density, f⁻¹ throws consecutive samples far apart, and a
/// straight chord between them would draw structure the map does not have.
pub(super) fn break_at_jumps(line: &[Point], factor: f64) -> Vec<Vec<Point>> {
    let step = |a: &Point, b: &Point| ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    let mut steps: Vec<f64> = line.windows(2).map(|w| step(&w[0], &w[1])).collect();
    steps.retain(|s| s.is_finite());
    steps.sort_by(f64::total_cmp);
    let Some(&median) = steps.get(steps.len() / 2) else {
        return vec![line.to_vec()];
    };
    let mut parts = vec![Vec::new()];
    for (i, p) in line.iter().enumerate() {
        let jump = i > 0 && {
            let d = step(&line[i - 1], p);
            d.is_nan() || d > factor * median
        };
        if jump {
            parts.push(Vec::new());
        }
        parts.last_mut().expect("never empty").push(*p);
    }
    parts.retain(|part| part.len() >= 2);
    parts
}

/// The parts of `line` inside `x` × `y`, as separate polylines. Non-finite
/// vertices break the line.
pub(super) fn clip_polyline(line: &[Point], x: &Range<f64>, y: &Range<f64>) -> Vec<Vec<Point>> {
    let mut parts: Vec<Vec<Point>> = Vec::new();
    let mut current: Vec<Point> = Vec::new();
    for pair in line.windows(2) {
        let piece = clip_segment(pair[0], pair[1], x, y);
        match piece {
            // Continue the current part if this piece starts where it ends.
            Some((a, b)) if current.last() == Some(&a) => current.push(b),
            Some((a, b)) => {
                if current.len() >= 2 {
                    parts.push(std::mem::take(&mut current));
                }
                current = vec![a, b];
            }
            None => {
                if current.len() >= 2 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        parts.push(current);
    }
    parts
}

/// Liang–Barsky: the part of segment `a`–`b` inside the box, if any.
fn clip_segment(a: Point, b: Point, x: &Range<f64>, y: &Range<f64>) -> Option<(Point, Point)> {
    if !(a.iter().chain(&b).all(|v| v.is_finite())) {
        return None;
    }
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    // Each pair: (−direction, distance to the edge) for the four edges.
    for (p, q) in [
        (-dx, a[0] - x.start),
        (dx, x.end - a[0]),
        (-dy, a[1] - y.start),
        (dy, y.end - a[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None; // parallel to this edge and outside it
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a // keep the exact vertex so consecutive pieces join up
        } else if t == 1.0 {
            b
        } else {
            [a[0] + t * dx, a[1] + t * dy]
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    /// A jump of 50 median steps splits the line there and only there; an
    /// even line stays whole; a lone point after a jump is dropped (a line
    /// needs two points).
    #[test]
    fn lines_break_at_jumps_only() {
        let even: Vec<Point> = (0..10).map(|i| [i as f64, 0.0]).collect();
        assert_eq!(break_at_jumps(&even, 8.0), vec![even.clone()]);
        let mut jumped = even.clone();
        for p in &mut jumped[5..] {
            p[0] += 50.0;
        }
        let parts = break_at_jumps(&jumped, 8.0);
        assert_eq!(parts, vec![jumped[..5].to_vec(), jumped[5..].to_vec()]);
        let mut lone = even.clone();
        lone[9][0] += 100.0;
        assert_eq!(break_at_jumps(&lone, 8.0), vec![even[..9].to_vec()]);
    }

    use super::*;

    #[test]
    fn a_line_leaving_and_reentering_the_box_splits_in_two() {
        let line = [[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [2.0, 0.5], [0.5, 0.5]];
        let parts = clip_polyline(&line, &(-1.0..1.0), &(-1.0..1.0));
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], vec![[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]]);
        assert_eq!(parts[1], vec![[1.0, 0.5], [0.5, 0.5]]);
    }

    #[test]
    fn nan_vertices_break_the_line() {
        let line = [
            [0.0, 0.0],
            [0.1, 0.0],
            [f64::NAN, 0.0],
            [0.2, 0.0],
            [0.3, 0.0],
        ];
        assert_eq!(clip_polyline(&line, &(-1.0..1.0), &(-1.0..1.0)).len(), 2);
    }
}
