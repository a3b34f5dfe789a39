//! Figure 4: samples pulled back to data space, over the warped latent grid.

use super::canvas::{render, DrawResult, Figure};
use super::clip::{break_at_jumps, clip_polyline};
use super::legend::{key, Swatch};
use super::limits::{finite, robust_limits};
use super::scatter::{
    axes, count_note, draw_points, empty_note, heading, outside, split_heading, Aspect, Axes,
    AxisText,
};
use super::style::{faded, GUIDE, MODEL, SUBTITLE, TITLE};
use super::{Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A grid line is broken where one step is this many times its median step.
const JUMP: f64 = 8.0;

/// Draws model samples `x = f⁻¹(z)` (orange dots) over `grid_lines`: the
/// images under f⁻¹ of horizontal and vertical lines of the latent plane,
/// drawn thin and grey. Where the grid is squeezed the flow packs
/// probability mass together; where it is stretched it spreads it out.
///
/// Limits come from the samples (from the grid lines if there are none);
/// lines leaving the view are cut at its edge.
pub fn inverse_warp(
    path: &Path,
    format: Format,
    samples: &[Point],
    grid_lines: &[Vec<Point>],
) -> Result<(), PlotError> {
    render(
        path,
        format,
        &InverseWarp {
            samples,
            grid_lines,
        },
    )
}

struct InverseWarp<'a> {
    samples: &'a [Point],
    grid_lines: &'a [Vec<Point>],
}

impl Figure for InverseWarp<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 960)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, TITLE, true);
        let n = finite(self.samples).count();
        let (x, y) = if n > 0 {
            robust_limits(finite(self.samples))
        } else {
            robust_limits(self.grid_lines.iter().flat_map(|l| finite(l)))
        };
        let spec = Axes {
            x,
            y,
            x_name: "x₁",
            y_name: "x₂",
            aspect: Aspect::EqualByRange,
            grid: false,
            text: AxisText::Normal,
        };
        let mut chart = axes(&body, &spec)?;

        // The grid goes under the points, in a light grey that the orange
        // dots stand out against.
        let (vx, vy) = (chart.x_range(), chart.y_range());
        let line_style = faded(GUIDE, 0.55).stroke_width(1);
        for piece in self.grid_lines.iter().flat_map(|l| break_at_jumps(l, JUMP)) {
            for part in clip_polyline(&piece, &vx, &vy) {
                chart.draw_series(LineSeries::new(
                    part.into_iter().map(|p| (p[0], p[1])),
                    line_style,
                ))?;
            }
        }

        draw_points(&mut chart, finite(self.samples).map(|p| (p, MODEL)), n)?;
        if n == 0 {
            empty_note(&chart, "no samples")?;
        }
        let entries = [
            ("samples from the model, x = f⁻¹(z)", Swatch::Dot(MODEL)),
            ("the latent grid mapped through f⁻¹", Swatch::Line(GUIDE)),
        ];
        key(&chart, &entries, SUBTITLE, self.samples)?;

        let note = count_note(n, outside(&chart, self.samples));
        heading(&head, "Samples pulled back, x = f⁻¹(z)", TITLE, Some(&note))
    }
}
