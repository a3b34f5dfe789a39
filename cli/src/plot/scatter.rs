//! Building blocks shared by the scatter-plot figures: a heading, a pair of
//! axes, and a cloud of points.

use super::canvas::DrawResult;
use super::limits::{equal_aspect, inside};
use super::style::{self, faded, text, AXIS_NAME, GUIDE, INK, SUBTITLE, TICKS};
use super::Point;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// A chart with plain `f64` axes, as all scatter figures use.
pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Splits `area` into a heading strip tall enough for a title (and a
/// subtitle, if `subtitle` is set) and the rest, for the chart.
pub(super) fn split_heading<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title_size: f64,
    subtitle: bool,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let height = 1.5 * title_size + if subtitle { 1.3 * SUBTITLE } else { 0.0 };
    area.split_vertically(height.round() as u32)
}

/// Writes a centred title, and an optional grey subtitle below it. Text too
/// wide for the area is shortened with "…" rather than cut off at the edge.
pub(super) fn heading<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    title_size: f64,
    subtitle: Option<&str>,
) -> DrawResult<(), DB> {
    let centre = area.dim_in_pixel().0 as i32 / 2;
    let top = Pos::new(HPos::Center, VPos::Top);
    let pad = (0.25 * title_size) as i32;
    let style = text(title_size, INK).pos(top);
    area.draw_text(&fit(area, title, &style)?, &style, (centre, pad))?;
    if let Some(sub) = subtitle {
        let y = pad + (1.2 * title_size) as i32;
        let style = text(SUBTITLE, GUIDE).pos(top);
        area.draw_text(&fit(area, sub, &style)?, &style, (centre, y))?;
    }
    Ok(())
}

/// `label`, shortened with "…" until it fits the width of `area`.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    style: &TextStyle,
) -> DrawResult<String, DB> {
    let room = area.dim_in_pixel().0.saturating_sub(8);
    let mut chars: Vec<char> = label.chars().collect();
    let mut candidate = label.to_string();
    while area.estimate_text_size(&candidate, style)?.0 > room && !chars.is_empty() {
        chars.pop();
        candidate = chars.iter().collect::<String>() + "…";
    }
    Ok(candidate)
}

/// Tick labels without needless decimals: "2" rather than "2.0", "0.25",
/// "3000"; scientific notation only for very large or small magnitudes.
pub(super) fn tick_label(v: &f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { *v }; // no "-0"
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// How the two axes' scales relate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Aspect {
    /// Each axis fills the plotting area (e.g. step vs loss).
    Free,
    /// One unit is as long on both axes, by widening the shorter range:
    /// for point clouds, where extra room around them is harmless.
    EqualByRange,
    /// One unit is as long on both axes, by shrinking the plotting area:
    /// for a heatmap, whose extent should fill the frame exactly.
    EqualByArea,
}

/// How to draw one pair of axes.
pub(super) struct Axes<'s> {
    pub x: Range<f64>,
    pub y: Range<f64>,
    /// Axis names, e.g. "x₁"; empty for none.
    pub x_name: &'s str,
    pub y_name: &'s str,
    pub aspect: Aspect,
    /// Faint grid lines at the ticks.
    pub grid: bool,
    /// How big the tick labels and axis names are.
    pub text: AxisText,
}

/// Text sizes of a pair of axes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AxisText {
    /// For a figure about 1000 px wide.
    Normal,
    /// Small panels on a screen: smaller text and fewer ticks.
    Compact,
    /// Panels about 460 px wide that are printed a third of a page wide:
    /// text that is still about 7 pt on paper, and few ticks.
    Print,
}

impl AxisText {
    /// Tick label size, axis name size (pixels) and how many ticks at most.
    fn sizes(self) -> (f64, f64, usize) {
        match self {
            AxisText::Normal => (TICKS, AXIS_NAME, 8),
            AxisText::Compact => (13.0, 15.0, 5),
            AxisText::Print => (20.0, 22.0, 5),
        }
    }
}

