"""Task-head options used by the synthetic configs: CSLR ``head.pools``, GF-SLT ``head.dev_beam_size``."""

from __future__ import annotations

import pytest
import torch

from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.tasks import CSLRModel
from mslu.tasks.cslr import tcn_output_lengths
from mslu.tasks.slt import SLTTask


def test_cslr_pools_output_lengths():
    lengths = torch.tensor([40, 31, 22])
    # pools=1: 40 -> 36 -> 18 -> 14; 31 -> 27 -> 13 -> 9; 22 -> 18 -> 9 -> 5
    assert tcn_output_lengths(lengths, pools=1).tolist() == [14, 9, 5]
    # pools=0: two valid convolutions only
    assert tcn_output_lengths(lengths, pools=0).tolist() == [32, 23, 14]
    assert tcn_output_lengths(lengths, pools=2).tolist() == tcn_output_lengths(lengths).tolist() == [7, 4, 2]


@pytest.mark.parametrize("pools,frames", [(0, 32), (1, 14), (2, 7)])
def test_cslr_model_pools_matches_lengths(pools, frames):
    torch.manual_seed(0)
    enc = SignPoseEncoder(PretrainConfig.preset("tiny").encoder).eval()
    model = CSLRModel(enc, vocab_size=4, tcn_hidden=8, lstm_hidden=8, pools=pools).eval()
    mask = torch.arange(40)[None] < torch.tensor([40, 22])[:, None]
    lp, lens = model(torch.rand(2, 40, 79, 3) * mask[..., None, None], mask)
    assert lp.shape[1] == frames and lens[0].item() == frames
    assert lens[1].item() == tcn_output_lengths(torch.tensor([22]), pools=pools).item()
    with pytest.raises(ValueError, match="pools"):
        CSLRModel(enc, vocab_size=4, tcn_hidden=8, lstm_hidden=8, pools=3)


def test_slt_dev_beam_size_only_for_dev(monkeypatch):
    task = SLTTask({"model": {"head": {"beam_size": 4, "dev_beam_size": 1}}, "data": {"language": "en"}})
    from mslu.tasks.tokenizer import TextTokenizer

    task.tokenizer = TextTokenizer.train(["a b c"], "word")
    used = []

    def fake_generate(model, pose, frame_mask, beam_size=None):
        used.append(beam_size)
        return ["a b c"] * pose.shape[0]

    monkeypatch.setattr(task, "generate", fake_generate)
    batch = {"pose": torch.zeros(2, 3, 79, 3), "frame_mask": torch.ones(2, 3), "ids": ["x", "y"],
             "refs": ["a b c", "a b c"]}  # fmt: skip
    model = torch.nn.Linear(1, 1)
    for split in ("dev", "test"):
        metrics, preds = task.evaluate(model, [batch], torch.device("cpu"), split)
        assert [p["hyp"] for p in preds] == ["a b c", "a b c"]
    assert used == [1, None]  # None: generate falls back to head.beam_size


def test_pretokenize_splits_references_like_decoded_hypotheses():
    from mslu.tasks.tokenizer import TextTokenizer

    word = TextTokenizer.train(["Der Junge ist müde.", "Das Pferd wäscht den Tisch."], "word")
    assert word.pretokenize("Der Junge ist müde.") == "Der Junge ist müde ."
    assert word.decode(word.encode("Das Pferd wäscht den Tisch.")) == word.pretokenize(
        "Das Pferd wäscht den Tisch."
    )
    # words outside the vocabulary stay as they are (no <unk> in references)
    assert word.pretokenize("Ein Hund, heute!") == "Ein Hund , heute !"
    char = TextTokenizer.train(["今天 爸爸卖电脑。"], "char")
    assert (
        char.pretokenize("今天 爸爸卖电脑。")
        == "今天爸爸卖电脑。"
        == char.decode(char.encode("今天爸爸卖电脑。"))
    )
