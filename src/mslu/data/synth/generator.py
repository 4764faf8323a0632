"""Seeded generator of the synthetic sign-text corpus and of its downstream benchmarks.

Two seeds: ``world_seed`` fixes the *world* (vocabularies, sign prototypes, confusing pairs, the signer
pool), so a pre-training corpus and the downstream benchmarks built with the same ``world_seed`` share
their sign languages; ``seed`` fixes the sample stream. Sample ``i`` depends only on
``(world_seed, seed, i)`` and the config, never on how the stream is chunked, so generation can be
parallelised or resumed.

Signers are split: ``pretrain`` and ``train`` samples come from the first ``num_signers`` signers,
``dev`` and ``test`` samples from separate signers, so no downstream dev/test sample (nor its signer)
is in the pre-training corpus.
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from mslu.data.languages import SIGN_LANGUAGES
from mslu.data.schema import Sample
from mslu.data.synth.grammar import Grammar, realise, sign_order
from mslu.data.synth.kinematics import NoiseDraw, animate_batch, draw_noise
from mslu.data.synth.lexicon import CONCEPT_INDEX, CONCEPTS
from mslu.data.synth.prototypes import (
    DOM,
    HAND_CH,
    HEAD_NOD,
    HEAD_PATTERNS,
    HEAD_ROLL,
    MOUTH_OPEN,
    MOUTH_PATTERNS,
    NM,
    NONDOM,
    PROTO_LEN,
    REST,
    make_prototype,
    non_manual_block,
)
from mslu.data.synth.signers import Signer, random_signer
from mslu.data.templates import template_sentence

SYNTH_LANGUAGES = ("syn-en", "syn-de", "syn-zh")
# category order for picking vocabularies: every category appears within the first 12 concepts
_CATEGORY_ORDER = (
    "person",
    "verb",
    "food",
    "adj",
    "object",
    "time",
    "weather",
    "animal",
    "drink",
    "place",
    "say",
    "abstract",
)
MIN_VOCAB = len(_CATEGORY_ORDER)
_SPLIT_CODE = {"pretrain": 0, "train": 1, "dev": 2, "test": 3}
BENCHMARK_KINDS = ("islr", "cslr", "slt", "retrieval")


@dataclass(frozen=True)
class SynthConfig:
    """Configuration of the synthetic corpus (see the module docstring for the seeds)."""

    seed: int = 0
    num_samples: int = 1000
    languages: tuple[str, ...] = SYNTH_LANGUAGES
    vocab_size: int = 100  # signs per language (<= number of concepts)
    frac_isolated: float = 0.4
    frac_continuous: float = 0.45
    frac_unpaired: float = 0.15
    confusing_fraction: float = 0.1  # fraction of each vocabulary in pairs differing only non-manually
    cognate_fraction: float = 0.2  # fraction of concepts whose signs are alike in all three languages
    world_seed: int = 1234
    num_signers: int = 40  # pre-training / train signers
    num_dev_signers: int = 4
    num_test_signers: int = 4
    split: str = "pretrain"  # split of generate_samples' output
    noise: bool = True  # jitter, dropped joints, low-confidence joints
    fps: float = 25.0  # the rate the signers are animated at
    frame_step: int = 1  # keep every frame_step-th rendered frame: the corpus is recorded at fps / frame_step
    id_prefix: str = "synth"

    def __post_init__(self) -> None:
        for code in self.languages:
            if code not in SYNTH_LANGUAGES:
                raise ValueError(f"unknown synthetic sign language {code!r}; known: {SYNTH_LANGUAGES}")
        if not MIN_VOCAB <= self.vocab_size <= len(CONCEPTS):
            raise ValueError(f"vocab_size must be in [{MIN_VOCAB}, {len(CONCEPTS)}], got {self.vocab_size}")
        fr = (self.frac_isolated, self.frac_continuous, self.frac_unpaired)
        if min(fr) < 0 or sum(fr) <= 0:
            raise ValueError(f"sample-kind fractions must be >= 0 with a positive sum, got {fr}")
        for name in ("confusing_fraction", "cognate_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.split not in _SPLIT_CODE:
            raise ValueError(f"unknown split {self.split!r}; expected one of {tuple(_SPLIT_CODE)}")
        if int(self.frame_step) != self.frame_step or self.frame_step < 1:
            raise ValueError(f"frame_step must be a whole number >= 1, got {self.frame_step}")
        if min(self.num_signers, self.num_dev_signers, self.num_test_signers) < 1:
            raise ValueError("every signer pool needs at least one signer")

    @property
    def recorded_fps(self) -> float:
        """Frame rate of the written poses."""
        return self.fps / self.frame_step

    @property
    def kind_cdf(self) -> tuple[float, ...]:
        """Cumulative probabilities of isolated, continuous and unpaired samples."""
        return _kind_cdf(self.frac_isolated, self.frac_continuous, self.frac_unpaired)


@lru_cache(maxsize=64)
def _kind_cdf(*fractions: float) -> tuple[float, ...]:
    fr = np.cumsum(fractions)
    return tuple(float(x) for x in fr / fr[-1])


@dataclass(frozen=True)
class SynthLanguage:
    """One synthetic sign language: its vocabulary (labels 0..V-1), sign prototypes and grammar."""

    code: str
    text_language: str
    concepts: tuple[str, ...]  # concept key per label
    protos: np.ndarray = field(repr=False)  # (V, 64, C) sign prototypes
    frames: np.ndarray = field(repr=False)  # (V,) nominal sign length in frames
    confusing_pairs: tuple[tuple[int, int], ...]  # label pairs with identical manual parts
    info: tuple[dict, ...] = field(repr=False)  # per sign: hands, mouth and head patterns
    glosses: tuple[str, ...] = ()  # gloss name per label: upper-case lemma (en / de) or Chinese word
    words: tuple[str, ...] = ()  # citation form per label in the text language (isolated template)

    @property
    def vocab_size(self) -> int:
        return len(self.concepts)

    @property
    def concept_ids(self) -> list[int]:
        """Index of each sign's concept in the shared concept space (the same across languages)."""
        return [CONCEPT_INDEX[k] for k in self.concepts]

    @property
    def grammar(self) -> Grammar:
        return _grammar(self.concepts)

    def label(self, concept: str) -> int:
        return self.concepts.index(concept)


