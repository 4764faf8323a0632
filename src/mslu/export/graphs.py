"""The graphs exported per model kind: traceable wrappers, their PyTorch references, input samplers.

Each :class:`Graph` pairs a module to trace (``torch.onnx.export``) with the model method it must equal
(the reference the verification compares against) and a sampler of inputs for a (batch, length) shape.
Tracing records one path through Python control flow, so the wrappers avoid the two data-dependent ones:
the exporter traces the encoder with a padded batch (the general masked path of the pose embedding, exact for
unpadded batches too), and the retrieval sign graph pools clips with an assignment matrix instead of
``math.ceil``-sized views (the same numbers as :func:`mslu.models.similarity.window_pool`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from mslu.models.kernels import fast_paths_off
from mslu.pose.layouts import SL79

POSE_DIMS = ["batch", "frames", SL79.num_keypoints, 3]
MASK_DIMS = ["batch", "frames"]


@dataclass
class Graph:
    """One ONNX graph: ``inputs`` / ``outputs`` are ``(name, dims)`` (str dims are dynamic axes)."""

    name: str
    module: nn.Module
    reference: Callable[..., object]
    inputs: list[tuple[str, list]]
    outputs: list[tuple[str, list]]
    sample: Callable[[int, int, int], tuple[torch.Tensor, ...]]
    description: str = ""
    notes: list[str] = field(default_factory=list)

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {
            n: {i: d for i, d in enumerate(dims) if isinstance(d, str)}
            for n, dims in self.inputs + self.outputs
        }


def _mask(b: int, t: int) -> torch.Tensor:
    """(B, T) valid-frame mask: the last item of a batch of >= 2 keeps half of its frames (padding)."""
    m = torch.ones(b, t, dtype=torch.bool)
    if b > 1:
        m[-1, max(1, t // 2) :] = False
    return m


def pose_sample(b: int, t: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random normalised poses (B, T, 79, 3) (x, y around the body scale, confidence in [0, 1]) + mask."""
    g = torch.Generator().manual_seed(seed)
    pose = torch.randn(b, t, SL79.num_keypoints, 3, generator=g) * 0.5
    pose[..., 2] = torch.rand(b, t, SL79.num_keypoints, generator=g)
    mask = _mask(b, t)
    return pose * mask[..., None, None], mask


class _Call(nn.Module):
    """``forward(*x) = fn(*x)`` with ``model`` registered (its parameters become the graph's weights)."""

    def __init__(self, model: nn.Module, fn: Callable[..., object]):
        super().__init__()
        self.model = model
        self.__dict__["fn"] = fn  # not a submodule: the weights are registered once, under model

    def forward(self, *args):
        return self.fn(*args)


