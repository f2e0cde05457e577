//! Downloading the datasets mixlab reads from their official
//! addresses into the layout [`crate::DataDir`] expects, so `mixlab datasets --data-dir DIR` finds them.
//!
//! Every file is fetched into `<name>.part` (an interrupted transfer is continued with an HTTP `Range` request),
//! checked against its size and a published sha256, flushed to disk and only then renamed to its final name, so
//! a final name never holds a half or unverified file. Archives are unpacked into a hidden temporary folder
//! inside the dataset folder, refusing absolute paths, `..` components and links that could point outside
//! it, and the unpacked entries are renamed into place only when the whole archive was read.
//!
//! Where each sum comes from is written beside each entry of [`Set::remotes`]. A base URL given with
//! [`Options::mirror`] (`--mirror`, or [`MIRROR_ENV`]) replaces the official host: file `F` of set `S` is then
//! fetched from `<mirror>/<S folder>/F` ([`Remote::mirror_path`]); the sums stay the official ones.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::id::DatasetId;

/// Environment variable naming a mirror base URL when `--mirror` is not given.
pub const MIRROR_ENV: &str = "MIXLAB_MIRROR";

/// Result of the download functions.
pub type DownloadResult<T> = std::result::Result<T, DownloadError>;

/// Every way a download, its verification or its unpacking can fail.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// A local file operation failed.
    #[error("{}: cannot {op}: {source}", .path.display())]
    Io {
        /// The local file or folder.
        path: PathBuf,
        /// What was being done, as a verb phrase (e.g. "rename into place").
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// No connection to the server (refused, unknown host, TLS failure, …).
    #[error("{url}: cannot connect: {detail}")]
    Connect {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The HTTP client's error.
        detail: String,
    },
    /// The server answered with a status other than 200 / 206.
    #[error("{url}: server answered HTTP {status}, expected 200 (or 206 for a resumed transfer)")]
    Status {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The HTTP status code received.
        status: u16,
    },
    /// The request failed for another reason (protocol error, timeout, bad URL, …).
    #[error("{url}: request failed: {detail}")]
    Request {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The HTTP client's error, or what was wrong with the answer.
        detail: String,
    },
    /// The body stopped before its end; what arrived is kept in `part` for the next run.
    #[error(
        "{url}: transfer broke off after {have} bytes ({detail}); {} is kept and the next run resumes it",
        .part.display()
    )]
    Interrupted {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The `<name>.part` file holding what arrived.
        part: PathBuf,
        /// Bytes in `part` now, over all attempts.
        have: u64,
        /// The error that ended the last attempt.
        detail: String,
    },
    /// The file does not have the published size (nothing is kept).
    #[error("{url}: {got} bytes, expected {expected}")]
    Size {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The published size in bytes.
        expected: u64,
        /// The size received, or announced by the server's `Content-Length`.
        got: u64,
    },
    /// The file's sha256 is not the published one (nothing is kept).
    #[error("{url}: sha256 mismatch: expected {expected}, got {actual}")]
    Checksum {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The published sha256, lowercase hex.
        expected: String,
        /// The sha256 of the received file, lowercase hex.
        actual: String,
    },
    /// The sha256 of the unpacked files' listing is not the expected one (nothing is kept).
    #[error(
        "{url}: sha256 of the listing of the {files} unpacked files under {dir} is {actual}, expected {expected}"
    )]
    Tree {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The folder (relative to the unpacked root) whose files are listed ([`TreeSum::dir`]).
        dir: String,
        /// Number of files in the listing.
        files: usize,
        /// The expected sha256 of the listing, lowercase hex.
        expected: String,
        /// The sha256 of the listing that was unpacked, lowercase hex.
        actual: String,
    },
    /// An archive entry that could land outside the target folder.
    #[error("{url}: archive entry {entry:?} refused: {why}")]
    Unsafe {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The entry's path as stored in the archive.
        entry: String,
        /// The rule it breaks (absolute path, `..` component, link leaving the folder, …).
        why: &'static str,
    },
    /// An archive entry of a kind that is never unpacked (device, fifo, …).
    #[error("{url}: archive entry {entry:?} has unsupported type {kind}")]
    Unsupported {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The entry's path as stored in the archive.
        entry: String,
        /// The entry's type, as the archive reader names it.
        kind: String,
    },
    /// The archive cannot be read.
    #[error("{url}: not a readable {format} archive: {detail}")]
    Archive {
        /// The address the file was fetched from (the mirror's when one is set).
        url: String,
        /// The archive format it was read as (`tar.gz`, `zip`).
        format: &'static str,
        /// The archive reader's error.
        detail: String,
    },
    /// A manifest entry breaks a rule (bad sum, no check at all, bad file name).
    #[error("manifest entry {file:?}: {rule}, got {value:?}")]
    Manifest {
        /// The entry's file name ([`Remote::file`]).
        file: String,
        /// The rule it breaks.
        rule: &'static str,
        /// The offending value (`"none"` when a required check is absent).
        value: String,
    },
    /// A mirror that is not an http(s) URL.
    #[error("mirror must be an http:// or https:// URL, got {value:?}")]
    Mirror {
        /// The mirror as given.
        value: String,
    },
    /// An unknown set name.
    #[error("unknown download set {name:?}; known: {known}")]
    UnknownSet {
        /// The name as given.
        name: String,
        /// The known set names, comma-separated.
        known: String,
    },
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> DownloadError + 'a {
    move |source| DownloadError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

