//! `download`: fetching, resuming, verifying and unpacking against a local HTTP/1.1 server on 127.0.0.1 that
//! the tests start. It serves real dataset files — the full copies under `MIXLAB_DATA` when that is set, else the
//! committed fixtures — plus archives built here from them, truncated and corrupted copies, and crafted archives.
//! The manifests used here carry the sums of the served bytes; no test touches the internet.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mixlab_data::download::{
    ArchiveKind, DownloadError, Options, Outcome, Remote, TreeSum, Unpack, fetch,
};
use mixlab_data::{DataDir, DatasetId, LoadOptions, Location, load, load_u8};
use sha2::{Digest, Sha256};

use crate::common::{fixtures, tmp};

/// The real files served: `MIXLAB_DATA` when set, else the fixtures (same layout).
fn source() -> PathBuf {
    match std::env::var_os(mixlab_data::ENV_VAR) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => fixtures(),
    }
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Route {
    body: Vec<u8>,
    /// The first answer stops after this many body bytes and closes the connection.
    cut_first: Option<usize>,
    answered: usize,
}

type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A minimal HTTP/1.1 server: GET of a registered path (200, or 206 for `Range: bytes=N-`, 416 past the end),
/// 404 otherwise; one request per connection.
struct Server {
    base: String,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    log: Log,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let log: Log = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &r, &l);
            }
        });
        Server { base, routes, log }
    }

    fn add(&self, path: &str, body: Vec<u8>) {
        self.add_route(path, body, None);
    }

    fn add_route(&self, path: &str, body: Vec<u8>, cut_first: Option<usize>) {
        self.routes.lock().unwrap().insert(
            format!("/{path}"),
            Route {
                body,
                cut_first,
                answered: 0,
            },
        );
    }

    fn options(&self, retries: u32) -> Options {
        Options::default()
            .with_mirror(Some(self.base.clone()))
            .with_retries(retries)
    }

    /// (path, Range header) of every request so far.
    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.log.lock().unwrap().clone()
    }
}

fn answer(stream: TcpStream, routes: &Mutex<HashMap<String, Route>>, log: &Log) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':')
            && k.eq_ignore_ascii_case("range")
        {
            range = Some(v.trim().to_string());
        }
    }
    log.lock().unwrap().push((path.clone(), range.clone()));
    let mut out = stream;
    let mut routes = routes.lock().unwrap();
    let Some(route) = routes.get_mut(&path) else {
        let _ = out.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        );
        let _ = out.shutdown(Shutdown::Both);
        return;
    };
    let len = route.body.len();
    let start = range.as_deref().and_then(|r| {
        r.strip_prefix("bytes=")?
            .strip_suffix('-')?
            .parse::<usize>()
            .ok()
    });
    if start.is_some_and(|s| s >= len) {
        let _ = write!(
            out,
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = out.shutdown(Shutdown::Both);
        return;
    }
    let from = start.unwrap_or(0);
    let body = &route.body[from..];
    let mut head = match start {
        Some(s) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}\r\n",
            len - 1
        ),
        None => "HTTP/1.1 200 OK\r\n".to_string(),
    };
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let send = match route.cut_first {
        Some(n) if route.answered == 0 => n.min(body.len()),
        _ => body.len(),
    };
    route.answered += 1;
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&body[..send]);
    let _ = out.flush();
    let _ = out.shutdown(Shutdown::Both);
}

/// A manifest entry for `bytes`, mirrored at `<folder>/<file>`; its official address is never contacted.
fn remote(folder: &str, file: &str, bytes: &[u8]) -> Remote {
    Remote::file(
        format!("https://example.invalid/{folder}/{file}"),
        folder,
        file,
        bytes.len() as u64,
        &sha(bytes),
    )
}

/// Names in `dir` (empty when it does not exist).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(source().join(rel)).unwrap()
}

