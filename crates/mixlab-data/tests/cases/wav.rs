//! FSDD WAV reader on the three fixture clips and on WAV files written with a different format.

use mixlab_data::fsdd::{Clip, SAMPLE_RATE, list_clips, read_fsdd_dir, read_wav_mono16};

use crate::common::{err, fixture, fixtures, tmp, write};

fn write_wav(path: &std::path::Path, channels: u16, rate: u32, bits: u16, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        if bits == 8 {
            w.write_sample((s >> 8) as i8).unwrap();
        } else {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}

#[test]
fn fixture_clips_decode_to_their_data_chunk() {
    let p = fixture("fsdd/recordings/0_jackson_0.wav");
    let s = read_wav_mono16(&p, SAMPLE_RATE).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    // Canonical 44-byte header: the data chunk follows directly.
    assert_eq!(&bytes[36..40], b"data");
    assert_eq!(s.len(), (bytes.len() - 44) / 2);
    let first = i16::from_le_bytes([bytes[44], bytes[45]]);
    let last = i16::from_le_bytes([bytes[bytes.len() - 2], bytes[bytes.len() - 1]]);
    assert_eq!((s[0], s[s.len() - 1]), (first, last));
}

#[test]
fn listing_parses_names_and_the_official_split() {
    let clips = list_clips(&fixtures().join("fsdd")).unwrap();
    let names: Vec<(u32, &str, u8)> = clips
        .iter()
        .map(|c| (c.take, c.speaker.as_str(), c.digit))
        .collect();
    assert_eq!(
        names,
        vec![(0, "jackson", 0), (12, "theo", 7), (30, "george", 3)]
    );
    let (train, test) = read_fsdd_dir(&fixtures().join("fsdd"), 8000, None).unwrap();
    assert_eq!((train.n, test.n), (2, 1));
    assert_eq!(test.labels(), vec![0]);
    assert_eq!(train.labels(), vec![7, 3]);
    assert_eq!(train.samples.len(), 2 * 8000);
    assert!(train.samples.iter().all(|v| (-1.0..1.0).contains(v)));
    // 0_jackson_0 has 5148 samples: centred with 1426 zeros in front.
    let raw = read_wav_mono16(&fixture("fsdd/recordings/0_jackson_0.wav"), SAMPLE_RATE).unwrap();
    let pad = (8000 - raw.len()) / 2;
    assert_eq!(test.samples[pad - 1], 0.0);
    assert_eq!(test.samples[pad], f32::from(raw[0]) / 32768.0);
    let (train, test) = read_fsdd_dir(&fixtures().join("fsdd"), 100, Some(1)).unwrap();
    assert_eq!((train.n, test.n, train.len), (1, 1, 100));
    assert_eq!(train.clips[0].speaker, "theo");
}

#[test]
fn wrong_formats_are_refused_with_the_rule() {
    let dir = tmp();
    let samples = read_wav_mono16(&fixture("fsdd/recordings/7_theo_12.wav"), SAMPLE_RATE).unwrap();
    let p = dir.path().join("8bit.wav");
    write_wav(&p, 1, 8000, 8, &samples);
    assert!(
        err(read_wav_mono16(&p, SAMPLE_RATE)).ends_with("8bit.wav: bits per sample 8, expected 16")
    );
    let p = dir.path().join("stereo.wav");
    write_wav(&p, 2, 8000, 16, &samples[..samples.len() / 2 * 2]);
    assert!(
        err(read_wav_mono16(&p, SAMPLE_RATE))
            .ends_with("stereo.wav: channels 2, expected 1 (mono)")
    );
    let p = dir.path().join("16k.wav");
    write_wav(&p, 1, 16000, 16, &samples);
    assert!(
        err(read_wav_mono16(&p, SAMPLE_RATE))
            .ends_with("16k.wav: sample rate 16000 Hz, expected 8000 Hz")
    );
}

#[test]
fn broken_files_and_folders_are_errors() {
    let dir = tmp();
    let p = write(dir.path(), "empty.wav", b"");
    assert!(err(read_wav_mono16(&p, SAMPLE_RATE)).ends_with("empty.wav: file is empty"));
    let bytes = std::fs::read(fixture("fsdd/recordings/3_george_30.wav")).unwrap();
    let p = write(dir.path(), "cut.wav", &bytes[..bytes.len() / 2]);
    let e = err(read_wav_mono16(&p, SAMPLE_RATE));
    assert!(e.contains("cut.wav: data chunk claims"), "{e}");
    let mut huge = bytes.clone();
    huge[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = write(dir.path(), "huge.wav", &huge);
    assert!(err(read_wav_mono16(&p, SAMPLE_RATE)).contains("huge.wav"));
    let p = write(dir.path(), "text.wav", b"this is not a wav file at all");
    assert!(err(read_wav_mono16(&p, SAMPLE_RATE)).contains("text.wav: invalid WAV"));

    assert!(
        err(list_clips(&dir.path().join("absent"))).ends_with("absent: directory does not exist")
    );
    let empty = dir.path().join("empty-dir/recordings");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(err(list_clips(&dir.path().join("empty-dir"))).contains("recordings: no FSDD clips"));
    let named = dir.path().join("named");
    write(&named, "recordings/seven_theo_1.wav", &bytes);
    let e = err(list_clips(&named));
    assert!(
        e.contains("seven_theo_1.wav: file name does not match"),
        "{e}"
    );
    assert!(Clip::from_path(&named.join("recordings/7_theo_1.wav")).is_ok());
}
