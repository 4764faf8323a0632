"""Which kernel runs where: the one place that decides, by device and setting.

* attention: the encoder config's ``attn_impl`` names a function of :data:`ATTENTION_FUNCTIONS`
  (:func:`attention_function`); ``"cpu_fused"`` is a CPU kernel, elsewhere ``"sdpa"`` runs;
* linear layers (:class:`~mslu.models.kernels.linear.FusedLinear`): the fused-bias oneDNN kernel on CPU under
  bf16 autocast with autograd, ``F.linear`` otherwise (:func:`use_fused_linear`);
* GCN layers: the dense per-frame kernel on CPU for narrow layers, the factored form otherwise
  (:func:`use_dense_graph_conv`);
* the fine-grained similarity: the written-out backward (:func:`fine_similarity_function`).

:data:`FAST_PATHS` holds the process-wide switches of the last three (all on); :func:`fast_paths_off` turns
some off inside a ``with`` block, e.g. to count nominal FLOPs or to compare against the plain forms (same
equations, same results to rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cache

import torch

from mslu.models.kernels.attention import eager_attention, fused_cpu_attention, sdpa_attention
from mslu.models.kernels.similarity import fine_similarity_autograd, fine_similarity_written

ATTENTION_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "sdpa": sdpa_attention,
    "eager": eager_attention,
    "cpu_fused": fused_cpu_attention,
}
CPU_ONLY_ATTENTION = {"cpu_fused"}


@dataclass
class FastPaths:
    """On/off switches of the kernels that are the same equations as a plainer form."""

    fused_linear: bool = True  # CPU bf16: oneDNN linear with the bias inside the kernel (else F.linear)
    dense_graph_conv: bool = True  # CPU: narrow GCN layers as one dense per-frame kernel (else factored)
    similarity_backward: bool = True  # fine similarity: written-out backward (else autograd's)


FAST_PATHS = FastPaths()


@contextmanager
def fast_paths_off(*names: str) -> Iterator[None]:
    """Turn the named :class:`FastPaths` off inside the block (none without names)."""
    known = [f.name for f in fields(FastPaths)]
    unknown = set(names) - set(known)
    if unknown:
        raise ValueError(f"unknown fast paths {sorted(unknown)}; known: {', '.join(known)}")
    old = {n: getattr(FAST_PATHS, n) for n in known}
    for n in names:
        setattr(FAST_PATHS, n, False)
    try:
        yield
    finally:
        for n, v in old.items():
            setattr(FAST_PATHS, n, v)


def check_attention(name: str) -> str:
    if name not in ATTENTION_FUNCTIONS:
        raise ValueError(f"unknown attn_impl {name!r}; use one of {', '.join(ATTENTION_FUNCTIONS)}")
    return name


def attention_function(name: str, device_type: str = "cpu") -> Callable[..., torch.Tensor]:
    """The attention function registered as ``name`` for a tensor on ``device_type``."""
    if check_attention(name) in CPU_ONLY_ATTENTION and device_type != "cpu":
        name = "sdpa"
    return ATTENTION_FUNCTIONS[name]


@cache
def _mkldnn_linear_available() -> bool:
    try:
        x = torch.zeros(2, 4, dtype=torch.bfloat16)
        w = torch.zeros(3, 4, dtype=torch.bfloat16)
        torch.ops.mkldnn._linear_pointwise(x, w, torch.zeros(3, dtype=torch.bfloat16), "none", [], "")
        return True
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def use_fused_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> bool:
    """Whether ``linear(x, weight, bias)`` runs the fused-bias oneDNN kernel: CPU, bf16 autocast, autograd."""
    return (
        FAST_PATHS.fused_linear
        and bias is not None
        and x.device.type == "cpu"
        and torch.is_grad_enabled()
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
        and x.shape[-1] == weight.shape[1]
        and _mkldnn_linear_available()
    )


def use_dense_graph_conv(device_type: str, narrow: bool) -> bool:
    """Whether a GCN layer runs its dense per-frame kernel: on CPU, for ``narrow`` layers only."""
    return FAST_PATHS.dense_graph_conv and narrow and device_type == "cpu"


def fine_similarity_function() -> Callable[..., torch.Tensor]:
    """m_ij of normalised clips and words (see :mod:`mslu.models.kernels.similarity`)."""
    return fine_similarity_written if FAST_PATHS.similarity_backward else fine_similarity_autograd