#[test]
fn plain_files_land_where_the_loaders_read_them_and_are_not_fetched_twice() {
    let server = Server::start();
    let out = tmp();
    let idx = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    let mut files: Vec<(&str, &str)> = Vec::new();
    for folder in ["mnist", "fashion-mnist"] {
        files.extend(idx.iter().map(|f| (folder, *f)));
    }
    files.extend([
        ("exchange-rate", "exchange_rate.txt.gz"),
        ("communities-crime", "communities.data"),
        ("skillcraft", "SkillCraft1_Dataset.csv"),
    ]);
    let mut remotes = Vec::new();
    for (folder, file) in &files {
        let bytes = read(&format!("{folder}/{file}"));
        server.add(&format!("{folder}/{file}"), bytes.clone());
        let r = remote(folder, file, &bytes);
        let got = fetch(&r, &out.path().join(folder), &server.options(0)).unwrap();
        assert_eq!(
            got.outcome,
            Outcome::Downloaded {
                bytes: bytes.len() as u64,
                resumed_from: 0
            }
        );
        assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
        assert_eq!(got.path, out.path().join(folder).join(file));
        remotes.push((folder.to_string(), r));
    }
    let here = DataDir::at(out.path());
    let there = DataDir::at(source());
    for id in [DatasetId::Mnist, DatasetId::FashionMnist] {
        assert_eq!(
            here.locate(id),
            Location::Folder(out.path().join(id.folder()))
        );
        assert_eq!(
            load_u8(id, &here, Some(20)).unwrap(),
            load_u8(id, &there, Some(20)).unwrap()
        );
    }
    let opts = LoadOptions::default()
        .with_window(8, 2)
        .with_limit(Some(30));
    for id in [
        DatasetId::ExchangeRate,
        DatasetId::CommunitiesCrime,
        DatasetId::Skillcraft,
    ] {
        assert_eq!(
            here.locate(id),
            Location::Folder(out.path().join(id.folder()))
        );
        let (a, b) = (
            load(id, &here, &opts).unwrap(),
            load(id, &there, &opts).unwrap(),
        );
        assert_eq!((a.train, a.test), (b.train, b.test), "{id}");
    }
    // A second run finds every verified file in place and sends no request.
    let before = server.requests().len();
    for (folder, r) in &remotes {
        let got = fetch(r, &out.path().join(folder), &server.options(0)).unwrap();
        assert_eq!(got.outcome, Outcome::Present);
    }
    assert_eq!(server.requests().len(), before);
    assert!(
        listing(&out.path().join("mnist"))
            .iter()
            .all(|n| !n.ends_with(".part"))
    );
}

fn tar_gz(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn cifar10_archive_unpacks_into_the_layout_the_loader_reads() {
    let server = Server::start();
    let out = tmp();
    let mut entries = Vec::new();
    for f in ["data_batch_1.bin", "test_batch_first1000.bin"] {
        entries.push((
            format!("cifar-10-batches-bin/{f}"),
            read(&format!("cifar10/{f}")),
        ));
    }
    let borrowed: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.clone()))
        .collect();
    let archive = tar_gz(&borrowed);
    server.add("cifar10/cifar-10-binary.tar.gz", archive.clone());
    let r = remote("cifar10", "cifar-10-binary.tar.gz", &archive)
        .unpacked(Unpack::all(ArchiveKind::TarGz));
    let folder = out.path().join("cifar10");
    let got = fetch(&r, &folder, &server.options(0)).unwrap();
    assert_eq!(got.unpacked, 2);
    assert_eq!(
        listing(&folder),
        ["cifar-10-batches-bin", "cifar-10-binary.tar.gz.sha256"]
    );
    for (name, data) in &entries {
        assert_eq!(&std::fs::read(folder.join(name)).unwrap(), data);
    }
    let here = DataDir::at(out.path());
    assert_eq!(
        here.locate(DatasetId::Cifar10),
        Location::Folder(folder.clone())
    );
    let (train, test) = load_u8(DatasetId::Cifar10, &here, Some(5)).unwrap();
    assert_eq!(train.labels, [6, 9, 9, 4, 1]);
    assert_eq!(test.labels, [3, 8, 8, 0, 6]);
    // The marker records the verified sum; a second run sends no request.
    let before = server.requests().len();
    assert_eq!(
        fetch(&r, &folder, &server.options(0)).unwrap().outcome,
        Outcome::Present
    );
    assert_eq!(server.requests().len(), before);
    // Once the unpacked folder is gone the marker no longer counts.
    std::fs::remove_dir_all(folder.join("cifar-10-batches-bin")).unwrap();
    assert!(matches!(
        fetch(&r, &folder, &server.options(0)).unwrap().outcome,
        Outcome::Downloaded { .. }
    ));
    assert!(
        folder
            .join("cifar-10-batches-bin/data_batch_1.bin")
            .is_file()
    );
}

