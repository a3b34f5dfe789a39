//! The density as it is learned: an animated GIF with one frame per
//! snapshot of the model during training, and a last, longer one of the
//! kept model.
//!
//! Each frame shows, side by side on the same axes, the learned log-density
//! (as figure 2, with its colour bar) and samples from the model over the
//! training data (as figure 1). The colour scale is the kept model's in
//! every frame, so a colour means the same log p throughout and one sees
//! the mass gather onto the data; a bar under the title shows how far
//! training has got.

use super::canvas::DrawResult;
use super::density::{colour_bar, draw_heatmap, heatmap_axes, ColourScale};
use super::error::PlotError;
use super::gif_file::{Canvas, GifFile};
use super::legend::{key, Swatch};
use super::limits::finite;
use super::scatter::{axes, draw_points, heading, split_heading};
use super::style::{faded, DATA, GUIDE, MODEL, SUBTITLE, TITLE};
use super::{Grid, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One snapshot of the model.
pub struct TrainingFrame {
    pub step: usize,
    /// Whether this is the kept model (the one the run saved).
    pub kept: bool,
    /// log p on a grid; the same grid in every frame.
    pub log_p: Grid,
    pub samples: Vec<Point>,
    /// Of this model, on the held-out points (nats per point).
    pub heldout_nll: f64,
}

/// Everything the animation shows.
pub struct TrainingFrames<'a> {
    /// In order of training; the last one is the kept model.
    pub frames: &'a [TrainingFrame],
    pub total_steps: usize,
    /// The true density's entropy, if known: the floor of the held-out NLL.
    pub entropy: Option<f64>,
    /// The training data, drawn under the samples.
    pub data: &'a [Point],
}

/// Frame width in pixels: two panels, small enough that the file stays at
/// a few MB. The height follows the data's aspect ratio.
const WIDTH: u32 = 1000;
/// Hundredths of a second each snapshot is shown; the first (the model
/// before training) and the kept model are held longer.
const DELAY: u16 = 14;
const FIRST_DELAY: u16 = 100;
const LAST_DELAY: u16 = 300;
/// The progress bar under the title.
const PROGRESS: u32 = 22;

/// Writes the GIF of `film` to `path`.
pub fn density_over_training(path: &Path, film: &TrainingFrames) -> Result<(), PlotError> {
    let Some(last) = film.frames.last() else {
        return Err(PlotError::at(path, "no snapshots to animate"));
    };
    // One colour scale for every frame: the kept model's.
    let scale = ColourScale::of(&last.log_p.values);
    let size = frame_size(&last.log_p);
    let scale = scale.as_ref();
    let draw = |frame| drawer(size, film, frame, scale);
    // The palette comes from the first and the last frame: between them
    // they hold every colour the others use.
    let (first, last) = (draw(&film.frames[0]), draw(last));
    let mut gif = GifFile::with_palette(path, size, &[&first, &last])?;
    for (i, frame) in film.frames.iter().enumerate() {
        let delay = match i {
            0 => FIRST_DELAY,
            _ if frame.kept => LAST_DELAY,
            _ => DELAY,
        };
        gif.frame(delay, &draw(frame))?;
    }
    Ok(())
}

/// How to draw `frame` on a GIF canvas.
fn drawer<'a>(
    size: (u32, u32),
    film: &'a TrainingFrames,
    frame: &'a TrainingFrame,
    scale: Option<&'a ColourScale>,
) -> impl for<'b> Fn(&Canvas<'b>) -> DrawResult<(), BitMapBackend<'b>> + 'a {
    move |root| draw_frame(root, size, film, frame, scale)
}

/// The frame size for panels of the grid's aspect ratio (each plot is
/// about 380 px wide; title, progress bar and axes take about 190 px).
fn frame_size(grid: &Grid) -> (u32, u32) {
    let span = |c: &[f64]| c.last().zip(c.first()).map(|(b, a)| b - a).unwrap_or(0.0);
    let (w, h) = (span(&grid.x), span(&grid.y));
    let aspect = if w > 0.0 && h > 0.0 { h / w } else { 1.0 };
    (WIDTH, (380.0 * aspect + 190.0).clamp(380.0, 720.0) as u32)
}

fn draw_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    size: (u32, u32),
    film: &TrainingFrames,
    frame: &TrainingFrame,
    scale: Option<&ColourScale>,
) -> DrawResult<(), DB> {
    let (head, body) = split_heading(root, TITLE, true);
    let (bar, body) = body.split_vertically(PROGRESS);
    progress(&bar, frame.step, film.total_steps)?;
    let (left, right) = body.split_horizontally(size.0 / 2 + 60);

    // Left: log p, with the colour bar at its right.
    let (main, column) = left.split_horizontally(left.dim_in_pixel().0 - 120);
    let spec = heatmap_axes(&frame.log_p);
    let mut chart = axes(&main, &spec)?;
    draw_heatmap(&mut chart, &frame.log_p, scale)?;
    if let Some(scale) = scale {
        colour_bar(&column, chart.plotting_area().get_pixel_range().1, scale)?;
    }

    // Right: the samples over the data, on the same axes.
    let mut chart = axes(&right, &heatmap_axes(&frame.log_p))?;
    // Drawn as if there were four times as many points: fainter, so that
    // the data is the background and the samples the subject.
    let faint = finite(film.data).map(|p| (p, faded_data()));
    draw_points(&mut chart, faint, 4 * film.data.len())?;
    let m = frame.samples.len();
    draw_points(&mut chart, finite(&frame.samples).map(|p| (p, MODEL)), m)?;
    let entries = [
        ("samples from the model", Swatch::Dot(MODEL)),
        ("the training data", Swatch::Dot(faded_data())),
    ];
    key(&chart, &entries, 0.85 * SUBTITLE, &frame.samples)?;

    let title = if frame.kept {
        format!(
            "The kept model: step {} of {}",
            frame.step, film.total_steps
        )
    } else {
        format!(
            "Learning the density: step {} of {}",
            frame.step, film.total_steps
        )
    };
    let mut note = format!("held-out NLL {:.3} nats/point", frame.heldout_nll);
    if let Some(h) = film.entropy {
        note += &format!(" (the true entropy, the floor: {h:.3})");
    }
    heading(&head, &title, TITLE, Some(&note))
}

/// The data under the samples: a paler blue, so the orange stands out.
fn faded_data() -> RGBColor {
    let mix = |c: u8| (c as f64 + 0.45 * (255.0 - c as f64)) as u8;
    RGBColor(mix(DATA.0), mix(DATA.1), mix(DATA.2))
}

/// A thin bar across the frame, filled in proportion to `step / total`.
fn progress<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    step: usize,
    total: usize,
) -> DrawResult<(), DB> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (left, right) = (60, w - 60);
    let (top, bottom) = (h / 2 - 3, h / 2 + 3);
    let done = step as f64 / total.max(1) as f64;
    let fill = left + ((right - left) as f64 * done.clamp(0.0, 1.0)).round() as i32;
    area.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        faded(GUIDE, 0.25).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(left, top), (fill, bottom)],
        GUIDE.filled(),
    ))
}
