#!/usr/bin/env python3
"""Writes the malformed-input corpus of the CLI tests (crates/mixlab-cli/tests/malformed.rs) into
crates/mixlab-cli/tests/fixtures/malformed/. Deterministic (no clock, no randomness, gzip mtime 0); the outputs
are committed, so the tests do not need Python. Run from anywhere:
    python3 tools/malformed/make_malformed.py

data/<case>/ is a data directory laid out as mixlab expects (see crates/mixlab-data/src/location.rs) in which
exactly one file is broken; suites/<case>.toml and configs/<case>.toml are absurd or broken configs.
"""
import gzip
import io
import math
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates/mixlab-cli/tests/fixtures/malformed"


def write(rel, data):
    p = OUT / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode())


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()


# ---------------------------------------------------------------- IDX (MNIST / Fashion-MNIST layout)

def idx(magic, dims, payload):
    head = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    return head + payload


def images(n):
    return bytes((i * 7 + j) % 256 for i in range(n) for j in range(28 * 28))


def labels(n):
    return bytes(i % 10 for i in range(n))


def mnist_dir(case, folder="mnist", train_images=None, gzip_all=False):
    """A 4-file IDX set of 4 train / 2 test records; `train_images` replaces the training images."""
    files = {
        "train-images-idx3-ubyte": train_images if train_images is not None else idx(0x803, [4, 28, 28], images(4)),
        "train-labels-idx1-ubyte": idx(0x801, [4], labels(4)),
        "t10k-images-idx3-ubyte": idx(0x803, [2, 28, 28], images(2)),
        "t10k-labels-idx1-ubyte": idx(0x801, [2], labels(2)),
    }
    for name, data in files.items():
        if gzip_all:
            write(f"data/{case}/{folder}/{name}.gz", gz(data))
        else:
            write(f"data/{case}/{folder}/{name}", data)


def idx_cases():
    # Header promises 4 images; the file stops halfway through the second.
    full = idx(0x803, [4, 28, 28], images(4))
    mnist_dir("idx-truncated", train_images=full[: 16 + 784 + 392])
    # The same, gzip'd: the decompressed stream ends early.
    mnist_dir("idx-truncated-gz", train_images=full[: 16 + 784 + 392], gzip_all=True)
    # The labels' magic (1-D) in the image file.
    mnist_dir("idx-wrong-magic", folder="fashion-mnist", train_images=idx(0x801, [4], labels(4)))
    # A header that claims 2^32 - 1 images of 28x28 (3.4e12 bytes) on a file of one image.
    mnist_dir("idx-huge-count", train_images=idx(0x803, [0xFFFFFFFF, 28, 28], images(1)))
    # One image of (2^32 - 1) x (2^32 - 1) pixels.
    mnist_dir("idx-huge-image", train_images=idx(0x803, [1, 0xFFFFFFFF, 0xFFFFFFFF], images(1)))
    # Only the magic number and half a dimension.
    mnist_dir("idx-short-header", train_images=idx(0x803, [], b"\x00\x00"))


# ---------------------------------------------------------------- CIFAR-10 binary

def cifar_records(n, label_of=lambda i: i % 10):
    out = bytearray()
    for i in range(n):
        out.append(label_of(i))
        out.extend((i * 13 + j) % 256 for j in range(3 * 32 * 32))
    return bytes(out)


def cifar_cases():
    write("data/cifar-wrong-length/cifar10/data_batch_1.bin", cifar_records(2) + b"\x00" * 7)
    write("data/cifar-wrong-length/cifar10/test_batch.bin", cifar_records(2))
    write("data/cifar-bad-label/cifar10/data_batch_1.bin", cifar_records(3, lambda i: 10 if i == 2 else i))
    write("data/cifar-bad-label/cifar10/test_batch.bin", cifar_records(2))


# ---------------------------------------------------------------- tables

SKILLCRAFT_HEADER = (
    "GameID,LeagueIndex,Age,HoursPerWeek,TotalHours,APM,SelectByHotkeys,AssignToHotkeys,UniqueHotkeys,"
    "MinimapAttacks,MinimapRightClicks,NumberOfPACs,GapBetweenPACs,ActionLatency,ActionsInPAC,"
    "TotalMapExplored,WorkersMade,UniqueUnitsMade,ComplexUnitsMade,ComplexAbilitiesUsed"
)


def skillcraft_row(i):
    return ",".join(str(v) for v in [100 + i, 1 + i % 7, 20 + i % 9, 10, 500 + i, 100.5 + i] + [0.5 + i % 3] * 14)


