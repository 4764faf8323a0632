"""``run.precision``: bf16 autocast where the device computes bf16 natively, fp32 elsewhere.

"auto" resolves per device: bf16 on GPUs with bf16 support and on CPUs with bf16 matrix instructions
(oneDNN's bf16 check: AVX-512 cores, AMX), fp32 otherwise. Without them (AVX2 only) the CPU emulates bf16
matmuls, tens of times slower than fp32 (a 512 x 512 matmul: 211 ms vs 3.5 ms on an AVX2-only EPYC), so an
explicit "bf16" there runs as asked, with a warning.
"""

from __future__ import annotations

import logging
from functools import cache

import torch

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "bf16", "fp32")


@cache
def _cpu_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` runs bf16 matmuls at least as fast as fp32 ones."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_bf16()
    return False


def resolve_precision(name: str, device: torch.device) -> str:
    """"bf16" or "fp32" for the configured ``name`` on ``device`` (see the module docstring)."""
    if name not in PRECISIONS:
        raise ValueError(f"run.precision: {name!r} is not one of {', '.join(PRECISIONS)}")
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if name == "bf16" and not native_bf16(device):
        log.warning("run.precision bf16: this %s has no native bf16 matmuls; they are emulated and run many "
                    "times slower than fp32 (run.precision auto picks fp32 here)", device.type.upper())
    return name
