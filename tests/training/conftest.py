"""Fixtures for the training tests (see toy.py)."""

from __future__ import annotations

import pytest
from toy import make_tiny_trainer, write_toy_corpus


@pytest.fixture
def corpus_factory():
    """``corpus_factory(root, n, seed, classes, unpaired_every) -> Corpus``."""
    return write_toy_corpus


@pytest.fixture(scope="session")
def toy_corpus(tmp_path_factory):
    return write_toy_corpus(tmp_path_factory.mktemp("toy_corpus"), n=64)


@pytest.fixture
def tiny_trainer():
    """``tiny_trainer(out, corpus_root, **overrides) -> PretrainTrainer`` (see toy.make_tiny_trainer)."""
    return make_tiny_trainer
