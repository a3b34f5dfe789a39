//! Turning a figure into a file: the only place that knows about backends.

use super::error::PlotError;
use super::font::register_fonts;
use super::Format;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// What drawing calls return: plotters' error for the backend `DB`.
pub(super) type DrawResult<T, DB> =
    Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure knows its size and how to draw itself on any backend; `render`
/// then picks the backend from the `Format`. Each figure file implements this
/// for a small struct holding borrowed inputs.
pub(super) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws everything on `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB>;
}

/// Draws `figure` and writes it to `path` in `format`.
pub(super) fn render(path: &Path, format: Format, figure: &impl Figure) -> Result<(), PlotError> {
    register_fonts();
    let (w, h) = figure.size();
    let fail = |e: &dyn std::fmt::Display| PlotError::at(path, e);
    match format {
        Format::Svg => {
            let root = SVGBackend::new(path, (w, h)).into_drawing_area();
            paint(&root, figure).map_err(|e| fail(&e))?;
            // The SVG backend writes the file here.
            root.present().map_err(|e| fail(&e))
        }
        Format::Png => {
            // Draw into memory, then encode with the `png` crate ourselves:
            // plotters' own PNG writer picks the format from the file name,
            // and the caller writes to a temporary name before renaming.
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                paint(&root, figure).map_err(|e| fail(&e))?;
                root.present().map_err(|e| fail(&e))?;
            }
            encode_png(path, w, h, &rgb).map_err(|e| fail(&e))
        }
    }
}

fn paint<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &impl Figure,
) -> DrawResult<(), DB> {
    root.fill(&WHITE)?;
    figure.draw(root)
}

/// Writes 8-bit RGB pixels as a PNG file.
fn encode_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Default);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}
