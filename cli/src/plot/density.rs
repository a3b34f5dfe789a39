//! Figure 2: the learned density as a heatmap of log p, with the data on top.

use super::canvas::{render, DrawResult, Figure};
use super::legend::{key, Swatch};
use super::limits::{finite, quantile, sorted_finite};
use super::scatter::{
    axes, count_note, empty_note, heading, outside, split_heading, tick_label, Aspect, Axes,
    AxisText, Chart,
};
use super::style::{faded, text, viridis, AXIS_NAME, INK, SUBTITLE, TICKS, TITLE};
use super::{Format, Grid, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;
use std::path::Path;

/// Colours span at most this many nats below the top of log p. Far from
/// the data log p keeps falling (to −50, −100, ...); letting those values set
/// the colour scale would paint everything interesting the same yellow.
/// e¹² ≈ 160 000, so anything darker is "no mass" in practice.
const NATS_SHOWN: f64 = 12.0;

/// Draws log p on the grid as a viridis heatmap (bright = likely), a colour
/// bar with the log p values, and `data` as small translucent white dots.
///
/// `grid.x` and `grid.y` must be strictly increasing and
/// `grid.values.len() == grid.x.len() * grid.y.len()`; an empty grid draws an
/// empty panel. NaN values are drawn grey; −∞ in the darkest colour.
pub fn density(path: &Path, format: Format, grid: &Grid, data: &[Point]) -> Result<(), PlotError> {
    density_titled(
        path,
        format,
        grid,
        data,
        "Learned density log p(x)",
        "the training data",
    )
}

/// [`density`] with another title, and another name for the dots in the
/// key and the note (`""`: no dots, no key and no note of them).
pub fn density_titled(
    path: &Path,
    format: Format,
    grid: &Grid,
    data: &[Point],
    title: &str,
    dots: &str,
) -> Result<(), PlotError> {
    check_grid(grid).map_err(|e| PlotError::at(path, e))?;
    render(
        path,
        format,
        &Density {
            grid,
            data,
            title,
            dots,
        },
    )
}

fn check_grid(grid: &Grid) -> Result<(), String> {
    let increasing =
        |v: &[f64]| v.iter().all(|c| c.is_finite()) && v.windows(2).all(|w| w[0] < w[1]);
    if !increasing(&grid.x) || !increasing(&grid.y) {
        return Err("grid coordinates must be finite and strictly increasing".into());
    }
    if grid.values.len() != grid.x.len() * grid.y.len() {
        return Err(format!(
            "grid has {} values but {} × {} coordinates",
            grid.values.len(),
            grid.x.len(),
            grid.y.len()
        ));
    }
    Ok(())
}

struct Density<'a> {
    grid: &'a Grid,
    data: &'a [Point],
    title: &'a str,
    dots: &'a str,
}

impl Figure for Density<'_> {
    /// The height follows the grid's aspect ratio, so the equal-aspect heatmap
    /// fills the figure instead of floating in empty space (about 780 px of the
    /// width is plot; the title and axes take about 200 px of the height).
    fn size(&self) -> (u32, u32) {
        let span = |c: &[f64]| c.last().zip(c.first()).map(|(b, a)| b - a).unwrap_or(0.0);
        let (w, h) = (span(&self.grid.x), span(&self.grid.y));
        let aspect = if w > 0.0 && h > 0.0 { h / w } else { 1.0 };
        let height = (780.0 * aspect + 200.0).clamp(520.0, 1100.0);
        (1060, height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, TITLE, true);
        let (main, bar) = body.split_horizontally(body.dim_in_pixel().0 - 160);
        let colours = ColourScale::of(&self.grid.values);

        let mut chart = axes(&main, &heatmap_axes(self.grid))?;
        draw_heatmap(&mut chart, self.grid, colours.as_ref())?;
        draw_data(&mut chart, self.data)?;
        if self.grid.values.is_empty() {
            empty_note(&chart, "empty grid")?;
        }
        if !self.dots.is_empty() {
            key(
                &chart,
                &[(self.dots, Swatch::Dot(WHITE))],
                SUBTITLE,
                self.data,
            )?;
        }

        if let Some(scale) = &colours {
            // The bar spans the same pixel rows as the heatmap.
            colour_bar(&bar, chart.plotting_area().get_pixel_range().1, scale)?;
        }
        let n = finite(self.data).count();
        let mut note = format!("{} × {} grid", self.grid.x.len(), self.grid.y.len());
        if !self.dots.is_empty() {
            note += &format!(
                "; {}: {}",
                self.dots,
                count_note(n, outside(&chart, self.data))
            );
        }
        if let Some(ColourScale {
            clipped: true,
            range,
        }) = &colours
        {
            note += &format!("; log p < {:.1} drawn darkest", range.start);
        }
        heading(&head, self.title, TITLE, Some(&note))
    }
}

/// Axes that hold the grid's cells exactly, one unit as long on both axes.
pub(super) fn heatmap_axes(grid: &Grid) -> Axes<'static> {
    let (x, y) = (edges(&grid.x), edges(&grid.y));
    Axes {
        x: x.first().zip(x.last()).map_or(-1.0..1.0, |(a, b)| *a..*b),
        y: y.first().zip(y.last()).map_or(-1.0..1.0, |(a, b)| *a..*b),
        x_name: "x₁",
        y_name: "x₂",
        aspect: Aspect::EqualByArea,
        grid: false,
        text: AxisText::Normal,
    }
}

