//! Clipping polylines to the view.
//!
//! plotters draws a line wherever its pixels land, even over the axes and
//! labels, so lines that leave the view are cut at its edge here first.

use super::Point;
use std::ops::Range;

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
