//! The bundled font.
//!
//! plotters' `ab_glyph` feature rasterises text itself from font bytes we hand
//! it, instead of asking the system (fontconfig/freetype) for a font. So the
//! binary builds and draws the same text on any machine.

use plotters::style::{register_font, FontStyle};
use std::sync::Once;

/// The family name every figure asks for. It is plotters' default family too,
/// so text styled by plotters itself (e.g. legends) finds the font as well.
/// In SVG files it is written as `font-family="sans-serif"`.
pub(super) const FAMILY: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
/// Chosen because it covers the glyphs the figures use: subscripts (x₁),
/// Greek (σ), superscripts (f⁻¹) and the minus sign.
static DEJAVU_SANS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/DejaVuSans.ttf"
));

/// Registers the bundled font under the family name used by all figures.
///
/// Call it once before drawing; calling it again does nothing. The figure
/// functions call it themselves, so forgetting it is harmless.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Other styles (bold, italic) fall back to this regular face.
        // The bytes are compiled in and known to parse; if they ever did not,
        // drawing text would fail with a "font unavailable" PlotError instead.
        let registered = register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok();
        debug_assert!(registered, "the bundled font does not parse");
    });
}
