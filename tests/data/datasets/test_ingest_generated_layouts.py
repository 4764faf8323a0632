"""Ingestors of releases without shipped annotations (NMFs-CSL, SLR500, BOBSL, CSL-Daily pkl), on small
fixtures generated in their official layouts; templates; the restricted unpickler; pose trimming."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from mslu.data.datasets import get_ingestor
from mslu.data.datasets.base import Annotation, PoseUnavailable, frame_window
from mslu.data.datasets.bobsl import read_vtt
from mslu.data.datasets.safe_pickle import safe_load_pickle
from mslu.data.schema import validate_sample
from mslu.data.templates import normalize_gloss, template_sentence


def source_frames(pose: np.ndarray) -> list[int]:
    """Source frame indices of a converted fake pose (its nose x encodes them, see conftest)."""
    return [int(round(float(x) * 100)) - 1 for x in pose[:, 0, 0]]


def test_template_sentences():
    assert template_sentence("apple", "en") == "This word is apple."
    assert template_sentence("Apfel", "de") == "Dieses Wort ist Apfel."
    assert template_sentence("苹果", "zh") == "这个词是苹果。"
    assert template_sentence("  Thank   You ", "en") == "This word is thank you."
    assert normalize_gloss("Apfel", "de") == "Apfel"
    assert template_sentence("Adição", "pt") == "Esta palavra é Adição."
    assert template_sentence("x", "sv", template="Ordet är {gloss}.") == "Ordet är x."
    with pytest.raises(ValueError, match="no template"):
        template_sentence("x", "sv")
    with pytest.raises(ValueError, match="placeholder"):
        template_sentence("x", "sv", template="Ordet")
    with pytest.raises(ValueError, match="empty gloss"):
        template_sentence("  ", "en")


def test_restricted_unpickler(tmp_path):
    good = {"info": [{"name": "a", "length": 3, "label_gloss": ["我"], "signer": 1}], "x": (1.5, None, True)}
    p = tmp_path / "good.pkl"
    p.write_bytes(pickle.dumps(good, protocol=4))
    assert safe_load_pickle(p) == good
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"info": [os.system]}))
    with pytest.raises(pickle.UnpicklingError, match=r"evil\.pkl.*refused global (posix|nt)\.system"):
        safe_load_pickle(evil)
    arr = tmp_path / "array.pkl"
    arr.write_bytes(pickle.dumps(np.zeros(2)))
    with pytest.raises(pickle.UnpicklingError, match="refused global numpy"):
        safe_load_pickle(arr)


def _csl_daily_root(tmp_path: Path) -> Path:
    root = tmp_path / "CSL-Daily"
    (root / "sentence_label").mkdir(parents=True)
    info = [
        {"name": "S000001_P0000_T00", "length": 40, "label_gloss": ["你", "好"], "label_char": list("你好！"),
         "label_word": ["你好", "！"], "signer": 0},
        {"name": "S000002_P0001_T00", "length": 30, "label_gloss": ["谢谢"], "label_char": list("谢谢。"),
         "label_word": ["谢谢", "。"], "signer": 1},
        {"name": "S000003_P0002_T00", "length": 30, "label_gloss": ["再见"], "label_char": list("再见"),
         "label_word": ["再见"], "signer": 2},
    ]
    (root / "sentence_label/csl2020ct_v2.pkl").write_bytes(pickle.dumps({"info": info, "gloss_map": ["你"]}))
    (root / "sentence_label/split_1.txt").write_text(
        "name|split\nS000001_P0000_T00|train\nS000002_P0001_T00|dev\nS000003_P0002_T00|test\n")
    return root


def test_csl_daily_pickle_layout(tmp_path):
    ing = get_ingestor("csl_daily", _csl_daily_root(tmp_path))
    anns = list(ing.annotations())
    assert [(a.id, a.split, a.text, a.gloss, a.signer) for a in anns] == [
        ("S000001_P0000_T00", "train", "你好！", ["你", "好"], "0"),
        ("S000002_P0001_T00", "dev", "谢谢。", ["谢谢"], "1"),
        ("S000003_P0002_T00", "test", "再见", ["再见"], "2"),
    ]
    assert [a.id for a in ing.annotations("dev")] == ["S000002_P0001_T00"]


def test_csl_daily_refuses_malicious_pickle(tmp_path):
    root = _csl_daily_root(tmp_path)
    (root / "sentence_label/csl2020ct_v2.pkl").write_bytes(pickle.dumps({"info": [os.system]}))
    with pytest.raises(pickle.UnpicklingError, match="csl2020ct_v2.pkl"):
        list(get_ingestor("csl_daily", root).annotations())


def _class_folder_root(tmp_path: Path, media: str, signers: list[int]) -> Path:
    root = tmp_path / "release"
    root.mkdir()
    (root / "dictionary.txt").write_text("000000\t你\n000001\t我们\n", encoding="utf-8")
    for c in ("000000", "000001"):
        for s in signers:
            f = root / media / c / f"P{s:02d}_s1_00_0_color.mp4"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(b"")
    return root


def test_slr500_layout(tmp_path, fake_pose):
    root = _class_folder_root(tmp_path, "color", [1, 36, 37, 50])
    ing = get_ingestor("slr500", root)
    anns = list(ing.annotations())
    assert len(anns) == 8
    assert {(a.signer, a.split) for a in anns} == {("P01", "train"), ("P36", "train"), ("P37", "test"),
                                                  ("P50", "test")}
    a = next(x for x in anns if x.label == 1)
    assert a.id == "000001/P01_s1_00_0_color" and a.gloss == ["我们"]
    assert ing.text_for(a) == "这个词是我们。"
    poses = tmp_path / "poses"
    fake_pose(poses / "000001/P01_s1_00_0_color.pose", 9)
    skipped = []
    samples = list(ing.samples(poses, split="train", on_skip=lambda i, r: skipped.append(i)))
    assert [s.id for s in samples] == ["slr500/000001/P01_s1_00_0_color"]
    assert samples[0].text == "这个词是我们。" and samples[0].text_language == "zh" and samples[0].label == 1
    assert len(skipped) == 3


def test_nmfs_csl_layout(tmp_path):
    root = _class_folder_root(tmp_path, "video", [1, 8, 9, 10])
    ing = get_ingestor("nmfs_csl", root)
    assert sum(a.split == "test" for a in ing.annotations()) == 4  # signers 9, 10
    assert {a.signer for a in ing.annotations("train")} == {"P01", "P08"}
    custom = get_ingestor("nmfs_csl", root, test_signers=[1])
    assert {a.signer for a in custom.annotations("test")} == {"P01"}


VTT = """WEBVTT

