"""Where a CPU bf16 pre-training step of the `small` preset spends its time: kernel rates on this machine.

Prints, for the shapes of a batch of 32 x 92 frames (the `small` preset: width 512, FFN 2048, 4 heads), the
achieved rate of each kind of work next to the best bf16 matmul rate of the same run, all timed alternately
(min over repetitions) so that the machine's speed changes hit every row alike:

* GEMMs: forward-shaped ``x @ W^T`` vs the weight-gradient ``g^T @ x`` (long reduction over B x T rows);
  attention's batched (T x T x 128) matmuls;
* memory-bound work: GELU and LayerNorm forward + backward (GB/s of tensor traffic);
* each fast path of ``mslu.models.kernels`` next to its plain form: float32 vs bf16 softmax, fused-bias
  oneDNN linear vs ``addmm``, dense vs factored first GCN layer, GCN LayerNorm per frame vs per node;
* the attention functions (``attn_impl``: eager, sdpa, cpu_fused), forward + backward;
* the fine-grained similarity psi_FSTS of a batch of 64: autograd of the step-by-step form in float32 vs the
  written-out backward, float32 and bf16 matmuls.

    taskset -c 0 .venv/bin/python benchmarks/kernel_speed.py --threads 1
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import torch
import torch.nn.functional as F

from _common import alternate
from mslu.models.config import PretrainConfig
from mslu.models.embedding import PoseEmbedding
from mslu.models.kernels import ATTENTION_FUNCTIONS, fast_paths_off, linear
from mslu.models.similarity import fine_similarity
from mslu.training.precision import native_bf16

Context = Callable[[], AbstractContextManager]


def fwd_bwd(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Callable[[], None]:
    x = x.detach().requires_grad_()

    def run() -> None:
        y = fn(x)
        y.backward(torch.ones_like(y))

    return run


def print_times(title: str, times: dict[str, float]) -> None:
    print(f"{title:58s} {'ms':>8s}")
    for k, t in times.items():
        print(f"  {k:56s} {t * 1e3:8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--frames", type=int, default=92, help="T (batch 32)")
    ap.add_argument("--force", action="store_true", help="run on a CPU without bf16 units too")
    args = ap.parse_args()
    if not native_bf16(torch.device("cpu")) and not args.force:
        print("oneDNN runs no bf16 on this CPU (it needs AVX-512 or AMX): run.precision auto trains in fp32 "
              "here and the bf16 CPU kernels this script measures are not used (--force runs it anyway)")
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bf = torch.bfloat16
    b, t, w, f_dim, heads = 32, args.frames, 512, 2048, 4  # the `small` preset
    m, d = b * t, w // heads

    x = torch.randn(m, w, dtype=bf)
    h = torch.randn(m, f_dim, dtype=bf)
    w1 = torch.randn(f_dim, w, dtype=bf)
    q = torch.randn(b * heads, t, d, dtype=bf)
    scores = torch.randn(b * heads, t, t, dtype=bf)
    pa, pb = torch.randn(2048, 1024, dtype=bf), torch.randn(1024, 1024, dtype=bf)
    pc, pd = torch.randn(3072, 768, dtype=bf), torch.randn(768, 3072, dtype=bf)

    gemm = {
        "peak: 1024 x 1024 x 1024": (lambda: pa[:1024] @ pb, 2 * 1024**3),
        "peak: 2048 x 1024 x 1024": (lambda: pa @ pb, 2 * 2048 * 1024 * 1024),
        "peak: 3072 x 768 x 3072": (lambda: pc @ pd, 2 * 3072 * 768 * 3072),
        f"forward x @ W^T ({m} x {w} -> {f_dim})": (lambda: x @ w1.t(), 2 * m * w * f_dim),
        f"grad-input g @ W ({m} x {f_dim} -> {w})": (lambda: h @ w1, 2 * m * w * f_dim),
        f"weight-grad g^T @ x ({f_dim} x {m} x {w})": (lambda: h.t() @ x, 2 * m * w * f_dim),
        f"attention Q K^T ({b * heads} x {t} x {d} x {t})": (
            lambda: torch.bmm(q, q.transpose(1, 2)), 2 * b * heads * t * t * d),
    }  # fmt: skip
    times = alternate({k: v[0] for k, v in gemm.items()}, args.reps)
    peak = max(gemm[k][1] / times[k] for k in gemm if k.startswith("peak"))
    title = f"GEMM (bf16, best of {args.reps})"
    print(f"{title:58s} {'TFLOP/s':>8s} {'of peak':>8s}")
    for k, (_, flop) in gemm.items():
        rate = flop / times[k]
        print(f"  {k:56s} {rate / 1e12:8.3f} {100 * rate / peak:7.1f}%")

    ln_x = torch.randn(m * 79, 16, dtype=bf)  # the GCN's per-node features of every frame
    ln_w, ln_b = torch.ones(16, requires_grad=True), torch.zeros(16, requires_grad=True)
    mem = {
        f"GELU fwd+bwd ({m} x {f_dim}, bf16)": (fwd_bwd(F.gelu, h), 5 * h.numel() * 2),
        f"LayerNorm fwd+bwd ({m} x {w}, fp32)": (
            fwd_bwd(lambda v: F.layer_norm(v, (w,)), x.float()), 5 * x.numel() * 4),
        f"LayerNorm fwd+bwd ({ln_x.shape[0]} x 16 GCN nodes, bf16)": (
            fwd_bwd(lambda v: F.layer_norm(v, (16,), ln_w, ln_b), ln_x), 5 * ln_x.numel() * 2),
    }  # fmt: skip
    times = alternate({k: v[0] for k, v in mem.items()}, args.reps)
    print(f"{'memory-bound (traffic ~ 5 passes over the tensor)':58s} {'ms':>8s} {'GB/s':>8s}")
    for k, (_, nbytes) in mem.items():
        print(f"  {k:56s} {times[k] * 1e3:8.2f} {nbytes / times[k] / 1e9:8.1f}")

    bias = torch.randn(f_dim, dtype=bf)
    emb = PoseEmbedding(PretrainConfig.preset("small").encoder.embedding, ("manual", "non_manual"))
    pose = torch.randn(1, m, 79, 3)
    frames = torch.ones(1, m, dtype=torch.bool)

    def embed(ctx: Context, norm: str = "frame") -> Callable[[], None]:
        def run() -> None:
            for layer in emb.gcn:
                layer.norm_over = norm
            with ctx(), torch.autocast("cpu", dtype=bf):
                out = emb(pose, frames)
            sum(o.float().sum() for o in out.values()).backward()

        return run

    xg = x.detach().requires_grad_()

    def lin(ctx: Context) -> Callable[[], None]:
        def run() -> None:
            with ctx(), torch.autocast("cpu", dtype=bf):
                linear(xg, w1.float(), bias.float())

        return run

    pairs = {
        f"softmax fwd+bwd ({b * heads} x {t} x {t}): bf16": fwd_bwd(lambda s: s.softmax(-1), scores),
        "    float32 (mslu)": fwd_bwd(lambda s: s.softmax(-1, dtype=torch.float32), scores),
        f"linear fwd ({m} x {w} -> {f_dim}): addmm": lin(lambda: fast_paths_off("fused_linear")),
        "    fused-bias oneDNN (mslu)": lin(nullcontext),
        f"GCN embedding fwd+bwd ({m} frames): factored": embed(lambda: fast_paths_off("dense_graph_conv")),
        "    dense first layer (mslu)": embed(nullcontext),
        "    LayerNorm per node (norm='node')": embed(nullcontext, "node"),
        "    per frame (small preset's norm='frame')": embed(nullcontext, "frame"),
    }
    print_times("fast paths and their plain forms", alternate(pairs, args.reps))

    qkv = torch.randn(b, t, 3, heads, d, dtype=bf)

    def attention(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
        def run(v: torch.Tensor) -> torch.Tensor:
            q_, k_, v_ = v.permute(2, 0, 3, 1, 4).unbind(0)
            return ATTENTION_FUNCTIONS[name](q_, k_, v_, None)

        return run

    title = f"attention fwd+bwd ({b} x {t} x {heads} heads x {d})"
    print_times(title, alternate({f"attn_impl={n}": fwd_bwd(attention(n), qkv) for n in ATTENTION_FUNCTIONS},
                                 args.reps))  # fmt: skip

    sb, n_clips, n_words, d_e = 64, 28, 20, 512  # T = 112 frames pooled by s = 4; 20 text tokens
    sign, text = torch.randn(sb, n_clips, d_e), torch.randn(sb, n_words, d_e)
    clip_mask = torch.arange(n_clips)[None] < torch.randint(8, n_clips + 1, (sb,))[:, None]
    word_mask = torch.arange(n_words)[None] < torch.randint(4, n_words + 1, (sb,))[:, None]

    def similarity(ctx: Context, autocast: bool) -> Callable[[], None]:
        s_, t_ = sign.clone().requires_grad_(), text.clone().requires_grad_()

        def run() -> None:
            with ctx(), torch.autocast("cpu", dtype=bf, enabled=autocast):
                sim = fine_similarity(s_, clip_mask, t_, word_mask)
            sim.sum().backward()

        return run

    pairs = {
        f"fine similarity fwd+bwd ({sb} x {sb} pairs, {n_clips} x {n_words}): autograd": similarity(
            lambda: fast_paths_off("similarity_backward"), False),
        "    written-out backward, float32 matmuls": similarity(nullcontext, False),
        "    written-out backward, bf16 matmuls (mslu under autocast)": similarity(nullcontext, True),
    }  # fmt: skip
    print_times("fine similarity", alternate(pairs, max(3, args.reps // 4)))


if __name__ == "__main__":
    main()
