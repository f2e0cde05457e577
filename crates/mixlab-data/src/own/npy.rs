//! NumPy `.npy` arrays (format versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a version, a header length,
//! a Python-literal dict with `descr`, `fortran_order` and `shape`, then the raw little-endian values.
//!
//! Accepted element types: `u1`, `i1`, `i2`, `u2`, `i4`, `u4`, `i8`, `u8`, `f4`, `f8`, little-endian (or
//! byte-order-free), C order. Everything else — big-endian, Fortran order, objects, a header or data length that
//! disagrees with the file — is refused with a one-line error before the data is allocated.
//!
//! The folder layout of [`read_dir`] is Keras's: `x_train.npy`, `y_train.npy`, optionally `x_test.npy` and
//! `y_test.npy`. Inputs `[N, F]` are tables, `[N, H, W]` grey images, `[N, C, H, W]` images; `[N, H, W, C]`
//! with C ∈ {1, 3} and H > 4 is read as channels-last and transposed. `u1` inputs are pixels and are divided by
//! 255; other types are taken as they are. Integer labels make a classification set (classes = largest label
//! + 1), float targets `[N]` or `[N, K]` a regression set.

use std::io::Read;
use std::path::Path;

use super::{Parts, shown};
use crate::dataset::Split;
use crate::error::{Error, Result};
use crate::id::Task;
use crate::input::{open_file, read_full};

/// Largest header accepted (NumPy itself writes a few hundred bytes).
pub const MAX_HEADER: usize = 1 << 16;
/// Most elements an array may hold.
pub const MAX_ELEMENTS: u64 = 1 << 31;
/// Most classes integer labels may imply.
pub const MAX_CLASSES: usize = 100_000;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The element types read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NpyType {
    /// Unsigned integers of this many bytes.
    Unsigned(usize),
    /// Signed integers of this many bytes.
    Signed(usize),
    /// IEEE floats of this many bytes (4 or 8).
    Float(usize),
}

impl NpyType {
    fn size(self) -> usize {
        match self {
            NpyType::Unsigned(n) | NpyType::Signed(n) | NpyType::Float(n) => n,
        }
    }
}

/// An array's values, widened.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// Integer types, as i64 (`u8` values above `i64::MAX` are refused).
    Int(Vec<i64>),
    /// Float types, as f64.
    Float(Vec<f64>),
}

/// A parsed array.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Element type as stored.
    pub dtype: NpyType,
    /// Shape (C order).
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: NpyData,
}

fn bad(path: &Path, rule: impl Into<String>) -> Error {
    Error::BadHeader {
        path: path.to_path_buf(),
        rule: rule.into(),
    }
}

/// The value text after `'key':` in a header dict, up to the next top-level comma or the closing brace.
fn field<'h>(path: &Path, header: &'h str, key: &str) -> Result<&'h str> {
    let pat = [format!("'{key}':"), format!("\"{key}\":")];
    let start = pat
        .iter()
        .find_map(|p| header.find(p.as_str()).map(|i| i + p.len()))
        .ok_or_else(|| bad(path, format!("npy header has no {key:?}: {header:?}")))?;
    let rest = header[start..].trim_start();
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Ok(rest[..i].trim()),
            _ => {}
        }
    }
    Err(bad(path, format!("npy header {key:?} is not terminated")))
}

fn parse_descr(path: &Path, d: &str) -> Result<NpyType> {
    let d = d.trim_matches(|c| c == '\'' || c == '"');
    let (order, kind) = match d.as_bytes().first() {
        Some(b'<' | b'>' | b'|' | b'=') => d.split_at(1),
        _ => ("", d),
    };
    if order == ">" {
        return Err(bad(
            path,
            format!("npy dtype {d:?} is big-endian; save it little-endian (arr.astype('<f4'))"),
        ));
    }
    let t = match kind {
        "u1" | "b1" => NpyType::Unsigned(1),
        "u2" => NpyType::Unsigned(2),
        "u4" => NpyType::Unsigned(4),
        "u8" => NpyType::Unsigned(8),
        "i1" => NpyType::Signed(1),
        "i2" => NpyType::Signed(2),
        "i4" => NpyType::Signed(4),
        "i8" => NpyType::Signed(8),
        "f4" => NpyType::Float(4),
        "f8" => NpyType::Float(8),
        _ => {
            return Err(bad(
                path,
                format!("npy dtype {d:?} is not one of u1 i1 u2 i2 u4 i4 u8 i8 f4 f8"),
            ));
        }
    };
    Ok(t)
}