mod sets;
pub use sets::Set;

/// Archive formats that can be unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    /// gzip-compressed tar.
    TarGz,
    /// zip (stored or deflate entries).
    Zip,
}

impl ArchiveKind {
    fn name(self) -> &'static str {
        match self {
            ArchiveKind::TarGz => "tar.gz",
            ArchiveKind::Zip => "zip",
        }
    }
}

/// The sha256 of the `sha256sum`-style listing of every file under `dir` after unpacking: one line
/// `"<sha256 hex>  <path>\n"` per file, paths relative to the unpacked root with `/` separators, lines sorted
/// by path bytes. It checks an archive whose own bytes are not stable (a GitHub-generated zip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeSum {
    /// Folder (relative to the unpacked root) whose files are listed.
    pub dir: String,
    /// Expected sha256 (lowercase hex) of the listing.
    pub sha256: String,
}

/// How a downloaded archive is unpacked into the dataset folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpack {
    /// Archive format.
    pub kind: ArchiveKind,
    /// Leading path components dropped from every entry (1 for GitHub's `<repo>-<commit>/` folder).
    pub strip: usize,
    /// Only entries under this path (after `strip`) are written; every entry is still checked.
    pub keep: Option<String>,
    /// Checked after unpacking, before anything is moved into place.
    pub tree: Option<TreeSum>,
}

impl Unpack {
    /// Unpack every entry as stored.
    pub fn all(kind: ArchiveKind) -> Unpack {
        Unpack {
            kind,
            strip: 0,
            keep: None,
            tree: None,
        }
    }
}

/// One file to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// Official address.
    pub url: String,
    /// Path under a mirror base URL (`<set folder>/<file>`).
    pub mirror_path: String,
    /// File name inside the dataset folder (for an archive: the name of its `.part` while downloading).
    pub file: String,
    /// Published size in bytes, if known.
    pub size: Option<u64>,
    /// Published sha256 (lowercase hex); `None` only where [`Unpack::tree`] checks the content instead.
    pub sha256: Option<String>,
    /// Unpack the file as an archive (and drop it afterwards) instead of keeping it.
    pub unpack: Option<Unpack>,
}

impl Remote {
    /// A plain file with a published size and sha256, mirrored at `<folder>/<file>`.
    pub fn file(
        url: impl Into<String>,
        folder: &str,
        file: &str,
        size: u64,
        sha256: &str,
    ) -> Remote {
        Remote {
            url: url.into(),
            mirror_path: format!("{folder}/{file}"),
            file: file.to_string(),
            size: Some(size),
            sha256: Some(sha256.to_string()),
            unpack: None,
        }
    }

