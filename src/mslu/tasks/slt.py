"""GF-SLT (paper Sec. IV-B): psi_SE + MLP projector + randomly initialised 3-block transformer decoder.

Teacher forcing with cross-entropy (optional label smoothing); inference with our batched beam search
(4 beams, length penalty, max length; :mod:`mslu.decoding.beam_search`); ``head.dev_beam_size`` may use
fewer beams (1 = greedy) for the per-epoch dev evaluation. The tokenizer is trained on the
training sentences (word level for German / English, character level for Chinese) or any local HF tokenizer
(``model.head.tokenizer``), and saved with the model. Metrics: BLEU-1..4 and ROUGE-L
(:func:`mslu.evaluation.translation_metrics`, references split like the decoded hypotheses,
:meth:`TextTokenizer.pretokenize`); main metric ``bleu4``.
Table III gives lr 1e-4, the text 1e-3: the config default follows Table III.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mslu.decoding.beam_search import beam_search
from mslu.evaluation import translation_metrics
from mslu.tasks.base import Task, TaskModel, to_device
from mslu.tasks.tokenizer import TextTokenizer


class SLTModel(TaskModel):
    """``forward(pose, frame_mask, tokens (B, L)) -> logits (B, L, V)`` (teacher forcing)."""

    def __init__(
        self,
        encoder: nn.Module,
        vocab_size: int,
        d_model: int = 512,
        heads: int = 8,
        ffn_dim: int = 2048,
        num_blocks: int = 3,
        dropout: float = 0.1,
        max_len: int = 128,
        tie_embeddings: bool = True,
        pad_id: int = 0,
    ):
        super().__init__()
        self.encoder = encoder
        self.projector = nn.Sequential(
            nn.Linear(encoder.output_dim, d_model), nn.GELU(), nn.Linear(d_model, d_model)
        )
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        # std d_model^-0.5 (not N(0, 1)): with tied output weights, unit-variance rows give logits of
        # size ~sqrt(d_model) and a first epoch spent shrinking them
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)
        with torch.no_grad():
            self.embed.weight[pad_id].zero_()
        self.pos = nn.Parameter(torch.zeros(1, max_len + 1, d_model))
        nn.init.trunc_normal_(self.pos, std=0.02)
        layer = nn.TransformerDecoderLayer(
            d_model, heads, ffn_dim, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, num_blocks, norm=nn.LayerNorm(d_model))
        self.output = nn.Linear(d_model, vocab_size, bias=False)
        if tie_embeddings:
            self.output.weight = self.embed.weight
        self.max_len = max_len

    def memory(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(pose, frame_mask))

    def decode_step(
        self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> torch.Tensor:
        t = tokens.shape[1]
        if t > self.pos.shape[1]:
            raise ValueError(f"target of {t} tokens exceeds max_len={self.max_len}")
        x = self.embed(tokens) + self.pos[:, :t]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=tokens.device), 1)
        y = self.decoder(x, memory, tgt_mask=causal, memory_key_padding_mask=~memory_mask.bool())
        return self.output(y)

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.decode_step(tokens, self.memory(pose, frame_mask), frame_mask)


class SLTTask(Task):
    name = "slt"
    main_metric = "bleu4"
    higher_is_better = True
    defaults = {
        "model": {
            "head": {
                "d_model": 512,
                "heads": 8,
                "ffn_dim": 2048,
                "num_blocks": 3,
                "dropout": 0.1,
                "max_len": 128,
                "decode_max_len": 64,
                "tie_embeddings": True,
                "label_smoothing": 0.1,
                "beam_size": 4,
                "dev_beam_size": None,  # e.g. 1: greedy decoding for model selection (faster), beams for test
                "length_penalty": 1.0,
                "tokenizer": None,
                "tokenizer_kind": "auto",
                "lowercase": False,
            }
        },
        "data": {"batch_size": 32, "language": None},
        "optim": {"lr": 1.0e-4, "weight_decay": 1.0e-4, "schedule": "cosine", "warmup": 0.1, "epochs": 60},
    }

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(cfg)
        self.tokenizer: TextTokenizer | None = None
        self.language: str | None = self.data_cfg.get("language")

    def fit_assets(self, train) -> None:
        h = self.head_cfg
        if not self.language:
            langs = [x for x in train.text_languages if x]
            self.language = max(set(langs), key=langs.count) if langs else None
        if h.get("tokenizer"):
            self.tokenizer = TextTokenizer.from_pretrained(h["tokenizer"])
        else:
            texts = [t for t in train.texts if t]
            if not texts:
                raise ValueError("GF-SLT: the training split has no sentences")
            self.tokenizer = TextTokenizer.train(
                texts, h.get("tokenizer_kind", "auto"), bool(h.get("lowercase")), language=self.language
            )

    def save_assets(self, directory: Path) -> None:
        self.tokenizer.save(directory)
        (directory / "language.txt").write_text(self.language or "")

    def load_assets(self, directory: Path) -> None:
        self.tokenizer = TextTokenizer.load(directory)
        lang = directory / "language.txt"
        self.language = (lang.read_text().strip() or None) if lang.is_file() else self.language

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().collate(items)
        batch["refs"] = [it["text"] or "" for it in items]
        tok, max_len = self.tokenizer, int(self.head_cfg.get("max_len", 128))
        seqs = [tok.encode(t)[: max_len - 1] for t in batch["refs"]]
        n = max(len(s) for s in seqs) + 1
        inp = torch.full((len(seqs), n), tok.pad_id, dtype=torch.long)
        tgt = torch.full((len(seqs), n), -100, dtype=torch.long)
        for i, s in enumerate(seqs):
            inp[i, : len(s) + 1] = torch.tensor([tok.bos_id, *s])
            tgt[i, : len(s) + 1] = torch.tensor([*s, tok.eos_id])
        batch["tokens_in"], batch["tokens_out"] = inp, tgt
        return batch

    def build_model(self, encoder: nn.Module) -> SLTModel:
        h = self.head_cfg
        return SLTModel(
            encoder,
            self.tokenizer.vocab_size,
            int(h.get("d_model", 512)),
            int(h.get("heads", 8)),
            int(h.get("ffn_dim", 2048)),
            int(h.get("num_blocks", 3)),
            float(h.get("dropout", 0.1)),
            int(h.get("max_len", 128)),
            bool(h.get("tie_embeddings", True)),
            self.tokenizer.pad_id,
        )

    def loss(self, model: SLTModel, batch: dict[str, Any]) -> torch.Tensor:
        logits = model(batch["pose"], batch["frame_mask"], batch["tokens_in"])
        return F.cross_entropy(
            logits.float().flatten(0, 1),
            batch["tokens_out"].flatten(),
            ignore_index=-100,
            label_smoothing=float(self.head_cfg.get("label_smoothing", 0.0)),
        )

    def generate(
        self, model: SLTModel, pose: torch.Tensor, frame_mask: torch.Tensor, beam_size: int | None = None
    ) -> list[str]:
        """Beam-search translations of a batch (``beam_size`` 1: greedy)."""
        h, tok = self.head_cfg, self.tokenizer
        beam_size = int(h.get("beam_size", 4)) if beam_size is None else int(beam_size)
        memory = model.memory(pose, frame_mask)

        def step(tokens: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
            return model.decode_step(tokens, memory[rows], frame_mask[rows])[:, -1].float().log_softmax(-1)

        out = beam_search(
            step,
            pose.shape[0],
            tok.bos_id,
            tok.eos_id,
            beam_size,
            int(h.get("decode_max_len", 64)),
            float(h.get("length_penalty", 1.0)),
            pose.device,
        )
        return [tok.decode(ids) for ids in out]

    @torch.no_grad()
    def evaluate(self, model, loader, device, split="test"):
        model.eval()
        preds = []
        beam = self.head_cfg.get("dev_beam_size") if split == "dev" else None
        for batch in loader:
            batch = to_device(batch, device)
            hyps = self.generate(model, batch["pose"], batch["frame_mask"], beam)
            preds.extend({"id": s, "ref": r, "hyp": h} for s, r, h in zip(batch["ids"], batch["refs"], hyps))
        refs = [self.tokenizer.pretokenize(p["ref"]) for p in preds]  # split like the decoded hypotheses
        metrics = translation_metrics([p["hyp"] for p in preds], refs, self.language)
        return dict(metrics), preds

    @torch.no_grad()
    def predict(self, model, pose: np.ndarray, device) -> dict[str, Any]:
        model.eval()
        b = self.single_batch(pose, device)
        return {"translation": self.generate(model, b["pose"], b["frame_mask"])[0]}
