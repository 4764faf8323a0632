"""The pre-training model (Fig. 4): masking -> psi_SE -> psi_SD (L_PR) and psi_SE / psi_TE -> psi_FSTS
(L_STC).

``L = L_PR + lambda * L_STC`` (Eq. 6). Unpaired samples (``paired`` False) take part in L_PR only. The frozen
text encoder is held outside the module tree: it is not in ``parameters()`` / ``state_dict()`` (so neither in
the optimiser, DDP nor checkpoints) but follows ``.to()`` / ``.cuda()``; it is built lazily from ``cfg.text``
on first use unless one is passed in, and is not needed when the batch carries precomputed ``text_features`` /
``text_mask`` (the trainer's cache).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from mslu.models.config import PretrainConfig
from mslu.models.encoder import SignPoseEncoder
from mslu.models.losses import (
    normalizer,
    pose_reconstruction_terms,
    sign_text_contrastive_loss,
)
from mslu.models.masking import MaskToken, hierarchical_mask
from mslu.models.pose_decoder import PoseDecoder
from mslu.models.similarity import SignTextSimilarity
from mslu.models.text_encoder import TextEncoder, text_hidden_size
from mslu.pose.layouts import SL79


class PretrainModel(nn.Module):
    """``forward(batch) -> dict(loss, loss_pr, loss_stc, temperature, ...)``.

    ``batch``: ``pose`` (B,T,79,3) float32 (normalize_for_model), ``frame_mask`` (B,T) bool, ``texts``
    list[str], ``text_langs`` list[str], ``paired`` (B,) bool; optional ``text_features`` (B,m,d) /
    ``text_mask`` (B,m) for the whole batch (rows of unpaired samples are ignored), optional ``mask`` (B,T,79)
    bool to fix M.
    """

    def __init__(self, cfg: PretrainConfig, text_encoder: TextEncoder | None = None):
        super().__init__()
        lc = cfg.loss
        if not (lc.use_pr or lc.use_stc):
            raise ValueError("at least one of loss.use_pr / loss.use_stc must be on")
        if lc.use_stc and lc.similarity == "coarse" and not cfg.encoder.cls_token:
            # coarse similarity uses the encoder's learnable [CLS] (Tab. XVIII); the caller's config is kept
            cfg = dataclasses.replace(cfg, encoder=dataclasses.replace(cfg.encoder, cls_token=True))
        self.cfg = cfg
        self.encoder = SignPoseEncoder(cfg.encoder)
        self.mask_token = MaskToken(cfg.mask)
        # L_PR over the keypoints the encoder sees: with one stream (Tab. XV) only that stream's
        joints = [k for st in self.encoder.streams for k in SL79.groups[st]]
        self.register_buffer("pr_joints", torch.as_tensor(sorted(joints)), persistent=False)
        self.decoder = (PoseDecoder(self.encoder.output_dim, lc.decoder_hidden, len(joints))
                        if lc.use_pr else None)
        self._text: list[TextEncoder] = [text_encoder] if text_encoder is not None else []
        if lc.use_stc:
            tdim = cfg.text.hidden_size or (
                text_encoder.hidden_size
                if text_encoder is not None
                else text_hidden_size(cfg.text.name_or_path)
            )
            self.similarity = SignTextSimilarity(
                self.encoder.output_dim, tdim, lc.embed_dim, lc.window, lc.similarity, lc.text_chunk,
                lc.similarity_matmul,
            )
            init = math.log(1.0 / lc.temperature)
            self.logit_scale = nn.Parameter(torch.tensor(init), requires_grad=lc.learn_temperature)
        else:
            self.similarity = None
            self.register_buffer("logit_scale", torch.tensor(math.log(1.0 / lc.temperature)))

    # ---- frozen text encoder (outside the module tree) ----
    @property
    def text_encoder(self) -> TextEncoder:
        if not self._text:
            t = self.cfg.text
            enc = TextEncoder(t.name_or_path, t.max_length, t.lang_token)
            enc.to(next(self.parameters()).device)
            self._text.append(enc)
        return self._text[0]

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for t in self._text:
            t._apply(fn, *args, **kwargs)
        return self

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Every parameter that the optimiser should update (the text encoder is never among them)."""
        return [p for p in self.parameters() if p.requires_grad]

    def temperature(self) -> torch.Tensor:
        return 1.0 / self.logit_scale.detach().exp().clamp(max=self.cfg.loss.max_logit_scale)

    # ---- forward ----
    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        lc = self.cfg.loss
        pose = batch["pose"]
        frame_mask = batch["frame_mask"].bool()
        if pose.dim() != 4 or pose.shape[:2] != frame_mask.shape or pose.shape[-1] < 3:
            raise ValueError(
                f"pose (B,T,79,3) and frame_mask (B,T) disagree: {tuple(pose.shape)} vs "
                f"{tuple(frame_mask.shape)}"
            )
        if "mask" in batch and batch["mask"] is not None:
            mask = batch["mask"].bool() & frame_mask.unsqueeze(-1)
        elif lc.use_pr:
            mask = hierarchical_mask(frame_mask, self.cfg.mask, pose.shape[2], generator)
        else:
            mask = torch.zeros(pose.shape[:3], dtype=torch.bool, device=pose.device)
        f_se, cls = self.encoder.forward_with_cls(self.mask_token(pose, mask), frame_mask)
        zero = f_se.new_zeros((), dtype=torch.float32)
        out: dict[str, torch.Tensor] = {"mask": mask}

        loss_pr = zero
        if lc.use_pr:
            rec = self.decoder(f_se)
            own = pose.index_select(2, self.pr_joints)
            own_mask = mask.index_select(2, self.pr_joints)
            num, den = pose_reconstruction_terms(rec, own[..., :2], own[..., 2], own_mask, lc.pr_reduction)
            den = normalizer(den)
            loss_pr = num / den.clamp(min=1e-8) if lc.pr_reduction != "sum" else num
            out.update(pr_num=num.detach(), pr_den=den, reconstruction=rec)

        loss_stc = zero
        if lc.use_stc:
            loss_stc, sim = self._stc(batch, f_se, cls, frame_mask)
            out["similarity"] = sim.detach()

        w_stc = lc.lambda_stc if lc.use_stc else 0.0
        out.update(
            loss=(loss_pr if lc.use_pr else zero) + w_stc * loss_stc,
            loss_pr=loss_pr.detach(),
            loss_stc=loss_stc.detach(),
            temperature=self.temperature(),
        )
        return out

    def _stc(
        self, batch: dict, f_se: torch.Tensor, cls: torch.Tensor | None, frame_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b = f_se.shape[0]
        paired = batch.get("paired")
        paired = torch.ones(b, dtype=torch.bool) if paired is None else torch.as_tensor(paired).bool()
        idx = paired.nonzero().flatten().to(f_se.device)
        if batch.get("text_features") is not None:
            tf = batch["text_features"].to(f_se.device)[idx].float()
            tm = batch["text_mask"].to(f_se.device).bool()[idx]
        else:
            sel = idx.tolist()
            tf, tm = self.text_encoder.encode(
                [batch["texts"][i] for i in sel], [batch["text_langs"][i] for i in sel]
            )
        # pool + project every sample, then keep the paired ones: the (B, T, D) frame features are not copied
        sign, sign_mask = self.similarity.embed_sign(f_se, frame_mask, cls)
        if len(idx) < b:
            sign, sign_mask = sign[idx], sign_mask[idx]
        text, text_mask = self.similarity.embed_text(tf, tm)
        scale = self.logit_scale.clamp(max=math.log(self.cfg.loss.max_logit_scale)).exp()
        return sign_text_contrastive_loss(self.similarity.similarity, sign, sign_mask, text, text_mask, scale)

    def export_encoder(self, directory: str | Path) -> Path:
        """Save psi_SE (``model.safetensors`` + ``config.json``) for the downstream tasks and, when L_STC is
        on, psi_FSTS next to it (:func:`save_similarity`: projectors + logit scale)."""
        d = self.encoder.save_pretrained(directory)
        if self.similarity is not None:
            save_similarity(self, d)
        return d


SIMILARITY_WEIGHTS = "similarity.safetensors"
SIMILARITY_CONFIG = "similarity.json"


def save_similarity(model: PretrainModel, directory: str | Path) -> Path:
    """Write psi_FSTS (``similarity.*`` projector weights and ``logit_scale``) to
    ``directory/similarity.safetensors`` and its architecture + text encoder to ``similarity.json``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    sd = model.similarity.state_dict()
    state = {f"similarity.{k}": v.detach().contiguous().cpu() for k, v in sd.items()}
    state["logit_scale"] = model.logit_scale.detach().reshape(()).contiguous().cpu()
    meta = {"format": "pt", "model": "mslu.SignTextSimilarity"}
    save_file(state, str(d / SIMILARITY_WEIGHTS), metadata=meta)
    lc, t = model.cfg.loss, model.cfg.text
    sim = model.similarity
    config = {
        "model_type": "mslu-sign-text-similarity",
        "sign_dim": sim.sign_proj[0].in_features,
        "text_dim": sim.text_proj[0].in_features,
        "embed_dim": sim.sign_proj[-1].out_features,
        "window": sim.window,
        "similarity": sim.kind,
        "learn_temperature": lc.learn_temperature,
        "max_logit_scale": lc.max_logit_scale,
        "text": {"name_or_path": str(t.name_or_path), "max_length": t.max_length, "lang_token": t.lang_token},
    }
    (d / SIMILARITY_CONFIG).write_text(json.dumps(config, indent=2))
    return d / SIMILARITY_WEIGHTS


def load_similarity(directory: str | Path) -> tuple[dict, dict[str, torch.Tensor]] | None:
    """(config, state) written by :func:`save_similarity`, or None when ``directory`` has no export.
    ``state`` holds ``similarity.<param>`` and ``logit_scale`` tensors."""
    d = Path(directory)
    w, c = d / SIMILARITY_WEIGHTS, d / SIMILARITY_CONFIG
    if not w.is_file():
        return None
    if not c.is_file():
        raise FileNotFoundError(f"{c}: missing (written with {w.name} by save_similarity)")
    config = json.loads(c.read_text())
    if config.get("model_type") != "mslu-sign-text-similarity":
        raise ValueError(f"{c}: not a mslu similarity config (model_type {config.get('model_type')!r})")
    return config, load_file(str(w), device="cpu")