/// The FSDD recordings as (name, bytes), sorted by name.
fn recordings() -> Vec<(String, Vec<u8>)> {
    let dir = source().join("fsdd/recordings");
    listing(&dir)
        .into_iter()
        .filter(|n| n.ends_with(".wav"))
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        z.start_file(name.as_str(), opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn fsdd_zip_keeps_only_recordings_and_checks_their_listing() {
    let clips = recordings();
    // The listing in sha256sum format, written independently of the library.
    let mut text = String::new();
    for (n, b) in &clips {
        text.push_str(&format!("{}  recordings/{n}\n", sha(b)));
    }
    let shared_sums = source().join("fsdd/SHA256SUMS");
    if shared_sums.is_file() {
        // With the full data the listing reproduces the project's SHA256SUMS, the FSDD manifest's check.
        assert_eq!(std::fs::read_to_string(&shared_sums).unwrap(), text);
        assert_eq!(
            sha(text.as_bytes()),
            "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b"
        );
    }
    let top = "free-spoken-digit-dataset-abc";
    let mut entries = vec![(format!("{top}/README.md"), b"# FSDD\n".to_vec())];
    entries.extend(
        clips
            .iter()
            .map(|(n, b)| (format!("{top}/recordings/{n}"), b.clone())),
    );
    let archive = zip_of(&entries);
    let server = Server::start();
    server.add("fsdd/fsdd.zip", archive);
    let unpack = |sum: String| Unpack {
        kind: ArchiveKind::Zip,
        strip: 1,
        keep: Some("recordings".into()),
        tree: Some(TreeSum {
            dir: "recordings".into(),
            sha256: sum,
        }),
    };
    let mut r = Remote {
        url: "https://example.invalid/fsdd.zip".into(),
        mirror_path: "fsdd/fsdd.zip".into(),
        file: "fsdd.zip".into(),
        size: None,
        sha256: None,
        unpack: Some(unpack("0".repeat(64))),
    };
    // A wrong listing sum: refused, and nothing is placed.
    let out = tmp();
    let folder = out.path().join("fsdd");
    let e = fetch(&r, &folder, &server.options(0)).unwrap_err();
    assert!(
        matches!(e, DownloadError::Tree { files, .. } if files == clips.len()),
        "{e}"
    );
    assert!(e.to_string().contains(&sha(text.as_bytes())), "{e}");
    assert_eq!(listing(&folder), Vec::<String>::new());

    r.unpack = Some(unpack(sha(text.as_bytes())));
    let got = fetch(&r, &folder, &server.options(0)).unwrap();
    assert_eq!(got.unpacked, clips.len());
    assert_eq!(listing(&folder), ["fsdd.zip.sha256", "recordings"]);
    let names: Vec<String> = clips.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(listing(&folder.join("recordings")), names);
    let here = DataDir::at(out.path());
    assert_eq!(
        here.locate(DatasetId::Fsdd),
        Location::Folder(folder.clone())
    );
    let opts = LoadOptions::default().with_limit(Some(2));
    let (a, b) = (
        load(DatasetId::Fsdd, &here, &opts).unwrap(),
        load(DatasetId::Fsdd, &DataDir::at(source()), &opts).unwrap(),
    );
    assert_eq!((a.train, a.test), (b.train, b.test));
}

#[test]
fn a_broken_transfer_keeps_the_part_and_the_next_run_resumes_it() {
    let body = read("mnist/train-images-idx3-ubyte.gz");
    let cut = body.len() / 2;
    let server = Server::start();
    server.add_route("mnist/a.gz", body.clone(), Some(cut));
    let r = remote("mnist", "a.gz", &body);
    let out = tmp();
    let e = fetch(&r, out.path(), &server.options(0)).unwrap_err();
    let DownloadError::Interrupted { have, part, .. } = &e else {
        panic!("expected an interrupted transfer, got {e}");
    };
    assert!(*have > 0 && *have <= cut as u64, "{e}");
    assert_eq!(std::fs::read(part).unwrap(), body[..*have as usize]);
    assert!(!out.path().join("a.gz").exists());

    let got = fetch(&r, out.path(), &server.options(0)).unwrap();
    assert_eq!(
        got.outcome,
        Outcome::Downloaded {
            bytes: body.len() as u64 - have,
            resumed_from: *have
        }
    );
    assert_eq!(std::fs::read(out.path().join("a.gz")).unwrap(), body);
    assert_eq!(listing(out.path()), ["a.gz"]);
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].1, Some(format!("bytes={have}-")));

    // With a retry allowed, one call resumes by itself.
    server.add_route("mnist/b.gz", body.clone(), Some(cut));
    let r = remote("mnist", "b.gz", &body);
    let got = fetch(&r, out.path(), &server.options(1)).unwrap();
    assert_eq!(
        got.outcome,
        Outcome::Downloaded {
            bytes: body.len() as u64,
            resumed_from: 0
        }
    );
    assert_eq!(std::fs::read(out.path().join("b.gz")).unwrap(), body);
    let log = server.requests();
    assert_eq!(log.len(), 4);
    assert!(log[3].1.as_deref().is_some_and(|r| r.starts_with("bytes=")));
}

