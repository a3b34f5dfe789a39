//! metrics.csv: the training record, one [`MetricRow`] per line,
//! `step,train_nll,heldout_nll,seconds` (held-out empty where not measured).

use flows::MetricRow;
use std::path::Path;

pub const HEADER: &str = "step,train_nll,heldout_nll,seconds";

/// The rows as CSV text, header first.
pub fn to_csv(rows: &[MetricRow]) -> String {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        let h = r.heldout_nll.map(|h| h.to_string()).unwrap_or_default();
        s.push_str(&format!(
            "{},{},{},{:.4}\n",
            r.step, r.train_nll, h, r.seconds
        ));
    }
    s
}

/// The rows of a metrics.csv text; lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<MetricRow> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            Some(MetricRow {
                step: cells.first()?.parse().ok()?,
                train_nll: cells.get(1)?.parse().ok()?,
                heldout_nll: cells.get(2).and_then(|c| c.parse().ok()),
                seconds: cells.get(3)?.parse().ok()?,
            })
        })
        .collect()
}

/// metrics.csv at `path`, if there is a readable one (the training curve is
/// drawn only then).
pub fn read(path: &Path) -> Vec<MetricRow> {
    std::fs::read_to_string(path)
        .map(|text| parse(&text))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_as_written() {
        let rows = vec![
            MetricRow {
                step: 0,
                train_nll: 2.5,
                heldout_nll: Some(2.25),
                seconds: 0.0,
            },
            MetricRow {
                step: 1,
                train_nll: -0.125,
                heldout_nll: None,
                seconds: 1.5,
            },
        ];
        assert_eq!(parse(&to_csv(&rows)), rows);
        assert!(to_csv(&rows).starts_with(HEADER));
    }
}
