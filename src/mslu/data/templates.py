"""Template sentences that turn an isolated gloss into a sentence (paper Sec. III-A i).

The paper gives the English template only ("apple" -> "This word is apple."). The others are this
project's choice, literal translations of the English one (one table entry per language; a dataset in
another language passes its own template, e.g. ``mslu ingest folder --template``):

* ``en``: ``This word is {gloss}.``
* ``de``: ``Dieses Wort ist {gloss}.``
* ``zh``: ``这个词是{gloss}。`` (no spaces, full-width full stop)
* ``pt``: ``Esta palavra é {gloss}.`` (Libras)
* ``es``, ``fr``, ``it``, ``nl``, ``hi``: see :data:`TEMPLATES`
"""

from __future__ import annotations

import re

TEMPLATES: dict[str, str] = {
    "en": "This word is {gloss}.",
    "de": "Dieses Wort ist {gloss}.",
    "zh": "这个词是{gloss}。",
    "pt": "Esta palavra é {gloss}.",
    "es": "Esta palabra es {gloss}.",
    "fr": "Ce mot est {gloss}.",
    "it": "Questa parola è {gloss}.",
    "nl": "Dit woord is {gloss}.",
    "hi": "यह शब्द {gloss} है।",
}

_SPACES = re.compile(r"\s+")


def normalize_gloss(gloss: str, language: str = "en") -> str:
    """Clean an isolated-sign label for use inside a sentence.

    Whitespace is collapsed and trimmed; English labels are lower-cased (WLASL glosses are already
    lower-case words; MS-ASL's ``clean_text`` is too, this makes ``org_text``-style labels match);
    German and Chinese labels keep their case.
    """
    text = _SPACES.sub(" ", str(gloss)).strip()
    if language == "en":
        text = text.lower()
    return text


def template_sentence(gloss: str, language: str, template: str | None = None) -> str:
    """The sentence for an isolated ``gloss`` in text ``language`` (a key of :data:`TEMPLATES`), or from
    ``template`` (a string with one ``{gloss}``) when given."""
    if template is None and language not in TEMPLATES:
        raise ValueError(f"no template sentence for language {language!r}; known: {sorted(TEMPLATES)} "
                         "(or give a template with {gloss})")
    if template is not None and "{gloss}" not in template:
        raise ValueError(f"template {template!r} has no {{gloss}} placeholder")
    word = normalize_gloss(gloss, language)
    if not word:
        raise ValueError("empty gloss: cannot build a template sentence")
    return (template or TEMPLATES[language]).replace("{gloss}", word)
