"""Sign pose encoder psi_SE (Eq. 1): ``O = Embed(V)``, ``F_m = MEnc(O_m)``, ``F_n = Non_MEnc(O_n)``,
``F_SE = concat(F_m, F_n)``.

``F_m in R^{t x d1}``, ``F_n in R^{t x d2}`` (d1 / d2 = the streams' widths, see ``mslu.models.config``). Each
branch encoder (:class:`StreamEncoder`, parameters not shared): the stream's 512-d embedding -> linear to its
width -> learnable absolute position embedding -> N transformer blocks (:mod:`mslu.models.transformer`)
that ignore padding frames -> final LayerNorm. Optional learnable [CLS] token per stream (coarse-grained
similarity, Tab. XVIII); its output is returned separately by :meth:`SignPoseEncoder.forward_with_cls`,
``forward`` returns the frame features only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from mslu.models.config import STREAMS, EncoderConfig, StreamConfig, config_from_dict, to_plain
from mslu.models.embedding import PoseEmbedding
from mslu.models.kernels import FusedLinear
from mslu.models.transformer import EncoderBlock

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


class StreamEncoder(nn.Module):
    """One branch encoder (MEnc or Non_MEnc): ``forward(x (B,T,in_dim), frame_mask (B,T)) -> (frame features
    (B,T,width), [CLS] feature (B,width) or None)``."""

    def __init__(self, in_dim: int, stream: StreamConfig, cfg: EncoderConfig):
        super().__init__()
        width = stream.width
        self.input = FusedLinear(in_dim, width) if in_dim != width else nn.Identity()
        self.pos = nn.Parameter(torch.zeros(1, cfg.max_frames + int(cfg.cls_token), width))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.cls = nn.Parameter(torch.zeros(1, 1, width)) if cfg.cls_token else None
        if self.cls is not None:
            nn.init.trunc_normal_(self.cls, std=0.02)
        self.blocks = nn.ModuleList(
            EncoderBlock(width, stream.heads, stream.ffn_dim, stream.dropout, cfg.attn_impl, cfg.norm_first)
            for _ in range(cfg.num_blocks)
        )
        self.norm = nn.LayerNorm(width)
        self.max_frames = cfg.max_frames

    def forward(self, x: torch.Tensor, frame_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, t, _ = x.shape
        if t > self.max_frames:
            raise ValueError(f"sequence of {t} frames exceeds max_frames={self.max_frames}")
        x = self.input(x)
        valid = frame_mask
        if self.cls is not None:
            x = torch.cat([self.cls.expand(b, -1, -1).to(x.dtype), x], dim=1)
            valid = torch.cat([frame_mask.new_ones(b, 1), frame_mask], dim=1)
        x = x + self.pos[:, : x.shape[1]].to(x.dtype)
        for block in self.blocks:
            x = block(x, valid)
        x = self.norm(x) * valid.unsqueeze(-1).to(x.dtype)  # padding frames -> 0
        if self.cls is not None:
            return x[:, 1:], x[:, 0]
        return x, None


class SignPoseEncoder(nn.Module):
    """psi_SE: ``forward(pose (B,T,79,3), frame_mask (B,T) bool True=valid) -> (B, T, output_dim)``."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        if not cfg.streams or any(s not in STREAMS for s in cfg.streams):
            raise ValueError(f"streams must be a non-empty subset of {STREAMS}, got {cfg.streams!r}")
        self.cfg = cfg
        self.streams = tuple(s for s in STREAMS if s in cfg.streams)  # fixed order: manual, non_manual
        self.embed = PoseEmbedding(cfg.embedding, self.streams)
        self.encoders = nn.ModuleDict()
        for s in self.streams:
            self.encoders[s] = StreamEncoder(cfg.embedding.dim, getattr(cfg, s), cfg)
        self.output_dim = sum(getattr(cfg, s).width for s in self.streams)

    def forward_with_cls(
        self, pose: torch.Tensor, frame_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Frame features F_SE (B, T, output_dim) and, with ``cls_token``, the [CLS] features (B,
        output_dim)."""
        if pose.dim() != 4 or pose.shape[2] != 79:
            raise ValueError(f"pose must be (B, T, 79, C), got {tuple(pose.shape)}")
        frame_mask = frame_mask.bool()
        emb = self.embed(pose, frame_mask)
        feats, clss = [], []
        for s in self.streams:
            f, c = self.encoders[s](emb[s], frame_mask)
            feats.append(f)
            clss.append(c)
        cls = torch.cat(clss, dim=-1) if self.cfg.cls_token else None
        return torch.cat(feats, dim=-1), cls

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        return self.forward_with_cls(pose, frame_mask)[0]

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``model.safetensors`` + ``config.json`` (the EncoderConfig) into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(d / WEIGHTS_NAME), metadata={"format": "pt", "model": "mslu.SignPoseEncoder"})
        config = {"model_type": "mslu-sign-pose-encoder", "encoder": to_plain(asdict(self.cfg))}
        (d / CONFIG_NAME).write_text(json.dumps(config, indent=2))
        return d

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, map_location: str = "cpu", attn_impl: str | None = None
    ) -> SignPoseEncoder:
        """The encoder written by :meth:`save_pretrained`; ``attn_impl`` overrides the saved one."""
        d = Path(directory)
        cfg_path, w_path = d / CONFIG_NAME, d / WEIGHTS_NAME
        for p in (cfg_path, w_path):
            if not p.is_file():
                raise FileNotFoundError(f"{p}: missing (expected a directory written by save_pretrained)")
        raw = json.loads(cfg_path.read_text())
        if "encoder" not in raw:
            raise ValueError(f"{cfg_path}: no 'encoder' section")
        cfg = config_from_dict(EncoderConfig, raw["encoder"])
        model = cls(cfg if attn_impl is None else replace(cfg, attn_impl=attn_impl))
        model.load_state_dict(load_file(str(w_path), device=map_location))
        return model

