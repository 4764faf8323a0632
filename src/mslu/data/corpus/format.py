"""The corpus format: shard schema, manifest, sample encoding / decoding and shard opening."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from mslu.data.schema import NUM_KEYPOINTS, Sample, SampleError, validate_sample

FORMAT_NAME = "mslu-corpus"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
SHARD_PATTERN = "shard-{:05d}.arrow"
SHARD_RE = re.compile(r"^shard-(\d{5,})\.arrow$")
VALUES_PER_FRAME = NUM_KEYPOINTS * 3

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("sign_language", pa.string()),
        pa.field("text", pa.string()),
        pa.field("text_language", pa.string()),
        pa.field("gloss", pa.list_(pa.string())),
        pa.field("label", pa.int64()),
        pa.field("split", pa.string()),
        pa.field("signer", pa.string()),
        pa.field("fps", pa.float64()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("estimator", pa.string()),
        pa.field("paired", pa.bool_()),
        pa.field("extra", pa.string()),
        pa.field("num_frames", pa.int32()),
        pa.field("pose", pa.large_list(pa.float16())),
    ],
    metadata={"mslu.format": FORMAT_NAME, "mslu.version": str(FORMAT_VERSION), "mslu.layout": "SL79"},
)
META_COLUMNS = [f.name for f in SCHEMA if f.name != "pose"]
F16_EXP_MASK = np.uint16(0x7C00)


def has_nonfinite(values16: np.ndarray) -> bool:
    """NaN/inf test on float16 through its bit pattern (all exponent bits set), much faster than isfinite."""
    bits = values16.reshape(-1).view(np.uint16)
    return bool(((bits & F16_EXP_MASK) == F16_EXP_MASK).any())


class CorpusError(RuntimeError):
    """A corpus (or one shard / sample in it) is missing, corrupt or inconsistent with its manifest."""


def json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def encode_sample(s: Sample) -> tuple[dict, np.ndarray]:
    """Validate ``s`` and return its metadata row and float16 pose; raise :class:`SampleError`."""
    try:
        pose32 = np.asarray(s.pose, dtype=np.float32)  # numpy's float16 arithmetic is slow: check in float32
    except (TypeError, ValueError) as e:
        raise SampleError(str(s.id or "<no id>"), f"pose is not numeric: {e}") from None
    validate_sample(replace(s, pose=pose32))
    sid = s.id
    if not isinstance(s.id, str):
        raise SampleError(str(sid), f"id must be a string, got {type(s.id).__name__}")
    with np.errstate(over="ignore"):
        pose = np.ascontiguousarray(pose32, dtype=np.float16)
    if has_nonfinite(pose):
        raise SampleError(sid, "pose value outside the float16 range")
    if s.gloss is not None and not all(isinstance(g, str) for g in s.gloss):
        raise SampleError(sid, "gloss must be a list of strings")
    if s.label is not None and not isinstance(s.label, int | np.integer):
        raise SampleError(sid, f"label must be an integer, got {type(s.label).__name__}")
    try:
        extra = json.dumps(s.extra or {}, ensure_ascii=False, default=json_default)
    except (TypeError, ValueError) as e:
        raise SampleError(sid, f"extra is not JSON serialisable: {e}") from None
    row = {
        "id": sid,
        "source": s.source,
        "sign_language": s.sign_language,
        "text": s.text,
        "text_language": s.text_language,
        "gloss": None if s.gloss is None else list(s.gloss),
        "label": None if s.label is None else int(s.label),
        "split": s.split,
        "signer": str(s.signer),
        "fps": float(s.fps),
        "width": int(s.width),
        "height": int(s.height),
        "estimator": s.estimator,
        "paired": bool(s.paired),
        "extra": extra,
        "num_frames": int(pose.shape[0]),
    }
    return row, pose


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)




def check_shard_entries(root: Path, manifest: dict) -> None:
    """The quick check every opening runs: each listed shard is a plain shard file name (inside the
    corpus folder), exists, and has the manifest's size and a row count that adds up."""
    path = root / MANIFEST
    total = 0
    for k, entry in enumerate(manifest["shards"]):
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not SHARD_RE.match(name):
            raise CorpusError(f"{path}: shard entry {k} names {name!r}, not a shard file of this folder")
        rows, size = entry["num_samples"], entry.get("bytes")
        shard = root / name
        try:
            actual = shard.stat().st_size
        except FileNotFoundError:
            raise CorpusError(f"{shard}: shard listed in the manifest is missing") from None
        if size is not None and actual != size:
            raise CorpusError(f"{shard}: size {actual} bytes differs from the manifest ({size}); the shard "
                              f"is truncated or was overwritten")
        total += rows
    if int(manifest.get("num_samples", total)) != total:
        raise CorpusError(f"{path}: says {manifest['num_samples']} samples, its shard entries {total}")