    /// The same file, unpacked as an archive.
    pub fn unpacked(mut self, unpack: Unpack) -> Remote {
        self.unpack = Some(unpack);
        self
    }

    /// The URL it is fetched from: `<mirror>/<mirror_path>`, or the official address without a mirror.
    pub fn source_url(&self, mirror: Option<&str>) -> String {
        match mirror {
            Some(m) => format!("{}/{}", m.trim_end_matches('/'), self.mirror_path),
            None => self.url.clone(),
        }
    }

    /// Checks the entry: a plain file name, lowercase-hex sums, and at least one content check.
    pub fn validate(&self) -> DownloadResult<()> {
        let bad = |rule, value: &str| DownloadError::Manifest {
            file: self.file.clone(),
            rule,
            value: value.to_string(),
        };
        let mut parts = Path::new(&self.file).components();
        if !matches!(
            (parts.next(), parts.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(bad("file must be a plain file name", &self.file));
        }
        let tree = self.unpack.as_ref().and_then(|u| u.tree.as_ref());
        for sum in self.sha256.iter().chain(tree.map(|t| &t.sha256)) {
            if !is_sha256_hex(sum) {
                return Err(bad("sha256 must be 64 lowercase hex digits", sum));
            }
        }
        if self.sha256.is_none() && tree.is_none() {
            return Err(bad(
                "a sha256 of the file or of its unpacked tree is required",
                "none",
            ));
        }
        Ok(())
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Download options. Defaults: official addresses, 3 retries of a broken transfer, 60 s read timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Base URL replacing the official hosts (see the module docs).
    pub mirror: Option<String>,
    /// How often a transfer that broke off is resumed within one call before giving up.
    pub retries: u32,
    /// Longest wait for the server's answer or for the next bytes of the body.
    pub read_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mirror: None,
            retries: 3,
            read_timeout: Duration::from_secs(60),
        }
    }
}

impl Options {
    /// Sets [`Options::mirror`].
    pub fn with_mirror(mut self, mirror: Option<String>) -> Self {
        self.mirror = mirror;
        self
    }

    /// Sets [`Options::retries`].
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The mirror to use: `explicit`, else [`MIRROR_ENV`] when set and not empty.
    pub fn mirror_from(explicit: Option<&str>) -> Option<String> {
        match explicit {
            Some(m) => Some(m.to_string()),
            None => std::env::var(MIRROR_ENV).ok().filter(|v| !v.is_empty()),
        }
    }

    /// Checks the options: a mirror must be an http(s) URL.
    pub fn validate(&self) -> DownloadResult<()> {
        match &self.mirror {
            Some(m) if !(m.starts_with("http://") || m.starts_with("https://")) => {
                Err(DownloadError::Mirror { value: m.clone() })
            }
            _ => Ok(()),
        }
    }
}

/// What [`fetch`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Already in place and verified earlier; nothing was fetched.
    Present,
    /// Fetched: `bytes` arrived in this call, the first request started at byte `resumed_from`.
    Downloaded {
        /// Bytes received in this call, over all attempts.
        bytes: u64,
        /// Size of the `.part` file the first request resumed from (0 for a fresh download).
        resumed_from: u64,
    },
}

/// The result of one [`fetch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The remote's file name.
    pub file: String,
    /// Where it was fetched from.
    pub url: String,
    /// The verified file, or for an archive the dataset folder it was unpacked into.
    pub path: PathBuf,
    /// Fetched or already present.
    pub outcome: Outcome,
    /// Files, folders and links written from an archive (0 for a plain file).
    pub unpacked: usize,
}

