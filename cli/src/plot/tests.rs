//! Draws every figure from synthetic data and checks the PNGs are real,
//! non-blank images. The files are kept (in `$PLOT_TEST_DIR`, or a folder in
//! the system temp dir) so a person can look at them.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};
use rand_distr::StandardNormal;
use std::path::PathBuf;

/// Seeded draws for synthetic figures.
struct Rng(StdRng);

impl Rng {
    fn seeded(seed: u64) -> Self {
        Rng(StdRng::seed_from_u64(seed))
    }

    fn normal(&mut self) -> f64 {
        self.0.sample(StandardNormal)
    }
}

/// Two interleaved noisy half circles ("two moons"), noise 0.08.
fn two_moons(n: usize, rng: &mut Rng) -> Vec<Point> {
    flows::data::moons(n, 0.08, &mut rng.0)
}

fn gaussian_blob(n: usize, rng: &mut Rng) -> Vec<Point> {
    (0..n).map(|_| [rng.normal(), rng.normal()]).collect()
}

/// Where the figures go.
fn out_dir() -> PathBuf {
    let dir = std::env::var_os("PLOT_TEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("nf-plot-tests"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Decodes a PNG file and checks it is a plausible figure: the expected
/// size range, some ink on the page, and more than a handful of colours.
fn assert_looks_drawn(path: &std::path::Path) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = ::png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(
        (700..=1600).contains(&info.width),
        "{}: width {}",
        path.display(),
        info.width
    );
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks_exact(3).collect();
    let inked = pixels.iter().filter(|p| p.iter().any(|&c| c < 235)).count();
    let fraction = inked as f64 / pixels.len() as f64;
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    assert!(
        fraction > 0.01,
        "{}: only {fraction:.4} of pixels inked",
        path.display()
    );
    assert!(
        colours.len() > 50,
        "{}: only {} colours",
        path.display(),
        colours.len()
    );
}

#[test]
fn data_vs_samples_draws() {
    let mut rng = Rng::seeded(1);
    let data = two_moons(2000, &mut rng);
    let mut samples = two_moons(2000, &mut rng);
    samples.iter_mut().for_each(|p| p[0] += 0.1 * rng.normal());
    samples.push([f64::NAN, 0.0]); // skipped
    samples.push([40.0, -30.0]); // an outlier: counted, not drawn
    let dir = out_dir();
    for (format, ext) in [(Format::Png, "png"), (Format::Svg, "svg")] {
        let path = dir.join(format!("1-data-vs-samples.{ext}"));
        data_vs_samples(&path, format, &data, &samples).unwrap();
    }
    assert_looks_drawn(&dir.join("1-data-vs-samples.png"));
}

/// log-density of an equal mixture of two isotropic Gaussians.
fn mixture_log_density(p: Point) -> f64 {
    let comp = |c: Point, s: f64| {
        let d2 = (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2);
        -d2 / (2.0 * s * s) - (std::f64::consts::TAU * s * s).ln()
    };
    let (a, b) = (comp([-1.0, 0.0], 0.5), comp([1.2, 0.8], 0.8));
    let m = a.max(b);
    m + (0.5 * (a - m).exp() + 0.5 * (b - m).exp()).ln()
}

#[test]
fn density_draws() {
    let mut rng = Rng::seeded(2);
    let (n, lo, hi) = (120, -4.0, 4.0);
    let axis: Vec<f64> = (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect();
    let values = axis
        .iter()
        .flat_map(|&y| axis.iter().map(move |&x| mixture_log_density([x, y])))
        .collect();
    let grid = Grid {
        x: axis.clone(),
        y: axis,
        values,
    };
    let data: Vec<Point> = (0..1000)
        .map(|i| {
            let (c, s) = if i % 2 == 0 {
                ([-1.0, 0.0], 0.5)
            } else {
                ([1.2, 0.8], 0.8)
            };
            [c[0] + s * rng.normal(), c[1] + s * rng.normal()]
        })
        .collect();
    let dir = out_dir();
    for (format, ext) in [(Format::Png, "png"), (Format::Svg, "svg")] {
        density(&dir.join(format!("2-density.{ext}")), format, &grid, &data).unwrap();
    }
    assert_looks_drawn(&dir.join("2-density.png"));
    // Empty inputs draw an empty figure; a malformed grid is an error.
    density(
        &dir.join("2-density-empty.png"),
        Format::Png,
        &Grid::default(),
        &[],
    )
    .unwrap();
    let bad = Grid {
        x: vec![0.0, 1.0],
        y: vec![0.0],
        values: vec![],
    };
    let err = density(&dir.join("never.png"), Format::Png, &bad, &[]).unwrap_err();
    assert!(err.to_string().contains("never.png"), "{err}");
}

#[test]
fn latent_draws() {
    let mut rng = Rng::seeded(3);
    // Nearly standard normal, slightly squashed, plus one far outlier.
    let mut z: Vec<Point> = gaussian_blob(1500, &mut rng)
        .into_iter()
        .map(|p| [1.1 * p[0], 0.9 * p[1] + 0.1 * p[0] * p[0]])
        .collect();
    z.push([10.0, 0.0]);
    let dir = out_dir();
    for (format, ext) in [(Format::Png, "png"), (Format::Svg, "svg")] {
        latent(&dir.join(format!("3-latent.{ext}")), format, &z).unwrap();
    }
    assert_looks_drawn(&dir.join("3-latent.png"));
}

/// A made-up inverse flow: bends the latent plane into a banana.
fn bend(z: Point) -> Point {
    [
        0.8 * z[0] + 0.3 * z[1].sin(),
        0.6 * z[1] + 0.25 * z[0] * z[0] - 1.0,
    ]
}

#[test]
fn inverse_warp_draws() {
    let mut rng = Rng::seeded(4);
    let samples: Vec<Point> = gaussian_blob(2000, &mut rng)
        .into_iter()
        .map(bend)
        .collect();
    let ticks: Vec<f64> = (0..=12).map(|i| -3.0 + 0.5 * i as f64).collect();
    let along: Vec<f64> = (0..=100).map(|i| -3.0 + 0.06 * i as f64).collect();
    let mut lines: Vec<Vec<Point>> = Vec::new();
    for &c in &ticks {
        lines.push(along.iter().map(|&t| bend([t, c])).collect()); // horizontal
        lines.push(along.iter().map(|&t| bend([c, t])).collect()); // vertical
    }
    let dir = out_dir();
    for (format, ext) in [(Format::Png, "png"), (Format::Svg, "svg")] {
        inverse_warp(
            &dir.join(format!("4-inverse-warp.{ext}")),
            format,
            &samples,
            &lines,
        )
        .unwrap();
    }
    assert_looks_drawn(&dir.join("4-inverse-warp.png"));
}

#[test]
fn training_curve_draws() {
    let mut rng = Rng::seeded(5);
    let step: Vec<f64> = (0..=300).map(|i| 10.0 * i as f64).collect();
    let train: Vec<f64> = step
        .iter()
        .map(|&s| {
            1.1 + 2.5 * (-s / 200.0).exp() + 0.05 * rng.normal() + if s < 30.0 { 40.0 } else { 0.0 }
        })
        .collect();
    let heldout = step
        .iter()
        .map(|&s| match s as u64 % 200 {
            0 => 1.2 + 2.5 * (-s / 200.0).exp() + s / 30_000.0,
            _ => f64::NAN,
        })
        .collect();
    let curve = Curve {
        step,
        train,
        heldout,
        train_window: 25,
        kept_step: Some(150.0),
        entropy: Some(1.0),
    };
    let dir = out_dir();
    for (format, ext) in [(Format::Png, "png"), (Format::Svg, "svg")] {
        training_curve(&dir.join(format!("5-training-curve.{ext}")), format, &curve).unwrap();
    }
    assert_looks_drawn(&dir.join("5-training-curve.png"));
    let bad = Curve {
        step: vec![0.0],
        ..Curve::default()
    };
    assert!(training_curve(&dir.join("never.png"), Format::Png, &bad).is_err());
}

#[test]
fn layer_panels_draw() {
    let mut rng = Rng::seeded(6);
    let mut points = two_moons(1000, &mut rng);
    let mut stages = vec![("data".to_string(), points.clone())];
    for k in 1..=8 {
        // Alternate shears and squashes: a stand-in for coupling layers.
        points = points
            .iter()
            .map(|p| match k % 2 {
                0 => [p[0] + 0.5 * (1.5 * p[1]).sin(), 0.8 * p[1]],
                _ => [0.9 * p[0], p[1] - 0.4 * p[0].tanh() * 2.0],
            })
            .collect();
        stages.push((
            format!("affine coupling {k} (x{})", 2 - k % 2),
            points.clone(),
        ));
    }
    let dir = out_dir();
    for (format, ext) in [(Format::Png, "png"), (Format::Svg, "svg")] {
        layer_panels(&dir.join(format!("6-layer-panels.{ext}")), format, &stages).unwrap();
    }
    assert_looks_drawn(&dir.join("6-layer-panels.png"));
    layer_panels(&dir.join("6-layer-panels-3.png"), Format::Png, &stages[..3]).unwrap();
    assert_looks_drawn(&dir.join("6-layer-panels-3.png"));
}

/// Empty and degenerate inputs draw a figure (or return an error); they
/// never panic.
#[test]
fn empty_inputs_do_not_panic() {
    let dir = out_dir().join("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name);
    let nan = [[f64::NAN, 1.0], [f64::INFINITY, 0.0]];
    data_vs_samples(&p("1.png"), Format::Png, &[], &nan).unwrap();
    latent(&p("3.png"), Format::Png, &[]).unwrap();
    inverse_warp(&p("4.png"), Format::Png, &[], &[]).unwrap();
    inverse_warp(
        &p("4b.png"),
        Format::Png,
        &[[1.0, 1.0]],
        &[vec![[0.0, 0.0]]],
    )
    .unwrap();
    training_curve(&p("5.png"), Format::Png, &Curve::default()).unwrap();
    let one = Curve {
        step: vec![3.0],
        train: vec![f64::NAN],
        kept_step: Some(3.0),
        entropy: Some(f64::NAN),
        ..Curve::default()
    };
    training_curve(&p("5b.png"), Format::Png, &one).unwrap();
    layer_panels(&p("6.png"), Format::Png, &[]).unwrap();
    layer_panels(&p("6b.png"), Format::Png, &[("only".into(), vec![])]).unwrap();
}

/// The format, not the file name, decides the encoding: a temporary name
/// for write-then-rename works.
#[test]
fn png_ignores_the_extension() {
    let path = out_dir().join("fig.png.tmp");
    latent(&path, Format::Png, &[[0.0, 0.0]]).unwrap();
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
    let missing = out_dir().join("no/such/dir/fig.png");
    let err = latent(&missing, Format::Png, &[]).unwrap_err();
    assert!(err.0.contains("no/such/dir/fig.png"), "{err}");
}
