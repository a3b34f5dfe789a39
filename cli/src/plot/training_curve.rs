//! Figure 5: negative log-likelihood during training.

use super::canvas::{render, DrawResult, Figure};
use super::clip::clip_polyline;
use super::limits::{quantile, sorted_finite, widen};
use super::scatter::{axes, empty_note, heading, split_heading, Aspect, Axes, AxisText, Chart};
use super::style::{text, DATA, GUIDE, INK, MODEL, TICKS, TITLE};
use super::{Curve, Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// The first steps are left out when choosing the top of the y axis...
const WARM_UP: f64 = 0.05;
/// ...and the top sits at this quantile of the remaining values, so the
/// first, much larger losses do not flatten the part of the curve that
/// matters. Clipped parts of the curve run off the top of the plot.
const TOP_QUANTILE: f64 = 0.99;

/// Draws train NLL (blue line, a moving average) and held-out NLL (orange
/// line with dots) in nats per point against the training step, with a
/// legend; a grey line at the true entropy where it is known, and a dark
/// vertical line at the step of the kept model.
///
/// `heldout` is NaN at steps where it was not evaluated (or empty if it never
/// was): its line joins the steps that have a value. Other non-finite values
/// are skipped too. Lower is better for both; a held-out curve that turns
/// up while the train curve keeps falling means over-fitting.
pub fn training_curve(path: &Path, format: Format, curve: &Curve) -> Result<(), PlotError> {
    training_curve_with(path, format, curve, &CurveText::LIKELIHOOD)
}

/// What a curve's figure calls its parts.
#[derive(Clone, Copy, Debug)]
pub struct CurveText {
    pub title: &'static str,
    pub y_name: &'static str,
    /// The `train` series, before "(moving average over N steps)".
    pub train: &'static str,
    /// The `train` series when it is not averaged.
    pub train_raw: &'static str,
    pub heldout: &'static str,
    /// The `entropy` line, before its value.
    pub floor: &'static str,
    pub unit: &'static str,
}

impl CurveText {
    /// Maximum likelihood: minibatch and held-out NLL over the entropy.
    pub const LIKELIHOOD: CurveText = CurveText {
        title: "Training curve",
        y_name: "NLL (nats/point)",
        train: "train",
        train_raw: "train (minibatch NLL)",
        heldout: "held-out",
        floor: "true entropy (the floor)",
        unit: "nats/point",
    };
}

/// [`training_curve`] with other names for its parts (variational
/// inference draws its loss and −ELBO over −log Z).
pub fn training_curve_with(
    path: &Path,
    format: Format,
    curve: &Curve,
    text: &CurveText,
) -> Result<(), PlotError> {
    let n = curve.step.len();
    if curve.train.len() != n || !(curve.heldout.is_empty() || curve.heldout.len() == n) {
        let lengths = (n, curve.train.len(), curve.heldout.len());
        let msg = format!("curve lengths differ (step, train, heldout): {lengths:?}");
        return Err(PlotError::at(path, msg));
    }
    render(path, format, &TrainingCurve { curve, text })
}

struct TrainingCurve<'a> {
    curve: &'a Curve,
    text: &'a CurveText,
}

impl TrainingCurve<'_> {
    /// The finite (step, value) pairs of one series.
    fn series(&self, values: &[f64]) -> Vec<Point> {
        (self.curve.step.iter().zip(values))
            .map(|(&s, &v)| [s, v])
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .collect()
    }

    /// The y limits: from the lowest value to a high quantile of the values
    /// after the warm-up, plus a margin.
    fn y_range(&self) -> Range<f64> {
        let skip = (WARM_UP * self.curve.step.len() as f64).ceil() as usize;
        let tail = |v: &[f64]| v.iter().skip(skip).copied().collect::<Vec<_>>();
        let late = sorted_finite(
            tail(&self.curve.train)
                .into_iter()
                .chain(tail(&self.curve.heldout)),
        );
        let floor = self.curve.entropy.filter(|h| h.is_finite());
        let all = sorted_finite(
            (self.curve.train.iter().chain(&self.curve.heldout))
                .copied()
                .chain(floor),
        );
        match (all.first(), late.is_empty()) {
            (None, _) => 0.0..1.0,
            (Some(&lo), true) => widen(lo, *all.last().unwrap_or(&lo), 0.1),
            (Some(&lo), false) => widen(lo, quantile(&late, TOP_QUANTILE).max(lo), 0.1),
        }
    }
}

