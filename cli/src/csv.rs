//! CSV files of points, in and out.
//!
//! CSV here means: comma separated, an optional header line, one point per row,
//! the same number (≥ 2) of numeric columns on every row. Everything else is
//! refused with a message that names the file and the line.

use crate::dataset::Points;
use crate::error::{CliError, Result};
use std::path::Path;

/// Reads and validates a CSV file of points.
pub fn read_csv(path: &Path) -> Result<Points> {
    let shown = path.display();
    let text = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CliError(format!("{shown}: no such file")),
        _ => CliError(format!("{shown}: cannot read: {e}")),
    })?;
    let text = String::from_utf8(text)
        .map_err(|_| CliError(format!("{shown}: not a text file (invalid UTF-8)")))?;
    parse_csv(&text).map_err(|e| CliError(format!("{shown}: {e}")))
}

/// The CSV rules, on text (so they can be tested without files).
pub fn parse_csv(text: &str) -> std::result::Result<Points, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((first_no, first)) = lines.next() else {
        return Err("the file is empty".into());
    };
    let cells =
        |line: &str| -> Vec<String> { line.split(',').map(|c| c.trim().to_string()).collect() };
    let first_cells = cells(first);
    let numbers: Option<Vec<f64>> = first_cells.iter().map(|c| c.parse::<f64>().ok()).collect();
    let (header, mut data, dim) = match numbers {
        Some(values) => {
            check_values(&values, first_no)?;
            let dim = values.len();
            (None, values, dim)
        }
        None => (Some(first_cells.clone()), Vec::new(), first_cells.len()),
    };
    if dim < 2 {
        return Err(format!(
            "line {first_no} has {dim} column; a density needs at least 2 columns"
        ));
    }
    for (no, line) in lines {
        let row = cells(line);
        if row.len() != dim {
            return Err(format!(
                "line {no} has {} columns, expected {dim} (ragged rows)",
                row.len()
            ));
        }
        let mut values = Vec::with_capacity(dim);
        for (j, cell) in row.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(v) => values.push(v),
                Err(_) => {
                    return Err(format!(
                        "line {no}, column {}: {cell:?} is not a number",
                        j + 1
                    ))
                }
            }
        }
        check_values(&values, no)?;
        data.extend(values);
    }
    if data.is_empty() {
        return Err("the file has a header but no data rows".into());
    }
    Ok(Points { data, dim, header })
}

fn check_values(values: &[f64], line: usize) -> std::result::Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(j) => Err(format!(
            "line {line}, column {}: {} is not a finite number",
            j + 1,
            values[j]
        )),
        None => Ok(()),
    }
}

/// CSV text for points, with a header `x1,x2,…` (or the given names).
pub fn csv_text(points: &Points, header: Option<&[String]>) -> String {
    let mut s = String::with_capacity(points.data.len() * 12);
    let names: Vec<String> = match header {
        Some(h) => h.to_vec(),
        None => (1..=points.dim).map(|j| format!("x{j}")).collect(),
    };
    s.push_str(&names.join(","));
    s.push('\n');
    for i in 0..points.rows() {
        let row: Vec<String> = points.row(i).iter().map(|v| format!("{v}")).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_optional_and_rows_are_checked() {
        let p = parse_csv("a,b\n1,2\n3,4.5\n").unwrap();
        assert_eq!(
            (p.rows(), p.dim, p.data.clone()),
            (2, 2, vec![1.0, 2.0, 3.0, 4.5])
        );
        assert_eq!(p.header, Some(vec!["a".into(), "b".into()]));
        assert_eq!(parse_csv("1,2,3\n4,5,6").unwrap().dim, 3);
        assert!(parse_csv("").unwrap_err().contains("empty"));
        assert!(parse_csv("a,b\n").unwrap_err().contains("no data rows"));
        assert!(parse_csv("1,2\n3\n")
            .unwrap_err()
            .contains("line 2 has 1 columns"));
        assert!(parse_csv("1,2\n3,x\n")
            .unwrap_err()
            .contains("\"x\" is not a number"));
        assert!(parse_csv("1,2\nNaN,1\n")
            .unwrap_err()
            .contains("not a finite number"));
        assert!(parse_csv("1,inf\n")
            .unwrap_err()
            .contains("not a finite number"));
        assert!(parse_csv("x\n1\n2\n")
            .unwrap_err()
            .contains("at least 2 columns"));
    }

    #[test]
    fn written_csv_reads_back_exactly() {
        let p = Points::from_rows(&[vec![0.1, -2.5e-7], vec![3.0, 1e300]], 2);
        let back = parse_csv(&csv_text(&p, None)).unwrap();
        assert_eq!(back.data, p.data);
    }
}