fn parse_shape(path: &Path, s: &str) -> Result<Vec<usize>> {
    let inner = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| bad(path, format!("npy shape {s:?} is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| bad(path, format!("npy shape {s:?} holds {p:?}, not a size")))
        })
        .collect()
}

/// Parses the header of `bytes` (a whole `.npy` file or at least its header) and returns the element type, the
/// shape and the offset of the data.
fn parse_header(path: &Path, bytes: &[u8]) -> Result<(NpyType, Vec<usize>, usize)> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad(path, "not a .npy file (no \\x93NUMPY magic)"));
    }
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => {
            return Err(bad(
                path,
                format!("npy format version {v}.{} is not 1, 2 or 3", bytes[7]),
            ));
        }
    };
    if len > MAX_HEADER {
        return Err(bad(
            path,
            format!("npy header of {len} bytes is over the cap of {MAX_HEADER}"),
        ));
    }
    let end = start + len;
    let Some(raw) = bytes.get(start..end) else {
        return Err(Error::ShortHeader {
            path: path.to_path_buf(),
            what: "npy",
            got: bytes.len(),
            need: end,
        });
    };
    let header = std::str::from_utf8(raw).map_err(|_| bad(path, "npy header is not text"))?;
    let dtype = parse_descr(path, field(path, header, "descr")?)?;
    match field(path, header, "fortran_order")? {
        "False" => {}
        "True" => {
            return Err(bad(
                path,
                "npy array is in Fortran order; save it C-contiguous (np.ascontiguousarray)",
            ));
        }
        v => return Err(bad(path, format!("npy fortran_order is {v:?}"))),
    }
    let shape = parse_shape(path, field(path, header, "shape")?)?;
    Ok((dtype, shape, end))
}

/// Parses a whole `.npy` file in memory; `path` only names it in errors.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<NpyArray> {
    let (dtype, shape, offset) = parse_header(path, bytes)?;
    let count = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
        .filter(|&c| c <= MAX_ELEMENTS)
        .ok_or_else(|| {
            bad(
                path,
                format!("npy shape {shape:?} holds more than {MAX_ELEMENTS} elements"),
            )
        })? as usize;
    let need = count * dtype.size();
    let data = &bytes[offset..];
    if data.len() != need {
        return Err(bad(
            path,
            format!(
                "npy shape {shape:?} of {}-byte values needs {need} data bytes, the file holds {}",
                dtype.size(),
                data.len()
            ),
        ));
    }
    let chunks = data.chunks_exact(dtype.size());
    let values = match dtype {
        NpyType::Float(4) => NpyData::Float(
            chunks
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        NpyType::Float(_) => NpyData::Float(chunks.map(|c| f64::from_le_bytes(le8(c))).collect()),
        NpyType::Signed(n) => NpyData::Int(
            chunks
                .map(|c| {
                    // Sign-extend from the top byte.
                    let fill = if c[n - 1] & 0x80 != 0 { 0xff } else { 0 };
                    let mut b = [fill; 8];
                    b[..n].copy_from_slice(c);
                    i64::from_le_bytes(b)
                })
                .collect(),
        ),
        NpyType::Unsigned(n) => {
            let mut out = Vec::with_capacity(count);
            for c in chunks {
                let mut b = [0u8; 8];
                b[..n].copy_from_slice(c);
                let v = u64::from_le_bytes(b);
                out.push(
                    i64::try_from(v)
                        .map_err(|_| bad(path, format!("npy value {v} is over i64::MAX")))?,
                );
            }
            NpyData::Int(out)
        }
    };
    Ok(NpyArray {
        dtype,
        shape,
        data: values,
    })
}

fn le8(c: &[u8]) -> [u8; 8] {
    let mut b = [0u8; 8];
    b.copy_from_slice(&c[..8]);
    b
}

/// Reads and parses a `.npy` file, checking its size against the cap before reading it.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    let (mut file, size) = open_file(path)?;
    let cap = MAX_ELEMENTS * 8 + MAX_HEADER as u64 + 12;
    if size > cap {
        return Err(Error::FileTooLarge {
            path: path.to_path_buf(),
            bytes: size,
            cap,
        });
    }
    let mut bytes = vec![0u8; size as usize];
    let got = read_full(&mut file as &mut dyn Read, &mut bytes).map_err(|e| Error::io(path, e))?;
    bytes.truncate(got);
    parse_npy(path, &bytes)
}

