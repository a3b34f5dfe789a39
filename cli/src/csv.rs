//! CSV files of points, in and out.
//!
//! CSV here means: comma separated, an optional header line, one point per row,
//! the same number (≥ 2) of numeric columns on every row. Everything else is
//! refused with a message that names the file, the line and the column.
//!
//! Files are read as a stream, line by line: a bad line is refused as soon as
//! it is read, a line longer than [`MAX_LINE`] bytes is refused without
//! reading further, and only regular files are opened (a FIFO or a device
//! like `/dev/zero` could block or never end).

use crate::dataset::Points;
use crate::error::{CliError, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The longest line accepted, in bytes: 1 MiB holds tens of thousands of
/// columns, and bounds the memory a line without a newline can take.
pub const MAX_LINE: usize = 1 << 20;

/// A CSV file being read, chunk by chunk.
pub struct CsvReader<R> {
    input: R,
    line_no: usize,
    dim: usize,
    header: Option<Vec<String>>,
    /// The first data row, read while looking for a header.
    first_row: Option<Vec<f64>>,
    /// Data rows handed out so far.
    rows: usize,
}

type Parse<T> = std::result::Result<T, String>;

/// Opens `path` for reading points, refusing what is not a regular file.
pub fn open_csv(path: &Path) -> Result<CsvReader<BufReader<File>>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CliError::new(format!("{shown}: no such file")),
        _ => CliError::new(format!("{shown}: cannot read: {e}")),
    })?;
    if meta.is_dir() {
        return Err(CliError::new(format!(
            "{shown}: is a folder, not a CSV file"
        )));
    }
    if !meta.is_file() {
        return Err(CliError::new(format!(
            "{shown}: not a regular file (a pipe or a device); save the data to a file first"
        )));
    }
    let file = File::open(path).map_err(|e| CliError::new(format!("{shown}: cannot read: {e}")))?;
    CsvReader::new(BufReader::new(file)).map_err(|e| CliError::new(format!("{shown}: {e}")))
}

/// Reads every point of a CSV file, refusing files of more than `max_values`
/// numbers (a bound the caller sets from the memory it has).
pub fn read_csv_limited(path: &Path, max_values: usize) -> Result<Points> {
    let shown = path.display();
    let mut reader = open_csv(path)?;
    let mut all = reader.empty();
    while let Some(chunk) = reader
        .next_chunk(4096)
        .map_err(|e| CliError::new(format!("{shown}: {e}")))?
    {
        all.data.extend_from_slice(&chunk.data);
        if all.data.len() > max_values {
            return Err(CliError::new(format!(
                "{shown}: more than {max_values} numbers, more than fits in this machine's memory"
            )));
        }
    }
    Ok(all)
}

/// The CSV rules, on text (so they can be tested without files).
#[cfg(test)]
pub fn parse_csv(text: &str) -> Parse<Points> {
    let mut reader = CsvReader::new(text.as_bytes())?;
    let mut all = reader.empty();
    while let Some(chunk) = reader.next_chunk(usize::MAX)? {
        all.data.extend_from_slice(&chunk.data);
    }
    Ok(all)
}

