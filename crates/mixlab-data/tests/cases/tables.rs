//! Table readers on the embedded digits / Airfoil files and the Exchange-Rate, Communities-and-Crime and
//! SkillCraft fixtures, plus malformed tables derived from them.

use mixlab_data::Source;
use mixlab_data::tabular::{
    read_airfoil, read_communities_crime, read_digits, read_exchange_rate, read_skillcraft,
};

use crate::common::{err, fixture, gunzip, gz, tmp, write};

fn file(p: std::path::PathBuf) -> Source {
    Source::File(p)
}

fn repo_data(name: &str) -> Source {
    file(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join(name),
    )
}

#[test]
fn digits_file_reads_1797_images_with_known_first_row() {
    let (x, labels) = read_digits(&repo_data("digits.csv.gz")).unwrap();
    assert_eq!((x.len(), labels.len()), (1797 * 64, 1797));
    assert_eq!(&x[..8], &[0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
    assert_eq!(&labels[..4], &[0, 1, 2, 3]);
    assert!(x.iter().all(|&v| (0.0..=16.0).contains(&v)));
    let mut counts = [0usize; 10];
    for &l in &labels {
        counts[l] += 1;
    }
    // sklearn's documented class sizes (~180 each).
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
}

#[test]
fn airfoil_file_reads_1503_rows_with_known_means() {
    let t = read_airfoil(&repo_data("airfoil_self_noise.dat")).unwrap();
    assert_eq!((t.n, t.features), (1503, 5));
    assert_eq!(&t.x[..5], &[800.0, 0.0, 0.3048, 71.3, 0.00266337]);
    assert_eq!(t.y[0], 126.201);
    let mean_y: f64 = t.y.iter().map(|&v| f64::from(v)).sum::<f64>() / 1503.0;
    // README: target mean 124.83594.
    assert!((mean_y - 124.83594).abs() < 1e-3, "{mean_y}");
    let mean_f: f64 = (0..1503).map(|r| f64::from(t.x[r * 5])).sum::<f64>() / 1503.0;
    assert!((mean_f - 2886.38057).abs() < 1e-2, "{mean_f}");
}

#[test]
fn exchange_rate_fixture_is_100_days_of_8_series() {
    let t = read_exchange_rate(&file(fixture("exchange-rate/exchange_rate.txt.gz"))).unwrap();
    assert_eq!((t.rows, t.cols), (100, 8));
    assert_eq!(
        t.row(0).unwrap(),
        &[
            0.7855, 1.611, 0.861698, 0.634196, 0.211242, 0.006838, 0.593, 0.525486
        ]
    );
}

#[test]
fn communities_crime_drops_non_predictive_and_incomplete_columns() {
    let t = read_communities_crime(&file(fixture("communities-crime/communities.data"))).unwrap();
    // In these 50 rows the 22 police columns are incomplete; OtherPerCap (column 31) is complete here.
    assert_eq!((t.n, t.features), (50, 100));
    assert_eq!(t.columns[0], 5);
    assert!(t.columns.contains(&30) && !t.columns.contains(&101));
    assert_eq!(*t.columns.last().unwrap(), 125);
    assert_eq!((t.x[0], t.y[0]), (0.19, 0.2));
    assert!(t.x.iter().chain(&t.y).all(|v| v.is_finite()));
}

#[test]
fn skillcraft_drops_rows_with_missing_cells_and_targets_action_latency() {
    let t = read_skillcraft(&file(fixture("skillcraft/SkillCraft1_Dataset.csv"))).unwrap();
    assert_eq!((t.n, t.features), (50, 17));
    assert_eq!(
        t.columns,
        vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19]
    );
    // First data row: Age 27, ActionLatency 40.8673.
    assert_eq!((t.x[0], t.y[0]), (27.0, 40.8673));
}

#[test]
fn nan_and_garbage_cells_name_file_line_and_column() {
    let dir = tmp();
    let text = std::fs::read_to_string(fixture("communities-crime/communities.data")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[6].split(',').collect();
    cells[9] = "NaN";
    lines[6] = cells.join(",");
    let p = write(dir.path(), "communities.data", lines.join("\n").as_bytes());
    let e = err(read_communities_crime(&file(p)));
    assert!(
        e.ends_with(
            "communities.data: line 7, column 10: cell must be a finite number, got \"NaN\""
        ),
        "{e}"
    );

    let text = std::fs::read_to_string(repo_data_path("airfoil_self_noise.dat")).unwrap();
    let bad = text.replacen("0.3048", "0.30x48", 1);
    let p = write(dir.path(), "airfoil_self_noise.dat", bad.as_bytes());
    assert!(err(read_airfoil(&file(p))).ends_with(
        "airfoil_self_noise.dat: line 1, column 3: cell is not a number, got \"0.30x48\""
    ));

    // '?' is only a missing marker where the format has one.
    let ex = String::from_utf8(gunzip(&fixture("exchange-rate/exchange_rate.txt.gz"))).unwrap();
    let bad = ex.replacen("1.611000", "?", 1);
    let p = write(dir.path(), "exchange_rate.txt.gz", &gz(bad.as_bytes()));
    assert!(
        err(read_exchange_rate(&file(p)))
            .contains("exchange_rate.txt.gz: line 1, column 2: cell is not a number")
    );
}

fn repo_data_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

#[test]
fn layout_rules_are_enforced() {
    let dir = tmp();
    let digits = String::from_utf8(gunzip(&repo_data_path("digits.csv.gz"))).unwrap();
    let mut lines: Vec<&str> = digits.lines().take(5).collect();
    let l3 = lines[3].replacen("0,", "17,", 1);
    lines[3] = &l3;
    let p = write(dir.path(), "digits.csv", lines.join("\n").as_bytes());
    assert!(
        err(read_digits(&file(p))).ends_with(
            "digits.csv: line 4, column 1: pixel must be an integer in 0..=16, got \"17\""
        )
    );
    let short: Vec<&str> = digits.lines().take(2).collect();
    let trimmed = format!("{}\n{}", short[0], &short[1][2..]);
    let p = write(dir.path(), "digits-short.csv", trimmed.as_bytes());
    assert!(
        err(read_digits(&file(p))).ends_with("digits-short.csv: line 2 has 64 fields, expected 65")
    );

    let sk = std::fs::read_to_string(fixture("skillcraft/SkillCraft1_Dataset.csv")).unwrap();
    let p = write(
        dir.path(),
        "sk.csv",
        sk.replacen("ActionLatency", "Latency", 1).as_bytes(),
    );
    assert!(
        err(read_skillcraft(&file(p)))
            .ends_with("sk.csv: header column 14 is \"Latency\", expected \"ActionLatency\"")
    );

    let cr = std::fs::read_to_string(fixture("communities-crime/communities.data")).unwrap();
    let mut rows: Vec<String> = cr.lines().map(str::to_string).collect();
    let last = rows[2].rfind(',').unwrap();
    rows[2] = format!("{},?", &rows[2][..last]);
    let p = write(dir.path(), "crime.data", rows.join("\n").as_bytes());
    assert!(err(read_communities_crime(&file(p))).contains(
        "crime.data: line 3, column 128: the target ViolentCrimesPerPop must not be missing"
    ));

    for name in ["empty.csv", "empty.csv.gz"] {
        let data = if name.ends_with(".gz") {
            gz(b"")
        } else {
            Vec::new()
        };
        let p = write(dir.path(), name, &data);
        let e = err(read_exchange_rate(&file(p)));
        assert!(
            e.starts_with(&dir.path().join(name).display().to_string()),
            "{e}"
        );
    }
}
