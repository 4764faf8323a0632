"""run.precision: "auto" picks bf16 only where the device computes it natively, and the trainer runs what
was resolved (an explicit bf16 on a CPU without bf16 instructions runs, with a warning)."""

from __future__ import annotations

import logging

import pytest
import torch

from mslu.training import precision


@pytest.fixture
def native(monkeypatch):
    def set_native(value: bool) -> None:
        monkeypatch.setattr(precision, "native_bf16", lambda device: value)
    return set_native


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_follows_the_hardware(native, has_bf16, expected):
    native(has_bf16)
    assert precision.resolve_precision("auto", torch.device("cpu")) == expected


def test_explicit_values_are_kept_and_emulated_bf16_warns(native, caplog):
    native(False)
    with caplog.at_level(logging.WARNING, logger="mslu.training.precision"):
        assert precision.resolve_precision("bf16", torch.device("cpu")) == "bf16"
    assert "no native bf16" in caplog.text
    caplog.clear()
    native(True)
    with caplog.at_level(logging.WARNING, logger="mslu.training.precision"):
        assert precision.resolve_precision("bf16", torch.device("cpu")) == "bf16"
        assert precision.resolve_precision("fp32", torch.device("cpu")) == "fp32"
    assert not caplog.text
    with pytest.raises(ValueError, match="run.precision"):
        precision.resolve_precision("fp16", torch.device("cpu"))


def test_cpu_detection_matches_onednn():
    assert precision.native_bf16(torch.device("cpu")) == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _linear_output_dtype(trainer) -> torch.dtype:
    seen = []
    handles = [m.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
               for m in trainer.model.encoder.modules() if isinstance(m, torch.nn.Linear)]
    try:
        batch = trainer.collate([trainer.dataset[i] for i in range(4)])
        trainer.train_step([batch])
    finally:
        for h in handles:
            h.remove()
    assert seen
    return seen[0]


@pytest.mark.parametrize("has_bf16, dtype", [(True, torch.bfloat16), (False, torch.float32)])
def test_pretrainer_trains_in_the_resolved_precision(tmp_path, toy_corpus, tiny_trainer, native, has_bf16,
                                                     dtype):
    native(has_bf16)
    t = tiny_trainer(tmp_path, toy_corpus.root, **{"run.precision": "auto", "data.batch_size": 4})
    assert t.precision == ("bf16" if has_bf16 else "fp32")
    assert _linear_output_dtype(t) == dtype
