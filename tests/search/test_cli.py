"""``mslu index build`` / ``mslu index info`` / ``mslu search``: output and one-line errors."""

from __future__ import annotations

import json

import pytest

from mslu.cli import main
from mslu.search import SignIndex


@pytest.fixture(scope="module")
def cli_index(retrieval_run, clip_dir, tmp_path_factory):
    d, texts = clip_dir
    out = tmp_path_factory.mktemp("cli") / "idx"
    assert main(["index", "build", "--run", str(retrieval_run), str(d), "--out", str(out), "--no-progress",
                 "--device", "cpu", "--batch-size", "4"]) == 0  # fmt: skip
    return out, texts


def test_build_prints_a_summary_and_info_describes_the_index(cli_index, capsys, retrieval_run, clip_dir):
    out, texts = cli_index
    assert main(["index", "build", "--run", str(retrieval_run), str(clip_dir[0]), "--out", str(out),
                 "--no-progress", "--device", "cpu"]) == 0  # fmt: skip
    line = capsys.readouterr().out.strip()
    assert f"0 clips added, {len(texts)} already indexed, 0 skipped; {len(texts)} clips in all" in line
    assert main(["index", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clips"] == len(texts) and info["ann"] == "none" and info["embedding"]["dim"] == 16


def test_search_text_as_a_table(cli_index, capsys):
    out, texts = cli_index
    sentence = next(iter(texts.values()))
    assert main(["search", str(out), sentence, "-k", "3", "--device", "cpu"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "top 3 of" in table[0] and "exact candidates" in table[0] and "psi_FSTS" in table[0]
    assert table[1].split() == ["rank", "score", "stage1", "frames", "id", "path"]
    assert len(table) == 5 and [r.split()[0] for r in table[2:]] == ["1", "2", "3"]


def test_search_like_as_json(cli_index, capsys):
    out, _ = cli_index
    clip = SignIndex.open(out).clips()[4]
    assert main(["search", str(out), "--like", clip["path"], "--json", "--device", "cpu"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["query"] == {"like": clip["path"]}
    assert res["stage1"] == "exact" and res["rerank"] == "symmetric max-sim" and len(res["hits"]) == 5
    assert res["hits"][0]["id"] == clip["id"] and res["hits"][0]["rank"] == 1
    assert set(res["hits"][0]) == {"rank", "score", "pooled_score", "row", "id", "path", "frames"}


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["search", "{tmp}/none", "hello"], "{tmp}/none: no such index"),
        (["search", "{tmp}", "hello"], "{tmp}: not a sign index"),
        (["search", "{idx}"], "give either a sentence or --like"),
        (["search", "{idx}", "--like", "{tmp}/gone.pose"], "{tmp}/gone.pose: no such file"),
        (["search", "{idx}", "hi", "--run", "{tmp}"], "{tmp}: no fine-tuned model"),
        (["index", "build", "--run", "{run}", "{tmp}", "--out", "{tmp}/f.txt"], "{tmp}/f.txt: exists and is"),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_code_2(argv, expect, cli_index, retrieval_run, tmp_path,
                                                        capsys):
    (tmp_path / "f.txt").write_text("mine")
    fill = {"tmp": str(tmp_path), "idx": str(cli_index[0]), "run": str(retrieval_run)}
    assert main([a.format(**fill) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # (after any progress bar of the text encoder)
    assert err.startswith("error: ") and expect.format(**fill) in err and "\n" not in err
    assert "Traceback" not in err
    assert (tmp_path / "f.txt").read_text() == "mine"


def test_build_exit_code_1_when_files_were_skipped(retrieval_run, clip_dir, tmp_path, capsys):
    bad = tmp_path / "bad.pose"
    bad.write_bytes(b"junk")
    good = sorted(clip_dir[0].glob("*.pose"))[0]
    rc = main(["index", "build", "--run", str(retrieval_run), str(bad), str(good), "--out",
               str(tmp_path / "i"), "--no-progress", "--device", "cpu"])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 1
    (line,) = [ln for ln in captured.err.splitlines() if ln.startswith("skipped: ")]
    assert str(bad) in line
    assert "1 clips added" in captured.out and "1 skipped" in captured.out


def test_an_interrupted_build_says_how_to_continue(retrieval_run, clip_dir, tmp_path, capsys, monkeypatch):
    import mslu.search.build as build_mod

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_mod, "embed_clips", interrupted)
    out = tmp_path / "idx"
    rc = main(["index", "build", "--run", str(retrieval_run), str(clip_dir[0]), "--out", str(out),
               "--no-progress", "--device", "cpu"])  # fmt: skip
    assert rc == 130
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"mslu: interrupted; {out} holds 0 clips: run the same command to continue"
