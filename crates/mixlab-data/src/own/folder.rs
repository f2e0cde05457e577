//! Image folders: `root/<class>/<image>` as torchvision's `ImageFolder` and Burn's `ImageFolderDataset` read them,
//! or the same under `root/train/`, `root/test/` and optionally `root/val/` (or `valid/`).
//!
//! Classes are the sub-folders of the training part in name order (hidden ones skipped); files are read in name
//! order; `.png`, `.jpg` and `.jpeg` files are images (any case), other files are skipped, as torchvision does.
//! A test or validation folder may lack a class but not add one: in torchvision an extra class would shift every
//! label after it. Images become channel-planar f32 in [0, 1] (pixel ÷ 255): one channel when every image is
//! grey, else RGB (grey images repeated, alpha dropped).

use std::path::{Path, PathBuf};

use image::{DynamicImage, imageops::FilterType};

use super::{Parts, shown};
use crate::dataset::Split;
use crate::error::{Error, Result};
use crate::id::Task;

/// Largest width or height of an image accepted before decoding.
pub const MAX_SIDE: u32 = 8192;
/// Most images in one folder set.
pub const MAX_IMAGES: usize = 10_000_000;
/// Most f32 values the decoded set may hold (4 GiB).
pub const MAX_VALUES: usize = 1 << 30;

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Where the parts of a folder set are.
struct Layout {
    train: PathBuf,
    valid: Option<PathBuf>,
    test: Option<PathBuf>,
}

