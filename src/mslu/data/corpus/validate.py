"""Full validation of a corpus: every shard, row and pose."""

from __future__ import annotations

import os
from pathlib import Path

from mslu.data.corpus.format import (
    MANIFEST,
    SHARD_RE,
    CorpusError,
    Shard,
    is_uncommitted,
    read_manifest,
    row_to_sample,
)
from mslu.data.schema import SampleError, validate_sample
from mslu.files import sha256_of


def validate_corpus(root: str | os.PathLike, max_problems: int | None = None) -> list[str]:
    """Check every shard and sample of the corpus at ``root``; returns all problems found (empty = OK).

    Each message names the shard file and, for sample problems, the sample id and the problem.
    """
    problems: list[str] = []
    root = Path(root)
    try:
        manifest = read_manifest(root)
    except CorpusError as e:
        return [str(e)]
    listed = {e["file"] for e in manifest["shards"]}
    for p in sorted(root.iterdir()):
        if is_uncommitted(p.name, listed):
            problems.append(f"{p}: not committed (left by an interrupted build; a writer will remove it)")
    seen: set[str] = set()
    total = 0
    for k, entry in enumerate(manifest["shards"]):
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not SHARD_RE.match(name):  # never open a path outside the corpus
            return [*problems, f"{root / MANIFEST}: shard entry {k} names {name!r}, not a shard file of "
                               f"this folder"]
    for entry in manifest["shards"]:
        path = root / entry["file"]
        if "sha256" in entry and path.is_file() and sha256_of(path) != entry["sha256"]:
            problems.append(f"{path}: contents differ from the manifest's SHA-256 (damaged or modified)")
            continue
        try:
            shard = Shard(path, entry)
        except CorpusError as e:
            problems.append(str(e))
            continue
        rows = shard.meta.to_pylist()
        for j, row in enumerate(rows):
            sid = row["id"]
            where = f"{path}: sample {sid!r} (row {j})"
            if sid in seen:
                problems.append(f"{where}: duplicate id")
            seen.add(sid)
            try:
                pose = shard.pose(j)
                validate_sample(row_to_sample(row, pose))
            except CorpusError as e:
                problems.append(str(e))
            except SampleError as e:
                problems.append(f"{where}: {e.problem}")
            except ValueError as e:
                problems.append(f"{where}: bad metadata: {e}")
            if max_problems is not None and len(problems) >= max_problems:
                return problems
        total += len(rows)
        shard_frames = int(shard.num_frames.sum())
        if int(entry.get("num_frames", shard_frames)) != shard_frames:
            problems.append(f"{path}: {shard_frames} frames but the manifest says {entry['num_frames']}")
    if total != int(manifest.get("num_samples", total)):
        problems.append(f"{root / MANIFEST}: says {manifest['num_samples']} samples, shards hold {total}")
    return problems
