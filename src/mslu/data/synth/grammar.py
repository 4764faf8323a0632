"""A small grammar for the synthetic continuous sentences: a proposition is signed in the sign
language's sign order (the gloss sequence) and translated into its text language.

Sign orders (time signs always first, as in many sign languages):

* ``syn-en``: subject - verb - object (SVO);
* ``syn-de``: subject - object - verb (SOV);
* ``syn-zh``: object - subject - verb (topic first).

Text word orders differ from the sign orders, and vary per sample:

* English: SVO; a time phrase at the start or at the end;
* German: verb second in main clauses (time fronting inverts subject and verb), verb final in
  ``dass`` subclauses; definite articles inflected for gender and case;
* Chinese: time before or after the subject; sometimes the object is fronted as topic
  ("面包，妈妈吃。"); adjectives take 很.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from mslu.data.synth.lexicon import CONCEPT_INDEX, CONCEPTS, NOUN_CATEGORIES, Concept

_ART = {"nom": {"m": "der", "f": "die", "n": "das"}, "acc": {"m": "den", "f": "die", "n": "das"}}


@dataclass(frozen=True)
class Proposition:
    """What a continuous sentence says, as concept keys."""

    kind: str  # "trans", "adj" or "weather"
    subj: str | None = None
    verb: str | None = None  # verb (trans) / adjective (adj) / weather concept
    obj: str | None = None
    time: str | None = None
    say_subj: str | None = None  # embedding: "<say_subj> <say_verb> that <clause>"
    say_verb: str | None = None


def _c(key: str) -> Concept:
    return CONCEPTS[CONCEPT_INDEX[key]]


class Grammar:
    """Samples propositions over one vocabulary (concept keys) and realises them."""

    def __init__(self, vocab: list[str]):
        self.vocab = set(vocab)
        self.by_cat: dict[str, list[str]] = {}
        for key in vocab:
            self.by_cat.setdefault(_c(key).category, []).append(key)
        subjects = self.by_cat.get("person", []) + self.by_cat.get("animal", [])
        self.subjects = subjects
        self.verbs = [v for v in self.by_cat.get("verb", []) if self._objects(v)]
        self.adjs = [a for a in self.by_cat.get("adj", []) if self._adj_subjects(a)]
        self.kinds = [
            k
            for k, ok in (
                ("trans", bool(self.verbs and subjects)),
                ("adj", bool(self.adjs)),
                ("weather", bool(self.by_cat.get("weather"))),
            )
            if ok
        ]
        if not self.kinds:
            raise ValueError(f"vocabulary too small to build sentences: {sorted(vocab)}")
        self._kind_cdf = [float(x) for x in np.cumsum(self._kind_p())]
        self._verb_objects = {v: self._objects(v) for v in self.verbs}
        self._adj_subjs = {a: self._adj_subjects(a) for a in self.adjs}

    def _objects(self, verb: str) -> list[str]:
        """Objects of ``verb`` in the vocabulary: members of its categories, or concepts it names."""
        return [k for arg in _c(verb).args for k in self.by_cat.get(arg, [arg] if arg in self.vocab else [])]

    def _adj_subjects(self, adj: str) -> list[str]:
        return [k for cat in _c(adj).args for k in self.by_cat.get(cat, [])]

    def sample(self, rng: np.random.Generator) -> Proposition:
        """A random proposition (uses only concepts of the vocabulary)."""

        def pick(items: list[str]) -> str:
            return items[int(rng.integers(len(items)))]

        kind = self.kinds[min(bisect.bisect_right(self._kind_cdf, rng.random()), len(self.kinds) - 1)]
        times = self.by_cat.get("time", [])
        time = pick(times) if times and rng.random() < 0.5 else None
        if kind == "trans":
            verb = pick(self.verbs)
            prop = dict(kind=kind, subj=pick(self.subjects), verb=verb, obj=pick(self._verb_objects[verb]))
        elif kind == "adj":
            adj = pick(self.adjs)
            prop = dict(kind=kind, subj=pick(self._adj_subjs[adj]), verb=adj)
        else:
            prop = dict(kind=kind, verb=pick(self.by_cat["weather"]))
        persons, says = self.by_cat.get("person", []), self.by_cat.get("say", [])
        if persons and says and rng.random() < 0.25:
            prop.update(say_subj=pick(persons), say_verb=pick(says))
        return Proposition(time=time, **prop)

    def _kind_p(self) -> np.ndarray:
        w = np.array([{"trans": 0.6, "adj": 0.25, "weather": 0.15}[k] for k in self.kinds])
        return w / w.sum()


def sign_order(p: Proposition, sign_language: str) -> list[str]:
    """The concept keys of ``p`` in the sign order of ``sign_language``."""
    if p.kind == "trans":
        core = {
            "syn-en": [p.subj, p.verb, p.obj],
            "syn-de": [p.subj, p.obj, p.verb],
            "syn-zh": [p.obj, p.subj, p.verb],
        }[sign_language]
    elif p.kind == "adj":
        core = [p.subj, p.verb]
    else:
        core = [p.verb]
    keys = ([p.say_subj, p.say_verb] if p.say_subj else []) + ([p.time] if p.time else []) + core
    return [k for k in keys if k]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _en(p: Proposition, rng: np.random.Generator) -> str:
    def np_(k: str) -> str:
        return "the " + _c(k).lemma["en"]

    if p.kind == "trans":
        clause = f"{np_(p.subj)} {_c(p.verb).forms['en']} {np_(p.obj)}"
    elif p.kind == "adj":
        clause = f"{np_(p.subj)} is {_c(p.verb).lemma['en']}"
    else:
        clause = str(_c(p.verb).forms["en"])
    if p.time:
        t = str(_c(p.time).forms["en"])
        clause = f"{t} {clause}" if rng.random() < 0.5 else f"{clause} {t}"
    if p.say_subj:
        clause = f"{np_(p.say_subj)} {_c(p.say_verb).forms['en']} that {clause}"
    return _cap(clause) + "."


def _de(p: Proposition, rng: np.random.Generator) -> str:
    def np_(k: str, case: str) -> str:
        c = _c(k)
        return f"{_ART[case][c.forms['gender']]} {c.lemma['de']}"

    if p.kind == "trans":
        subj, fin, middle = np_(p.subj, "nom"), str(_c(p.verb).forms["de"]), [np_(p.obj, "acc")]
    elif p.kind == "adj":
        subj, fin, middle = np_(p.subj, "nom"), "ist", [_c(p.verb).lemma["de"]]
    else:
        subj, fin, rest = _c(p.verb).forms["de"]
        middle = [rest] if rest else []
    t = [str(_c(p.time).forms["de"])] if p.time else []
    if p.say_subj:  # verb-final subclause
        head = [np_(p.say_subj, "nom"), str(_c(p.say_verb).forms["de"]) + ","]
        words = [*head, "dass", subj, *t, *middle, fin]
    elif t and rng.random() < 0.5:  # time fronting: verb second, subject after the verb
        words = [*t, fin, subj, *middle]
    else:
        words = [subj, fin, *t, *middle]
    return _cap(" ".join(words)) + "."


def _zh(p: Proposition, rng: np.random.Generator) -> str:
    def w(k: str | None) -> str:
        return _c(k).lemma["zh"] if k else ""

    t = w(p.time)
    time_first = rng.random() < 0.5
    if p.kind == "trans":
        if rng.random() < 0.3:  # topic first: the object is fronted
            clause = f"{w(p.obj)}，{w(p.subj)}{t}{w(p.verb)}"
        elif time_first:
            clause = f"{t}{w(p.subj)}{w(p.verb)}{w(p.obj)}"
        else:
            clause = f"{w(p.subj)}{t}{w(p.verb)}{w(p.obj)}"
    elif p.kind == "adj":
        clause = f"{t}{w(p.subj)}很{w(p.verb)}" if time_first else f"{w(p.subj)}{t}很{w(p.verb)}"
    else:
        clause = f"{t}{w(p.verb)}"
    if p.say_subj:
        clause = f"{w(p.say_subj)}{w(p.say_verb)}{clause}"
    return clause + "。"


def realise(p: Proposition, text_language: str, rng: np.random.Generator) -> str:
    """The sentence for ``p`` in ``text_language`` (``en``, ``de`` or ``zh``)."""
    fn = {"en": _en, "de": _de, "zh": _zh}.get(text_language)
    if fn is None:
        raise ValueError(f"the synthetic grammar has no text language {text_language!r}")
    return fn(p, rng)


__all__ = ["Grammar", "NOUN_CATEGORIES", "Proposition", "realise", "sign_order"]