/// Downloads every file of `set` into `<to>/<set folder>/`.
pub fn download(set: Set, to: &Path, opts: &Options) -> DownloadResult<Vec<Fetched>> {
    let folder = to.join(set.folder());
    set.remotes()
        .iter()
        .map(|r| fetch(r, &folder, opts))
        .collect()
}

/// Downloads one file into `folder` (created if needed), verifies it and moves it (or its unpacked entries)
/// into place. A verified file already in place is not fetched again.
pub fn fetch(remote: &Remote, folder: &Path, opts: &Options) -> DownloadResult<Fetched> {
    remote.validate()?;
    opts.validate()?;
    fs::create_dir_all(folder).map_err(io_err(folder, "create folder"))?;
    let url = remote.source_url(opts.mirror.as_deref());
    let part = folder.join(format!("{}.part", remote.file));
    let done = |path: PathBuf, outcome, unpacked| Fetched {
        file: remote.file.clone(),
        url: url.clone(),
        path,
        outcome,
        unpacked,
    };
    let agent = agent(opts);
    match &remote.unpack {
        None => {
            let target = folder.join(&remote.file);
            if target.is_file() && file_matches(&target, remote)? {
                return Ok(done(target, Outcome::Present, 0));
            }
            let outcome = transfer(&agent, &url, &part, remote.size, opts.retries)?;
            verify(&part, &url, remote)?;
            fs::rename(&part, &target).map_err(io_err(&target, "rename into place"))?;
            sync_dir(folder)?;
            Ok(done(target, outcome, 0))
        }
        Some(unpack) => {
            let marker = folder.join(format!("{}.sha256", remote.file));
            let expected = marker_first_line(remote, unpack);
            if marker_holds(&marker, &expected, folder) {
                return Ok(done(folder.to_path_buf(), Outcome::Present, 0));
            }
            let outcome = transfer(&agent, &url, &part, remote.size, opts.retries)?;
            verify(&part, &url, remote)?;
            let placed = unpack_into(&part, &url, unpack, folder);
            // A verified archive that cannot be unpacked is useless for a resume: drop it either way.
            let _ = fs::remove_file(&part);
            let (names, count) = placed?;
            let mut text = format!("{expected}\n");
            for n in &names {
                text.push_str(n);
                text.push('\n');
            }
            write_atomic(&marker, text.as_bytes())?;
            Ok(done(folder.to_path_buf(), outcome, count))
        }
    }
}

fn agent(opts: &Options) -> ureq::Agent {
    ureq::Agent::config_builder()
        // Statuses are handled here: 206 and 416 matter for resuming.
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_per_read(Some(opts.read_timeout))
        .user_agent(concat!("mixlab/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn request_error(url: &str, e: ureq::Error) -> DownloadError {
    let connect = match &e {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound | ureq::Error::Tls(_) => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::NotConnected
                | io::ErrorKind::AddrNotAvailable
        ),
        _ => false,
    };
    let detail = e.to_string();
    if connect {
        DownloadError::Connect {
            url: url.to_string(),
            detail,
        }
    } else {
        DownloadError::Request {
            url: url.to_string(),
            detail,
        }
    }
}

fn header_u64(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<u64> {
    resp.headers().get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The first byte of a `Content-Range: bytes START-END/TOTAL` header.
fn range_start(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    rest.split('-').next()?.trim().parse().ok()
}

fn part_len(part: &Path) -> DownloadResult<u64> {
    match fs::metadata(part) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_err(part, "read metadata")(e)),
    }
}

fn remove_part(part: &Path) -> DownloadResult<()> {
    match fs::remove_file(part) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(part, "remove")(e)),
    }
}

