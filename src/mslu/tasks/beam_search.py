"""Batched beam search for autoregressive decoders (GF-SLT, 4 beams in the paper).

Candidates are every sequence that ends with ``eos`` within ``max_len`` tokens, plus the sequences of exactly
``max_len`` tokens without ``eos`` (truncated). A candidate's score is ``log P(y) / len(y) ** length_penalty``
(``len`` counts the ``eos``; ``length_penalty = 0``: raw log-probability). With ``alpha >= 0`` the search
stops as soon as no alive hypothesis can beat the best finished one, so with a beam as wide as the number of
candidates it is exact (tested against exhaustive search).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

StepFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def beam_search(
    step: StepFn,
    batch_size: int,
    bos: int,
    eos: int,
    beam_size: int = 4,
    max_len: int = 50,
    length_penalty: float = 1.0,
    device: torch.device | str = "cpu",
) -> list[list[int]]:
    """Best sequence per batch item (without ``bos`` / ``eos``).

    ``step(tokens (N, t), rows (N,)) -> log_probs (N, V)``: next-token log-probabilities for ``N`` prefixes
    (each starting with ``bos``); ``rows[n]`` is the batch item of prefix ``n`` (to select its memory).
    """
    if beam_size < 1 or max_len < 1:
        raise ValueError(f"beam_size and max_len must be >= 1, got {beam_size}, {max_len}")
    b, k = batch_size, beam_size
    tokens = torch.full((b * k, 1), bos, dtype=torch.long, device=device)
    scores = torch.full((b, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live prefix per item at the start
    rows = torch.arange(b, device=device).repeat_interleave(k)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(b)]

    def norm(logp: float, n: int) -> float:
        return logp / (n**length_penalty) if length_penalty else logp

    for t in range(1, max_len + 1):
        logp = step(tokens, rows).float().view(b, k, -1)
        v = logp.shape[-1]
        total = scores.unsqueeze(-1) + logp  # (b, k, V)
        last = t == max_len
        for i in range(b):  # hypotheses that end here (eos, or truncation at max_len)
            for j in range(k):
                if scores[i, j] == float("-inf"):
                    continue
                prefix = tokens[i * k + j, 1:].tolist()
                if torch.isfinite(total[i, j, eos]):
                    finished[i].append((norm(float(total[i, j, eos]), t), prefix))
                if last:
                    for c in range(v):
                        if c != eos and torch.isfinite(total[i, j, c]):
                            finished[i].append((norm(float(total[i, j, c]), t), [*prefix, c]))
        if last:
            break
        cont = total.clone()
        cont[..., eos] = float("-inf")
        top, idx = cont.view(b, -1).topk(min(k, k * v), dim=-1)
        if top.shape[1] < k:
            pad = torch.full((b, k - top.shape[1]), float("-inf"), device=device)
            top, idx = torch.cat([top, pad], 1), torch.cat([idx, torch.zeros_like(pad, dtype=torch.long)], 1)
        src = (idx // v) + torch.arange(b, device=device).unsqueeze(1) * k
        tokens = torch.cat([tokens[src.view(-1)], (idx % v).view(-1, 1)], dim=1)
        scores = top
        if length_penalty >= 0 and all(
            finished[i]
            and max(f[0] for f in finished[i]) >= _best_possible(scores[i], max_len, length_penalty)
            for i in range(b)
        ):
            break
    return [max(f, key=lambda x: x[0])[1] if f else [] for f in finished]


def _best_possible(alive: torch.Tensor, max_len: int, alpha: float) -> float:
    """Upper bound of the normalised score any continuation of the alive prefixes can reach (log P <= 0
    only decreases; dividing a negative number by the largest length gives the largest value)."""
    best = float(alive.max())
    if best == float("-inf"):
        return best
    return best / (max_len**alpha) if alpha else best
