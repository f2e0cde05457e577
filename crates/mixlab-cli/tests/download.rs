//! `mixlab download` as a real process against a local HTTP server on 127.0.0.1 (started here; no internet).
//!
//! UCI's Airfoil file is the `crates/mixlab-data/data/airfoil_self_noise.dat` with CRLF line ends; served that way it
//! passes the official published sha256, so the whole path (mirror URL, verification, layout) runs end to end.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener};
use std::path::Path;

use crate::common::{fails, ok};

/// Serves `files` (path → bytes) with 200, anything else with 404; one request per connection.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone the socket"));
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim_end().is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let _ = match files.get(path) {
                Some(body) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|()| stream.write_all(body))
                }
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
            let _ = stream.shutdown(Shutdown::Both);
        }
    });
    base
}

fn airfoil_lf() -> Vec<u8> {
    let repo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mixlab-data/data/airfoil_self_noise.dat");
    std::fs::read(repo).expect("read the fixture")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.map(|e| {
                e.expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn downloads_airfoil_from_a_mirror_against_the_official_sum() {
    let lf = airfoil_lf();
    let crlf: Vec<u8> = String::from_utf8(lf)
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let base = serve(HashMap::from([(
        "/airfoil/airfoil_self_noise.dat".to_string(),
        crlf.clone(),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().to_str().unwrap();
    let out = ok(&["download", "airfoil", "--to", to, "--mirror", &base]);
    assert!(out.contains("sha256 ok"), "{out}");
    let file = dir.path().join("airfoil/airfoil_self_noise.dat");
    assert_eq!(std::fs::read(&file).unwrap(), crlf);
    let listed = ok(&["datasets", "--data-dir", to]);
    let row = listed
        .lines()
        .find(|l| l.starts_with("airfoil"))
        .unwrap_or_default();
    assert!(
        row.contains(&dir.path().join("airfoil").display().to_string()),
        "{listed}"
    );
    let again = ok(&["download", "airfoil", "--to", to, "--mirror", &base]);
    assert!(again.contains("already present"), "{again}");
}

#[test]
fn refuses_bytes_that_are_not_the_official_ones_and_unreachable_mirrors() {
    // The LF copy is not UCI's file: refused, and nothing lands under the final name.
    let base = serve(HashMap::from([(
        "/airfoil/airfoil_self_noise.dat".to_string(),
        airfoil_lf(),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().to_str().unwrap();
    let e = fails(&["download", "airfoil", "--to", to, "--mirror", &base]);
    assert!(e.contains("58481 bytes, expected 59984"), "{e}");
    assert_eq!(names(&dir.path().join("airfoil")), Vec::<String>::new());

    let e = fails(&["download", "mnist", "--to", to, "--mirror", &base]);
    assert!(e.contains("HTTP 404"), "{e}");

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}");
    let e = fails(&["download", "skillcraft", "--to", to, "--mirror", &closed]);
    assert!(e.contains("cannot connect"), "{e}");

    let e = fails(&[
        "download",
        "fsdd",
        "--to",
        to,
        "--mirror",
        "ftp://example.org",
    ]);
    assert!(e.contains("http:// or https://"), "{e}");

    // CIFAR-100's coarse labelling is downloaded with the fine one's set (the same archive).
    let e = fails(&["download", "cifar100-coarse", "--to", to, "--mirror", &base]);
    assert!(e.contains("HTTP 404") && e.contains("cifar100"), "{e}");
}
