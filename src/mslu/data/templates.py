"""Template sentences that turn an isolated gloss into a sentence (paper Sec. III-A i).

The paper gives the English template only ("apple" -> "This word is apple."). The German and Chinese
templates are this project's choice, the literal translations of the English one:

* ``en``: ``This word is {gloss}.``
* ``de``: ``Dieses Wort ist {gloss}.``
* ``zh``: ``这个词是{gloss}。`` (no spaces, full-width full stop)
"""

from __future__ import annotations

import re

TEMPLATES: dict[str, str] = {
    "en": "This word is {gloss}.",
    "de": "Dieses Wort ist {gloss}.",
    "zh": "这个词是{gloss}。",
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


def template_sentence(gloss: str, language: str) -> str:
    """The sentence for an isolated ``gloss`` in text ``language`` (``en``, ``de`` or ``zh``)."""
    if language not in TEMPLATES:
        raise ValueError(f"no template sentence for language {language!r}; known: {sorted(TEMPLATES)}")
    word = normalize_gloss(gloss, language)
    if not word:
        raise ValueError("empty gloss: cannot build a template sentence")
    return TEMPLATES[language].format(gloss=word)
