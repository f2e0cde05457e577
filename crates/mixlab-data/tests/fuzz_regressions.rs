//! Inputs found by the fuzz targets (`fuzz/`, see its README), kept as regression tests on stable.
//!
//! `fixtures/fuzz/table/` holds the inputs on which the `table` target found that row line numbers were wrong:
//! the `csv` crate reports a record's line before it consumes the LF of the previous CRLF (so every row after
//! the first of a CRLF file was named one line too early, two rows could share a line) and it does not count
//! lone CRs, which it does treat as row ends. Lines are now counted by the table reader itself, the same way
//! for both delimiters: LF, CRLF and a lone CR each end a line.

use mixlab_data::table::{Delimiter, TableSpec, parse_table};
use mixlab_data::tabular::{
    AIRFOIL_SPEC, COMMUNITIES_CRIME_SPEC, DIGITS_SPEC, EXCHANGE_RATE_SPEC, SKILLCRAFT_SPEC,
    read_communities_crime,
};
use mixlab_data::{Error, Source};
use std::path::PathBuf;

use crate::common::fixture;

/// The layouts the `table` target parses every input with.
const SPECS: [TableSpec<'static>; 7] = [
    DIGITS_SPEC,
    AIRFOIL_SPEC,
    EXCHANGE_RATE_SPEC,
    COMMUNITIES_CRIME_SPEC,
    SKILLCRAFT_SPEC,
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

/// Lines a text editor shows: one more than the LF, CRLF and lone-CR line ends.
fn editor_lines(bytes: &[u8]) -> u64 {
    let ends = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    ends as u64 + 1
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = fixture("fuzz").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    files
}

#[test]
fn table_fuzz_inputs_get_increasing_line_numbers_within_the_file() {
    for path in inputs("table") {
        let bytes = std::fs::read(&path).unwrap();
        let last = editor_lines(&bytes);
        let name = path.file_name().unwrap().to_str().unwrap();
        for spec in &SPECS {
            match parse_table(&path, &bytes, spec) {
                Ok(t) => {
                    assert!(
                        t.lines.windows(2).all(|w| w[0] < w[1]),
                        "{name}: {:?}",
                        t.lines
                    );
                    assert!(
                        t.lines.iter().all(|&l| (1..=last).contains(&l)),
                        "{name}: {:?} outside 1..={last}",
                        t.lines
                    );
                }
                Err(e) => {
                    let line = match &e {
                        Error::Cell { line, .. }
                        | Error::RowLength { line, .. }
                        | Error::LineTooLong { line, .. } => Some(*line),
                        _ => None,
                    };
                    assert!(
                        line.is_none_or(|l| (1..=last).contains(&l)),
                        "{name}: {e} names a line outside 1..={last}"
                    );
                    let msg = e.to_string();
                    assert!(
                        msg.starts_with(&format!("{}: ", path.display())) && !msg.contains('\n'),
                        "{name}: {msg}"
                    );
                }
            }
        }
    }
}

#[test]
fn crlf_file_rows_are_numbered_by_their_own_line() {
    // The Communities and Crime fixture is a prefix of the UCI file, which has CRLF line ends.
    let path = fixture("communities-crime/communities.data");
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.windows(2).any(|w| w == b"\r\n"),
        "fixture lost its CRLFs"
    );
    let t = parse_table(&path, &bytes, &COMMUNITIES_CRIME_SPEC).unwrap();
    assert_eq!(t.lines, (1..=50).collect::<Vec<u64>>());
    // An error in the last row names line 50, as an editor shows it (before the fix: line 49).
    let mut broken = bytes.clone();
    let at = broken.len()
        - 2
        - broken
            .iter()
            .rev()
            .skip(2)
            .position(|&c| c == b',')
            .unwrap();
    broken.splice(at..at, b"x".iter().copied());
    let dir = crate::common::tmp();
    let p = crate::common::write(dir.path(), "communities.data", &broken);
    let e = read_communities_crime(&Source::File(p))
        .unwrap_err()
        .to_string();
    assert!(e.contains("communities.data: line 50, column 128"), "{e}");
}

/// The `npy` target's property on stable, over seeded mutations of a real `.npy` fixture (bytes flipped,
/// inserted, removed, the file cut): every input parses into a self-consistent array or gives a one-line error
/// naming the file, and nothing panics.
#[test]
fn mutated_npy_files_parse_or_fail_in_one_line() {
    use mixlab_data::own::{NpyData, parse_npy};
    use rand::{RngExt, SeedableRng};
    let base = std::fs::read(fixture("own/fashion-npy/y_test.npy")).unwrap();
    let header_end = base.len() - 32 * 8;
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
    let name = std::path::Path::new("m.npy");
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..20_000 {
        let mut b = base.clone();
        for _ in 0..rng.random_range(1..4) {
            if b.is_empty() {
                break;
            }
            // Mostly inside the header, where the parser's decisions are.
            let at = rng.random_range(0..header_end.min(b.len()).max(1));
            match rng.random_range(0..4) {
                0 => b[at] = rng.random(),
                1 => b.insert(at, rng.random()),
                2 if b.len() > 1 => {
                    b.remove(at);
                }
                _ => b.truncate(rng.random_range(0..b.len())),
            }
        }
        match parse_npy(name, &b) {
            Ok(a) => {
                let len = match &a.data {
                    NpyData::Int(v) => v.len(),
                    NpyData::Float(v) => v.len(),
                };
                assert_eq!(len, a.shape.iter().product::<usize>());
                ok += 1;
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("m.npy: ") && !msg.contains('\n'), "{msg}");
                failed += 1;
            }
        }
    }
    // Both outcomes occur, so the mutations reach past the magic check.
    assert!(ok > 100 && failed > 100, "ok {ok}, failed {failed}");
}
