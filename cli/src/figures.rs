//! From a trained model to the six figures: this file computes what to draw
//! (samples, a log-density grid, latent codes, a warped grid, per-layer
//! outputs) and hands plain numbers to `plot/`.

use crate::dataset::Points;
use crate::error::{CliError, Result};
use crate::files::Staging;
use crate::plot::{self, Curve, Format, Grid, Point};
use crate::signals;
use autograd::{ParamStore, Tensor};
use flows::{FlowModel, MetricRow};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;

/// The figures, in the order they are drawn (each `.png`, and `.svg` too
/// with `--svg`; the 2-D-only ones are skipped for other data).
pub const FIGURES: [&str; 6] = [
    "1_data_vs_samples",
    "2_density",
    "3_latent",
    "4_inverse_warp",
    "5_training_curve",
    "6_layers",
];

/// Steps the train curve of figure 5 averages over: minibatch NLLs are noisy.
const TRAIN_WINDOW: usize = 25;

/// What figure 5 marks besides the curves.
#[derive(Clone, Copy, Debug, Default)]
pub struct Marks {
    /// The step of the kept model.
    pub kept_step: Option<usize>,
    /// The true entropy of the data's density, if known.
    pub entropy: Option<f64>,
}

/// The animation `--animate` writes: the data flowing layer by layer.
pub const ANIMATION: &str = "7_flow.gif";

/// At most this many points move in the animation and fill the panels of
/// figure 6: enough to see the shape, few enough to keep the GIF at about
/// 1.5 MB and the PNG under 200 kB.
const LAYER_POINTS: usize = 1000;

/// Stages the GIF of the data flowing through `model` (2-D data only) and
/// returns its file name.
pub fn animate(
    staging: &mut Staging,
    dir: &Path,
    model: &FlowModel,
    store: &ParamStore<f64>,
    data: &Points,
) -> Result<Option<String>> {
    if data.dim != 2 || signals::interrupted() {
        return Ok(None);
    }
    let stages = layer_stages(model, store, &some_points(data));
    staging.by_path(&dir.join(ANIMATION), |tmp| {
        plot::layer_flow(tmp, &stages).map_err(|e| CliError::new(e.to_string()))
    })?;
    Ok(Some(ANIMATION.to_string()))
}

/// Every file name the figures may be written to.
pub fn file_names(svg: bool) -> Vec<String> {
    let exts: &[&str] = if svg { &["png", "svg"] } else { &["png"] };
    FIGURES
        .iter()
        .flat_map(|f| exts.iter().map(move |e| format!("{f}.{e}")))
        .collect()
}

/// Draws every figure into `dir`, staged in `staging`; returns the file
/// names. Figures that only make sense in two dimensions (the density grid
/// and the warped plane) are skipped for other dimensions; the rest show the
/// first two coordinates. After Ctrl-C the remaining figures are skipped.
#[allow(clippy::too_many_arguments)]
pub fn draw_all(
    staging: &mut Staging,
    dir: &Path,
    model: &FlowModel,
    store: &ParamStore<f64>,
    data: &Points,
    metrics: &[MetricRow],
    marks: Marks,
    svg: bool,
    seed: u64,
) -> Result<Vec<String>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = data.to_tensor::<f64>();
    let n_samples = data.rows().clamp(500, 5000);
    let samples = model.sample(store, n_samples, &mut rng);
    let two_d = data.dim == 2;

    let mut files = FigureFiles::new(staging, dir, svg);

    let data_xy = data.xy();
    let sample_xy = first_two(&samples);
    files.save(FIGURES[0], &|p, f| {
        plot::data_vs_samples(p, f, &data_xy, &sample_xy)
    })?;

    if two_d {
        let grid = density_grid(model, store, &data_xy, 160);
        files.save(FIGURES[1], &|p, f| plot::density(p, f, &grid, &data_xy))?;
    }

    let z = first_two(&model.forward(store, &x).0);
    files.save(FIGURES[2], &|p, f| plot::latent(p, f, &z))?;

    if two_d {
        let lines = warped_grid(model, store);
        files.save(FIGURES[3], &|p, f| {
            plot::inverse_warp(p, f, &sample_xy, &lines)
        })?;
    }

    let curve = Curve {
        step: metrics.iter().map(|m| m.step as f64).collect(),
        train: moving_average(
            &metrics.iter().map(|m| m.train_nll).collect::<Vec<_>>(),
            TRAIN_WINDOW,
        ),
        train_window: TRAIN_WINDOW,
        kept_step: marks.kept_step.map(|s| s as f64),
        entropy: marks.entropy,
        heldout: metrics
            .iter()
            .map(|m| m.heldout_nll.unwrap_or(f64::NAN))
            .collect(),
    };
    if !metrics.is_empty() {
        files.save(FIGURES[4], &|p, f| plot::training_curve(p, f, &curve))?;
    }

    let stages = layer_stages(model, store, &some_points(data));
    files.save(FIGURES[5], &|p, f| plot::layer_panels(p, f, &stages))?;
    Ok(files.written)
}

