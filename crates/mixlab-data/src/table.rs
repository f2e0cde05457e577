//! Numeric text tables (CSV or whitespace-separated, optionally gzip'd): the common reader behind the digits,
//! Airfoil, Exchange-Rate, Communities-and-Crime and SkillCraft loaders.
//!
//! Cells become f32. A cell equal to the table's missing-value marker is stored as NaN; because a literal `NaN`,
//! `inf` or unparsable cell is an error (naming file, line and column), NaN in a [`Table`] always means "missing"
//! (or a text column the spec skips).

use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{Source, read_text};

/// Longest text line a table may have (the widest shipped table, Communities and Crime, has ~700-byte lines).
/// Splitting a line costs 16 bytes per field, so without this cap one 256 MB line of `1,1,1,…` would need
/// gigabytes before any row check could refuse it.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// How fields are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    /// RFC 4180 CSV (quoted fields allowed), via the `csv` crate.
    Comma,
    /// Any run of spaces or tabs.
    Whitespace,
}

/// What a table must look like.
#[derive(Clone, Debug)]
pub struct TableSpec<'a> {
    /// Field separator.
    pub delimiter: Delimiter,
    /// Whether the first non-blank line names the columns.
    pub header: bool,
    /// Exact field count per row; `None` takes the first row's count.
    pub columns: Option<usize>,
    /// 0-based columns holding text: not parsed, stored as NaN.
    pub text_columns: &'a [usize],
    /// Cell content meaning "missing" (e.g. `?`), stored as NaN.
    pub missing: Option<&'a str>,
}

/// A parsed table, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names when the spec has a header.
    pub header: Option<Vec<String>>,
    /// Number of data rows.
    pub rows: usize,
    /// Fields per row.
    pub cols: usize,
    /// `rows × cols` values; NaN = missing cell or text column.
    pub cells: Vec<f32>,
    /// 1-based source line of each row, so later checks can name the line.
    pub lines: Vec<u64>,
    /// The trimmed cells of the spec's text columns, row by row (columns in file order).
    pub text: Vec<String>,
}

impl Table {
    /// Row `r`, or `None` when `r >= rows`.
    pub fn row(&self, r: usize) -> Option<&[f32]> {
        self.cells.get(r * self.cols..(r + 1) * self.cols)
    }
}

/// Reads and parses a table from a file or embedded bytes (gzip detected from the content).
pub fn read_table(source: &Source, spec: &TableSpec<'_>) -> Result<Table> {
    let bytes = read_text(source)?;
    parse_table(&source.path(), &bytes, spec)
}

struct State<'s, 'a> {
    path: &'s Path,
    spec: &'s TableSpec<'a>,
    want_header: bool,
    table: Table,
}

impl State<'_, '_> {
    fn push(&mut self, line: u64, fields: &[&[u8]]) -> Result<()> {
        if self.want_header {
            self.want_header = false;
            self.table.header = Some(
                fields
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_string())
                    .collect(),
            );
            return Ok(());
        }
        let expected = if self.table.rows == 0 {
            self.spec.columns.unwrap_or(fields.len())
        } else {
            self.table.cols
        };
        if fields.len() != expected {
            return Err(Error::RowLength {
                path: self.path.to_path_buf(),
                line,
                got: fields.len(),
                expected,
            });
        }
        self.table.cols = expected;
        for (c, raw) in fields.iter().enumerate() {
            let v = if self.spec.text_columns.contains(&c) {
                self.table
                    .text
                    .push(String::from_utf8_lossy(raw).trim().to_string());
                f32::NAN
            } else {
                self.parse_cell(line, c, raw)?
            };
            self.table.cells.push(v);
        }
        self.table.rows += 1;
        self.table.lines.push(line);
        Ok(())
    }

    fn parse_cell(&self, line: u64, c: usize, raw: &[u8]) -> Result<f32> {
        let cell_err = |rule: &str, value: &str| Error::Cell {
            path: self.path.to_path_buf(),
            line,
            column: c + 1,
            rule: rule.to_string(),
            value: value.to_string(),
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(cell_err(
                "cell is not UTF-8 text",
                &String::from_utf8_lossy(raw),
            ));
        };
        let text = text.trim();
        if self.spec.missing == Some(text) {
            return Ok(f32::NAN);
        }
        if text.is_empty() {
            return Err(cell_err("cell is empty", text));
        }
        let Ok(v) = text.parse::<f64>() else {
            return Err(cell_err("cell is not a number", text));
        };
        if !v.is_finite() {
            return Err(cell_err("cell must be a finite number", text));
        }
        let v32 = v as f32;
        if !v32.is_finite() {
            return Err(cell_err("cell is outside the f32 range", text));
        }
        Ok(v32)
    }
}