fn layout(root: &Path) -> Result<Layout> {
    if !root.is_dir() {
        return Err(Error::MissingDir {
            path: root.to_path_buf(),
        });
    }
    let sub = |names: &[&str]| names.iter().map(|n| root.join(n)).find(|p| p.is_dir());
    let test = sub(&["test"]);
    let valid = sub(&["val", "valid", "validation"]);
    let train = root.join("train");
    if train.is_dir() && (test.is_some() || valid.is_some()) {
        Ok(Layout { train, valid, test })
    } else {
        Ok(Layout {
            train: root.to_path_buf(),
            valid: None,
            test: None,
        })
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Sub-folders of `dir` in name order, hidden ones skipped.
fn class_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && e.path().is_dir() {
            out.push((name, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Image files of one class folder in name order.
fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let p = e.map_err(io(dir))?.path();
        let is_image = p.extension().is_some_and(|x| {
            let x = x.to_string_lossy().to_ascii_lowercase();
            EXTENSIONS.contains(&x.as_str())
        });
        if is_image && p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Every (image, label) of a part, labels from `classes`; a class folder not in `classes` is an error.
fn list(part: &Path, classes: &[String]) -> Result<Vec<(PathBuf, usize)>> {
    let mut out = Vec::new();
    for (name, dir) in class_dirs(part)? {
        let Some(label) = classes.iter().position(|c| *c == name) else {
            return Err(Error::BadHeader {
                path: dir,
                rule: format!(
                    "class folder {name:?} is not among the training classes ({})",
                    classes.join(", ")
                ),
            });
        };
        let files = images_in(&dir)?;
        out.extend(files.into_iter().map(|f| (f, label)));
        if out.len() > MAX_IMAGES {
            return Err(Error::too_few(
                part,
                format!("more than {MAX_IMAGES} images, the cap of one folder set"),
            ));
        }
    }
    Ok(out)
}

fn training_classes(train: &Path) -> Result<Vec<String>> {
    let mut classes = Vec::new();
    for (name, dir) in class_dirs(train)? {
        if images_in(&dir)?.is_empty() {
            return Err(Error::NoFiles {
                path: dir,
                what: "image (.png, .jpg, .jpeg) in this class folder".into(),
            });
        }
        classes.push(name);
    }
    if classes.is_empty() {
        return Err(Error::NoFiles {
            path: train.to_path_buf(),
            what: "class folder (root/<class>/<image>.png)".into(),
        });
    }
    Ok(classes)
}

fn open(path: &Path) -> Result<image::io::Reader<std::io::BufReader<std::fs::File>>> {
    let bad = |cause: String| Error::BadHeader {
        path: path.to_path_buf(),
        rule: format!("not a readable PNG or JPEG image: {cause}"),
    };
    let mut r = image::io::Reader::open(path)
        .map_err(io(path))?
        .with_guessed_format()
        .map_err(io(path))?;
    if r.format().is_none() {
        return Err(bad("unknown format".into()));
    }
    let mut limits = image::io::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    r.limits(limits);
    Ok(r)
}

fn decode(path: &Path) -> Result<DynamicImage> {
    open(path)?.decode().map_err(|e| Error::BadHeader {
        path: path.to_path_buf(),
        rule: format!(
            "not a readable PNG or JPEG image: {}",
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })
}

/// Classes and the first image's size, for [`super::peek`]; channels are taken as 3 unless that image is grey.
pub(super) fn peek(root: &Path, size: Option<[usize; 2]>) -> Result<(Vec<usize>, Task)> {
    let l = layout(root)?;
    let classes = training_classes(&l.train)?;
    let first = images_in(&l.train.join(&classes[0]))?;
    let img = decode(&first[0])?;
    let [h, w] = size.unwrap_or([img.height() as usize, img.width() as usize]);
    let c = if img.color().has_color() { 3 } else { 1 };
    Ok((
        vec![c, h, w],
        Task::Classification {
            classes: classes.len(),
        },
    ))
}

/// One decoded part: RGB bytes per image (planar later), labels, and whether any image had colour.
struct Decoded {
    rgb: Vec<Vec<u8>>,
    labels: Vec<usize>,
    colour: bool,
}

fn decode_part(
    items: &[(PathBuf, usize)],
    hw: &mut Option<[usize; 2]>,
    fixed: bool,
) -> Result<Decoded> {
    let mut out = Decoded {
        rgb: Vec::with_capacity(items.len()),
        labels: Vec::with_capacity(items.len()),
        colour: false,
    };
    let mut values = 0usize;
    for (path, label) in items {
        let img = decode(path)?;
        out.colour |= img.color().has_color();
        let (h, w) = (img.height() as usize, img.width() as usize);
        let rgb = match *hw {
            Some([th, tw]) if fixed && (th, tw) != (h, w) => {
                image::imageops::resize(&img.to_rgb8(), tw as u32, th as u32, FilterType::Triangle)
            }
            Some([th, tw]) if (th, tw) != (h, w) => {
                return Err(Error::BadHeader {
                    path: path.clone(),
                    rule: format!(
                        "image is {h}×{w} (height × width) but the first image is {th}×{tw}; give the folder one size with ,size=HxW"
                    ),
                });
            }
            _ => {
                *hw = Some([h, w]);
                img.to_rgb8()
            }
        };
        values += rgb.len();
        if values > MAX_VALUES {
            return Err(Error::too_few(
                path,
                format!(
                    "the images up to this one hold more than {MAX_VALUES} values, the cap of one set"
                ),
            ));
        }
        out.rgb.push(rgb.into_raw());
        out.labels.push(*label);
    }
    Ok(out)
}

/// Interleaved RGB bytes to channel-planar f32 in [0, 1], one or three channels.
fn to_split(d: Decoded, channels: usize, plane: usize) -> Split {
    let mut x = Vec::with_capacity(d.rgb.len() * channels * plane);
    for img in &d.rgb {
        for c in 0..channels {
            x.extend(img.iter().skip(c).step_by(3).map(|&p| f32::from(p) / 255.0));
        }
    }
    Split::classification(x, channels * plane, d.labels)
}

pub(super) fn read(root: &Path, size: Option<[usize; 2]>) -> Result<Parts> {
    let l = layout(root)?;
    let classes = training_classes(&l.train)?;
    let train_items = list(&l.train, &classes)?;
    let valid_items = l.valid.as_deref().map(|p| list(p, &classes)).transpose()?;
    let test_items = l.test.as_deref().map(|p| list(p, &classes)).transpose()?;
    let mut hw = size;
    let fixed = size.is_some();
    let train = decode_part(&train_items, &mut hw, fixed)?;
    let valid = valid_items
        .map(|v| decode_part(&v, &mut hw, fixed))
        .transpose()?;
    let test = test_items
        .map(|t| decode_part(&t, &mut hw, fixed))
        .transpose()?;
    let colour = train.colour
        || valid.as_ref().is_some_and(|d| d.colour)
        || test.as_ref().is_some_and(|d| d.colour);
    let channels = if colour { 3 } else { 1 };
    let [h, w] = hw.unwrap_or([1, 1]);
    let files = std::iter::once(&l.train)
        .chain(l.valid.as_ref())
        .chain(l.test.as_ref())
        .map(|p| shown(p))
        .collect();
    Ok(Parts {
        task: Task::Classification {
            classes: classes.len(),
        },
        shape: vec![channels, h, w],
        train: to_split(train, channels, h * w),
        valid: valid.map(|d| to_split(d, channels, h * w)),
        test: test.map(|d| to_split(d, channels, h * w)),
        class_names: Some(classes),
        files,
    })
}