/// Brings `part` to the full file: continues it with a `Range` request when it holds bytes, restarts when the
/// server ignores the range, and retries a broken body up to `retries` times.
fn transfer(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    size: Option<u64>,
    retries: u32,
) -> DownloadResult<Outcome> {
    let mut first: Option<u64> = None;
    let mut bytes = 0u64;
    let mut attempt = 0u32;
    loop {
        let mut have = part_len(part)?;
        if size.is_some_and(|n| have > n) {
            remove_part(part)?;
            have = 0;
        }
        let resumed_from = *first.get_or_insert(have);
        if have > 0 && size == Some(have) {
            return Ok(Outcome::Downloaded {
                bytes,
                resumed_from,
            });
        }
        let mut req = agent.get(url);
        if have > 0 {
            req = req.header("Range", format!("bytes={have}-"));
        }
        let mut resp = req.call().map_err(|e| request_error(url, e))?;
        let status = resp.status().as_u16();
        let append = match status {
            200 => false,
            206 if range_start(&resp) == Some(have) => true,
            206 => {
                // A range other than the one asked for: start over rather than splice wrong bytes.
                remove_part(part)?;
                attempt += 1;
                if attempt > retries {
                    return Err(DownloadError::Request {
                        url: url.to_string(),
                        detail: format!("answered a request for bytes {have}- with another range"),
                    });
                }
                continue;
            }
            // Nothing left to send: the part is complete (verification decides whether it is right).
            416 if have > 0 => {
                return Ok(Outcome::Downloaded {
                    bytes,
                    resumed_from,
                });
            }
            _ => {
                return Err(DownloadError::Status {
                    url: url.to_string(),
                    status,
                });
            }
        };
        if !append
            && let (Some(expected), Some(got)) = (size, header_u64(&resp, "content-length"))
            && expected != got
        {
            remove_part(part)?;
            return Err(DownloadError::Size {
                url: url.to_string(),
                expected,
                got,
            });
        }
        let mut file = if append {
            OpenOptions::new().append(true).open(part)
        } else {
            File::create(part)
        }
        .map_err(io_err(part, "open for writing"))?;
        let mut reader = resp.body_mut().as_reader();
        let copied = copy_body(&mut reader, &mut file, part);
        file.sync_all().map_err(io_err(part, "flush"))?;
        match copied {
            Ok(n) => {
                bytes += n;
                return Ok(Outcome::Downloaded {
                    bytes,
                    resumed_from,
                });
            }
            Err(BodyError::Local(e)) => return Err(e),
            Err(BodyError::Remote(n, e)) => {
                bytes += n;
                attempt += 1;
                if attempt > retries {
                    return Err(DownloadError::Interrupted {
                        url: url.to_string(),
                        part: part.to_path_buf(),
                        have: part_len(part)?,
                        detail: e.to_string(),
                    });
                }
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
            }
        }
    }
}

enum BodyError {
    /// Writing failed: not worth retrying.
    Local(DownloadError),
    /// Reading failed after `n` bytes arrived.
    Remote(u64, io::Error),
}

fn copy_body(reader: &mut impl Read, file: &mut File, part: &Path) -> Result<u64, BodyError> {
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = match reader.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BodyError::Remote(n, e)),
        };
        file.write_all(&buf[..k])
            .map_err(|e| BodyError::Local(io_err(part, "write")(e)))?;
        n += k as u64;
    }
}

