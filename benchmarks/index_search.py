"""Sign search speed: index build rate and query latency (exact vs ANN). Prints figures only.

1. Build rate: ``build_index`` over ``--build-clips`` synthetic retrieval clips written as ``.pose`` files,
   with an SL-RT model around a randomly initialised encoder of ``--preset`` (weights do not change the
   speed). Reports encoder clips/s (embedding time only) and end-to-end clips/s (reading, embedding,
   writing shards).
2. Query latency at ``--clips`` synthetic clips: a sign index of that many clips (``--per-clip`` clip
   embeddings each, width = the model's embedding width, drawn around ``--classes`` random sign centres so
   that neighbourhoods exist, as in real embeddings), searched with the same model. Reports the ANN build
   (usearch add of all pooled vectors), stage-1 latency p50 / p95 exact vs ANN with recall@10 of ANN
   against exact, the text encoding and the psi_FSTS re-ranking of 100 candidates (stage 2) alone, and
   end-to-end ``search_text`` latency (text encoding + stage 1 + stage 2) for both.

Single queries run with one torch thread (``--query-threads``): a query's matmuls are too small to split,
and on a loaded machine the threads of one op wait on each other (MiniLM on 7 tokens: 11 ms with one
thread, 400 ms with two on 2 busy cores).

Usage: .venv/bin/python benchmarks/index_search.py [--clips 100000] [--build-clips 256] [--preset small]
       [--queries 200] [--threads N] [--query-threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.pose.io import write_pose
from mslu.pose.layouts import SL79
from mslu.pose.sequence import PoseSequence
from mslu.search import AnnIndex, SignIndex, SignSearcher, build_index, exact_topk, pool, recall_at_k
from mslu.tasks.retrieval import RetrievalTask
from mslu.tasks.run_dir import save_model


def make_run(directory: Path, preset: str) -> Path:
    cfg = {
        "task": "retrieval",
        "model": {"preset": preset, "head": {"embed_dim": 512}},
        "data": {"corpus": "", "batch_size": 32, "max_frames": 256},
    }
    torch.manual_seed(0)
    enc_cfg = PretrainConfig.preset(preset).encoder
    cfg["data"]["max_frames"] = min(256, enc_cfg.max_frames)
    task = RetrievalTask(cfg)
    task.candidates = []
    model = task.build_model(SignPoseEncoder(enc_cfg))
    save_model(task, model, cfg, directory / "model")
    return directory


def write_clips(directory: Path, n: int) -> float:
    directory.mkdir(parents=True, exist_ok=True)
    frames = []
    for i, s in enumerate(build_benchmark("retrieval", num_train=0, num_dev=0, num_test=n)):
        px = s.pose * np.array([640, 480, 1.0], np.float32)
        px[s.pose[..., 2] <= 0] = (np.nan, np.nan, 0.0)
        write_pose(PoseSequence(px, SL79, 25.0, 640, 480), directory / f"clip{i:06d}.pose")
        frames.append(s.pose.shape[0])
    return float(np.mean(frames))


def pct(times: list[float]) -> str:
    a = np.asarray(times) * 1e3
    return f"p50 {np.percentile(a, 50):7.2f} ms  p95 {np.percentile(a, 95):7.2f} ms"


def synthetic_index(root: Path, run: Path, n: int, per_clip: int, dim: int, classes: int, seed: int = 0):
    """A sign index of ``n`` synthetic clips (shards of 10,000), and the class of each clip."""
    from mslu.search.store import RunInfo

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)).astype(np.float32)
    embedding = {"dim": dim, "similarity": "fine", "window": 4, "fine_dtype": "float16",
                 "pooled": "mean of L2-normalised clip embeddings"}  # fmt: skip
    index = SignIndex.create(root, RunInfo.of(run / "model"), embedding)
    labels = rng.integers(0, classes, n)
    for start in range(0, n, 10_000):
        lab = labels[start : start + 10_000]
        noise = rng.standard_normal((len(lab), per_clip, dim)).astype(np.float32)
        fine = centres[lab][:, None, :] + 0.8 * noise
        fine /= np.linalg.norm(fine, axis=-1, keepdims=True)
        clips = [{"id": f"c{start + i}", "path": f"/synthetic/c{start + i}.pose", "frames": 4 * per_clip,
                  "n": per_clip} for i in range(len(lab))]  # fmt: skip
        index.add_shard(clips, fine.mean(1), list(fine))
    index.refresh()
    return index


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=100_000, help="index size for the query latency")
    ap.add_argument("--build-clips", type=int, default=256, help="clips embedded for the build rate")
    ap.add_argument("--preset", default="small", help="encoder preset (small / tiny)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--per-clip", type=int, default=8, help="clip embeddings per synthetic clip")
    ap.add_argument("--classes", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=0, help="torch threads for the build (0: torch's default)")
    ap.add_argument("--query-threads", type=int, default=1,
                    help="torch threads for the queries (default 1)")  # fmt: skip
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = make_run(tmp / "run", args.preset)

        # ---- 1. build rate ----
        mean_frames = write_clips(tmp / "clips", args.build_clips)
        report = build_index(run, [tmp / "clips"], tmp / "built", batch_size=args.batch, progress=False,
                             device="cpu", ann="off")  # fmt: skip
        print(f"build ({args.preset} encoder, {report.added} clips of {mean_frames:.0f} frames on average, "
              f"batch {args.batch}): encoder {report.rate:.1f} clips/s, end to end "
              f"{report.added / report.seconds:.1f} clips/s ({report.seconds:.1f} s)")  # fmt: skip

        # ---- 2. query latency ----
        torch.set_num_threads(args.query_threads)
        print(f"queries with {torch.get_num_threads()} torch thread(s)")
        searcher = SignSearcher(tmp / "built", device="cpu")
        dim = searcher.index.dim
        t = time.perf_counter()
        index = synthetic_index(tmp / "big", run, args.clips, args.per_clip, dim, args.classes)
        print(f"synthetic index: {len(index)} clips x {args.per_clip} clip embeddings of {dim} "
              f"({time.perf_counter() - t:.1f} s to write)")  # fmt: skip
        pooled = index.pooled()
        t = time.perf_counter()
        ann = AnnIndex.build(pooled)
        print(f"ANN add of {len(ann)} vectors: {time.perf_counter() - t:.1f} s "
              f"({len(ann) / (time.perf_counter() - t):.0f} vectors/s)")  # fmt: skip
        rng = np.random.default_rng(1)
        q = pooled[rng.choice(len(pooled), args.queries, replace=False)] + 0.05 * rng.standard_normal(
            (args.queries, dim)
        ).astype(np.float32)
        ex_t, ann_t, truth, found = [], [], [], []
        for v in q:
            t = time.perf_counter()
            rows, _ = exact_topk(pooled, v, 100)
            ex_t.append(time.perf_counter() - t)
            truth.append(rows[0, :10])
            t = time.perf_counter()
            rows, _ = ann.search(v, 100)
            ann_t.append(time.perf_counter() - t)
            found.append(rows[0, :10])
        print(f"stage 1, 100 candidates, exact: {pct(ex_t)}")
        print(f"stage 1, 100 candidates, ANN:   {pct(ann_t)}  recall@10 vs exact "
              f"{recall_at_k(np.stack(found), np.stack(truth)):.3f}")  # fmt: skip
        ann.save(index.root / "ann", len(index), [s.name for s in index.shards])
        sentences = [s.text for s in build_benchmark("retrieval", num_train=0, num_dev=0, num_test=20)]
        task, model = searcher.task, searcher.model
        searchers = {m: SignSearcher(index, ann=m, model=(task, model)) for m in ("off", "on")}
        for sentence in sentences:  # warm-up: every sentence shape once, the pooled vectors, the ANN graph
            for s in searchers.values():
                s.search_text(sentence, 5)
        times: dict[str, list[float]] = {"text": [], "rerank": [], "off": [], "on": []}
        for sentence in sentences * max(1, args.queries // len(sentences) // 2):  # interleaved: same load
            t = time.perf_counter()
            text, mask = task.embed_sentences(model, [sentence], "cpu")
            times["text"].append(time.perf_counter() - t)
            rows, _ = exact_topk(pooled, pool(text, mask)[0], 100)
            t = time.perf_counter()
            with torch.no_grad():
                x, m = index.fine(rows[0])
                model.similarity.similarity(torch.from_numpy(x), torch.from_numpy(m), text, mask)
            times["rerank"].append(time.perf_counter() - t)
            for mode, s in searchers.items():
                t = time.perf_counter()
                s.search_text(sentence, 5)
                times[mode].append(time.perf_counter() - t)
        print(f"text encoding (one sentence, MiniLM): {pct(times['text'])}")
        print(f"stage 2, psi_FSTS re-ranking of 100 candidates (gather + similarity): {pct(times['rerank'])}")
        for mode, label in (("off", "exact"), ("on", "ANN  ")):
            print(f"search_text end to end ({label}, {len(index)} clips, re-rank 100): {pct(times[mode])}")

if __name__ == "__main__":
    main()
