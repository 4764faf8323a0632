"""Kernels of the pre-training model and the one place that picks them (:mod:`.select`).

The model's modules call their submodules and these functions; what runs on which device is decided in
:mod:`mslu.models.kernels.select` by the tensors' device and the settings (``EncoderConfig.attn_impl``,
:data:`FAST_PATHS`).
"""

from mslu.models.kernels.linear import FusedLinear, linear
from mslu.models.kernels.select import (
    ATTENTION_FUNCTIONS,
    FAST_PATHS,
    FastPaths,
    attention_function,
    check_attention,
    fast_paths_off,
    fine_similarity_function,
    use_dense_graph_conv,
    use_fused_linear,
)

__all__ = [
    "ATTENTION_FUNCTIONS",
    "FAST_PATHS",
    "FastPaths",
    "FusedLinear",
    "attention_function",
    "check_attention",
    "fast_paths_off",
    "fine_similarity_function",
    "linear",
    "use_dense_graph_conv",
    "use_fused_linear",
]
