"""Annotation files are not trusted: clip ids never lead outside the pose folder (a traversal, an absolute
path or a symbolic link out of it is reported and skipped), bad rows are skipped, broken tables named."""

from __future__ import annotations

import os

import pytest

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


def test_bad_rows_and_tables_of_how2sign(tmp_path, caplog):
    root = tmp_path / "how2sign"
    root.mkdir()
    head = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"
    rows = ["v\tvid\t1\tgood\t0.5\t2.0\thello", "v\tvid\t2\tinf\tinf\t2.0\tx", "v\tvid\t3\tneg\t3.0\t1.0\ty",
            "v\tvid\t4\ttext\tabc\t1.0\tz", "v\tvid\t5\tgood2\t2.0\t3.0\tworld"]
    (root / "how2sign_realigned_train.csv").write_text("\n".join([head, *rows]) + "\n")
    anns = list(get_ingestor("how2sign", root).annotations("train"))
    assert [a.id for a in anns] == ["good", "good2"]  # bad rows reported and skipped, the others kept
    assert sum("bad start / end time" in r.message for r in caplog.records) == 3
    huge = head + "\nv\tvid\t1\t" + "x" * (1 << 25) + "\t1\t2\ts\n"
    (root / "how2sign_realigned_train.csv").write_text(huge)
    with pytest.raises(ValueError, match="how2sign_realigned_train.csv: unreadable table"):
        list(get_ingestor("how2sign", root).annotations("train"))
    (root / "how2sign_realigned_train.csv").write_bytes(head.encode() + b"\n\xff\xfe\t\x00\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        list(get_ingestor("how2sign", root).annotations("train"))
