//! Unpacking a verified archive into a dataset folder: entries go into a hidden temporary folder, paths that
//! are absolute, hold `..` or are links pointing outside are refused, and the entries are renamed into place
//! only when the whole archive was read; a marker records which archive the folder holds.

use super::*;
pub(super) fn marker_first_line(remote: &Remote, unpack: &Unpack) -> String {
    let sum = match (&remote.sha256, &unpack.tree) {
        (Some(s), _) => s.clone(),
        (None, Some(t)) => format!("{} (listing of {})", t.sha256, t.dir),
        (None, None) => String::new(),
    };
    format!("{sum}  {}", remote.file)
}

/// Whether an earlier run unpacked this archive: its marker names the same sum and every entry it placed
/// still exists.
pub(super) fn marker_holds(marker: &Path, first: &str, folder: &Path) -> bool {
    let Ok(text) = fs::read_to_string(marker) else {
        return false;
    };
    let mut lines = text.lines();
    lines.next() == Some(first) && lines.all(|n| folder.join(n).exists())
}

/// Unpacks `archive` into a temporary folder inside `folder`, checks the tree sum, then renames each top-level
/// entry into `folder` (replacing an older copy). Returns the top-level names and the number of entries.
pub(super) fn unpack_into(
    archive: &Path,
    url: &str,
    unpack: &Unpack,
    folder: &Path,
) -> DownloadResult<(Vec<String>, usize)> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = folder.join(format!(".{name}.unpack"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(&tmp, "remove an old temporary folder"))?;
    }
    fs::create_dir(&tmp).map_err(io_err(&tmp, "create"))?;
    let result = unpack_checked(archive, url, unpack, &tmp).and_then(|count| {
        let names = place(&tmp, folder)?;
        Ok((names, count))
    });
    let _ = fs::remove_dir_all(&tmp);
    result
}

pub(super) fn unpack_checked(
    archive: &Path,
    url: &str,
    unpack: &Unpack,
    tmp: &Path,
) -> DownloadResult<usize> {
    let mut out = Unpacker {
        url,
        unpack,
        root: tmp,
        count: 0,
    };
    match unpack.kind {
        ArchiveKind::TarGz => out.tar_gz(archive)?,
        ArchiveKind::Zip => out.zip(archive)?,
    }
    if let Some(tree) = &unpack.tree {
        let (actual, files) = tree_sha256(tmp, &tree.dir)?;
        if actual != tree.sha256 {
            return Err(DownloadError::Tree {
                url: url.to_string(),
                dir: tree.dir.clone(),
                files,
                expected: tree.sha256.clone(),
                actual,
            });
        }
    }
    Ok(out.count)
}

pub(super) fn place(tmp: &Path, folder: &Path) -> DownloadResult<Vec<String>> {
    let mut names = Vec::new();
    for e in fs::read_dir(tmp).map_err(io_err(tmp, "list"))? {
        let e = e.map_err(io_err(tmp, "list"))?;
        names.push(e.file_name());
    }
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let dest = folder.join(&n);
        match fs::symlink_metadata(&dest) {
            Ok(m) if m.is_dir() => {
                fs::remove_dir_all(&dest).map_err(io_err(&dest, "replace an older copy"))?
            }
            Ok(_) => fs::remove_file(&dest).map_err(io_err(&dest, "replace an older copy"))?,
            Err(_) => {}
        }
        fs::rename(tmp.join(&n), &dest).map_err(io_err(&dest, "rename into place"))?;
        out.push(n.to_string_lossy().into_owned());
    }
    sync_dir(folder)?;
    Ok(out)
}

/// The sha256 of the listing of every file under `root/dir` (see [`TreeSum`]) and the number of files.
pub fn tree_sha256(root: &Path, dir: &str) -> DownloadResult<(String, usize)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_string()];
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        if !path.is_dir() {
            continue;
        }
        for e in fs::read_dir(&path).map_err(io_err(&path, "list"))? {
            let e = e.map_err(io_err(&path, "list"))?;
            let child = format!("{rel}/{}", e.file_name().to_string_lossy());
            if e.path().is_dir() {
                stack.push(child);
            } else {
                files.push(child);
            }
        }
    }
    files.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut listing = Sha256::new();
    for f in &files {
        let (_, sum) = hash_file(&root.join(f))?;
        listing.update(format!("{sum}  {f}\n").as_bytes());
    }
    Ok((hex(&listing.finalize()), files.len()))
}

/// An entry path made only of normal components, or why it is refused.
pub(super) fn safe_relative(raw: &Path) -> Result<PathBuf, &'static str> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => return Err("absolute path"),
            Component::ParentDir => return Err("`..` path component"),
            Component::CurDir => {}
            Component::Normal(p) => out.push(p),
        }
    }
    Ok(out)
}

/// A symbolic link target is accepted only if it points down from the link's own folder: relative, without
/// `..`. Then no chain of links can leave the unpacked tree, whatever else the archive holds.
pub(super) fn safe_link_target(target: &Path) -> Result<(), &'static str> {
    if target.as_os_str().is_empty() {
        return Err("empty link target");
    }
    match safe_relative(target) {
        Ok(_) => Ok(()),
        Err("absolute path") => Err("link to an absolute path (outside the target)"),
        Err(_) => Err("link target with `..` (may point outside the target)"),
    }
}

pub(super) struct Unpacker<'a> {
    url: &'a str,
    unpack: &'a Unpack,
    root: &'a Path,
    count: usize,
}

