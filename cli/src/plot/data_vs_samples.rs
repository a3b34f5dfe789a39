//! Figure 1: the training data next to samples from the model.

use super::canvas::{render, DrawResult, Figure};
use super::legend::{key, Swatch};
use super::limits::{finite, robust_limits};
use super::scatter::{
    axes, count_note, draw_points, empty_note, heading, outside, split_heading, Aspect, Axes,
    AxisText,
};
use super::style::{DATA, MODEL, SUBTITLE, TITLE};
use super::{Format, PlotError, Point};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Draws `data` (left, blue) and `samples` from the model (right, orange) in
/// two panels with the same axis limits, so a good model's panel looks like
/// the data's.
pub fn data_vs_samples(
    path: &Path,
    format: Format,
    data: &[Point],
    samples: &[Point],
) -> Result<(), PlotError> {
    render(path, format, &DataVsSamples { data, samples })
}

struct DataVsSamples<'a> {
    data: &'a [Point],
    samples: &'a [Point],
}

impl Figure for DataVsSamples<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 660)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        // One set of limits for both panels, from both clouds together:
        // comparing shapes is only fair on the same axes.
        let (x, y) = robust_limits(finite(self.data).chain(finite(self.samples)));
        let panels = root.split_evenly((1, 2));
        let contents = [
            ("Data", "the training data", self.data, DATA),
            (
                "Model samples",
                "samples drawn from the model",
                self.samples,
                MODEL,
            ),
        ];
        for (area, (title, meaning, points, colour)) in panels.iter().zip(contents) {
            let (head, body) = split_heading(area, TITLE, true);
            let spec = Axes {
                x: x.clone(),
                y: y.clone(),
                x_name: "x₁",
                y_name: "x₂",
                aspect: Aspect::EqualByRange,
                grid: true,
                text: AxisText::Normal,
            };
            let mut chart = axes(&body, &spec)?;
            let n = finite(points).count();
            draw_points(&mut chart, finite(points).map(|p| (p, colour)), n)?;
            if n == 0 {
                empty_note(&chart, "no points")?;
            }
            key(&chart, &[(meaning, Swatch::Dot(colour))], SUBTITLE, points)?;
            let note = count_note(n, outside(&chart, points));
            heading(&head, title, TITLE, Some(&note))?;
        }
        Ok(())
    }
}
