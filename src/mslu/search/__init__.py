"""Sign search over a collection (``mslu index build``, ``mslu search``; docs/search.md).

A sign index holds, for every clip of a collection, the psi_FSTS clip embeddings of a fine-tuned SL-RT run
and one pooled vector; a search takes candidates by the pooled vectors (exact, or usearch HNSW for large
collections) and re-ranks them with the model's fine-grained similarity."""

from mslu.search.ann import (
    ANN_MODES,
    ANN_THRESHOLD,
    AnnIndex,
    AnnParams,
    ann_available,
    exact_topk,
    index_ann,
    recall_at_k,
    use_ann,
)
from mslu.search.build import BuildReport, build_index, check_output, collect_inputs, open_output
from mslu.search.embed import describe_embedding, embed_clips, load_clip, load_retrieval_run, pool
from mslu.search.query import CANDIDATES, Hit, SignSearcher, sign_sign_similarity
from mslu.search.store import RunInfo, SignIndex, is_index

__all__ = [
    "ANN_MODES",
    "ANN_THRESHOLD",
    "CANDIDATES",
    "AnnIndex",
    "AnnParams",
    "BuildReport",
    "Hit",
    "RunInfo",
    "SignIndex",
    "SignSearcher",
    "ann_available",
    "build_index",
    "check_output",
    "collect_inputs",
    "describe_embedding",
    "embed_clips",
    "exact_topk",
    "index_ann",
    "is_index",
    "load_clip",
    "load_retrieval_run",
    "open_output",
    "pool",
    "recall_at_k",
    "sign_sign_similarity",
    "use_ann",
]
