//! `cli bench --draw RESULTS --out FIGURE`: the scaling figure from the JSON
//! lines of `cli bench --sweep points|hidden --json` runs (one file may hold
//! both sweeps at several thread counts).

use crate::error::{CliError, Result};
use crate::files::{refuse_overwriting_inputs, StagedFile};
use crate::plot::{self, Format, ScalingLine, ScalingPanel};
use std::collections::BTreeMap;
use std::path::Path;

/// A results file bigger than this is not the output of a few sweeps.
const MAX_BYTES: u64 = 1 << 20;

/// One timed size of one sweep.
struct Row {
    sweep: String,
    threads: u64,
    points: f64,
    hidden: f64,
    ms: f64,
}

pub fn draw(input: &Path, out: &Path) -> Result<()> {
    refuse_overwriting_inputs(&[("--draw", input)], &[("--out", out.to_path_buf())])?;
    let format = match out.extension().and_then(|e| e.to_str()) {
        Some("png") => Format::Png,
        Some("svg") => Format::Svg,
        _ => return Err(CliError::new("--out: the figure must end in .png or .svg")),
    };
    let rows = read_rows(input)?;
    let panels: Vec<ScalingPanel> = ["points", "hidden"]
        .iter()
        .filter_map(|sweep| panel(sweep, &rows))
        .collect();
    if panels.is_empty() {
        return Err(CliError::new(format!(
            "--draw {}: no rows of `cli bench --sweep points|hidden --json` in it",
            input.display()
        )));
    }
    let staged = StagedFile::create(out)?;
    plot::scaling(staged.temp_path(), format, &panels).map_err(|e| CliError::new(e.to_string()))?;
    staged.commit()
}

/// The rows of every sweep line of `input`; other JSON lines are skipped.
fn read_rows(input: &Path) -> Result<Vec<Row>> {
    let fail = |why: String| CliError::new(format!("--draw {}: {why}", input.display()));
    let size = std::fs::metadata(input)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if size > MAX_BYTES {
        return Err(fail(format!(
            "{size} bytes; the JSON lines of a few sweeps are far smaller"
        )));
    }
    let text = std::fs::read_to_string(input).map_err(|e| fail(e.to_string()))?;
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| fail(format!("line {}: not JSON ({e})", i + 1)))?;
        let Some(sweep) = value["sweep"].as_str() else {
            continue;
        };
        let number = |key: &str| {
            value[key]
                .as_f64()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| fail(format!("line {}: `{key}` is not a positive number", i + 1)))
        };
        rows.push(Row {
            sweep: sweep.to_string(),
            threads: number("threads")? as u64,
            points: number("points")?,
            hidden: number("hidden")?,
            ms: number("ms_per_epoch_median")?,
        });
    }
    Ok(rows)
}

/// The panel of one sweep: a line per thread count, sizes in order (a size
/// timed twice keeps its last row).
fn panel(sweep: &str, rows: &[Row]) -> Option<ScalingPanel> {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.sweep == sweep).collect();
    let first = rows.first()?;
    let mut by_threads: BTreeMap<u64, BTreeMap<u64, f64>> = BTreeMap::new();
    for r in &rows {
        let size = if sweep == "points" {
            r.points
        } else {
            r.hidden
        };
        by_threads
            .entry(r.threads)
            .or_default()
            .insert(size as u64, r.ms);
    }
    let lines = by_threads
        .into_iter()
        .map(|(threads, sizes)| ScalingLine {
            label: format!("{threads} thread{}", if threads == 1 { "" } else { "s" }),
            points: sizes.into_iter().map(|(s, ms)| [s as f64, ms]).collect(),
        })
        .collect();
    let (title, x_name, guide) = if sweep == "points" {
        (
            format!("Training points (hidden {})", first.hidden),
            "points (log scale)",
            (1.0, "∝ points (linear)"),
        )
    } else {
        (
            format!("Hidden width ({} points)", first.points),
            "hidden width (log scale)",
            (2.0, "∝ width² (quadratic)"),
        )
    };
    Some(ScalingPanel {
        title,
        x_name: x_name.to_string(),
        lines,
        guide: (guide.0, guide.1.to_string()),
    })
}
