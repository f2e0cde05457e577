//! The tabular datasets: the file layout and cleaning rule of each, on top of the generic [`crate::table`] reader.
//! Values stay in their raw units here; splitting and windowing happen in [`crate::dataset`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::input::Source;
use crate::table::{Delimiter, Table, TableSpec, read_table};

/// Inputs and targets of a regression table, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionTable {
    /// Rows kept.
    pub n: usize,
    /// Input features per row.
    pub features: usize,
    /// 0-based source column of each feature.
    pub columns: Vec<usize>,
    /// `n × features` inputs.
    pub x: Vec<f32>,
    /// `n` targets.
    pub y: Vec<f32>,
}

impl RegressionTable {
    fn from_rows(table: &Table, rows: &[usize], columns: Vec<usize>, target: usize) -> Self {
        let mut x = Vec::with_capacity(rows.len() * columns.len());
        let mut y = Vec::with_capacity(rows.len());
        for &r in rows {
            let row = &table.cells[r * table.cols..(r + 1) * table.cols];
            x.extend(columns.iter().map(|&c| row[c]));
            y.push(row[target]);
        }
        RegressionTable {
            n: rows.len(),
            features: columns.len(),
            columns,
            x,
            y,
        }
    }
}

fn cell_rule(path: &Path, table: &Table, r: usize, c: usize, rule: &str) -> Error {
    Error::Cell {
        path: path.to_path_buf(),
        line: table.lines[r],
        column: c + 1,
        rule: rule.to_string(),
        value: table.cells[r * table.cols + c].to_string(),
    }
}

/// sklearn digits (`digits.csv.gz`): no header, 65 integer fields per line, 64 pixels 0..=16 (8×8 row-major) then
/// the label 0..=9. Returns `(pixels as f32 in 0..=16, labels)`.
pub fn read_digits(source: &Source) -> Result<(Vec<f32>, Vec<usize>)> {
    digits_from_table(&source.path(), &read_table(source, &DIGITS_SPEC)?)
}

/// Layout of `digits.csv.gz`.
pub const DIGITS_SPEC: TableSpec<'static> = TableSpec {
    delimiter: Delimiter::Comma,
    header: false,
    columns: Some(65),
    text_columns: &[],
    missing: None,
};

/// The checks and split of [`read_digits`] on a table parsed with [`DIGITS_SPEC`]; `path` names the file.
pub fn digits_from_table(path: &Path, t: &Table) -> Result<(Vec<f32>, Vec<usize>)> {
    let mut x = Vec::with_capacity(t.rows * 64);
    let mut labels = Vec::with_capacity(t.rows);
    for r in 0..t.rows {
        let row = &t.cells[r * 65..(r + 1) * 65];
        for (c, &v) in row[..64].iter().enumerate() {
            if !(0.0..=16.0).contains(&v) || v.fract() != 0.0 {
                return Err(cell_rule(
                    path,
                    t,
                    r,
                    c,
                    "pixel must be an integer in 0..=16",
                ));
            }
        }
        let label = row[64];
        if !(0.0..=9.0).contains(&label) || label.fract() != 0.0 {
            return Err(cell_rule(
                path,
                t,
                r,
                64,
                "label must be an integer in 0..=9",
            ));
        }
        x.extend_from_slice(&row[..64]);
        labels.push(label as usize);
    }
    Ok((x, labels))
}

/// Airfoil Self-Noise (`airfoil_self_noise.dat`): no header, 6 whitespace-separated numbers; 5 inputs
/// (frequency, angle, chord, velocity, displacement thickness) and the sound pressure level (dB) as target.
pub fn read_airfoil(source: &Source) -> Result<RegressionTable> {
    Ok(airfoil_from_table(&read_table(source, &AIRFOIL_SPEC)?))
}

/// Layout of `airfoil_self_noise.dat`.
pub const AIRFOIL_SPEC: TableSpec<'static> = TableSpec {
    delimiter: Delimiter::Whitespace,
    header: false,
    columns: Some(6),
    text_columns: &[],
    missing: None,
};

/// The split of [`read_airfoil`] on a table parsed with [`AIRFOIL_SPEC`].
pub fn airfoil_from_table(t: &Table) -> RegressionTable {
    let rows: Vec<usize> = (0..t.rows).collect();
    RegressionTable::from_rows(t, &rows, (0..5).collect(), 5)
}

/// Exchange-Rate (`exchange_rate.txt[.gz]`): no header, 8 comma-separated daily rates per line. Returns the
/// series as a `rows × 8` table (raw values).
pub fn read_exchange_rate(source: &Source) -> Result<Table> {
    read_table(source, &EXCHANGE_RATE_SPEC)
}

/// Layout of `exchange_rate.txt`.
pub const EXCHANGE_RATE_SPEC: TableSpec<'static> = TableSpec {
    delimiter: Delimiter::Comma,
    header: false,
    columns: Some(8),
    text_columns: &[],
    missing: None,
};

/// Columns of `communities.data` that are not predictive (state, county, community, community name, fold).
pub const CRIME_NON_PREDICTIVE: usize = 5;
/// Column of the Communities-and-Crime target, ViolentCrimesPerPop (0-based).
pub const CRIME_TARGET: usize = 127;

