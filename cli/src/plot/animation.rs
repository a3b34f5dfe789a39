//! The flow in motion: an animated GIF of the data flowing through the model
//! layer by layer, from x to z.
//!
//! Each stage (the data, the standardized data, the data after each layer)
//! is held for a moment, and between two stages every point glides along the
//! straight line from where it was to where the next layer puts it. The axes
//! are the same in every frame, so what moves is the data, not the view;
//! each point keeps its colour (its x₁ in the data) throughout, as in
//! figure 6.

use super::canvas::DrawResult;
use super::error::PlotError;
use super::gif_file::GifFile;
use super::layer_panels::ColourByX;
use super::limits::{finite, robust_range, widen};
use super::scatter::{axes, draw_points, heading, split_heading, Aspect, Axes, AxisText};
use super::style::{DATA, SUBTITLE, TITLE};
use super::Point;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Frame size in pixels: small enough that the file stays small.
const SIZE: (u32, u32) = (600, 660);
/// The strip under the title with the colour bar.
const BAR_STRIP: u32 = 44;
/// Frames spent gliding from one stage to the next, and resting on each.
const GLIDE: usize = 10;
const REST: usize = 6;
/// Hundredths of a second per frame.
const DELAY: u16 = 6;

/// Writes the GIF of `stages` (name, points; every stage with the same
/// points in the same order) to `path`.
pub fn layer_flow(path: &Path, stages: &[(String, Vec<Point>)]) -> Result<(), PlotError> {
    if stages.is_empty() {
        return Err(PlotError::at(path, "no stages to animate"));
    }
    let (x, y) = shared_limits(stages);
    let colours = ColourByX::of(stages);
    let mut gif = GifFile::create(path, SIZE)?;
    for frame in frames(stages) {
        gif.frame(DELAY, &|root| {
            draw_frame(root, &frame, &x, &y, colours.as_ref())
        })?;
    }
    Ok(())
}

/// One frame: a title and the points.
struct Frame {
    title: String,
    points: Vec<Point>,
}

/// Every frame: each stage at rest, and the glides between stages, eased
/// (smoothstep) so the motion starts and stops gently.
fn frames(stages: &[(String, Vec<Point>)]) -> Vec<Frame> {
    let mut out = Vec::new();
    for (k, (name, points)) in stages.iter().enumerate() {
        for _ in 0..REST {
            out.push(Frame {
                title: name.clone(),
                points: points.clone(),
            });
        }
        let Some((next_name, next)) = stages.get(k + 1) else {
            break;
        };
        for i in 1..GLIDE {
            let t = i as f64 / GLIDE as f64;
            let s = t * t * (3.0 - 2.0 * t);
            let points = points
                .iter()
                .zip(next)
                .map(|(a, b)| [a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1])])
                .collect();
            out.push(Frame {
                title: format!("{name} → {next_name}"),
                points,
            });
        }
    }
    out
}

/// Limits that hold every stage's points (robustly: a few far outliers do
/// not shrink the rest to a dot).
fn shared_limits(stages: &[(String, Vec<Point>)]) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let all: Vec<Point> = stages.iter().flat_map(|(_, p)| finite(p)).collect();
    let x = robust_range(all.iter().map(|p| p[0]));
    let y = robust_range(all.iter().map(|p| p[1]));
    // A square view: the latent space is round.
    let half = 0.5 * (x.end - x.start).max(y.end - y.start);
    let (cx, cy) = (0.5 * (x.start + x.end), 0.5 * (y.start + y.end));
    (
        widen(cx - half, cx + half, 0.0),
        widen(cy - half, cy + half, 0.0),
    )
}

fn draw_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    frame: &Frame,
    x: &std::ops::Range<f64>,
    y: &std::ops::Range<f64>,
    colours: Option<&ColourByX>,
) -> DrawResult<(), DB> {
    let (head, body) = split_heading(root, TITLE, true);
    let (bar, body) = body.split_vertically(BAR_STRIP);
    if let Some(c) = colours {
        c.bar(&bar, 0.9 * SUBTITLE)?;
    }
    let spec = Axes {
        x: x.clone(),
        y: y.clone(),
        x_name: "",
        y_name: "",
        aspect: Aspect::EqualByRange,
        grid: true,
        text: AxisText::Compact,
    };
    let mut chart = axes(&body, &spec)?;
    let coloured = frame.points.iter().enumerate().map(|(i, p)| {
        let colour = colours.map_or(DATA, |c| c.colours[i]);
        (*p, colour)
    });
    draw_points(&mut chart, coloured, frame.points.len())?;
    heading(
        &head,
        &frame.title,
        TITLE,
        Some("the data flowing through the flow, x → z"),
    )
}
