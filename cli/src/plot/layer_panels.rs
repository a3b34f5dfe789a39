//! Figure 6: the data after each layer of the flow, one panel per layer,
//! drawn big enough to print: three panels to a row, text of about 7 pt
//! when the figure is printed a page wide, and one set of axis limits for
//! the panels whose clouds have about the same extent.

use super::canvas::{render, DrawResult, Figure};
use super::legend::colour_bar_horizontal;
use super::limits::{finite, robust_limits, robust_range};
use super::scatter::{
    axes, draw_points, empty_note, heading, split_heading, Aspect, Axes, AxisText,
};
use super::style::{viridis, DATA, SUBTITLE};
use super::{Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// At most this many panels side by side; more wrap onto further rows.
/// Three keep each panel a third of a printed page wide.
const COLUMNS: usize = 3;
/// Width of one panel in pixels (the figure is three of these across).
const PANEL: u32 = 460;
/// Panel titles (layer names), and the figure's title.
const PANEL_TITLE: f64 = 24.0;
const FIGURE_TITLE: f64 = 30.0;
/// The height of the strip with the colour bar under the title.
const BAR_STRIP: f64 = 2.6 * SUBTITLE;
/// A panel shares the common axis limits when its own extent is at least
/// this fraction of theirs on both axes: its cloud then still fills most
/// of the panel, and the panels compare at a glance.
const SHARE: f64 = 0.5;

/// Draws each `(name, points)` stage as a square panel, in order, left to
/// right and then row by row (three to a row).
///
/// When all stages have the same number of points (the usual case: stage k
/// is the data after k layers), each point keeps one colour throughout,
/// given by its x₁ in the first panel, so one can follow how each layer
/// moves, stretches and folds the data; a colour bar under the title says
/// which x₁ each colour stands for.
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
}

/// Each point's colour from its x₁ in the first stage, and the range of x₁
/// the colour map spans (for the colour bar).
pub(super) struct ColourByX {
    pub(super) colours: Vec<RGBColor>,
    pub(super) range: Range<f64>,
}

/// Where the colour map stops: viridis' top is a pale yellow that vanishes
/// on white.
const VIRIDIS_TOP: f64 = 0.85;

impl ColourByX {
    /// None if the stages do not line up point for point.
    pub(super) fn of(stages: &[(String, Vec<Point>)]) -> Option<ColourByX> {
        let first = &stages.first()?.1;
        if stages.iter().any(|(_, p)| p.len() != first.len()) {
            return None;
        }
        let range = robust_range(finite(first).map(|p| p[0]));
        let colours = first
            .iter()
            .map(|p| Self::at((p[0] - range.start) / (range.end - range.start)))
            .collect();
        Some(ColourByX { colours, range })
    }

    /// The colour at `t` in [0, 1] of the range.
    pub(super) fn at(t: f64) -> RGBColor {
        viridis(VIRIDIS_TOP * t)
    }

    /// Draws the colour bar "x₁ in the data" centred in `area`.
    pub(super) fn bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        size: f64,
    ) -> DrawResult<(), DB> {
        colour_bar_horizontal(area, "colour: x₁ in the data", &self.range, Self::at, size)
    }
}

type Limits = (Range<f64>, Range<f64>);

/// The axis limits of each panel: its own, or the ones it shares with the
/// panels of about the same extent (see [`SHARE`]).
fn panel_limits(stages: &[(String, Vec<Point>)]) -> (Vec<Limits>, bool) {
    let own: Vec<Limits> = stages
        .iter()
        .map(|(_, p)| robust_limits(finite(p)))
        .collect();
    let span = |r: &Range<f64>| r.end - r.start;
    let union = |limits: &mut dyn Iterator<Item = &Limits>| -> Option<Limits> {
        limits.fold(None, |acc: Option<Limits>, (x, y)| {
            Some(match acc {
                None => (x.clone(), y.clone()),
                Some((ax, ay)) => (
                    ax.start.min(x.start)..ax.end.max(x.end),
                    ay.start.min(y.start)..ay.end.max(y.end),
                ),
            })
        })
    };
    let Some((ux, uy)) = union(&mut own.iter()) else {
        return (own, false);
    };
    let shares: Vec<bool> = own
        .iter()
        .map(|(x, y)| span(x) >= SHARE * span(&ux) && span(y) >= SHARE * span(&uy))
        .collect();
    if shares.iter().filter(|s| **s).count() < 2 {
        return (own, false);
    }
    let common = union(&mut own.iter().zip(&shares).filter(|(_, s)| **s).map(|(l, _)| l))
        .expect("at least two panels share");
    let limits = own
        .into_iter()
        .zip(&shares)
        .map(|(l, s)| if *s { common.clone() } else { l })
        .collect();
    (limits, true)
}

impl Figure for LayerPanels<'_> {
    fn size(&self) -> (u32, u32) {
        let head = (1.5 * FIGURE_TITLE + 1.3 * SUBTITLE + BAR_STRIP) as u32;
        let panel_h = PANEL + (1.5 * PANEL_TITLE) as u32;
        (
            PANEL * self.columns() as u32,
            head + panel_h * self.rows() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, FIGURE_TITLE, true);
        let (bar, body) = body.split_vertically(BAR_STRIP as u32);
        let colours = ColourByX::of(self.stages);
        let (limits, shared) = panel_limits(self.stages);
        let cells = body.split_evenly((self.rows(), self.columns()));
        for ((cell, (name, points)), (x, y)) in cells.iter().zip(self.stages).zip(limits) {
            let (title, area) = split_heading(cell, PANEL_TITLE, false);
            let spec = Axes {
                x,
                y,
                x_name: "",
                y_name: "",
                aspect: Aspect::EqualByRange,
                grid: true,
                text: AxisText::Print,
            };
            let mut chart = axes(&area, &spec)?;
            let coloured = points.iter().enumerate().map(|(i, p)| {
                let colour = colours.as_ref().map_or(DATA, |c| c.colours[i]);
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
                text: AxisText::Print,
            };
            empty_note(&axes(&cells[0], &spec)?, "no layers")?;
        }
        if let Some(c) = &colours {
            c.bar(&bar, 1.1 * SUBTITLE)?;
        }
        let n = self.stages.first().map_or(0, |(_, p)| p.len());
        let note = if shared {
            format!("{n} points; panels of about the same extent share their axis limits")
        } else {
            format!("{n} points; each panel has its own axis limits")
        };
        heading(
            &head,
            "The data after each layer",
            FIGURE_TITLE,
            Some(&note),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(half: f64) -> Vec<Point> {
        (0..200)
            .map(|i| {
                let t = i as f64 / 199.0;
                [half * (2.0 * t - 1.0), half * (1.0 - 2.0 * t)]
            })
            .collect()
    }

    /// Clouds of about the same size share limits; a much smaller one keeps
    /// its own, or it would shrink to a dot in the corner of its panel.
    #[test]
    fn panels_of_similar_extent_share_limits() {
        let stages = vec![
            ("small".to_string(), square(0.1)),
            ("a".to_string(), square(2.0)),
            ("b".to_string(), square(2.5)),
        ];
        let (limits, shared) = panel_limits(&stages);
        assert!(shared);
        assert_eq!(limits[1], limits[2]);
        assert_ne!(limits[0], limits[1]);
        assert!(limits[0].0.end - limits[0].0.start < 1.0);
    }

    #[test]
    fn one_panel_shares_with_nobody() {
        let (limits, shared) = panel_limits(&[("a".to_string(), square(1.0))]);
        assert!(!shared);
        assert_eq!(limits.len(), 1);
    }
}
