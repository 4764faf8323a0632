"""``mslu serve``: a local web page to try fine-tuned runs on a video or a pose file (docs/serve.md)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="local web demo: drop a video or pose file, see the skeleton and the predictions",
        description="Starts a web page (default http://127.0.0.1:7860/) where a video or a pose file "
        "is shown as its SL79 skeleton with the predictions of every --run: top-5 signs (ISLR), glosses "
        "(CSLR), the translation (GF-SLT), the nearest sentences (SL-RT), and with --index its nearest "
        "clips. Uploads are processed in a temporary directory and deleted afterwards.",
    )
    p.add_argument("--run", action="append", default=[], metavar="RUN_DIR",
                   help="a run directory written by `mslu finetune` (repeat for several)")  # fmt: skip
    p.add_argument("--index", help="a sign index written by `mslu index build`: show the nearest clips")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")  # fmt: skip
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--device", default="auto")
    p.add_argument("--max-upload-mb", type=float, default=50.0, help="largest upload (default 50 MB)")
    p.add_argument("--max-frames", type=int, default=1500,
                   help="longest clip in frames (default 1500: a minute at 25 fps)")  # fmt: skip
    p.add_argument("--tmp-dir", help="where the per-upload temporary directories go (default: the system's)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from mslu.serve import Limits, build_app, check_port, is_loopback, serve
        from mslu.serve.server import allowed_hosts_for
    except ImportError as e:
        raise ValueError(f"mslu serve needs FastAPI and uvicorn ({e}): pip install 'mslu[serve]'") from None

    if not args.run and not args.index:
        raise ValueError("give at least one --run RUN_DIR (and optionally --index INDEX)")
    limits = Limits(max_upload_mb=args.max_upload_mb, max_frames=args.max_frames)
    check_port(args.host, args.port)  # a taken port fails before the models load
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine on port {args.port} can "
              "upload files to the demo and use its models; it has no authentication (docs/serve.md)",
              file=sys.stderr)  # fmt: skip
    app = build_app(args.run, args.index, device=args.device, limits=limits,
                    allowed_hosts=allowed_hosts_for(args.host), tmp_dir=args.tmp_dir)  # fmt: skip
    engine = app.state.engine
    bare = args.host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    names = ", ".join(f"{r.name} ({r.task_name})" for r in engine.runs) or "no run"
    index = f"; index {engine.index_path} ({len(engine.searcher.index)} clips)" if engine.searcher else ""
    print(f"mslu serve: {names}{index}; open http://{shown}:{args.port}/ (Ctrl-C stops)", flush=True)
    serve(app, args.host, args.port)
    return 0
