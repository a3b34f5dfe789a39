//! Figure 3: the data mapped to latent space, over the target N(0, I).

use super::canvas::{render, DrawResult, Figure};
use super::legend::{key, Swatch};
use super::limits::finite;
use super::scatter::{
    axes, count_note, draw_points, empty_note, heading, outside, split_heading, Aspect, Axes,
    AxisText,
};
use super::style::{text, DATA, GUIDE, INK, SUBTITLE, TICKS, TITLE};
use super::{Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::f64::consts::TAU;
use std::path::Path;

/// The view is fixed, so figures from different runs compare directly.
const LIMIT: f64 = 4.0;

/// Draws `z = f(x)` for the data (blue dots) over circles of radius 1, 2, 3
/// (the 1σ, 2σ, 3σ contours of the standard normal). If the flow works, the
/// dots look like a round standard-normal blob. The subtitle compares the
/// share of points inside each circle with what N(0, I) predicts.
/// The view is fixed to [−4, 4]²; points outside it are counted, not drawn.
pub fn latent(path: &Path, format: Format, z: &[Point]) -> Result<(), PlotError> {
    render(path, format, &Latent { z })
}

struct Latent<'a> {
    z: &'a [Point],
}

impl Figure for Latent<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 960)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, TITLE, true);
        let spec = Axes {
            x: -LIMIT..LIMIT,
            y: -LIMIT..LIMIT,
            x_name: "z₁",
            y_name: "z₂",
            aspect: Aspect::EqualByArea,
            grid: false,
            text: AxisText::Normal,
        };
        let mut chart = axes(&body, &spec)?;

        // Circles first, so the points are drawn over them.
        for r in [1.0, 2.0, 3.0] {
            let circle = (0..=180).map(|k| {
                let t = TAU * k as f64 / 180.0;
                (r * t.cos(), r * t.sin())
            });
            chart.draw_series(LineSeries::new(circle, GUIDE.stroke_width(2)))?;
        }

        let n = finite(self.z).count();
        draw_points(&mut chart, finite(self.z).map(|p| (p, DATA)), n)?;

        // Labels last, so no point hides them, on a translucent white tag;
        // up and to the right of each circle, just outside it.
        let style = text(TICKS + 1.0, INK).pos(Pos::new(HPos::Left, VPos::Bottom));
        for (r, label) in [(1.0, "1σ"), (2.0, "2σ"), (3.0, "3σ")] {
            let (w, h) = root.estimate_text_size(label, &style)?;
            let (w, h) = (w as i32, h as i32);
            let at = (r * 0.72 + 0.04, r * 0.72 + 0.04);
            // Element parts are placed in pixels relative to `at`.
            let tag = EmptyElement::at(at)
                + Rectangle::new([(-3, -h - 4), (w + 3, 3)], WHITE.mix(0.8).filled())
                + Text::new(label, (0, 0), style.clone());
            chart.draw_series(std::iter::once(tag))?;
        }
        if n == 0 {
            empty_note(&chart, "no points")?;
        }
        let entries = [
            (
                "the data mapped to latent space, z = f(x)",
                Swatch::Dot(DATA),
            ),
            ("circles of 1σ, 2σ, 3σ of N(0, I)", Swatch::Line(GUIDE)),
        ];
        key(&chart, &entries, SUBTITLE, self.z)?;

        let note = format!(
            "{}; inside 1σ/2σ/3σ: {} (N(0, I): 39/86/99 %)",
            count_note(n, outside(&chart, self.z)),
            shares_inside(self.z)
        );
        heading(&head, "Data in latent space, z = f(x)", TITLE, Some(&note))
    }
}

/// "41/87/99 %": the percentage of finite points within radius 1, 2 and 3.
/// For a 2-D standard normal these are 1 − e^(−r²/2) = 39, 86 and 99 %.
fn shares_inside(z: &[Point]) -> String {
    let radii: Vec<f64> = finite(z).map(|p| p[0].hypot(p[1])).collect();
    if radii.is_empty() {
        return "–".into();
    }
    let share = |r: f64| {
        let k = radii.iter().filter(|&&d| d <= r).count();
        format!("{:.0}", 100.0 * k as f64 / radii.len() as f64)
    };
    format!("{}/{}/{} %", share(1.0), share(2.0), share(3.0))
}
