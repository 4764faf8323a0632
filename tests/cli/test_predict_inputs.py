"""``mslu predict`` sends every video container the extractor knows to the extractor, not the pose reader."""

from __future__ import annotations

import pytest

import mslu.extract.pipeline as pipeline
from mslu.cli.predict import load_input
from mslu.extract.video import VIDEO_EXTENSIONS


class Extracted(Exception):
    pass


@pytest.mark.parametrize("suffix", [".m4v", ".MPG", ".wmv", ".mp4"])
def test_videos_go_to_the_extractor(tmp_path, monkeypatch, suffix):
    assert suffix.lower() in VIDEO_EXTENSIONS

    def fake_extract(path, estimator):
        raise Extracted(path)

    monkeypatch.setattr(pipeline, "extract_video", fake_extract)
    monkeypatch.setattr(pipeline, "make_estimator", lambda cfg: None)
    clip = tmp_path / f"clip{suffix}"
    clip.write_bytes(b"\x00")
    with pytest.raises(Extracted):
        load_input(str(clip))
