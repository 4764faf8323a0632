"""Keep freed host memory in the process instead of handing it back to the OS after every tensor.

A CPU training step allocates and frees hundreds of MB of activations. glibc's malloc serves large blocks
with ``mmap`` and returns them (and the top of the heap) to the OS on ``free``, so the next step touches
fresh pages again: ~11-13 k page faults per step (width-256 encoder, batch 32) on this project's CPU
machine, each a kernel trap plus zeroing a 4 KiB page. Raising the mmap threshold to its maximum and the
trim threshold keeps those pages mapped, so steady-state steps rarely page-fault (blocks above glibc's
32 MiB ceiling still do; ``benchmarks/host_memory_ab.py``).
This is what a caching allocator (jemalloc / tcmalloc via ``LD_PRELOAD``, or CUDA's caching allocator on GPUs)
does; here it needs no extra library. Peak memory is unchanged; freed memory stays reserved for reuse.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

import torch

# mallopt parameters (glibc malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 << 20  # glibc's upper limit on 64-bit: larger blocks are always mmap-ed
TRIM_THRESHOLD = 1 << 30
TOP_PAD = 64 << 20

_applied = False


def retain_freed_memory() -> bool:
    """Tune glibc malloc (Linux) to keep freed memory for reuse; True when applied (once per process),
    False elsewhere (other C libraries / operating systems: nothing is changed)."""
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (M_TOP_PAD, TOP_PAD),
        )
    )
    _applied = ok
    return ok


def apply_run_setting(run: dict[str, Any], device: torch.device) -> bool:
    """The trainers' ``run.retain_host_memory`` (default on): applied to CPU runs only."""
    if device.type == "cpu" and run.get("retain_host_memory", True):
        return retain_freed_memory()
    return False
