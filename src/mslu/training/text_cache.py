"""Cache of frozen text-encoder features per unique sentence.

psi_TE is frozen (Sec. III-B), so its output for a (sentence, language) pair never changes during
pre-training: it is computed once, stored (in memory, optionally on disk as safetensors shards keyed by a
SHA-1 of language + sentence) and fed to the model as ``text_features`` / ``text_mask``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

EncodeFn = Callable[[list[str], list[str]], tuple[torch.Tensor, torch.Tensor]]


def text_key(text: str, lang: str) -> str:
    """Stable key of one (sentence, language) pair."""
    return hashlib.sha1(f"{lang}\x00{text}".encode()).hexdigest()


class TextFeatureCache:
    """Per-sentence features ``(m_i, d)`` (padding removed), stored in ``dtype``.

    Args:
        encode: ``TextEncoder.encode``-like callable ``(texts, langs) -> (features (B, m, d), mask (B, m))``.
        cache_dir: directory of ``text-features-XXXXX.safetensors`` shards (None: memory only).
        dtype: storage dtype (bfloat16 halves memory; features are cast back to float32 on lookup).
        encoder_id: what produced the features (text model and its settings), recorded in
            ``<cache_dir>/encoder.json``; a directory filled by another encoder is refused.
    """

    def __init__(self, encode: EncodeFn | None, cache_dir: str | Path | None = None,
                 dtype: torch.dtype = torch.float32, encoder_id: str | None = None):
        self.encode = encode
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.dtype = dtype
        self.encoder_id = encoder_id
        self.features: dict[str, torch.Tensor] = {}
        self.dim: int | None = None
        if self.cache_dir is not None and self.cache_dir.is_dir():
            self._check_encoder()
            self._load_disk()

    def _check_encoder(self) -> None:
        record = self.cache_dir / "encoder.json"
        if self.encoder_id is None or not record.is_file():
            return
        cached = json.loads(record.read_text()).get("encoder_id")
        if cached != self.encoder_id:
            raise ValueError(f"text-feature cache {self.cache_dir} holds features of another text encoder "
                             f"({cached}, not {self.encoder_id}); use another data.text_cache_dir")

    def _load_disk(self) -> None:
        for shard in sorted(self.cache_dir.glob("text-features-*.safetensors")):
            try:
                self.features.update(load_file(str(shard)))
            except Exception as e:
                raise RuntimeError(f"text-feature cache shard {shard} is unreadable: {e}") from e
        if self.features:
            self.dim = next(iter(self.features.values())).shape[-1]

    def __len__(self) -> int:
        return len(self.features)

    def __contains__(self, pair: tuple[str, str]) -> bool:
        return text_key(*pair) in self.features

    @torch.no_grad()
    def precompute(self, pairs: Iterable[tuple[str, str]], batch_size: int = 64) -> int:
        """Encode every pair not cached yet (deduplicated); returns how many were computed."""
        todo: dict[str, tuple[str, str]] = {}
        for text, lang in pairs:
            if text and (k := text_key(text, lang)) not in self.features:
                todo.setdefault(k, (text, lang))
        if not todo:
            return 0
        if self.encode is None:
            raise RuntimeError(f"{len(todo)} sentences missing from the text-feature cache, no encoder")
        items = sorted(todo.items(), key=lambda kv: len(kv[1][0]))  # similar lengths per batch
        new: dict[str, torch.Tensor] = {}
        for i in range(0, len(items), batch_size):
            chunk = items[i : i + batch_size]
            feats, mask = self.encode([p[0] for _, p in chunk], [p[1] for _, p in chunk])
            feats, mask = feats.detach().float().cpu(), mask.detach().bool().cpu()
            for j, (k, _) in enumerate(chunk):
                new[k] = feats[j, mask[j]].to(self.dtype).contiguous()
        self.features.update(new)
        self.dim = next(iter(new.values())).shape[-1]
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            if self.encoder_id is not None and not (self.cache_dir / "encoder.json").is_file():
                (self.cache_dir / "encoder.json").write_text(json.dumps({"encoder_id": self.encoder_id}))
            n = len(list(self.cache_dir.glob("text-features-*.safetensors")))
            path = self.cache_dir / f"text-features-{n:05d}.safetensors"
            tmp = path.with_name(path.name + ".tmp")
            save_file(new, str(tmp))
            tmp.replace(path)
        return len(new)

    def lookup(self, texts: Sequence[str], langs: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ``features (B, m_max, d)`` float32 and ``mask (B, m_max)`` bool for a batch.

        Empty texts (unpaired samples) get one zero feature with mask True, so no row is fully masked.
        """
        if self.dim is None:
            raise RuntimeError("text-feature cache is empty; call precompute() first")
        rows = []
        for text, lang in zip(texts, langs):
            if not text:
                rows.append(torch.zeros(1, self.dim, dtype=self.dtype))
                continue
            try:
                rows.append(self.features[text_key(text, lang)])
            except KeyError:
                raise KeyError(f"sentence not in the text-feature cache ({lang}): {text[:60]!r}") from None
        m = max(r.shape[0] for r in rows)
        feats = torch.zeros(len(rows), m, self.dim, dtype=torch.float32)
        mask = torch.zeros(len(rows), m, dtype=torch.bool)
        for i, r in enumerate(rows):
            feats[i, : r.shape[0]] = r.float()
            mask[i, : r.shape[0]] = True
        return feats, mask
