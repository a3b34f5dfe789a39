//! The report's figure: the learned density of each data set, one panel per
//! data set, side by side (three to a row), each titled with its name and
//! its held-out NLL against the floor.

use super::canvas::{render, DrawResult, Figure};
use super::density::{draw_heatmap, heatmap_axes, ColourScale};
use super::scatter::{axes, heading, split_heading};
use super::{Format, Grid, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// At most this many panels side by side; more wrap onto further rows.
const COLUMNS: usize = 3;
/// Width of one panel in pixels, and of a figure with a single panel.
const PANEL: u32 = 460;
const ALONE: u32 = 640;
const PANEL_TITLE: f64 = 22.0;
const FIGURE_TITLE: f64 = 30.0;

/// One panel: a title (the data set and its numbers) and log p on a grid.
pub struct DensityPanel {
    pub title: String,
    pub grid: Grid,
}

/// Draws each panel's log p as a heatmap (bright = likely; each panel has its
/// own colour scale, the top 12 nats of its log p), titled `title` above all.
pub fn density_panels(
    path: &Path,
    format: Format,
    title: &str,
    panels: &[DensityPanel],
) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(PlotError::at(path, "no panels to draw"));
    }
    render(path, format, &DensityPanels { title, panels })
}

struct DensityPanels<'a> {
    title: &'a str,
    panels: &'a [DensityPanel],
}

impl DensityPanels<'_> {
    fn columns(&self) -> usize {
        self.panels.len().clamp(1, COLUMNS)
    }

    fn rows(&self) -> usize {
        self.panels.len().div_ceil(COLUMNS)
    }

    fn panel_width(&self) -> u32 {
        if self.panels.len() == 1 {
            ALONE
        } else {
            PANEL
        }
    }
}

impl Figure for DensityPanels<'_> {
    fn size(&self) -> (u32, u32) {
        let head = (1.5 * FIGURE_TITLE) as u32;
        let panel_h = self.panel_width() + (1.5 * PANEL_TITLE) as u32;
        (
            self.panel_width() * self.columns() as u32,
            head + panel_h * self.rows() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, FIGURE_TITLE, false);
        let cells = body.split_evenly((self.rows(), self.columns()));
        for (cell, panel) in cells.iter().zip(self.panels) {
            let (title, area) = split_heading(cell, PANEL_TITLE, false);
            let mut chart = axes(&area, &heatmap_axes(&panel.grid))?;
            draw_heatmap(
                &mut chart,
                &panel.grid,
                ColourScale::of(&panel.grid.values).as_ref(),
            )?;
            heading(&title, &panel.title, PANEL_TITLE, None)?;
        }
        heading(&head, self.title, FIGURE_TITLE, None)
    }
}