def table_cases():
    rows = [skillcraft_row(i) for i in range(6)]
    nan_row = rows[3].split(",")
    nan_row[5] = "NaN"
    rows[3] = ",".join(nan_row)
    write("data/csv-nan/skillcraft/SkillCraft1_Dataset.csv", SKILLCRAFT_HEADER + "\n" + "\n".join(rows) + "\n")

    # Exchange-Rate: 8 rates per line; line 4 has only 7.
    lines = [",".join(f"{0.5 + 0.01 * (i + k):.6f}" for k in range(8)) for i in range(40)]
    lines[3] = ",".join(lines[3].split(",")[:7])
    write("data/csv-missing-cell/exchange-rate/exchange_rate.txt", "\n".join(lines) + "\n")

    # Communities and Crime: 128 fields, column 4 text; line 2 has an empty cell in column 10.
    def crime_row(i, empty=False):
        cells = [str(i), "?", "?", f"town{i}", "1"] + [f"0.{(i + k) % 10}" for k in range(5, 128)]
        if empty:
            cells[9] = ""
        return ",".join(cells)

    write("data/csv-empty-cell/communities-crime/communities.data",
          "\n".join(crime_row(i, empty=(i == 1)) for i in range(5)) + "\n")


# ---------------------------------------------------------------- WAV (FSDD layout)

def wav(rate=8000, bits=16, channels=1, n=800, claim=None, cut=None):
    if bits == 16:
        data = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * k / rate))) for k in range(n * channels))
    else:
        data = bytes((128 + int(100 * math.sin(2 * math.pi * 440 * k / rate))) & 0xFF for k in range(n * channels))
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    size = len(data) if claim is None else claim
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    out = b"RIFF" + struct.pack("<I", len(body) if claim is None else min(36 + claim, 0xFFFFFFFF)) + body
    return out if cut is None else out[:cut]


def fsdd_dir(case, bad):
    """A train clip (take 5) that is broken, and a valid test clip (take 0)."""
    write(f"data/{case}/fsdd/recordings/0_jackson_5.wav", bad)
    write(f"data/{case}/fsdd/recordings/1_jackson_0.wav", wav())


def wav_cases():
    fsdd_dir("wav-wrong-rate", wav(rate=16000))
    fsdd_dir("wav-8bit", wav(bits=8))
    fsdd_dir("wav-stereo", wav(channels=2))
    # The data chunk promises 800 samples; the file ends after 50.
    fsdd_dir("wav-truncated", wav(cut=44 + 100))
    # The data chunk claims almost 4 GiB.
    fsdd_dir("wav-huge-claim", wav(claim=0xFFFFFFF0))
    fsdd_dir("wav-not-riff", b"this is not a WAV file\n")


# ---------------------------------------------------------------- suites and run configs

SUITE = """name = "malformed"
seeds = {seeds}

[[experiment]]
name = "exp"
dataset = "{dataset}"
model = "{model}"
epochs = {epochs}
batch_size = {batch_size}
lr = {lr}
limit = 64
methods = [{methods}]
"""


def suite(**kw):
    args = dict(seeds=1, dataset="digits", model="mlp", epochs=1, batch_size=16, lr=0.01, methods='"mixup"')
    args.update(kw)
    return SUITE.format(**args)


SUITES = {
    "negative-alpha": suite(methods='{ method = "mixup", alpha = -1.0 }'),
    "zero-epochs": suite(epochs=0),
    "unknown-method": suite(methods='"nosuchmethod"'),
    "unknown-method-table": suite(methods='{ method = "nosuchmethod" }'),
    "unknown-dataset": suite(dataset="nosuchset"),
    "unknown-model": suite(model="nosuchmodel"),
    "unknown-method-param": suite(methods='{ method = "mixup", alpah = 0.2 }'),
    "huge-batch": suite(batch_size=1000000000000),
    "zero-batch": suite(batch_size=0),
    "negative-lr": suite(lr=-0.1),
    "nan-lr": suite(lr="nan"),
    "seeds-zero": suite(seeds=0),
    # Far more seeds than any sweep runs; kept small enough that an unguarded bench only trains (and is
    # stopped by the test timeout) instead of exhausting memory on cell records.
    "seeds-huge": suite(seeds=100000),
    "negative-epochs": suite(epochs=-3),
    "syntax-error": suite().replace('name = "malformed"', 'name = "malformed'),
    "unknown-key": suite() + 'colour = "blue"\n',
}

RUN_CONFIGS = {
    "syntax-error": 'dataset = "digits"\n[train\nepochs = 1\n',
    "unknown-dataset": 'dataset = "nosuchset"\n',
    "missing-train": 'dataset = "digits"\n',
    "not-utf8": b'dataset = "digits\xff\xfe"\n',
}


def config_cases():
    for name, text in SUITES.items():
        write(f"suites/{name}.toml", text)
    for name, text in RUN_CONFIGS.items():
        write(f"configs/{name}.toml", text)


if __name__ == "__main__":
    if OUT.exists():
        shutil.rmtree(OUT)
    idx_cases()
    cifar_cases()
    table_cases()
    wav_cases()
    config_cases()
    n = sum(1 for p in OUT.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{n} files, {size} bytes under {OUT.relative_to(ROOT)}")
