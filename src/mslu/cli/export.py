"""``mslu export onnx``: ONNX graphs of a fine-tuned run or a pre-trained encoder, checked with
onnxruntime."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a model to ONNX (verified against PyTorch with onnxruntime)",
        description="`onnx`: the encoder, or the ISLR / retrieval / CSLR / SLT-encoder graphs of a run, "
        "with dynamic batch and length axes; reports the max abs difference to PyTorch.",
    )
    sub = p.add_subparsers(dest="export_format", metavar="FORMAT")
    o = sub.add_parser("onnx", help="ONNX graphs + export.json report")
    o.add_argument("--run", required=True, help="run, model / hub folder, encoder folder or cached repo id")
    o.add_argument("--out", default=None, help="output folder (default RUN/onnx) or FILE.onnx")
    o.add_argument("--encoder-only", action="store_true", help="only the (fine-tuned) encoder psi_SE")
    o.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    o.add_argument("--tolerance", type=float, default=None, help="max abs error allowed (default 1e-4)")
    o.add_argument("--no-verify", action="store_true", help="skip the onnxruntime check")
    o.set_defaults(func=_onnx)
    p.set_defaults(func=lambda args: p.print_help() or 1)


def _dims(spec: dict) -> str:
    return ", ".join(f"{n}[{','.join(str(d) for d in dims)}]" for n, dims in spec.items())


def _onnx(args: argparse.Namespace) -> int:
    from mslu.export import DEFAULT_TOLERANCE, OPSET, export_onnx

    rep = export_onnx(
        args.run,
        args.out,
        encoder_only=args.encoder_only,
        opset=args.opset or OPSET,
        tolerance=DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance,
        verify=not args.no_verify,
    )
    for g in rep.graphs:
        print(f"wrote {g.file}: {_dims(g.inputs)} -> {_dims(g.outputs)}")
        for c in g.checks:
            b, t = c["shape"]
            print(f"  onnxruntime vs PyTorch, batch {b} x length {t}: max abs error {c['max_abs_error']:.2e}")
    if rep.verified:
        print(
            f"verified with onnxruntime {rep.onnxruntime_version}: max abs error {rep.max_abs_error:.2e} "
            f"(tolerance {rep.tolerance:g}, fp32; {rep.exporter}, opset {rep.opset})"
        )
    else:
        print("not verified (--no-verify)")
    print(f"frames per sequence: at most {rep.max_frames}")
    for item in rep.not_exported:
        print(f"not exported: {item}")
    print(f"report: {rep.report_file}")
    return 0
