//! Opening inputs: files on disk or bytes compiled into the binary, with gzip detected from the content (magic
//! 1f 8b) rather than the file name, so `x.gz` and an already-unpacked `x` are read by the same code.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use crate::error::{Error, Result};

/// Largest decompressed text a table reader accepts (the biggest shipped table is ~1.1 MB).
pub const MAX_TEXT_BYTES: u64 = 1 << 28;

/// Where a reader gets its bytes: a file, or a file compiled into the binary (`data/` of the repository).
#[derive(Clone, Debug)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// Bytes embedded with `include_bytes!`; `name` is what error messages show.
    Embedded {
        /// Display name, e.g. `data/digits.csv.gz (embedded)`.
        name: &'static str,
        /// The file's bytes.
        bytes: &'static [u8],
    },
}

impl Source {
    /// The path error messages name.
    pub fn path(&self) -> PathBuf {
        match self {
            Source::File(p) => p.clone(),
            Source::Embedded { name, .. } => PathBuf::from(name),
        }
    }
}

/// Opens `path` for reading and returns it with its size; an empty file is an error because no format here
/// allows zero bytes.
pub(crate) fn open_file(path: &Path) -> Result<(File, u64)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((file, len))
}

/// Wraps `r` in a gzip decoder when its first two bytes are the gzip magic.
pub(crate) fn maybe_gunzip<'a, R: BufRead + 'a>(
    mut r: R,
) -> std::io::Result<(Box<dyn Read + 'a>, bool)> {
    let head = r.fill_buf()?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        Ok((Box::new(MultiGzDecoder::new(r)), true))
    } else {
        Ok((Box::new(r), false))
    }
}

/// Opens a source as a decompressed byte stream.
fn open_source(source: &Source) -> Result<Box<dyn Read + 'static>> {
    match source {
        Source::File(path) => {
            let (file, _) = open_file(path)?;
            let (r, _) = maybe_gunzip(BufReader::new(file)).map_err(|e| Error::io(path, e))?;
            Ok(r)
        }
        Source::Embedded { bytes, .. } => {
            if bytes.is_empty() {
                return Err(Error::Empty {
                    path: source.path(),
                });
            }
            let (r, _) = maybe_gunzip(*bytes).map_err(|e| Error::io(source.path(), e))?;
            Ok(r)
        }
    }
}

/// Reads a whole (decompressed) text source, refusing more than [`MAX_TEXT_BYTES`] so a gzip bomb or a wrong file
/// cannot exhaust memory.
pub(crate) fn read_text(source: &Source) -> Result<Vec<u8>> {
    let r = open_source(source)?;
    let mut buf = Vec::new();
    r.take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(source.path(), e))?;
    if buf.len() as u64 > MAX_TEXT_BYTES {
        return Err(Error::FileTooLarge {
            path: source.path(),
            bytes: buf.len() as u64,
            cap: MAX_TEXT_BYTES,
        });
    }
    Ok(buf)
}

/// Fills `buf` as far as the stream allows and returns how many bytes arrived (less than `buf.len()` only at the
/// end of the stream), so callers can name the truncated record instead of reporting a bare EOF.
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