/// One filled rectangle per grid cell, coloured by `scale`.
pub(super) fn draw_heatmap<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    grid: &Grid,
    scale: Option<&ColourScale>,
) -> DrawResult<(), DB> {
    let (x, y) = (edges(&grid.x), edges(&grid.y));
    let nx = grid.x.len();
    let cells = grid.values.iter().enumerate().map(|(k, &v)| {
        let (i, j) = (k % nx, k / nx);
        let corners = [(x[i], y[j]), (x[i + 1], y[j + 1])];
        Rectangle::new(corners, cell_colour(scale, v).filled())
    });
    chart.draw_series(cells)?;
    Ok(())
}

/// Data as small white dots: visible on the dark low-density background and,
/// being translucent, not hiding the colours where the model is confident.
pub(super) fn draw_data<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    data: &[Point],
) -> DrawResult<(), DB> {
    let (x, y) = (chart.x_range(), chart.y_range());
    let alpha = if data.len() > 2000 { 0.35 } else { 0.55 };
    let dots = finite(data)
        .filter(|p| super::limits::inside(*p, &x, &y))
        .map(|p| Circle::new((p[0], p[1]), 1.5, faded(WHITE, alpha).filled()));
    chart.draw_series(dots)?;
    Ok(())
}

/// Cell boundaries around grid coordinates: halfway between neighbours, and
/// half a step beyond the first and last coordinate.
fn edges(c: &[f64]) -> Vec<f64> {
    match c.len() {
        0 => vec![],
        1 => vec![c[0] - 0.5, c[0] + 0.5],
        n => {
            let mut e = vec![c[0] - (c[1] - c[0]) / 2.0];
            e.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
            e
        }
    }
}

/// Maps log p values to colours.
pub(super) struct ColourScale {
    pub(super) range: Range<f64>,
    /// Whether some values fall below `range` (and share its darkest colour).
    pub(super) clipped: bool,
}

impl ColourScale {
    /// The scale for `values`: from the lowest finite value (but at most
    /// `NATS_SHOWN` below the top) to the top, a very high quantile. None if
    /// no value is finite.
    pub(super) fn of(values: &[f64]) -> Option<ColourScale> {
        let sorted = sorted_finite(values.iter().copied());
        let lowest = *sorted.first()?;
        // A high quantile rather than the max: one spike must not dim the rest.
        let top = quantile(&sorted, 0.999).max(lowest);
        let bottom = lowest.max(top - NATS_SHOWN);
        let range = if top > bottom {
            bottom..top
        } else {
            (bottom - 1.0)..(top + 1.0)
        };
        let clipped = lowest < range.start || values.contains(&f64::NEG_INFINITY);
        Some(ColourScale { range, clipped })
    }

    fn position(&self, v: f64) -> f64 {
        (v - self.range.start) / (self.range.end - self.range.start)
    }
}

/// The colour of one cell: NaN (or a grid with no finite value) is grey;
/// values beyond the scale take the colour of its nearest end.
fn cell_colour(scale: Option<&ColourScale>, v: f64) -> RGBColor {
    match scale {
        Some(scale) if !v.is_nan() => viridis(scale.position(v)),
        _ => RGBColor(190, 190, 190),
    }
}

/// A vertical strip of the colour map with log p values beside it, and a
/// "log p" label above it. `column` is the strip of the figure it goes in,
/// `rows` the pixel rows (of the whole figure) it should span.
pub(super) fn colour_bar<DB: DrawingBackend>(
    column: &DrawingArea<DB, Shift>,
    rows: Range<i32>,
    scale: &ColourScale,
) -> DrawResult<(), DB> {
    let (top, height) = (column.get_base_pixel().1, column.dim_in_pixel().1 as i32);
    let area = column.margin(rows.start - top, top + height - rows.end, 0, 0);
    let mut chart = ChartBuilder::on(&area)
        .margin_left(20)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, scale.range.clone())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(8)
        .y_label_formatter(&tick_label)
        .label_style(text(TICKS, INK))
        .axis_style(INK.stroke_width(1))
        .draw()?;
    const STEPS: usize = 256;
    let span = scale.range.end - scale.range.start;
    let strips = (0..STEPS).map(|k| {
        let lo = scale.range.start + span * k as f64 / STEPS as f64;
        let hi = scale.range.start + span * (k + 1) as f64 / STEPS as f64;
        Rectangle::new(
            [(0.0, lo), (1.0, hi)],
            viridis((k as f64 + 0.5) / STEPS as f64).filled(),
        )
    });
    chart.draw_series(strips)?;
    // The label goes above the bar, horizontal: easier to read than rotated.
    let (columns, _) = chart.plotting_area().get_pixel_range();
    let (x0, y0) = column.get_base_pixel();
    let centre = (columns.start + columns.end) / 2 - x0;
    let style = text(AXIS_NAME, INK).pos(Pos::new(HPos::Center, VPos::Bottom));
    column.draw_text("log p", &style, (centre, rows.start - y0 - 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_surround_the_coordinates() {
        assert_eq!(edges(&[0.0, 1.0, 3.0]), vec![-0.5, 0.5, 2.0, 4.0]);
        assert_eq!(edges(&[2.0]), vec![1.5, 2.5]);
    }

    #[test]
    fn malformed_grids_are_errors() {
        let bad = Grid {
            x: vec![0.0, 1.0],
            y: vec![0.0],
            values: vec![1.0],
        };
        assert!(check_grid(&bad).is_err());
        let unsorted = Grid {
            x: vec![1.0, 0.0],
            y: vec![0.0],
            values: vec![1.0, 2.0],
        };
        assert!(check_grid(&unsorted).is_err());
    }
}
