"""Between log steps the pre-training loop never reads a device value on the host (no ``.item()``,
``float(tensor)``, ``bool(tensor)``, ``.tolist()``, ``.cpu()``) from mslu's training and model code: on a
GPU each of those stalls the pipeline. A read that only the CPU path makes carries the comment
``# host read: CPU only`` on its line."""

from __future__ import annotations

import linecache
import sys
from pathlib import Path

import torch

import mslu

WATCHED = [Path(mslu.__file__).parent / d for d in ("training", "models")]
READS = ("item", "__float__", "__int__", "__bool__", "tolist", "cpu", "numpy")


def test_no_host_reads_between_log_steps(tmp_path, toy_corpus, tiny_trainer, monkeypatch):
    trainer = tiny_trainer(tmp_path, toy_corpus.root, **{"optim.max_steps": 4, "run.log_every": 4,
                                                         "optim.accumulation": 2})
    reads: list[str] = []
    logging = {"on": False}
    log = trainer._log

    def marked_log(*a, **k):
        logging["on"] = True
        try:
            return log(*a, **k)
        finally:
            logging["on"] = False

    trainer._log = marked_log

    def spy(name):
        original = getattr(torch.Tensor, name)

        def read(self, *a, **k):
            caller = sys._getframe(1).f_code.co_filename
            if not logging["on"] and trainer.step < 4 and any(caller.startswith(str(w)) for w in WATCHED):
                frame = sys._getframe(1)
                if "# host read: CPU only" in linecache.getline(caller, frame.f_lineno):
                    return original(self, *a, **k)
                reads.append(f"{name} at {Path(caller).name}:{frame.f_lineno} (step {trainer.step + 1})")
            return original(self, *a, **k)

        return read

    for name in READS:
        monkeypatch.setattr(torch.Tensor, name, spy(name))
    trainer.fit()
    assert trainer.step == 4
    assert not reads, "\n".join(sorted(set(reads)))