def pool_clips(features: torch.Tensor, frame_mask: torch.Tensor, s: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`mslu.models.similarity.window_pool` written with traced sizes only: mean of the valid frames
    of each window of ``s`` frames (B, ceil(T/s), D) and the clip mask."""
    t = features.shape[1]
    n = (t + s - 1) // s
    clip = torch.arange(t, device=features.device) // s
    assign = (clip.unsqueeze(1) == torch.arange(n, device=features.device).unsqueeze(0)).to(features.dtype)
    w = frame_mask.to(features.dtype)
    sums = torch.einsum("btd,tn->bnd", features * w.unsqueeze(-1), assign)
    cnt = w @ assign
    return sums / cnt.clamp(min=1).unsqueeze(-1), cnt > 0


def encoder_graph(encoder: nn.Module, name: str = "encoder") -> Graph:
    return Graph(
        name,
        _Call(encoder, encoder),
        encoder,
        [("pose", POSE_DIMS), ("frame_mask", MASK_DIMS)],
        [("features", ["batch", "frames", encoder.output_dim])],
        pose_sample,
        "sign pose encoder psi_SE: frame features F_SE (padding frames 0)",
    )


def islr_graphs(model) -> list[Graph]:
    return [
        Graph(
            "islr",
            _Call(model, model),
            model,
            [("pose", POSE_DIMS), ("frame_mask", MASK_DIMS)],
            [("logits", ["batch", model.classifier.out_features])],
            pose_sample,
            "psi_SE + masked temporal mean + linear: class logits (softmax / top-k after the graph)",
        )
    ]


def cslr_graphs(model) -> list[Graph]:
    return [
        Graph(
            "cslr",
            _Call(model, model),
            model,
            [("pose", POSE_DIMS), ("frame_mask", MASK_DIMS)],
            [
                ("log_probs", ["batch", "steps", model.classifier.out_features]),
                ("lengths", ["batch"]),
            ],
            pose_sample,
            "psi_SE + TCN + BiLSTM + linear: CTC log-probabilities over blank (0) + glosses, valid steps",
        )
    ]


def slt_graphs(model) -> list[Graph]:
    return [
        Graph(
            "slt_encoder",
            _Call(model, model.memory),
            model.memory,
            [("pose", POSE_DIMS), ("frame_mask", MASK_DIMS)],
            [("memory", ["batch", "frames", model.projector[-1].out_features])],
            pose_sample,
            "psi_SE + MLP projector: the decoder's memory (cross-attention keys over frame_mask)",
        )
    ]


def retrieval_graphs(model) -> list[Graph]:
    sim = model.similarity
    d = sim.sign_proj[-1].out_features
    text_dim = sim.text_proj[0].in_features
    coarse = sim.kind == "coarse"

    def sign(pose, frame_mask):
        if coarse:
            return model.embed_sign(pose, frame_mask)
        f, _ = model.encoder.forward_with_cls(pose, frame_mask)
        clips, clip_mask = pool_clips(f, frame_mask.bool(), sim.window)
        return sim.sign_proj(clips), clip_mask

    def text_sample(b: int, t: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        return torch.randn(b, t, text_dim, generator=g), _mask(b, t)

    def text(features, mask):
        emb, m = model.embed_text(features, mask)
        return emb, m.clone() if m is mask else m

    def pair_sample(b: int, t: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        n = 1 if coarse else t
        m = 1 if coarse else t + 3
        return (
            torch.randn(b, n, d, generator=g),
            _mask(b, n),
            torch.randn(b + 1, m, d, generator=g),
            torch.flip(_mask(b + 1, m), [0]),
        )

    def similarity(s, sm, t, tm):
        with fast_paths_off("similarity_backward"):  # plain autograd ops, no custom autograd.Function
            return sim.similarity(s, sm, t, tm)

    clips = 1 if coarse else "clips"
    words = 1 if coarse else "words"
    return [
        Graph(
            "retrieval_sign",
            _Call(model, sign),
            model.embed_sign,
            [("pose", POSE_DIMS), ("frame_mask", MASK_DIMS)],
            [("sign_embeddings", ["batch", clips, d]), ("sign_mask", ["batch", clips])],
            pose_sample,
            f"psi_SE + {'[CLS]' if coarse else f'{sim.window}-frame clip pooling'} + sign projector",
        ),
        Graph(
            "retrieval_text",
            _Call(model, text),
            model.embed_text,
            [("text_features", ["texts", "tokens", text_dim]), ("text_mask", ["texts", "tokens"])],
            [("text_embeddings", ["texts", words, d]), ("text_embedding_mask", ["texts", words])],
            text_sample,
            "text projector over the frozen text encoder's token features (psi_TE is not in the graph)",
        ),
        Graph(
            "retrieval_similarity",
            _Call(model, similarity),
            sim.similarity,
            [
                ("sign_embeddings", ["signs", clips, d]),
                ("sign_mask", ["signs", clips]),
                ("text_embeddings", ["texts", words, d]),
                ("text_embedding_mask", ["texts", words]),
            ],
            [("similarity", ["signs", "texts"])],
            pair_sample,
            f"{'coarse' if coarse else 'fine-grained'} sign-text similarity m_ij (signs x texts)",
        ),
    ]


TASK_GRAPHS: dict[str, Callable[[nn.Module], list[Graph]]] = {
    "islr": islr_graphs,
    "cslr": cslr_graphs,
    "slt": slt_graphs,
    "retrieval": retrieval_graphs,
}

NOT_EXPORTED: dict[str, list[str]] = {
    "encoder": [],
    "islr": ["softmax / top-k over the logits and the class names (classes in the report)"],
    "cslr": [
        "CTC prefix beam search / greedy decoding of log_probs (mslu.decoding; vocabulary in the report)"
    ],
    "slt": [
        "the autoregressive transformer decoder and its beam search (mslu.decoding.beam_search): "
        "only the encoder side (psi_SE + projector, the decoder's memory) is exported",
        "the tokenizer (tokenizer files of the model folder)",
    ],
    "retrieval": [
        "the frozen text encoder psi_TE and its tokenizer (a Hugging Face model; export it with its own "
        "tools): retrieval_text takes its token features",
    ],
}
COMMON_NOT_EXPORTED = [
    "pose preprocessing before the graph: SL79 mapping, frame units, mslu.pose.normalize.normalize_for_model "
    "and the task's frame sampling (task.single_batch does all of it in PyTorch)",
]