/// Splits text into lines as a text editor numbers them: a line ends at LF, CRLF or a lone CR (the record
/// terminators the `csv` crate accepts), so both delimiters and the length check agree on line numbers.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.iter().position(|&c| c == b'\n' || c == b'\r') {
            Some(k) => {
                let crlf = text[k] == b'\r' && text.get(k + 1) == Some(&b'\n');
                rest = Some(&text[k + 1 + usize::from(crlf)..]);
                Some(&text[..k])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// Line numbers (from 1) of byte offsets that arrive in increasing order, with the line ends of [`lines`].
struct LineCounter<'b> {
    bytes: &'b [u8],
    /// Offset up to which line ends have been counted.
    at: usize,
    /// Line number at `at`.
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: usize) -> u64 {
        let end = offset.min(self.bytes.len());
        for i in self.at..end {
            match self.bytes[i] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.at = self.at.max(end);
        self.line
    }
}

/// Refuses the first line over [`MAX_LINE_BYTES`] (lines counted as a text editor does, from 1).
fn check_line_lengths(path: &Path, bytes: &[u8]) -> Result<()> {
    if bytes.len() as u64 <= MAX_LINE_BYTES {
        return Ok(());
    }
    for (i, line) in lines(bytes).enumerate() {
        if line.len() as u64 > MAX_LINE_BYTES {
            return Err(Error::LineTooLong {
                path: path.to_path_buf(),
                line: i as u64 + 1,
                bytes: line.len() as u64,
                cap: MAX_LINE_BYTES,
            });
        }
    }
    Ok(())
}

