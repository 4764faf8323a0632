"""``mslu ingest folder``: a folder of pose files + a labels table -> corpus, on folders generated here."""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from mslu.cli import main
from mslu.data.build import build_corpus
from mslu.data.corpus import Corpus
from mslu.data.datasets import get_ingestor
from mslu.data.datasets.folder import guess_columns, read_labels_table, strip_pose_suffix
from mslu.data.stats import compute_coverage
from mslu.pose.io import write_pose
from mslu.pose.layouts import get_layout
from mslu.pose.sequence import PoseSequence

SIGNERS = ["Ana", "Bia", "Caio", "Duda", "Edu"]
WORDS = ["Água", "Casa", "Escola"]


def _frames_json(seed: int, frames: int = 6, k: int = 33, width: int = 640) -> bytes:
    rng = np.random.default_rng(seed)
    out = []
    for t in range(frames):
        pts = [{"id": j, "x": float(rng.uniform(50, width - 50)), "y": float(rng.uniform(50, 400)), "z": -0.5,
                "visibility": 1.0} for j in range(k)]
        out.append({"frame": t, "keypoints": pts})
    return json.dumps({"frames": out}).encode()


def make_libras_like(root: Path, gz: bool = True, reps: int = 2) -> list[dict]:
    """A Libras-25-like folder: json_frames/<word>_<signer>_<rep>.json(.gz) (MediaPipe Pose-33, pixels) and a
    sinais.csv with file_name, width, height, duration_sec, num_frames, sinal, interprete."""
    (root / "json_frames").mkdir(parents=True)
    rows = []
    seed = 0
    for w in WORDS:
        for s in SIGNERS:
            for r in range(1, reps + 1):
                name = f"{w}_{s}_{r}.json"
                data = _frames_json(seed)
                seed += 1
                if gz:
                    (root / "json_frames" / f"{name}.gz").write_bytes(gzip.compress(data))
                else:
                    (root / "json_frames" / name).write_bytes(data)
                rows.append({"file_name": name, "width": 640, "height": 480, "duration_sec": 0.2,
                             "num_frames": 6, "sinal": w, "interprete": s})
    with open(root / "sinais.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    return rows


def _build(root: Path, out: Path, **options):
    return build_corpus({"name": "t", "include_splits": "all", "sources": [
        {"name": "folder", "root": str(root), "poses": str(root), "options": options}]}, out)


def _skipped(out: Path) -> dict[str, str]:
    with open(out / "skipped.csv", encoding="utf-8") as f:
        return {r["id"]: r["reason"] for r in csv.DictReader(f)}


def test_libras_like_folder_in_one_build(tmp_path):
    root = tmp_path / "lib"
    make_libras_like(root)
    stats = _build(root, tmp_path / "c", sign_language="bzs", test_signers=["Edu"], dev_signers="Duda")
    c = Corpus(tmp_path / "c")
    assert len(c) == 30 and stats["skipped"]["total"] == 0
    s = next(x for x in c if x.id == "lib/Água_Ana_1")
    assert s.sign_language == "bzs" and s.text_language == "pt" and s.text == "Esta palavra é Água."
    assert s.label == sorted(WORDS).index("Água") == 2  # code-point order: "Á" after "C", "E"
    assert s.gloss == ["Água"] and s.signer == "Ana" and s.split == "train"
    assert (s.width, s.height) == (640, 480) and s.fps == pytest.approx(30.0)  # fps = 6 frames / 0.2 s
    assert s.estimator == "mediapipe_pose_33" and s.extra["pose_file"] == "json_frames/Água_Ana_1.json.gz"
    assert 0 < s.pose[..., 0].max() <= 1  # pixels divided by the table's width
    bench = tmp_path / "c" / "benchmarks" / "lib"
    ids = {sp: (bench / f"{sp}.txt").read_text(encoding="utf-8").split() for sp in ("train", "dev", "test")}
    assert len(ids["train"]) == 18 and len(ids["dev"]) == 6 and len(ids["test"]) == 6
    assert all("_Edu_" in i for i in ids["test"]) and all("_Duda_" in i for i in ids["dev"])
    cov = compute_coverage(c)["lib"]
    assert cov["layouts"] == {"mediapipe_pose_33": 30} and cov["body"] == 1.0
    assert cov["face"] == pytest.approx(1 / 18) and cov["left_hand"] == pytest.approx(4 / 21)


def test_bad_rows_and_files_are_reported_and_the_rest_kept(tmp_path):
    root = tmp_path / "lib"
    rows = make_libras_like(root, gz=False, reps=1)
    outside = tmp_path / "outside.json"
    outside.write_bytes(_frames_json(99))
    os.symlink(outside, root / "json_frames" / "link.json")
    (root / "json_frames" / "corrupt.json").write_text("{nope")
    (root / "json_frames" / "empty.json").write_text(json.dumps({"frames": []}))
    extra = [("", "Casa"), ("../outside.json", "Casa"), ("/etc/passwd", "Casa"), ("link.json", "Casa"),
             ("corrupt.json", "Casa"), ("empty.json", "Casa"), ("missing.json", "Casa"),
             (rows[0]["file_name"], "Casa")]  # the last one: listed twice
    with open(root / "sinais.csv", "a", newline="", encoding="utf-8") as f:
        wr = csv.writer(f)
        for name, word in extra:
            wr.writerow([name, 640, 480, 0.2, 6, word, "Ana"])
    stats = _build(root, tmp_path / "c", sign_language="bzs")
    assert len(Corpus(tmp_path / "c")) == len(rows)
    reasons = _skipped(tmp_path / "c")
    assert len(reasons) == len(extra) == stats["skipped"]["total"]
    text = "\n".join(reasons.values())
    for needle in ("empty file name", "'../outside.json' leaves the folder",
                   "'/etc/passwd' leaves the folder", "'link.json' resolves outside the folder",
                   "corrupt.json", "empty.json", "no pose file 'missing.json'", "listed twice"):
        assert needle in text, needle


def test_rebuild_resumes_and_adds_nothing(tmp_path):
    root = tmp_path / "lib"
    make_libras_like(root, reps=1)
    out = tmp_path / "c"
    first = _build(root, out, sign_language="bzs")
    manifest = (out / "manifest.json").read_text()
    again = _build(root, out, sign_language="bzs")
    assert first["total"]["samples"] == again["total"]["samples"] == 15
    src = again["sources"]["folder"]
    assert src["already_in_corpus"] == 15 and src.get("added", 0) == 0
    assert json.loads((out / "manifest.json").read_text())["shards"] == json.loads(manifest)["shards"]


def test_split_rules(tmp_path):
    root = tmp_path / "lib"
    make_libras_like(root, reps=4)
    ing = get_ingestor("folder", root, sign_language="bzs")  # 5 signers: 0.2 test, 0.1 dev, >= 1 each
    by_split: dict[str, set] = {}
    for a in ing.annotations():
        by_split.setdefault(a.split, set()).add(a.signer)
    assert {k: len(v) for k, v in by_split.items()} == {"train": 3, "dev": 1, "test": 1}
    assert not (by_split["train"] & by_split["test"]) and "signer-independent" in ing.split_rule
    again = get_ingestor("folder", root, sign_language="bzs")
    assert [a.split for a in again.annotations()] == [a.split for a in ing.annotations()]  # deterministic
    # no signer column: by repetition, every label keeps training clips and reaches test
    table = root / "sinais.csv"
    text = table.read_text(encoding="utf-8").replace("interprete", "who")
    (root / "nosigners.csv").write_text(text, encoding="utf-8")
    table.unlink()
    rep = get_ingestor("folder", root, sign_language="bzs", test_fraction=0.25, dev_fraction=0.25)
    anns = list(rep.annotations())
    assert "by repetition" in rep.split_rule
    for w in range(3):
        splits = [a.split for a in anns if a.label == w]
        assert splits.count("test") == 5 and splits.count("dev") == 5 and splits.count("train") == 10
    with pytest.raises(ValueError, match="no signer column"):
        list(get_ingestor("folder", root, sign_language="bzs", test_signers=["Ana"]).annotations())


def test_split_column_and_other_table_kinds(tmp_path):
    root = tmp_path / "d"
    (root / "poses").mkdir(parents=True)
    rng = np.random.default_rng(0)
    items = []
    for i, split in enumerate(["train", "train", "val", "test"]):
        arr = rng.uniform(0, 1, (5, 42, 3)).astype(np.float32)  # normalised hands-only arrays
        np.save(root / "poses" / f"c{i}.npy", arr)
        items.append({"video": f"poses/c{i}", "glosses": "HELLO WORLD", "translation": "Hello world.",
                      "subset": split, "speaker": f"p{i % 2}"})
    (root / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in items), encoding="utf-8")
    stats = _build(root, tmp_path / "c", sign_language="ase")
    c = Corpus(tmp_path / "c")
    assert stats["sources"]["folder"]["splits"] == {"train": 2, "dev": 1, "test": 1}
    s = c[0]
    assert s.gloss == ["HELLO", "WORLD"] and s.text == "Hello world." and s.label is None and s.paired
    assert s.estimator == "hands_42" and s.extra["coordinates"] == "normalized"
    cov = compute_coverage(c)["d"]
    assert cov["body"] == 0 and cov["left_hand"] == 1.0 and cov["right_hand"] == 1.0
    # the same as a JSON list and as a TSV, with explicit columns
    (root / "labels.jsonl").unlink()
    (root / "t.json").write_text(json.dumps(items), encoding="utf-8")
    cols, rows, _ = read_labels_table(root / "t.json")
    assert len(rows) == 4 and guess_columns(cols)["file"] == "video"
    with open(root / "t.tsv", "w", encoding="utf-8") as f:
        f.write("clip\tsigns\twho\n" + "".join(f"poses/c{i}\tHELLO\tp{i}\n" for i in range(4)))
    ing = get_ingestor("folder", root, table="t.tsv", sign_language="ase", text_language="en",
                       columns={"file": "clip", "label": "signs", "signer": "who"})
    anns = list(ing.annotations())
    assert {a.signer for a in anns} == {"p0", "p1", "p2", "p3"} and {a.label for a in anns} == {0}
    with pytest.raises(ValueError, match="'nope' is not in the table"):
        get_ingestor("folder", root, table="t.tsv", sign_language="ase",
                     columns={"file": "nope"}).benchmarks()
    with pytest.raises(ValueError, match="unknown column role"):
        get_ingestor("folder", root, table="t.tsv", sign_language="ase",
                     columns={"colour": "who"}).benchmarks()