/// Inputs as f32 with their sample shape (see the module docs for the layouts).
fn inputs(path: &Path, a: &NpyArray) -> Result<(Vec<usize>, Vec<f32>)> {
    let values: Vec<f32> = match (&a.data, a.dtype) {
        (NpyData::Int(v), NpyType::Unsigned(1)) => v.iter().map(|&p| p as f32 / 255.0).collect(),
        (NpyData::Int(v), _) => v.iter().map(|&p| p as f32).collect(),
        (NpyData::Float(v), _) => v.iter().map(|&p| p as f32).collect(),
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(path, format!("value {i} is not a finite f32")));
    }
    match a.shape.as_slice() {
        [_, f] => Ok((vec![*f], values)),
        [_, h, w] => Ok((vec![1, *h, *w], values)),
        [n, h, w, c] if matches!(*c, 1 | 3) && *h > 4 => {
            let (n, h, w, c) = (*n, *h, *w, *c);
            let mut out = vec![0.0f32; values.len()];
            for i in 0..n {
                for y in 0..h {
                    for x in 0..w {
                        for k in 0..c {
                            out[((i * c + k) * h + y) * w + x] =
                                values[((i * h + y) * w + x) * c + k];
                        }
                    }
                }
            }
            Ok((vec![c, h, w], out))
        }
        [_, c, h, w] => Ok((vec![*c, *h, *w], values)),
        s => Err(bad(
            path,
            format!(
                "inputs of shape {s:?}: expected [N, F], [N, H, W], [N, C, H, W] or [N, H, W, C]"
            ),
        )),
    }
}

fn part(
    dir: &Path,
    name: &str,
    shape: &mut Option<Vec<usize>>,
    kind: &mut Option<Task>,
) -> Result<Option<Split>> {
    let (xp, yp) = (
        dir.join(format!("x_{name}.npy")),
        dir.join(format!("y_{name}.npy")),
    );
    if !xp.is_file() && !yp.is_file() && name != "train" {
        return Ok(None);
    }
    let (x, y) = (read_npy(&xp)?, read_npy(&yp)?);
    let (s, xs) = inputs(&xp, &x)?;
    let n = x.shape[0];
    if y.shape.first() != Some(&n) {
        return Err(bad(
            &yp,
            format!(
                "shape {:?} does not start with the {n} records of {}",
                y.shape,
                xp.display()
            ),
        ));
    }
    if shape.as_ref().is_some_and(|t| *t != s) {
        return Err(bad(
            &xp,
            format!(
                "sample shape {s:?} differs from the training part's {:?}",
                shape.as_ref()
            ),
        ));
    }
    *shape = Some(s.clone());
    let sample_len: usize = s.iter().product();
    let split = match &y.data {
        NpyData::Int(v) => {
            if y.shape.len() != 1 {
                return Err(bad(
                    &yp,
                    format!("integer labels must have shape [N], got {:?}", y.shape),
                ));
            }
            if let Some(i) = v
                .iter()
                .position(|&l| l < 0 || l as u64 >= MAX_CLASSES as u64)
            {
                return Err(bad(
                    &yp,
                    format!(
                        "label {} of record {} is not in 0..{MAX_CLASSES}",
                        v[i],
                        i + 1
                    ),
                ));
            }
            let labels: Vec<usize> = v.iter().map(|&l| l as usize).collect();
            let classes = labels.iter().max().map_or(1, |m| m + 1);
            match kind {
                Some(Task::Classification { classes: k }) if *k < classes => {
                    return Err(bad(
                        &yp,
                        format!(
                            "label {} is not below the training part's {k} classes",
                            classes - 1
                        ),
                    ));
                }
                Some(Task::Regression { .. }) => {
                    return Err(bad(
                        &yp,
                        "integer labels, but the training targets are floats",
                    ));
                }
                Some(_) => {}
                None => *kind = Some(Task::Classification { classes }),
            }
            Split::classification(xs, sample_len, labels)
        }
        NpyData::Float(v) => {
            let outputs = match y.shape.as_slice() {
                [_] => 1,
                [_, k] if *k > 0 => *k,
                s => {
                    return Err(bad(
                        &yp,
                        format!("float targets must have shape [N] or [N, K], got {s:?}"),
                    ));
                }
            };
            if let Some(i) = v.iter().position(|t| !(*t as f32).is_finite()) {
                return Err(bad(&yp, format!("target {} is not a finite f32", i + 1)));
            }
            match kind {
                Some(Task::Regression { outputs: k }) if *k != outputs => {
                    return Err(bad(
                        &yp,
                        format!("{outputs} targets per record, the training part has {k}"),
                    ));
                }
                Some(Task::Classification { .. }) => {
                    return Err(bad(
                        &yp,
                        "float targets, but the training labels are integers",
                    ));
                }
                Some(_) => {}
                None => *kind = Some(Task::Regression { outputs }),
            }
            Split::regression(
                xs,
                sample_len,
                v.iter().map(|&t| t as f32).collect(),
                outputs,
            )
        }
    };
    if n == 0 {
        return Err(Error::Empty { path: xp });
    }
    Ok(Some(split))
}

