"""Two-stage search over a sign index: text -> signs and sign -> signs.

Stage 1 (candidates): the inner product of the query's pooled vector with every clip's pooled vector (mean
of the L2-normalised clip / word embeddings), exactly (one matmul) or with the ANN index (usearch HNSW) for
large collections. With psi_FSTS's row softmax taken as uniform, m_ij is the mean over clips and words of
their cosines, i.e. exactly this inner product: stage 1 is psi_FSTS's first-order approximation.

Stage 2 (re-ranking) of the ``candidates`` best (default 100):

* text -> signs: the model's own psi_FSTS m_ij (Eq. 4; coarse runs: cosine of the global features), the
  score SL-RT evaluation ranks videos by. With at most ``candidates`` clips in the index, the ranking is
  exactly the paper's retrieval over the whole collection.
* sign -> signs: psi_FSTS is defined between a sign and a text; between two signs we take its hard-attention
  limit (the row softmax over the other sign's clips becomes an argmax), symmetrised:
  ``1/2 (mean_a max_b cos(q_a, c_b) + mean_b max_a cos(c_b, q_a))``. It is 1 for a clip against itself
  and <= 1 otherwise (coarse runs: cosine of the global features).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mslu.models.similarity import coarse_similarity
from mslu.search.ann import ANN_THRESHOLD, AnnIndex, check_mode, exact_topk, index_ann, use_ann
from mslu.search.embed import embed_clips, load_clip, load_retrieval_run, pool, retrieval_model_dir
from mslu.search.store import SignIndex

CANDIDATES = 100


@dataclass
class Hit:
    """One result: its rank (1 = best), final score, stage-1 score and the clip's metadata."""

    rank: int
    score: float
    pooled_score: float
    row: int
    id: str
    path: str
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sign_sign_similarity(
    kind: str, a: torch.Tensor, a_mask: torch.Tensor, b: torch.Tensor, b_mask: torch.Tensor
) -> torch.Tensor:
    """(A, B) similarity of signs ``a`` (A, n, d) and ``b`` (B, n', d): symmetric hard-attention psi_FSTS
    (see the module doc); ``kind="coarse"``: cosine of the single global vectors."""
    if kind == "coarse":
        return coarse_similarity(a[:, 0], b[:, 0])
    a = F.normalize(a.float(), dim=-1)
    b = F.normalize(b.float(), dim=-1)
    z = torch.einsum("ind,jmd->ijnm", a, b)  # (A, B, n, m) clip cosines
    neg = torch.finfo(z.dtype).min
    am, bm = a_mask.bool()[:, None, :, None], b_mask.bool()[None, :, None, :]
    best_ab = z.masked_fill(~bm, neg).amax(3)  # (A, B, n): each clip of a, its best clip of b
    best_ba = z.masked_fill(~am, neg).amax(2)  # (A, B, m)
    wa = a_mask.float()[:, None, :]
    wb = b_mask.float()[None, :, :]
    s_ab = (best_ab * wa).sum(-1) / wa.sum(-1).clamp(min=1)
    s_ba = (best_ba * wb).sum(-1) / wb.sum(-1).clamp(min=1)
    return 0.5 * (s_ab + s_ba)