/// Parses table text already in memory; `path` only names the file in error messages.
///
/// Blank lines are skipped. Refused, naming file, line and column: a line over [`MAX_LINE_BYTES`], a row whose
/// field count differs from the spec (or the first row), an empty cell, a cell that is not a finite number unless
/// it equals the missing marker, and a table without data rows.
pub fn parse_table(path: &Path, bytes: &[u8], spec: &TableSpec<'_>) -> Result<Table> {
    check_line_lengths(path, bytes)?;
    let mut st = State {
        path,
        spec,
        want_header: spec.header,
        table: Table {
            header: None,
            rows: 0,
            cols: 0,
            cells: Vec::new(),
            lines: Vec::new(),
            text: Vec::new(),
        },
    };
    match spec.delimiter {
        Delimiter::Comma => {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes);
            let mut record = csv::ByteRecord::new();
            let mut counter = LineCounter {
                bytes,
                at: 0,
                line: 1,
            };
            while rdr
                .read_byte_record(&mut record)
                .map_err(|e| Error::io(path, std::io::Error::other(e)))?
            {
                // The csv crate's own line count is one short after a CRLF (it reports a record's line before
                // consuming the previous LF) and ignores lone CRs, so lines are counted here from the offset.
                let pos = record.position().map_or(0, |p| p.byte()) as usize;
                let skip = bytes
                    .get(pos..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|&&c| c == b'\r' || c == b'\n')
                    .count();
                let line = counter.line_at(pos + skip);
                if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                let fields: Vec<&[u8]> = record.iter().collect();
                st.push(line, &fields)?;
            }
        }
        Delimiter::Whitespace => {
            let mut fields: Vec<&[u8]> = Vec::new();
            for (i, raw_line) in lines(bytes).enumerate() {
                fields.clear();
                fields.extend(
                    raw_line
                        .split(|c| c.is_ascii_whitespace())
                        .filter(|f| !f.is_empty()),
                );
                if !fields.is_empty() {
                    st.push(i as u64 + 1, &fields)?;
                }
            }
        }
    }
    if st.table.rows == 0 {
        return Err(Error::too_few(path, "table has no data rows"));
    }
    Ok(st.table)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    fn spec(delimiter: Delimiter) -> TableSpec<'static> {
        TableSpec {
            delimiter,
            header: false,
            columns: None,
            text_columns: &[],
            missing: Some("?"),
        }
    }

    #[test]
    fn parses_whitespace_with_blank_lines_and_crlf() {
        let t = parse_table(
            Path::new("t.dat"),
            b"1\t2  3\r\n\n4 5 6\n",
            &spec(Delimiter::Whitespace),
        )
        .unwrap();
        assert_eq!((t.rows, t.cols), (2, 3));
        assert_eq!(t.cells, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(t.lines, vec![1, 3]);
    }

    #[test]
    fn missing_marker_is_nan_but_literal_nan_is_an_error() {
        let t = parse_table(Path::new("t.csv"), b"1,?,3\n", &spec(Delimiter::Comma)).unwrap();
        assert!(t.cells[1].is_nan());
        let e = parse_table(
            Path::new("t.csv"),
            b"1,2,3\n4,NaN,6\n",
            &spec(Delimiter::Comma),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.csv: line 2, column 2"), "{e}");
        assert!(e.contains("finite"), "{e}");
    }

    #[test]
    fn ragged_row_and_garbage_cell_name_line_and_column() {
        let e = parse_table(Path::new("t.csv"), b"1,2\n3\n", &spec(Delimiter::Comma))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv: line 2 has 1 fields, expected 2");
        let e = parse_table(
            Path::new("t.dat"),
            b"1 2\n3 x4\n",
            &spec(Delimiter::Whitespace),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "t.dat: line 2, column 2: cell is not a number, got \"x4\""
        );
        let e = parse_table(Path::new("t.csv"), b"1,,3\n", &spec(Delimiter::Comma))
            .unwrap_err()
            .to_string();
        assert!(e.contains("column 2: cell is empty"), "{e}");
    }

    #[test]
    fn header_and_text_columns_and_quotes() {
        let s = TableSpec {
            header: true,
            text_columns: &[1],
            ..spec(Delimiter::Comma)
        };
        let t = parse_table(Path::new("t.csv"), b"a,b,c\n1,\"x, y\",2.5e-1\n", &s).unwrap();
        assert_eq!(
            t.header,
            Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        );
        assert_eq!(t.cols, 3);
        assert_eq!(t.cells[0], 1.0);
        assert!(t.cells[1].is_nan());
        assert_eq!(t.cells[2], 0.25);
        assert_eq!(t.lines, vec![2]);
    }

    #[test]
    fn empty_or_header_only_table_is_an_error() {
        for text in [&b""[..], b"\n\n"] {
            let e = parse_table(Path::new("t.csv"), text, &spec(Delimiter::Comma)).unwrap_err();
            assert!(e.to_string().starts_with("t.csv: "), "{e}");
        }
        let s = TableSpec {
            header: true,
            ..spec(Delimiter::Comma)
        };
        assert!(parse_table(Path::new("t.csv"), b"a,b\n", &s).is_err());
    }

    #[test]
    fn crlf_and_lone_cr_line_ends_number_lines_like_an_editor() {
        for text in [
            &b"1,2\r\n3,4\r\n\r\n5,x\r\n"[..],
            b"1,2\r3,4\r\r5,x\r",
            b"1,2\n3,4\n\n5,x\n",
        ] {
            let e = parse_table(Path::new("t.csv"), text, &spec(Delimiter::Comma))
                .unwrap_err()
                .to_string();
            assert_eq!(
                e, "t.csv: line 4, column 2: cell is not a number, got \"x\"",
                "{text:?}"
            );
            let ws: Vec<u8> = text
                .iter()
                .map(|&c| if c == b',' { b' ' } else { c })
                .collect();
            let e = parse_table(Path::new("t.dat"), &ws, &spec(Delimiter::Whitespace))
                .unwrap_err()
                .to_string();
            assert_eq!(
                e, "t.dat: line 4, column 2: cell is not a number, got \"x\"",
                "{text:?}"
            );
        }
        // A quoted field across a line end: the next record starts two lines on.
        let t = parse_table(
            Path::new("t.csv"),
            b"a,\"x\r\ny\",1\r\n2,3,4\r\n",
            &TableSpec {
                text_columns: &[0, 1],
                ..spec(Delimiter::Comma)
            },
        )
        .unwrap();
        assert_eq!(t.lines, vec![1, 3]);
    }

    #[test]
    fn fixed_column_count_is_enforced_on_the_first_row() {
        let s = TableSpec {
            columns: Some(3),
            ..spec(Delimiter::Comma)
        };
        let e = parse_table(Path::new("t.csv"), b"1,2\n", &s)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv: line 1 has 2 fields, expected 3");
    }
}
