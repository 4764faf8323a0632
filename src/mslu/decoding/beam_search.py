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
    offsets = torch.arange(b, device=device).unsqueeze(1) * k
    best = [float("-inf")] * b
    best_seq: list[list[int]] = [[] for _ in range(b)]

    def offer(values: torch.Tensor, flat: torch.Tensor, t: int, with_token: bool, v: int) -> None:
        # every candidate of this step has length t: the best raw score is the best normalised one
        denom = t**length_penalty if length_penalty else 1.0
        for i, (val, f) in enumerate(zip(values.tolist(), flat.tolist())):
            if val / denom > best[i]:  # strict: on ties the earlier (shorter) candidate stays
                j, c = divmod(f, v) if with_token else (f, None)
                best[i] = val / denom
                prefix = tokens[i * k + j, 1:].tolist()
                best_seq[i] = [*prefix, c] if with_token else prefix

    for t in range(1, max_len + 1):
        logp = step(tokens, rows).float().view(b, k, -1)
        v = logp.shape[-1]
        total = scores.unsqueeze(-1) + logp  # (b, k, V)
        eos_val, eos_j = total[..., eos].max(dim=1)
        offer(eos_val, eos_j, t, False, v)
        cont = total.clone()
        cont[..., eos] = float("-inf")
        if t == max_len:  # truncated hypotheses of exactly max_len tokens
            val, flat = cont.view(b, -1).max(dim=1)
            offer(val, flat, t, True, v)
            break
        top, idx = cont.view(b, -1).topk(min(k, k * v), dim=-1)
        if top.shape[1] < k:
            pad = torch.full((b, k - top.shape[1]), float("-inf"), device=device)
            top, idx = torch.cat([top, pad], 1), torch.cat([idx, torch.zeros_like(pad, dtype=torch.long)], 1)
        tokens = torch.cat([tokens[(idx // v + offsets).view(-1)], (idx % v).view(-1, 1)], dim=1)
        scores = top
        if length_penalty >= 0 and all(
            best[i] >= _best_possible(scores[i], max_len, length_penalty) for i in range(b)
        ):
            break
    return best_seq


def _best_possible(alive: torch.Tensor, max_len: int, alpha: float) -> float:
    """Upper bound of the normalised score any continuation of the alive prefixes can reach (log P <= 0
    only decreases; dividing a negative number by the largest length gives the largest value)."""
    best = float(alive.max())
    if best == float("-inf"):
        return best
    return best / (max_len**alpha) if alpha else best