/// Size and sha256 of `path`.
fn hash_file(path: &Path) -> DownloadResult<(u64, String)> {
    let mut f = File::open(path).map_err(io_err(path, "open"))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io_err(path, "read"))?;
        if k == 0 {
            return Ok((n, hex(&h.finalize())));
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_matches(path: &Path, remote: &Remote) -> DownloadResult<bool> {
    let (n, sum) = hash_file(path)?;
    Ok(remote.size.is_none_or(|s| s == n) && remote.sha256.as_deref().is_some_and(|s| s == sum))
}

/// Checks the downloaded part against the published size and sum; a part that fails is removed, since
/// resuming it could never fix it.
fn verify(part: &Path, url: &str, remote: &Remote) -> DownloadResult<()> {
    let (n, sum) = hash_file(part)?;
    let err = if let Some(expected) = remote.size.filter(|&s| s != n) {
        Some(DownloadError::Size {
            url: url.to_string(),
            expected,
            got: n,
        })
    } else {
        remote
            .sha256
            .as_ref()
            .filter(|&s| *s != sum)
            .map(|expected| DownloadError::Checksum {
                url: url.to_string(),
                expected: expected.clone(),
                actual: sum,
            })
    };
    match err {
        Some(e) => {
            remove_part(part)?;
            Err(e)
        }
        None => Ok(()),
    }
}

/// Makes a rename durable (best effort where a folder cannot be opened, e.g. on Windows).
fn sync_dir(dir: &Path) -> DownloadResult<()> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir, "flush folder"))?;
    }
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> DownloadResult<()> {
    let tmp = path.with_extension("sha256.part");
    let mut f = File::create(&tmp).map_err(io_err(&tmp, "create"))?;
    f.write_all(bytes).map_err(io_err(&tmp, "write"))?;
    f.sync_all().map_err(io_err(&tmp, "flush"))?;
    fs::rename(&tmp, path).map_err(io_err(path, "rename into place"))?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

mod unpack;
pub use unpack::tree_sha256;
use unpack::*;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    #[test]
    fn every_built_in_entry_is_valid_and_has_a_unique_place() {
        let mut seen = std::collections::HashSet::new();
        for set in Set::ALL {
            assert_eq!(set.name().parse::<Set>().unwrap(), set);
            let remotes = set.remotes();
            assert!(!remotes.is_empty(), "{set}");
            for r in remotes {
                r.validate().unwrap();
                assert!(
                    r.url.starts_with("https://") || r.url.starts_with("http://"),
                    "{}",
                    r.url
                );
                assert_eq!(r.mirror_path, format!("{}/{}", set.folder(), r.file));
                assert!(seen.insert(r.mirror_path.clone()), "{}", r.mirror_path);
            }
        }
        assert!(
            "cifar-100"
                .parse::<Set>()
                .unwrap_err()
                .to_string()
                .contains("cifar100")
        );
    }

    #[test]
    fn loader_sets_use_the_loader_folders() {
        assert_eq!(format!("{:<8}|", Set::Mnist), "mnist   |");
        for set in Set::ALL {
            let id = set.dataset();
            assert_eq!(set.folder(), id.folder());
            assert_eq!(set.name(), id.name());
        }
    }

    #[test]
    fn mirror_replaces_the_host_and_bad_entries_are_refused() {
        let r = Remote::file(
            "https://example.org/a/b.gz",
            "mnist",
            "b.gz",
            3,
            &"a".repeat(64),
        );
        assert_eq!(r.source_url(None), "https://example.org/a/b.gz");
        assert_eq!(
            r.source_url(Some("http://127.0.0.1:9/m/")),
            "http://127.0.0.1:9/m/mnist/b.gz"
        );
        let mut bad = r.clone();
        bad.sha256 = Some("A".repeat(64));
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("lowercase hex")
        );
        bad.sha256 = None;
        assert!(bad.validate().unwrap_err().to_string().contains("required"));
        let mut bad = r.clone();
        bad.file = "../b.gz".into();
        assert!(bad.validate().is_err());
        let o = Options::default().with_mirror(Some("ftp://x".into()));
        assert!(o.validate().unwrap_err().to_string().contains("ftp://x"));
    }

    #[test]
    fn entry_paths_and_link_targets_are_checked() {
        assert_eq!(
            safe_relative(Path::new("./a/b")).unwrap(),
            PathBuf::from("a/b")
        );
        assert_eq!(
            safe_relative(Path::new("/etc/passwd")),
            Err("absolute path")
        );
        assert_eq!(
            safe_relative(Path::new("a/../../b")),
            Err("`..` path component")
        );
        assert!(safe_link_target(Path::new("sub/file")).is_ok());
        assert!(safe_link_target(Path::new("/etc")).is_err());
        assert!(safe_link_target(Path::new("../x")).is_err());
        assert!(safe_link_target(Path::new("")).is_err());
    }
}
