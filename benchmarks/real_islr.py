"""Libras-25 ISLR on real signers: fine-tuned from scratch and from an encoder pre-trained on real data,
next to a 1-NN DTW baseline (docs/realdata.md).

    .venv/bin/python benchmarks/real_islr.py --threads 1            # ~20 min on 2 CPU cores

Steps (each skipped when its output is already in ``--work``, so an interrupted run resumes):

1. corpora: ``<work>/corpora/libras25`` from ``../shared/realdata/libras25`` exactly as ``mslu ingest folder``
   builds it (split of ``configs/islr/libras25.yaml``: test signers Rosenice, Tiago; dev Luana; 7 train),
   and ``<work>/corpora/real_small`` from ``configs/corpus/real_small.yaml`` (Libras training signers with
   Portuguese template sentences, PHOENIX skeletons' train split, the ASL webcam sentences, ../shared/poses);
2. pre-training of the ``small`` preset (``configs/pretrain/synthetic_small.yaml``) on real_small:
   ``--pretrain-epochs`` epochs (default 10) of random 64-frame crops (``data.max_frames=64``);
3. ``configs/islr/libras25.yaml`` fine-tuned with the small preset, bf16, ``--epochs`` epochs (default 10,
   x0.1 after epoch 8), lr 3e-4, batch 64, from scratch and from the pre-trained encoder, for each of
   ``--seeds`` (default 0 1 2); the model of the best dev epoch is tested (selection on the dev signer only);
4. 1-NN DTW on normalised keypoints (:mod:`mslu.pose.dtw`) over the training clips, the resampling length
   chosen on dev among ``--dtw-lengths``.

Prints per-instance / per-class top-1 on the two test signers (mean +- std over seeds, min-max) and writes
``<work>/results.json``. ``--ablation`` adds a pre-training whose Libras clips carry no text (unpaired:
masked reconstruction only for them), to tell the part of the template sentences (which name the classes)
from the rest.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.environ.get("MSLU_SHARED", str(ROOT.parent / "shared")),
                    help="the shared folder (default: $MSLU_SHARED or ../shared)")
    ap.add_argument("--work", default="runs/real_islr", help="corpora, runs and results.json go here")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs")
    ap.add_argument("--pretrain-epochs", type=int, default=10)
    ap.add_argument("--dtw-lengths", type=int, nargs="+", default=[16, 32])
    ap.add_argument("--threads", type=int, default=1, help="torch / BLAS threads")
    ap.add_argument("--ablation", action="store_true", help="also pre-train without the Libras texts")
    return ap.parse_args(argv)


def _stage(name: str, t0: float) -> None:
    print(f"[{time.time() - t0:7.1f} s] {name}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["MSLU_SHARED"] = str(Path(args.shared).resolve())

    import json

    import numpy as np
    import torch
    import yaml

    from mslu.data.build import build_corpus
    from mslu.data.corpus import Corpus
    from mslu.pose.dtw import dtw_distances, nearest_neighbour, stack_features
    from mslu.tasks.dataset import split_view
    from mslu.training.finetuner import run_finetune
    from mslu.training.pretrainer import run_pretrain

    torch.set_num_threads(args.threads)
    libras = Path(args.shared) / "realdata" / "libras25"
    if not libras.is_dir():
        print(f"error: {libras} is absent (give --shared)", file=sys.stderr)
        return 2
    work = Path(args.work)
    t0 = time.time()

    # 1. corpora
    lib_corpus = work / "corpora" / "libras25"
    if not (lib_corpus / "benchmarks" / "libras25" / "test.txt").is_file():
        build_corpus({"name": "libras25", "include_splits": "all", "sources": [{
            "name": "folder", "label": "libras25", "root": str(libras), "poses": str(libras),
            "options": {"sign_language": "bzs", "test_signers": ["Rosenice", "Tiago"],
                        "dev_signers": ["Luana"]}}]}, lib_corpus)
    _stage("Libras-25 corpus", t0)
    recipe_path = ROOT / "configs" / "corpus" / "real_small.yaml"

    def build_pretrain_corpus(name: str, unpaired_libras: bool) -> Path:
        out = work / "corpora" / name
        if not (out / "stats.json").is_file():
            recipe = yaml.safe_load(recipe_path.read_text(encoding="utf-8"))
            recipe["name"] = name
            for src in recipe["sources"]:
                for key in ("root", "poses"):
                    src[key] = os.path.expandvars(str(src[key]))
                if unpaired_libras and src.get("label") == "libras25":
                    src["options"]["unpaired"] = True
            build_corpus(recipe, out)
        return out

    def pretrain(name: str, corpus: Path) -> Path:
        out = work / "pretrain" / name
        enc = out / "encoder"
        if not (enc / "model.safetensors").is_file():
            run_pretrain(ROOT / "configs" / "pretrain" / "synthetic_small.yaml", overrides=[
                f"data.corpus={corpus}", f"run.out={out}", f"optim.epochs={args.pretrain_epochs}",
                "data.max_frames=64", "run.device=cpu", "run.progress=false", "run.tensorboard=false"])
        return enc

    encoders = {"pretrained": pretrain("real_small", build_pretrain_corpus("real_small", False))}
    _stage("pre-training on real_small", t0)
    if args.ablation:
        encoders["pretrained_unpaired_libras"] = pretrain(
            "real_small_unpaired", build_pretrain_corpus("real_small_unpaired", True))
        _stage("pre-training on real_small with unpaired Libras", t0)

    # 3. fine-tuning
    common = [f"data.corpus={lib_corpus}", "model.preset=small", "run.precision=auto", "run.device=cpu",
              "run.progress=false", "data.batch_size=64", f"optim.epochs={args.epochs}", "optim.lr=3.0e-4",
              f"optim.milestones=[{max(1, round(args.epochs * 0.8))}]"]
    results: dict[str, dict] = {}
    for init in ["scratch", *encoders]:
        runs = []
        for seed in args.seeds:
            out = work / "finetune" / init / f"seed{seed}"
            if (out / "metrics.json").is_file():
                m = json.loads((out / "metrics.json").read_text())
            else:
                m = run_finetune(ROOT / "configs" / "islr" / "libras25.yaml", out_dir=out,
                                 encoder_dir=None if init == "scratch" else encoders[init],
                                 scratch=init == "scratch", overrides=[*common, f"run.seed={seed}"])
            runs.append({"seed": seed, "test": m["test"], "dev": m["dev"]})
            _stage(f"fine-tune {init} seed {seed}: test top-1 {m['test']['per_instance_top1']:.1f}", t0)
        results[init] = {"runs": runs}

    # 4. DTW baseline
    corpus = Corpus(lib_corpus)
    views = {s: split_view(corpus, s, "libras25") for s in ("train", "dev", "test")}
    labels = {s: np.array(v.metadata.column("label").to_pylist()) for s, v in views.items()}
    poses = {s: [np.asarray(v.pose(i), np.float32) for i in range(len(v))] for s, v in views.items()}
    dev_acc = {}
    for length in args.dtw_lengths:
        feats = {s: stack_features(poses[s], length) for s in ("train", "dev")}
        pred = nearest_neighbour(dtw_distances(feats["dev"], feats["train"]), labels["train"])
        dev_acc[length] = float((pred == labels["dev"]).mean() * 100)
        _stage(f"DTW length {length}: dev top-1 {dev_acc[length]:.1f}", t0)
    best = max(dev_acc, key=lambda k: (dev_acc[k], -k))
    feats = {s: stack_features(poses[s], best) for s in ("train", "test")}
    pred = nearest_neighbour(dtw_distances(feats["test"], feats["train"]), labels["train"])
    y = labels["test"]
    per_class = float(np.mean([(pred[y == c] == c).mean() for c in np.unique(y)]) * 100)
    results["dtw_1nn"] = {"length": best, "dev_top1": dev_acc, "test": {
        "per_instance_top1": float((pred == y).mean() * 100), "per_class_top1": per_class}}
    _stage(f"DTW test (length {best})", t0)

    # report
    results["setup"] = {"seeds": args.seeds, "epochs": args.epochs, "pretrain_epochs": args.pretrain_epochs,
                        "threads": args.threads, "seconds": round(time.time() - t0, 1),
                        "test_samples": int(len(y)), "dev_samples": int(len(labels["dev"])),
                        "train_samples": int(len(labels["train"]))}
    (work / "results.json").write_text(json.dumps(results, indent=1))
    print("\n| method | test per-instance top-1 | test per-class top-1 | dev top-1 | seeds |")
    print("|---|---|---|---|---|")
    for init in ["scratch", *encoders]:
        runs = results[init]["runs"]
        cells = []
        for key in ("per_instance_top1", "per_class_top1"):
            v = np.array([r["test"][key] for r in runs])
            sd = v.std(ddof=1) if len(v) > 1 else 0.0
            cells.append(f"{v.mean():.1f} +- {sd:.1f} ({v.min():.1f}-{v.max():.1f})")
        dev = np.array([r["dev"]["per_instance_top1"] for r in runs])
        print(f"| small, {init} | {cells[0]} | {cells[1]} | {dev.mean():.1f} | "
              f"{' '.join(str(r['seed']) for r in runs)} |")
    d = results["dtw_1nn"]
    print(f"| 1-NN DTW (length {best}) | {d['test']['per_instance_top1']:.1f} | "
          f"{d['test']['per_class_top1']:.1f} | {dev_acc[best]:.1f} | - |")
    print(f"\n{len(y)} test clips (2 signers), {len(labels['dev'])} dev, {len(labels['train'])} train; "
          f"{results['setup']['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
