//! Fuzzes the numeric table parser (CSV and whitespace) with the layout of every tabular dataset and two
//! generic layouts, then each dataset's checks on what parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_data::table::{Delimiter, Table, TableSpec, parse_table};
use mixlab_data::tabular::{
    AIRFOIL_SPEC, COMMUNITIES_CRIME_SPEC, DIGITS_SPEC, EXCHANGE_RATE_SPEC, RegressionTable,
    SKILLCRAFT_SPEC, airfoil_from_table, communities_crime_from_table, digits_from_table,
    skillcraft_from_table,
};
use std::path::Path;

const GENERIC: [TableSpec<'static>; 2] = [
    TableSpec {
        delimiter: Delimiter::Comma,
        header: true,
        columns: None,
        text_columns: &[0],
        missing: Some("?"),
    },
    TableSpec {
        delimiter: Delimiter::Whitespace,
        header: false,
        columns: None,
        text_columns: &[],
        missing: Some("NA"),
    },
];

fn check_table(t: &Table) {
    assert!(t.rows > 0 && t.cols > 0);
    assert_eq!(t.cells.len(), t.rows * t.cols);
    assert_eq!(t.lines.len(), t.rows);
    assert!(t.lines.windows(2).all(|w| w[0] < w[1]), "{:?}", t.lines);
    assert!(t.cells.iter().all(|v| v.is_nan() || v.is_finite()));
}

fn check_regression(r: &RegressionTable) {
    assert_eq!(r.x.len(), r.n * r.features);
    assert_eq!(r.y.len(), r.n);
    assert_eq!(r.columns.len(), r.features);
}

fn check_err(e: mixlab_data::Error) {
    let msg = e.to_string();
    assert!(msg.starts_with("fuzz.csv: ") && !msg.contains('\n'), "{msg}");
}

fn parse(data: &[u8], spec: &TableSpec<'_>) -> Option<Table> {
    match parse_table(Path::new("fuzz.csv"), data, spec) {
        Ok(t) => {
            check_table(&t);
            Some(t)
        }
        Err(e) => {
            check_err(e);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.csv");
    for spec in &GENERIC {
        parse(data, spec);
    }
    parse(data, &EXCHANGE_RATE_SPEC);
    if let Some(t) = parse(data, &DIGITS_SPEC) {
        match digits_from_table(path, &t) {
            Ok((x, labels)) => {
                assert_eq!(x.len(), labels.len() * 64);
                assert!(labels.iter().all(|&l| l <= 9));
            }
            Err(e) => check_err(e),
        }
    }
    if let Some(t) = parse(data, &AIRFOIL_SPEC) {
        check_regression(&airfoil_from_table(&t));
    }
    if let Some(t) = parse(data, &COMMUNITIES_CRIME_SPEC) {
        match communities_crime_from_table(path, &t) {
            Ok(r) => check_regression(&r),
            Err(e) => check_err(e),
        }
    }
    if let Some(t) = parse(data, &SKILLCRAFT_SPEC) {
        match skillcraft_from_table(path, &t) {
            Ok(r) => check_regression(&r),
            Err(e) => check_err(e),
        }
    }
});