#[test]
fn truncated_or_corrupted_copies_are_refused_and_leave_nothing_behind() {
    let body = read("mnist/t10k-labels-idx1-ubyte.gz");
    let server = Server::start();
    server.add("mnist/short.gz", body[..body.len() / 2].to_vec());
    let mut flipped = body.clone();
    flipped[body.len() / 2] ^= 0x01;
    server.add("mnist/flipped.gz", flipped.clone());
    let out = tmp();

    let e = fetch(
        &remote("mnist", "short.gz", &body),
        out.path(),
        &server.options(0),
    )
    .unwrap_err();
    assert!(
        matches!(e, DownloadError::Size { expected, got, .. } if expected == body.len() as u64 && got == (body.len() / 2) as u64),
        "{e}"
    );
    assert_eq!(listing(out.path()), Vec::<String>::new());

    // Without a published size the checksum catches it.
    let mut unsized_remote = remote("mnist", "short.gz", &body);
    unsized_remote.size = None;
    let e = fetch(&unsized_remote, out.path(), &server.options(0)).unwrap_err();
    assert!(matches!(e, DownloadError::Checksum { .. }), "{e}");
    assert_eq!(listing(out.path()), Vec::<String>::new());

    let e = fetch(
        &remote("mnist", "flipped.gz", &body),
        out.path(),
        &server.options(0),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(&e, DownloadError::Checksum { expected, actual, .. } if *expected == sha(&body) && *actual == sha(&flipped)),
        "{msg}"
    );
    assert!(
        msg.contains(&sha(&body)) && msg.contains(&sha(&flipped)),
        "{msg}"
    );
    assert_eq!(listing(out.path()), Vec::<String>::new());
}

/// One raw tar header + data block; names and link targets are written as bytes, so paths a well-behaved tar
/// writer refuses (absolute, `..`) can be crafted.
fn raw_entry(tar: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    tar.extend_from_slice(h.as_bytes());
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
}

fn crafted_tar_gz(evil: (&str, tar::EntryType, &str)) -> Vec<u8> {
    let mut t = Vec::new();
    raw_entry(&mut t, "ok/a.txt", tar::EntryType::Regular, "", b"fine\n");
    let (name, kind, link) = evil;
    raw_entry(&mut t, name, kind, link, b"evil\n");
    raw_entry(&mut t, "ok/b.txt", tar::EntryType::Regular, "", b"fine\n");
    t.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&t).unwrap();
    gz.finish().unwrap()
}

