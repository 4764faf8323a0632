"""Pre-training model and objectives (paper Sec. III-B): psi_SE, psi_TE, psi_SD, psi_FSTS, L_PR, L_STC."""

from mslu.models.config import (
    EmbeddingConfig,
    EncoderConfig,
    LossConfig,
    MaskConfig,
    PretrainConfig,
    StreamConfig,
    TextConfig,
)
from mslu.models.encoder import SignPoseEncoder
from mslu.models.pretrain import PretrainModel
from mslu.models.text_encoder import TextEncoder

__all__ = [
    "EmbeddingConfig",
    "EncoderConfig",
    "LossConfig",
    "MaskConfig",
    "PretrainConfig",
    "PretrainModel",
    "SignPoseEncoder",
    "StreamConfig",
    "TextConfig",
    "TextEncoder",
]
