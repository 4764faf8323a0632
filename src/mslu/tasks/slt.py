"""GF-SLT (paper Sec. IV-B): psi_SE + MLP projector + randomly initialised 3-block transformer decoder.

Teacher forcing with cross-entropy (optional label smoothing); inference with our batched beam search
(4 beams, length penalty, max length; :mod:`mslu.decoding.beam_search`); ``head.dev_beam_size`` may use
fewer beams (1 = greedy) for the per-epoch dev evaluation. The tokenizer is trained on the
training sentences (word level for German / English, character level for Chinese) or any local HF tokenizer
(``model.head.tokenizer``), and saved with the model. Metrics: BLEU-1..4 and ROUGE-L
(:func:`mslu.evaluation.translation_metrics`, references split like the decoded hypotheses,
:meth:`TextTokenizer.pretokenize`); main metric ``bleu4``.
Table III gives lr 1e-4, the text 1e-3: the config default follows Table III.

``head.kind`` selects the decoder: ``transformer`` (the paper's, default) or a pre-trained Hugging Face LM,
``mbart`` / ``seq2seq`` (``head.lm``; :mod:`mslu.tasks.lm_decoder`, docs/translation.md). The
``d_model``, ``heads``, ``ffn_dim``, ``num_blocks``, ``dropout`` and ``tie_embeddings`` settings are the paper
decoder's; an LM brings its own (``head.lm_layers`` keeps its first layers), its own tokenizer
(``head.tokenizer`` overrides it) and the library's beam search; ``beam_size``, ``dev_beam_size``,
``length_penalty``, ``decode_max_len``, ``max_len`` (target truncation), ``label_smoothing`` and ``lowercase``
apply to both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mslu.decoding.beam_search import beam_search
from mslu.evaluation import translation_metrics
from mslu.tasks.base import Task, TaskModel, to_device
from mslu.tasks.lm_decoder import (
    DEFAULT_MBART,
    FREEZE_MODES,
    HEAD_KINDS,
    LM_DIR,
    LM_GROUPS,
    LM_KINDS,
    LMDecoderModel,
    language_code,
    lm_config,
    lm_from_config,
    load_lm,
)
from mslu.tasks.tokenizer import TextTokenizer, split_words

HEAD_FILE = "slt_head.json"  # decoder start token and LM name of a fine-tuned LM head


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
                # the decoder: transformer (the paper's 3 blocks) | mbart | seq2seq (pre-trained HF LM)
                "kind": "transformer",
                "lm": None,  # mbart / seq2seq: HF name (local cache) or directory; mbart: mbart-large-cc25
                "lm_encoder": True,  # run the LM's encoder over the projected poses (GFSLT-VLP, Uni-Sign)
                "lm_layers": None,  # keep the first N decoder (and encoder) layers of the LM (None: all)
                "freeze_lm": "none",  # none | embeddings | decoder (all but cross-attention) | all
                "lm_group": "head",  # optimiser group of the LM: head (lr) | encoder (lr x finetune_rate)
                "lang_code": None,  # decoder start token (mBART: from data.language, de -> de_DE)
            }
        },
        "data": {"batch_size": 32, "language": None},
        "optim": {"lr": 1.0e-4, "weight_decay": 1.0e-4, "schedule": "cosine", "warmup": 0.1, "epochs": 60},
    }

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(cfg)
        self.tokenizer: TextTokenizer | None = None
        self.language: str | None = self.data_cfg.get("language")
        h = self.head_cfg
        self.kind = str(h.get("kind") or "transformer")
        for key, value, allowed in (("kind", self.kind, HEAD_KINDS),
                                    ("freeze_lm", h.get("freeze_lm", "none"), FREEZE_MODES),
                                    ("lm_group", h.get("lm_group", "head"), LM_GROUPS)):
            if value not in allowed:
                raise ValueError(f"model.head.{key}: unknown value {value!r}; use {', '.join(allowed)}")
        self.lm_name: str | None = h.get("lm") or (DEFAULT_MBART if self.kind == "mbart" else None)
        if self.kind == "seq2seq" and not self.lm_name:
            raise ValueError("model.head.lm: kind seq2seq needs the LM (a HF name in the local cache or a "
                             "path)")
        self.start_id: int | None = None
        self.lm_config = None  # the LM's HF config, saved with the model
        self._lm_dir: Path | None = None  # a fine-tuned model's saved LM config (rebuild without weights)

    @property
    def uses_lm(self) -> bool:
        return self.kind in LM_KINDS

    def fit_assets(self, train) -> None:
        h = self.head_cfg
        if not self.language:
            langs = [x for x in train.text_languages if x]
            self.language = max(set(langs), key=langs.count) if langs else None
        if self.uses_lm:
            cfg = lm_config(self.lm_name)  # a missing LM fails here, before a model is built
            name = h.get("tokenizer") or self.lm_name
            try:
                self.tokenizer = TextTokenizer.from_pretrained(name)
            except (OSError, ValueError) as e:
                raise FileNotFoundError(f"model.head.tokenizer: no local tokenizer at {name!r}") from e
            self.start_id = self._start_id(cfg)
        elif h.get("tokenizer"):
            self.tokenizer = TextTokenizer.from_pretrained(h["tokenizer"])
        else:
            texts = [t for t in train.texts if t]
            if not texts:
                raise ValueError("GF-SLT: the training split has no sentences")
            self.tokenizer = TextTokenizer.train(
                texts, h.get("tokenizer_kind", "auto"), bool(h.get("lowercase")), language=self.language
            )

    def _start_id(self, cfg) -> int:
        """Decoder start token: the target-language code (mBART, or ``head.lang_code``), else the LM config's
        ``decoder_start_token_id``."""
        code = self.head_cfg.get("lang_code")
        if self.kind == "mbart":
            code = language_code(self.language, code)
        if code:
            i = self.tokenizer.token_id(code)
            if i is None:
                raise ValueError(f"model.head.lang_code: {code!r} is not a token of the tokenizer of "
                                 f"{self.head_cfg.get('tokenizer') or self.lm_name!r}")
            return i
        start = getattr(cfg, "decoder_start_token_id", None)
        return int(self.tokenizer.bos_id if start is None else start)

    def save_assets(self, directory: Path) -> None:
        self.tokenizer.save(directory)
        (directory / "language.txt").write_text(self.language or "")
        if self.uses_lm:
            self.lm_config.save_pretrained(str(directory / LM_DIR))
            head = {"kind": self.kind, "lm": self.lm_name, "start_id": self.start_id}
            (directory / HEAD_FILE).write_text(json.dumps(head))

    def load_assets(self, directory: Path) -> None:
        self.tokenizer = TextTokenizer.load(directory)
        lang = directory / "language.txt"
        self.language = (lang.read_text().strip() or None) if lang.is_file() else self.language
        if self.uses_lm:
            head = directory / HEAD_FILE
            if not head.is_file() or not (directory / LM_DIR).is_dir():
                raise FileNotFoundError(f"{directory}: an LM head needs {HEAD_FILE} and {LM_DIR}/ (the LM "
                                        "config)")
            self.start_id = int(json.loads(head.read_text())["start_id"])
            self._lm_dir = directory / LM_DIR

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().collate(items)
        batch["refs"] = [it["text"] or "" for it in items]
        tok, max_len = self.tokenizer, int(self.head_cfg.get("max_len", 128))
        lower = self.uses_lm and bool(self.head_cfg.get("lowercase"))  # trained tokenizers lower-case
        seqs = [tok.encode(t.lower() if lower else t)[: max_len - 1] for t in batch["refs"]]
        start = tok.bos_id if self.start_id is None else self.start_id
        n = max(len(s) for s in seqs) + 1
        inp = torch.full((len(seqs), n), tok.pad_id, dtype=torch.long)
        tgt = torch.full((len(seqs), n), -100, dtype=torch.long)
        for i, s in enumerate(seqs):
            inp[i, : len(s) + 1] = torch.tensor([start, *s])
            tgt[i, : len(s) + 1] = torch.tensor([*s, tok.eos_id])
        batch["tokens_in"], batch["tokens_out"] = inp, tgt
        return batch

    def build_model(self, encoder: nn.Module) -> SLTModel | LMDecoderModel:
        h = self.head_cfg
        if self.uses_lm:
            lm = lm_from_config(self._lm_dir) if self._lm_dir is not None else load_lm(self.lm_name)
            vocab = int(lm.get_input_embeddings().num_embeddings)
            if self.tokenizer.vocab_size > vocab:
                raise ValueError(f"model.head.tokenizer: {self.tokenizer.vocab_size} tokens, more than the "
                                 f"{vocab} embeddings of {self.lm_name!r}")
            self.lm_config = lm.config
            return LMDecoderModel(
                encoder, lm, self.start_id, self.tokenizer.eos_id, self.tokenizer.pad_id,
                use_lm_encoder=bool(h.get("lm_encoder", True)), num_layers=h.get("lm_layers"),
                freeze=str(h.get("freeze_lm", "none")), lm_group=str(h.get("lm_group", "head")),
            )
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
        if isinstance(model, LMDecoderModel):
            ids = model.generate_ids(pose, frame_mask, beam_size, int(h.get("decode_max_len", 64)),
                                     float(h.get("length_penalty", 1.0)))
            return [tok.decode(i) for i in ids]
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
        if self.uses_lm:  # the LM detokenizes: both sides split alike (as the paper head's references)
            lower = bool(self.head_cfg.get("lowercase"))
            refs = [split_words(p["ref"], lower) for p in preds]
            hyps = [split_words(p["hyp"]) for p in preds]
        else:
            refs = [self.tokenizer.pretokenize(p["ref"]) for p in preds]  # split like the decoded hypotheses
            hyps = [p["hyp"] for p in preds]
        metrics = translation_metrics(hyps, refs, self.language)
        return dict(metrics), preds

    @torch.no_grad()
    def predict(self, model, pose: np.ndarray, device) -> dict[str, Any]:
        model.eval()
        b = self.single_batch(pose, device)
        return {"translation": self.generate(model, b["pose"], b["frame_mask"])[0]}