pub(super) fn read_dir(dir: &Path) -> Result<Parts> {
    if !dir.is_dir() {
        return Err(Error::MissingDir {
            path: dir.to_path_buf(),
        });
    }
    let (mut shape, mut task) = (None, None);
    let train = part(dir, "train", &mut shape, &mut task)?.ok_or_else(|| Error::NoFiles {
        path: dir.to_path_buf(),
        what: "x_train.npy and y_train.npy".into(),
    })?;
    let test = part(dir, "test", &mut shape, &mut task)?;
    let mut files = vec![
        shown(&dir.join("x_train.npy")),
        shown(&dir.join("y_train.npy")),
    ];
    if test.is_some() {
        files.push(shown(&dir.join("x_test.npy")));
        files.push(shown(&dir.join("y_test.npy")));
    }
    Ok(Parts {
        task: task.unwrap_or(Task::Classification { classes: 1 }),
        shape: shape.unwrap_or_default(),
        train,
        valid: None,
        test,
        class_names: None,
        files,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn reads_the_types_numpy_writes() {
        let p = Path::new("a.npy");
        let f: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(p, &npy("<f4", "(2,)", &f)).unwrap();
        assert_eq!(
            (a.shape, a.data),
            (vec![2], NpyData::Float(vec![1.5, -2.0]))
        );
        let i: Vec<u8> = [-3i16, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = parse_npy(p, &npy("<i2", "(1, 2)", &i)).unwrap();
        assert_eq!((a.shape, a.data), (vec![1, 2], NpyData::Int(vec![-3, 7])));
        let a = parse_npy(p, &npy("|u1", "(3,)", &[0, 128, 255])).unwrap();
        assert_eq!(a.data, NpyData::Int(vec![0, 128, 255]));
    }

    #[test]
    fn broken_files_are_one_line_errors() {
        let p = Path::new("a.npy");
        let ok = npy("<f4", "(2,)", &[0; 8]);
        for (bytes, why) in [
            (b"PK\x03\x04xxxxxxxx".to_vec(), "magic"),
            (ok[..20].to_vec(), "header"),
            (ok[..ok.len() - 1].to_vec(), "needs 8 data bytes"),
            (npy(">f4", "(2,)", &[0; 8]), "big-endian"),
            (npy("<c8", "(1,)", &[0; 8]), "not one of"),
            (npy("<f4", "(2, x)", &[0; 8]), "not a size"),
            (npy("<f4", "(4294967296, 4294967296)", &[]), "more than"),
        ] {
            let e = parse_npy(p, &bytes).unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
            assert!(!e.contains('\n'));
        }
        let mut fortran = ok.clone();
        let at = fortran.windows(5).position(|w| w == b"False").unwrap();
        fortran.splice(at..at + 5, *b"True ");
        assert!(
            parse_npy(p, &fortran)
                .unwrap_err()
                .to_string()
                .contains("Fortran")
        );
    }

    #[test]
    fn channels_last_images_are_transposed() {
        // 1 image 5×1 with 3 channels: value = 10·row + channel.
        let v: Vec<f32> = (0..5)
            .flat_map(|y| (0..3).map(move |c| (10 * y + c) as f32))
            .collect();
        let a = NpyArray {
            dtype: NpyType::Float(4),
            shape: vec![1, 5, 1, 3],
            data: NpyData::Float(v.iter().map(|&x| f64::from(x)).collect()),
        };
        let (s, x) = inputs(Path::new("x"), &a).unwrap();
        assert_eq!(s, vec![3, 5, 1]);
        assert_eq!(&x[..5], &[0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(&x[5..10], &[1.0, 11.0, 21.0, 31.0, 41.0]);
    }
}
