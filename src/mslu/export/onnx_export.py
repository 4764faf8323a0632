"""ONNX export of the encoder and the task models, verified against PyTorch with onnxruntime.

Exporter: ``torch.onnx.export(..., dynamo=False)``, the TorchScript tracer (torch 2.13: the dynamo exporter
needs ``onnxscript`` and gains nothing for these graphs), opset 17, batch and length axes dynamic. Each graph
is traced on a padded batch of 2, then run by onnxruntime (CPU) on two other shapes (batch 1 and 3, shorter
and longer sequences, the batch of 3 padded) and compared with the PyTorch model in eval mode: the largest
absolute difference over all float outputs is reported (integer / boolean outputs must be equal) and must be
within ``tolerance`` (default 1e-4, fp32).

Per model kind (graph files ``<name>.onnx`` in the output folder, or ``FILE.onnx`` + ``FILE_<part>.onnx``):

* encoder: ``encoder`` (pose, frame_mask -> features);
* ISLR: ``islr`` (-> logits);
* CSLR: ``cslr`` (-> CTC log_probs, lengths; decoding is not exported);
* SLT: ``slt_encoder`` (-> decoder memory; the autoregressive decoder and beam search are not exported);
* retrieval: ``retrieval_sign`` (-> sign embeddings + clip mask), ``retrieval_text`` (text-encoder features
  -> text embeddings), ``retrieval_similarity`` (-> signs x texts similarity); the text encoder is not
  exported.

``export.json`` (or ``FILE.json``) records the graphs, their inputs / outputs, the errors, what is not
exported and the labels needed after the graph (ISLR classes, CSLR vocabulary).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mslu.export.graphs import COMMON_NOT_EXPORTED, NOT_EXPORTED, TASK_GRAPHS, Graph, encoder_graph
from mslu.hub.folder import HubError, inspect_source, one_line, resolve
from mslu.models import SignPoseEncoder
from mslu.models.kernels import fast_paths_off
from mslu.models.transformer import SelfAttention
from mslu.tasks.run_dir import load_model

OPSET = 17
DEFAULT_TOLERANCE = 1e-4
EXPORTER = "torch.onnx.export with the TorchScript tracer (dynamo=False)"
TRACE_BATCH, CHECK_BATCHES = 2, (1, 3)


class ExportError(ValueError):
    """A one-line export problem (names the run folder or the graph file first)."""


@dataclass
class GraphReport:
    name: str
    file: str
    description: str
    inputs: dict[str, list]
    outputs: dict[str, list]
    checks: list[dict[str, Any]] = field(default_factory=list)  # {"shape": [batch, length], "max_abs_error"}

    @property
    def max_abs_error(self) -> float | None:
        errs = [c["max_abs_error"] for c in self.checks]
        return max(errs) if errs else None


@dataclass
class ExportReport:
    source: str
    kind: str  # "encoder" | the task name
    graphs: list[GraphReport]
    report_file: str
    tolerance: float
    opset: int
    exporter: str
    max_frames: int
    not_exported: list[str]
    labels: dict[str, Any]
    torch_version: str = torch.__version__
    onnxruntime_version: str | None = None

    @property
    def files(self) -> list[Path]:
        return [Path(g.file) for g in self.graphs]

    @property
    def verified(self) -> bool:
        return self.onnxruntime_version is not None

    @property
    def max_abs_error(self) -> float | None:
        errs = [g.max_abs_error for g in self.graphs if g.max_abs_error is not None]
        return max(errs) if errs else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["max_abs_error"] = self.max_abs_error
        for g, gd in zip(self.graphs, d["graphs"]):
            gd["max_abs_error"] = g.max_abs_error
        return d


@contextlib.contextmanager
def _quiet():
    """Silence the tracer's Python warnings and the exporter's C++ messages (e.g. the missing shape
    inference of packed LSTM sequences, the IR dump of a failed export) on stdout / stderr; errors still
    raise."""
    with warnings.catch_warnings(), contextlib.ExitStack() as stack:
        warnings.simplefilter("ignore")
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        for fd in (1, 2):
            try:
                os.fstat(fd)
            except OSError:
                continue
            saved = os.dup(fd)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
            stack.callback(os.close, saved)
            stack.callback(os.dup2, saved, fd)
        yield


@contextlib.contextmanager
def _traceable(module: torch.nn.Module):
    """Trace the plain forms: eager self-attention (matmul + softmax on traced sizes; the fused CPU kernel is
    a custom autograd function and SDPA freezes the batch in some reshapes) and no CPU fast paths."""
    blocks = [m for m in module.modules() if isinstance(m, SelfAttention)]
    before = [m.attn_impl for m in blocks]
    for m in blocks:
        m.attn_impl = "eager"
    try:
        with fast_paths_off("fused_linear", "dense_graph_conv", "similarity_backward"):
            yield
    finally:
        for m, impl in zip(blocks, before):
            m.attn_impl = impl


def _load(run: str | os.PathLike):
    try:
        src = inspect_source(resolve(run))
    except HubError as e:
        raise ExportError(str(e)) from None
    try:
        if src.kind == "task":
            task, model = load_model(src.model_dir, "cpu")
            return src, task, model.eval()
        return src, None, SignPoseEncoder.from_pretrained(src.model_dir).eval()
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ExportError(f"{src.model_dir}: cannot load the model ({one_line(e)})") from None


def _paths(
    graphs: list[Graph], run: str | os.PathLike, out: str | os.PathLike | None
) -> tuple[list[Path], Path]:
    if out is None:
        p = Path(run)
        out = p / "onnx" if p.is_dir() else Path(f"{str(run).rsplit('/', 1)[-1]}-onnx")
    out = Path(out)
    if out.suffix == ".onnx":
        main = graphs[0].name
        files = [out] + [
            out.with_name(f"{out.stem}_{g.name.removeprefix(main.split('_')[0] + '_')}.onnx")
            for g in graphs[1:]
        ]
        return files, out.with_suffix(".json")
    return [out / f"{g.name}.onnx" for g in graphs], out / "export.json"


def _labels(task) -> dict[str, Any]:
    if task is None:
        return {}
    if task.name == "islr":
        return {"classes": task.classes, "class_text": {str(k): v for k, v in task.class_text.items()}}
    if task.name == "cslr":
        return {"vocabulary": ["<blank>", *task.glosses], "blank": 0}
    if task.name == "slt":
        return {"language": task.language}
    if task.name == "retrieval":
        h = task.head_cfg
        text = dict(task.defaults["model"]["head"]["text"], **(h.get("text") or {}))
        return {"text_encoder": text, "similarity": h.get("similarity", "fine"), "window": h.get("window", 4)}
    return {}


def _lengths(graph: Graph, max_frames: int) -> tuple[int, int, int]:
    """Sequence lengths for tracing and the two checks (frames for pose inputs, tokens / clips else)."""
    if graph.inputs[0][0] == "pose":
        return min(24, max_frames), min(17, max_frames), min(40, max_frames)
    return 5, 3, 9


def _flat(x) -> list[torch.Tensor]:
    return [t for t in x] if isinstance(x, tuple | list) else [x]


def _compare(got: list[np.ndarray], ref: list[torch.Tensor]) -> float:
    err = 0.0
    for g, r in zip(got, ref, strict=True):
        r = r.detach().cpu().numpy()
        if g.shape != r.shape:
            return math.inf
        if r.dtype.kind == "f":
            err = max(err, float(np.abs(g.astype(np.float64) - r.astype(np.float64)).max(initial=0.0)))
        elif not np.array_equal(g.astype(r.dtype), r):
            return math.inf
    return err


def _export_one(graph: Graph, path: Path, length: int, opset: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    args = graph.sample(TRACE_BATCH, length, 0)
    graph.module.eval()
    with _quiet(), _traceable(graph.module):
        torch.onnx.export(
            graph.module,
            args,
            str(path),
            input_names=[n for n, _ in graph.inputs],
            output_names=[n for n, _ in graph.outputs],
            dynamic_axes=graph.dynamic_axes(),
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def _verify(graph: Graph, path: Path, lengths: tuple[int, int], ort) -> list[dict[str, Any]]:
    so = ort.SessionOptions()
    so.log_severity_level = 3  # no warnings about re-planned buffers when shapes change between runs
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    checks = []
    for k, (b, t) in enumerate(zip(CHECK_BATCHES, lengths)):
        args = graph.sample(b, t, k + 1)
        with torch.no_grad():
            ref = _flat(graph.reference(*args))
        got = sess.run(None, {n: a.numpy() for (n, _), a in zip(graph.inputs, args)})
        checks.append({"shape": [b, t], "max_abs_error": _compare(got, ref)})
    return checks


def export_onnx(
    run: str | os.PathLike,
    out: str | os.PathLike | None = None,
    encoder_only: bool = False,
    opset: int = OPSET,
    tolerance: float = DEFAULT_TOLERANCE,
    verify: bool = True,
) -> ExportReport:
    """Export the model of ``run`` (fine-tuning run, model / hub folder, encoder folder, or a repo id in the
    local HF cache) to ONNX under ``out`` (a folder, default ``<run>/onnx``, or a ``.onnx`` file path) and
    verify it with onnxruntime (see the module docstring). ``encoder_only``: just the (fine-tuned) psi_SE.
    Raises :class:`ExportError` (one line) on a bad run or when the error exceeds ``tolerance``."""
    ort = None
    if verify:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ExportError(
                "onnxruntime is not installed (pip install 'mslu[export]'); verify=False / --no-verify "
                "exports without checking"
            ) from None
    src, task, model = _load(run)
    if src.kind == "encoder" or encoder_only:
        encoder = model if src.kind == "encoder" else model.encoder
        graphs, kind, not_exported = [encoder_graph(encoder)], "encoder", []
        if src.kind == "task":
            not_exported = [f"the {src.task} head (exported without --encoder-only)"]
    else:
        encoder = model.encoder
        graphs, kind, not_exported = TASK_GRAPHS[src.task](model), src.task, list(NOT_EXPORTED[src.task])
    max_frames = int(encoder.cfg.max_frames)
    files, report_file = _paths(graphs, run, out)
    reports = []
    for graph, path in zip(graphs, files):
        lengths = _lengths(graph, max_frames)
        try:
            _export_one(graph, path, lengths[0], opset)
        except Exception as e:  # the tracer / exporter raise many kinds
            raise ExportError(
                f"{path}: export of {graph.name} failed ({type(e).__name__}: {one_line(e)})"
            ) from None
        try:
            import onnx

            onnx.checker.check_model(str(path))
        except ImportError:
            pass
        except Exception as e:
            raise ExportError(f"{path}: invalid ONNX model ({one_line(e)})") from None
        rep = GraphReport(graph.name, str(path), graph.description, dict(graph.inputs), dict(graph.outputs))
        if ort is not None:
            rep.checks = _verify(graph, path, lengths[1:], ort)
        reports.append(rep)
    report = ExportReport(
        source=str(src.model_dir),
        kind=kind,
        graphs=reports,
        report_file=str(report_file),
        tolerance=float(tolerance),
        opset=opset,
        exporter=EXPORTER,
        max_frames=max_frames,
        not_exported=not_exported + COMMON_NOT_EXPORTED,
        labels=_labels(task) if kind != "encoder" else {},
        onnxruntime_version=getattr(ort, "__version__", None),
    )
    report_file.parent.mkdir(parents=True, exist_ok=True)
    report_file.write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    for g in reports:
        if g.max_abs_error is not None and not g.max_abs_error <= tolerance:
            raise ExportError(
                f"{g.file}: onnxruntime differs from PyTorch by {g.max_abs_error:.3g} "
                f"> tolerance {tolerance:g}"
            )
    return report
