//! Figure 6: the data after each layer of the flow, one small panel per layer.

use super::canvas::{render, DrawResult, Figure};
use super::limits::{finite, robust_limits, robust_range};
use super::scatter::{axes, draw_points, empty_note, heading, split_heading, Aspect, Axes};
use super::style::{viridis, DATA, SUBTITLE, TITLE};
use super::{Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// At most this many panels side by side; more wrap onto further rows.
const COLUMNS: usize = 6;
/// Panel titles (layer names).
const PANEL_TITLE: f64 = 17.0;

/// Draws each `(name, points)` stage as a small square panel with its own
/// limits, in order, left to right and then row by row (six to a row).
///
/// When all stages have the same number of points (the usual case: stage k
/// is the data after k layers), each point keeps one colour throughout,
/// given by its x₁ in the first panel, so one can follow how each layer
/// moves, stretches and folds the data.
pub fn layer_panels(
    path: &Path,
    format: Format,
    stages: &[(String, Vec<Point>)],
) -> Result<(), PlotError> {
    render(path, format, &LayerPanels { stages })
}

struct LayerPanels<'a> {
    stages: &'a [(String, Vec<Point>)],
}

impl LayerPanels<'_> {
    fn columns(&self) -> usize {
        self.stages.len().clamp(1, COLUMNS)
    }

    fn rows(&self) -> usize {
        self.stages.len().max(1).div_ceil(COLUMNS)
    }

    /// Panels are as big as fits 1200 px across, but not bigger than 420 px.
    fn panel_width(&self) -> u32 {
        (1200 / self.columns() as u32).min(420)
    }
}

/// A colour per point, from its x₁ in the first stage; None if the stages
/// do not line up point for point.
pub(super) fn colours_by_first_x(stages: &[(String, Vec<Point>)]) -> Option<Vec<RGBColor>> {
    let first = &stages.first()?.1;
    if stages.iter().any(|(_, p)| p.len() != first.len()) {
        return None;
    }
    let range = robust_range(finite(first).map(|p| p[0]));
    let colour = |x: f64| {
        // Stop short of viridis' top, a pale yellow that vanishes on white.
        viridis(0.85 * (x - range.start) / (range.end - range.start))
    };
    Some(first.iter().map(|p| colour(p[0])).collect())
}

impl Figure for LayerPanels<'_> {
    fn size(&self) -> (u32, u32) {
        let w = self.panel_width();
        let title = (1.5 * TITLE + 1.3 * SUBTITLE) as u32;
        let panel_h = w + (1.5 * PANEL_TITLE) as u32;
        (
            w * self.columns() as u32,
            title + panel_h * self.rows() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, TITLE, true);
        let colours = colours_by_first_x(self.stages);
        let cells = body.split_evenly((self.rows(), self.columns()));
        for (cell, (name, points)) in cells.iter().zip(self.stages) {
            let (title, area) = split_heading(cell, PANEL_TITLE, false);
            let (x, y) = robust_limits(finite(points));
            let spec = Axes {
                x,
                y,
                x_name: "",
                y_name: "",
                aspect: Aspect::EqualByRange,
                grid: true,
                compact: true,
            };
            let mut chart = axes(&area, &spec)?;
            let coloured = points.iter().enumerate().map(|(i, p)| {
                let colour = colours.as_ref().map_or(DATA, |c| c[i]);
                (*p, colour)
            });
            let visible = coloured.filter(|(p, _)| p[0].is_finite() && p[1].is_finite());
            draw_points(&mut chart, visible, points.len())?;
            if points.is_empty() {
                empty_note(&chart, "no points")?;
            }
            heading(&title, name, PANEL_TITLE, None)?;
        }
        if self.stages.is_empty() {
            let spec = Axes {
                x: -1.0..1.0,
                y: -1.0..1.0,
                x_name: "",
                y_name: "",
                aspect: Aspect::EqualByRange,
                grid: false,
                compact: true,
            };
            empty_note(&axes(&cells[0], &spec)?, "no layers")?;
        }
        let note = match colours {
            Some(_) => "colour: each point's x₁ in the first panel",
            None => "each panel has its own axis limits",
        };
        heading(&head, "The data after each layer", TITLE, Some(note))
    }
}