impl Figure for TrainingCurve<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 660)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let (head, body) = split_heading(root, TITLE, true);
        let train = self.series(&self.curve.train);
        let heldout = self.series(&self.curve.heldout);
        let steps = sorted_finite(self.curve.step.iter().copied());
        let x = match (steps.first(), steps.last()) {
            (Some(&a), Some(&b)) if b > a => a..b,
            (Some(&a), _) => widen(a, a, 0.0),
            _ => 0.0..1.0,
        };
        let spec = Axes {
            x,
            y: self.y_range(),
            x_name: "step",
            y_name: self.text.y_name,
            aspect: Aspect::Free,
            grid: true,
            text: AxisText::Normal,
        };
        let mut chart = axes(&body, &spec)?;

        let train_label = match self.curve.train_window {
            0 | 1 => self.text.train_raw.to_string(),
            w => format!("{} (moving average over {w} steps)", self.text.train),
        };
        draw_line(&mut chart, &train, DATA, &train_label, false)?;
        if !heldout.is_empty() {
            draw_line(&mut chart, &heldout, MODEL, self.text.heldout, true)?;
        }
        let (xs, ys) = (chart.x_range(), chart.y_range());
        if let Some(h) = self.curve.entropy.filter(|h| ys.contains(h)) {
            let floor = [[xs.start, h], [xs.end, h]];
            draw_line(
                &mut chart,
                &floor,
                GUIDE,
                &format!("{} {h:.4}", self.text.floor),
                false,
            )?;
        }
        if let Some(k) = self
            .curve
            .kept_step
            .filter(|k| xs.contains(k) || *k == xs.end)
        {
            let mark = [[k, ys.start], [k, ys.end]];
            draw_line(
                &mut chart,
                &mark,
                INK,
                &format!("kept model (step {k})"),
                false,
            )?;
        }
        if train.is_empty() && heldout.is_empty() {
            empty_note(&chart, "no finite values")?;
        } else {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(text(TICKS + 1.0, INK))
                .background_style(WHITE.mix(0.9))
                .border_style(INK.mix(0.4))
                .margin(12)
                .draw()?;
        }

        let mut note = last_values(&train, &heldout, self.text);
        let top = chart.y_range().end;
        if train.iter().chain(&heldout).any(|p| p[1] > top) {
            note += "; early values above the top are cut off";
        }
        heading(&head, self.text.title, TITLE, Some(&note))
    }
}

/// Draws one series, cut to the view, and gives it a legend entry.
fn draw_line<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    points: &[Point],
    colour: RGBColor,
    label: &str,
    dots: bool,
) -> DrawResult<(), DB> {
    let (x, y) = (chart.x_range(), chart.y_range());
    let style = colour.stroke_width(2);
    for part in clip_polyline(points, &x, &y) {
        chart.draw_series(LineSeries::new(
            part.into_iter().map(|p| (p[0], p[1])),
            style,
        ))?;
    }
    if dots {
        // Held-out values are usually sparse: dots show where they were taken.
        let inside = points.iter().filter(|p| super::limits::inside(**p, &x, &y));
        chart.draw_series(inside.map(|p| Circle::new((p[0], p[1]), 3, colour.filled())))?;
    }
    // The legend entry comes from an empty series: the line above may be in
    // several pieces, or none if it is entirely outside the view.
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(3)));
    Ok(())
}

/// "last: train 1.234, held-out 1.301 nats/point".
fn last_values(train: &[Point], heldout: &[Point], text: &CurveText) -> String {
    let last = |s: &[Point]| s.last().map(|p| format!("{:.3}", p[1]));
    let (a, b, unit) = (text.train, text.heldout, text.unit);
    match (last(train), last(heldout)) {
        (Some(t), Some(h)) => format!("last: {a} {t}, {b} {h} {unit}"),
        (Some(t), None) => format!("last: {a} {t} {unit}"),
        (None, Some(h)) => format!("last: {b} {h} {unit}"),
        (None, None) => "no values yet".into(),
    }
}
