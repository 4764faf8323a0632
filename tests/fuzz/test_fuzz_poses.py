"""Malformed pose files in every reader's format (random bytes, truncated and bit-flipped real files,
header bombs, NaN and infinite values, wrong shapes, broken JSON) end in a PoseReadError / ValueError /
OSError naming the file, or read as a valid sequence; no reader allocates what a header claims before
checking it against the file's size."""

from __future__ import annotations

import gzip
import json
import random
import resource
import struct
import zipfile

import numpy as np
import pytest
from fuzzing import SEED, one_line_naming

from mslu.pose.io import read_pose

SUFFIXES = [".pose", ".npy", ".npz", ".json", ".json.gz", ".npy.gz"]


def _check(path, **kwargs) -> None:
    try:
        seq = read_pose(path, **kwargs)
    except (ValueError, OSError) as e:
        one_line_naming(e, path.name)
        return
    data = np.asarray(seq.data)
    assert data.ndim == 3 and data.shape[0] >= 1 and data.shape[-1] == 3
    conf = data[..., 2]
    assert np.isfinite(conf).all() and ((conf >= 0) & (conf <= 1)).all() and not np.isinf(data).any()
    assert np.isfinite(data[..., :2][conf > 0]).all(), "a present keypoint with NaN coordinates"
    assert np.isfinite(seq.fps) and seq.fps > 0


@pytest.fixture(scope="module", autouse=True)
def _memory_cap():
    """Header bombs must fail before allocating: cap the address space at 6 GiB over what is mapped now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
    cap = vm + 6 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("case", range(120))
def test_random_bytes(tmp_path, case):
    r = random.Random(SEED + 20000 + case)
    suffix = r.choice(SUFFIXES)
    data = bytes(r.randrange(256) for _ in range(r.randrange(0, 600)))
    if suffix.endswith(".gz") and r.random() < 0.5:
        data = gzip.compress(data)
    path = tmp_path / f"clip{suffix}"
    path.write_bytes(data)
    _check(path)


def _real_files(shared_poses):
    return sorted(p for p in shared_poses.rglob("*") if p.suffix in (".pose", ".json") and p.is_file())


@pytest.mark.parametrize("case", range(120))
def test_damaged_real_files(tmp_path, shared_poses, case):
    r = random.Random(SEED + 30000 + case)
    src = r.choice(_real_files(shared_poses))
    data = bytearray(src.read_bytes())
    kind = r.choice(["truncate", "flip", "head"])
    if kind == "truncate":
        data = data[: r.randrange(len(data))]
    elif kind == "flip":
        for _ in range(r.randrange(1, 64)):
            data[r.randrange(len(data))] ^= 1 << r.randrange(8)
    else:
        data = data[: r.randrange(1, 200)] + bytes(r.randrange(256) for _ in range(100))
    path = tmp_path / src.name
    path.write_bytes(bytes(data))
    _check(path, width=640, height=480) if src.suffix == ".json" else _check(path)


def _npy_header(shape, dtype="<f4") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


BOMBS = [(10**9, 133, 3), (400_000_000_000,), (2**40, 79, 3), (5, 133, 3), (3, 10**9, 3)]


@pytest.mark.parametrize("shape", BOMBS)
def test_npy_header_bombs(tmp_path, shape):
    path = tmp_path / "bomb.npy"
    path.write_bytes(_npy_header(shape) + b"\x00" * 4096)  # far less data than the header declares
    with pytest.raises((ValueError, OSError)) as e:
        read_pose(path)
    one_line_naming(e.value, "bomb.npy")


@pytest.fixture
def small_cap(monkeypatch):
    """Bombs of a few hundred MiB against a 64 MiB cap: the same paths as GiB bombs, in seconds."""
    import mslu.pose.io as pose_io

    monkeypatch.setattr(pose_io, "MAX_POSE_BYTES", 64 << 20)


def test_npz_zip_bomb(tmp_path, small_cap):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("pose.npy", "w") as f:
        f.write(_npy_header((150_000, 133, 3)))
        chunk = b"\x00" * (1 << 24)
        for _ in range(150_000 * 133 * 3 * 4 // len(chunk)):
            f.write(chunk)
    assert path.stat().st_size < 1_000_000
    with pytest.raises((ValueError, OSError)) as e:
        read_pose(path)
    one_line_naming(e.value, "bomb.npz")


def test_gzip_bomb(tmp_path, small_cap):
    path = tmp_path / "bomb.npy.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(_npy_header((150_000, 133, 3)))
        chunk = b"\x00" * (1 << 24)
        for _ in range(15):  # 240 MiB of zeros
            f.write(chunk)
    with pytest.raises((ValueError, OSError)) as e:
        read_pose(path)
    one_line_naming(e.value, "bomb.npy.gz")


@pytest.mark.parametrize("case", range(60))
def test_odd_arrays(tmp_path, case):
    r = random.Random(SEED + 40000 + case)
    shape = r.choice([(0, 133, 3), (5, 133), (5, 7, 3), (5, 133, 3), (5, 543, 3), (5, 133, 5), (1,), ()])
    arr = np.random.default_rng(case).uniform(0, 1, shape).astype(r.choice(["float32", "float64", "int8"]))
    if arr.size and arr.dtype.kind == "f" and r.random() < 0.4:
        arr.flat[r.randrange(arr.size)] = r.choice([np.nan, np.inf, -np.inf])
    path = tmp_path / r.choice(["a.npy", "a.npz"])
    if path.suffix == ".npy":
        np.save(path, arr)
    else:
        np.savez(path, **{r.choice(["pose", "keypoints", "x"]): arr})
    _check(path)


@pytest.mark.parametrize("case", range(80))
def test_broken_json(tmp_path, case):
    r = random.Random(SEED + 50000 + case)
    frame = {"frame": 0, "keypoints": [{"id": i, "x": 1.0, "y": 2.0, "z": 0.0, "visibility": 0.9}
                                       for i in range(33)]}
    mmpose = [{"frame_id": 0, "instances": [{"keypoints": [[1.0, 2.0]] * 133, "keypoint_scores": [0.9] * 133,
                                              "bbox": [[0, 0, 10, 10]]}]}]
    doc = r.choice([{"frames": [frame] * 3}, mmpose, {"instance_info": mmpose}])
    text = json.dumps(doc)
    kind = r.choice(["cut", "type", "junk", "empty", "nested"])
    if kind == "cut":
        text = text[: r.randrange(len(text))]
    elif kind == "type":
        old = r.choice(['"x": 1.0', '"keypoints": [', '"frames": [', '"instances": ['])
        new = r.choice(['"x": "a"', '"keypoints": 7, "k": [', '"frames": {}, "f": [', '"i": ['])
        text = text.replace(old, new, 1)
    elif kind == "junk":
        text = r.choice(['"string"', "42", "null", "[]", "{}", "[[[]]]", '{"frames": "x"}'])
    elif kind == "empty":
        text = ""
    else:
        text = "[" * 5000 + "]" * 5000
    path = tmp_path / r.choice(["clip.json", "clip.mmpose.json"])
    path.write_text(text)
    _check(path, width=640, height=480)
