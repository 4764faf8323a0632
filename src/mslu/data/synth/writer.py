"""Writing the synthetic corpus and its benchmarks into corpus folders, resumably.

Samples whose id is already in the target corpus are not generated again, so an interrupted run continues
where it stopped and a finished one is a no-op.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict
from pathlib import Path

from mslu.data.corpus import CorpusWriter
from mslu.data.schema import Sample
from mslu.data.synth.generator import (
    SynthConfig,
    benchmark_sample_id,
    make_benchmark_samples,
    make_samples,
    sample_id,
)

log = logging.getLogger(__name__)

CHUNK = 256  # samples per worker job
STAMP = "synth.json"  # the generator settings of a folder's samples
UNSTAMPED = {"frame_step": 1}  # what a folder written before stamps is known to hold


def stamp_settings(cfg: SynthConfig) -> dict:
    """The settings that shape a sample of a given id (the seed is part of the id, the count is not)."""
    d = asdict(cfg)
    for k in ("seed", "num_samples"):
        d.pop(k)
    return json.loads(json.dumps(d))  # tuples as lists, as read back


def check_stamp(root: str | Path, cfg: SynthConfig) -> None:
    """Refuse to add samples of ``cfg`` to a folder holding samples generated with other settings (samples
    are resumed by id, so the two would mix); stamp a new folder with them."""
    root, want = Path(root), stamp_settings(cfg)
    stamp = root / STAMP
    if stamp.is_file():
        try:
            have = json.loads(stamp.read_text())
        except ValueError as e:
            raise ValueError(f"{stamp} is not the JSON of generator settings ({e})") from e
        if not isinstance(have, dict):
            raise ValueError(f"{stamp} is not the JSON of generator settings (a {type(have).__name__})")
    elif root.is_dir() and any(root.iterdir()):  # unstamped: only what is known is compared, no stamp added
        have = {**want, **UNSTAMPED}
    else:
        root.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(want, indent=1))
        return
    diff = [f"{k} {have.get(k)} (this run: {v})" for k, v in want.items() if have.get(k) != v]
    if diff:
        raise ValueError(f"{root} holds synthetic samples generated with {'; '.join(diff)}; "
                         "write to another folder or remove it")  # fmt: skip


def write_missing(
    root: str | Path, ids: list[str], make: Callable[[list[int]], Iterable[Sample]], shard_size: int = 4096
) -> None:
    """Write ``make(todo)`` into the corpus at ``root``, where ``todo`` are the positions of the ``ids`` that
    are not there yet."""
    t0 = time.perf_counter()
    with CorpusWriter(root, shard_size=shard_size) as w:
        todo = [i for i, sid in enumerate(ids) if sid not in w]
        for sample in make(todo):
            w.add(sample)
    report = w.report
    log.info("%s: %d written, %d already there, %d skipped (%.1f s)", root, report.written,
             len(ids) - len(todo), len(report.skipped), time.perf_counter() - t0)  # fmt: skip
    for sid, problem in report.skipped[:10]:
        log.warning("skipped %s: %s", sid, problem)


def _chunk(job: tuple[SynthConfig, list[int]]) -> list[Sample]:
    cfg, indices = job
    return list(make_samples(cfg, indices))


def parallel_samples(cfg: SynthConfig, todo: list[int], workers: int = 1) -> Iterator[Sample]:
    """Samples ``todo`` of the stream of ``cfg``, in order, made by ``workers`` processes."""
    if workers <= 1 or len(todo) < CHUNK:
        yield from make_samples(cfg, todo)
        return
    jobs = ((cfg, todo[k : k + CHUNK]) for k in range(0, len(todo), CHUNK))
    with mp.get_context("spawn").Pool(workers) as pool:
        for samples in pool.imap(_chunk, jobs):
            yield from samples


def write_pretraining_corpus(
    root: str | Path, cfg: SynthConfig, workers: int = 1, shard_size: int = 4096
) -> None:
    """The ``cfg.num_samples`` pre-training samples of ``cfg``'s stream."""
    check_stamp(root, cfg)
    ids = [sample_id(cfg, i) for i in range(cfg.num_samples)]
    write_missing(root, ids, lambda todo: parallel_samples(cfg, todo, workers), shard_size)


def write_benchmark(
    root: str | Path,
    kind: str,
    language: str,
    sizes: Mapping[str, int],
    seed: int,
    cfg: SynthConfig,
    shard_size: int = 4096,
) -> None:
    """One downstream benchmark (``kind`` in BENCHMARK_KINDS) with ``sizes[split]`` samples per split."""
    check_stamp(root, cfg)
    plan = [(split, i) for split, n in sizes.items() for i in range(n)]
    ids = [benchmark_sample_id(kind, language, split, i, seed) for split, i in plan]

    def make(todo: list[int]) -> Iterator[Sample]:
        for split in sizes:
            idx = [plan[j][1] for j in todo if plan[j][0] == split]
            yield from make_benchmark_samples(kind, language, split, idx, seed, cfg)

    write_missing(root, ids, make, shard_size)
