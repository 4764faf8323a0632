"""Tests of the sharded Arrow corpus: round trip, random access vs streaming, resume, validation."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from mslu.cli import main as cli_main
from mslu.data.corpus import (
    MANIFEST,
    SCHEMA,
    Corpus,
    CorpusError,
    CorpusWriter,
    validate_corpus,
    write_corpus,
)
from mslu.data.corpus import format as corpus_format
from mslu.data.corpus import writer as corpus_writer
from mslu.data.schema import Sample, SampleError


def make_sample(i: int, rng: np.random.Generator | None = None, **kw) -> Sample:
    rng = rng or np.random.default_rng(i)
    t = kw.pop("num_frames", 3 + (i * 7) % 23)
    pose = rng.random((t, 79, 3)).astype(np.float32)
    fields = dict(
        id=f"s{i:04d}",
        pose=pose,
        source=["wlasl", "phoenix2014t", "csl-daily"][i % 3],
        sign_language=["ase", "gsg", "csl"][i % 3],
        text=["This word is apple.", "am tag regen", "你好 世界"][i % 3],
        text_language=["en", "de", "zh"][i % 3],
        gloss=None if i % 2 else ["REGEN", f"G{i}"],
        label=i if i % 3 == 0 else None,
        split=["train", "dev", "test", "pretrain"][i % 4],
        signer=f"p{i % 5}",
        fps=[25.0, 29.97, 30.0][i % 3],
        width=1280 + i,
        height=720,
        estimator="rtmpose-wholebody",
        paired=True,
        extra={"video": f"v{i}.mp4", "start": i * 0.5, "nested": {"k": [1, 2]}},
    )
    fields.update(kw)
    return Sample(**fields)


def assert_same(a: Sample, b: Sample) -> None:
    """All metadata equal; pose equal to the float16 rounding of the original."""
    for name in (
        "id source sign_language text text_language gloss label split signer fps width height "
        "estimator paired extra"
    ).split():
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(np.asarray(b.pose), np.asarray(a.pose).astype(np.float16))


@pytest.fixture
def samples() -> list[Sample]:
    out = [make_sample(i) for i in range(23)]
    out.append(make_sample(99, text=None, text_language=None, paired=False, gloss=None, label=None))
    return out


@pytest.fixture
def corpus_dir(tmp_path, samples):
    root = tmp_path / "corpus"
    report = write_corpus(root, samples, shard_size=5)
    assert report.written == len(samples) and not report.skipped and not report.duplicates
    return root


def test_round_trip_every_field(corpus_dir, samples):
    c = Corpus(corpus_dir)
    assert len(c) == len(samples)
    assert len(c.shard_files) == 5  # 24 samples in shards of 5
    for i, s in enumerate(samples):
        got = c[i]
        assert_same(s, got)
        assert got.pose.dtype == np.float16 and got.pose.shape == (s.num_frames, 79, 3)
    unpaired = c[len(samples) - 1]
    assert unpaired.paired is False and unpaired.text is None and unpaired.text_language is None


def test_float16_precision(tmp_path):
    rng = np.random.default_rng(0)
    pose = rng.random((40, 79, 3)).astype(np.float32)
    write_corpus(tmp_path / "c", [make_sample(0, pose=pose)])
    got = Corpus(tmp_path / "c").pose(0).astype(np.float32)
    # float16 has an 11-bit significand: relative error <= 2**-11 for normal numbers in [0, 1]
    err = np.abs(got - pose)
    assert np.all(err <= np.maximum(np.abs(pose), 2.0**-14) * 2.0**-11)
    assert err.max() > 0  # really stored as float16


def test_random_access_equals_streaming(corpus_dir, samples):
    c = Corpus(corpus_dir)
    streamed = list(c)
    assert [s.id for s in streamed] == [s.id for s in samples]
    for i in np.random.default_rng(1).permutation(len(c)):
        assert_same(streamed[i], c[int(i)])
        np.testing.assert_array_equal(c.pose(int(i)), streamed[i].pose)
    assert [p.shape[0] for p in c.iter_poses()] == [s.num_frames for s in samples]
    assert c[-1].id == samples[-1].id
    with pytest.raises(IndexError):
        c[len(c)]


def test_lengths_and_metadata(corpus_dir, samples):
    c = Corpus(corpus_dir)
    np.testing.assert_array_equal(c.lengths, [s.num_frames for s in samples])
    meta = c.metadata
    assert "pose" not in meta.schema.names
    assert meta.column("id").to_pylist() == [s.id for s in samples]
    assert c.num_frames == sum(s.num_frames for s in samples)
    manifest = json.loads((corpus_dir / MANIFEST).read_text())
    assert manifest["num_samples"] == len(samples)
    assert sum(e["num_samples"] for e in manifest["shards"]) == len(samples)


def test_subset_and_filter(corpus_dir, samples):
    c = Corpus(corpus_dir)
    v = c.subset([7, 2, 20])
    assert len(v) == 3 and [s.id for s in v] == [samples[i].id for i in (7, 2, 20)]
    np.testing.assert_array_equal(v.lengths, [samples[i].num_frames for i in (7, 2, 20)])
    assert v.metadata.column("id").to_pylist() == [samples[i].id for i in (7, 2, 20)]
    assert v[1].id == samples[2].id and v.subset([0])[0].id == samples[7].id

    train = c.filter(split="train")
    assert [s.id for s in train] == [s.id for s in samples if s.split == "train"]
    both = c.filter(split=["train", "dev"], source="wlasl", paired=True)
    expected = [s.id for s in samples if s.split in ("train", "dev") and s.source == "wlasl" and s.paired]
    assert both.ids == expected and len(expected) > 0
    assert [s.id for s in c.filter(paired=False)] == [samples[-1].id]
    assert train.filter(split="dev").ids == []
    with pytest.raises(KeyError):
        c.filter(colour="red")


def test_crash_inside_writer_then_rerun(tmp_path, samples):
    root = tmp_path / "c"
    with pytest.raises(RuntimeError, match="boom"):
        with CorpusWriter(root, shard_size=4) as w:
            for s in samples[:10]:
                w.add(s)
            raise RuntimeError("boom")
    # the 10 validated samples are committed when the block exits on an exception
    assert len(Corpus(root)) == 10
    with CorpusWriter(root, shard_size=4) as w:
        for s in samples:
            w.add(s)
    assert w.report.written == len(samples) - 10
    assert sorted(w.report.duplicates) == sorted(s.id for s in samples[:10])
    c = Corpus(root)
    assert sorted(c.ids) == sorted(s.id for s in samples)
    assert validate_corpus(root) == []


def test_killed_build_leaves_temp_and_orphan_shard(tmp_path, samples, monkeypatch):
    root = tmp_path / "c"
    w = CorpusWriter(root, shard_size=4)
    for s in samples[:10]:  # commits 2 shards, 2 samples stay buffered, never closed ("killed")
        w.add(s)
    with pytest.raises(CorpusError, match="another CorpusWriter"):
        CorpusWriter(root)
    w._unlock()  # the OS releases the lock of a killed process
    # a crash between the shard rename and the manifest update: an unlisted, complete shard file
    real = corpus_writer.atomic_write_text

    def fail_manifest(path, text):
        raise OSError("disk full")

    w2 = CorpusWriter(root, shard_size=4)
    for s in samples[8:11]:
        w2.add(s)
    monkeypatch.setattr(corpus_writer, "atomic_write_text", fail_manifest)
    with pytest.raises(OSError):
        w2.add(samples[11])  # fills the shard, shard file renamed, manifest update fails
    w2._unlock()
    monkeypatch.setattr(corpus_writer, "atomic_write_text", real)
    assert (root / "shard-00002.arrow").exists()
    assert len(Corpus(root)) == 8  # readers see committed shards only
    # a crash while writing the next shard: a stray temp file
    (root / "shard-00003.arrow.tmp").write_bytes(b"partial")
    assert any("not committed" in p for p in validate_corpus(root))

    with CorpusWriter(root, shard_size=4) as w3:
        assert not (root / "shard-00003.arrow.tmp").exists()
        assert not (root / "shard-00002.arrow").exists()
        for s in samples:
            w3.add(s)
    assert len(w3.report.duplicates) == 8 and w3.report.written == len(samples) - 8
    c = Corpus(root)
    assert len(c) == len(samples) and sorted(c.ids) == sorted(s.id for s in samples)
    for s in samples:
        assert_same(s, c[c.ids.index(s.id)])
    assert validate_corpus(root) == []


def test_pickle_reopens_shards(corpus_dir, samples):
    c = Corpus(corpus_dir)
    c[3], c.metadata  # open some shards
    view = c.filter(split="dev")
    c2, view2 = pickle.loads(pickle.dumps((c, view)))
    assert_same(samples[3], c2[3])
    assert view2.ids == view.ids and view2._base is c2


def test_empty_corpus(tmp_path):
    with CorpusWriter(tmp_path / "c"):
        pass
    c = Corpus(tmp_path / "c")
    assert len(c) == 0 and list(c) == [] and c.lengths.shape == (0,) and c.metadata.num_rows == 0
    assert len(c.filter(split="train")) == 0
    assert validate_corpus(tmp_path / "c") == []


def test_duplicate_ids_in_one_run(tmp_path):
    with CorpusWriter(tmp_path / "c") as w:
        assert w.add(make_sample(1)) is True
        assert w.add(make_sample(1)) is False
    assert w.report.duplicates == ["s0001"] and w.report.written == 1


BAD_CASES = {
    "nan": (dict(pose=np.full((4, 79, 3), np.nan, np.float32)), "NaN"),
    "zero": (dict(pose=np.zeros((0, 79, 3), np.float32)), "zero frames"),
    "wrong-k": (dict(pose=np.zeros((4, 75, 3), np.float32)), "wrong keypoint count: 75"),
    "empty-text": (dict(text="  ", paired=True), "empty text on a paired sample"),
    "bad-text-lang": (dict(text_language="xx"), "unknown text language 'xx'"),
    "bad-sign-lang": (dict(sign_language="zzz"), "unknown sign language 'zzz'"),
    "f16-overflow": (dict(pose=np.full((2, 79, 3), 1e6, np.float32) * [1, 1, 0]), "float16 range"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_validation_message_names_sample(tmp_path, case):
    kw, needle = BAD_CASES[case]
    bad = make_sample(0, id=f"bad-{case}", **kw)
    with CorpusWriter(tmp_path / "c") as w:
        assert w.add(bad) is False
    [(sid, problem)] = w.report.skipped
    assert sid == f"bad-{case}" and needle in problem
    with pytest.raises(SampleError) as err:
        corpus_format.encode_sample(bad)
    assert f"bad-{case}" in str(err.value) and needle in str(err.value)


def test_build_with_bad_samples_keeps_good_ones(tmp_path):
    good = [make_sample(i) for i in range(12)]
    bad = [
        make_sample(100, pose=np.full((3, 79, 3), np.nan, np.float32)),
        make_sample(101, pose=np.zeros((0, 79, 3), np.float32)),
        make_sample(102, text=""),
        make_sample(103, text=None),
        make_sample(104, text_language="klingon"),
        make_sample(105, pose=np.zeros((3, 80, 3), np.float32)),
    ]
    mixed = good[:4] + bad[:3] + good[4:9] + bad[3:] + good[9:]
    report = write_corpus(tmp_path / "c", mixed, shard_size=5)
    assert report.written == 12
    assert report.skipped_by_reason() == {
        "NaN/inf value": 1,
        "zero frames": 1,
        "empty text on a paired sample": 2,
        "unknown text language": 1,
        "wrong keypoint count": 1,
    }
    assert sorted(i for i, _ in report.skipped) == sorted(s.id for s in bad)
    assert Corpus(tmp_path / "c").ids == [s.id for s in good]
    d = report.to_dict()
    assert d["skipped"] == 6 and d["written"] == 12 and "skipped 2: empty text" in report.summary()


def _write_raw_shard(root, name, rows_poses):
    """Write a shard bypassing validation (to simulate on-disk corruption) and list it in the manifest."""
    rows, poses = zip(*rows_poses)
    batch = corpus_writer._make_batch(list(rows), list(poses))
    with pa.OSFile(str(root / name), "wb") as sink, ipc.new_file(sink, SCHEMA) as w:
        w.write_batch(batch)
    manifest = json.loads((root / MANIFEST).read_text())
    frames = sum(r["num_frames"] for r in rows)
    manifest["shards"].append(
        {"file": name, "num_samples": len(rows), "num_frames": frames, "bytes": (root / name).stat().st_size}
    )
    manifest["num_samples"] += len(rows)
    manifest["num_frames"] += frames
    (root / MANIFEST).write_text(json.dumps(manifest))


def test_read_validation_nan_in_stored_pose(corpus_dir):
    row, pose = corpus_format.encode_sample(make_sample(500, id="corrupt-one"))
    pose = pose.copy()
    pose[1, 2, 0] = np.nan
    _write_raw_shard(corpus_dir, "shard-00009.arrow", [(row, pose)])
    c = Corpus(corpus_dir)
    with pytest.raises(CorpusError, match=r"shard-00009\.arrow.*corrupt-one.*NaN"):
        c[len(c) - 1]
    problems = validate_corpus(corpus_dir)
    assert len(problems) == 1 and "corrupt-one" in problems[0] and "shard-00009.arrow" in problems[0]


def test_read_validation_truncated_and_missing_shard(corpus_dir):
    shard = corpus_dir / "shard-00001.arrow"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    os.remove(corpus_dir / "shard-00003.arrow")
    with pytest.raises(CorpusError, match=r"shard-00001\.arrow.*truncated"):  # refused when opened
        Corpus(corpus_dir)
    problems = validate_corpus(corpus_dir)
    assert any("shard-00001.arrow" in p for p in problems)
    assert any("shard-00003.arrow" in p for p in problems)


def test_not_a_corpus(tmp_path):
    with pytest.raises(CorpusError, match="not a corpus"):
        Corpus(tmp_path)
    assert "not a corpus" in validate_corpus(tmp_path)[0]


def test_cli_info_validate_stats(corpus_dir, tmp_path, capsys):
    assert cli_main(["corpus", "info", str(corpus_dir)]) == 0
    assert "samples          24" in capsys.readouterr().out
    assert cli_main(["corpus", "validate", str(corpus_dir)]) == 0
    out = tmp_path / "stats"
    assert cli_main(["corpus", "stats", str(corpus_dir), "--out", str(out)]) == 0
    assert "| total samples | 24 |" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"stats.md", "stats.json", "durations.png"}
    os.remove(corpus_dir / "shard-00000.arrow")
    assert cli_main(["corpus", "validate", str(corpus_dir)]) == 1
    assert "shard-00000.arrow" in capsys.readouterr().out


def test_writer_removes_only_its_own_leftovers(tmp_path):
    root = tmp_path / "c"
    write_corpus(root, [make_sample(i) for i in range(3)])
    own = [root / "shard-00007.arrow", root / "shard-00001.arrow.tmp", root / (MANIFEST + ".tmp")]
    users = [root / "draft.tmp", root / "notes.txt", root / "shard-x.arrow.tmp"]
    for p in own + users:
        p.write_bytes(b"x")
    with CorpusWriter(root) as w:
        w.add(make_sample(10))
    assert not any(p.exists() for p in own)
    assert all(p.read_bytes() == b"x" for p in users)
    assert len(Corpus(root)) == 4


def test_flipped_pose_bytes_fail_validation(corpus_dir):
    shard = corpus_dir / "shard-00001.arrow"
    data = bytearray(shard.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0x55 for b in data[middle : middle + 16])  # same size
    shard.write_bytes(bytes(data))
    Corpus(corpus_dir)  # the quick check (names, sizes, counts) passes
    problems = validate_corpus(corpus_dir)
    assert any("shard-00001.arrow: contents differ from the manifest's SHA-256" in p for p in problems)


@pytest.mark.parametrize("name", ["/etc/hostname", "../outside.arrow", "sub/shard-00000.arrow"])
def test_manifest_entries_stay_inside_the_corpus(corpus_dir, name):
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    manifest["shards"][0]["file"] = name
    (corpus_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorpusError, match="not a shard file of this folder"):
        Corpus(corpus_dir)
    assert "not a shard file of this folder" in validate_corpus(corpus_dir)[-1]


def test_info_and_stats_refuse_a_damaged_corpus_in_one_line(corpus_dir, capsys):
    shard = corpus_dir / "shard-00002.arrow"
    shard.write_bytes(shard.read_bytes()[:100])
    for command in ("info", "stats"):
        assert cli_main(["corpus", command, str(corpus_dir)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and "shard-00002.arrow" in err[0]