def test_every_pose_format_in_one_folder(tmp_path):
    """A table naming a .pose, a .npz, an OpenPose frame folder, a .skels clip and a gzipped MMPose JSON."""
    root = tmp_path / "mix"
    root.mkdir()
    rng = np.random.default_rng(1)
    lay = get_layout("mediapipe_holistic")
    data = np.concatenate([rng.uniform(10, 300, (4, 543, 2)), np.ones((4, 543, 1))], -1).astype(np.float32)
    write_pose(PoseSequence(data, lay, 30.0, 320, 240), root / "a.pose")
    np.savez(root / "b.npz", pose=rng.uniform(10, 300, (4, 67, 3)).astype(np.float32), width=320, height=240)
    (root / "op").mkdir()
    for t in range(3):
        person = {"pose_keypoints_2d": (np.tile([50.0 + t, 60.0, 0.9], 25)).tolist()}
        (root / "op" / f"x_{t:012d}_keypoints.json").write_text(json.dumps({"people": [person]}))
    skel = np.concatenate([np.concatenate([rng.uniform(-0.3, 0.3, 150), [t / 3]]) for t in range(3)])
    (root / "all.skels").write_text(" ".join(f"{v:.4f}" for v in skel) + "\n" + " ".join("0.1" for _ in skel))
    mm = [{"frame_id": t, "instances": [{"keypoints": rng.uniform(10, 300, (133, 2)).tolist(),
                                          "keypoint_scores": [0.9] * 133}]} for t in range(3)]
    (root / "d.json.gz").write_bytes(gzip.compress(json.dumps(mm).encode()))
    table = [("a.pose", "A"), ("b", "B"), ("op", "C"), ("all.skels#0", "D"), ("d.json", "E")]
    (root / "t.csv").write_text("file,label\n" + "".join(f"{f},{w}\n" for f, w in table), encoding="utf-8")
    stats = _build(root, tmp_path / "c", sign_language="ase", width=320, height=240, test_fraction=0.0,
                   dev_fraction=0.0)
    assert stats["skipped"]["total"] == 0, _skipped(tmp_path / "c")
    c = Corpus(tmp_path / "c")
    got = {s.extra["pose_file"]: s.estimator for s in c}
    assert got == {"a.pose": "mediapipe_holistic", "b.npz": "openpose_body25_hands_67",
                   "op": "openpose_body25", "all.skels#0": "phoenix_skels_50",
                   "d.json.gz": "coco_wholebody_133"}
    assert all(np.isfinite(np.asarray(c.pose(i), np.float32)).all() for i in range(len(c)))


