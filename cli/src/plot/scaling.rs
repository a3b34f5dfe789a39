//! The scaling figure of BENCHMARKS.md: time per epoch against problem size,
//! on log–log axes, one line per thread count, with a grey guide of the slope
//! the cost should not exceed (a straight line of slope p on log–log axes is
//! time ∝ sizeᵖ).

use super::canvas::{render, DrawResult, Figure};
use super::scatter::{heading, split_heading, tick_label};
use super::style::{text, AXIS_NAME, DATA, GUIDE, INK, MODEL, TICKS, TITLE};
use super::{Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One measured line: (size, ms per epoch) pairs.
pub struct ScalingLine {
    pub label: String,
    pub points: Vec<Point>,
}

/// One panel: the lines of one sweep and the guide slope.
pub struct ScalingPanel {
    pub title: String,
    pub x_name: String,
    pub lines: Vec<ScalingLine>,
    /// The exponent p of the guide line, and its label ("∝ n" …).
    pub guide: (f64, String),
}

/// Draws the panels side by side. Sizes and times must be positive.
pub fn scaling(path: &Path, format: Format, panels: &[ScalingPanel]) -> Result<(), PlotError> {
    let bad = panels
        .iter()
        .flat_map(|p| &p.lines)
        .flat_map(|l| &l.points)
        .any(|p| !(p[0] > 0.0 && p[1] > 0.0 && p[0].is_finite() && p[1].is_finite()));
    if panels.is_empty() || bad {
        let msg = "scaling figure: needs panels of positive, finite sizes and times";
        return Err(PlotError::at(path, msg));
    }
    render(path, format, &Scaling { panels })
}

struct Scaling<'a> {
    panels: &'a [ScalingPanel],
}

/// The colours of the lines, in order (1 thread, 2 threads, …).
const LINE_COLOURS: [RGBColor; 4] = [DATA, MODEL, RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// Limits around the values, padded by a factor (log axes).
fn padded(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    (lo / 1.25)..(hi * 1.25)
}

impl Figure for Scaling<'_> {
    fn size(&self) -> (u32, u32) {
        (620 * self.panels.len() as u32, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let areas = root.split_evenly((1, self.panels.len()));
        for (area, panel) in areas.iter().zip(self.panels) {
            draw_panel(area, panel)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &ScalingPanel,
) -> DrawResult<(), DB> {
    let (head, body) = split_heading(area, TITLE, true);
    let note = "median of the timed epochs; dashed: the growth not to exceed";
    heading(&head, &panel.title, TITLE, Some(note))?;
    let all = || panel.lines.iter().flat_map(|l| l.points.iter());
    let x = padded(all().map(|p| p[0])).log_scale();
    let y = padded(all().map(|p| p[1])).log_scale();
    let mut chart = ChartBuilder::on(&body)
        .margin(14)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_name.as_str())
        .y_desc("ms per epoch (log scale)")
        .axis_desc_style(text(AXIS_NAME, INK))
        .label_style(text(TICKS, INK))
        .x_label_formatter(&|v| tick_label(v))
        .y_label_formatter(&|v| tick_label(v))
        .light_line_style(WHITE)
        .bold_line_style(GUIDE.mix(0.2))
        .draw()?;
    for (line, colour) in panel.lines.iter().zip(LINE_COLOURS.iter().cycle()) {
        let points: Vec<(f64, f64)> = line.points.iter().map(|p| (p[0], p[1])).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(3)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 5, colour.filled())))?;
    }
    // The guide starts at the first line's smallest size and time.
    let (slope, guide_label) = &panel.guide;
    if let Some(start) = panel.lines.first().and_then(|l| l.points.first()) {
        let end = all().map(|p| p[0]).fold(start[0], f64::max);
        let guide = [
            (start[0], start[1]),
            (end, start[1] * (end / start[0]).powf(*slope)),
        ];
        chart
            .draw_series(DashedLineSeries::new(guide, 8, 6, GUIDE.stroke_width(2)))?
            .label(guide_label.as_str())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], GUIDE.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(text(TICKS, INK))
        .background_style(WHITE.mix(0.85))
        .border_style(GUIDE.mix(0.5))
        .draw()
}
