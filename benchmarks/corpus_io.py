"""Corpus I/O benchmark: write / stream / random-access throughput of ``mslu.data.corpus``.

Generates a synthetic corpus (default 100k samples, lognormal lengths with mean ~100 frames like SL-1.5M),
writes it with :class:`CorpusWriter`, then measures streaming reads (poses only and full Samples),
random access + decode (float16 -> float32) of 64-frame samples, and bytes per frame on disk.

    .venv/bin/python benchmarks/corpus_io.py --num-samples 100000 --tmp /tmp

Random-access figures are taken with the freshly written shards in the OS page cache.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from mslu.data.corpus import Corpus, CorpusWriter
from mslu.data.schema import Sample

TARGET_BYTES_PER_FRAME = 500.0
TARGET_RANDOM_MS = 1.0
TARGET_STREAM_FPS = 1_000_000.0


def synthetic_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """Lognormal lengths, mean ~100 frames, most between 25 and 200, clipped to [8, 400]; 1 in 20 is 64."""
    lengths = np.clip(rng.lognormal(mean=np.log(85.0), sigma=0.55, size=n), 8, 400).astype(np.int64)
    lengths[::20] = 64
    return lengths


def frame_pool(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random-walk keypoint trajectories in frame units with realistic confidences (float16)."""
    base = rng.uniform(0.2, 0.8, size=(1, 79, 2)).astype(np.float32)
    walk = np.cumsum(rng.normal(0, 0.004, size=(num_frames, 79, 2)).astype(np.float32), axis=0)
    xy = np.clip(base + walk - walk.mean(axis=0), 0.0, 1.0)
    conf = rng.beta(5, 1.5, size=(num_frames, 79, 1)).astype(np.float32)
    return np.concatenate([xy, conf], axis=2).astype(np.float16)


def generate(n: int, seed: int):
    rng = np.random.default_rng(seed)
    lengths = synthetic_lengths(n, rng)
    pool = frame_pool(20_000, rng)
    starts = rng.integers(0, len(pool) - 400, size=n)
    langs = [("ase", "en"), ("bfi", "en"), ("csl", "zh"), ("gsg", "de")]
    for i in range(n):
        sl, tl = langs[i % 4]
        paired = i % 137 != 0
        yield Sample(
            id=f"bench-{i:07d}",
            pose=pool[starts[i] : starts[i] + lengths[i]],
            source=f"src{i % 9}",
            sign_language=sl,
            text=f"synthetic sentence number {i % 5000}" if paired else None,
            text_language=tl if paired else None,
            gloss=None,
            split="pretrain",
            signer=f"signer{i % 600}",
            fps=25.0,
            width=1280,
            height=720,
            estimator="synthetic",
            paired=paired,
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-samples", type=int, default=100_000)
    ap.add_argument("--tmp", type=str, default=None, help="directory for the temporary corpus")
    ap.add_argument("--shard-size", type=int, default=4096)
    ap.add_argument("--random-reads", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the corpus directory")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="mslu-corpus-bench-", dir=args.tmp))
    root = work / "corpus"
    try:
        t0 = time.perf_counter()
        with CorpusWriter(root, shard_size=args.shard_size) as w:
            for s in generate(args.num_samples, args.seed):
                w.add(s)
        t_write = time.perf_counter() - t0

        corpus = Corpus(root)
        n = len(corpus)
        t0 = time.perf_counter()
        lengths = corpus.lengths
        t_lengths = time.perf_counter() - t0
        frames = int(lengths.sum())
        disk = sum(p.stat().st_size for p in root.iterdir())

        t0 = time.perf_counter()
        streamed = sum(p.shape[0] for p in corpus.iter_poses())
        t_stream_pose = time.perf_counter() - t0
        t0 = time.perf_counter()
        streamed_samples = sum(s.num_frames for s in corpus)
        t_stream_sample = time.perf_counter() - t0
        assert streamed == streamed_samples == frames

        rng = np.random.default_rng(args.seed + 1)
        candidates = np.flatnonzero(lengths == 64)
        picks = rng.choice(candidates, size=args.random_reads)
        lat_pose, lat_sample = [], []
        fresh = Corpus(root)  # cold shard handles: includes the first opening of each shard
        for i in picks:
            t = time.perf_counter()
            x = np.asarray(fresh.pose(int(i)), dtype=np.float32)
            lat_pose.append(time.perf_counter() - t)
            assert x.shape == (64, 79, 3)
        for i in picks:
            t = time.perf_counter()
            s = fresh[int(i)]
            x = np.asarray(s.pose, dtype=np.float32)
            lat_sample.append(time.perf_counter() - t)
        lat_pose_ms = np.array(lat_pose) * 1e3
        lat_sample_ms = np.array(lat_sample) * 1e3

        bpf = disk / frames
        rows = [
            ("samples / frames", f"{n:,} / {frames:,} (mean {frames / n:.1f} frames)", ""),
            ("write", f"{n / t_write:,.0f} samples/s, {frames / t_write:,.0f} frames/s", ""),
            (
                "bytes per frame on disk",
                f"{bpf:.1f} B ({disk / 2**20:,.1f} MiB)",
                "PASS" if bpf <= TARGET_BYTES_PER_FRAME else "FAIL",
            ),
            ("length lookup (all samples)", f"{t_lengths * 1e3:.1f} ms", ""),
            (
                "stream poses",
                f"{n / t_stream_pose:,.0f} samples/s, {frames / t_stream_pose:,.0f} frames/s",
                "PASS" if frames / t_stream_pose >= TARGET_STREAM_FPS else "FAIL",
            ),
            (
                "stream Samples (with metadata)",
                f"{n / t_stream_sample:,.0f} samples/s, {frames / t_stream_sample:,.0f} frames/s",
                "PASS" if frames / t_stream_sample >= TARGET_STREAM_FPS else "FAIL",
            ),
            (
                "random pose(i) + float32, 64 frames",
                f"median {np.median(lat_pose_ms):.3f} ms, p95 {np.percentile(lat_pose_ms, 95):.3f} ms",
                "PASS" if np.median(lat_pose_ms) <= TARGET_RANDOM_MS else "FAIL",
            ),
            (
                "random corpus[i] + float32, 64 frames",
                f"median {np.median(lat_sample_ms):.3f} ms, p95 {np.percentile(lat_sample_ms, 95):.3f} ms",
                "PASS" if np.median(lat_sample_ms) <= TARGET_RANDOM_MS else "FAIL",
            ),
        ]
        print("| measure | figure | target |")
        print("|---|---|---|")
        targets = {
            "bytes per frame on disk": f"<= {TARGET_BYTES_PER_FRAME:.0f} B",
            "stream poses": ">= 1M frames/s",
            "stream Samples (with metadata)": ">= 1M frames/s",
            "random pose(i) + float32, 64 frames": "<= 1 ms median",
            "random corpus[i] + float32, 64 frames": "<= 1 ms median",
        }
        for name, fig, ok in rows:
            tgt = f"{targets[name]} {ok}" if name in targets else ""
            print(f"| {name} | {fig} | {tgt} |")
    finally:
        if args.keep:
            print(f"corpus kept at {root}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
