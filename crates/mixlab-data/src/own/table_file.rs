//! CSV tables of the user's: a header row naming the columns, numeric feature cells, and one target column of
//! class names or numbers. Parsed by the same reader as the built-in tables ([`crate::table`]), so a ragged row,
//! an empty or non-numeric feature cell and an over-long line are refused with file, line and column.

use std::path::Path;

use super::{Parts, TargetKind, shown, sorted_classes};
use crate::dataset::Split;
use crate::error::{Error, Result};
use crate::id::Task;
use crate::input::{Source, read_text};
use crate::table::{Delimiter, TableSpec, parse_table};

/// Most classes a classification target may have: more suggests a numeric target read as class names.
pub const MAX_CLASSES: usize = 10_000;

/// The header fields of a CSV text (its first non-blank record).
fn header(path: &Path, bytes: &[u8]) -> Result<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?
    {
        if rec.iter().any(|f| !f.trim().is_empty()) {
            return Ok(rec.iter().map(|f| f.trim().to_string()).collect());
        }
    }
    Err(Error::Empty {
        path: path.to_path_buf(),
    })
}

pub(super) fn read(path: &Path, target: Option<&str>, task: Option<TargetKind>) -> Result<Parts> {
    let bytes = read_text(&Source::File(path.to_path_buf()))?;
    let names = header(path, &bytes)?;
    if names.len() < 2 {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            rule: format!(
                "the header names {} column(s); a table needs at least one feature and the target",
                names.len()
            ),
        });
    }
    let t = match target {
        Some(name) => names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::BadHeader {
                path: path.to_path_buf(),
                rule: format!(
                    "no target column {name:?}; the columns are {}",
                    names.join(", ")
                ),
            })?,
        None => names.len() - 1,
    };
    let spec = TableSpec {
        delimiter: Delimiter::Comma,
        header: true,
        columns: Some(names.len()),
        text_columns: &[t],
        missing: None,
    };
    let table = parse_table(path, &bytes, &spec)?;
    let features = table.cols - 1;
    let mut x = Vec::with_capacity(table.rows * features);
    for r in 0..table.rows {
        let row = &table.cells[r * table.cols..(r + 1) * table.cols];
        x.extend(
            row.iter()
                .enumerate()
                .filter(|&(c, _)| c != t)
                .map(|(_, &v)| v),
        );
    }
    let numbers: Vec<Option<f64>> = table
        .text
        .iter()
        .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect();
    let kind = task.unwrap_or(if numbers.iter().all(Option::is_some) {
        TargetKind::Regression
    } else {
        TargetKind::Classification
    });
    let cell = |r: usize, rule: &str| Error::Cell {
        path: path.to_path_buf(),
        line: table.lines[r],
        column: t + 1,
        rule: rule.to_string(),
        value: table.text[r].clone(),
    };
    let (task, train, class_names) = match kind {
        TargetKind::Regression => {
            let mut y = Vec::with_capacity(table.rows);
            for (r, v) in numbers.iter().enumerate() {
                match v {
                    Some(v) if (*v as f32).is_finite() => y.push(*v as f32),
                    _ => return Err(cell(r, "regression target is not a finite number")),
                }
            }
            (
                Task::Regression { outputs: 1 },
                Split::regression(x, features, y, 1),
                None,
            )
        }
        TargetKind::Classification => {
            if let Some(r) = table.text.iter().position(String::is_empty) {
                return Err(cell(r, "class name is empty"));
            }
            let classes = sorted_classes(table.text.clone());
            if classes.len() > MAX_CLASSES {
                return Err(Error::BadHeader {
                    path: path.to_path_buf(),
                    rule: format!(
                        "target column {:?} holds {} distinct values, more than {MAX_CLASSES} classes; use task=regression",
                        names[t],
                        classes.len()
                    ),
                });
            }
            let index: std::collections::HashMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let labels = table.text.iter().map(|s| index[s.as_str()]).collect();
            (
                Task::Classification {
                    classes: classes.len(),
                },
                Split::classification(x, features, labels),
                Some(classes),
            )
        }
    };
    Ok(Parts {
        task,
        shape: vec![features],
        train,
        valid: None,
        test: None,
        class_names,
        files: vec![shown(path)],
    })
}
