//! Free Spoken Digit Dataset: 16-bit PCM mono WAV clips at 8 kHz named `{digit}_{speaker}_{take}.wav`.
//!
//! Official split (FSDD README): takes 0–4 of every speaker and digit are the test set, takes 5–49 the training
//! set. Clips have different lengths (0.14–2.28 s), so they are brought to a fixed length: shorter clips are
//! zero-padded and longer ones cropped, both centred (FSDD clips are trimmed at both ends, so the centre holds
//! the word). Samples are scaled to [-1, 1) by ÷32768.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::open_file;

/// The dataset's sample rate; any other rate is refused.
pub const SAMPLE_RATE: u32 = 8000;
/// Default clip length after crop/pad: one second.
pub const DEFAULT_LEN: usize = 8000;
/// Takes below this number form the official test split.
pub const TEST_TAKES: u32 = 5;
/// Largest number of samples a WAV header may claim (2^26 ≈ 2.3 h at 8 kHz).
pub const MAX_SAMPLES: u64 = 1 << 26;
/// The naming scheme, as printed in errors.
pub const NAME_PATTERN: &str = "{digit}_{speaker}_{take}.wav";

/// One clip's identity, parsed from its file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clip {
    /// The file.
    pub path: PathBuf,
    /// The spoken digit, the class label (0..=9).
    pub digit: u8,
    /// Speaker name (e.g. `jackson`).
    pub speaker: String,
    /// Take number of this speaker for this digit (0..=49 in FSDD).
    pub take: u32,
}

impl Clip {
    /// Whether the clip belongs to the official test split (take 0–4).
    pub fn is_test(&self) -> bool {
        self.take < TEST_TAKES
    }

    /// Parses `{digit}_{speaker}_{take}.wav`; the speaker may not be empty.
    pub fn from_path(path: &Path) -> Result<Clip> {
        let bad = || Error::FileName {
            path: path.to_path_buf(),
            pattern: NAME_PATTERN,
        };
        let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(bad)?;
        let stem = name.strip_suffix(".wav").ok_or_else(bad)?;
        let (digit, rest) = stem.split_once('_').ok_or_else(bad)?;
        let (speaker, take) = rest.rsplit_once('_').ok_or_else(bad)?;
        let digit: u8 = match digit.as_bytes() {
            [d @ b'0'..=b'9'] => d - b'0',
            _ => return Err(bad()),
        };
        if speaker.is_empty() || !take.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let take: u32 = take.parse().map_err(|_| bad())?;
        Ok(Clip {
            path: path.to_path_buf(),
            digit,
            speaker: speaker.to_string(),
            take,
        })
    }
}

/// The folder holding the clips: `dir/recordings` when it exists (the repository layout), else `dir`.
pub fn recordings_dir(dir: &Path) -> PathBuf {
    let sub = dir.join("recordings");
    if sub.is_dir() { sub } else { dir.to_path_buf() }
}

/// Lists the `.wav` files of an FSDD folder (or its `recordings/`), sorted by (take, speaker, digit).
///
/// That order interleaves digits and speakers, so the first N clips of a split (`limit`) cover every class.
/// Refused: a missing folder, a folder without `.wav` files, a `.wav` whose name breaks the scheme.
pub fn list_clips(dir: &Path) -> Result<Vec<Clip>> {
    if !dir.is_dir() {
        return Err(Error::MissingDir {
            path: dir.to_path_buf(),
        });
    }
    let rec = recordings_dir(dir);
    let mut clips = Vec::new();
    for entry in std::fs::read_dir(&rec).map_err(|e| Error::io(&rec, e))? {
        let path = entry.map_err(|e| Error::io(&rec, e))?.path();
        if path.extension().is_some_and(|e| e == "wav") && path.is_file() {
            clips.push(Clip::from_path(&path)?);
        }
    }
    if clips.is_empty() {
        return Err(Error::NoFiles {
            path: rec,
            what: format!("FSDD clips ({NAME_PATTERN})"),
        });
    }
    clips.sort_by(|a, b| (a.take, &a.speaker, a.digit).cmp(&(b.take, &b.speaker, b.digit)));
    Ok(clips)
}

/// Reads a 16-bit PCM mono WAV at `rate` Hz as raw samples.
///
/// Refused before the samples are read: another sample rate, another bit depth, more than one channel, float
/// samples, a data chunk claiming more than [`MAX_SAMPLES`] samples or more bytes than the file holds.
pub fn read_wav_mono16(path: &Path, rate: u32) -> Result<Vec<i16>> {
    let (file, file_len) = open_file(path)?;
    read_wav_from(path, BufReader::new(file), file_len, rate)
}

/// [`read_wav_mono16`] on bytes already in memory; `name` only names the input in error messages.
pub fn read_wav_bytes(name: &Path, bytes: &[u8], rate: u32) -> Result<Vec<i16>> {
    if bytes.is_empty() {
        return Err(Error::Empty {
            path: name.to_path_buf(),
        });
    }
    read_wav_from(name, bytes, bytes.len() as u64, rate)
}

