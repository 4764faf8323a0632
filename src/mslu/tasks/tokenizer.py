"""Text tokenizer for GF-SLT: trained in-process with ``tokenizers`` or any local HF tokenizer.

``kind="word"`` (German / English): word-level vocabulary over whitespace + punctuation splits;
``kind="char"`` (Chinese): one token per character (whitespace dropped); ``kind="auto"`` picks ``char`` for
Chinese text languages (``zh*``) and ``word`` otherwise. ``name_or_path`` loads a local Hugging Face tokenizer
instead (``local_files_only``: nothing is downloaded). Special tokens: ``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2,
``<unk>`` 3 for trained tokenizers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
FILE = "tokenizer.json"
META = "tokenizer_meta.json"


def split_words(text: str, lowercase: bool = False) -> str:
    """``text`` NFKC-normalised (and lower-cased) with words and punctuation split by spaces (``"es."`` ->
    ``"es ."``): the split the trained word-level tokenizer gives references, applied to both sides when a
    head's own tokenizer detokenizes (pre-trained LMs), so that BLEU / ROUGE count tokens alike for every
    head."""
    from tokenizers import normalizers, pre_tokenizers

    norm = normalizers.Sequence([normalizers.NFKC()] + ([normalizers.Lowercase()] if lowercase else []))
    return " ".join(t for t, _ in pre_tokenizers.Whitespace().pre_tokenize_str(norm.normalize_str(text)))


class TextTokenizer:
    """``encode(text) -> ids`` (no specials), ``decode(ids) -> text``; ``pad_id``, ``bos_id``, ``eos_id``,
    ``vocab_size``; ``save(dir)`` / ``TextTokenizer.load(dir)``."""

    def __init__(self, backend, kind: str, lowercase: bool = False, hf: bool = False):
        self.backend, self.kind, self.lowercase, self.hf = backend, kind, lowercase, hf
        if hf:
            tok = backend
            self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
            self.bos_id = tok.bos_token_id if tok.bos_token_id is not None else tok.cls_token_id
            self.eos_id = tok.eos_token_id if tok.eos_token_id is not None else tok.sep_token_id
            self.vocab_size = len(tok)
        else:
            self.pad_id, self.bos_id, self.eos_id = (backend.token_to_id(t) for t in SPECIALS[:3])
            self.vocab_size = backend.get_vocab_size()

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        kind: str = "word",
        lowercase: bool = False,
        min_frequency: int = 1,
        language: str | None = None,
    ) -> TextTokenizer:
        """Train a word- or character-level vocabulary on ``texts``."""
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        if kind == "auto":
            kind = "char" if (language or "").lower().startswith("zh") else "word"
        if kind not in ("word", "char"):
            raise ValueError(f"tokenizer kind must be word, char or auto, got {kind!r}")
        tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
        norms = [normalizers.NFKC()] + ([normalizers.Lowercase()] if lowercase else [])
        tok.normalizer = normalizers.Sequence(norms)
        if kind == "word":
            tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("", behavior="isolated")]
            )
        trainer = trainers.WordLevelTrainer(special_tokens=SPECIALS, min_frequency=min_frequency)
        tok.train_from_iterator([t for t in texts if t], trainer=trainer)
        return cls(tok, kind, lowercase)

    @classmethod
    def from_pretrained(cls, name_or_path: str) -> TextTokenizer:
        from transformers import AutoTokenizer

        return cls(AutoTokenizer.from_pretrained(name_or_path, local_files_only=True), "hf", hf=True)

    def encode(self, text: str) -> list[int]:
        if self.hf:
            return list(self.backend(text, add_special_tokens=False)["input_ids"])
        return self.backend.encode(text).ids

    def pretokenize(self, text: str) -> str:
        """``text`` split the way :meth:`decode` writes its output (word level: tokens joined by spaces,
        e.g. ``"ist."`` -> ``"ist ."``), without mapping words to the vocabulary: the form references need
        for whitespace-tokenised BLEU / ROUGE against decoded hypotheses. HF tokenizers: unchanged."""
        if self.hf:
            return text
        b = self.backend
        norm = b.normalizer.normalize_str(text) if b.normalizer is not None else text
        pieces = [t for t, _ in b.pre_tokenizer.pre_tokenize_str(norm)] if b.pre_tokenizer else norm.split()
        return ("" if self.kind == "char" else " ").join(p for p in pieces if p.strip())

    def token_id(self, token: str) -> int | None:
        """Id of ``token`` in the vocabulary (None when absent)."""
        if self.hf:
            ids = self.backend.convert_tokens_to_ids([token])
            i = ids[0] if ids else None
            unk = self.backend.unk_token_id
            return None if i is None or (i == unk and token != self.backend.unk_token) else int(i)
        i = self.backend.token_to_id(token)
        return None if i is None else int(i)

    def decode(self, ids: Iterable[int]) -> str:
        special = {self.pad_id, self.bos_id, self.eos_id}
        ids = [int(i) for i in ids if int(i) not in special]
        if self.hf:
            return self.backend.decode(ids, skip_special_tokens=True)
        toks = [self.backend.id_to_token(i) or "<unk>" for i in ids]
        return ("" if self.kind == "char" else " ").join(toks)

    def save(self, directory: str | Path) -> None:
        d = Path(directory)
        if self.hf:
            self.backend.save_pretrained(str(d / "tokenizer"))
        else:
            self.backend.save(str(d / FILE))
        (d / META).write_text(json.dumps({"kind": self.kind, "lowercase": self.lowercase, "hf": self.hf}))

    @classmethod
    def load(cls, directory: str | Path) -> TextTokenizer:
        d = Path(directory)
        meta = json.loads((d / META).read_text())
        if meta["hf"]:
            return cls.from_pretrained(str(d / "tokenizer"))
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(d / FILE)), meta["kind"], meta["lowercase"])