/// Draws the axes on `area` and returns the chart to draw data on.
pub(super) fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    spec: &Axes,
) -> DrawResult<Chart<'a, DB>, DB> {
    let (tick, name, ticks) = spec.text.sizes();
    // Room for tick labels, plus the axis name when there is one.
    let named = |axis_name: &str| {
        if axis_name.is_empty() {
            0.0
        } else {
            1.5 * name
        }
    };
    let x_room = 1.8 * tick + named(spec.x_name);
    let y_room = 3.0 * tick + named(spec.y_name);
    // Margins: top, bottom, left, right. The right one keeps the last tick
    // label inside the figure.
    let mut margin = [8.0, 4.0, 10.0, 1.6 * tick];
    let (mut x, mut y) = (spec.x.clone(), spec.y.clone());

    if spec.aspect != Aspect::Free {
        // Building a chart only splits the area (it draws nothing), so a first
        // build tells us the size of the plotting area in pixels.
        let probe =
            builder(area, margin, x_room, y_room).build_cartesian_2d(x.clone(), y.clone())?;
        let (w, h) = probe.plotting_area().dim_in_pixel();
        if spec.aspect == Aspect::EqualByRange {
            (x, y) = equal_aspect(x, y, (w, h));
        } else {
            let ratio = (x.end - x.start) / (y.end - y.start);
            let (w, h) = (w as f64, h as f64);
            if w > h * ratio {
                let extra = (w - h * ratio) / 2.0;
                margin[2] += extra;
                margin[3] += extra;
            } else {
                let extra = (h - w / ratio) / 2.0;
                margin[0] += extra;
                margin[1] += extra;
            }
        }
    }
    let mut chart = builder(area, margin, x_room, y_room).build_cartesian_2d(x, y)?;

    let mut mesh = chart.configure_mesh();
    mesh.x_labels(ticks)
        .y_labels(ticks)
        .x_desc(spec.x_name)
        .y_desc(spec.y_name)
        .label_style(text(tick, INK))
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .axis_desc_style(text(name, INK))
        .axis_style(INK.stroke_width(1))
        .max_light_lines(0)
        .bold_line_style(faded(GUIDE, 0.15).stroke_width(1));
    if !spec.grid {
        mesh.disable_mesh();
    }
    mesh.draw()?;
    Ok(chart)
}

fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    [top, bottom, left, right]: [f64; 4],
    x_room: f64,
    y_room: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(top.round() as u32)
        .margin_bottom(bottom.round() as u32)
        .margin_left(left.round() as u32)
        .margin_right(right.round() as u32)
        .x_label_area_size(x_room.round() as u32)
        .y_label_area_size(y_room.round() as u32);
    builder
}

/// Draws `points` (each with its colour) as small translucent dots. Only the
/// points inside the view are drawn: plotters would paint the rest over the
/// axes. `n` is the size of the whole cloud, which sets opacity and size.
pub(super) fn draw_points<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    points: impl Iterator<Item = (Point, RGBColor)>,
    n: usize,
) -> DrawResult<(), DB> {
    let (x, y) = (chart.x_range(), chart.y_range());
    let (alpha, radius) = style::point_style(n);
    let dots = points
        .filter(|(p, _)| inside(*p, &x, &y))
        .map(|(p, colour)| Circle::new((p[0], p[1]), radius, faded(colour, alpha).filled()));
    chart.draw_series(dots)?;
    Ok(())
}

/// How many of the finite `points` lie outside the chart's view.
pub(super) fn outside<DB: DrawingBackend>(chart: &Chart<DB>, points: &[Point]) -> usize {
    let (x, y) = (chart.x_range(), chart.y_range());
    super::limits::finite(points)
        .filter(|p| !inside(*p, &x, &y))
        .count()
}

/// "n = 1000" or "n = 1000, 3 outside the view": titles say how many points
/// there are even when the robust limits leave a few of them out.
pub(super) fn count_note(n: usize, outside: usize) -> String {
    match outside {
        0 => format!("n = {n}"),
        k => format!("n = {n}, {k} outside the view"),
    }
}

/// A grey note in the middle of an empty chart, so an empty figure says why.
pub(super) fn empty_note<DB: DrawingBackend>(chart: &Chart<DB>, note: &str) -> DrawResult<(), DB> {
    let (x, y) = (chart.x_range(), chart.y_range());
    let centre = ((x.start + x.end) / 2.0, (y.start + y.end) / 2.0);
    let style = text(SUBTITLE, GUIDE).pos(Pos::new(HPos::Center, VPos::Center));
    chart
        .plotting_area()
        .draw(&Text::new(note.to_string(), centre, style))
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn tick_labels_drop_needless_decimals() {
        let labels: Vec<String> = [2.0, -0.5, 0.25, 3000.0, -1e-15, 2e7, 1e-4]
            .iter()
            .map(tick_label)
            .collect();
        assert_eq!(
            labels,
            ["2", "-0.5", "0.25", "3000", "0", "2.0e7", "1.0e-4"]
        );
    }
}