#[test]
fn crafted_archives_are_refused_and_nothing_is_written_outside_or_inside() {
    let root = tmp();
    let outside = root.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let target = root.path().join("data/set");
    let abs = outside.join("abs-evil");
    let abs_name = abs.display().to_string();
    use tar::EntryType::{Link, Regular, Symlink};
    let cases: [(&str, tar::EntryType, &str, &str); 6] = [
        ("../../outside/evil", Regular, "", "`..`"),
        (&abs_name, Regular, "", "absolute"),
        ("ok/etc", Symlink, "/etc", "absolute"),
        ("ok/up", Symlink, "../../../outside", "`..`"),
        ("./ok/../../x", Regular, "", "`..`"),
        ("ok/hard", Link, "../../outside/evil", "`..`"),
    ];
    let server = Server::start();
    for (i, (name, kind, link, why)) in cases.iter().enumerate() {
        let archive = crafted_tar_gz((name, *kind, link));
        let file = format!("evil{i}.tar.gz");
        server.add(&format!("set/{file}"), archive.clone());
        let r = remote("set", &file, &archive).unpacked(Unpack::all(ArchiveKind::TarGz));
        let e = fetch(&r, &target, &server.options(0)).unwrap_err();
        assert!(matches!(e, DownloadError::Unsafe { .. }), "{name}: {e}");
        assert!(e.to_string().contains(why), "{name}: {e}");
        assert_eq!(listing(&target), Vec::<String>::new(), "{name}");
    }
    assert_eq!(listing(&outside), Vec::<String>::new());
    assert_eq!(listing(root.path()), ["data", "outside"]);
    assert_eq!(listing(&root.path().join("data")), ["set"]);

    // The same for zip entries, including a symbolic link to /etc.
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("ok/a.txt", opts).unwrap();
    z.write_all(b"fine\n").unwrap();
    z.add_symlink("ok/etc", "/etc", opts).unwrap();
    let archive = z.finish().unwrap().into_inner();
    server.add("set/link.zip", archive.clone());
    let r = remote("set", "link.zip", &archive).unpacked(Unpack::all(ArchiveKind::Zip));
    let e = fetch(&r, &target, &server.options(0)).unwrap_err();
    assert!(matches!(e, DownloadError::Unsafe { .. }), "{e}");
    assert_eq!(listing(&target), Vec::<String>::new());

    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file("../outside/evil", opts).unwrap();
    z.write_all(b"evil\n").unwrap();
    let archive = z.finish().unwrap().into_inner();
    server.add("set/up.zip", archive.clone());
    let r = remote("set", "up.zip", &archive).unpacked(Unpack::all(ArchiveKind::Zip));
    let e = fetch(&r, &target, &server.options(0)).unwrap_err();
    assert!(matches!(e, DownloadError::Unsafe { .. }), "{e}");
    assert_eq!(listing(&target), Vec::<String>::new());
    assert_eq!(listing(&outside), Vec::<String>::new());
}

#[test]
fn a_missing_file_and_a_closed_port_give_clear_errors() {
    let server = Server::start();
    let out = tmp();
    let r = remote("mnist", "nothing.gz", b"x");
    let e = fetch(&r, out.path(), &server.options(0)).unwrap_err();
    assert!(
        matches!(&e, DownloadError::Status { status: 404, url } if url == &format!("{}/mnist/nothing.gz", server.base)),
        "{e}"
    );
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    assert_eq!(listing(out.path()), Vec::<String>::new());

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opts = Options::default().with_mirror(Some(format!("http://127.0.0.1:{port}")));
    let e = fetch(&r, out.path(), &opts).unwrap_err();
    assert!(matches!(e, DownloadError::Connect { .. }), "{e}");
    assert!(e.to_string().contains("cannot connect"), "{e}");
    assert_eq!(listing(out.path()), Vec::<String>::new());
}