impl<R: BufRead> CsvReader<R> {
    /// Reads up to the first row: the header if there is one, and the number
    /// of columns.
    pub fn new(input: R) -> Parse<Self> {
        let mut reader = CsvReader {
            input,
            line_no: 0,
            dim: 0,
            header: None,
            first_row: None,
            rows: 0,
        };
        let Some(first) = reader.next_line()? else {
            return Err("the file is empty".into());
        };
        let cells: Vec<&str> = first.split(',').map(str::trim).collect();
        let numbers = cells.iter().filter(|c| c.parse::<f64>().is_ok()).count();
        if cells.len() < 2 {
            return Err(too_few_columns(reader.line_no, cells.len(), &first));
        }
        reader.dim = cells.len();
        if numbers == 0 {
            reader.header = Some(cells.iter().map(|c| c.to_string()).collect());
        } else {
            reader.first_row = Some(reader.parse_row(&first)?);
        }
        Ok(reader)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// No points yet, with this file's dimension and header.
    pub fn empty(&self) -> Points {
        Points {
            data: Vec::new(),
            dim: self.dim,
            header: self.header.clone(),
        }
    }

    /// The next `max_rows` points (fewer at the end); `None` once every row
    /// has been read. A file with a header and no rows is an error.
    pub fn next_chunk(&mut self, max_rows: usize) -> Parse<Option<Points>> {
        let mut chunk = self.empty();
        if let Some(row) = self.first_row.take() {
            chunk.data.extend(row);
        }
        while chunk.rows() < max_rows {
            let Some(line) = self.next_line()? else {
                break;
            };
            let row = self.parse_row(&line)?;
            chunk.data.extend(row);
        }
        self.rows += chunk.rows();
        if chunk.data.is_empty() {
            if self.rows == 0 {
                return Err("the file has a header but no data rows".into());
            }
            return Ok(None);
        }
        Ok(Some(chunk))
    }

    /// The next non-blank line, trimmed, with its number in `line_no`.
    fn next_line(&mut self) -> Parse<Option<String>> {
        loop {
            let mut bytes = Vec::new();
            let read = (&mut self.input)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut bytes)
                .map_err(|e| format!("cannot read: {e}"))?;
            if read == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if bytes.len() > MAX_LINE {
                return Err(format!(
                    "line {} is longer than {MAX_LINE} bytes (is this a CSV file?)",
                    self.line_no
                ));
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("line {}: not text (invalid UTF-8)", self.line_no))?;
            let text = if self.line_no == 1 {
                text.strip_prefix('\u{feff}').unwrap_or(&text).to_string()
            } else {
                text
            };
            let line = text.trim();
            if !line.is_empty() {
                return Ok(Some(line.to_string()));
            }
        }
    }

    /// One data row: `dim` finite numbers.
    fn parse_row(&self, line: &str) -> Parse<Vec<f64>> {
        let no = self.line_no;
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != self.dim {
            return Err(format!(
                "line {no} has {} columns, expected {} (ragged rows)",
                cells.len(),
                self.dim
            ));
        }
        let mut values = Vec::with_capacity(self.dim);
        for (j, cell) in cells.iter().enumerate() {
            let Ok(v) = cell.parse::<f64>() else {
                return Err(format!(
                    "line {no}, column {}: {:?} is not a number",
                    j + 1,
                    shorten(cell)
                ));
            };
            if !v.is_finite() {
                return Err(format!(
                    "line {no}, column {}: {v} is not a finite number",
                    j + 1
                ));
            }
            values.push(v);
        }
        Ok(values)
    }
}

/// A line with fewer than two columns, with a hint when another separator
/// seems to be in use.
fn too_few_columns(no: usize, columns: usize, line: &str) -> String {
    let hint = if line.contains('\t') {
        " (the line has tabs: columns must be separated by commas)"
    } else if line.contains(';') {
        " (the line has semicolons: columns must be separated by commas)"
    } else {
        ""
    };
    format!("line {no} has {columns} column; a density needs at least 2 columns{hint}")
}

/// At most 40 characters of a cell, for messages.
fn shorten(cell: &str) -> String {
    if cell.chars().count() <= 40 {
        cell.to_string()
    } else {
        cell.chars().take(40).collect::<String>() + "…"
    }
}

/// The header line `x1,x2,…` (or the given names), with its newline.
pub fn header_line(dim: usize, header: Option<&[String]>) -> String {
    let names: Vec<String> = match header {
        Some(h) => h.to_vec(),
        None => (1..=dim).map(|j| format!("x{j}")).collect(),
    };
    names.join(",") + "\n"
}

