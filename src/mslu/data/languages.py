"""Sign languages and spoken/written languages known to the corpus, with text-encoder language codes."""

from __future__ import annotations

# Text languages: ISO 639-1 code -> mBART-cc25 language token.
TEXT_LANGUAGES: dict[str, str] = {
    "en": "en_XX",
    "de": "de_DE",
    "zh": "zh_CN",
    "fr": "fr_XX",
    "es": "es_XX",
    "it": "it_IT",
    "nl": "nl_XX",
    "ja": "ja_XX",
    "ko": "ko_KR",
    "ru": "ru_RU",
    "tr": "tr_TR",
}

# Sign languages: code -> (name, usual text language of its corpora).
SIGN_LANGUAGES: dict[str, tuple[str, str]] = {
    "ase": ("American Sign Language (ASL)", "en"),
    "bfi": ("British Sign Language (BSL)", "en"),
    "csl": ("Chinese Sign Language (CSL)", "zh"),
    "gsg": ("German Sign Language (DGS / GSL)", "de"),
    "tsm": ("Turkish Sign Language (TID)", "tr"),
    # The built-in synthetic sign languages (mslu synth).
    "syn-en": ("Synthetic sign language A (texts in English)", "en"),
    "syn-de": ("Synthetic sign language B (texts in German)", "de"),
    "syn-zh": ("Synthetic sign language C (texts in Chinese)", "zh"),
}

# Short names used by the paper's tables.
SIGN_LANGUAGE_SHORT: dict[str, str] = {"ase": "ASL", "bfi": "BSL", "csl": "CSL", "gsg": "GSL", "tsm": "TID"}
