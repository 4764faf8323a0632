"""Ingestors on the real annotation files in ../shared/datasets (skipped when absent)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from mslu.data.datasets import INGESTORS, get_ingestor


def _split_counts(ing, split=None):
    return Counter(a.split for a in ing.annotations(split))


def test_phoenix2014t_counts_and_fields(shared_datasets):
    ing = get_ingestor("phoenix2014t", shared_datasets / "phoenix-2014t")
    assert _split_counts(ing) == {"train": 7096, "dev": 519, "test": 642}
    dev = list(ing.annotations("dev"))
    first = dev[0]
    assert first.id == "11August_2010_Wednesday_tagesschau-2"
    assert first.gloss == ["DRUCK", "TIEF", "KOMMEN"]  # orth
    assert first.text == "tiefer luftdruck bestimmt in den nächsten tagen unser wetter"  # translation
    assert first.signer == "Signer08"
    train0 = next(ing.annotations("train"))
    assert train0.gloss[0] == "__ON__" and train0.gloss[-1] == "__OFF__"  # raw orth kept
    assert ing.paired and ing.sign_language == "gsg" and ing.text_language == "de"


def test_phoenix2014t_gloss_matches_stm(shared_datasets):
    ing = get_ingestor("phoenix2014t", shared_datasets / "phoenix-2014t")
    stm = shared_datasets / "phoenix-2014t/evaluation/phoenix2014-T-groundtruth-test.stm"
    ref = {}
    for line in stm.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        ref[parts[0]] = parts[5:]
    anns = {a.id: a.gloss for a in ing.annotations("test")}
    assert set(anns) == set(ref)
    assert sum(anns[k] == ref[k] for k in ref) > 0.95 * len(ref)


def test_phoenix2014_counts_unpaired(shared_datasets):
    ing = get_ingestor("phoenix2014", shared_datasets / "phoenix-2014")
    assert _split_counts(ing) == {"train": 5672, "dev": 540, "test": 629}
    a = next(ing.annotations("train"))
    assert a.id == "01April_2010_Thursday_heute_default-0"
    assert a.text is None and a.gloss[:3] == ["__ON__", "LIEB", "ZUSCHAUER"] and a.signer == "Signer04"
    assert ing.paired is False and ing.text_for(a) is None


def test_csl_daily_counts(shared_datasets):
    ing = get_ingestor("csl_daily", shared_datasets / "csl-daily")
    assert _split_counts(ing) == {"train": 18401, "dev": 1077, "test": 1176}
    a = next(ing.annotations("train"))
    assert (a.id, a.text, a.gloss, a.signer) == ("S000000_P0000_T00", "你们好！", ["你们", "好"], "0")
    assert a.extra["num_frames"] == 52
    assert ing.text_language == "zh" and ing.sign_language == "csl"


def test_wlasl_subsets_match_nslt(shared_datasets):
    root = shared_datasets / "wlasl"
    classes = [ln.split("\t", 1)[1] for ln in (root / "wlasl_class_list.txt").read_text().splitlines()]
    for n in (100, 300, 1000):
        ing = get_ingestor("wlasl", root, annotation_file=f"asl{n}.json")
        anns = list(ing.annotations())
        nslt = json.loads((root / f"nslt_{n}.json").read_text())
        nslt_counts = Counter({"val": "dev"}.get(v["subset"], v["subset"]) for v in nslt.values())
        counts = Counter(a.split for a in anns)
        assert set(a.id for a in anns) <= set(nslt)
        # nslt_300/1000 list a few more clips than asl300/1000.json (1 and 6 in the shipped files)
        assert sum(nslt_counts.values()) - sum(counts.values()) == {100: 0, 300: 1, 1000: 6}[n]
        if n == 100:
            assert counts == nslt_counts == {"train": 1442, "dev": 338, "test": 258}
        for a in anns:  # label = position in the JSON = nslt class = class list entry
            assert nslt[a.id]["action"][0] == a.label
            # the shipped class list spells class 163 "losear" where the JSON says "lose"
            assert classes[a.label] == a.gloss[0] or (a.label, classes[a.label]) == (163, "losear")
    bench = get_ingestor("wlasl", root).benchmarks()
    assert sorted(bench) == ["wlasl100", "wlasl1000", "wlasl2000", "wlasl300"]
    assert {k: len(v) for k, v in bench["wlasl2000"].items()} == {"train": 14296, "dev": 3920, "test": 2879}
    assert bench["wlasl100"]["train"][0].startswith("wlasl/")


def test_wlasl_frames_and_template(shared_datasets):
    ing = get_ingestor("wlasl", shared_datasets / "wlasl", annotation_file="asl100.json")
    anns = {a.id: a for a in ing.annotations()}
    whole = anns["69241"]  # frame_start 1, frame_end -1
    assert whole.start_frame is None and whole.end_frame is None and not whole.trimmed
    cut = next(a for a in anns.values() if a.end_frame == 2249)  # frame_start 2150 (1-based), inclusive end
    assert cut.start_frame == 2149 and cut.split == "dev"
    assert ing.text_for(whole) == "This word is book."
    assert whole.box == [385, 37, 885, 720]


def test_msasl_counts_per_file(shared_datasets):
    root = shared_datasets / "msasl"
    for path in sorted(root.glob("MS_ASL_SI_ASL*_*.json")):
        entries = json.loads(path.read_text())
        n = int(path.name.split("_")[3][3:])
        split = {"val": "dev"}.get(path.stem.rsplit("_", 1)[1], path.stem.rsplit("_", 1)[1])
        anns = list(get_ingestor("msasl", root, subset=n).annotations(split))
        assert len(anns) == len(entries), path.name
        assert max(a.label for a in anns) < n
        for a, e in zip(anns, entries, strict=True):
            assert a.text == e["clean_text"] and (a.start_frame, a.end_frame) == (e["start"], e["end"])
    with pytest.raises(FileNotFoundError, match="train"):
        list(get_ingestor("msasl", root, subset=1000).annotations("train"))  # not shipped
    counts = _split_counts(get_ingestor("msasl", root))  # default: largest subset per split
    assert counts == {"train": 11401, "dev": 5287, "test": 4172}
    bench = get_ingestor("msasl", root).benchmarks()
    assert {k: len(v["test"]) for k, v in bench.items()} == {
        "msasl100": 757, "msasl200": 1359, "msasl500": 2720, "msasl1000": 4172}
    assert "train" not in bench["msasl1000"]


def test_msasl_ids_stable_across_subsets(shared_datasets):
    root = shared_datasets / "msasl"
    small = {a.id: a.label for a in get_ingestor("msasl", root, subset=100).annotations("test")}
    big = {a.id: a.label for a in get_ingestor("msasl", root, subset=1000).annotations("test")}
    assert set(small) <= set(big) and all(big[k] == v for k, v in small.items())
    a = next(get_ingestor("msasl", root, subset=100).annotations("dev"))
    assert a.id == "l31UXgChCS4_0_110" and a.media_id == "l31UXgChCS4"
    assert get_ingestor("msasl", root).text_for(a) == "This word is help."


def test_how2sign_test_rows_and_times(shared_datasets):
    path = shared_datasets / "how2sign/how2sign_realigned_test.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    ing = get_ingestor("how2sign", path.parent)
    anns = list(ing.annotations())
    assert len(anns) == len(rows) == 2357 and {a.split for a in anns} == {"test"}
    a = anns[1]
    assert a.id == "-fZc293MpJk_2-1-rgb_front" and a.media_id == "-fZc293MpJk-1-rgb_front"
    assert (a.start_time, a.end_time) == (7.27, 20.3)
    assert a.text.startswith("The aileron is the control surface")
    assert all(x.end_time > x.start_time for x in anns)
    with pytest.raises(FileNotFoundError):
        list(ing.annotations("train"))


def test_registry_languages():
    expected = {"wlasl": ("ase", "en"), "msasl": ("ase", "en"), "how2sign": ("ase", "en"),
                "bobsl": ("bfi", "en"), "nmfs_csl": ("csl", "zh"), "slr500": ("csl", "zh"),
                "csl_daily": ("csl", "zh"), "phoenix2014": ("gsg", "de"), "phoenix2014t": ("gsg", "de"),
                "phoenix14t_skels": ("gsg", "de"), "signbridge_asl": ("ase", "en"),
                "folder": ("", "")}  # a folder's languages are options
    assert {k: (c.sign_language, c.text_language) for k, c in INGESTORS.items()} == expected
    with pytest.raises(KeyError, match="unknown dataset"):
        get_ingestor("nope", ".")
    with pytest.raises(TypeError, match="unknown options"):
        get_ingestor("phoenix2014", ".", colour="red")


def test_how2sign_cuts_raw_video_pose_by_realigned_times(shared_datasets, tmp_path, fake_pose):
    ing = get_ingestor("how2sign", shared_datasets / "how2sign")
    anns = [a for a in ing.annotations("test") if a.media_id == "-fZc293MpJk-1-rgb_front"]
    assert len(anns) == 7
    fps = 2.0  # few frames keep the frame index readable from the fake pose's nose x
    fake_pose(tmp_path / "-fZc293MpJk-1-rgb_front.pose", 150, fps=fps)
    fake_pose(tmp_path / "-fZc293MpJk_0-1-rgb_front.pose", 4, fps=fps)  # a clip file wins over the video
    samples = {s.id: s for s in ing.samples(tmp_path, annotations=anns)}
    assert len(samples) == 7
    clip = samples["how2sign/-fZc293MpJk_0-1-rgb_front"]
    assert clip.num_frames == 4 and "window" not in clip.extra
    s = samples["how2sign/-fZc293MpJk_2-1-rgb_front"]  # 7.27 s .. 20.3 s
    frames = [round(float(x) * 100) - 1 for x in s.pose[:, 0, 0]]
    assert frames == list(range(round(7.27 * fps), round(20.3 * fps)))
    assert (s.text_language, s.sign_language, s.split, s.fps) == ("en", "ase", "test", fps)
    assert s.text.startswith("The aileron")