impl Unpacker<'_> {
    fn refuse(&self, entry: &Path, why: &'static str) -> DownloadError {
        DownloadError::Unsafe {
            url: self.url.to_string(),
            entry: entry.display().to_string(),
            why,
        }
    }

    fn bad(&self, detail: impl fmt::Display) -> DownloadError {
        DownloadError::Archive {
            url: self.url.to_string(),
            format: self.unpack.kind.name(),
            detail: detail.to_string(),
        }
    }

    /// The checked entry path relative to the unpacked root after `strip` and `keep`, or `None` when the
    /// entry is not written (it was still checked).
    fn select(&self, raw: &Path) -> DownloadResult<Option<PathBuf>> {
        let rel = safe_relative(raw).map_err(|why| self.refuse(raw, why))?;
        let kept: PathBuf = rel.components().skip(self.unpack.strip).collect();
        if kept.as_os_str().is_empty() {
            return Ok(None);
        }
        match &self.unpack.keep {
            Some(k) if !kept.starts_with(k) => Ok(None),
            _ => Ok(Some(kept)),
        }
    }

    fn dest(&self, rel: &Path) -> DownloadResult<PathBuf> {
        let dest = self.root.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent, "create folder"))?;
        }
        Ok(dest)
    }

    fn write_file(&mut self, rel: &Path, body: &mut impl Read) -> DownloadResult<()> {
        let dest = self.dest(rel)?;
        let mut f = File::create(&dest).map_err(io_err(&dest, "create"))?;
        io::copy(body, &mut f).map_err(|e| self.bad(format!("{}: {e}", rel.display())))?;
        self.count += 1;
        Ok(())
    }

    fn make_dir(&mut self, rel: &Path) -> DownloadResult<()> {
        let dest = self.root.join(rel);
        fs::create_dir_all(&dest).map_err(io_err(&dest, "create folder"))?;
        self.count += 1;
        Ok(())
    }

    fn symlink(&mut self, raw: &Path, rel: &Path, target: &Path) -> DownloadResult<()> {
        let dest = self.dest(rel)?;
        #[cfg(unix)]
        {
            let _ = raw;
            std::os::unix::fs::symlink(target, &dest).map_err(io_err(&dest, "create link"))?;
            self.count += 1;
            Ok(())
        }
        #[cfg(not(unix))]
        {
            let _ = (dest, target);
            Err(DownloadError::Unsupported {
                url: self.url.to_string(),
                entry: raw.display().to_string(),
                kind: "symbolic link (only unpacked on Unix)".into(),
            })
        }
    }

    fn tar_gz(&mut self, archive: &Path) -> DownloadResult<()> {
        let file = File::open(archive).map_err(io_err(archive, "open"))?;
        let gz = flate2::read::GzDecoder::new(BufReader::new(file));
        let mut tar = tar::Archive::new(gz);
        for entry in tar.entries().map_err(|e| self.bad(e))? {
            let mut entry = entry.map_err(|e| self.bad(e))?;
            let raw = entry.path().map_err(|e| self.bad(e))?.into_owned();
            let kind = entry.header().entry_type();
            if kind.is_pax_global_extensions() {
                continue;
            }
            let link = if kind.is_symlink() || kind.is_hard_link() {
                let t = entry.link_name().map_err(|e| self.bad(e))?;
                Some(
                    t.ok_or_else(|| self.refuse(&raw, "link without a target"))?
                        .into_owned(),
                )
            } else {
                None
            };
            // Every entry is checked, also the ones not written.
            if kind.is_symlink()
                && let Some(t) = &link
            {
                safe_link_target(t).map_err(|why| self.refuse(&raw, why))?;
            }
            let hard_target = match (&link, kind.is_hard_link()) {
                (Some(t), true) => Some(self.select(t)?.ok_or_else(|| {
                    self.refuse(&raw, "hard link to an entry that is not unpacked")
                })?),
                _ => None,
            };
            let Some(rel) = self.select(&raw)? else {
                continue;
            };
            if kind.is_file() || kind.is_contiguous() {
                self.write_file(&rel, &mut entry)?;
            } else if kind.is_dir() {
                self.make_dir(&rel)?;
            } else if let (true, Some(t)) = (kind.is_symlink(), &link) {
                self.symlink(&raw, &rel, t)?;
            } else if let Some(t) = hard_target {
                let src = self.root.join(&t);
                if !src.is_file() {
                    return Err(self.refuse(&raw, "hard link to an entry that is not unpacked"));
                }
                let dest = self.dest(&rel)?;
                fs::hard_link(&src, &dest).map_err(io_err(&dest, "create hard link"))?;
                self.count += 1;
            } else {
                return Err(DownloadError::Unsupported {
                    url: self.url.to_string(),
                    entry: raw.display().to_string(),
                    kind: format!("{kind:?}"),
                });
            }
        }
        Ok(())
    }

    fn zip(&mut self, archive: &Path) -> DownloadResult<()> {
        let file = File::open(archive).map_err(io_err(archive, "open"))?;
        let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| self.bad(e))?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| self.bad(e))?;
            let raw = PathBuf::from(entry.name().map_err(|e| self.bad(e))?.into_owned());
            let target = if entry.is_symlink() {
                // A zip stores a link's target as the entry's content; targets are short.
                let mut t = String::new();
                (&mut entry)
                    .take(4096)
                    .read_to_string(&mut t)
                    .map_err(|e| self.bad(e))?;
                let t = PathBuf::from(t);
                safe_link_target(&t).map_err(|why| self.refuse(&raw, why))?;
                Some(t)
            } else {
                None
            };
            let Some(rel) = self.select(&raw)? else {
                continue;
            };
            if let Some(t) = target {
                self.symlink(&raw, &rel, &t)?;
            } else if entry.is_dir() {
                self.make_dir(&rel)?;
            } else {
                self.write_file(&rel, &mut entry)?;
            }
        }
        Ok(())
    }
}