/// Communities and Crime (`communities.data`): no header, 128 comma-separated fields, `?` = missing,
/// column 4 (community name) is text.
///
/// Cleaning (UCI README, common practice): drop the 5 non-predictive columns, then drop every predictive column
/// that has a missing cell anywhere in the file. On the full UCI file that removes 22 police (LEMAS) columns with
/// 1675 missing cells each and OtherPerCap (1 missing cell): 99 inputs remain, all 1994 rows are kept. The target
/// (column 128, ViolentCrimesPerPop, 0..1) must not be missing. C-Mixup instead mean-imputes and keeps 122 inputs.
pub fn read_communities_crime(source: &Source) -> Result<RegressionTable> {
    communities_crime_from_table(
        &source.path(),
        &read_table(source, &COMMUNITIES_CRIME_SPEC)?,
    )
}

/// Layout of `communities.data`.
pub const COMMUNITIES_CRIME_SPEC: TableSpec<'static> = TableSpec {
    delimiter: Delimiter::Comma,
    header: false,
    columns: Some(128),
    text_columns: &[3],
    missing: Some("?"),
};

/// The cleaning of [`read_communities_crime`] on a table parsed with [`COMMUNITIES_CRIME_SPEC`].
pub fn communities_crime_from_table(path: &Path, t: &Table) -> Result<RegressionTable> {
    let mut complete = vec![true; t.cols];
    for r in 0..t.rows {
        for (c, ok) in complete.iter_mut().enumerate() {
            if t.cells[r * t.cols + c].is_nan() {
                *ok = false;
            }
        }
    }
    if let Some(r) = (0..t.rows).find(|&r| t.cells[r * t.cols + CRIME_TARGET].is_nan()) {
        return Err(Error::Cell {
            path: path.to_path_buf(),
            line: t.lines[r],
            column: CRIME_TARGET + 1,
            rule: "the target ViolentCrimesPerPop must not be missing".into(),
            value: "?".into(),
        });
    }
    let columns: Vec<usize> = (CRIME_NON_PREDICTIVE..CRIME_TARGET)
        .filter(|&c| complete[c])
        .collect();
    if columns.is_empty() {
        return Err(Error::too_few(
            path,
            "every predictive column has a missing cell",
        ));
    }
    let rows: Vec<usize> = (0..t.rows).collect();
    Ok(RegressionTable::from_rows(t, &rows, columns, CRIME_TARGET))
}

/// Header of `SkillCraft1_Dataset.csv`, checked column by column.
pub const SKILLCRAFT_HEADER: [&str; 20] = [
    "GameID",
    "LeagueIndex",
    "Age",
    "HoursPerWeek",
    "TotalHours",
    "APM",
    "SelectByHotkeys",
    "AssignToHotkeys",
    "UniqueHotkeys",
    "MinimapAttacks",
    "MinimapRightClicks",
    "NumberOfPACs",
    "GapBetweenPACs",
    "ActionLatency",
    "ActionsInPAC",
    "TotalMapExplored",
    "WorkersMade",
    "UniqueUnitsMade",
    "ComplexUnitsMade",
    "ComplexAbilitiesUsed",
];
/// Column of the SkillCraft target, ActionLatency (0-based), as in C-Mixup's loader.
pub const SKILLCRAFT_TARGET: usize = 13;

/// SkillCraft1 (`SkillCraft1_Dataset.csv`): header line, 20 comma-separated fields, `?` = missing.
///
/// As C-Mixup: target = ActionLatency (column 14), inputs = the 17 other columns except GameID and LeagueIndex.
/// Unlike C-Mixup (which mean-imputes), rows with any missing cell are dropped: on the UCI file these are 57 rows
/// (all 55 professional-league players lack Age/HoursPerWeek/TotalHours, plus 2 others), leaving 3338.
pub fn read_skillcraft(source: &Source) -> Result<RegressionTable> {
    skillcraft_from_table(&source.path(), &read_table(source, &SKILLCRAFT_SPEC)?)
}

/// Layout of `SkillCraft1_Dataset.csv`.
pub const SKILLCRAFT_SPEC: TableSpec<'static> = TableSpec {
    delimiter: Delimiter::Comma,
    header: true,
    columns: Some(20),
    text_columns: &[],
    missing: Some("?"),
};

/// The header check and cleaning of [`read_skillcraft`] on a table parsed with [`SKILLCRAFT_SPEC`].
pub fn skillcraft_from_table(path: &Path, t: &Table) -> Result<RegressionTable> {
    let header = t.header.as_deref().unwrap_or(&[]);
    for (c, expected) in SKILLCRAFT_HEADER.iter().enumerate() {
        let got = header.get(c).map_or("", String::as_str);
        if got != *expected {
            return Err(Error::HeaderName {
                path: path.to_path_buf(),
                column: c + 1,
                got: got.to_string(),
                expected,
            });
        }
    }
    let rows: Vec<usize> = (0..t.rows)
        .filter(|&r| {
            t.cells[r * t.cols..(r + 1) * t.cols]
                .iter()
                .all(|v| !v.is_nan())
        })
        .collect();
    if rows.is_empty() {
        return Err(Error::too_few(path, "every row has a missing cell"));
    }
    let columns: Vec<usize> = (2..20).filter(|&c| c != SKILLCRAFT_TARGET).collect();
    Ok(RegressionTable::from_rows(
        t,
        &rows,
        columns,
        SKILLCRAFT_TARGET,
    ))
}
