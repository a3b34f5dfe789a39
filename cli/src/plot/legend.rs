//! What the colours mean: a key of swatches for a chart, and a horizontal
//! colour bar for a continuous colour scale. Every colour a figure uses is
//! explained by one of the two (or by the colour bar of the density).

use super::canvas::DrawResult;
use super::limits::finite;
use super::scatter::{tick_label, Chart};
use super::style::{faded, text, GUIDE, INK};
use super::Point;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// How one entry of a key is drawn.
#[derive(Clone, Copy)]
pub(super) enum Swatch {
    /// A dot, as the points of a scatter plot.
    Dot(RGBColor),
    /// A short line, as guide lines.
    Line(RGBColor),
}

/// Draws a key in the corner of the chart's plotting area that covers the
/// fewest of `points` (the top left when several are empty): one row per
/// entry, a swatch and its label, on a translucent white box so that the
/// points it does cover still show through.
pub(super) fn key<DB: DrawingBackend>(
    chart: &Chart<DB>,
    entries: &[(&str, Swatch)],
    size: f64,
    points: &[Point],
) -> DrawResult<(), DB> {
    let area = chart.plotting_area().strip_coord_spec();
    let style = text(size, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let row = (1.4 * size) as i32;
    let swatch = (1.2 * size) as i32;
    let mut width = 0;
    for (label, _) in entries {
        width = width.max(area.estimate_text_size(label, &style)?.0 as i32);
    }
    let pad = (0.4 * size) as i32;
    let box_w = pad + swatch + pad + width + pad;
    let box_h = pad + row * entries.len() as i32 + pad / 2;
    let (x0, y0) = emptiest_corner(chart, (box_w + 2 * pad, box_h + 2 * pad), points);
    let (x0, y0) = (x0 + pad, y0 + pad);
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        WHITE.mix(0.85).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        faded(GUIDE, 0.5).stroke_width(1),
    ))?;
    for (k, (label, kind)) in entries.iter().enumerate() {
        let y = y0 + pad + row * k as i32 + row / 2;
        let x = x0 + pad;
        match *kind {
            Swatch::Dot(colour) => {
                let dot = Circle::new((x + swatch / 2, y), (0.3 * size) as i32, colour.filled());
                area.draw(&dot)?;
                // A white dot (data over the dark density) needs an outline
                // to show on the white key.
                let ring = Circle::new((x + swatch / 2, y), (0.3 * size) as i32, GUIDE);
                area.draw(&ring)?;
            }
            Swatch::Line(colour) => area.draw(&PathElement::new(
                vec![(x, y), (x + swatch, y)],
                colour.stroke_width(2),
            ))?,
        }
        area.draw_text(label, &style, (x + swatch + pad, y))?;
    }
    Ok(())
}

/// The top-left pixel (relative to the plotting area) of the corner box of
/// `size` pixels that holds the fewest `points`: top left, top right, bottom
/// right, bottom left, the first of the emptiest.
fn emptiest_corner<DB: DrawingBackend>(
    chart: &Chart<DB>,
    (w, h): (i32, i32),
    points: &[Point],
) -> (i32, i32) {
    let (cols, rows) = chart.plotting_area().get_pixel_range();
    let (pw, ph) = (cols.end - cols.start, rows.end - rows.start);
    let corners = [(0, 0), (pw - w, 0), (pw - w, ph - h), (0, ph - h)];
    let pixels: Vec<(i32, i32)> = finite(points)
        .map(|p| {
            let (x, y) = chart.backend_coord(&(p[0], p[1]));
            (x - cols.start, y - rows.start)
        })
        .collect();
    let covered = |&(cx, cy): &(i32, i32)| {
        pixels
            .iter()
            .filter(|(x, y)| (cx..cx + w).contains(x) && (cy..cy + h).contains(y))
            .count()
    };
    // min_by_key keeps the first of equal counts.
    *corners
        .iter()
        .min_by_key(|c| covered(c))
        .expect("four corners")
}

/// A horizontal colour bar centred in `area`: `label` on its left, the
/// colours `colour(t)` for t from 0 to 1 along it, and the values of `range`
/// (what t = 0 and t = 1 stand for, and the middle) under it.
pub(super) fn colour_bar_horizontal<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    range: &Range<f64>,
    colour: impl Fn(f64) -> RGBColor,
    size: f64,
) -> DrawResult<(), DB> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let label_style = text(size, INK).pos(Pos::new(HPos::Right, VPos::Center));
    let label_w = area.estimate_text_size(label, &label_style)?.0 as i32;
    let bar_w = (w / 3).max(120);
    let bar_h = (0.7 * size) as i32;
    let gap = (0.6 * size) as i32;
    let left = (w - bar_w + label_w + gap) / 2;
    let top = ((h - bar_h - (1.1 * size) as i32) / 2).max(0);
    area.draw_text(label, &label_style, (left - gap, top + bar_h / 2))?;
    for k in 0..bar_w {
        let t = (k as f64 + 0.5) / bar_w as f64;
        area.draw(&Rectangle::new(
            [(left + k, top), (left + k + 1, top + bar_h)],
            colour(t).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(left, top), (left + bar_w, top + bar_h)],
        INK.stroke_width(1),
    ))?;
    let tick_style = text(0.9 * size, INK).pos(Pos::new(HPos::Center, VPos::Top));
    for t in [0.0, 0.5, 1.0] {
        let v = range.start + t * (range.end - range.start);
        let x = left + (t * bar_w as f64).round() as i32;
        area.draw(&PathElement::new(
            vec![(x, top + bar_h), (x, top + bar_h + 4)],
            INK.stroke_width(1),
        ))?;
        let value = tick_label(&((v * 100.0).round() / 100.0));
        area.draw_text(&value, &tick_style, (x, top + bar_h + 5))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::scatter::{axes, Aspect, Axes, AxisText};

    /// With the top-left corner full of points and the others empty, the
    /// key moves to the top right; with every corner empty it stays at the
    /// top left.
    #[test]
    fn the_key_goes_to_the_emptiest_corner() {
        crate::plot::font::register_fonts();
        let mut rgb = vec![0u8; 400 * 300 * 3];
        let root = BitMapBackend::with_buffer(&mut rgb, (400, 300)).into_drawing_area();
        let spec = Axes {
            x: 0.0..1.0,
            y: 0.0..1.0,
            x_name: "",
            y_name: "",
            aspect: Aspect::Free,
            grid: false,
            text: AxisText::Normal,
        };
        let chart = axes(&root, &spec).unwrap();
        let top_left: Vec<Point> = (0..50).map(|i| [0.01 * (i % 10) as f64, 0.95]).collect();
        let (pw, _) = chart.plotting_area().dim_in_pixel();
        let size = (100, 40);
        assert_eq!(emptiest_corner(&chart, size, &[]), (0, 0));
        assert_eq!(
            emptiest_corner(&chart, size, &top_left),
            (pw as i32 - 100, 0)
        );
    }
}