def test_no_table_mode_and_pixel_files_without_size(tmp_path):
    root = tmp_path / "raw"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(2)
    for i in range(3):
        np.save(root / "sub" / f"p{i}.npy", rng.uniform(10, 500, (4, 133, 3)).astype(np.float32))
    np.save(root / "n.npy", rng.uniform(0, 1, (4, 133, 3)).astype(np.float32))
    stats = _build(root, tmp_path / "c", sign_language="ase", table="none")
    reasons = _skipped(tmp_path / "c")
    assert stats["total"]["samples"] == 1 and stats["total"]["unpaired"] == 1  # normalised: no size needed
    assert len(reasons) == 3 and all("unknown frame size" in r for r in reasons.values())
    stats = _build(root, tmp_path / "c2", sign_language="ase", table="none", width=640, height=480,
                   files="sub/*")
    assert stats["total"]["samples"] == 3 and {s.id for s in Corpus(tmp_path / "c2")} == {
        "raw/sub/p0", "raw/sub/p1", "raw/sub/p2"}


def test_languages_and_templates(tmp_path):
    root = tmp_path / "lib"
    make_libras_like(root, reps=1)
    with pytest.raises(ValueError, match="unknown sign language 'xx'"):
        get_ingestor("folder", root, sign_language="xx")
    with pytest.raises(ValueError, match="unknown text language 'klingon'"):
        get_ingestor("folder", root, sign_language="bzs", text_language="klingon")
    with pytest.raises(ValueError, match="give the sign language"):
        get_ingestor("folder", root)
    with pytest.raises(ValueError, match="no template sentence for text language 'sv'"):
        get_ingestor("folder", root, sign_language="swl").benchmarks()
    ing = get_ingestor("folder", root, sign_language="swl", template="Ordet är {gloss}.")
    ann = next(iter(ing.annotations()))
    assert ing.make_sample(root, ann).text == "Ordet är Água."
    hi = get_ingestor("folder", root, sign_language="ins")  # Indian SL: Hindi texts by default
    assert hi.make_sample(root, next(iter(hi.annotations()))).text == "यह शब्द Água है।"
    un = get_ingestor("folder", root, sign_language="bzs", unpaired=True)
    s = un.make_sample(root, next(iter(un.annotations())))
    assert s.text is None and not s.paired and s.label == 2
    with pytest.raises(ValueError, match="unknown key"):
        get_ingestor("folder", root, sign_language="bzs", colour="red")


