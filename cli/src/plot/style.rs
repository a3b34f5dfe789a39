//! Colours, text sizes and point sizes shared by the figures.

use super::font::FAMILY;
use plotters::style::{Color, RGBAColor, RGBColor, TextStyle};

/// Data (and data mapped through the flow) is blue...
pub(super) const DATA: RGBColor = RGBColor(31, 119, 180);
/// ...and anything sampled from the model is orange.
pub(super) const MODEL: RGBColor = RGBColor(230, 110, 10);
/// Axis lines, tick labels, titles.
pub(super) const INK: RGBColor = RGBColor(30, 30, 30);
/// Secondary text and guide lines (σ circles, warped grid).
pub(super) const GUIDE: RGBColor = RGBColor(120, 120, 120);

/// Text sizes in pixels, tuned for figures about 1000 px wide.
pub(super) const TITLE: f64 = 26.0;
pub(super) const SUBTITLE: f64 = 18.0;
pub(super) const AXIS_NAME: f64 = 22.0;
pub(super) const TICKS: f64 = 17.0;

/// The text style of the bundled font at `size` pixels, in `colour`.
pub(super) fn text(size: f64, colour: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: colour.to_backend_color(),
        ..TextStyle::from((FAMILY, size))
    }
}

/// How opaque and how big to draw `n` points so that dense clouds show their
/// density (overlapping translucent dots get darker) instead of a solid blob.
pub(super) fn point_style(n: usize) -> (f64, u32) {
    let alpha = (0.85 * (400.0 / n.max(1) as f64).sqrt()).clamp(0.12, 0.85);
    let radius = if n > 5000 { 1 } else { 2 };
    (alpha, radius)
}

/// The viridis colour map (matplotlib's default) at `t` in `[0, 1]`.
///
/// Nine samples of the real map, linearly interpolated: plenty for a heatmap.
/// Viridis is perceptually uniform and readable by colour-blind viewers.
pub(super) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (72, 40, 120),
        (62, 73, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (253, 231, 37),
    ];
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// `colour` with opacity `alpha`.
pub(super) fn faded(colour: RGBColor, alpha: f64) -> RGBAColor {
    colour.mix(alpha)
}