/// Stages figures into a run folder, as PNG and (if asked) SVG, and keeps
/// the names of the files it staged.
pub struct FigureFiles<'a> {
    staging: &'a mut Staging,
    dir: &'a Path,
    svg: bool,
    pub written: Vec<String>,
}

impl<'a> FigureFiles<'a> {
    pub fn new(staging: &'a mut Staging, dir: &'a Path, svg: bool) -> Self {
        FigureFiles {
            staging,
            dir,
            svg,
            written: Vec::new(),
        }
    }

    /// `draw` into `{name}.png` (and `{name}.svg`); nothing more once a
    /// signal asked to stop.
    pub fn save(
        &mut self,
        name: &str,
        draw: &dyn Fn(&Path, Format) -> std::result::Result<(), plot::PlotError>,
    ) -> Result<()> {
        let formats: &[(Format, &str)] = if self.svg {
            &[(Format::Png, "png"), (Format::Svg, "svg")]
        } else {
            &[(Format::Png, "png")]
        };
        for (format, ext) in formats {
            if signals::interrupted() {
                return Ok(());
            }
            let file = format!("{name}.{ext}");
            self.staging.by_path(&self.dir.join(&file), |tmp| {
                draw(tmp, *format).map_err(|e| CliError::new(e.to_string()))
            })?;
            self.written.push(file);
        }
        Ok(())
    }
}

/// Each value replaced by the mean of the (up to) `window` values ending at it:
/// minibatch NLLs are noisy, and the trend is what a reader wants to see.
pub fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

/// The first [`LAYER_POINTS`] points (the split has shuffled them).
fn some_points(data: &Points) -> Tensor<f64> {
    data.select(&(0..data.rows().min(LAYER_POINTS)).collect::<Vec<_>>())
        .to_tensor()
}

pub fn first_two(t: &Tensor<f64>) -> Vec<Point> {
    (0..t.rows()).map(|i| [t.row(i)[0], t.row(i)[1]]).collect()
}

/// log p on a regular grid over the data's extent (with a margin).
pub fn density_grid(
    model: &FlowModel,
    store: &ParamStore<f64>,
    data: &[Point],
    size: usize,
) -> Grid {
    let extent = |k: usize| {
        let mut v: Vec<f64> = data.iter().map(|p| p[k]).collect();
        v.sort_by(f64::total_cmp);
        let (lo, hi) = (v[0], v[v.len() - 1]);
        let margin = 0.15 * (hi - lo).max(1e-9);
        (lo - margin, hi + margin)
    };
    lattice(extent(0), extent(1), size, |points| {
        model.log_prob(store, points).into_data()
    })
}

/// `values` of the points of a `size` × `size` lattice over the rectangle
/// `x` × `y` (corners included), row by row from the bottom.
pub fn lattice(
    x: (f64, f64),
    y: (f64, f64),
    size: usize,
    values: impl Fn(&Tensor<f64>) -> Vec<f64>,
) -> Grid {
    let axis = |(a, b): (f64, f64)| -> Vec<f64> {
        (0..size)
            .map(|i| a + (b - a) * i as f64 / (size - 1) as f64)
            .collect()
    };
    let (xs, ys) = (axis(x), axis(y));
    let mut points = Vec::with_capacity(size * size * 2);
    for y in &ys {
        for x in &xs {
            points.extend_from_slice(&[*x, *y]);
        }
    }
    let values = values(&Tensor::new(points, &[size * size, 2]));
    Grid {
        x: xs,
        y: ys,
        values,
    }
}

/// The lines z₁ = c and z₂ = c of the latent plane (c = −3, −2.5, …, 3), pulled
/// back through f⁻¹: how the flow bends the plane to fit the data.
fn warped_grid(model: &FlowModel, store: &ParamStore<f64>) -> Vec<Vec<Point>> {
    let levels: Vec<f64> = (0..13).map(|i| -3.0 + 0.5 * i as f64).collect();
    let along: Vec<f64> = (0..121).map(|i| -3.5 + 7.0 * i as f64 / 120.0).collect();
    let mut lines = Vec::new();
    for &c in &levels {
        for horizontal in [true, false] {
            let pts: Vec<f64> = along
                .iter()
                .flat_map(|&t| if horizontal { [t, c] } else { [c, t] })
                .collect();
            let x = model.inverse(store, &Tensor::new(pts, &[along.len(), 2])).0;
            lines.push(first_two(&x));
        }
    }
    lines
}

/// The data, standardized, then after each layer that bends the density
/// (couplings, planar flows: not the ActNorms, permutations or LU maps between
/// them, which only rescale or rotate).
fn layer_stages(
    model: &FlowModel,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
) -> Vec<(String, Vec<Point>)> {
    let (standardized, after) = model.stages(store, x);
    let mut stages = vec![
        ("data".to_string(), first_two(x)),
        ("standardized".to_string(), first_two(&standardized)),
    ];
    let bending = after.iter().filter(|(layer, _)| layer.bends_the_density());
    stages.extend(
        bending
            .enumerate()
            .map(|(k, (_, h))| (format!("after layer {}", k + 1), first_two(h))),
    );
    stages
}
