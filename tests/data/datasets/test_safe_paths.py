"""Clip ids from annotation files never lead outside the pose folder: a traversal, an absolute path or a
symbolic link out of it is reported and skipped, and the other clips still ingest."""

from __future__ import annotations

import os

from mslu.data.datasets import get_ingestor

BAD = ["../../outside/secret", "/etc/hostname", "~/secret", "..\\\\..\\\\outside\\\\secret"]


def _phoenix(tmp_path, fake_pose):
    root = tmp_path / "phoenix-2014t"
    manual = root / "annotations/manual"
    manual.mkdir(parents=True)
    names = ["good1", *BAD, "linked", "good2"]
    lines = ["name|video|start|end|speaker|orth|translation"]
    lines += [f"{n}|{n}/1/*.png|-1|-1|Signer01|REGEN|es regnet" for n in names]
    (manual / "PHOENIX-2014-T.train.corpus.csv").write_text("\n".join(lines) + "\n")
    for sp in ("dev", "test"):
        (manual / f"PHOENIX-2014-T.{sp}.corpus.csv").write_text(lines[0] + "\n")
    poses = tmp_path / "poses"
    fake_pose(poses / "good1.pose", 6)
    fake_pose(poses / "good2.pose", 6)
    fake_pose(tmp_path / "outside/secret.pose", 6)  # what the traversals aim at
    os.symlink(tmp_path / "outside/secret.pose", poses / "linked.pose")
    return root, poses


def test_paths_from_annotations_stay_inside_the_pose_root(tmp_path, fake_pose):
    root, poses = _phoenix(tmp_path, fake_pose)
    skipped = {}
    samples = list(get_ingestor("phoenix2014t", root).samples(poses, on_skip=skipped.__setitem__))
    assert sorted(s.id for s in samples) == ["phoenix2014t/good1", "phoenix2014t/good2"]
    assert len(skipped) == len(BAD) + 1
    for sid, reason in skipped.items():
        assert ("no path inside" in reason) or ("leads outside" in reason), (sid, reason)
    assert "symbolic link" in skipped["phoenix2014t/linked"]