def read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{root}: not a corpus (no {MANIFEST})") from None
    except (OSError, ValueError) as e:
        raise CorpusError(f"{path}: unreadable manifest: {e}") from None
    if manifest.get("format") != FORMAT_NAME:
        raise CorpusError(f"{path}: not an {FORMAT_NAME} manifest")
    if int(manifest.get("version", -1)) > FORMAT_VERSION:
        raise CorpusError(f"{path}: format version {manifest['version']} is newer than {FORMAT_VERSION}")
    if not isinstance(manifest.get("shards"), list):
        raise CorpusError(f"{path}: manifest has no shard list")
    for key in ("num_samples", "num_frames"):
        if key in manifest and not _count(manifest[key]):
            raise CorpusError(f"{path}: {key} is {manifest[key]!r}, not a count")
    for k, entry in enumerate(manifest["shards"]):
        if not isinstance(entry, dict):
            raise CorpusError(f"{path}: shard entry {k} is {type(entry).__name__}, not a mapping")
        for key, check in (("num_samples", _count), ("num_frames", _count), ("bytes", _count),
                           ("file", lambda v: isinstance(v, str)), ("sha256", lambda v: isinstance(v, str))):
            if (key in entry or key in ("file", "num_samples")) and not check(entry.get(key)):
                raise CorpusError(f"{path}: shard entry {k}: {key} is {entry.get(key)!r}")
    return manifest


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def new_manifest() -> dict:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "layout": "SL79",
        "num_keypoints": NUM_KEYPOINTS,
        "pose_dtype": "float16",
        "num_samples": 0,
        "num_frames": 0,
        "shards": [],
    }


def row_to_sample(row: dict, pose: np.ndarray) -> Sample:
    return Sample(
        id=row["id"],
        pose=pose,
        source=row["source"],
        sign_language=row["sign_language"],
        text=row["text"],
        text_language=row["text_language"],
        gloss=row["gloss"],
        label=row["label"],
        split=row["split"],
        signer=row["signer"],
        fps=row["fps"],
        width=row["width"],
        height=row["height"],
        estimator=row["estimator"],
        paired=row["paired"],
        extra=json.loads(row["extra"]) if row["extra"] else {},
    )


def open_shard_table(path: Path, entry: dict | None = None) -> pa.Table:
    """Memory-map one shard and check it against its manifest entry."""
    try:
        if entry is not None and "bytes" in entry and path.stat().st_size != entry["bytes"]:
            raise CorpusError(
                f"{path}: size {path.stat().st_size} bytes differs from the manifest ({entry['bytes']}); "
                "the shard is truncated or was overwritten"
            )
        table = ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    except FileNotFoundError:
        raise CorpusError(f"{path}: shard listed in the manifest is missing") from None
    except (pa.ArrowInvalid, OSError) as e:
        raise CorpusError(f"{path}: unreadable shard: {e}") from None
    missing = [f.name for f in SCHEMA if f.name not in table.schema.names]
    if missing:
        raise CorpusError(f"{path}: shard lacks columns {missing}")
    if entry is not None and table.num_rows != entry["num_samples"]:
        raise CorpusError(f"{path}: {table.num_rows} rows but the manifest says {entry['num_samples']}")
    return table


class Shard:
    """One opened shard: metadata table plus zero-copy numpy views of the pose buffers."""

    def __init__(self, path: Path, entry: dict):
        table = open_shard_table(path, entry)
        if table.column("pose").num_chunks != 1:
            table = table.combine_chunks()
        self.path = path
        self.meta = table.drop_columns(["pose"])
        pose = table.column("pose").chunk(0)
        self.offsets = pose.offsets.to_numpy()
        self.values = pose.values.to_numpy(zero_copy_only=True)
        self.ids = self.meta.column("id")
        self.num_frames = self.meta.column("num_frames").to_numpy()
        if len(self.offsets) != table.num_rows + 1:
            raise CorpusError(f"{path}: pose offsets do not match the row count")

    def pose(self, j: int, check: bool = True) -> np.ndarray:
        a, b = int(self.offsets[j]), int(self.offsets[j + 1])
        t = int(self.num_frames[j])
        if check:
            if b - a != t * VALUES_PER_FRAME or t <= 0 or b > len(self.values):
                raise CorpusError(
                    f"{self.path}: sample {self.ids[j].as_py()!r} (row {j}): pose has {b - a} values, "
                    f"expected num_frames {t} x {NUM_KEYPOINTS} x 3"
                )
            if has_nonfinite(self.values[a:b]):
                raise CorpusError(f"{self.path}: sample {self.ids[j].as_py()!r} (row {j}): NaN/inf in pose")
        return self.values[a:b].reshape(t, NUM_KEYPOINTS, 3)


def is_uncommitted(name: str, listed: set[str]) -> bool:
    """A file the corpus format leaves behind when a build is interrupted: a temp file of a shard or of the
    manifest, or a shard file the manifest does not list. Other files in the folder are never touched."""
    if name.endswith(".tmp"):
        stem = name[: -len(".tmp")]
        return stem == MANIFEST or SHARD_RE.match(stem) is not None
    return SHARD_RE.match(name) is not None and name not in listed
