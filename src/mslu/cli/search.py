"""``mslu search``: the clips of a sign index that best match a sentence or another clip."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="search a sign index by text or by example clip",
        description='Text -> signs: `mslu search INDEX "a sentence"`; sign -> signs: `mslu search INDEX '
        "--like clip.pose`. Candidates by pooled embeddings (exact, or ANN for large indexes), re-ranked "
        "with the run's fine-grained similarity (docs/search.md).",
    )
    p.add_argument("index", help="index directory written by `mslu index build`")
    p.add_argument("text", nargs="?", help="the sentence to search for")
    p.add_argument("--like", metavar="CLIP", help="a pose file or video: find similar signs")
    p.add_argument("-k", type=int, default=5, help="results to show (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--lang", default="en", help="language of the sentence (text encoder's language token)")
    p.add_argument("--ann", default="auto", choices=("auto", "on", "off"),
                   help="approximate candidate search: auto = from 50,000 clips on (default)")  # fmt: skip
    p.add_argument("--candidates", type=int, default=100, help="candidates re-ranked (default 100)")
    p.add_argument("--width", type=int, help="frame width of a --like pose file that does not record it")
    p.add_argument("--height", type=int, help="frame height of a --like pose file that does not record it")
    p.add_argument("--run", help="the run the index was built with, if it moved")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run)


def _error(msg: object) -> int:
    print(f"error: {' '.join(str(msg).split())}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    import json

    from mslu.search import SignSearcher, load_clip

    if (args.text is None) == (args.like is None):
        return _error('give either a sentence or --like CLIP (mslu search INDEX "a sentence")')
    if args.k < 1:
        return _error(f"-k must be >= 1, got {args.k}")
    try:
        pose = None
        if args.like is not None:  # a bad clip fails before the model loads
            pose = load_clip(args.like, width=args.width, height=args.height)[0]
        searcher = SignSearcher(args.index, run=args.run, device=args.device, ann=args.ann,
                                candidates=args.candidates)  # fmt: skip
        if pose is not None:
            hits = searcher.search_pose(pose, args.k)
        else:
            hits = searcher.search_text(args.text, args.k, args.lang)
    except (OSError, ValueError, RuntimeError) as e:
        return _error(e)
    stage1 = "ann" if searcher.uses_ann else "exact"
    rerank = "symmetric max-sim" if args.like is not None else "psi_FSTS"
    if searcher.kind == "coarse":
        rerank = "cosine (coarse)"
    if args.json:
        out = {
            "index": str(searcher.index.root),
            "query": {"like": args.like} if args.like is not None else {"text": args.text, "lang": args.lang},
            "clips": len(searcher.index),
            "stage1": stage1,
            "candidates": min(max(searcher.candidates, args.k), len(searcher.index)),
            "rerank": rerank,
            "hits": [h.to_dict() for h in hits],
        }
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    query = f"like {args.like}" if args.like is not None else repr(args.text)
    print(f"{query}: top {len(hits)} of {len(searcher.index)} clips ({stage1} candidates, re-ranked by "
          f"{rerank})")  # fmt: skip
    if not hits:
        return 0
    width = max(len("id"), *(len(h.id) for h in hits))
    print(f"{'rank':>4}  {'score':>7}  {'stage1':>7}  {'frames':>6}  {'id':<{width}}  path")
    for h in hits:
        scores = f"{h.score:>7.4f}  {h.pooled_score:>7.4f}"
        print(f"{h.rank:>4}  {scores}  {h.frames:>6}  {h.id:<{width}}  {h.path}")
    return 0
