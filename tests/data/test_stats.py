"""Corpus statistics (Table I / II, Fig. 3) on a small hand-made corpus with hand-computed figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.schema import Sample
from mslu.data.stats import compute_stats, render_stats_markdown, write_stats


def _s(sid, sign_language, source, signer, frames, fps, text, paired=True, split="train"):
    text_language = {"ase": "en", "gsg": "de"}[sign_language] if text else None
    return Sample(
        id=sid,
        pose=np.full((frames, 79, 3), 0.5, np.float32),
        source=source,
        sign_language=sign_language,
        text=text,
        text_language=text_language,
        split=split,
        signer=signer,
        fps=fps,
        paired=paired,
    )


@pytest.fixture
def corpus(tmp_path):
    samples = [
        _s("a", "ase", "wlasl", "1", 50, 25.0, "This word is apple."),  # 2 s
        _s("b", "ase", "wlasl", "2", 100, 25.0, "This word is apple."),  # 4 s
        _s("c", "ase", "how2sign", "1", 30, 30.0, "hello there", split="dev"),  # 1 s
        _s("d", "gsg", "phoenix2014", "1", 75, 25.0, None, paired=False, split="pretrain"),  # 3 s
        _s("e", "gsg", "phoenix2014t", "", 250, 25.0, "guten tag"),  # 10 s, unknown signer
    ]
    write_corpus(tmp_path / "c", samples, shard_size=2)
    return Corpus(tmp_path / "c")


def test_table_one_and_two_exact(corpus):
    st = compute_stats(corpus)
    assert st.total == 5 and st.paired == 4 and st.unpaired == 1
    assert st.signers == 4  # (wlasl,1) (wlasl,2) (how2sign,1) (phoenix2014,1); empty signer not counted
    assert st.hours == pytest.approx(20 / 3600)
    assert st.frames == 505
    by = {s.sign_language: s for s in st.per_sign_language}
    assert set(by) == {"ase", "gsg"}
    assert (by["ase"].name, by["ase"].samples, by["ase"].sentences) == ("ASL", 3, 2)
    assert by["ase"].sources == ["how2sign", "wlasl"] and by["ase"].hours == pytest.approx(7 / 3600)
    assert (by["gsg"].name, by["gsg"].samples, by["gsg"].paired, by["gsg"].sentences) == ("GSL", 2, 1, 1)
    assert by["gsg"].sources == ["phoenix2014", "phoenix2014t"]
    assert st.per_split == {"train": 3, "dev": 1, "pretrain": 1}


def test_duration_histogram_exact(corpus):
    st = compute_stats(corpus, bin_width=25)
    assert st.histogram_edges == list(range(0, 300, 25))  # last bin [250, 275) holds the 250-frame sample
    expected = [0] * 11
    for frames in (50, 100, 30, 75, 250):
        expected[frames // 25] += 1
    assert st.histogram_counts == expected
    assert (st.length_min, st.length_max, st.length_median, st.length_mean) == (30, 250, 75.0, 101.0)


def test_stats_of_a_view(corpus):
    st = compute_stats(corpus.filter(sign_language="gsg"))
    assert (st.total, st.paired, st.unpaired, st.signers) == (2, 1, 1, 1)
    assert st.hours == pytest.approx(13 / 3600)


def test_render_and_write(corpus, tmp_path):
    st = compute_stats(corpus)
    md = render_stats_markdown(st, "toy")
    for line in (
        "| signers | 4 |",
        "| paired samples | 4 |",
        "| unpaired samples | 1 |",
        "| total samples | 5 |",
    ):
        assert line in md
    assert "| #samples | 3 | 2 |" in md and "| #sentences | 2 | 1 |" in md
    assert "| 250-274 | 1 |" in md
    out = tmp_path / "out"
    write_stats(corpus, out, title="toy")
    assert (out / "durations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "stats.json").read_text())
    assert data["total"] == 5 and data["signers"] == 4
    assert (out / "stats.md").read_text() == md
