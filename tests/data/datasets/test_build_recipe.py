"""End to end: generated releases + fake .pose files -> recipe -> corpus; resume; skip report."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from mslu.data.build import RecipeError, build_corpus, parse_recipe
from mslu.data.corpus import Corpus
from mslu.data.datasets.base import DatasetIngestor

ROOT = Path(__file__).resolve().parents[3]
RECIPE = ROOT / "configs/corpus/example_small.yaml"


def _releases(data: Path, poses: Path, fake_pose) -> None:
    """Phoenix-2014T (3 train, 1 dev, 1 test), Phoenix-2014 (2 train, 1 test), WLASL (2 glosses)."""
    p14t = data / "phoenix-2014t/annotations/manual"
    p14t.mkdir(parents=True)
    rows = {"train": ["t1", "t2", "tbad"], "dev": ["d1"], "test": ["e1"]}
    for sp, ids in rows.items():
        lines = ["name|video|start|end|speaker|orth|translation"]
        lines += [f"{i}|{i}/1/*.png|-1|-1|Signer01|REGEN {i.upper()}|es regnet {i}" for i in ids]
        (p14t / f"PHOENIX-2014-T.{sp}.corpus.csv").write_text("\n".join(lines) + "\n")
        for i in ids:
            if i == "tbad":
                (poses / "phoenix2014t").mkdir(parents=True, exist_ok=True)
                (poses / "phoenix2014t/tbad.pose").write_bytes(b"\x00garbage")
            else:
                fake_pose(poses / f"phoenix2014t/{i}.pose", 6)
    p14 = data / "phoenix-2014/annotations/manual"
    p14.mkdir(parents=True)
    for sp, ids in {"train": ["u1", "u2"], "dev": [], "test": ["u3"]}.items():
        lines = ["id|folder|signer|annotation"] + [f"{i}|{i}/1/*.png|Signer02|WOLKE {i}" for i in ids]
        (p14 / f"{sp}.corpus.csv").write_text("\n".join(lines) + "\n")
        for i in ids:
            fake_pose(poses / f"phoenix2014/{i}.pose", 5)
    wl = data / "wlasl"
    wl.mkdir(parents=True)

    def inst(vid, split, start=1, end=-1):
        return {"video_id": vid, "split": split, "frame_start": start, "frame_end": end, "signer_id": 1,
                "bbox": [0, 0, 10, 10], "fps": 25, "source": "x", "url": "u", "instance_id": 0}

    entries = [{"gloss": "book", "instances": [inst("001", "train"), inst("002", "train", 3, 8),
                                                inst("003", "val")]},
               {"gloss": "drink", "instances": [inst("004", "train"), inst("005", "test"),
                                                 inst("006", "train")]}]
    (wl / "WLASL_v0.3.json").write_text(json.dumps(entries))
    # 006 is train in the JSON but test in the WLASL100 benchmark: kept out of pre-training
    nslt = {"001": "train", "002": "train", "003": "val", "004": "train", "005": "test", "006": "test"}
    nslt_json = {k: {"subset": v, "action": [0, 1, 9]} for k, v in nslt.items()}
    (wl / "nslt_100.json").write_text(json.dumps(nslt_json))
    for i, vid in enumerate(["001", "002", "003", "004", "005", "006"]):
        fake_pose(poses / f"wlasl/{vid}.pose", 12, seed=i)


@pytest.fixture
def setup(tmp_path, monkeypatch, fake_pose):
    data, poses = tmp_path / "data", tmp_path / "poses"
    _releases(data, poses, fake_pose)
    monkeypatch.setenv("MSLU_DATA", str(data))
    monkeypatch.setenv("MSLU_POSES", str(poses))
    return tmp_path


EXPECTED_IDS = {"phoenix2014t/t1", "phoenix2014t/t2", "phoenix2014/u1", "phoenix2014/u2",
                "wlasl/001", "wlasl/002", "wlasl/004"}


def _check(out: Path) -> None:
    corpus = Corpus(out)
    samples = {s.id: s for s in corpus}
    assert len(corpus) == len(samples) == len(EXPECTED_IDS)
    assert set(samples) == EXPECTED_IDS
    assert {s.split for s in samples.values()} == {"train"}
    t1 = samples["phoenix2014t/t1"]
    assert (t1.text, t1.text_language, t1.sign_language, t1.paired, t1.gloss) == (
        "es regnet t1", "de", "gsg", True, ["REGEN", "T1"])
    u1 = samples["phoenix2014/u1"]
    assert (u1.paired, u1.text, u1.sign_language, u1.gloss) == (False, None, "gsg", ["WOLKE", "u1"])
    w = samples["wlasl/004"]
    assert (w.text, w.text_language, w.sign_language, w.label, w.paired) == (
        "This word is drink.", "en", "ase", 1, True)
    assert samples["wlasl/002"].num_frames == 6  # frames 3..8 (1-based, inclusive) of 12
    assert samples["wlasl/001"].num_frames == 12
    assert samples["wlasl/002"].extra["window"] == {"start_frame": 2, "end_frame": 8}
    nose_x = samples["wlasl/002"].pose[:, 0, 0].astype(float)  # fake poses encode the frame index here
    assert [round(x * 100) - 1 for x in nose_x] == [2, 3, 4, 5, 6, 7]
    assert Counter(s.paired for s in samples.values()) == {True: 5, False: 2}


def test_build_small_recipe(setup):
    out = setup / "corpus"
    stats = build_corpus(RECIPE, out)
    _check(out)
    with (out / "skipped.csv").open() as f:
        skipped = list(csv.DictReader(f))
    assert [(r["id"], r["source"]) for r in skipped] == [("phoenix2014t/tbad", "phoenix2014t")]
    assert "cannot read pose file tbad.pose" in skipped[0]["reason"]
    on_disk = json.loads((out / "stats.json").read_text())
    assert on_disk == json.loads(json.dumps(stats))
    assert stats["total"] == {"samples": 7, "paired": 5, "unpaired": 2, "hours": pytest.approx(
        (2 * 6 + 2 * 5 + 12 + 6 + 12) / 25 / 3600, abs=1e-4)}
    p14t = stats["sources"]["phoenix2014t"]
    assert p14t["annotations"] == {"train": 3, "dev": 1, "test": 1}
    assert (p14t["added"], p14t["skipped"], p14t["samples"], p14t["frames"]) == (2, 1, 2, 12)
    assert stats["sources"]["wlasl"]["held_out_benchmark_eval"] == 1
    assert stats["sources"]["phoenix2014"]["unpaired"] == 2
    bench = out / "benchmarks"
    assert (bench / "wlasl100/test.txt").read_text().split() == ["wlasl/005", "wlasl/006"]
    assert (bench / "phoenix2014t/dev.txt").read_text().split() == ["phoenix2014t/d1"]
    index = json.loads((bench / "index.json").read_text())
    assert index["wlasl100"]["splits"]["train"] == {"clips": 3, "in_corpus": 3}
    assert sorted(index) == ["phoenix2014", "phoenix2014t", "wlasl100"]


def test_interrupt_and_resume(setup, monkeypatch):
    out = setup / "corpus"
    calls = {"n": 0}
    original = DatasetIngestor.make_sample

    def crashing(self, pose_root, ann):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return original(self, pose_root, ann)

    monkeypatch.setattr(DatasetIngestor, "make_sample", crashing)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(RECIPE, out)
    partial = len(Corpus(out))
    assert 0 < partial < len(EXPECTED_IDS)
    monkeypatch.setattr(DatasetIngestor, "make_sample", original)
    stats = build_corpus(RECIPE, out)
    _check(out)  # every sample exactly once
    assert sum(s.get("already_in_corpus", 0) for s in stats["sources"].values()) == partial
    again = build_corpus(RECIPE, out)  # a third run adds nothing
    assert sum(s.get("added", 0) for s in again["sources"].values()) == 0
    _check(out)


def test_recipe_splits_and_errors(setup, tmp_path):
    recipe = {"name": "all", "include_splits": "all", "benchmarks": "none", "sources": [
        {"name": "phoenix2014t", "root": str(setup / "data/phoenix-2014t"),
         "poses": str(setup / "poses/phoenix2014t")}]}
    stats = build_corpus(recipe, tmp_path / "all")
    assert Counter(s.split for s in Corpus(tmp_path / "all")) == {"train": 2, "dev": 1, "test": 1}
    assert stats["benchmarks"] == [] and not (tmp_path / "all/benchmarks").exists()
    with pytest.raises(RecipeError, match="unknown key"):
        parse_recipe({"sources": [{"name": "wlasl", "root": ".", "poses": ".", "colour": 1}]})
    with pytest.raises(RecipeError, match="no \\(enabled\\) sources"):
        parse_recipe({"sources": []})
    with pytest.raises(RecipeError, match="split"):
        parse_recipe({"include_splits": ["holdout"],
                      "sources": [{"name": "wlasl", "root": ".", "poses": "."}]})
    bad = {"sources": [{"name": "wlasl", "root": str(tmp_path / "missing"), "poses": "."}]}
    with pytest.raises(RecipeError, match="root folder .* does not exist"):
        build_corpus(bad, tmp_path / "x")


def test_sl15m_recipe_lists_all_nine_sources():
    recipe = parse_recipe(ROOT / "configs/corpus/sl1.5m.yaml")
    nine = ["wlasl", "msasl", "nmfs_csl", "slr500", "phoenix2014", "phoenix2014t", "csl_daily", "how2sign",
            "bobsl"]
    assert sorted({s.name for s in recipe.sources}) == sorted(nine)
    copies = sorted(s.name for s in recipe.sources if s.variant == "interwild")  # Sec. III-A, [5] [14]-[20]
    assert copies == sorted(set(nine) - {"how2sign", "bobsl"})
    assert all(s.splits == ("train",) for s in recipe.sources if s.name != "bobsl")
    assert recipe.exclude_benchmark_eval
    assert recipe.paper["total"]["samples"] == 1563701 and recipe.paper["total"]["unpaired"] == 11344
    assert sum(s.paper.get("unpaired", 0) for s in recipe.sources) == 11344


def test_ingest_cli(setup, capsys):
    from mslu.cli import main

    out = setup / "cli"
    rc = main(["ingest", "phoenix2014", "--root", str(setup / "data/phoenix-2014"),
               "--poses", str(setup / "poses/phoenix2014"), "--out", str(out), "--splits", "train", "test"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["total"]["unpaired"] == 3
    assert sorted(s.id for s in Corpus(out)) == ["phoenix2014/u1", "phoenix2014/u2", "phoenix2014/u3"]
    rc = main(["ingest", "nope", "--root", str(setup), "--poses", str(setup), "--out", str(setup / "x")])
    assert rc == 2 and "unknown dataset" in capsys.readouterr().err


def test_second_pose_set_enters_as_its_own_samples(setup, fake_pose):
    """Paper Sec. III-A: InterWild hands make new samples of the same clips (Tab. I counts them)."""
    for i in ("u1", "u2", "u3"):
        fake_pose(setup / f"poses/phoenix2014_interwild/{i}.pose", 5, seed=7)
    recipe = {
        "name": "copies",
        "paper": {"total": {"samples": 4, "unpaired": 4}, "languages": {"gsg": {"samples": 4}}},
        "sources": [
            {"name": "phoenix2014", "root": str(setup / "data/phoenix-2014"),
             "poses": str(setup / "poses/phoenix2014")},
            {"name": "phoenix2014", "root": str(setup / "data/phoenix-2014"),
             "poses": str(setup / "poses/phoenix2014_interwild"), "variant": "interwild",
             "paper": {"samples": 2}},
        ],
    }
    out = setup / "copies"
    stats = build_corpus(recipe, out)
    samples = {s.id: s for s in Corpus(out)}
    assert sorted(samples) == ["phoenix2014/u1", "phoenix2014/u1@interwild", "phoenix2014/u2",
                               "phoenix2014/u2@interwild"]
    assert samples["phoenix2014/u1@interwild"].estimator.endswith("interwild")
    assert not (samples["phoenix2014/u1"].pose == samples["phoenix2014/u1@interwild"].pose).all()
    assert stats["total"] == {**stats["total"], "samples": 4, "unpaired": 4}
    assert stats["sources"]["phoenix2014@interwild"]["samples"] == 2
    bench = (out / "benchmarks/phoenix2014/train.txt").read_text().split()
    assert bench == ["phoenix2014/u1", "phoenix2014/u2"]  # benchmarks name the clips, not their copies
    table = (out / "paper_comparison.md").read_text()
    assert "| total | 4 / 4 (100%) |" in table and "| source phoenix2014@interwild | 2 / 2 (100%) |" in table
    assert "| language gsg | 4 / 4 (100%) |" in table
    again = build_corpus(recipe, out)  # resumes: nothing added twice
    assert again["total"]["samples"] == 4
    assert again["sources"]["phoenix2014@interwild"]["already_in_corpus"] == 2


def test_bad_variant_and_paper_figures_are_named(tmp_path):
    src = {"name": "wlasl", "root": ".", "poses": "."}
    with pytest.raises(RecipeError, match=r"sources\[0\].variant"):
        parse_recipe({"sources": [{**src, "variant": "../x"}]})
    with pytest.raises(RecipeError, match="paper.total: expected a mapping"):
        parse_recipe({"sources": [src], "paper": {"total": {"clips": 3}}})
