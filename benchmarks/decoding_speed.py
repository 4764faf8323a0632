"""CTC decoding speed: greedy and prefix beam search on random log-probabilities.

Defaults mimic Phoenix-2014 CSLR outputs (~1,100 gloss classes + blank, ~75 output frames after 4x
temporal down-sampling of ~300-frame videos).

    .venv/bin/python benchmarks/decoding_speed.py --frames 75 --classes 1296 --beam 10 --sequences 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mslu.decoding import ctc_greedy_decode, ctc_prefix_beam_search


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=75)
    ap.add_argument("--classes", type=int, default=1296)
    ap.add_argument("--beam", type=int, default=10)
    ap.add_argument("--sequences", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(args.sequences, args.frames, args.classes)) * 3.0
    x[..., 0] += 4.0  # blank-dominated, like a trained CTC model
    lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    t0 = time.perf_counter()
    ctc_greedy_decode(lp)
    t1 = time.perf_counter()
    ctc_prefix_beam_search(lp, beam_width=args.beam)
    t2 = time.perf_counter()
    n = args.sequences
    print(f"T={args.frames} C={args.classes} beam={args.beam} sequences={n}")
    print(f"greedy:      {1000 * (t1 - t0) / n:8.2f} ms / sequence")
    print(f"beam search: {1000 * (t2 - t1) / n:8.2f} ms / sequence")


if __name__ == "__main__":
    main()
