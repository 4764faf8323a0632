"""Sign pose encoder psi_SE (Eq. 1): pose embedding + two unshared transformer encoders (MEnc, Non_MEnc).

``F_SE = concat(F_m, F_n)`` with ``F_m in R^{t x d1}``, ``F_n in R^{t x d2}`` (d1 / d2 = the streams' widths,
see ``mslu.models.config``). Each stream: 512-d embedding -> linear to its width -> learnable absolute
position embedding -> N pre-norm ``nn.TransformerEncoderLayer`` blocks with a key padding mask -> final
LayerNorm. Optional learnable [CLS] token per stream (coarse-grained similarity, Tab. XVIII); its output is
returned separately by :meth:`SignPoseEncoder.forward_with_cls`, ``forward`` returns the frame features only.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from mslu.models import cpu_attention
from mslu.models.config import STREAMS, EncoderConfig, config_from_dict, to_plain
from mslu.models.cpu_linear import linear
from mslu.models.embedding import PoseEmbedding

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


class StreamEncoder(nn.Module):
    """One branch encoder (MEnc or Non_MEnc)."""

    def __init__(
        self,
        in_dim: int,
        width: int,
        ffn_dim: int,
        heads: int,
        dropout: float,
        num_blocks: int,
        max_frames: int,
        cls_token: bool,
        norm_first: bool,
    ):
        super().__init__()
        self.input = nn.Linear(in_dim, width) if in_dim != width else nn.Identity()
        self.pos = nn.Parameter(torch.zeros(1, max_frames + int(cls_token), width))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.cls = nn.Parameter(torch.zeros(1, 1, width)) if cls_token else None
        if self.cls is not None:
            nn.init.trunc_normal_(self.cls, std=0.02)
        layer = _EncoderLayer(
            width, heads, ffn_dim, dropout, activation="gelu", batch_first=True, norm_first=norm_first
        )
        self.blocks = nn.TransformerEncoder(layer, num_blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.max_frames = max_frames

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
        with _attention_backend(x):
            x = self.norm(self.blocks(x, src_key_padding_mask=~valid))
        x = x * valid.unsqueeze(-1).to(x.dtype)  # padding frames -> 0
        if self.cls is not None:
            return x[:, 1:], x[:, 0]
        return x, None


class _EncoderLayer(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` (same parameters and state-dict keys) whose self-attention with autograd
    on CPU is computed explicitly (``baddbmm`` with the padding bias, softmax, ``bmm``): same equations as
    ``nn.MultiheadAttention``, ~1.7x faster fwd + bwd than its math SDPA path at T ~ 100, head dim 64 (no
    mask merging / checks, no expanded (B, H, T, T) boolean mask). Its linears (q/k/v, output, FFN) use
    :func:`mslu.models.cpu_linear.linear` (bias fused into oneDNN's matmul under CPU bf16 autocast)."""

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        if attn_mask is not None or x.device.type != "cpu" or not torch.is_grad_enabled():
            return super()._sa_block(x, attn_mask, key_padding_mask, is_causal)
        return self.dropout1(_self_attention(self.self_attn, x, key_padding_mask))

    def _ff_block(self, x):
        if x.device.type != "cpu" or not torch.is_grad_enabled():
            return super()._ff_block(x)
        h = self.dropout(self.activation(linear(x, self.linear1.weight, self.linear1.bias)))
        return self.dropout2(linear(h, self.linear2.weight, self.linear2.bias))


def _self_attention(mha: nn.MultiheadAttention, x: torch.Tensor, key_padding_mask: torch.Tensor | None):
    """Multi-head self-attention of ``mha``'s weights on batch-first ``x`` (B, T, W); ``key_padding_mask``
    (B, T): True / -inf = ignored key. Without attention dropout, the core is
    :class:`mslu.models.cpu_attention.AttentionCore` (hand-written backward); else autograd's."""
    b, t, w = x.shape
    h = mha.num_heads
    d = w // h
    qkv = linear(x, mha.in_proj_weight, mha.in_proj_bias).view(b, t, 3, h, d)
    bias = cpu_attention.padding_bias(key_padding_mask, b, h, t, qkv.dtype)
    dropout = mha.dropout if mha.training else 0.0
    if cpu_attention.enabled() and dropout == 0.0:
        o = cpu_attention.AttentionCore.apply(qkv, bias)
    else:
        q, k, v = cpu_attention.split_heads(qkv).unbind(0)
        attn = cpu_attention.attention_probs(q, k, bias, d**-0.5).to(v.dtype)
        attn = F.dropout(attn, dropout) if dropout > 0 else attn
        o = cpu_attention.merge_heads(torch.bmm(attn, v), b)
    return linear(o, mha.out_proj.weight, mha.out_proj.bias)


def _attention_backend(x: torch.Tensor):
    """On CPU with autograd, the math attention kernel: its backward is ~2x faster than the CPU flash
    kernel's at these sizes (and it is the only one supporting attention dropout anyway). Same equations."""
    if x.device.type == "cpu" and torch.is_grad_enabled():
        return sdpa_kernel([SDPBackend.MATH])
    return nullcontext()


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
            sc = getattr(cfg, s)
            self.encoders[s] = StreamEncoder(
                cfg.embedding.dim,
                sc.width,
                sc.ffn_dim,
                sc.heads,
                sc.dropout,
                cfg.num_blocks,
                cfg.max_frames,
                cfg.cls_token,
                cfg.norm_first,
            )
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
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(d / WEIGHTS_NAME), metadata={"format": "pt", "model": "mslu.SignPoseEncoder"})
        config = {"model_type": "mslu-sign-pose-encoder", "encoder": to_plain(_asdict(self.cfg))}
        (d / CONFIG_NAME).write_text(json.dumps(config, indent=2))
        return d

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: str = "cpu") -> SignPoseEncoder:
        from safetensors.torch import load_file

        d = Path(directory)
        cfg_path, w_path = d / CONFIG_NAME, d / WEIGHTS_NAME
        for p in (cfg_path, w_path):
            if not p.is_file():
                raise FileNotFoundError(f"{p}: missing (expected a directory written by save_pretrained)")
        raw = json.loads(cfg_path.read_text())
        if "encoder" not in raw:
            raise ValueError(f"{cfg_path}: no 'encoder' section")
        model = cls(config_from_dict(EncoderConfig, raw["encoder"]))
        model.load_state_dict(load_file(str(w_path), device=map_location))
        return model


def _asdict(cfg: EncoderConfig) -> dict:
    from dataclasses import asdict

    return asdict(cfg)