class SignSearcher:
    """Search one index with the run it was built from (or ``run``: a copy of the same weights).

    ``ann``: ``"auto"`` (ANN from ``ann_threshold`` clips on, when usearch is installed), ``"on"`` or
    ``"off"`` (exact stage 1). ``candidates``: how many stage-1 results stage 2 re-ranks.
    """

    def __init__(
        self,
        index: SignIndex | str | Path,
        run: str | Path | None = None,
        device: str | torch.device = "auto",
        ann: str = "auto",
        candidates: int = CANDIDATES,
        ann_threshold: int = ANN_THRESHOLD,
        model: tuple[Any, Any] | None = None,
    ):
        self.index = index if isinstance(index, SignIndex) else SignIndex.open(index)
        self.ann_mode = check_mode(ann)
        if int(candidates) < 1:
            raise ValueError(f"--candidates must be >= 1, got {candidates}")
        self.candidates = int(candidates)
        self.ann_threshold = int(ann_threshold)
        self._ann: AnnIndex | None = None
        if model is not None:
            self.task, self.model = model
            self.device = next(self.model.parameters()).device
        else:
            self.task, self.model, self.device = load_retrieval_run(self._check_run(run), device)
        self.kind = self.index.embedding.get("similarity", "fine")

    def _check_run(self, run: str | Path | None) -> Path:
        recorded = self.index.run
        if run is None:
            if not Path(recorded.path).is_dir():
                raise FileNotFoundError(
                    f"{self.index.root}: the run it was built with ({recorded.path}) is gone; "
                    "pass --run with a copy of it"
                )
            run = recorded.path
        d = retrieval_model_dir(run)
        if not recorded.matches(d):
            raise ValueError(
                f"{run}: not the run this index was built with ({recorded.path}, model.safetensors sha256 "
                f"{recorded.sha256[:12]}...); search with that run or rebuild the index"
            )
        return d

    # ---- stage 1 ----
    @property
    def uses_ann(self) -> bool:
        return use_ann(self.ann_mode, len(self.index), self.ann_threshold)

    def candidate_rows(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Stage 1: the ``count`` best rows by pooled inner product, and their scores."""
        if self.uses_ann:
            if self._ann is None:
                self._ann = index_ann(self.index)
            rows, scores = self._ann.search(query, count)
        else:
            rows, scores = exact_topk(self.index.pooled(), query, count)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    # ---- queries ----
    @torch.no_grad()
    def search_text(self, text: str, k: int = 5, lang: str = "en") -> list[Hit]:
        """The ``k`` clips that best match a sentence (psi_FSTS re-ranked)."""
        if not str(text).strip():
            raise ValueError("the text query is empty")
        t, tm = self.task.embed_sentences(self.model, [text], self.device, lang)
        rows, first = self.candidate_rows(pool(t, tm)[0], max(self.candidates, k))
        if not len(rows):
            return []
        s, sm = self._fine(rows)
        score = self.model.similarity.similarity(s, sm, t, tm)[:, 0].float().cpu().numpy()
        return self._hits(rows, first, score, k)

    @torch.no_grad()
    def search_pose(self, pose: np.ndarray, k: int = 5) -> list[Hit]:
        """The ``k`` clips most like a (T, 79, 3) frame-unit pose."""
        fine, pooled = embed_clips(self.task, self.model, [pose], self.device)
        rows, first = self.candidate_rows(pooled[0], max(self.candidates, k))
        if not len(rows):
            return []
        s, sm = self._fine(rows)
        q = torch.from_numpy(fine[0]).to(self.device)[None]
        qm = torch.ones(q.shape[:2], dtype=torch.bool, device=self.device)
        score = sign_sign_similarity(self.kind, s, sm, q, qm)[:, 0].float().cpu().numpy()
        return self._hits(rows, first, score, k)

    def search_file(
        self, path: str | Path, k: int = 5, width: int | None = None, height: int | None = None
    ) -> list[Hit]:
        """:meth:`search_pose` on a pose file or video (``width`` / ``height``: see :func:`load_clip`)."""
        pose, _ = load_clip(path, width=width, height=height)
        return self.search_pose(pose, k)

    # ---- helpers ----
    def _fine(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x, m = self.index.fine(rows)
        return torch.from_numpy(x).to(self.device), torch.from_numpy(m).to(self.device)

    def _hits(self, rows: np.ndarray, first: np.ndarray, score: np.ndarray, k: int) -> list[Hit]:
        order = np.lexsort((rows, -score))[:k]  # best score first; ties by row
        clips = self.index.clips()
        out = []
        for rank, j in enumerate(order, 1):
            c = clips[int(rows[j])]
            out.append(Hit(rank, float(score[j]), float(first[j]), int(rows[j]), str(c["id"]), str(c["path"]),
                           int(c.get("frames", 0))))  # fmt: skip
        return out
