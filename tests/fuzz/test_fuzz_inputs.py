"""Annotation tables (missing columns, bad encodings, junk rows) and non-video files end in a clear error
naming the file, or in usable annotations; nothing else escapes."""

from __future__ import annotations

import json
import random

import pytest
from fuzzing import SEED, one_line_naming

from mslu.data.datasets import get_ingestor
from mslu.extract.video import VideoError, VideoReader

PHOENIX_HEAD = "name|video|start|end|speaker|orth|translation"
ROW = "c{i}|c{i}/1/*.png|-1|-1|Signer01|REGEN WOLKE|es regnet"


def _phoenix_text(r: random.Random) -> bytes:
    lines = [PHOENIX_HEAD] + [ROW.format(i=i) for i in range(5)]
    kind = r.choice(["drop_column", "junk_row", "latin1", "binary", "empty", "short_rows", "pipes"])
    if kind == "drop_column":
        cols = PHOENIX_HEAD.split("|")
        cols.pop(r.randrange(len(cols)))
        lines[0] = "|".join(cols)
    elif kind == "junk_row":
        lines.insert(r.randrange(1, len(lines)), "".join(chr(r.randrange(32, 0x7FF)) for _ in range(40)))
    elif kind == "latin1":
        return ("\n".join(lines) + "\nc9|x|-1|-1|S|ÄÖÜ|grüße\n").encode("latin-1")
    elif kind == "binary":
        return bytes(r.randrange(256) for _ in range(r.randrange(1, 500)))
    elif kind == "empty":
        return b""
    elif kind == "short_rows":
        lines = [lines[0]] + [ln.rsplit("|", r.randrange(1, 5))[0] for ln in lines[1:]]
    else:
        lines = [ln + "|" * r.randrange(1, 4) for ln in lines]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.parametrize("case", range(60))
def test_phoenix_tables(tmp_path, case):
    r = random.Random(SEED + 60000 + case)
    manual = tmp_path / "p/annotations/manual"
    manual.mkdir(parents=True)
    for sp in ("train", "dev", "test"):
        (manual / f"PHOENIX-2014-T.{sp}.corpus.csv").write_bytes(_phoenix_text(r) if sp == "train" else
                                                                PHOENIX_HEAD.encode() + b"\n")
    try:
        anns = list(get_ingestor("phoenix2014t", tmp_path / "p").annotations())
    except (ValueError, OSError) as e:
        one_line_naming(e, "PHOENIX-2014-T")
        return
    for a in anns:
        assert isinstance(a.id, str) and a.split in ("train", "dev", "test")


@pytest.mark.parametrize("case", range(40))
def test_wlasl_json(tmp_path, case):
    r = random.Random(SEED + 70000 + case)
    inst = {"video_id": "001", "split": "train", "frame_start": 1, "frame_end": -1, "signer_id": 1,
            "bbox": [0, 0, 10, 10], "fps": 25, "source": "x", "url": "u", "instance_id": 0}
    doc = [{"gloss": "book", "instances": [dict(inst), dict(inst, video_id="002", split="test")]}]
    kind = r.choice(["drop_key", "bad_type", "junk", "cut"])
    if kind == "drop_key":
        doc[0]["instances"][0].pop(r.choice(list(inst)))
    elif kind == "bad_type":
        doc[0]["instances"][0][r.choice(["frame_start", "split", "video_id", "bbox"])] = r.choice(
            [None, "x", [1], {"a": 1}, -5, 1e30])
    text = json.dumps(doc)
    if kind == "junk":
        text = r.choice(['{"a": 1}', "[1, 2]", '"x"', "null", '[{"gloss": 3}]'])
    elif kind == "cut":
        text = text[: r.randrange(len(text))]
    root = tmp_path / "wlasl"
    root.mkdir()
    (root / "WLASL_v0.3.json").write_text(text)
    try:
        anns = list(get_ingestor("wlasl", root).annotations())
    except (ValueError, OSError) as e:
        one_line_naming(e, "WLASL_v0.3.json", "wlasl")
        return
    assert all(isinstance(a.id, str) for a in anns)


@pytest.mark.parametrize("case", range(30))
def test_non_video_files(tmp_path, case):
    r = random.Random(SEED + 80000 + case)
    path = tmp_path / f"clip{r.choice(['.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v'])}"
    choice = r.random()
    if choice < 0.4:
        path.write_bytes(bytes(r.randrange(256) for _ in range(r.randrange(0, 4000))))
    elif choice < 0.7:
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(r.randrange(256) for _ in range(2000)))
    else:
        path.write_text("this is a text file, not a video\n" * r.randrange(1, 50))
    with pytest.raises(VideoError) as e:
        VideoReader(path)
    one_line_naming(e.value, str(path))