1
00:00:00.400 --> 00:00:01.200
<c.yellow>Hello</c> there.

00:00:01.200 --> 00:00:02.000 align:start
How are
you today?

NOTE a comment --> not a cue

00:01.000 --> 00:01.050
too short

00:00:03.000 --> 00:00:09.000
Goodbye.
"""


def test_read_vtt(tmp_path):
    p = tmp_path / "e.vtt"
    p.write_text(VTT)
    cues = read_vtt(p)
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0.4, 1.2, "Hello there."), (1.2, 2.0, "How are you today?"), (1.0, 1.05, "too short"),
        (3.0, 9.0, "Goodbye.")]


def test_bobsl_cuts_episodes_by_subtitles(tmp_path, fake_pose):
    root = tmp_path / "bobsl"
    (root / "subtitles/manually-aligned").mkdir(parents=True)
    (root / "subtitles/audio-aligned").mkdir(parents=True)
    (root / "subtitles/manually-aligned/ep1.vtt").write_text(VTT)
    (root / "subtitles/audio-aligned/ep2.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nHi.\n")
    (root / "subset2episode.json").write_text(json.dumps({"train": ["ep1"], "public_test": ["ep2"]}))
    ing = get_ingestor("bobsl", root)
    anns = list(ing.annotations())
    assert [(a.id, a.split, a.text) for a in anns] == [
        ("ep1_00000", "train", "Hello there."), ("ep1_00001", "train", "How are you today?"),
        ("ep1_00003", "train", "Goodbye."), ("ep2_00000", "test", "Hi.")]
    poses = tmp_path / "poses"
    fake_pose(poses / "ep1.pose", 100, fps=25.0)  # 4 s; the last cue runs past the end
    samples = list(ing.samples(poses, split="train"))
    assert [source_frames(s.pose) for s in samples[:2]] == [list(range(10, 30)), list(range(30, 50))]
    assert source_frames(samples[2].pose) == list(range(75, 100))  # clipped to the stream
    for s in samples:
        validate_sample(s)
        assert (s.sign_language, s.text_language, s.paired, s.source) == ("bfi", "en", True, "bobsl")


def test_frame_window():
    a = Annotation("x", "train", start_time=1.0, end_time=2.0)
    assert frame_window(a, 100, 25.0) == (25, 50)
    assert frame_window(Annotation("x", "train", start_frame=5), 20, 25.0) == (5, 20)
    with pytest.raises(PoseUnavailable, match="empty"):
        frame_window(Annotation("x", "train", start_frame=30, end_frame=40), 20, 25.0)


def test_bad_and_missing_pose_are_reported(tmp_path, fake_pose):
    root = tmp_path / "p14"
    (root / "annotations/manual").mkdir(parents=True)
    for sp in ("train", "dev", "test"):
        (root / f"annotations/manual/{sp}.corpus.csv").write_text(
            "id|folder|signer|annotation\n"
            f"{sp}-a|{sp}-a/1/*.png|Signer01|REGEN SONNE\n{sp}-b|x|Signer02|WIND\n{sp}-c|x|Signer02|WIND\n")
    poses = tmp_path / "poses"
    fake_pose(poses / "train-a.pose", 5)
    (poses / "train-b.pose").write_bytes(b"not a pose file")
    skipped: dict[str, str] = {}
    ing = get_ingestor("phoenix2014", root)
    samples = list(ing.samples(poses, split="train", on_skip=skipped.__setitem__))
    assert [s.id for s in samples] == ["phoenix2014/train-a"]
    s = samples[0]
    assert s.paired is False and s.text is None and s.gloss == ["REGEN", "SONNE"] and s.num_frames == 5
    validate_sample(s)
    assert set(skipped) == {"phoenix2014/train-b", "phoenix2014/train-c"}
    assert "cannot read pose file train-b.pose" in skipped["phoenix2014/train-b"]
    assert skipped["phoenix2014/train-c"].startswith("no pose file")
