#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ from the project's real fixtures.

Seeds are cut small (a few records, a few lines, a short clip) so libFuzzer mutates headers and cells rather than
spending its time on pixel bytes. Deterministic: gzip members are written with mtime 0. Run from anywhere:
    python3 fuzz/make_seeds.py
"""
import gzip
import io
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "crates/mixlab-data/tests/fixtures"
OUT = ROOT / "fuzz/corpus"


def put(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def idx_prefix(raw, keep):
    """An IDX file cut to its first `keep` records, with the count rewritten."""
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim]))
    per = 1
    for d in dims[1:]:
        per *= d
    head = raw[:4] + struct.pack(">" + "I" * ndim, keep, *dims[1:])
    return head + raw[4 + 4 * ndim : 4 + 4 * ndim + keep * per]


def idx_seeds():
    for ds in ["mnist", "fashion-mnist"]:
        for stem in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]:
            raw = gzip.decompress((FIX / ds / f"{stem}.gz").read_bytes())
            small = idx_prefix(raw, 2)
            put("idx", f"{ds}-{stem}-2", small)
            put("idx", f"{ds}-{stem}-2.gz", gz(small))
    put("idx", "2d-3x2", bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2]) + bytes(range(6)))
    put("idx", "4d-1x1x1x2", bytes([0, 0, 8, 4]) + struct.pack(">IIII", 1, 1, 1, 2) + b"\x07\x09")


def cifar_seeds():
    rec = 3073
    for name in ["data_batch_1.bin", "test_batch_first1000.bin"]:
        raw = (FIX / "cifar10" / name).read_bytes()
        put("cifar", f"{name}-1", raw[:rec])
        put("cifar", f"{name}-2", raw[: 2 * rec])


def table_seeds():
    def head(data, lines):
        return b"".join(data.splitlines(keepends=True)[:lines])

    put("table", "communities", head((FIX / "communities-crime/communities.data").read_bytes(), 3))
    put("table", "skillcraft", head((FIX / "skillcraft/SkillCraft1_Dataset.csv").read_bytes(), 4))
    put("table", "exchange", head(gzip.decompress((FIX / "exchange-rate/exchange_rate.txt.gz").read_bytes()), 4))
    put("table", "digits", head(gzip.decompress((ROOT / "crates/mixlab-data/data/digits.csv.gz").read_bytes()), 3))
    put("table", "airfoil", head((ROOT / "crates/mixlab-data/data/airfoil_self_noise.dat").read_bytes(), 4))
    put("table", "quoted", b'name,a,b\n"x, y",1.5,?\nz,-2e3,4\n')


def wav_seeds():
    for p in sorted((FIX / "fsdd/recordings").glob("*.wav")):
        raw = p.read_bytes()
        assert raw[36:40] == b"data", p
        samples = raw[44 : 44 + 2 * 200]
        fmt = raw[12:36]
        body = b"WAVE" + fmt + b"data" + struct.pack("<I", len(samples)) + samples
        put("wav", p.stem + "-200", b"RIFF" + struct.pack("<I", len(body)) + body)


def plan_seeds():
    seeds = {
        "mixup": b'{"method":"mixup","alpha":0.4}',
        "cutmix": b'{"method":"cutmix","alpha":1.0}',
        "fmix": b'{"method":"fmix"}',
        "resizemix": b'{"method":"resizemix"}',
        "gridmix": b'{"method":"gridmix"}',
        "smoothmix": b'{"method":"smoothmix"}',
        "saliencymix": b'{"method":"saliencymix"}',
        "maskmix": b'{"method":"maskmix"}',
        "none": b'{"method":"none"}',
        "mixer": b'{"methods":[{"weight":1.0,"method":"mixup","alpha":1.0},{"weight":0.5,"method":"cutmix"}],'
        b'"prob":0.8,"granularity":"elem","pairing":"flip","label_smoothing":0.1,"off_epoch":3}',
        "mixer-pair": b'{"methods":[{"weight":2.0,"method":"fmix"}],"granularity":"pair","pairing":"roll"}',
    }
    for k, v in seeds.items():
        put("plan_json", k, v)
    # Every method with all its fields, as `mixlab plan` prints them.
    full_methods = [
        '{"alpha": 1.0, "method": "mixup", "weight": 1.0}',
        '{"alpha": 1.0, "correct_lam": true, "margin": 0.0, "method": "cutmix", "minmax": null, "weight": 1.0}',
        '{"alpha": 1.0, "correct_lam": true, "decay_power": 3.0, "max_soft": 0.0, "method": "fmix", "reformulate": false, "weight": 1.0}',
        '{"alpha": null, "interp": "nearest", "method": "resizemix", "scope": [0.1, 0.8], "weight": 1.0}',
        '{"alpha": 1.0, "cut_area_ratio": [0.5, 1.0], "cut_aspect_ratio": [0.5, 2.0], "hole_aspect_ratio": [1.0, 1.0], "method": "gridmix", "n_holes": [2, 6], "weight": 1.0}',
        '{"correct_lam": true, "method": "smoothmix", "sigma_range": [0.25, 0.5], "weight": 1.0}',
        '{"alpha": 1.0, "correct_lam": true, "method": "saliencymix", "weight": 1.0}',
        '{"alpha": 1.0, "mask_patch_size": null, "method": "maskmix", "weight": 1.0}',
    ]
    for text in full_methods:
        method = json.loads(text)
        put("plan_json", "full-" + method["method"], ('{"methods":[' + text + ']}').encode())
        del method["weight"]
        put("plan_json", "method-" + method["method"], json.dumps(method).encode())


def suite_seeds():
    for p in sorted((ROOT / "suites").glob("*.toml")):
        put("suite_toml", p.name, p.read_bytes())
    for p in sorted((ROOT / "crates/mixlab-cli/tests/fixtures").glob("*.toml")):
        put("suite_toml", "cli-" + p.name, p.read_bytes())


if __name__ == "__main__":
    idx_seeds()
    cifar_seeds()
    table_seeds()
    wav_seeds()
    plan_seeds()
    suite_seeds()
    for d in sorted(OUT.iterdir()):
        print(d.name, len(list(d.iterdir())))
