"""The frozen text-encoder feature cache: dedup, padding, disk shards, refusal of another encoder's cache."""

from __future__ import annotations

import pytest
import torch
from toy import WordTextEncoder

from mslu.training.text_cache import TextFeatureCache, text_key


class CountingEncoder(WordTextEncoder):
    def __init__(self):
        super().__init__()
        self.calls: list[list[str]] = []

    def encode(self, texts, langs):
        self.calls.append(list(texts))
        return super().encode(texts, langs)


PAIRS = [("hello world", "en"), ("good morning", "en"), ("hello world", "en"), ("hallo welt", "de"),
         ("", "en")]


def test_precompute_encodes_each_unique_sentence_once():
    enc = CountingEncoder()
    cache = TextFeatureCache(enc.encode)
    assert cache.precompute(PAIRS) == 3
    assert sorted(t for call in enc.calls for t in call) == ["good morning", "hallo welt", "hello world"]
    assert cache.precompute(PAIRS) == 0 and len(enc.calls) == 1
    assert ("hello world", "en") in cache and ("hello world", "de") not in cache
    assert text_key("a", "en") != text_key("a", "de")


def test_lookup_pads_and_matches_the_encoder():
    enc = WordTextEncoder()
    cache = TextFeatureCache(enc.encode)
    cache.precompute(PAIRS)
    feats, mask = cache.lookup(["good morning", "hallo welt", ""], ["en", "de", "en"])
    assert feats.shape == (3, 3, enc.hidden_size) and mask.tolist() == [[1, 1, 1], [1, 1, 1], [1, 0, 0]]
    ref, ref_mask = enc.encode(["good morning"], ["en"])
    assert torch.equal(feats[0, :3], ref[0, ref_mask[0]])
    assert torch.equal(feats[2, 0], torch.zeros(enc.hidden_size))  # unpaired: one zero feature, not masked
    with pytest.raises(KeyError, match="not in the text-feature cache.*'unseen'"):
        cache.lookup(["unseen"], ["en"])
    with pytest.raises(RuntimeError, match="empty"):
        TextFeatureCache(None).lookup(["x"], ["en"])


def test_disk_cache_is_reused_and_appended(tmp_path):
    enc = CountingEncoder()
    first = TextFeatureCache(enc.encode, tmp_path, dtype=torch.bfloat16, encoder_id="word-v1")
    first.precompute(PAIRS[:2])
    again = TextFeatureCache(None, tmp_path, dtype=torch.bfloat16, encoder_id="word-v1")  # no encoder needed
    assert len(again) == 2
    a, _ = first.lookup(["hello world"], ["en"])
    b, _ = again.lookup(["hello world"], ["en"])
    assert torch.equal(a, b) and a.dtype == torch.float32
    with pytest.raises(RuntimeError, match="1 sentences missing"):
        again.precompute([("new one", "en")])
    TextFeatureCache(enc.encode, tmp_path, encoder_id="word-v1").precompute([("new one", "en")])
    shards = sorted(p.name for p in tmp_path.iterdir())
    assert shards == ["encoder.json", "text-features-00000.safetensors", "text-features-00001.safetensors"]
    assert len(TextFeatureCache(None, tmp_path)) == 3


def test_cache_of_another_encoder_is_refused(tmp_path):
    TextFeatureCache(WordTextEncoder().encode, tmp_path, encoder_id="mbart max_length=128").precompute(PAIRS)
    with pytest.raises(ValueError, match="another text encoder.*text_cache_dir"):
        TextFeatureCache(None, tmp_path, encoder_id="minilm max_length=128")


def test_unreadable_shard_names_the_file(tmp_path):
    (tmp_path / "text-features-00000.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(RuntimeError, match="text-features-00000.safetensors is unreadable"):
        TextFeatureCache(None, tmp_path)
