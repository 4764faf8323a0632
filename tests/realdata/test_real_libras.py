"""Libras-25 (real Brazilian Sign Language, MediaPipe Pose-33 JSON, gzipped) into a corpus in one command."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest

from mslu.data.corpus import Corpus
from mslu.data.datasets.folder import read_labels_table
from mslu.pose.io import read_pose


def test_one_command_builds_the_corpus_with_coverage(libras_ingest, libras_dir):
    out, stats = libras_ingest
    corpus = Corpus(out)
    assert len(corpus) == 2501 == stats["total"]["samples"]
    with open(out / "skipped.csv", encoding="utf-8") as f:
        skipped = list(csv.DictReader(f))
    assert len(skipped) == 1 and "empty file name" in skipped[0]["reason"]  # the one row without a file
    assert stats["sources"]["libras25"]["signers"] == 10
    cov = stats["coverage"]["libras25"]
    assert cov["layouts"] == {"mediapipe_pose_33": 2501}
    assert cov["body"] > 0.95 and cov["face"] < 0.06 and 0.1 < cov["left_hand"] < 4 / 21 + 1e-6
    assert json.loads((out / "coverage.json").read_text())["libras25"]["samples"] == 2501


def test_split_is_the_documented_signer_independent_one(libras_ingest):
    out, stats = libras_ingest
    corpus = Corpus(out)
    meta = corpus.metadata.to_pydict()
    signers = {sp: {s for s, x in zip(meta["signer"], meta["split"]) if x == sp}
               for sp in ("train", "dev", "test")}
    assert signers["test"] == {"Rosenice", "Tiago"} and signers["dev"] == {"Luana"}
    assert len(signers["train"]) == 7
    bench = out / "benchmarks" / "libras25"
    counts = {sp: len((bench / f"{sp}.txt").read_text(encoding="utf-8").splitlines())
              for sp in ("train", "dev", "test")}
    assert counts == {"train": 1751, "dev": 250, "test": 500}
    assert "test signers ['Rosenice', 'Tiago']" in stats["split_rule"]


def test_samples_keep_labels_texts_and_frame_size(libras_ingest, libras_dir):
    out, _ = libras_ingest
    corpus = Corpus(out)
    _, rows, _ = read_labels_table(libras_dir / "sinais.csv")
    row = next(r for r in rows if r["file_name"] == "Ângulo_TS_3.json")
    s = next(x for x in corpus if x.id == "libras25/Ângulo_TS_3")
    assert s.text == "Esta palavra é Ângulo." and s.text_language == "pt" and s.sign_language == "bzs"
    assert (s.width, s.height) == (int(row["width"]), int(row["height"]))
    assert s.fps == pytest.approx(int(row["num_frames"]) / float(row["duration_sec"]), rel=1e-3)
    assert s.num_frames == int(row["num_frames"])
    labels = sorted({r["sinal"] for r in rows})
    assert s.label == labels.index("Ângulo") and len({x.label for x in corpus}) == 25
    raw = json.loads(gzip.decompress((libras_dir / "json_frames" / "Ângulo_TS_3.json.gz").read_bytes()))
    nose = raw["frames"][0]["keypoints"][0]
    pose = np.asarray(s.pose, np.float32)
    assert pose[0, 0, 0] == pytest.approx(nose["x"] / s.width, abs=1e-3)
    assert pose[0, 0, 1] == pytest.approx(nose["y"] / s.height, abs=1e-3)


def test_real_json_gz_reads_as_pose33(libras_dir):
    s = read_pose(libras_dir / "json_frames" / "Adição_AP_1.json.gz")
    assert s.layout.name == "mediapipe_pose_33" and s.num_frames == 143 and (s.width, s.height) == (0, 0)
