"""CSLR metrics: gloss clean-up, word error rate with its sub/del/ins breakdown (jiwer), CTM/STM files.

The Phoenix clean-up follows the official Phoenix-2014 / -2014-T evaluation pre-processing (the hypothesis
filter applied before sclite). ``wer_report`` applies the same clean-up to references by default so both
sides are scored alike (``clean_refs=False`` scores references as given, like the official sclite run on the
raw STM).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jiwer

__all__ = [
    "EMPTY_HYPOTHESIS",
    "PHOENIX_DROPPED_GLOSSES",
    "PHOENIX_PREFIXES",
    "StmEntry",
    "clean_glosses",
    "clean_phoenix_glosses",
    "get_gloss_cleaner",
    "read_ctm",
    "read_stm",
    "wer_report",
    "write_ctm",
    "write_stm",
]

Glosses = str | Sequence[str]

EMPTY_HYPOTHESIS = "[EMPTY]"
PHOENIX_PREFIXES = ("loc-", "cl-", "qu-", "poss-", "lh-")
PHOENIX_DROPPED_GLOSSES = frozenset(
    {"__EMOTION__", "__PU__", "__LEFTHAND__", "__EPENTHESIS__", "__ON__", "__OFF__"}
)
# Optional extra rules of the official script (see ``clean_phoenix_glosses(extra_rules=True)``).
_PHOENIX_RENAMES = {"S0NNE": "SONNE", "HABEN2": "HABEN"}
_SPELLING_PART = re.compile(r"^(?:[A-Z]|SCH|NN)$")
_RAUM_SUFFIX = re.compile(r"([A-Z][A-Z])RAUM")
STM_CHANNEL = "1"
STM_START = "0.0"
STM_END = "1.79769e+308"  # the "whole file" end time used by the official Phoenix / CSL-Daily STM files


def _tokens(glosses: Glosses, what: str = "glosses") -> list[str]:
    if isinstance(glosses, str):
        return glosses.split()
    tokens = [str(g) for g in glosses]
    bad = [g for g in tokens if not g or any(ch.isspace() for ch in g)]
    if bad:
        raise ValueError(f"{what}: tokens must be non-empty and contain no whitespace, got {bad[:3]}")
    return tokens


def _collapse_repeats(tokens: list[str]) -> list[str]:
    return [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1]]


def _merge_spelling(tokens: list[str]) -> list[str]:
    """Join runs of finger-spelled letters (single capitals, SCH, NN) with '+', e.g. A B C -> A+B+C."""
    out: list[str] = []
    run: list[str] = []
    for t in [*tokens, ""]:
        if _SPELLING_PART.match(t):
            run.append(t)
            continue
        if run:
            out.append("+".join(run))
            run = []
        if t:
            out.append(t)
    return out


def clean_phoenix_glosses(glosses: Glosses, extra_rules: bool = False) -> list[str]:
    """Official Phoenix gloss clean-up, applied in this order:

    1. remove the prefixes ``loc- cl- qu- poss- lh-`` (removed wherever they occur, as the official
       ``sed`` does; glosses are upper case so in practice only prefixes match);
    2. drop ``__EMOTION__ __PU__ __LEFTHAND__ __EPENTHESIS__ __ON__ __OFF__`` (``__ON__``/``__OFF__`` are
       not in the official hypothesis filter; they are dropped as the project's issue specifies);
    3. with ``extra_rules=True`` only, the official script's further rewrites: ``S0NNE``->``SONNE``,
       ``HABEN2``->``HABEN``, strip ``-PLUSPLUS``, ``xxRAUM``->``xx``, ``WIE AUSSEHEN``->``WIE-AUSSEHEN``,
       ``ZEIGEN``->``ZEIGEN-BILDSCHIRM`` and runs of spelled letters (single capitals, ``SCH``, ``NN``)
       joined with ``+`` (the official ``sed`` letter joins are approximated by joining whole runs);
    4. collapse immediate repeats of the same gloss (all glosses; the official regex only collapses
       purely alphabetic ones).

    Returns the cleaned tokens (possibly empty; ``wer_report`` substitutes ``[EMPTY]`` for hypotheses).
    """
    out: list[str] = []
    for tok in _tokens(glosses):
        for prefix in PHOENIX_PREFIXES:
            tok = tok.replace(prefix, "")
        if not tok or tok in PHOENIX_DROPPED_GLOSSES:
            continue
        if extra_rules:
            tok = _PHOENIX_RENAMES.get(tok, tok)
            tok = _RAUM_SUFFIX.sub(r"\1", tok.replace("-PLUSPLUS", ""))
            if not tok:
                continue
        out.append(tok)
    if extra_rules:
        merged: list[str] = []
        for tok in out:
            if tok == "AUSSEHEN" and merged and merged[-1] == "WIE":
                merged[-1] = "WIE-AUSSEHEN"
            else:
                merged.append("ZEIGEN-BILDSCHIRM" if tok == "ZEIGEN" else tok)
        out = _merge_spelling(merged)
    return _collapse_repeats(out)


def _no_clean(glosses: Glosses) -> list[str]:
    return _tokens(glosses)


_CLEANERS: dict[str, Callable[[Glosses], list[str]]] = {
    "phoenix2014": clean_phoenix_glosses,
    "phoenix2014t": clean_phoenix_glosses,
    "csl-daily": _no_clean,  # CSL-Daily is scored on its word-level glosses as given
    "none": _no_clean,
}


_DATASET_ALIASES = {
    "phoenix-2014": "phoenix2014",
    "phoenix14": "phoenix2014",
    "phoenix-2014t": "phoenix2014t",
    "phoenix-2014-t": "phoenix2014t",
    "phoenix14t": "phoenix2014t",
    "csldaily": "csl-daily",
}


def get_gloss_cleaner(dataset: str | None) -> Callable[[Glosses], list[str]]:
    """The gloss clean-up used for ``dataset`` (``phoenix2014``, ``phoenix2014t``, ``csl-daily``, ``none``).

    Phoenix datasets use ``clean_phoenix_glosses``; CSL-Daily and ``None`` only split into tokens.
    """
    key = "none" if dataset is None else dataset.lower().replace("_", "-")
    key = _DATASET_ALIASES.get(key, key)
    if key not in _CLEANERS:
        raise ValueError(f"unknown dataset {dataset!r} for gloss clean-up; known: {sorted(_CLEANERS)}")
    return _CLEANERS[key]


def clean_glosses(glosses: Glosses, dataset: str | None) -> list[str]:
    """Clean one gloss sequence with the rules of ``dataset`` (see ``get_gloss_cleaner``)."""
    return get_gloss_cleaner(dataset)(glosses)


def wer_report(
    refs: Sequence[Glosses],
    hyps: Sequence[Glosses],
    dataset: str | None = None,
    clean: Callable[[Glosses], list[str]] | None = None,
    clean_refs: bool = True,
) -> dict[str, float]:
    """Corpus-level WER with substitution / deletion / insertion rates, via ``jiwer.process_words``.

    Args:
        refs, hyps: one gloss sequence per sentence (a whitespace-separated string or a token list).
        dataset: picks the clean-up (``get_gloss_cleaner``); ``clean`` overrides it with any callable.
        clean_refs: also clean the references (default) or score them as given.

    A hypothesis that is empty after clean-up becomes ``[EMPTY]`` (as the official scripts do), so it
    counts one substitution plus deletions. Rates are percentages of the total number of reference
    words: ``wer = sub + del + ins``. jiwer weights all edits 1 (sclite weights sub 4, del/ins 3), which can
    split rare ties between substitutions and deletion+insertion differently.

    Returns a dict with ``wer, sub, del, ins`` (percent) and counts ``n_ref, n_hyp, n_hit, n_sub, n_del,
    n_ins, n_sentences``.
    """
    if len(refs) != len(hyps):
        raise ValueError(f"got {len(refs)} references but {len(hyps)} hypotheses")
    if not refs:
        raise ValueError("no sentences to score")
    cleaner = clean or get_gloss_cleaner(dataset)
    ref_tok = [cleaner(r) if clean_refs else _tokens(r, "reference") for r in refs]
    hyp_tok = [cleaner(h) or [EMPTY_HYPOTHESIS] for h in hyps]
    n_ref = sum(len(r) for r in ref_tok)
    if n_ref == 0:
        raise ValueError("references contain no words")
    out = jiwer.process_words([" ".join(r) for r in ref_tok], [" ".join(h) for h in hyp_tok])
    pct = 100.0 / n_ref
    return {
        "wer": (out.substitutions + out.deletions + out.insertions) * pct,
        "sub": out.substitutions * pct,
        "del": out.deletions * pct,
        "ins": out.insertions * pct,
        "n_ref": n_ref,
        "n_hyp": sum(len(h) for h in hyp_tok),
        "n_hit": out.hits,
        "n_sub": out.substitutions,
        "n_del": out.deletions,
        "n_ins": out.insertions,
        "n_sentences": len(refs),
    }


@dataclass(frozen=True)
class StmEntry:
    """One STM segment: ``id channel speaker start end tokens...``."""

    id: str
    channel: str
    speaker: str
    start: str
    end: str
    tokens: tuple[str, ...]


def _check_ids(ids: Sequence[str], n: int, what: str) -> None:
    if len(ids) != n:
        raise ValueError(f"got {len(ids)} ids but {n} {what}")
    bad = [i for i in ids if not i or any(ch.isspace() for ch in i)]
    if bad:
        raise ValueError(f"ids must be non-empty and contain no whitespace, got {bad[:3]}")


def write_stm(
    path: str | Path, ids: Sequence[str], refs: Sequence[Glosses], speakers: Sequence[str] | None = None
) -> None:
    """Write references as an sclite STM file in the official Phoenix layout:
    ``<id> 1 <speaker> 0.0 1.79769e+308 <gloss> <gloss> ...`` (one line per sentence, '\\n' endings).
    ``speakers`` defaults to ``unknown`` (as in the CSL-Daily STM files)."""
    _check_ids(ids, len(refs), "references")
    speakers = ["unknown"] * len(ids) if speakers is None else list(speakers)
    if len(speakers) != len(ids):
        raise ValueError(f"got {len(speakers)} speakers for {len(ids)} ids")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for i, r, s in zip(ids, refs, speakers):
            words = " ".join(_tokens(r, f"reference {i}"))
            f.write(f"{i} {STM_CHANNEL} {s} {STM_START} {STM_END} {words}".rstrip() + "\n")


def _sclite_records(path: str | Path, kind: str, needed: str) -> Iterator[list[str]]:
    """Whitespace-split lines of an sclite STM/CTM file, blank lines and ``;;`` comments skipped; a line with
    fewer than 5 fields raises ``ValueError`` naming the file and line."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.startswith(";;"):
                continue
            fields = line.split()
            if len(fields) < 5:
                raise ValueError(f"{path}:{lineno}: {kind} line needs {needed} fields, got {line.rstrip()!r}")
            yield fields


def read_stm(path: str | Path) -> list[StmEntry]:
    """Read an STM file (blank lines and ``;;`` comments skipped); raises ``ValueError`` naming the file and
    line for malformed lines."""
    return [StmEntry(*f[:5], tuple(f[5:])) for f in _sclite_records(path, "STM", "at least 5")]


def write_ctm(
    path: str | Path, ids: Sequence[str], hyps: Sequence[Glosses], word_duration: float = 0.01
) -> None:
    """Write hypotheses as an sclite CTM file: ``<id> 1 <start> <duration> <gloss>`` one gloss per line,
    starts ``k * word_duration``. An empty hypothesis is written as one ``[EMPTY]`` word so that every
    sentence appears (as the official scripts require). Glosses are written as given (clean them first)."""
    _check_ids(ids, len(hyps), "hypotheses")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for i, h in zip(ids, hyps):
            for k, word in enumerate(_tokens(h, f"hypothesis {i}") or [EMPTY_HYPOTHESIS]):
                f.write(f"{i} {STM_CHANNEL} {k * word_duration:.3f} {word_duration:.3f} {word}\n")


def read_ctm(path: str | Path, keep_empty: bool = False) -> dict[str, list[str]]:
    """Read a CTM file into ``{id: [glosses in file order]}``; ``[EMPTY]`` words are dropped unless
    ``keep_empty`` (an id with only ``[EMPTY]`` maps to ``[]``)."""
    out: dict[str, list[str]] = {}
    for fields in _sclite_records(path, "CTM", "5"):
        words = out.setdefault(fields[0], [])
        if keep_empty or fields[4] != EMPTY_HYPOTHESIS:
            words.append(fields[4])
    return out

