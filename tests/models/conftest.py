"""Fixtures for the model tests: a tiny MBart text encoder with an in-process mBART-like tokenizer."""

from __future__ import annotations

import pytest
import torch

from mslu.data.languages import TEXT_LANGUAGES

WORDS = "hello world the sign language is good today weather rain sun a an i you we guten tag".split()


def tiny_mbart_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = ["<s>", "<pad>", "</s>", "<unk>", *WORDS, *TEXT_LANGUAGES.values()]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


@pytest.fixture(scope="session")
def tiny_text_encoder():
    from transformers import MBartConfig, MBartModel

    from mslu.models.text_encoder import TextEncoder

    tok = tiny_mbart_tokenizer()
    torch.manual_seed(0)
    cfg = MBartConfig(
        vocab_size=len(tok),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        dropout=0.1,
    )
    return TextEncoder(model=MBartModel(cfg), tokenizer=tok, max_length=16)
