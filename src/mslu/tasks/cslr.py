"""CSLR (paper Sec. IV-B): psi_SE + TCN + BiLSTM + CTC, decoded with CTC prefix beam search (and greedy).

TCN = Conv1d(k5) - MaxPool(2) - Conv1d(k5) - MaxPool(2) over time ("K5-P2-K5-P2" of VAC / CorrNet;
``head.pools`` < 2 drops the last pooling steps, for short clips where 4x down-sampling leaves CTC too few
frames), each
conv followed by BatchNorm1d and ReLU, as VAC / CorrNet's temporal conv (``head.norm: none`` drops the
BatchNorm; without it the head cannot separate psi_SE's LayerNorm-ed frame features, whose per-channel
constant offsets dwarf their temporal variation, and CTC stalls at its all-blank plateau; padding frames,
0 after the encoder, enter the BatchNorm statistics, and are ignored downstream through the output lengths);
a 2-layer BiLSTM (packed by length); a linear layer to glosses + blank (index 0).
``F.ctc_loss`` with ``zero_infinity=True``. The gloss vocabulary is built from the training glosses.
Metrics: WER with the dataset's clean-up (:func:`mslu.evaluation.wer_report`, ``data.dataset`` names the
rules, e.g. ``phoenix2014``) for beam search (main metric ``wer``) and greedy (``greedy_wer``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mslu.decoding import ctc_greedy_decode, ctc_prefix_beam_search
from mslu.evaluation import clean_glosses, wer_report, write_ctm, write_stm
from mslu.tasks.base import Task, TaskModel, to_device

BLANK = "<blank>"


def tcn_output_lengths(
    lengths: torch.Tensor, kernel: int = 5, padding: int = 0, pools: int = 2
) -> torch.Tensor:
    """Frames after K-P2-K-P2: conv ``L + 2p - k + 1``, pool ``floor(L / 2)`` (the first ``pools`` of the
    two blocks only), clamped at 0."""
    out = lengths
    for i in range(2):
        out = (out + 2 * padding - kernel + 1).clamp(min=0)
        if i < pools:
            out = out // 2
    return out


class CSLRModel(TaskModel):
    """``forward(pose, frame_mask) -> (log_probs (B, T', V+1), lengths (B,))``."""

    def __init__(
        self,
        encoder: nn.Module,
        vocab_size: int,
        tcn_hidden: int = 1024,
        lstm_hidden: int = 1024,
        kernel: int = 5,
        padding: int = 0,
        dropout: float = 0.1,
        pools: int = 2,
        norm: str = "batch",
    ):
        super().__init__()
        if pools not in (0, 1, 2):
            raise ValueError(f"CSLR head: pools must be 0, 1 or 2, got {pools}")
        self.encoder = encoder
        self.kernel, self.padding, self.pools = kernel, padding, pools
        if norm not in ("batch", "none"):
            raise ValueError(f"CSLR head: norm must be 'batch' or 'none', got {norm!r}")

        def bn() -> nn.Module:
            return nn.BatchNorm1d(tcn_hidden) if norm == "batch" else nn.Identity()

        self.tcn = nn.Sequential(
            nn.Conv1d(encoder.output_dim, tcn_hidden, kernel, padding=padding),
            bn(),
            nn.ReLU(),
            nn.MaxPool1d(2) if pools >= 1 else nn.Identity(),
            nn.Conv1d(tcn_hidden, tcn_hidden, kernel, padding=padding),
            bn(),
            nn.ReLU(),
            nn.MaxPool1d(2) if pools >= 2 else nn.Identity(),
        )
        self.lstm = nn.LSTM(
            tcn_hidden, lstm_hidden // 2, num_layers=2, bidirectional=True, batch_first=True, dropout=dropout
        )
        self.classifier = nn.Linear(lstm_hidden, vocab_size + 1)  # + blank at index 0

    @property
    def min_frames(self) -> int:
        """The shortest clip the temporal convolutions turn into at least one output step."""
        t = 1
        while int(tcn_output_lengths(torch.tensor([t]), self.kernel, self.padding, self.pools)[0]) < 1:
            t += 1
        return t

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.encoder(pose, frame_mask)  # padding frames are 0
        x = self.tcn(f.transpose(1, 2)).transpose(1, 2)
        lengths = tcn_output_lengths(frame_mask.sum(1), self.kernel, self.padding, self.pools).clamp(
            min=1, max=x.shape[1]
        )
        packed = nn.utils.rnn.pack_padded_sequence(
            x.float(), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        y, _ = self.lstm(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return self.classifier(y).float().log_softmax(-1), lengths


class CSLRTask(Task):
    name = "cslr"
    main_metric = "wer"
    higher_is_better = False
    defaults = {
        "model": {
            "head": {
                "tcn_hidden": 1024,
                "lstm_hidden": 1024,
                "kernel": 5,
                "padding": 0,
                "dropout": 0.1,
                "beam_width": 10,
                "pools": 2,
                "norm": "batch",
            }
        },
        "data": {"batch_size": 8, "dataset": None},
        "optim": {
            "lr": 1.0e-4,
            "weight_decay": 1.0e-5,
            "schedule": "step",
            "milestones": [20, 30],
            "gamma": 0.1,
            "epochs": 40,
        },
    }

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(cfg)
        self.glosses: list[str] = []  # index i + 1 (0 = blank)

    def fit_assets(self, train) -> None:
        seen: dict[str, None] = {}
        for g in train.glosses:
            for tok in g or []:
                seen.setdefault(tok)
        if not seen:
            raise ValueError("CSLR: the training split has no gloss sequences")
        self.glosses = sorted(seen)

    def save_assets(self, directory: Path) -> None:
        (directory / "gloss_vocab.json").write_text(json.dumps([BLANK, *self.glosses], ensure_ascii=False))

    def load_assets(self, directory: Path) -> None:
        self.glosses = json.loads((directory / "gloss_vocab.json").read_text())[1:]

    def encode(self, gloss: list[str] | None, sid: str) -> list[int]:
        pos = {g: i + 1 for i, g in enumerate(self.glosses)}
        if not gloss:
            raise ValueError(f"sample {sid!r}: no gloss sequence")
        return [pos[g] for g in gloss if g in pos]  # out-of-vocabulary glosses cannot be emitted

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().collate(items)
        batch["gloss"] = [list(it["gloss"] or []) for it in items]
        return batch

    def build_model(self, encoder: nn.Module) -> CSLRModel:
        h = self.head_cfg
        return CSLRModel(
            encoder,
            len(self.glosses),
            int(h.get("tcn_hidden", 1024)),
            int(h.get("lstm_hidden", 1024)),
            int(h.get("kernel", 5)),
            int(h.get("padding", 0)),
            float(h.get("dropout", 0.1)),
            int(h.get("pools", 2)),
            str(h.get("norm", "batch")),
        )

    def loss(self, model: CSLRModel, batch: dict[str, Any]) -> torch.Tensor:
        log_probs, lengths = model(batch["pose"], batch["frame_mask"])
        targets = [self.encode(g, sid) for g, sid in zip(batch["gloss"], batch["ids"])]
        tgt = torch.tensor([t for seq in targets for t in seq], dtype=torch.long)
        tlen = torch.tensor([len(seq) for seq in targets], dtype=torch.long)
        return F.ctc_loss(
            log_probs.transpose(0, 1),
            tgt.to(log_probs.device),
            lengths,
            tlen.to(log_probs.device),
            blank=0,
            reduction="mean",
            zero_infinity=True,
        )

    def decode(
        self, log_probs: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[list[list[str]], list[list[str]]]:
        """Beam-search and greedy gloss sequences of a batch."""

        lp, lens = log_probs.detach().cpu(), lengths.cpu().tolist()
        beams = ctc_prefix_beam_search(
            lp, int(self.head_cfg.get("beam_width", 10)), blank=0, lengths=lens, nbest=1
        )
        greedy = ctc_greedy_decode(lp, lens, blank=0)
        names = [BLANK, *self.glosses]
        return ([[names[i] for i in b[0].labels] for b in beams], [[names[i] for i in g] for g in greedy])

    @torch.no_grad()
    def evaluate(self, model, loader, device, split="test"):
        model.eval()
        preds = []
        for batch in loader:
            batch = to_device(batch, device)
            lp, lens = model(batch["pose"], batch["frame_mask"])
            beam, greedy = self.decode(lp, lens)
            for sid, ref, b, g in zip(batch["ids"], batch["gloss"], beam, greedy):
                preds.append({"id": sid, "ref": ref, "hyp": b, "greedy": g})
        dataset = self.data_cfg.get("dataset")
        refs = [p["ref"] for p in preds]
        metrics: dict[str, Any] = dict(wer_report(refs, [p["hyp"] for p in preds], dataset=dataset))
        greedy = wer_report(refs, [p["greedy"] for p in preds], dataset=dataset)
        metrics.update({f"greedy_{k}": v for k, v in greedy.items() if k in ("wer", "sub", "del", "ins")})
        return metrics, preds

    def write_extra(self, directory: Path, split: str, predictions: list[dict[str, Any]]) -> None:
        dataset = self.data_cfg.get("dataset")
        ids = [p["id"] for p in predictions]
        write_stm(directory / f"{split}.stm", ids, [p["ref"] for p in predictions])
        write_ctm(directory / f"{split}.ctm", ids, [clean_glosses(p["hyp"], dataset) for p in predictions])

    @torch.no_grad()
    def predict(self, model, pose: np.ndarray, device) -> dict[str, Any]:
        model.eval()
        if len(pose) < model.min_frames:
            raise ValueError(f"clip has {len(pose)} frames; this CSLR model needs {model.min_frames} or more")
        b = self.single_batch(pose, device)
        beam, greedy = self.decode(*model(b["pose"], b["frame_mask"]))
        return {"glosses": beam[0], "greedy": greedy[0]}