def test_strip_pose_suffix():
    assert strip_pose_suffix("a/b.json.gz") == "a/b" and strip_pose_suffix("x.skels#3") == "x#3"
    assert strip_pose_suffix("clip.pose") == "clip" and strip_pose_suffix("folder") == "folder"


def test_cli_ingest_folder(tmp_path, capsys):
    root = tmp_path / "lib"
    make_libras_like(root, reps=1)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("sign_language: bzs\ncolumns: {label: sinal}\n", encoding="utf-8")
    out = tmp_path / "c"
    assert main(["ingest", "folder", str(root), "--recipe", str(recipe), "--test-signers", "Edu",
                 "--dev-signers", "Duda", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    stats = json.loads(captured.out)
    assert stats["total"]["samples"] == 15 and stats["coverage"]["lib"]["body"] == 1.0
    assert "Keypoint coverage" in captured.err and "mediapipe_pose_33" in captured.err
    assert "test signers ['Edu']" in (out / "benchmarks" / "lib" / "split_rule.txt").read_text()
    assert json.loads((out / "coverage.json").read_text())["lib"]["samples"] == 15
    assert main(["corpus", "stats", str(out)]) == 0
    assert "| lib | mediapipe_pose_33 | 15 | 100.0 |" in capsys.readouterr().out
    # errors are one line, nothing written
    bad = tmp_path / "bad.yaml"
    bad.write_text("sign_language: bzs\ncolour: red\n")
    assert main(["ingest", "folder", str(root), "--recipe", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "colour" in err and len(err.splitlines()) == 1
    assert main(["ingest", "folder", str(root), "--sign-language", "bzs", "--test-signers", "Zed",
                 "--out", str(tmp_path / "x")]) == 2
    assert "['Zed'] not in the table" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["ingest", "wlasl", "--root", str(root), "--poses", str(root), "--table", "x",
                 "--out", str(tmp_path / "x")]) == 2
    assert "only for `mslu ingest folder`" in capsys.readouterr().err
