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


def test_short_clip_for_cslr_is_a_clear_error():
    import numpy as np
    import torch

    from mslu.models import PretrainConfig, SignPoseEncoder
    from mslu.tasks.cslr import CSLRModel, CSLRTask

    enc = SignPoseEncoder(PretrainConfig.preset("tiny").encoder)
    model = CSLRModel(enc, vocab_size=3, tcn_hidden=8, lstm_hidden=8)
    assert model.min_frames == 16  # K5-P2-K5-P2 without padding: (16-4)//2=6, (6-4)//2=1
    task = CSLRTask({"task": "cslr", "model": {"head": {}}, "data": {}})
    with pytest.raises(ValueError, match="clip has 5 frames; this CSLR model needs 16 or more"):
        task.predict(model, np.zeros((5, 79, 3), np.float32), torch.device("cpu"))