/// One line per point; `{v}` writes the shortest text that reads back as
/// exactly the same f64.
pub fn rows_text(points: &Points) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(points.data.len() * 12);
    for i in 0..points.rows() {
        for (j, v) in points.row(i).iter().enumerate() {
            let sep = if j == 0 { "" } else { "," };
            write!(s, "{sep}{v}").expect("writing to a String cannot fail");
        }
        s.push('\n');
    }
    s
}

/// CSV text for points, with a header `x1,x2,…` (or the given names).
pub fn csv_text(points: &Points, header: Option<&[String]>) -> String {
    header_line(points.dim, header) + &rows_text(points)
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

    /// A first line is a header only if none of its fields is a number; a
    /// first line with some numbers is a data row whose bad field is named.
    #[test]
    fn a_header_has_no_numbers() {
        assert!(parse_csv("x1,x2\n1,2\n").unwrap().header.is_some());
        let err = parse_csv("1.5,NA\n2,3\n").unwrap_err();
        assert!(
            err.contains("line 1, column 2: \"NA\" is not a number"),
            "{err}"
        );
    }

    /// Tabs or semicolons where commas belong get a hint; a byte-order mark
    /// and CRLF line ends are accepted; an endless line is refused without
    /// being read whole.
    #[test]
    fn separators_marks_and_long_lines() {
        let err = parse_csv("1\t2\n3\t4\n").unwrap_err();
        assert!(err.contains("tabs"), "{err}");
        let err = parse_csv("1;2\n3;4\n").unwrap_err();
        assert!(err.contains("semicolons"), "{err}");
        let p = parse_csv("\u{feff}a,b\r\n1,2\r\n").unwrap();
        assert_eq!(
            (p.header.unwrap(), p.data),
            (vec!["a".into(), "b".into()], vec![1.0, 2.0])
        );
        let long = "1,".repeat(MAX_LINE);
        let err = parse_csv(&long).unwrap_err();
        assert!(err.contains("longer than"), "{err}");
    }

    #[test]
    fn written_csv_reads_back_exactly() {
        let p = Points {
            data: vec![0.1, -2.5e-7, 3.0, 1e300],
            dim: 2,
            header: None,
        };
        let back = parse_csv(&csv_text(&p, None)).unwrap();
        assert_eq!(back.data, p.data);
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// What any accepted file must be: whole rows of finite numbers.
        fn check_accepted(text: &str) -> std::result::Result<(), TestCaseError> {
            if let Ok(p) = parse_csv(text) {
                prop_assert!(p.dim >= 2);
                prop_assert_eq!(p.data.len() % p.dim, 0);
                prop_assert!(!p.data.is_empty());
                prop_assert!(p.data.iter().all(|v| v.is_finite()));
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]

            /// Arbitrary bytes: a result or an error, never a panic.
            #[test]
            fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                let mut reader = CsvReader::new(&bytes[..]);
                if let Ok(r) = reader.as_mut() {
                    while let Ok(Some(_)) = r.next_chunk(7) {}
                }
            }

            /// Text made of the characters CSV files are made of.
            #[test]
            fn csv_like_text(text in "[0-9a-z,;.eE+\\- \t\r\n\"]{0,200}") {
                check_accepted(&text)?;
            }

            /// A valid file with characters replaced, inserted or removed.
            #[test]
            fn damaged_files(
                edits in proptest::collection::vec((any::<prop::sample::Index>(), "[0-9,.\\-e\n x]", any::<bool>()), 1..6)
            ) {
                let mut text: Vec<char> = "x,y\n1.5,-2\n3e2,0.25\n-0,7\n".chars().collect();
                for (at, s, insert) in edits {
                    let i = at.index(text.len());
                    let c = s.chars().next().unwrap();
                    if insert { text.insert(i, c) } else { text[i] = c }
                }
                let text: String = text.into_iter().collect();
                check_accepted(&text)?;
            }
        }
    }
}
