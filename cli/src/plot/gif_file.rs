//! Writing an animated GIF frame by frame: each frame is drawn with plotters
//! into an RGB buffer, reduced to 256 colours and appended to the file.
//! Pure Rust (the `gif` crate, and `color_quant`'s NeuQuant quantizer).

use super::canvas::DrawResult;
use super::error::PlotError;
use super::font::register_fonts;
use color_quant::NeuQuant;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A looping GIF being written.
pub(super) struct GifFile {
    encoder: gif::Encoder<BufWriter<File>>,
    size: (u32, u32),
    rgb: Vec<u8>,
    path: PathBuf,
    /// One palette for every frame, if the file has one; else each frame
    /// gets its own.
    palette: Option<NeuQuant>,
}

/// What a frame is drawn on.
pub(super) type Canvas<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// How a frame is drawn.
pub(super) type Draw<'d> = dyn for<'b> Fn(&Canvas<'b>) -> DrawResult<(), BitMapBackend<'b>> + 'd;

/// NeuQuant's sampling factor: 10 of 1 (slowest, best) to 30 is plenty for
/// figures on white.
const QUANTIZER_SPEED: i32 = 10;

impl GifFile {
    /// Creates the file at `path` for frames of `size` pixels, looping
    /// forever, each frame with a palette of its own (fine when every frame
    /// has the same colours, as dots that move).
    pub(super) fn create(path: &Path, size: (u32, u32)) -> Result<Self, PlotError> {
        register_fonts();
        let fail = |e: &dyn std::fmt::Display| PlotError::at(path, e);
        let file = BufWriter::new(File::create(path).map_err(|e| fail(&e))?);
        let (w, h) = (size.0 as u16, size.1 as u16);
        let mut encoder = gif::Encoder::new(file, w, h, &[]).map_err(|e| fail(&e))?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(|e| fail(&e))?;
        Ok(GifFile {
            encoder,
            size,
            rgb: vec![0u8; size.0 as usize * size.1 as usize * 3],
            path: path.to_path_buf(),
            palette: None,
        })
    }

    /// As [`GifFile::create`], with one palette for all frames, learnt from
    /// the frames `samples` draws. A palette per frame would give the same
    /// colour different shades from frame to frame (a colour bar whose top
    /// turns orange when few pixels of the frame are yellow); one palette
    /// keeps a colour the same throughout.
    pub(super) fn with_palette(
        path: &Path,
        size: (u32, u32),
        samples: &[&Draw],
    ) -> Result<Self, PlotError> {
        let mut file = GifFile::create(path, size)?;
        let mut rgba = Vec::with_capacity(samples.len() * file.rgb.len() * 4 / 3);
        for draw in samples {
            file.draw(draw)?;
            rgba.extend(
                file.rgb
                    .chunks_exact(3)
                    .flat_map(|p| [p[0], p[1], p[2], 255]),
            );
        }
        file.palette = Some(NeuQuant::new(QUANTIZER_SPEED, 256, &rgba));
        Ok(file)
    }

    /// Draws into the frame buffer on a white canvas.
    fn draw(&mut self, draw: &Draw) -> Result<(), PlotError> {
        let fail = |e: &dyn std::fmt::Display| PlotError::at(&self.path, e);
        let root = BitMapBackend::with_buffer(&mut self.rgb, self.size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        draw(&root).map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))
    }

    /// Draws one frame with `draw` and appends it, shown for `delay`
    /// hundredths of a second.
    pub(super) fn frame(&mut self, delay: u16, draw: &Draw) -> Result<(), PlotError> {
        self.draw(draw)?;
        let (w, h) = (self.size.0 as u16, self.size.1 as u16);
        let mut frame = match &self.palette {
            None => gif::Frame::from_rgb_speed(w, h, &self.rgb, QUANTIZER_SPEED),
            Some(nq) => gif::Frame::from_palette_pixels(
                w,
                h,
                indices(nq, &self.rgb),
                nq.color_map_rgb(),
                None,
            ),
        };
        frame.delay = delay;
        self.encoder
            .write_frame(&frame)
            .map_err(|e| PlotError::at(&self.path, e))
    }
}

/// Each RGB pixel's palette index. Figures are mostly runs of one colour
/// (white), so the last lookup is remembered.
fn indices(nq: &NeuQuant, rgb: &[u8]) -> Vec<u8> {
    let mut last: Option<([u8; 3], u8)> = None;
    rgb.chunks_exact(3)
        .map(|p| {
            let p = [p[0], p[1], p[2]];
            match last {
                Some((q, i)) if q == p => i,
                _ => {
                    let i = nq.index_of(&[p[0], p[1], p[2], 255]) as u8;
                    last = Some((p, i));
                    i
                }
            }
        })
        .collect()
}