/// The reader behind [`read_wav_mono16`] and [`read_wav_bytes`]; `file_len` is the size of the whole input.
fn read_wav_from<R: Read>(path: &Path, input: R, file_len: u64, rate: u32) -> Result<Vec<i16>> {
    let reader = hound::WavReader::new(input).map_err(|cause| Error::Wav {
        path: path.to_path_buf(),
        cause,
    })?;
    let spec = reader.spec();
    let wav_err = |what: &'static str, got: String, expected: String| Error::WavFormat {
        path: path.to_path_buf(),
        what,
        got,
        expected,
    };
    if spec.sample_format != hound::SampleFormat::Int {
        return Err(wav_err(
            "sample format",
            "float".into(),
            "integer PCM".into(),
        ));
    }
    if spec.bits_per_sample != 16 {
        return Err(wav_err(
            "bits per sample",
            spec.bits_per_sample.to_string(),
            "16".into(),
        ));
    }
    if spec.channels != 1 {
        return Err(wav_err(
            "channels",
            spec.channels.to_string(),
            "1 (mono)".into(),
        ));
    }
    if spec.sample_rate != rate {
        return Err(wav_err(
            "sample rate",
            format!("{} Hz", spec.sample_rate),
            format!("{rate} Hz"),
        ));
    }
    let n = u64::from(reader.len());
    if n > MAX_SAMPLES {
        return Err(Error::HeaderTooLarge {
            path: path.to_path_buf(),
            claim: format!("{n} samples"),
            bytes: u128::from(n) * 2,
            cap: MAX_SAMPLES * 2,
        });
    }
    if n * 2 > file_len {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            rule: format!(
                "data chunk claims {n} samples ({} bytes) but the file has {file_len} bytes",
                n * 2
            ),
        });
    }
    let mut out = Vec::with_capacity(n as usize);
    for s in reader.into_samples::<i16>() {
        out.push(s.map_err(|cause| Error::Wav {
            path: path.to_path_buf(),
            cause,
        })?);
    }
    Ok(out)
}

/// Writes `samples` into `out` scaled by 1/32768, centred: zero-padded equally on both sides when shorter,
/// centre-cropped when longer (an odd surplus goes to the end).
pub fn fit_centered(samples: &[i16], out: &mut [f32]) {
    let len = out.len();
    out.fill(0.0);
    let scale = 1.0 / 32768.0;
    if samples.len() <= len {
        let start = (len - samples.len()) / 2;
        for (o, &s) in out[start..].iter_mut().zip(samples) {
            *o = f32::from(s) * scale;
        }
    } else {
        let start = (samples.len() - len) / 2;
        for (o, &s) in out.iter_mut().zip(&samples[start..]) {
            *o = f32::from(s) * scale;
        }
    }
}

/// Fixed-length clips of one split.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioSet {
    /// Number of clips.
    pub n: usize,
    /// Samples per clip.
    pub len: usize,
    /// `n × len` samples in [-1, 1).
    pub samples: Vec<f32>,
    /// The clips, in the order of `samples`.
    pub clips: Vec<Clip>,
}

impl AudioSet {
    /// Digit labels in clip order.
    pub fn labels(&self) -> Vec<usize> {
        self.clips.iter().map(|c| usize::from(c.digit)).collect()
    }
}

fn read_set(clips: Vec<Clip>, len: usize) -> Result<AudioSet> {
    let mut samples = vec![0.0f32; clips.len() * len];
    for (clip, out) in clips.iter().zip(samples.chunks_exact_mut(len)) {
        let raw = read_wav_mono16(&clip.path, SAMPLE_RATE)?;
        fit_centered(&raw, out);
    }
    Ok(AudioSet {
        n: clips.len(),
        len,
        samples,
        clips,
    })
}

/// Reads an FSDD folder into the official train/test split, every clip brought to `len` samples; `limit` keeps
/// the first `limit` clips of each split in (take, speaker, digit) order.
pub fn read_fsdd_dir(dir: &Path, len: usize, limit: Option<usize>) -> Result<(AudioSet, AudioSet)> {
    if len == 0 || len as u64 > MAX_SAMPLES {
        return Err(Error::param("audio length", "in 1..=2^26 samples", len));
    }
    let (test, train): (Vec<Clip>, Vec<Clip>) =
        list_clips(dir)?.into_iter().partition(Clip::is_test);
    let cap = |mut v: Vec<Clip>| {
        if let Some(l) = limit {
            v.truncate(l);
        }
        v
    };
    Ok((read_set(cap(train), len)?, read_set(cap(test), len)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    #[test]
    fn clip_names_parse_and_bad_names_are_refused() {
        let c = Clip::from_path(Path::new("x/7_jackson_32.wav")).unwrap();
        assert_eq!((c.digit, c.speaker.as_str(), c.take), (7, "jackson", 32));
        assert!(!c.is_test());
        assert!(
            Clip::from_path(Path::new("0_theo_4.wav"))
                .unwrap()
                .is_test()
        );
        for bad in [
            "10_a_1.wav",
            "x_a_1.wav",
            "1_a.wav",
            "1__2.wav",
            "1_a_b.wav",
            "1_a_1.mp3",
            "1_a_-1.wav",
        ] {
            let e = Clip::from_path(Path::new(bad)).unwrap_err().to_string();
            assert!(e.starts_with(bad) && e.contains(NAME_PATTERN), "{e}");
        }
    }

    #[test]
    fn fit_centered_pads_and_crops_symmetrically() {
        let mut out = [9.0f32; 6];
        fit_centered(&[16384, -16384], &mut out);
        assert_eq!(out, [0.0, 0.0, 0.5, -0.5, 0.0, 0.0]);
        let mut out = [0.0f32; 2];
        fit_centered(&[1, 2, 3, 4, 5], &mut out);
        let s = 1.0 / 32768.0;
        assert_eq!(out, [2.0 * s, 3.0 * s]);
    }
}