def gloss_name(concept: str, text_language: str) -> str:
    lemma = CONCEPTS[CONCEPT_INDEX[concept]].lemma[text_language]
    return lemma if text_language == "zh" else lemma.upper().replace(" ", "-")


@lru_cache(maxsize=64)
def _grammar(concepts: tuple[str, ...]) -> Grammar:
    return Grammar(list(concepts))


def _code(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


def _pick_vocab(rng: np.random.Generator, size: int) -> tuple[str, ...]:
    by_cat: dict[str, list[str]] = {c: [] for c in _CATEGORY_ORDER}
    for i in rng.permutation(len(CONCEPTS)):
        by_cat[CONCEPTS[i].category].append(CONCEPTS[i].key)
    out: list[str] = []
    while len(out) < size:
        for cat in _CATEGORY_ORDER:
            if by_cat[cat] and len(out) < size:
                out.append(by_cat[cat].pop())
    return tuple(out)


@lru_cache(maxsize=32)
def build_language(
    code: str,
    vocab_size: int = 100,
    world_seed: int = 1234,
    confusing_fraction: float = 0.1,
    cognate_fraction: float = 0.2,
) -> SynthLanguage:
    """The synthetic sign language ``code`` of a world (deterministic, cached).

    A concept's sign depends only on (world, language, concept). Cognates (a ``cognate_fraction`` of
    the concepts, the same ones in every language, like iconic signs shared by real sign languages)
    have one manual prototype for all languages, shifted a little per language, with a
    language-specific non-manual part. Then ``confusing_fraction`` of the vocabulary is paired: the
    second sign of a pair takes the manual part of the first and keeps a different non-manual part.
    """
    if code not in SYNTH_LANGUAGES:
        raise ValueError(f"unknown synthetic sign language {code!r}; known: {SYNTH_LANGUAGES}")
    text_language = SIGN_LANGUAGES[code][1]
    lc = _code(code)
    concepts = _pick_vocab(np.random.default_rng([world_seed, lc, 1]), vocab_size)
    protos, frames, info = [], [], []
    for key in concepts:  # a concept's sign depends only on (world, language, concept)
        rng = np.random.default_rng([world_seed, lc, 2, CONCEPT_INDEX[key]])
        p, d = make_prototype(rng)
        shared = np.random.default_rng([world_seed, 4, CONCEPT_INDEX[key]])
        if shared.random() < cognate_fraction:
            cognate, _ = make_prototype(shared)
            p[:, : 2 * HAND_CH] = cognate[:, : 2 * HAND_CH]
            p[:, _WRISTS] += rng.normal(0.0, 0.04, 4)
            d = dict(d, cognate=True)
        protos.append(p)
        frames.append(int(rng.integers(12, 23)))
        info.append(d)
    protos_a = np.stack(protos)
    rng = np.random.default_rng([world_seed, lc, 3])
    n_pairs = int(round(confusing_fraction * vocab_size / 2))
    labels = rng.permutation(vocab_size)[: 2 * n_pairs]
    pairs = []
    for a, b in zip(labels[0::2], labels[1::2], strict=True):
        a, b = int(a), int(b)
        protos_a[b, :, : 2 * HAND_CH] = protos_a[a, :, : 2 * HAND_CH]
        frames[b] = frames[a]
        mouths = [m for m in MOUTH_PATTERNS if m != info[a]["mouth"]]
        heads = [h for h in HEAD_PATTERNS if h != info[a]["head"]]
        mouth, head = mouths[int(rng.integers(len(mouths)))], heads[int(rng.integers(len(heads)))]
        protos_a[b, :, NM] = non_manual_block(mouth, head)
        info[b] = dict(info[a], mouth=mouth, head=head, cognate=False, pair=a)  # b's manual part is a's
        pairs.append((min(a, b), max(a, b)))
    protos_a = protos_a.astype(np.float32)
    protos_a.setflags(write=False)
    return SynthLanguage(
        code,
        text_language,
        concepts,
        protos_a,
        np.asarray(frames),
        tuple(sorted(pairs)),
        tuple(info),
        glosses=tuple(gloss_name(k, text_language) for k in concepts),
        words=tuple(CONCEPTS[CONCEPT_INDEX[k]].lemma[text_language] for k in concepts),
    )


@lru_cache(maxsize=4096)
def get_signer(world_seed: int, index: int) -> Signer:
    """Signer ``index`` of a world's signer pool."""
    return random_signer(np.random.default_rng([world_seed, 99, index]), f"synth-signer-{index:03d}")


def signer_pool(cfg: SynthConfig, split: str) -> range:
    """Indices of the signers used for ``split``."""
    a, b = cfg.num_signers, cfg.num_signers + cfg.num_dev_signers
    return {
        "pretrain": range(0, a),
        "train": range(0, a),
        "dev": range(a, b),
        "test": range(b, b + cfg.num_test_signers),
    }[split]


_WRISTS = np.array([DOM.start, DOM.start + 1, NONDOM.start, NONDOM.start + 1])
_ANGLES = np.array([DOM.start + 2, NONDOM.start + 2])
_NM_SCALED = np.array([MOUTH_OPEN, HEAD_ROLL, HEAD_NOD])


@lru_cache(maxsize=256)
def _ease(n: int) -> tuple[float, ...]:
    return tuple(0.5 - 0.5 * math.cos(math.pi * (j + 1) / (n + 1)) for j in range(n))


def sign_timeline(
    lang: SynthLanguage, labels: list[int], signer: Signer, rng: np.random.Generator
) -> np.ndarray:
    """Co-articulated (T, C) timeline of a sign sequence, from rest to rest, for ``signer``.

    Each sign is its prototype resampled to a signer- and sample-dependent length with a random time
    warp, its wrist paths scaled and shifted (signer's movement size and signing-space offset plus
    per-sign variation), hand angles and non-manual intensity varied; consecutive signs are joined by
    eased transitions between the end of one and the start of the next (co-articulation).
    """
    k = len(labels)
    lab = np.asarray(labels, dtype=np.int64)
    speed = signer.speed * rng.uniform(0.9, 1.1)
    u = rng.random((k, 6))
    g = rng.standard_normal((k, 6))
    # per-sign scalars in Python (round: half to even, as np.rint; tiny arrays are slow in numpy)
    u0 = u[:, 0].tolist()
    n = np.array(
        [max(6, round(fr / speed * (0.85 + 0.3 * u0[j]))) for j, fr in enumerate(lang.frames[lab].tolist())]
    )
    ends = np.cumsum(n)
    starts = ends - n
    seg = np.repeat(np.arange(k), n)
    t = ((np.arange(int(ends[-1])) - starts[seg]) / (n - 1)[seg]) ** (0.8 + 0.45 * u[:, 1])[seg]
    pos = t * (PROTO_LEN - 1)
    i0 = np.minimum(pos.astype(np.int64), PROTO_LEN - 2)
    f = (pos - i0).astype(np.float32)[:, None]
    rows = lab[seg] * PROTO_LEN + i0  # rows of the flattened (V * 64, C) prototypes
    flat = lang.protos.reshape(-1, lang.protos.shape[-1])
    a, s = flat.take(rows, 0), flat.take(rows + 1, 0)
    s -= a  # s = a + (b - a) * f, in place
    s *= f
    s += a
    xy = s[:, _WRISTS]
    first = xy[starts][seg]
    amp = (signer.amplitude * (0.85 + 0.3 * u[:, [2, 2, 3, 3]]))[seg]
    ox, oy = signer.offset
    shift = (0.035 * g[:, :4] + np.array([ox, oy, -ox, oy]))[seg]  # non-dominant hand: mirrored space
    s[:, _WRISTS] = first + (xy - first) * amp + shift
    s[:, _ANGLES] += (0.1 * g[:, 4:6])[seg]
    s[:, _NM_SCALED] *= (0.75 + 0.45 * u[:, 4])[seg, None]
    # frame plan: every frame is x[ia] + (x[ib] - x[ia]) * w over the rows x = [REST, sign frames]
    ia: list[int] = [0] * int(rng.integers(0, 6))
    ib, w = list(ia), [0.0] * len(ia)  # w: list of floats (+= the cached eases' tuples)
    prev = 0
    for j in range(k):
        lo, hi = int(starts[j]) + 1, int(ends[j]) + 1
        nt = round((6 + 4 * u[j, 5] if j == 0 else 3 + 4 * u[j, 5]) / speed)
        ia += [prev] * nt + list(range(lo, hi))
        ib += [lo] * nt + list(range(lo, hi))
        w += _ease(nt)
        w += [0.0] * (hi - lo)
        prev = hi - 1
    nt = round(rng.uniform(6, 10) / speed)
    hold = int(rng.integers(0, 6))
    ia += [prev] * nt + [0] * hold
    ib += [0] * (nt + hold)
    w += _ease(nt)
    w += [0.0] * hold
    x = np.concatenate([REST[None], s])
    xa = x.take(np.array(ia, dtype=np.intp), 0)
    out = x.take(np.array(ib, dtype=np.intp), 0)
    out -= xa  # xa + (xb - xa) * w, in place
    out *= np.array(w, dtype=np.float32)[:, None]
    out += xa
    return out


def _sample(
    cfg: SynthConfig,
    lang: SynthLanguage,
    kind: str,
    rng: np.random.Generator,
    sample_id: str,
    split: str,
    source: str,
    paired: bool = True,
    label: int | None = None,
) -> _Pending:
    """One sample of ``kind`` ("isolated" or "continuous"), all but its rendering."""
    pool = signer_pool(cfg, split)
    signer = get_signer(cfg.world_seed, pool[int(rng.integers(len(pool)))])
    extra: dict = {"kind": kind, "handedness": "left" if signer.left_handed else "right"}
    if kind == "isolated":
        lab = int(rng.integers(lang.vocab_size)) if label is None else label
        labels = [lab]
        text = template_sentence(lang.words[lab], lang.text_language)
        gloss = None
        extra["gloss_name"] = lang.glosses[lab]
    else:
        prop = lang.grammar.sample(rng)
        labels = [lang.label(k) for k in sign_order(prop, lang.code)]
        text = realise(prop, lang.text_language, rng)
        gloss = [lang.glosses[i] for i in labels]
        lab = None
    extra["concepts"] = [lang.concepts[i] for i in labels]
    tl = sign_timeline(lang, labels, signer, rng)
    noise = draw_noise(rng, tl.shape[0], signer) if cfg.noise else None
    sample = Sample(
        id=sample_id,
        pose=_NO_POSE,
        source=source,
        sign_language=lang.code,
        text=text if paired else None,
        text_language=lang.text_language if paired else None,
        gloss=gloss if paired else None,
        label=lab if paired else None,
        split=split,
        signer=signer.id,
        fps=cfg.recorded_fps,
        width=signer.width,
        height=signer.height,
        estimator="synthetic",
        paired=paired,
        extra=extra,
    )
    return _Pending(sample, tl, signer, noise, int(cfg.frame_step))


@dataclass
class _Pending:
    sample: Sample
    timeline: np.ndarray
    signer: Signer
    noise: NoiseDraw | None
    frame_step: int = 1


_NO_POSE = np.zeros((0, 79, 3), dtype=np.float32)
BATCH = 32  # samples rendered together (vectorised over all their frames; results do not depend on it)


def _finish(pending: list[_Pending]) -> list[Sample]:
    poses = animate_batch(
        [p.timeline for p in pending], [p.signer for p in pending], [p.noise for p in pending]
    )
    for p, pose in zip(pending, poses, strict=True):  # rendered at fps, kept at fps / frame_step
        p.sample.pose = np.ascontiguousarray(pose[:: p.frame_step]) if p.frame_step > 1 else pose
    return [p.sample for p in pending]


def _batched(makers: Iterator[_Pending], size: int = BATCH) -> Iterator[Sample]:
    batch: list[_Pending] = []
    for p in makers:
        batch.append(p)
        if len(batch) == size:
            yield from _finish(batch)
            batch = []
    if batch:
        yield from _finish(batch)


def _pick(items: tuple[str, ...], cdf: tuple[float, ...], rng: np.random.Generator) -> str:
    """An item drawn with the probabilities given as a cumulative distribution (faster than choice)."""
    return items[min(bisect.bisect_right(cdf, rng.random()), len(items) - 1)]


def _language(cfg: SynthConfig, code: str) -> SynthLanguage:
    return build_language(code, cfg.vocab_size, cfg.world_seed, cfg.confusing_fraction, cfg.cognate_fraction)


def _languages(cfg: SynthConfig) -> list[SynthLanguage]:
    return [_language(cfg, c) for c in cfg.languages]


def sample_id(cfg: SynthConfig, index: int) -> str:
    """The id of sample ``index`` of the corpus stream (cheap: nothing is generated)."""
    return f"{cfg.id_prefix}-{cfg.seed}-{index:09d}"


def make_sample(cfg: SynthConfig, index: int) -> Sample:
    """Sample ``index`` of the corpus stream of ``cfg`` (depends only on the config and ``index``)."""
    return _finish([_stream_pending(cfg, index)])[0]


def _stream_pending(cfg: SynthConfig, index: int) -> _Pending:
    rng = np.random.default_rng([cfg.seed, _SPLIT_CODE[cfg.split], index])
    langs = _languages(cfg)
    lang = langs[int(rng.integers(len(langs)))]
    kind = _pick(("isolated", "continuous", "unpaired"), cfg.kind_cdf, rng)
    sid = sample_id(cfg, index)
    if kind == "unpaired":
        motion = "isolated" if rng.random() < 0.4 else "continuous"
        return _sample(cfg, lang, motion, rng, sid, cfg.split, "synth-unpaired", paired=False)
    return _sample(cfg, lang, kind, rng, sid, cfg.split, f"synth-{kind}")


def make_samples(cfg: SynthConfig, indices: Iterable[int]) -> Iterator[Sample]:
    """Samples ``indices`` of the corpus stream of ``cfg`` (rendered in batches)."""
    yield from _batched(_stream_pending(cfg, int(i)) for i in indices)


def generate_samples(cfg: SynthConfig, start: int = 0, stop: int | None = None) -> Iterator[Sample]:
    """Samples ``start .. stop-1`` (default: all ``cfg.num_samples``) of the corpus stream of ``cfg``."""
    stop = cfg.num_samples if stop is None else min(stop, cfg.num_samples)
    yield from _batched(_stream_pending(cfg, i) for i in range(start, stop))


def benchmark_sample_id(kind: str, language: str, split: str, index: int, seed: int = 0) -> str:
    return f"synth-{kind}-{language}-{split}-{seed}-{index:07d}"


def make_benchmark_sample(
    kind: str, language: str, split: str, index: int, seed: int = 0, cfg: SynthConfig | None = None
) -> Sample:
    """Sample ``index`` of ``split`` of a downstream benchmark (see :func:`build_benchmark`)."""
    return _finish([_benchmark_pending(kind, language, split, index, seed, cfg)])[0]


def _benchmark_pending(
    kind: str, language: str, split: str, index: int, seed: int = 0, cfg: SynthConfig | None = None
) -> _Pending:
    if kind not in BENCHMARK_KINDS:
        raise ValueError(f"unknown benchmark kind {kind!r}; expected one of {BENCHMARK_KINDS}")
    if split not in ("train", "dev", "test"):
        raise ValueError(f"benchmark split must be train, dev or test, got {split!r}")
    cfg = cfg or SynthConfig()
    lang = _language(cfg, language)
    kcode = 100 + BENCHMARK_KINDS.index(kind)
    rng = np.random.default_rng([seed, kcode, _code(language), _SPLIT_CODE[split], index])
    sid = benchmark_sample_id(kind, language, split, index, seed)
    if kind == "islr":
        return _sample(cfg, lang, "isolated", rng, sid, split, "synth-islr", label=index % lang.vocab_size)
    return _sample(cfg, lang, "continuous", rng, sid, split, f"synth-{kind}")


def make_benchmark_samples(
    kind: str,
    language: str,
    split: str,
    indices: Iterable[int],
    seed: int = 0,
    cfg: SynthConfig | None = None,
) -> Iterator[Sample]:
    """Samples ``indices`` of ``split`` of a downstream benchmark (rendered in batches)."""
    yield from _batched(_benchmark_pending(kind, language, split, int(i), seed, cfg) for i in indices)


def build_benchmark(
    kind: str,
    language: str = "syn-en",
    num_train: int = 1000,
    num_dev: int = 200,
    num_test: int = 200,
    seed: int = 0,
    cfg: SynthConfig | None = None,
) -> Iterator[Sample]:
    """Downstream benchmark samples (splits train, dev, test) of one synthetic sign language.

    ``kind``: ``islr`` (isolated clips, ``label`` = class index, template text), ``cslr`` (continuous,
    ``gloss``), ``slt`` and ``retrieval`` (continuous, ``gloss`` and translation ``text``). The world
    (vocabulary, signs, signer pools) comes from ``cfg`` (default :class:`SynthConfig`); dev and test
    use signers that never appear in the pre-training corpus. ISLR labels cycle through the
    vocabulary, so every split is class balanced.
    """
    if kind not in BENCHMARK_KINDS:
        raise ValueError(f"unknown benchmark kind {kind!r}; expected one of {BENCHMARK_KINDS}")
    sizes = (("train", num_train), ("dev", num_dev), ("test", num_test))
    yield from _batched(
        _benchmark_pending(kind, language, split, i, seed, cfg) for split, n in sizes for i in range(n)
    )
